/* fuzz_arch_text.h -- the small architecture the fuzz targets that map or simulate run on: 16
 * tiles of one PE of one crossbar, every unit the engine may use (a digital MAC array for
 * attention, a global buffer), so that a fuzzed network reaches every op's code. */
#ifndef IMC_FUZZ_ARCH_TEXT_H
#define IMC_FUZZ_ARCH_TEXT_H

#include <stdlib.h>

#include "sim/arch/arch.h"

static const char fuzz_arch_text[] =
    "schema: 1\n"
    "clock: {digital: 1 GHz}\n"
    "mapping: {weight_bits: 8, input_bits: 8, cell_bits: 2, reprogram: true}\n"
    "chip:\n"
    "  tiles: 16\n"
    "  noc: {model: noc/mesh, concentration: 1, ports: 5, flit_width: 32 bit}\n"
    "  dram: {model: dram/simple}\n"
    "  global_buffer: {model: buffer/sram, capacity: 1 MiB}\n"
    "  digital: {model: digital/vector, lanes: 16, mac_units: 64}\n"
    "  tile:\n"
    "    pes: 1\n"
    "    buffer: {model: buffer/edram}\n"
    "    sfu: {model: digital/vector, lanes: 8}\n"
    "    vector: {model: digital/vector, lanes: 16}\n"
    "    pe:\n"
    "      xbars: 1\n"
    "      xbar:\n"
    "        model: xbar/reram\n"
    "        cell: {model: cell/reram, bits: 2}\n"
    "      dac: {model: dac/simple, bits: 1}\n"
    "      sh: {model: sh/simple}\n"
    "      adc: {model: adc/sar}\n"
    "      shiftadd: {model: shiftadd/simple}\n";

/* The architecture with mapping.matmul set to MATMUL (digital, rewrite or host), loaded once
 * per process; abort() if it does not load. */
static inline const imc_arch *fuzz_arch(int matmul)
{
    static imc_arch *archs[3];
    static const char *const sets[3] = {"mapping.matmul=digital", "mapping.matmul=rewrite",
                                        "mapping.matmul=host"};
    if (!archs[matmul]) {
        imc_err err;
        imc_err_clear(&err);
        if (imc_arch_load_string(&archs[matmul], fuzz_arch_text, "fuzz-arch.yaml",
                                 &sets[matmul], 1, &err))
            abort();
    }
    return archs[matmul];
}

#endif
