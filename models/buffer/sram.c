/* buffer/sram.c -- an SRAM buffer (PE/tile/global scratchpad), width bits per access.
 *
 * The behaviour is shared with buffer/edram (buffer_common.h); this file holds the SRAM
 * defaults: 0.156 pJ per bit accessed at 45 nm (Horowitz, "Computing's energy problem", ISSCC
 * 2014: an 8 KB SRAM spends 10 pJ per 64-bit access; 10 / 64 = 0.156 pJ per bit), scaled to the
 * run's node by Stillmaker and Baas (techscale.h; MNSIM's 0.24 pJ/bit CACTI figure names no node
 * beyond "below 65 nm", so it cannot be scaled and is no longer the default) and 280 F^2 per bit
 * (DNN+NeuroSim V1.3's SRAM
 * cell, 10F x 28F; cell array only, so the derived area omits decoders and sense amplifiers).
 * One bank by default. */
#include "models/buffer/buffer_common.h"

static const imc_param sram_params[] = {
    IMC_BUFFER_PARAMS(1, "independently accessible banks (assumption: 1)",
                      10e-12 / 64,
                      "energy per bit read or written (Horowitz ISSCC 2014, 45 nm: 8 KB SRAM, "
                      "10 pJ per 64-bit access)",
                      280, "cell area per bit in F^2 (NeuroSim V1.3 SRAM cell 10F x 28F)"),
};

const imc_model imc_model_buffer_sram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_BUFFER,
    .name = "buffer/sram",
    .doc = "Banked SRAM buffer, one width-bit access per bank per cycle; 0.156 pJ/bit at 45 nm "
           "(Horowitz ISSCC 2014), node-scaled, and 280 F^2/bit (NeuroSim) by default.",
    .instance_size = sizeof(buffer),
    IMC_PARAMS(sram_params),
    .init = imc_buffer_init,
    .node_m = 45e-9, /* Horowitz's SRAM figure */
};
