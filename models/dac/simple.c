/* dac/simple.c -- a row-input DAC: one conversion per crossbar read, driving one wordline.
 *
 * It runs at the crossbar read rate the core passes in env->read_hz (ISAAC: 10 M reads/s,
 * one per 100 ns cycle), which is also its clock. Defaults are ISAAC Table I at 32 nm: 8 x 128
 * 1-bit DACs per IMA take 4 mW and 0.00017 mm2, so one DAC draws 3.906 uW at 10 M reads/s and
 * occupies 0.166 um2. ISAAC gives the total power only; PUMA (Ankit et al., ASPLOS 2019) takes
 * 0.3906 uW of it, 10 %, as leakage (its simulator's include/constants.py, dac_pow_leak_dict:
 * 0.000390625 mW; its dynamic 0.00350625 mW falls 0.2 % short of the rest, so the rest of
 * ISAAC's power, 3.516 uW, is taken as dynamic): one conversion costs 3.516 uW / 10 M/s =
 * 0.3516 pJ and the DAC leaks 0.3906 uW. For more bits all three are scaled by 2^bits / 2
 * (assumption: a b-bit DAC switches, leaks and sizes like 2^(b-1) unit 1-bit drivers, so 1 bit
 * keeps ISAAC's figures); and from 32 nm to the run's node by Stillmaker and Baas (techscale.h):
 * the energy by their energy fit, the leakage by their power fit, the area by their area
 * factors. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: 1024 one-bit DACs per IMA, 4 mW and 0.00017 mm2 in all, 10 M reads/s; PUMA's
 * split of that power: 10 % leakage (constants.py: 0.000390625 mW), 90 % dynamic. */
#define ISAAC_DAC_W (4e-3 / 1024)
#define PUMA_DAC_J (0.9 * ISAAC_DAC_W / 10e6)
#define PUMA_DAC_LEAK_W (0.1 * ISAAC_DAC_W)
#define ISAAC_DAC_M2 (0.00017e-6 / 1024)

typedef struct dac {
    imc_instance base;
    int bits;
    double energy_j; /* explicit per conversion; NAN = PUMA's dynamic share of ISAAC, scaled */
    double area_m2;  /* explicit; NAN = ISAAC scaled */
    double leakage_w; /* explicit; NAN = PUMA's leakage share of ISAAC, scaled */
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
    double e_scale, p_scale;
    if ((rc = imc_models_tech(self, env, IMC_TECH_ENERGY, 32e-9, &e_scale, err)) ||
        (rc = imc_models_tech(self, env, IMC_TECH_POWER, 32e-9, &p_scale, err)))
        return rc;
    d->conv_pj = !isnan(d->energy_j) ? d->energy_j * 1e12 : PUMA_DAC_J * unit * e_scale * 1e12;
    double leak_w = !isnan(d->leakage_w) ? d->leakage_w : PUMA_DAC_LEAK_W * unit * p_scale;
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
    self->leakage_mw = leak_w * 1e3;
    self->peak_power_mw = d->conv_pj * 1e-12 * d->rate_hz * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param dac_params[] = {
    {"bits", IMC_PT_INT, IMC_DIM_NONE, 1, 1, 8, IMC_PF_SIZE, IMC_OFF(dac, bits), NULL,
     "input bits applied per read (ISAAC: 1)"},
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(dac, energy_j), NULL,
     "energy per conversion; default the dynamic 90 % of ISAAC's 0.39 pJ (1 bit) after PUMA's "
     "10 % leakage: 0.3516 pJ x 2^bits/2 (assumption), node-scaled"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(dac, area_m2),
     NULL, "area of one DAC; default ISAAC 0.166 um2 (1 bit, 32 nm) x 2^bits/2, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, NAN, 0, 1, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(dac, leakage_w), NULL,
     "static power of one DAC; default PUMA's 10 % of ISAAC's 3.906 uW (1 bit): 0.3906 uW x "
     "2^bits/2, node-scaled"},
};

const imc_model imc_model_dac_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DAC,
    .name = "dac/simple",
    .doc = "Wordline DAC converting once per crossbar read; defaults from ISAAC Table I split "
           "as PUMA does (1-bit: 0.3516 pJ, 0.3906 uW leakage, 0.166 um2 at 32 nm), scaled by "
           "2^bits/2 for wider inputs.",
    .instance_size = sizeof(dac),
    IMC_PARAMS(dac_params),
    .init = dac_init,
    .dac = &imc_dac_ideal_ops,
    .node_m = 32e-9, /* ISAAC Table I */
};
