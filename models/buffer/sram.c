/* buffer/sram.c -- an SRAM buffer (PE/tile/global scratchpad), width bits per access.
 *
 * The behaviour is shared with buffer/edram (buffer_common.h); this file holds the SRAM
 * defaults: energy per access, leakage and area from the power laws fitted to CACTI 7 runs of
 * SRAM scratchpads at 32 nm (itrs-hp cells and periphery, 360 K; 1 KB - 8 MB, 64 - 512 bit;
 * cacti_tables.h), at the width and one bank's capacity, scaled to the run's node by Stillmaker
 * and Baas (techscale.h). A 64 KB, 256-bit SRAM of one bank at 32 nm: 25.9 pJ per read
 * (0.10 pJ/bit), 35.3 pJ per write, 43.5 mW leakage, 0.155 mm2 (CACTI's own run: 27.8 pJ,
 * 32.8 pJ, 39.8 mW, 0.114 mm2). The earlier default, Horowitz's 45 nm 8 KB SRAM at 10 pJ per
 * 64-bit access (ISSCC 2014), is 0.156 pJ/bit; the fit gives 3.08 pJ per 64-bit access for 8 KB
 * at 32 nm (x1.88 to 45 nm: 5.8 pJ). One bank by default. */
#include "models/buffer/buffer_common.h"

static const imc_param sram_params[] = {
    IMC_BUFFER_PARAMS(1, "independently accessible banks (assumption: 1)", "SRAM"),
};

static const imc_buffer_tech sram_tech = {"SRAM", imc_cacti_sram32, IMC_CACTI_SRAM32_N, 0};

static int sram_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    return imc_buffer_init(self, env, &sram_tech, err);
}

const imc_model imc_model_buffer_sram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_BUFFER,
    .name = "buffer/sram",
    .doc = "Banked SRAM buffer, one width-bit access per bank per cycle; energy, leakage and area "
           "from power laws fitted to CACTI 7 SRAM runs at 32 nm (capacity per bank, width), "
           "node-scaled.",
    .instance_size = sizeof(buffer),
    IMC_PARAMS(sram_params),
    .init = sram_init,
    .node_m = IMC_CACTI_NODE_M, /* the CACTI runs */
};
