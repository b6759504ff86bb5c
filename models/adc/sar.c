/* adc/sar.c -- successive-approximation ADC: a binary search that decides one bit per
 * internal cycle, so one conversion takes bits x bit_time (or 1 / rate when a rate is given).
 * The default bit_time is ISAAC's ADC (Kull et al., ISSCC 2013, 32 nm): 8 bits in one period
 * of 1.28 GS/s, 781.25 ps / 8 = 97.7 ps per bit, scaled to the run's node by Stillmaker and
 * Baas's delay fit (techscale.h); an 8-bit SAR at 32 nm thus keeps ISAAC's 1.28 GS/s.
 *
 * Energy per conversion comes from, in order of precedence: an explicit `energy`; a given
 * Walden figure of merit, E = fom x 2^enob (enob defaults to bits); or, by default, the
 * envelope of Murmann's ADC Performance Survey at the converter's own rate (adc_survey.h: the
 * mean of the three best Walden FOMs of single-channel SAR designs in the rate's decade, 24.8 fJ
 * per step at 1 GS/s, at the 35.5 nm of those designs), times 2^enob, scaled from that node to
 * the run's by Stillmaker and Baas's energy fit. That energy is the survey's power at the rate
 * over the rate, static power included: unless `leakage` is given, 10 % of that power is taken
 * as leakage (PUMA's split of ISAAC's ADC, 0.2 of 2 mW; adc_survey.h) and the rest is the energy
 * per conversion, so a converter busy at its full rate still costs the survey's power. An
 * explicit `energy` is dynamic only; its default leakage is then 10/90 of energy x rate. `leakage:
 * 0 W` charges everything per conversion, as DNN+NeuroSim's SarADC.cpp does (leakage = 0).
 * Area: explicit, else the 32 nm ISAAC-style SAR
 * table of the Accelergy/CiMLoop component library (Andrulis et al., ISPASS 2024;
 * docs/SOURCES.md: 4 b 361 um2 ... 10 b 3002 um2), interpolated geometrically between rows and
 * extended by the end slopes, scaled by Stillmaker and Baas's area factors. */
#include "models/model.h"

#include <math.h>

#include "models/adc/adc_survey.h"
#include "models/common.h"

typedef struct sar {
    imc_instance base;
    int bits;
    double rate_hz;    /* explicit conversions per second; NAN = 1 / (bits x bit_time) */
    double bit_time_s; /* one internal cycle, one bit decided */
    double fom_j;    /* Walden FOM, J per conversion step; NAN when not given */
    double enob;     /* effective bits for the FOM; NAN = bits */
    double energy_j; /* explicit energy per conversion; NAN when not given */
    double area_m2;  /* explicit area; NAN when not given */
    double leakage_w; /* NAN = the static share of the power at the rate */
    double offset_lsb, inl_lsb; /* static non-linearity of the transfer function */
    /* derived */
    double conv_pj, area_um2, conv_s;
} sar;

/* ISAAC-style 32 nm SAR ADC area (Accelergy/CiMLoop table, docs/SOURCES.md). */
static const double table_bits[] = {4, 5, 6, 7, 8, 9, 10};
static const double table_um2[] = {361, 477, 627, 845, 1200, 1828, 3002};
#define TABLE_N 7

/* Geometric interpolation in the table; outside it, the slope of the nearest two rows. */
static double from_table(const double *y, double bits)
{
    int i = (int)floor(bits - table_bits[0]);
    if (i < 0)
        i = 0;
    if (i > TABLE_N - 2)
        i = TABLE_N - 2;
    double t = bits - table_bits[i];
    return y[i] * pow(y[i + 1] / y[i], t);
}

static int sar_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    sar *a = (sar *)self;
    int rc;
    /* one internal cycle per bit, unless the rate is given */
    a->conv_s = !isnan(a->rate_hz) ? 1 / a->rate_hz : a->bits * a->bit_time_s;
    if ((rc = imc_models_period(self, 1 / a->conv_s,
                                isnan(a->rate_hz) ? "1 / (bits x bit_time)" : "rate", err)))
        return rc;
    double leak_mw;
    imc_adc_energy_spec spec = {
        .name = "SAR",
        .envelope = imc_adc_sar_envelope,
        .envelope_n = IMC_ADC_SAR_ENVELOPE_N,
        .rate_hz = 1 / a->conv_s,
        .enob = isnan(a->enob) ? a->bits : a->enob,
        .dynamic_pj = a->energy_j * 1e12,
        .fom_j = a->fom_j,
        .leakage_w = a->leakage_w,
        .note = isnan(a->rate_hz) ? "; conversion bits x bit_time" : "; conversion 1 / rate",
    };
    if ((rc = imc_adc_energy(self, env, &spec, &a->conv_pj, &leak_mw, err)))
        return rc;
    if (!isnan(a->area_m2)) {
        a->area_um2 = a->area_m2 * 1e12;
    } else {
        double a_scale;
        if ((rc = imc_models_tech(self, env, IMC_TECH_AREA, 32e-9, &a_scale, err)))
            return rc;
        a->area_um2 = from_table(table_um2, a->bits) * a_scale;
    }
    self->cost[IMC_ADC_CONVERT] = (imc_cost){a->conv_pj, 1};
    self->area_um2 = a->area_um2;
    self->leakage_mw = leak_mw;
    self->peak_power_mw = a->conv_pj * 1e-12 / a->conv_s * 1e3 + self->leakage_mw;
    return 0;
}

/* The transfer function: the ideal quantizer of the value shifted by the offset and by an INL
 * bow, inl x 4 x (1 - x) at full-scale fraction x: 0 at both ends, `inl` LSB at mid-scale (the
 * usual shape of a converter's integral non-linearity from a second-order error). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3"))) /* vectorised only from -O3 on: it runs per column read */
#endif
static void sar_convert(const imc_instance *self, float *v, size_t n, float inv_step)
{
    const sar *a = (const sar *)self;
    if (a->offset_lsb == 0 && a->inl_lsb == 0) {
        imc_adc_ideal_convert(a->bits, v, n, inv_step);
        return;
    }
    float top = (float)(ldexp(1, a->bits) - 1), inv_top = 1 / top, off = (float)a->offset_lsb + 0.5f,
          bow = (float)(4 * a->inl_lsb), clip = top + 0.5f;
    for (size_t k = 0; k < n; k++) {
        float x = v[k] * inv_step, f = x * inv_top;
        f = f < 0.0f ? 0.0f : f > 1.0f ? 1.0f : f;
        float u = x + off + bow * f * (1.0f - f); /* + 0.5: round half up below */
        u = u > 0.0f ? u : 0.0f;
        u = u < clip ? u : clip;
        v[k] = (float)(int32_t)u;
    }
}

static int sar_exact(const imc_instance *self)
{
    const sar *a = (const sar *)self;
    return a->offset_lsb == 0 && a->inl_lsb == 0;
}

static const imc_adc_ops sar_ops = {sar_convert, sar_exact};

static const imc_param sar_params[] = {
    {"bits", IMC_PT_INT, IMC_DIM_NONE, 8, 1, 16, IMC_PF_SIZE, IMC_OFF(sar, bits), NULL,
     "resolution in bits"},
    {"rate", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL | IMC_PF_NODE, IMC_OFF(sar, rate_hz), NULL,
     "conversions per second; default 1 / (bits x bit_time), one internal cycle per bit"},
    {"bit_time", IMC_PT_REAL, IMC_DIM_TIME, 1 / (1.28e9 * 8), 1e-13, 1e-3, IMC_PF_NODE,
     IMC_OFF(sar, bit_time_s), NULL,
     "one internal cycle, one bit decided (ISAAC's ADC, Kull et al. ISSCC 2013, 32 nm: 8 bits "
     "at 1.28 GS/s, 97.7 ps)"},
    {"fom", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 1e-18, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(sar, fom_j),
     NULL, "Walden figure of merit per conversion step (Kull et al. ISSCC 2013: 33.8 fJ)"},
    {"enob", IMC_PT_REAL, IMC_DIM_NONE, NAN, 1, 16, IMC_PF_OPTIONAL | IMC_PF_SIZE,
     IMC_OFF(sar, enob), NULL,
     "effective number of bits used with fom; defaults to bits"},
    {"energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(sar, energy_j), NULL,
     "explicit dynamic energy per conversion; default 90 % of Murmann's survey envelope at the "
     "rate (24.8 fJ per step at 1 GS/s, 35.5 nm) x 2^enob, node-scaled (10 % is leakage)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-3, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(sar, area_m2),
     NULL, "explicit area of one ADC; default from the 32 nm table scaled to the node"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, NAN, 0, 1, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(sar, leakage_w), NULL,
     "static power of one ADC; default 10 % of its power at its rate (PUMA's split of ISAAC's "
     "ADC: 0.2 of 2 mW), taken out of a survey or fom energy, added to an explicit one"},
    {"offset", IMC_PT_REAL, IMC_DIM_NONE, 0, -64, 64, 0, IMC_OFF(sar, offset_lsb), NULL,
     "input-referred offset of the transfer function, in LSB (ideal: 0)"},
    {"inl", IMC_PT_REAL, IMC_DIM_NONE, 0, -64, 64, 0, IMC_OFF(sar, inl_lsb), NULL,
     "integral non-linearity at mid-scale, in LSB, a bow that is 0 at both ends (ideal: 0)"},
};

const imc_model imc_model_adc_sar = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_ADC,
    .name = "adc/sar",
    .doc = "Successive-approximation ADC, one internal cycle per bit; energy from an explicit "
           "value, a Walden FOM, or the envelope of Murmann's ADC survey at its rate; leakage "
           "10 % of its power at that rate (PUMA's split of ISAAC's ADC).",
    .instance_size = sizeof(sar),
    IMC_PARAMS(sar_params),
    .init = sar_init,
    .adc = &sar_ops,
    .node_m = 32e-9, /* the Accelergy/CiMLoop area table and ISAAC's bit time */
};
