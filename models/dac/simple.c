/* dac/simple.c -- a row-input DAC: one conversion per crossbar read, driving one wordline.
 *
 * It runs at the crossbar read rate the core passes in env->read_hz (ISAAC: 10 M reads/s,
 * one per 100 ns cycle), which is also its clock. Defaults are ISAAC Table I at 32 nm: 8 x 128
 * 1-bit DACs per IMA take 4 mW and 0.00017 mm2, so one DAC spends 4 mW / 1024 / 10 M/s =
 * 0.39 pJ per conversion and occupies 0.166 um2. For more bits both are scaled by 2^bits / 2
 * (assumption: a b-bit DAC switches and sizes like 2^(b-1) unit 1-bit drivers, so 1 bit keeps
 * ISAAC's figures); the area is also scaled from 32 nm by the area factors of Stillmaker and Baas
 * (techscale.h); its energies by their energy fit. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: 1024 one-bit DACs per IMA, 4 mW and 0.00017 mm2 in all, 10 M reads/s. */
#define ISAAC_DAC_J (4e-3 / 1024 / 10e6)
#define ISAAC_DAC_M2 (0.00017e-6 / 1024)

typedef struct dac {
    imc_instance base;
    int bits;
    double energy_j; /* explicit per conversion; NAN = ISAAC scaled */
    double area_m2;  /* explicit; NAN = ISAAC scaled */
    double leakage_w;
    /* derived */
    double conv_pj, area_um2, rate_hz;
} dac;

static int dac_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    dac *d = (dac *)self;
    int rc = imc_models_period(self, env->read_hz, "the crossbar read rate (read_hz)", err);
    if (rc)
        return rc;
    d->rate_hz = env->read_hz;
    double unit = ldexp(1.0, d->bits) / 2; /* 1 bit = ISAAC's DAC */
    double e_scale;
    if ((rc = imc_models_tech(self, env, IMC_TECH_ENERGY, 32e-9, &e_scale, err)))
        return rc;
    d->conv_pj = !isnan(d->energy_j) ? d->energy_j * 1e12 : ISAAC_DAC_J * unit * e_scale * 1e12;
    if (!isnan(d->area_m2)) {
        d->area_um2 = d->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        d->area_um2 = ISAAC_DAC_M2 * 1e12 * unit * scale;
    }
    self->cost[IMC_DAC_CONVERT] = (imc_cost){d->conv_pj, 1};
    self->area_um2 = d->area_um2;
    self->leakage_mw = d->leakage_w * 1e3;
    self->peak_power_mw = d->conv_pj * 1e-12 * d->rate_hz * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param dac_params[] = {
    {"bits", IMC_PT_INT, IMC_DIM_NONE, 1, 1, 8, IMC_PF_SIZE, IMC_OFF(dac, bits), NULL,
     "input bits applied per read (ISAAC: 1)"},
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(dac, energy_j), NULL,
     "energy per conversion; default ISAAC 0.39 pJ (1 bit) x 2^bits/2 (assumption)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(dac, area_m2),
     NULL, "area of one DAC; default ISAAC 0.166 um2 (1 bit, 32 nm) x 2^bits/2, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 1, IMC_PF_NODE, IMC_OFF(dac, leakage_w), NULL,
     "static power of one DAC (ISAAC reports total power only: 0)"},
};

const imc_model imc_model_dac_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DAC,
    .name = "dac/simple",
    .doc = "Wordline DAC converting once per crossbar read; defaults from ISAAC Table I "
           "(1-bit, 0.39 pJ, 0.166 um2 at 32 nm), scaled by 2^bits/2 for wider inputs.",
    .instance_size = sizeof(dac),
    IMC_PARAMS(dac_params),
    .init = dac_init,
    .dac = &imc_dac_ideal_ops,
    .node_m = 32e-9, /* ISAAC Table I */
};
