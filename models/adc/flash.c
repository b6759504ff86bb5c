/* adc/flash.c -- flash ADC: 2^bits - 1 comparators decide in parallel, one conversion per
 * period of its sample rate.
 *
 * Energy per conversion comes from, in order of precedence: an explicit `energy`; a given
 * Walden figure of merit, E = fom x 2^enob (enob defaults to bits); an explicit
 * comparator_energy, (2^bits - 1) x the energy of one comparator decision; or, by default, the
 * envelope of Murmann's ADC Performance Survey for flash converters at the rate (adc_survey.h:
 * 125.8 fJ per step at 1 GS/s, at the 61.6 nm of its three designs) x 2^enob, scaled to the
 * run's node by Stillmaker and Baas's energy fit: it doubles per bit as the comparators do. The
 * survey's (and a FOM's) power includes static power: unless `leakage` is given, 10 % of the
 * power at the rate is leakage (PUMA's split of ISAAC's ADC, 0.2 of 2 mW; adc_survey.h) and the
 * rest the energy per conversion; an explicit energy or comparator energy is dynamic only, its
 * default leakage 10/90 of energy x rate. Area
 * likewise: explicit, else (2^bits - 1) x the comparator area (assumption: 20 um2 at 32 nm,
 * scaled from 32 nm by the area factors of Stillmaker and Baas (techscale.h); its energies by
 * their energy fit). */
#include "models/model.h"

#include <math.h>

#include "models/adc/adc_survey.h"
#include "models/common.h"

typedef struct flash {
    imc_instance base;
    int bits;
    double rate_hz;
    double cmp_energy_j; /* one comparator decision; NAN = the survey envelope */
    double cmp_area_m2;  /* one comparator; NAN = 20 um2 at 32 nm, node-scaled */
    double fom_j;        /* Walden FOM; NAN when not given */
    double enob;         /* NAN = bits */
    double energy_j;     /* explicit per conversion; NAN when not given */
    double area_m2;      /* explicit; NAN when not given */
    double leakage_w;    /* NAN = the static share of the power at the rate */
    /* derived */
    double conv_pj, area_um2;
} flash;

static int flash_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    flash *a = (flash *)self;
    int rc = imc_models_period(self, a->rate_hz, "rate", err);
    if (rc)
        return rc;
    double comparators = ldexp(1.0, a->bits) - 1;
    double leak_mw;
    /* an explicit energy, or explicit comparator energies (unless a FOM is given): dynamic */
    double dynamic_j = !isnan(a->energy_j)                            ? a->energy_j
                       : isnan(a->fom_j) && !isnan(a->cmp_energy_j) ? comparators * a->cmp_energy_j
                                                                      : NAN;
    imc_adc_energy_spec spec = {
        .name = "flash",
        .envelope = imc_adc_flash_envelope,
        .envelope_n = IMC_ADC_FLASH_ENVELOPE_N,
        .rate_hz = a->rate_hz,
        .enob = isnan(a->enob) ? a->bits : a->enob,
        .dynamic_pj = dynamic_j * 1e12,
        .fom_j = a->fom_j,
        .leakage_w = a->leakage_w,
        .note = "",
    };
    if ((rc = imc_adc_energy(self, env, &spec, &a->conv_pj, &leak_mw, err)))
        return rc;
    if (!isnan(a->area_m2)) {
        a->area_um2 = a->area_m2 * 1e12;
    } else if (!isnan(a->cmp_area_m2)) {
        a->area_um2 = comparators * a->cmp_area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        a->area_um2 = comparators * 20.0 * scale;
    }
    self->cost[IMC_ADC_CONVERT] = (imc_cost){a->conv_pj, 1};
    self->area_um2 = a->area_um2;
    self->leakage_mw = leak_mw;
    self->peak_power_mw = a->conv_pj * 1e-12 * a->rate_hz * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param flash_params[] = {
    {"bits", IMC_PT_INT, IMC_DIM_NONE, 4, 1, 10, IMC_PF_SIZE, IMC_OFF(flash, bits), NULL,
     "resolution in bits (NeuroSim: at least 4 for 128-row arrays of 1-4 bit cells)"},
    {"rate", IMC_PT_REAL, IMC_DIM_FREQ, 1.28e9, 1e3, 1e12, IMC_PF_NODE,
     IMC_OFF(flash, rate_hz), NULL,
     "conversions per second (ISAAC's ADC rate, 1.28 GS/s, for a like-for-like swap)"},
    {"comparator_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(flash, cmp_energy_j), NULL,
     "energy of one comparator decision incl. ladder and encoder share; default: 90 % of "
     "Murmann's survey envelope for flash ADCs at the rate (125.8 fJ per step at 1 GS/s) x "
     "2^enob (10 % is leakage)"},
    {"comparator_area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(flash, cmp_area_m2), NULL,
     "area of one comparator; default 20 um2 at 32 nm, node-scaled (assumption)"},
    {"fom", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 1e-18, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(flash, fom_j),
     NULL, "Walden figure of merit per conversion step; overrides the comparator energy"},
    {"enob", IMC_PT_REAL, IMC_DIM_NONE, NAN, 1, 16, IMC_PF_OPTIONAL | IMC_PF_SIZE,
     IMC_OFF(flash, enob), NULL,
     "effective number of bits used with fom; defaults to bits"},
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(flash, energy_j), NULL, "explicit energy per conversion; overrides fom and comparators"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-3, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(flash, area_m2),
     NULL, "explicit area of one ADC; default (2^bits - 1) x comparator_area"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, NAN, 0, 1, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(flash, leakage_w), NULL,
     "static power of one ADC; default 10 % of its power at its rate (PUMA's split of ISAAC's "
     "ADC: 0.2 of 2 mW), taken out of a survey or fom energy, added to an explicit one"},
};

const imc_model imc_model_adc_flash = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_ADC,
    .name = "adc/flash",
    .doc = "Flash ADC of 2^bits - 1 comparators; energy from an explicit value, a Walden FOM, a "
           "per-comparator energy, or the envelope of Murmann's ADC survey at its rate; leakage "
           "10 % of its power at that rate (PUMA's split of ISAAC's ADC).",
    .instance_size = sizeof(flash),
    IMC_PARAMS(flash_params),
    .init = flash_init,
    .adc = &imc_adc_ideal_ops,
    .node_m = 32e-9, /* its comparator figures, tied to the 32 nm SAR table */
};
