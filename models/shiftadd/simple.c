/* shiftadd/simple.c -- a shift-and-add unit: merges one partial sum (an ADC output shifted by
 * its bit-slice and cell-slice position) into a running width-bit accumulator per clock.
 *
 * Defaults are ISAAC Table I at 32 nm: an IMA's 4 shift-and-add units take 0.2 mW and
 * 0.00024 mm2 at the 1.2 GHz digital clock, 0.05 mW and 60 um2 each. ISAAC gives the total power
 * only; PUMA (Ankit et al., ASPLOS 2019; its simulator's include/constants.py: sna_pow_leak
 * 0.005 mW, sna_pow_dyn 0.05 - 0.005 mW) takes 10 % of it as leakage, so a unit leaks 5 uW and
 * one add costs 0.045 mW / 1.2 GHz = 37.5 fJ. All follow the node from 32 nm by Stillmaker and
 * Baas (techscale.h): the energy by their energy fit, the leakage by their power fit, the area
 * by their area factors. `width` is the accumulator width
 * the engine and numerics use; the default energy does not scale with it (ISAAC gives one
 * figure for its 16-bit datapath). Action cycles count the chip's digital clock. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: 4 shift-and-add units per IMA, 0.2 mW and 0.00024 mm2 in all, 1.2 GHz; PUMA's
 * split of a unit's 0.05 mW: 0.045 mW dynamic, 0.005 mW leakage. */
#define PUMA_SA_J ((0.05e-3 - 0.005e-3) / 1.2e9)
#define PUMA_SA_LEAK_W 0.005e-3
#define ISAAC_SA_M2 (0.00024e-6 / 4)

typedef struct shiftadd {
    imc_instance base;
    int width;
    double energy_j;
    double area_m2; /* explicit; NAN = ISAAC node-scaled */
    double leakage_w;
    /* derived */
    double add_pj, area_um2, clock_hz;
} shiftadd;

static int shiftadd_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    shiftadd *u = (shiftadd *)self;
    int rc = imc_models_period(self, env->clock_hz, "the chip clock (clock_hz)", err);
    if (rc)
        return rc;
    u->clock_hz = env->clock_hz;
    u->add_pj = u->energy_j * 1e12;
    if (!isnan(u->area_m2)) {
        u->area_um2 = u->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        u->area_um2 = ISAAC_SA_M2 * 1e12 * scale;
    }
    self->cost[IMC_SHIFTADD_ADD] = (imc_cost){u->add_pj, 1};
    self->area_um2 = u->area_um2;
    self->leakage_mw = u->leakage_w * 1e3;
    self->peak_power_mw = u->add_pj * 1e-12 * u->clock_hz * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param shiftadd_params[] = {
    {"width", IMC_PT_INT, IMC_DIM_NONE, 16, 1, 64, IMC_PF_SIZE, IMC_OFF(shiftadd, width), NULL,
     "accumulator width in bits (ISAAC: 16-bit fixed point)"},
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, PUMA_SA_J, 0, 1e-9, IMC_PF_NODE,
     IMC_OFF(shiftadd, energy_j), NULL,
     "energy per shift-and-add (ISAAC Table I: 0.2 mW / 4 units = 0.05 mW, PUMA's dynamic "
     "0.045 mW / 1.2 GHz = 37.5 fJ at 32 nm)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(shiftadd, area_m2), NULL,
     "area of one unit; default ISAAC Table I 0.00024 mm2 / 4 at 32 nm, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, PUMA_SA_LEAK_W, 0, 1, IMC_PF_NODE,
     IMC_OFF(shiftadd, leakage_w), NULL,
     "static power of one unit (PUMA's 10 % of ISAAC's 0.05 mW: 5 uW at 32 nm)"},
};

const imc_model imc_model_shiftadd_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_SHIFTADD,
    .name = "shiftadd/simple",
    .doc = "Shift-and-add accumulator, one add per digital clock; defaults from ISAAC Table I "
           "split as PUMA does (37.5 fJ per add, 5 uW leakage, 60 um2 at 32 nm).",
    .instance_size = sizeof(shiftadd),
    IMC_PARAMS(shiftadd_params),
    .init = shiftadd_init,
    .node_m = 32e-9, /* ISAAC Table I */
};
