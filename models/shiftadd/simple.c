/* shiftadd/simple.c -- a shift-and-add unit: merges one partial sum (an ADC output shifted by
 * its bit-slice and cell-slice position) into a running width-bit accumulator per clock.
 *
 * Defaults are ISAAC Table I at 32 nm: an IMA's 4 shift-and-add units take 0.2 mW and
 * 0.00024 mm2 at the 1.2 GHz digital clock, so one add costs 0.2 mW / 4 / 1.2 GHz = 41.7 fJ and
 * a unit occupies 60 um2 (scaled from 32 nm by the area factors of Stillmaker and Baas
 * (techscale.h); its energies by their energy fit). `width` is the accumulator width
 * the engine and numerics use; the default energy does not scale with it (ISAAC gives one
 * figure for its 16-bit datapath). Action cycles count the chip's digital clock. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: 4 shift-and-add units per IMA, 0.2 mW and 0.00024 mm2 in all, 1.2 GHz. */
#define ISAAC_SA_J (0.2e-3 / 4 / 1.2e9)
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
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, ISAAC_SA_J, 0, 1e-9, IMC_PF_NODE,
     IMC_OFF(shiftadd, energy_j),
     NULL, "energy per shift-and-add (ISAAC Table I: 0.2 mW / 4 units / 1.2 GHz = 41.7 fJ)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(shiftadd, area_m2), NULL,
     "area of one unit; default ISAAC Table I 0.00024 mm2 / 4 at 32 nm, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 1, IMC_PF_NODE,
     IMC_OFF(shiftadd, leakage_w), NULL,
     "static power of one unit (ISAAC reports total power only: 0)"},
};

const imc_model imc_model_shiftadd_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_SHIFTADD,
    .name = "shiftadd/simple",
    .doc = "Shift-and-add accumulator, one add per digital clock; defaults from ISAAC Table I "
           "(41.7 fJ per add, 60 um2 at 32 nm).",
    .instance_size = sizeof(shiftadd),
    IMC_PARAMS(shiftadd_params),
    .init = shiftadd_init,
    .node_m = 32e-9, /* ISAAC Table I */
};
