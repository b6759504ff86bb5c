/* test_hwreport.c -- the hardware report against published numbers and closed forms.
 *
 * ISAAC: Shafiee et al., ISCA 2016 (corrected 5 Oct 2016), Table I and Table IV, as collected
 * in Shafiee et al., ISCA 2016, Table I (docs/SOURCES.md): tile 330 mW and 0.372 mm2, chip
 * 65.8 W and 85.4 mm2 (within the paper's rounding), peak 478.95 GOPS/s/mm2 (1 %) and 627.5
 * GOPS/W (0.2 %). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/arch/arch.h"
#include "models/techscale.h"
#include "sim/report/hwreport.h"

#include <CUnit/CUnit.h>

static imc_arch *load_config(const char *name, const char *const *sets, size_t n)
{
    const char *src = getenv("IMCSIM_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/arch-configs/%s", src ? src : ".", name);
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_arch_load(&a, path, sets, n, &err))
        fprintf(stderr, "\n%s:%d:%d: %s\n", err.file, err.line, err.col, err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    return a;
}

static int within(double got, double want, double rel)
{
    int ok = fabs(got - want) <= rel * fabs(want);
    if (!ok)
        fprintf(stderr, "\n  got %.6g, want %.6g within %.1f %%\n", got, want, rel * 100);
    return ok;
}

static int within_abs(double got, double want, double tol)
{
    int ok = fabs(got - want) <= tol;
    if (!ok)
        fprintf(stderr, "\n  got %.6g, want %.6g +- %g\n", got, want, tol);
    return ok;
}

static void test_isaac_reproduces_table_i_and_iv(void)
{
    imc_arch *a = load_config("isaac.yaml", NULL, 0);
    imc_hw_report rep;
    imc_hwreport_build(a, &rep);
    /* ISAAC Table I: tile 330 mW, 0.372 mm2; chip 65.8 W, 85.4 mm2; per IMA 289 mW / 12 and
     * 0.157 mm2 / 12. Each within half a unit of its last printed digit, the paper's own
     * rounding (at most 0.17 %; measured: 0.06 % or less, PE area 0.28 % of 0.157 / 12 but
     * within 0.157's rounding). Once 2 %, which four tile components could hide in. */
    CU_ASSERT(within_abs(rep.peak_power_mw[IMC_LEVEL_TILE], 330, 0.5));
    CU_ASSERT(within_abs(rep.area_mm2[IMC_LEVEL_TILE], 0.372, 0.0005));
    CU_ASSERT(within_abs(rep.peak_power_mw[IMC_LEVEL_CHIP], 65.8e3, 50));
    CU_ASSERT(within_abs(rep.area_mm2[IMC_LEVEL_CHIP], 85.4, 0.05));
    CU_ASSERT(within_abs(rep.peak_power_mw[IMC_LEVEL_PE] * 12, 289, 0.5));
    CU_ASSERT(within_abs(rep.area_mm2[IMC_LEVEL_PE] * 12, 0.157, 0.0005));
    /* ISAAC Table IV, ISAAC-CE: 627.5 GOPS/W within 0.2 % (measured 0.02 %) and 478.95
     * GOPS/s/mm2 within 1 % (measured 0.91 %: Table IV's own peak throughput over Table I's
     * 85.4 mm2 is 483.5, so the table used another area; we match Table I's). */
    double gops = rep.peak_ops_per_s * 1e-9;
    CU_ASSERT(within(gops / rep.area_mm2[IMC_LEVEL_CHIP], 478.95, 0.01));
    CU_ASSERT(within(gops / (rep.peak_power_mw[IMC_LEVEL_CHIP] * 1e-3), 627.5, 0.002));
    /* ISAAC text: ADCs are 58 % of tile power (we check 50-65 %). */
    double adc_mw = 0;
    for (size_t i = 0; i < rep.n_rows; i++)
        if (rep.rows[i].level == IMC_LEVEL_TILE && rep.rows[i].inst == a->chip.tile.pe.adc)
            adc_mw = rep.rows[i].peak_power_mw;
    CU_ASSERT(adc_mw / rep.peak_power_mw[IMC_LEVEL_TILE] > 0.50);
    CU_ASSERT(adc_mw / rep.peak_power_mw[IMC_LEVEL_TILE] < 0.65);
    imc_arch_free(a);
}

/* Closed form: peak ops/s = 2 x xbars x rows x floor(cols / cells per weight) / (slices x
 * max(read, columns_per_adc / adc rate)). */
static void test_throughput_closed_form(void)
{
    const char *sets[] = {"chip.tile.pe.columns_per_adc=32", "chip.tile.pe.adc.rate=128 MS/s"};
    imc_arch *a = load_config("isaac.yaml", sets, 2);
    imc_hw_report rep;
    imc_hwreport_build(a, &rep);
    /* 32 conversions at 128 MS/s = 250 ns > 100 ns read: ADC-bound. */
    double xbars = 168.0 * 12 * 8;
    double want = 2 * xbars * 128 * (128 / 8) / (16 * 250e-9);
    /* Periods are whole picoseconds: 1 / 128 MS/s = 7812.5 ps runs as 7813 ps. */
    CU_ASSERT(within(rep.peak_ops_per_s, want, 1e-4));
    /* Four ADCs per crossbar now instead of one. */
    for (size_t i = 0; i < rep.n_rows; i++)
        if (rep.rows[i].level == IMC_LEVEL_PE && rep.rows[i].inst == a->chip.tile.pe.adc)
            CU_ASSERT_DOUBLE_EQUAL(rep.rows[i].count, 32, 0);
    /* The ADCs set the pace: a slice takes 32 x 7813 ps, so the crossbars (0.3 mW each when
     * reading every 100 ns), their DACs and S&Hs are priced at 100 / 250.016 of their own peak;
     * the ADCs at their own. */
    CU_ASSERT_EQUAL(rep.pace, IMC_COMP_ADC);
    CU_ASSERT_DOUBLE_EQUAL(rep.slice_ps, 32 * 7813.0, 0);
    for (size_t i = 0; i < rep.n_rows; i++) {
        const imc_hw_row *r = &rep.rows[i];
        if (r->level != IMC_LEVEL_PE)
            continue;
        if (r->comp == IMC_COMP_XBAR)
            CU_ASSERT(within(r->peak_power_mw, 8 * 0.3 * 100e3 / (32 * 7813.0), 1e-9));
        if (r->comp == IMC_COMP_ADC)
            CU_ASSERT(within(r->peak_power_mw, 32 * imc_model_peak_power_mw(r->inst), 1e-12));
    }
    imc_arch_free(a);
}

/* Levels nest: a tile's row is the PE row times PEs per tile; chip rows are tile rows times
 * tiles; a shared router counts 1/concentration per tile. */
static void test_levels_nest(void)
{
    imc_arch *a = load_config("isaac.yaml", NULL, 0);
    imc_hw_report rep;
    imc_hwreport_build(a, &rep);
    double pe_xbar = 0, tile_xbar = 0, chip_xbar = 0, tile_noc = 0, chip_noc = 0;
    for (size_t i = 0; i < rep.n_rows; i++) {
        const imc_hw_row *r = &rep.rows[i];
        if (r->inst == a->chip.tile.pe.xbar)
            *(r->level == IMC_LEVEL_PE ? &pe_xbar : r->level == IMC_LEVEL_TILE ? &tile_xbar
                                                                              : &chip_xbar) =
                r->count;
        if (r->inst == a->chip.noc)
            *(r->level == IMC_LEVEL_TILE ? &tile_noc : &chip_noc) = r->count;
    }
    CU_ASSERT_DOUBLE_EQUAL(pe_xbar, 8, 0);
    CU_ASSERT_DOUBLE_EQUAL(tile_xbar, 96, 0);
    CU_ASSERT_DOUBLE_EQUAL(chip_xbar, 16128, 0);
    CU_ASSERT_DOUBLE_EQUAL(tile_noc, 0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(chip_noc, 42, 0);
    imc_arch_free(a);
}

static void test_csv_sums_to_totals(void)
{
    imc_arch *a = load_config("reram.yaml", NULL, 0);
    imc_hw_report rep;
    imc_hwreport_build(a, &rep);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    imc_hwreport_csv(&rep, f);
    fclose(f);
    const char *header = "level,component,model,count,area_mm2,peak_power_mw,leakage_mw\n";
    CU_ASSERT_EQUAL(strncmp(buf, header, strlen(header)), 0);
    double sum_mw[IMC_LEVEL_COUNT] = {0}, total_mw[IMC_LEVEL_COUNT] = {0};
    double sum_leak[IMC_LEVEL_COUNT] = {0}, total_leak[IMC_LEVEL_COUNT] = {0};
    char *save = NULL;
    for (char *line = strtok_r(strchr(buf, '\n') + 1, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char level[16], comp[128];
        double mw, leak;
        int lv;
        if (sscanf(line, "%15[^,],%127[^,]", level, comp) != 2)
            continue;
        lv = !strcmp(level, "pe") ? 0 : !strcmp(level, "tile") ? 1 : 2;
        char *last = strrchr(line, ',');
        leak = strtod(last + 1, NULL);
        *last = '\0';
        mw = strtod(strrchr(line, ',') + 1, NULL);
        CU_ASSERT(leak >= 0 && leak <= mw);
        if (!strcmp(comp, "total")) {
            total_mw[lv] = mw;
            total_leak[lv] = leak;
        } else {
            sum_mw[lv] += mw;
            sum_leak[lv] += leak;
        }
    }
    for (int lv = 0; lv < IMC_LEVEL_COUNT; lv++) {
        CU_ASSERT(total_mw[lv] > 0);
        CU_ASSERT(within(sum_mw[lv], total_mw[lv], 1e-9));
        CU_ASSERT(total_leak[lv] > 0);
        CU_ASSERT(within(sum_leak[lv], total_leak[lv], 1e-9));
    }
    free(buf);
    imc_arch_free(a);
}

/* Leakage is reported apart from the dynamic part of peak power: a row's leakage is its count x
 * its model's, at full power whatever the pace (static power does not wait for work). reram.yaml
 * at chip level: 16384 ADCs x 0.9925 mW (10 % of the 22 nm 10-bit SAR's 10.71 pJ x 927.1 MS/s)
 * = 16.26 W; 2^21 DACs x 0.3906 uW x 0.737 (32 -> 22 nm power fit) = 0.603 W. isaac.yaml gives
 * every part's leakage as 0 (Table I's power includes it), so its only static power is the
 * HyperTransport PHY's constant 10.4 W. */
static void test_leakage_apart(void)
{
    imc_arch *a = load_config("reram.yaml", NULL, 0), *b = load_config("isaac.yaml", NULL, 0);
    imc_hw_report rep;
    imc_hwreport_build(a, &rep);
    const imc_pe *pe = &a->chip.tile.pe;
    double p22 = imc_tech_factor(IMC_TECH_POWER, 32e-9, 22e-9);
    int seen = 0;
    for (size_t i = 0; i < rep.n_rows; i++) {
        const imc_hw_row *r = &rep.rows[i];
        if (r->level != IMC_LEVEL_CHIP)
            continue;
        CU_ASSERT(within(r->leakage_mw, r->count * imc_model_leakage_mw(r->inst), 1e-12) ||
                  r->leakage_mw == 0);
        if (r->inst == pe->adc) {
            CU_ASSERT(within(r->leakage_mw, 16384 * 0.9925, 2e-4));
            double dyn = imc_model_peak_power_mw(pe->adc) - imc_model_leakage_mw(pe->adc);
            CU_ASSERT(within(r->peak_power_mw, r->count * dyn + r->leakage_mw, 1e-9));
            seen++;
        }
        if (r->inst == pe->dac) {
            CU_ASSERT(within(r->leakage_mw, 2097152 * 0.000390625 * p22, 1e-9));
            /* the DACs work 72.4 % of a slice (100 ns read / 138.1 ns ADC pace), leak 100 % */
            double dyn = imc_model_peak_power_mw(pe->dac) - imc_model_leakage_mw(pe->dac);
            double duty = 100e3 / (double)rep.slice_ps;
            CU_ASSERT(within(r->peak_power_mw, r->count * dyn * duty + r->leakage_mw, 1e-9));
            seen++;
        }
    }
    CU_ASSERT_EQUAL(seen, 2);
    imc_hwreport_build(b, &rep);
    CU_ASSERT(within(rep.leakage_mw[IMC_LEVEL_CHIP], 10.4e3, 1e-12));
    CU_ASSERT_EQUAL(rep.leakage_mw[IMC_LEVEL_TILE], 0);
    imc_arch_free(a);
    imc_arch_free(b);
}

/* Technology scaling (Stillmaker and Baas, Integration 58, 2017; models/techscale.c): --set
 * technology moves isaac.yaml's explicit figures, measured at the 32 nm the file states, to the
 * new node -- energy by the energy fit, area by the area factor, the ADC's rate by the delay fit
 * -- and says so in a note. */
static void test_isaac_follows_the_node(void)
{
    const char *sets[] = {"technology=65 nm"};
    imc_arch *a = load_config("isaac.yaml", sets, 1);
    const imc_instance *adc = a->chip.tile.pe.adc;
    double e = imc_tech_factor(IMC_TECH_ENERGY, 32e-9, 65e-9);
    double ar = imc_tech_factor(IMC_TECH_AREA, 32e-9, 65e-9);
    double d = imc_tech_factor(IMC_TECH_DELAY, 32e-9, 65e-9);
    CU_ASSERT(e > 3 && ar > 3 && d > 2); /* 65 nm is dearer, larger and slower than 32 nm */
    CU_ASSERT(within(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 1.5625 * e, 1e-9));
    CU_ASSERT(within(imc_model_area_um2(adc), 1200 * ar, 1e-9));
    CU_ASSERT(within((double)adc->period_ps, 1e12 / 1.28e9 * d, 1e-3));
    /* a crossbar is device physics: its explicit 30 pJ stays */
    CU_ASSERT(within(imc_model_cost(a->chip.tile.pe.xbar, IMC_XBAR_READ).energy_pj, 30, 1e-12));
    int noted = 0;
    for (size_t i = 0; i < a->n_notes; i++)
        noted |= strstr(a->notes[i], "chip.tile.pe.adc: rate, energy, area, leakage given at 32 nm") != NULL;
    CU_ASSERT(noted);
    imc_arch_free(a);
}

/* A default quoted at a node follows the run's node too: reram.yaml's DAC and S&H are ISAAC's
 * 32 nm figures. */
static void test_defaults_follow_the_node(void)
{
    const char *at32[] = {"technology=32 nm"}, *at65[] = {"technology=65 nm"};
    imc_arch *a = load_config("reram.yaml", at32, 1), *b = load_config("reram.yaml", at65, 1);
    double e = imc_tech_factor(IMC_TECH_ENERGY, 32e-9, 65e-9);
    /* ISAAC Table I at 32 nm, 4 mW / 1024 / 10 M/s, less PUMA's 10 % leakage: 0.3516 pJ */
    CU_ASSERT(within(imc_model_cost(a->chip.tile.pe.dac, IMC_DAC_CONVERT).energy_pj,
                     0.9 * 4e-3 / 1024 / 10e6 * 1e12, 1e-9));
    /* and that 10 %, 0.3906 uW at 32 nm, by Stillmaker and Baas's power fit at 65 nm; the S&H's
     * and shift-and-add's (numeric defaults, scaled by the loader) likewise */
    double p = imc_tech_factor(IMC_TECH_POWER, 32e-9, 65e-9);
    CU_ASSERT(within(imc_model_leakage_mw(a->chip.tile.pe.dac), 0.1 * 4.0 / 1024, 1e-9));
    CU_ASSERT(within(imc_model_leakage_mw(b->chip.tile.pe.dac), 0.1 * 4.0 / 1024 * p, 1e-9));
    CU_ASSERT(within(imc_model_leakage_mw(b->chip.tile.pe.sh),
                     imc_model_leakage_mw(a->chip.tile.pe.sh) * p, 1e-9));
    CU_ASSERT(within(imc_model_leakage_mw(b->chip.tile.pe.shiftadd),
                     imc_model_leakage_mw(a->chip.tile.pe.shiftadd) * p, 1e-9));
    CU_ASSERT(within(imc_model_cost(b->chip.tile.pe.dac, IMC_DAC_CONVERT).energy_pj,
                     imc_model_cost(a->chip.tile.pe.dac, IMC_DAC_CONVERT).energy_pj * e, 1e-9));
    CU_ASSERT(within(imc_model_cost(b->chip.tile.pe.sh, IMC_SH_SAMPLE).energy_pj,
                     imc_model_cost(a->chip.tile.pe.sh, IMC_SH_SAMPLE).energy_pj * e, 1e-9));
    /* the ADC's bit time follows the delay fit: 10 bits at 97.7 ps x the factor */
    double d = imc_tech_factor(IMC_TECH_DELAY, 32e-9, 65e-9);
    CU_ASSERT(within((double)imc_model_latency_ps(b->chip.tile.pe.adc, IMC_ADC_CONVERT),
                     10 * 781.25 / 8 * d, 1e-3));
    imc_arch_free(a);
    imc_arch_free(b);
}

/* An explicit cost measured for one size is refused, at its own file:line:col, when a later
 * layer changes the size: isaac.yaml's 8-bit ADC energy is no 6-bit ADC's. */
static void test_stale_explicit_cost_refused(void)
{
    const char *src = getenv("IMCSIM_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/arch-configs/isaac.yaml", src ? src : ".");
    const char *sets[] = {"chip.tile.pe.adc.bits=6"};
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_arch_load(&a, path, sets, 1, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.file, "isaac.yaml"));
    CU_ASSERT(err.line > 100); /* the adc's energy key, deep in the file */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.tile.pe.adc.energy: 1.5625 pJ"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sets chip.tile.pe.adc.bits to 6"));
    /* giving the energy for the new size too is accepted */
    const char *both[] = {"chip.tile.pe.adc.bits=6", "chip.tile.pe.adc.energy=1 pJ",
                          "chip.tile.pe.adc.area=627 um2", "chip.tile.pe.adc.rate=1.28 GS/s",
                          "chip.tile.pe.adc.leakage=0 W"};
    a = load_config("isaac.yaml", both, 5);
    CU_ASSERT(within(imc_model_cost(a->chip.tile.pe.adc, IMC_ADC_CONVERT).energy_pj, 1, 1e-12));
    imc_arch_free(a);
    /* a node outside the fits cannot be scaled to */
    const char *far[] = {"technology=5 nm"};
    CU_ASSERT_EQUAL(imc_arch_load(&a, path, far, 1, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "outside the 7-180 nm"));
}

/* The report prints how each derived cost came about: reram.yaml's crossbar read from the
 * physics, its ADC from the survey, its buffers from the CACTI fits and its routers from the
 * DSENT fits; isaac.yaml, all explicit, has no such section. */
static void test_assumptions_printed(void)
{
    imc_arch *a = load_config("reram.yaml", NULL, 0), *b = load_config("isaac.yaml", NULL, 0);
    imc_hw_report rep;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    imc_hwreport_build(a, &rep);
    imc_hwreport_print(a, &rep, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nassumptions behind derived costs:\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "  chip.tile.pe.xbar: read "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "x 0.5 input density x 128 cols"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "  chip.tile.pe.adc: convert "));
    /* the tile eDRAM's energy, leakage and area all derived; the global buffer's energy is
     * explicit (0.24 pJ/bit), so its line starts at the leakage */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "  chip.tile.buffer: read 9.58 pJ, write 9.58 pJ = CACTI 7 "
                                       "eDRAM fits"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "  chip.global_buffer: leakage "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "  chip.noc: router 2.144 pJ per flit = DSENT fit"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "10 % of its power static (PUMA's split of ISAAC's ADC)"));
    /* leakage is shown apart: a column of its own, here the ADCs' 10 % */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "of it leakage"));
    /* reram.yaml's 10-bit SAR is the slowest stage: the report names it */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "peak power at the pace of the slowest stage, "
                                       "chip.tile.pe.adc: "));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    imc_hwreport_build(b, &rep);
    imc_hwreport_print(b, &rep, f);
    fclose(f);
    CU_ASSERT_PTR_NULL(strstr(buf, "assumptions"));
    free(buf);
    imc_arch_free(a);
    imc_arch_free(b);
}

static CU_TestInfo tests[] = {
    {"ISAAC Table I and IV reproduced", test_isaac_reproduces_table_i_and_iv},
    {"throughput closed form, ADC-bound", test_throughput_closed_form},
    {"levels nest", test_levels_nest},
    {"CSV rows sum to the totals", test_csv_sums_to_totals},
    {"leakage reported apart, at full power", test_leakage_apart},
    {"derived costs print their assumptions", test_assumptions_printed},
    {"isaac.yaml's explicit figures follow --set technology", test_isaac_follows_the_node},
    {"defaults quoted at a node follow the run's node", test_defaults_follow_the_node},
    {"an explicit cost stale after --set of a size is refused", test_stale_explicit_cost_refused},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "hwreport"
#include "tests/unit/cunit_main.h"
