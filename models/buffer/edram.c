/* buffer/edram.c -- an eDRAM buffer (ISAAC's tile buffer), width bits per access.
 *
 * The behaviour is shared with buffer/sram (buffer_common.h); this file holds the eDRAM
 * defaults, all derived from ISAAC Table I at 32 nm (Shafiee et al., ISCA 2016; docs/SOURCES.md): a 64 KB
 * buffer of 2 banks with a 256-bit bus; 20.45 pJ per 256-bit access (docs/SOURCES.md), i.e.
 * 0.0799 pJ per bit; and 0.083 mm2 for 64 KB, i.e. 154.6 F^2 per bit including periphery.
 * Refresh is not modelled separately (fold it into leakage). */
#include "models/buffer/buffer_common.h"

/* ISAAC Table I: 64 KB eDRAM in 0.083 mm2 at 32 nm, as F^2 per bit. */
#define ISAAC_EDRAM_F2 (0.083e-6 / (64 * 1024 * 8.0) / (32e-9 * 32e-9))

static const imc_param edram_params[] = {
    IMC_BUFFER_PARAMS(2, "independently accessible banks (ISAAC tile eDRAM: 2)",
                      20.45e-12 / 256, "energy per bit accessed (ISAAC-derived 20.45 pJ per 256 bit)",
                      ISAAC_EDRAM_F2, "area per bit in F^2 (ISAAC Table I: 64 KB in 0.083 mm2)"),
};

const imc_model imc_model_buffer_edram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_BUFFER,
    .name = "buffer/edram",
    .doc = "Banked eDRAM buffer, one width-bit access per bank per cycle; ISAAC's tile buffer by "
           "default (64 KB, 2 banks, 256 bit, 20.45 pJ per access, 0.083 mm2 at 32 nm).",
    .instance_size = sizeof(buffer),
    IMC_PARAMS(edram_params),
    .init = imc_buffer_init,
    .node_m = 32e-9, /* ISAAC Table I */
};
