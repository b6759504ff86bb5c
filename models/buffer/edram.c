/* buffer/edram.c -- an eDRAM buffer (ISAAC's tile buffer), width bits per access.
 *
 * The behaviour is shared with buffer/sram (buffer_common.h); this file holds the eDRAM
 * defaults: energy per access, leakage and area from the power laws fitted to CACTI 7 runs of
 * logic-process embedded DRAM ("lp-dram" cells, itrs-hp periphery, 360 K) at 32 nm
 * (16 KB - 8 MB, 64 - 512 bit; cacti_tables.h), at the width and one bank's capacity, scaled to
 * the run's node by Stillmaker and Baas (techscale.h). A write costs the read fit (CACTI 7's
 * eDRAM write figure for a "ram" is 30-60x its read; cacti_tables.h says why it is not used).
 * ISAAC's 64 KB tile buffer (2 banks, 256 bit) comes out at 18.5 pJ per access, 5.36 mW
 * leakage and 0.074 mm2 at 32 nm; ISAAC's Table I (CACTI 6.5): 20.7 mW in all and 0.083 mm2
 * (isaac.yaml gives those explicitly). Refresh is not modelled separately (fold it into
 * leakage). Two banks by default, as ISAAC's. */
#include "models/buffer/buffer_common.h"

static const imc_param edram_params[] = {
    IMC_BUFFER_PARAMS(2, "independently accessible banks (ISAAC tile eDRAM: 2)", "eDRAM"),
};

static const imc_buffer_tech edram_tech = {"eDRAM", imc_cacti_edram32, IMC_CACTI_EDRAM32_N, 1};

static int edram_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    return imc_buffer_init(self, env, &edram_tech, err);
}

const imc_model imc_model_buffer_edram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_BUFFER,
    .name = "buffer/edram",
    .doc = "Banked eDRAM buffer, one width-bit access per bank per cycle; energy, leakage and "
           "area from power laws fitted to CACTI 7 lp-dram runs at 32 nm (capacity per bank, "
           "width), node-scaled; 2 banks as ISAAC's tile buffer.",
    .instance_size = sizeof(buffer),
    IMC_PARAMS(edram_params),
    .init = edram_init,
    .node_m = IMC_CACTI_NODE_M, /* the CACTI runs */
};
