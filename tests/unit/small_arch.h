/* small_arch.h -- the small chip the engine tests and the fuzz targets that simulate run on:
 * 16 tiles of one PE of one crossbar (layer i sits on tile i when it fits), with every unit the
 * engine may use (a digital MAC array for attention, a global buffer, SFU and vector units). */
#ifndef IMC_SMALL_ARCH_H
#define IMC_SMALL_ARCH_H

/* One tile per router, one PE per tile, one crossbar per PE: layer i sits on tile i. */
static const char small_arch_text[] =
    "schema: 1\n"
    "clock: {digital: 1 GHz}\n"
    "mapping: {weight_bits: 8, input_bits: 8, cell_bits: 2}\n"
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
    "        read_latency: 100 ns\n"
    "        cell: {model: cell/reram, bits: 2}\n"
    "      dac: {model: dac/simple, bits: 1}\n"
    "      sh: {model: sh/simple}\n"
    "      adc: {model: adc/sar, bits: 8, rate: 1.28 GS/s}\n"
    "      shiftadd: {model: shiftadd/simple}\n";

#endif
