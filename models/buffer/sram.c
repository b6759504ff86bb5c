/* buffer/sram.c -- an SRAM buffer (PE/tile/global scratchpad), width bits per access.
 *
 * The behaviour is shared with buffer/edram (buffer_common.h); this file holds the SRAM
 * defaults: 0.24 pJ per bit accessed (MNSIM's CACTI table for a 64 KB SRAM with a 256-bit port
 * below 65 nm, docs/SOURCES.md) and 280 F^2 per bit (DNN+NeuroSim V1.3's SRAM
 * cell, 10F x 28F; cell array only, so the derived area omits decoders and sense amplifiers).
 * One bank by default. */
#include "models/buffer/buffer_common.h"

static const imc_param sram_params[] = {
    IMC_BUFFER_PARAMS(1, "independently accessible banks (assumption: 1)",
                      0.24e-12, "energy per bit read or written (MNSIM CACTI, 64 KB, 256-bit port)",
                      280, "cell area per bit in F^2 (NeuroSim V1.3 SRAM cell 10F x 28F)"),
};

const imc_model imc_model_buffer_sram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_BUFFER,
    .name = "buffer/sram",
    .doc = "Banked SRAM buffer, one width-bit access per bank per cycle; 0.24 pJ/bit (MNSIM "
           "CACTI) and 280 F^2/bit (NeuroSim) by default.",
    .instance_size = sizeof(buffer),
    IMC_PARAMS(sram_params),
    .init = imc_buffer_init,
};
