/* sh/simple.c -- a sample-and-hold on one bitline: one sample per crossbar read.
 *
 * It latches a column's settled current at the end of each crossbar read so the shared ADC can
 * convert it during the next read (ISAAC section IV). It runs at the crossbar read rate the
 * core passes in env->read_hz, which is also its clock. Defaults are ISAAC Table I at 32 nm:
 * 8 x 128 S&H circuits per IMA take 10 uW and 0.00004 mm2, so one draws 9.766 nW at 10 M
 * reads/s and occupies 0.039 um2. ISAAC gives the total power only; PUMA (Ankit et al., ASPLOS
 * 2019; its simulator's include/constants.py: snh_pow_leak 9.7e-7 mW of snh 9.7e-6 mW) takes
 * 10 % of it as leakage, so one S&H leaks 0.9766 nW and a sample costs the other 90 %,
 * 8.789 nW / 10 M/s = 0.8789 fJ. All follow the node from 32 nm by Stillmaker and Baas
 * (techscale.h): the energy by their energy fit, the leakage by their power fit, the area by
 * their area factors. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: 1024 S&H per IMA, 10 uW and 0.00004 mm2 in all, 10 M reads/s; PUMA's split of
 * that power: 90 % per sample, 10 % leakage. */
#define ISAAC_SH_W (10e-6 / 1024)
#define PUMA_SH_J (0.9 * ISAAC_SH_W / 10e6)
#define PUMA_SH_LEAK_W (0.1 * ISAAC_SH_W)
#define ISAAC_SH_M2 (0.00004e-6 / 1024)

typedef struct sh {
    imc_instance base;
    double energy_j;
    double area_m2; /* explicit; NAN = ISAAC node-scaled */
    double leakage_w;
    /* derived */
    double sample_pj, area_um2, rate_hz;
} sh;

static int sh_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    sh *s = (sh *)self;
    int rc = imc_models_period(self, env->read_hz, "the crossbar read rate (read_hz)", err);
    if (rc)
        return rc;
    s->rate_hz = env->read_hz;
    s->sample_pj = s->energy_j * 1e12;
    if (!isnan(s->area_m2)) {
        s->area_um2 = s->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        s->area_um2 = ISAAC_SH_M2 * 1e12 * scale;
    }
    self->cost[IMC_SH_SAMPLE] = (imc_cost){s->sample_pj, 1};
    self->area_um2 = s->area_um2;
    self->leakage_mw = s->leakage_w * 1e3;
    self->peak_power_mw = s->sample_pj * 1e-12 * s->rate_hz * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param sh_params[] = {
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, PUMA_SH_J, 0, 1e-9, IMC_PF_NODE,
     IMC_OFF(sh, energy_j), NULL,
     "energy per sample (ISAAC Table I: 10 uW / 1024 at 10 M reads/s = 0.977 fJ, of which "
     "PUMA takes 90 % as dynamic: 0.8789 fJ at 32 nm)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(sh, area_m2), NULL,
     "area of one S&H; default ISAAC Table I 0.00004 mm2 / 1024 at 32 nm, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, PUMA_SH_LEAK_W, 0, 1, IMC_PF_NODE,
     IMC_OFF(sh, leakage_w), NULL,
     "static power of one S&H (PUMA's 10 % of ISAAC's 10 uW / 1024: 0.9766 nW at 32 nm)"},
};

const imc_model imc_model_sh_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_SH,
    .name = "sh/simple",
    .doc = "Bitline sample-and-hold, one sample per crossbar read; defaults from ISAAC Table I "
           "split as PUMA does (0.8789 fJ per sample, 0.9766 nW leakage, 0.039 um2 at 32 nm).",
    .instance_size = sizeof(sh),
    IMC_PARAMS(sh_params),
    .init = sh_init,
    .node_m = 32e-9, /* ISAAC Table I */
};
