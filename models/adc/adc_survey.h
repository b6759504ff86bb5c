/* adc_survey.h -- the energy of a state-of-the-art ADC from Murmann's ADC Performance Survey,
 * shared by adc/sar and adc/flash.
 *
 * Source: B. Murmann, "ADC Performance Survey 1997-2025" (github.com/bmurmann/ADC-survey,
 * xls/ADCsurvey_latest.xlsx, commit ddf3c1b; sheets ISSCC and VLSI, 724 designs). The figure
 * used is the Walden figure of merit at high input frequency, FOM_W,hf = P / (fs,nyq x
 * 2^ENOB(SNDR_hf)), the survey's column "FOMW_hf [fJ/conv-step]". The envelope is the survey's
 * own convention for its energy plot (plots/energy_plot.ipynb: the mean of the three smallest
 * values), taken per speed decade, because the best FOM_W worsens with speed: for each decade
 * centre f, the designs of the architecture with fs,nyq in [f / sqrt(10), f x sqrt(10)).
 * Energy per conversion = FOM_W,env(fs) x 2^ENOB, the Walden scaling (2x per bit; Schreier's
 * thermal-noise 4x per bit governs only above ~10 ENOB, beyond these converters). Between
 * decades, FOM_W,env and the node are interpolated geometrically in fs; outside them they are
 * held at the nearest decade's. The survey's designs span many nodes; the node of each decade
 * is the geometric mean of its three designs' (column TECHNOLOGY), from which the model scales
 * the energy to the run's node by Stillmaker and Baas's energy fit (techscale.h).
 *
 * SAR (ARCHITECTURE exactly "SAR", 101 designs):
 *   10 MS/s:  5.92 fJ at 46.5 nm  ISSCC 2015 26.2 (40 nm, 6.4 MS/s, 5.49 fJ), ISSCC 2017 28.1
 *                                 (28 nm, 10 MS/s, 5.83 fJ), ISSCC 2012 27.8 (90 nm, 4 MS/s, 6.45 fJ)
 *   100 MS/s: 5.73 fJ at 20.8 nm  VLSI 2022 C10-3 (8 nm, 250 MS/s, 2.18 fJ), ISSCC 2020 16.5
 *                                 (40 nm, 40 MS/s, 6.42 fJ), ISSCC 2023 10.7 (28 nm, 200 MS/s, 8.60 fJ)
 *   1 GS/s:   24.8 fJ at 35.5 nm  ISSCC 2021 13.4 (40 nm, 900 MS/s, 20.4 fJ), ISSCC 2017 16.4
 *                                 (28 nm, 2.4 GS/s, 25.4 fJ), ISSCC 2016 27.3 (40 nm, 1 GS/s, 28.7 fJ)
 *   (no single-channel SAR at 10 GS/s: the 1 GS/s figure is held above it)
 * Flash (ARCHITECTURE exactly "Flash", 25 designs):
 *   100 MS/s: 8382 fJ at 177.5 nm VLSI 2011 25.3 (90 nm, 210 MS/s, 6415 fJ), VLSI 1999 8.3
 *                                 (350 nm, 50 MS/s, 10349 fJ; only two designs in the decade)
 *   1 GS/s:   125.8 fJ at 61.6 nm VLSI 2012 4.1 (40 nm, 3 GS/s, 99.3 fJ), VLSI 2017 21.5 (65 nm,
 *                                 2 GS/s, 118.6 fJ), ISSCC 2006 31.1 (90 nm, 1.25 GS/s, 159.4 fJ)
 *   10 GS/s:  312.1 fJ at 38.8 nm VLSI 2013 21.3 (32 nm, 5 GS/s, 59.3 fJ), VLSI 2016 16.2 (28 nm,
 *                                 10.3 GS/s, 382.5 fJ), VLSI 2009 26.2 (65 nm, 7.67 GS/s, 494.4 fJ)
 * For comparison, ISAAC's ADC (Kull et al., ISSCC 2013, 32 nm, 1.2 GS/s) is 33.8 fJ per step. */
#ifndef IMC_MODELS_ADC_SURVEY_H
#define IMC_MODELS_ADC_SURVEY_H

#include <math.h>
#include <stdio.h>

#include "models/common.h"

typedef struct imc_adc_envelope_row {
    double fs_hz;  /* decade centre */
    double fomw_j; /* mean of the three smallest FOM_W,hf, J per conversion step */
    double node_m; /* geometric mean of those designs' nodes */
} imc_adc_envelope_row;

static const imc_adc_envelope_row imc_adc_sar_envelope[] = {
    {1e7, 5.922e-15, 46.5e-9},
    {1e8, 5.729e-15, 20.8e-9},
    {1e9, 24.811e-15, 35.5e-9},
};
#define IMC_ADC_SAR_ENVELOPE_N 3

static const imc_adc_envelope_row imc_adc_flash_envelope[] = {
    {1e8, 8382.2e-15, 177.5e-9},
    {1e9, 125.758e-15, 61.6e-9},
    {1e10, 312.084e-15, 38.8e-9},
};
#define IMC_ADC_FLASH_ENVELOPE_N 3

/* The static share of an ADC's power at its rate: the survey reports one power per design, P,
 * static included, so a converter sitting idle has no figure of its own there. PUMA (Ankit et
 * al., ASPLOS 2019) splits ISAAC's ADC (Table I: 2 mW each, Kull et al.'s SAR) into 1.8 mW
 * dynamic and 0.2 mW leakage (its simulator's include/constants.py, adc_pow_dyn_dict and
 * adc_pow_leak_dict): 10 % static. The ADC models take that share of the power at their rate as
 * leakage and the rest as the energy per conversion, so a converter busy all the time still
 * costs the survey's P. (DNN+NeuroSim's SarADC.cpp and the Accelergy ADC plug-in charge a
 * converter's whole power per conversion and no leakage: `leakage: 0 W` gives that reading.) */
#define IMC_ADC_STATIC_SHARE (0.2 / 2.0)

/* Split a converter's energy per conversion at its rate, *CONV_PJ (P / fs, static included as
 * the survey and a Walden FOM report it), into leakage and dynamic energy when LEAKAGE_W is not
 * given (NAN): *LEAK_MW = share x P, *CONV_PJ = (1 - share) x P / fs. FROM_POWER is 0 when
 * *CONV_PJ is an explicit energy per conversion, taken as dynamic only: the leakage is then the
 * share of the total that energy implies, share / (1 - share) x E x fs. A given leakage is kept
 * and the energy left whole. */
static inline void imc_adc_split_static(double *conv_pj, double rate_hz, double leakage_w,
                                        int from_power, double *leak_mw)
{
    double s = IMC_ADC_STATIC_SHARE;
    if (!isnan(leakage_w)) {
        *leak_mw = leakage_w * 1e3;
    } else if (from_power) {
        *leak_mw = s * *conv_pj * 1e-12 * rate_hz * 1e3;
        *conv_pj *= 1 - s;
    } else {
        *leak_mw = s / (1 - s) * *conv_pj * 1e-12 * rate_hz * 1e3;
    }
}

/* The envelope of ROWS (N of them, by rising fs) at FS_HZ: its FOM_W and the node it stands
 * for, geometric between decades, held beyond the ends. */
static inline void imc_adc_envelope(const imc_adc_envelope_row *rows, int n, double fs_hz,
                                    double *fomw_j, double *node_m)
{
    if (fs_hz <= rows[0].fs_hz) {
        *fomw_j = rows[0].fomw_j, *node_m = rows[0].node_m;
        return;
    }
    for (int i = 1; i < n; i++) {
        if (fs_hz <= rows[i].fs_hz) {
            double t = log(fs_hz / rows[i - 1].fs_hz) / log(rows[i].fs_hz / rows[i - 1].fs_hz);
            *fomw_j = rows[i - 1].fomw_j * pow(rows[i].fomw_j / rows[i - 1].fomw_j, t);
            *node_m = rows[i - 1].node_m * pow(rows[i].node_m / rows[i - 1].node_m, t);
            return;
        }
    }
    *fomw_j = rows[n - 1].fomw_j, *node_m = rows[n - 1].node_m;
}

/* What an ADC model knows of its converter's energy: the survey envelope of its architecture
 * (NAME as the assumptions print it, "SAR" or "flash"), its rate and ENOB, and the figures the
 * file gave (NAN when not): an explicit dynamic energy per conversion (an `energy`, or flash's
 * comparators x comparator_energy), a Walden FOM, a leakage. NOTE ends the derivation printed
 * for the survey default ("" or "; conversion bits x bit_time"). */
typedef struct imc_adc_energy_spec {
    const char *name;
    const imc_adc_envelope_row *envelope;
    int envelope_n;
    double rate_hz, enob;
    double dynamic_pj, fom_j, leakage_w;
    const char *note;
} imc_adc_energy_spec;

/* SELF's energy per conversion (*CONV_PJ) and leakage (*LEAK_MW) from SPEC, in the order of
 * precedence adc/sar and adc/flash document: an explicit dynamic energy, else a Walden FOM x
 * 2^enob, else the survey envelope at the rate x 2^enob scaled from its designs' node to the
 * run's (Stillmaker and Baas's energy fit); the static share split off as
 * imc_adc_split_static says. The derivation goes into SELF's assumptions. */
static inline int imc_adc_energy(imc_instance *self, const imc_model_env *env,
                                 const imc_adc_energy_spec *spec, double *conv_pj,
                                 double *leak_mw, imc_err *err)
{
    double share = 100 * IMC_ADC_STATIC_SHARE, enob = spec->enob;
    int given_leakage = !isnan(spec->leakage_w);
    self->assumptions[0] = '\0';
    if (!isnan(spec->dynamic_pj)) {
        *conv_pj = spec->dynamic_pj;
        imc_adc_split_static(conv_pj, spec->rate_hz, spec->leakage_w, 0, leak_mw);
        if (!given_leakage)
            snprintf(self->assumptions, sizeof self->assumptions,
                     "leakage %.4g mW = %g/%g x energy x rate (PUMA's %g %% static share of "
                     "ISAAC's ADC)",
                     *leak_mw, share, 100 - share, share);
        return 0;
    }
    if (!isnan(spec->fom_j)) {
        *conv_pj = spec->fom_j * pow(2.0, enob) * 1e12;
        imc_adc_split_static(conv_pj, spec->rate_hz, spec->leakage_w, 1, leak_mw);
        if (!given_leakage)
            snprintf(self->assumptions, sizeof self->assumptions,
                     "convert %.4g pJ + leakage %.4g mW: fom x 2^%g x rate, %g %% of that power "
                     "static (PUMA's split of ISAAC's ADC)",
                     *conv_pj, *leak_mw, enob, share);
        return 0;
    }
    double fomw, node, e_scale;
    imc_adc_envelope(spec->envelope, spec->envelope_n, spec->rate_hz, &fomw, &node);
    int rc = imc_models_tech(self, env, IMC_TECH_ENERGY, node, &e_scale, err);
    if (rc)
        return rc;
    *conv_pj = fomw * pow(2.0, enob) * e_scale * 1e12;
    double whole_pj = *conv_pj;
    imc_adc_split_static(conv_pj, spec->rate_hz, spec->leakage_w, 1, leak_mw);
    if (!given_leakage)
        snprintf(self->assumptions, sizeof self->assumptions,
                 "convert %.4g pJ + leakage %.4g mW: Murmann survey %s envelope %.3g fJ/step at "
                 "%.4g MS/s (%.3g nm designs) x 2^%g x %.3g (Stillmaker-Baas energy to the node) "
                 "= %.4g pJ, %g %% of its power static (PUMA's split of ISAAC's ADC)%s",
                 *conv_pj, *leak_mw, spec->name, fomw * 1e15, spec->rate_hz * 1e-6, node * 1e9,
                 enob, e_scale, whole_pj, share, spec->note);
    else
        snprintf(self->assumptions, sizeof self->assumptions,
                 "convert %.4g pJ = Murmann survey %s envelope %.3g fJ/step at %.4g MS/s (%.3g nm "
                 "designs) x 2^%g x %.3g (Stillmaker-Baas energy to the node)%s",
                 *conv_pj, spec->name, fomw * 1e15, spec->rate_hz * 1e-6, node * 1e9, enob,
                 e_scale, spec->note);
    return 0;
}

#endif
