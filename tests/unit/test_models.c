/* test_models.c -- conformance of every registered component model, plus checks of specific
 * models against the numbers they are built from.
 *
 * The conformance tests loop over the registry, so a new model is covered the moment its line
 * is in models/local.mk: imc_model_check (ABI, name, kind, hooks), the parameter table,
 * kind-required keys, and an instance initialised in a realistic environment (ISAAC's: 1.2 GHz
 * clock, 32 nm, 10 M crossbar reads/s; crossbars get a default cell/reram) must give sane,
 * deterministic costs; a model with required parameters (a file to read) must refuse a default
 * instance cleanly instead. The numerics hooks must keep their promises: a device that says it
 * is exact programs, reads, converts and drives ideally. The specific tests pin values from
 * papers (ISAAC Table I, Shafiee et al. ISCA 2016; Kull et al. ISSCC 2013) and the error
 * messages of bad inputs. Every instance is freed (valgrind). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "models/buffer/cacti_tables.h"
#include "models/model.h"
#include "models/registry.h"
#include "models/techscale.h"
#include "sim/base/normal.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* An assertion whose failure names the model (CUnit copies the text). */
#define CHECK(m, cond) check_model((cond), (m)->name, #cond, __LINE__)
static void check_model(int ok, const char *name, const char *what, unsigned line)
{
    char text[512];
    snprintf(text, sizeof text, "%s: %s", name, what);
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, text, __FILE__, "", CU_FALSE);
}

/* Within REL of WANT (relative). */
static int near(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fabs(want);
}

/* ISAAC's environment (Shafiee et al., ISCA 2016; docs/SOURCES.md): 1.2 GHz digital clock, 32 nm, one crossbar
 * read per 100 ns. */
static imc_model_env isaac_env(const imc_instance *cell)
{
    return (imc_model_env){
        .clock_hz = 1.2e9, .technology_m = 32e-9, .cell = cell, .read_hz = 10e6};
}

static const imc_model *find(const char *name)
{
    const imc_model *m = imc_registry_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

static void set_real(imc_instance *inst, const char *key, double v)
{
    const imc_param *p = imc_model_param(inst->type, key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(p->type, IMC_PT_REAL);
    *(double *)((char *)inst + p->offset) = v;
}

static void set_int(imc_instance *inst, const char *key, int v)
{
    const imc_param *p = imc_model_param(inst->type, key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_NOT_EQUAL_FATAL(p->type, IMC_PT_REAL);
    *(int *)((char *)inst + p->offset) = v;
}

/* A default cell/reram, initialised in ISAAC's environment; crossbars are built on it. */
static imc_instance *new_cell(void)
{
    imc_instance *cell = imc_instance_new(find("cell/reram"), "test.cell");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cell);
    imc_model_env env = isaac_env(NULL);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(cell, &env, &err), 0);
    return cell;
}

/* A default instance of M, not yet initialised; *CELL gets a cell when M needs one. */
static imc_instance *new_instance(const imc_model *m, imc_instance **cell)
{
    *cell = m->kind == IMC_KIND_XBAR ? new_cell() : NULL;
    imc_instance *inst = imc_instance_new(m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(inst);
    return inst;
}

/* A default instance of the model NAME, initialised in ISAAC's environment. */
static imc_instance *ready(const char *name, imc_instance **cell)
{
    imc_instance *inst = new_instance(find(name), cell);
    imc_model_env env = isaac_env(*cell);
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_instance_init(inst, &env, &err);
    CHECK(inst->type, rc == 0);
    return inst;
}

static void release(imc_instance *inst, imc_instance *cell)
{
    imc_instance_free(inst);
    imc_instance_free(cell);
}

static size_t field_size(const imc_param *p)
{
    return p->type == IMC_PT_REAL ? sizeof(double) : p->type == IMC_PT_STRING ? sizeof(char *) : sizeof(int);
}

/* Does M need a parameter no default can give (a file to read)? */
static int needs_input(const imc_model *m)
{
    for (size_t j = 0; j < m->n_params; j++)
        if (m->params[j].flags & IMC_PF_REQUIRED)
            return 1;
    return 0;
}

/* Init of a default instance of M: 0 for a model that needs nothing; for one with required
 * parameters, a clean refusal that names the instance (its specific tests cover the rest). */
static int init_default(const imc_model *m, imc_instance *inst, imc_model_env *env)
{
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_instance_init(inst, env, &err);
    if (needs_input(m)) {
        CHECK(m, rc == IMC_EINPUT && strstr(err.msg, inst->path) != NULL);
        return -1;
    }
    CHECK(m, rc == 0);
    return rc;
}

/* ---- conformance: the type ---------------------------------------------------------------- */

static void test_registry_names(void)
{
    CU_ASSERT_FATAL(imc_registry_count() > 0);
    CU_ASSERT_PTR_NULL(imc_registry_at(imc_registry_count()));
    CU_ASSERT_PTR_NULL(imc_registry_find("adc/no-such-model"));
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CHECK(m, m->abi == IMC_MODEL_ABI);
        CHECK(m, m->kind < IMC_KIND_COUNT);
        const char *kind = imc_kind_name(m->kind);
        size_t k = strlen(kind);
        CHECK(m, strncmp(m->name, kind, k) == 0 && m->name[k] == '/' && m->name[k + 1] != '\0');
        CHECK(m, strchr(m->name + k + 1, '/') == NULL);
        CHECK(m, m->doc && m->doc[0] && !strchr(m->doc, '\n'));
        CHECK(m, m->instance_size >= sizeof(imc_instance));
        imc_err err;
        imc_err_clear(&err);
        CHECK(m, imc_model_check(m, &err) == 0);
        CHECK(m, imc_registry_find(m->name) == m);
        for (size_t j = 0; j < i; j++)
            CHECK(m, strcmp(imc_registry_at(j)->name, m->name) != 0);
    }
}

static void test_params(void)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        CHECK(m, m->params != NULL || m->n_params == 0);
        for (size_t j = 0; j < m->n_params; j++) {
            const imc_param *p = &m->params[j];
            CHECK(m, p->key && p->key[0]);
            CHECK(m, p->doc && p->doc[0] && !strchr(p->doc, '\n'));
            CHECK(m, p->type <= IMC_PT_STRING);
            CHECK(m, p->dim < IMC_DIM_COUNT);
            CHECK(m, p->type == IMC_PT_REAL || p->dim == IMC_DIM_NONE);
            CHECK(m, p->type != IMC_PT_ENUM || p->choices != NULL);
            CHECK(m, p->min <= p->max);
            CHECK(m, !((p->flags & IMC_PF_OPTIONAL) && (p->flags & IMC_PF_REQUIRED)));
            CHECK(m, p->offset >= sizeof(imc_instance));
            CHECK(m, p->offset + field_size(p) <= m->instance_size);
            if (!(p->flags & (IMC_PF_OPTIONAL | IMC_PF_REQUIRED))) {
                CHECK(m, p->def >= p->min && p->def <= p->max);
                CHECK(m, p->type == IMC_PT_REAL || p->def == floor(p->def));
            }
            for (size_t k = 0; k < j; k++) {
                CHECK(m, strcmp(m->params[k].key, p->key) != 0);
                /* no two parameters share a field */
                const imc_param *q = &m->params[k];
                CHECK(m, p->offset + field_size(p) <= q->offset ||
                             q->offset + field_size(q) <= p->offset);
            }
            CHECK(m, imc_model_param(m, p->key) == p);
        }
    }
}

static void test_required_params(void)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        const char *const *req = imc_kind_required_params(m->kind);
        CU_ASSERT_PTR_NOT_NULL_FATAL(req);
        for (; *req; req++) {
            const imc_param *p = imc_model_param(m, *req);
            CHECK(m, p != NULL);
            /* the core reads these by key: a default instance must have a value */
            if (p && !(p->flags & (IMC_PF_REQUIRED | IMC_PF_OPTIONAL))) {
                imc_instance *inst = imc_instance_new(m, NULL);
                CU_ASSERT_PTR_NOT_NULL_FATAL(inst);
                CHECK(m, isfinite(imc_instance_get(inst, *req)));
                imc_instance_free(inst);
            }
        }
    }
}

static void test_actions(void)
{
    for (int k = 0; k < IMC_KIND_COUNT; k++) {
        size_t n;
        const imc_action *a = imc_kind_actions((imc_kind)k, &n);
        CU_ASSERT(a != NULL && n > 0 && n <= IMC_ACTIONS_MAX);
        for (size_t j = 0; a && j < n; j++)
            CU_ASSERT(a[j].name && a[j].name[0] && a[j].doc && a[j].doc[0]);
    }
}

/* ---- conformance: instances --------------------------------------------------------------- */

/* Init succeeds and every answer is sane. */
static void check_instance(const imc_model *m, const imc_instance *inst)
{
    CHECK(m, inst->period_ps > 0);
    size_t n_actions;
    imc_kind_actions(m->kind, &n_actions);
    for (unsigned a = 0; a < n_actions; a++) {
        imc_cost c = imc_model_cost(inst, a);
        CHECK(m, isfinite(c.energy_pj) && c.energy_pj >= 0);
        CHECK(m, c.cycles >= 1);
        CHECK(m, imc_model_latency_ps(inst, a) == (uint64_t)c.cycles * inst->period_ps);
    }
    double area = imc_model_area_um2(inst), leak = imc_model_leakage_mw(inst);
    double peak = imc_model_peak_power_mw(inst);
    CHECK(m, isfinite(area) && area >= 0);
    CHECK(m, isfinite(leak) && leak >= 0);
    CHECK(m, isfinite(peak) && peak >= leak);
}

static void test_instances(void)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        imc_instance *cell;
        imc_instance *inst = new_instance(m, &cell);
        CHECK(m, strcmp(inst->path, m->name) == 0 && inst->type == m);
        imc_model_env env = isaac_env(cell);
        if (init_default(m, inst, &env) == 0)
            check_instance(m, inst);
        release(inst, cell);
    }
}

/* Two instances with the same parameters and environment answer bit for bit the same. */
static void test_deterministic(void)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        imc_instance *cell_a, *cell_b;
        imc_instance *a = new_instance(m, &cell_a), *b = new_instance(m, &cell_b);
        imc_model_env env_a = isaac_env(cell_a), env_b = isaac_env(cell_b);
        int ok = init_default(m, a, &env_a) == 0 && init_default(m, b, &env_b) == 0;
        if (ok) {
            CHECK(m, a->period_ps == b->period_ps);
            size_t n_actions;
            imc_kind_actions(m->kind, &n_actions);
            for (unsigned k = 0; k < n_actions; k++) {
                imc_cost ca = imc_model_cost(a, k), cb = imc_model_cost(b, k);
                CHECK(m, ca.energy_pj == cb.energy_pj && ca.cycles == cb.cycles);
                /* asking twice changes nothing */
                CHECK(m, imc_model_cost(a, k).energy_pj == ca.energy_pj);
            }
            CHECK(m, imc_model_area_um2(a) == imc_model_area_um2(b));
            CHECK(m, imc_model_leakage_mw(a) == imc_model_leakage_mw(b));
            CHECK(m, imc_model_peak_power_mw(a) == imc_model_peak_power_mw(b));
        }
        release(a, cell_a);
        release(b, cell_b);
    }
}

/* Every numeric parameter at its minimum, then at its maximum (optional ones left unset):
 * init either succeeds with sane answers or refuses with IMC_EINPUT and a message naming the
 * instance -- never a NaN, a zero period or a crash. */
static void extremes(int at_max)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        imc_instance *cell;
        imc_instance *inst = new_instance(m, &cell);
        for (size_t j = 0; j < m->n_params; j++) {
            const imc_param *p = &m->params[j];
            if (p->flags & (IMC_PF_OPTIONAL | IMC_PF_REQUIRED) || p->type == IMC_PT_ENUM ||
                p->type == IMC_PT_STRING)
                continue;
            double v = at_max ? p->max : p->min;
            if (p->type == IMC_PT_REAL)
                set_real(inst, p->key, v);
            else
                set_int(inst, p->key, (int)v);
        }
        imc_model_env env = isaac_env(cell);
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_instance_init(inst, &env, &err);
        CHECK(m, rc == 0 || (rc == IMC_EINPUT && strstr(err.msg, m->name) != NULL));
        if (rc == 0)
            check_instance(m, inst);
        release(inst, cell);
    }
}

static void test_params_at_min(void)
{
    extremes(0);
}

static void test_params_at_max(void)
{
    extremes(1);
}

/* ---- cell/reram ----------------------------------------------------------------------------- */

static void test_cell_rejects_roff_not_above_ron(void)
{
    static const double roff[] = {6e3, 3e3}; /* equal to ron, then below it */
    for (size_t i = 0; i < 2; i++) {
        imc_instance *cell = imc_instance_new(find("cell/reram"), "chip.tile.pe.xbar.cell");
        CU_ASSERT_PTR_NOT_NULL_FATAL(cell);
        set_real(cell, "ron", 6e3);
        set_real(cell, "roff", roff[i]);
        imc_model_env env = isaac_env(NULL);
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_instance_init(cell, &env, &err), IMC_EINPUT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.tile.pe.xbar.cell"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "roff ("));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "must exceed ron (6 kohm)"));
        imc_instance_free(cell);
    }
}

/* V^2 x mean level conductance x pulse: NeuroSim V1.3 defaults, 0.5 V, 10 ns, levels between
 * 1/900 kohm and 1/6 kohm (their mean is the midpoint). */
static void test_cell_read_energy(void)
{
    imc_instance *cell = new_cell();
    double g_mean = (1 / 900e3 + 1 / 6e3) / 2;
    double want_pj = 0.5 * 0.5 * g_mean * 10e-9 * 1e12;
    imc_cost c = imc_model_cost(cell, IMC_CELL_READ);
    CU_ASSERT_DOUBLE_EQUAL(c.energy_pj, want_pj, want_pj * 1e-12);
    CU_ASSERT_EQUAL(c.cycles, imc_cycles_for(10e-9, cell->period_ps));
    /* 4 F^2 at 32 nm */
    CU_ASSERT_DOUBLE_EQUAL(imc_model_area_um2(cell), 4 * 0.032 * 0.032, 1e-12);
    imc_instance_free(cell);
}

/* ---- adc/sar -------------------------------------------------------------------------------- */

/* Murmann's ADC Performance Survey (adc_survey.h): the envelope of single-channel SAR designs
 * is 24.8 fJ per conversion step at 1 GS/s (at their 35.5 nm) and 5.73 fJ at 100 MS/s (20.8 nm);
 * a conversion costs it x 2^bits (Walden), scaled to 32 nm by Stillmaker and Baas. At ISAAC's
 * bit time (97.7 ps) a SAR of 4 to 10 bits converts at 1 to 2.6 GS/s: the 1 GS/s envelope,
 * held above it, doubling per bit. That is the power at the rate over the rate, static power
 * included: 10 % of the power is leakage (PUMA: 0.2 of ISAAC's 2 mW ADC), 90 % per conversion.
 * By hand, 8 bits at 32 nm: 24.811 fJ x 256 x 0.8246 (35.5 -> 32 nm) = 5.238 pJ at 1.28 GS/s =
 * 6.704 mW, so 4.714 pJ per conversion and 0.6704 mW leakage. */
static void test_sar_energy_from_the_survey(void)
{
    double e_1g = imc_tech_factor(IMC_TECH_ENERGY, 35.5e-9, 32e-9);
    for (int bits = 4; bits <= 10; bits++) {
        imc_instance *adc = imc_instance_new(find("adc/sar"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
        set_int(adc, "bits", bits);
        imc_model_env env = isaac_env(NULL);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
        double e = imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj;
        double whole = 24.811e-3 * ldexp(1, bits) * e_1g, rate = 1 / (bits * 781.25e-12 / 8);
        CU_ASSERT_DOUBLE_EQUAL(e, 0.9 * whole, 1e-9 * whole);
        CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0.1 * whole * 1e-12 * rate * 1e3,
                               1e-9 * whole);
        /* busy at its full rate it draws the survey's power: 90 % + 10 % */
        CU_ASSERT_DOUBLE_EQUAL(imc_model_peak_power_mw(adc), whole * 1e-12 * rate * 1e3,
                               1e-9 * whole);
        if (bits == 8) {
            CU_ASSERT_DOUBLE_EQUAL(e, 4.714, 1e-3);
            CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0.6704, 1e-4);
        }
        imc_instance_free(adc);
    }
    /* at 100 MS/s (bit_time 1.25 ns x 8 bits): the 100 MS/s row, at its 20.8 nm */
    imc_instance *adc = imc_instance_new(find("adc/sar"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
    set_real(adc, "bit_time", 1.25e-9);
    imc_model_env env = isaac_env(NULL);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    double want = 0.9 * 5.729e-3 * 256 * imc_tech_factor(IMC_TECH_ENERGY, 20.8e-9, 32e-9);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, want, 1e-9 * want);
    /* at 316 MS/s, half a decade up (log-geometric): sqrt(5.729 x 24.811) fJ */
    set_real(adc, "bit_time", 1 / (8 * 1e8 * sqrt(10)));
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    want = 0.9 * sqrt(5.729e-3 * 24.811e-3) * 256 *
           imc_tech_factor(IMC_TECH_ENERGY, sqrt(20.8e-9 * 35.5e-9), 32e-9);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, want, 1e-6 * want);
    imc_instance_free(adc);
}

/* A SAR decides one bit per internal cycle: a conversion takes bits x bit_time (ISAAC's 8 bits
 * at 1.28 GS/s: 97.7 ps per bit), unless the rate is given. */
static void test_sar_conversion_time_per_bit(void)
{
    for (int bits = 4; bits <= 12; bits += 2) {
        imc_instance *adc = imc_instance_new(find("adc/sar"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
        set_int(adc, "bits", bits);
        imc_model_env env = isaac_env(NULL);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
        CU_ASSERT_EQUAL(imc_model_latency_ps(adc, IMC_ADC_CONVERT),
                        imc_period_ps(1 / (bits * 1e-12 * 781.25 / 8)));
        set_real(adc, "rate", 1e9); /* a given rate wins */
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
        CU_ASSERT_EQUAL(imc_model_latency_ps(adc, IMC_ADC_CONVERT), 1000);
        imc_instance_free(adc);
    }
}

static void test_sar_explicit_energy_and_fom(void)
{
    imc_model_env env = isaac_env(NULL);
    imc_instance *adc = imc_instance_new(find("adc/sar"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
    set_real(adc, "energy", 2.5e-12);
    set_real(adc, "fom", 33.8e-15); /* energy takes precedence */
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    /* an explicit energy is dynamic only, kept whole; the default leakage is the 10 % of the
     * total it implies: 10/90 x 2.5 pJ x 1.28 GS/s (8 bits x 97.66 ps) = 0.3556 mW */
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0.35556, 1e-5);
    /* a given leakage is kept, and the energy too */
    set_real(adc, "leakage", 0.0);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0, 0);
    imc_instance_free(adc);

    /* Kull et al. ISSCC 2013 (ISAAC's ADC): 33.8 fJ per conversion step; at ENOB 6: 2^6 steps,
     * 2.163 pJ of power over rate: 90 % per conversion, 10 % x 1.28 GS/s = 0.2769 mW leakage */
    adc = imc_instance_new(find("adc/sar"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
    set_real(adc, "fom", 33.8e-15);
    set_real(adc, "enob", 6);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 0.9 * 33.8e-3 * 64,
                           1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0.27689, 1e-5);
    /* with leakage given, the FOM's energy is kept whole */
    set_real(adc, "leakage", 1e-4);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 33.8e-3 * 64, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0.1, 1e-12);
    imc_instance_free(adc);
}

/* ---- adc/flash ------------------------------------------------------------------------------ */

static void test_flash_comparators(void)
{
    imc_model_env env = isaac_env(NULL);
    for (int bits = 1; bits <= 8; bits++) {
        imc_instance *adc = imc_instance_new(find("adc/flash"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
        set_int(adc, "bits", bits);
        set_real(adc, "comparator_energy", 10e-15);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
        double want_pj = ((1 << bits) - 1) * 10e-3; /* 2^bits - 1 comparators x 10 fJ */
        CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, want_pj, 1e-12);
        imc_instance_free(adc);
    }
}

/* By default a flash ADC costs the survey's flash envelope at its rate x 2^bits: at ISAAC's
 * 1.28 GS/s, between the 1 GS/s (125.8 fJ, 61.6 nm) and 10 GS/s (312.1 fJ, 38.8 nm) decades,
 * doubling with every bit as its comparators do. */
static void test_flash_energy_from_the_survey(void)
{
    imc_model_env env = isaac_env(NULL);
    double t = log10(1.28);
    double fom = 125.758e-3 * pow(312.084 / 125.758, t), node = 61.6e-9 * pow(38.8 / 61.6, t);
    for (int bits = 2; bits <= 8; bits++) {
        imc_instance *adc = imc_instance_new(find("adc/flash"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
        set_int(adc, "bits", bits);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
        double whole = fom * ldexp(1, bits) * imc_tech_factor(IMC_TECH_ENERGY, node, 32e-9);
        /* 90 % per conversion, 10 % of the power at 1.28 GS/s static (PUMA's split) */
        CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 0.9 * whole,
                               1e-9 * whole);
        CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(adc), 0.1 * whole * 1.28e9 * 1e-9,
                               1e-9 * whole);
        imc_instance_free(adc);
    }
}

/* ---- xbar/reram ----------------------------------------------------------------------------- */

static void test_xbar_costs_from_cell(void)
{
    static const int shapes[][2] = {{128, 128}, {64, 32}, {256, 8}};
    for (size_t i = 0; i < 3; i++) {
        imc_instance *cell = new_cell();
        imc_instance *x = imc_instance_new(find("xbar/reram"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(x);
        set_int(x, "rows", shapes[i][0]);
        set_int(x, "cols", shapes[i][1]);
        imc_model_env env = isaac_env(cell);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(x, &env, NULL), 0);
        double cells = shapes[i][0] * shapes[i][1];
        imc_cost read = imc_model_cost(cell, IMC_CELL_READ);
        imc_cost write = imc_model_cost(cell, IMC_CELL_WRITE);
        /* half the rows driven (the default input density), each conducting through its cols
         * cells and charging its wordline: cols x 2F (4F^2 cell at 32 nm) x 0.2 fF/um x V^2 */
        double c_wl = shapes[i][1] * 0.064 * 0.2e-15;
        double want = 0.5 * cells * read.energy_pj + 0.5 * shapes[i][0] * c_wl * 0.25 * 1e12;
        CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(x, IMC_XBAR_READ).energy_pj, want, want * 1e-9);
        CU_ASSERT_PTR_NOT_NULL(strstr(x->assumptions, "0.5 input density"));
        want = shapes[i][1] * write.energy_pj;
        CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(x, IMC_XBAR_WRITE_ROW).energy_pj, want,
                               want * 1e-12);
        want = cells * imc_model_area_um2(cell);
        CU_ASSERT_DOUBLE_EQUAL(imc_model_area_um2(x), want, want * 1e-12);
        /* ISAAC's 100 ns read cycle in 1.2 GHz clock cycles */
        CU_ASSERT_EQUAL(imc_model_cost(x, IMC_XBAR_READ).cycles, imc_cycles_for(100e-9, x->period_ps));
        release(x, cell);
    }
}

/* The read energy follows the physics: the driven fraction of rows (input_density: 0 draws
 * nothing, 1 twice the default 0.5), the read voltage squared, the pulse; a wire whose RC
 * exceeds the pulse is refused; an explicit read_energy has no derivation to print. */
static void test_xbar_read_physics(void)
{
    double e[3];
    static const double density[] = {0, 0.5, 1};
    for (int k = 0; k < 3; k++) {
        imc_instance *cell = new_cell();
        imc_instance *x = imc_instance_new(find("xbar/reram"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(x);
        set_real(x, "input_density", density[k]);
        imc_model_env env = isaac_env(cell);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(x, &env, NULL), 0);
        e[k] = imc_model_cost(x, IMC_XBAR_READ).energy_pj;
        release(x, cell);
    }
    CU_ASSERT_DOUBLE_EQUAL(e[0], 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(e[2], 2 * e[1], 1e-12 * e[2]);
    /* V^2: a 0.25 V read costs a quarter of a 0.5 V one (wordlines included) */
    double ev[2];
    static const double volts[] = {0.5, 0.25};
    for (int k = 0; k < 2; k++) {
        imc_instance *cell = imc_instance_new(find("cell/reram"), "c");
        set_real(cell, "read_voltage", volts[k]);
        imc_model_env env = isaac_env(NULL);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(cell, &env, NULL), 0);
        imc_instance *x = imc_instance_new(find("xbar/reram"), NULL);
        env = isaac_env(cell);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(x, &env, NULL), 0);
        ev[k] = imc_model_cost(x, IMC_XBAR_READ).energy_pj;
        release(x, cell);
    }
    CU_ASSERT_DOUBLE_EQUAL(ev[1], ev[0] / 4, 1e-12 * ev[0]);
    /* a resistive wire: 1 Mohm/um over 128 x 64 nm gives an RC far above the 10 ns pulse */
    imc_instance *cell = new_cell();
    imc_instance *x = imc_instance_new(find("xbar/reram"), "chip.tile.pe.xbar");
    set_real(x, "wire_res_ohm_per_um", 1e6);
    imc_model_env env = isaac_env(cell);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_instance_init(x, &env, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.tile.pe.xbar: the cell's read pulse"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "shorter than 2.2 x the wire RC"));
    /* explicit: no derivation */
    set_real(x, "wire_res_ohm_per_um", NAN);
    set_real(x, "read_energy", 30e-12);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(x, &env, NULL), 0);
    CU_ASSERT_STRING_EQUAL(x->assumptions, "");
    release(x, cell);
}

/* ISAAC Table I: 8 crossbars of an IMA read every 100 ns for 2.4 mW in all. An explicit
 * read_energy of 2.4 mW x 100 ns / 8 = 30 pJ must give 0.3 mW per crossbar. */
static void test_xbar_explicit_read_energy(void)
{
    imc_instance *cell = new_cell();
    imc_instance *x = imc_instance_new(find("xbar/reram"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    set_real(x, "read_energy", 2.4e-3 * 100e-9 / 8);
    imc_model_env env = isaac_env(cell);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(x, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(x, IMC_XBAR_READ).energy_pj, 30, 1e-9);
    CU_ASSERT(near(imc_model_peak_power_mw(x), 0.3, 1e-9));
    release(x, cell);
}

static void test_xbar_needs_cell(void)
{
    imc_instance *x = imc_instance_new(find("xbar/reram"), "chip.tile.pe.xbar");
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    imc_model_env env = isaac_env(NULL);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_instance_init(x, &env, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.tile.pe.xbar: a crossbar needs a cell model"));
    imc_instance_free(x);
}

/* ---- DAC and S&H run at the crossbar read rate -------------------------------------------- */

static void test_read_rate_required(void)
{
    static const char *const names[] = {"dac/simple", "sh/simple"};
    for (size_t i = 0; i < 2; i++) {
        imc_instance *inst = imc_instance_new(find(names[i]), "chip.tile.pe.x");
        CU_ASSERT_PTR_NOT_NULL_FATAL(inst);
        imc_model_env env = isaac_env(NULL);
        env.read_hz = 0;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_instance_init(inst, &env, &err), IMC_EINPUT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.tile.pe.x: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "read_hz"));
        imc_instance_free(inst);
    }
}

/* ---- ISAAC Table I per-instance peak powers (Shafiee et al., ISCA 2016; 32 nm, 1.2 GHz,
 * 10 M crossbar reads/s). Power in Table I is the total of the listed count. ------------- */

static double default_peak(const char *name)
{
    imc_instance *cell;
    imc_instance *inst = ready(name, &cell);
    double mw = imc_model_peak_power_mw(inst);
    release(inst, cell);
    return mw;
}

static void test_isaac_peak_powers(void)
{
    /* 8 x 128 1-bit DACs per IMA: 4 mW in all (1 %) */
    CU_ASSERT(near(default_peak("dac/simple") * 1024, 4.0, 0.01));
    /* 8 x 128 sample & holds per IMA: 10 uW in all (1 %) */
    CU_ASSERT(near(default_peak("sh/simple") * 1024, 0.010, 0.01));
    /* 4 shift & add units per IMA: 0.2 mW in all, 0.05 mW each (1 %) */
    CU_ASSERT(near(default_peak("shiftadd/simple"), 0.05, 0.01));
    /* eDRAM-to-IMA bus, 384 wires: 7 mW (1 %) */
    CU_ASSERT(near(default_peak("noc/bus"), 7.0, 0.01));
}

/* ---- noc/mesh from DSENT (models/noc/dsent_tables.h) ------------------------------------- */

/* ISAAC's router shape (8 ports, 32-bit flits) at 32 nm from the fits of the 25 DSENT rows,
 * computed apart from the model (Python, from the header's rows): energy 6.98201e-14
 * ports^0.180763 flit^0.911228 J = 2.39199 pJ per flit (DSENT's own run: 2.37907), plus the
 * 1 mm link, 2.07333 pJ / 64 x 32 = 1.036665 pJ: 3.428655 pJ per hop; leakage 6.1346e-5
 * ports^1.091226 flit^0.944125 W = 15.6427 mW (15.6244); area 7.21131e-11 ports^1.197063
 * flit^1.086638 m2 = 0.0375510 mm2 (0.034904). Peak: 8 ports x 1.2 GHz x 3.428655 pJ + leakage
 * = 32.915 + 15.643 mW. */
static void test_mesh_from_dsent(void)
{
    imc_instance *cell;
    imc_instance *m = ready("noc/mesh", &cell);
    CU_ASSERT(near(imc_model_cost(m, IMC_NOC_FLIT_HOP).energy_pj, 2.39199 + 1.036665, 1e-4));
    CU_ASSERT(near(imc_model_leakage_mw(m), 15.6427, 1e-4));
    CU_ASSERT(near(imc_model_area_um2(m), 37551.0, 1e-4));
    CU_ASSERT(near(imc_model_peak_power_mw(m), 8 * 1.2e9 * 3.428655e-12 * 1e3 + 15.6427, 1e-4));
    CU_ASSERT_PTR_NOT_NULL(strstr(m->assumptions, "router 2.392 pJ per flit = DSENT fit"));
    release(m, cell);

    /* twice the link, explicit router energy: only the link part is derived */
    m = imc_instance_new(find("noc/mesh"), "chip.noc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    set_real(m, "link_length", 2e-3);
    set_real(m, "router_energy", 4.375e-12); /* ISAAC: 42 mW / (8 x 1.2 GHz) */
    set_real(m, "leakage", 0);
    imc_model_env env = isaac_env(NULL);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(m, &env, NULL), 0);
    CU_ASSERT(near(imc_model_cost(m, IMC_NOC_FLIT_HOP).energy_pj, 4.375 + 2 * 1.036665, 1e-6));
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(m), 0, 0);
    imc_instance_free(m);
}

/* A flit wider than DSENT's runs (256 bits) is switched by router slices inside them: 512 bits
 * on 8 ports are two 256-bit routers. Expected from the fits at (8, 256), computed apart from
 * the model (numpy least squares over the header's rows): 2 x 15.910384 pJ per flit plus the
 * 1 mm link of 512 bits, 16.58664 pJ; leakage 2 x 111.41409 mW; area 2 x 0.35971077 mm2 (DSENT's
 * own 8-port 256-bit row: 16.2668 pJ, 112.463 mW, 0.430 mm2). Ports or flits outside the runs
 * are refused while a cost comes from the fits, and accepted once all three are given. */
static void test_mesh_wide_flits_and_range(void)
{
    imc_model_env env = isaac_env(NULL);
    imc_err err;
    imc_instance *m = imc_instance_new(find("noc/mesh"), "chip.noc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    set_real(m, "flit_width", 512);
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(m, &env, &err), 0);
    CU_ASSERT(near(imc_model_cost(m, IMC_NOC_FLIT_HOP).energy_pj, 31.820769 + 16.58664, 1e-5));
    CU_ASSERT(near(imc_model_leakage_mw(m), 222.82819, 1e-5));
    CU_ASSERT(near(imc_model_area_um2(m), 719421.5, 1e-5));
    CU_ASSERT_PTR_NOT_NULL(strstr(m->assumptions, "512-bit flit = 2 router slices of 256 bit"));
    imc_instance_free(m);

    m = imc_instance_new(find("noc/mesh"), "chip.noc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    set_int(m, "ports", 12);
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_instance_init(m, &env, &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "chip.noc.ports: 12 is outside the DSENT runs the default "
                                    "router costs are fitted to (3-8 ports); give router_energy, "
                                    "leakage and area");
    set_real(m, "router_energy", 5e-12);
    set_real(m, "leakage", 0.02);
    set_real(m, "area", 0.1e-6);
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_instance_init(m, &env, &err), 0);
    imc_instance_free(m);

    m = imc_instance_new(find("noc/mesh"), "chip.noc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    set_real(m, "flit_width", 8);
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_instance_init(m, &env, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.noc.flit_width: 8 bit is narrower than the DSENT"));
    imc_instance_free(m);
}

/* ---- buffers from CACTI 7 (models/buffer/cacti_tables.h) ---------------------------------- */

/* The fit is ordinary least squares in logs: rows made from y = 2e-3 w^0.5 C^0.25 exactly give
 * that law back (a table independent of CACTI). */
static void test_cacti_fit_recovers_a_law(void)
{
    imc_cacti_row rows[12];
    size_t n = 0;
    for (int w = 64; w <= 512; w *= 2)
        for (double bytes = 1024; bytes <= 16384; bytes *= 4) {
            double c = bytes * 8, y = 2e-3 * sqrt(w) * pow(c, 0.25);
            rows[n++] = (imc_cacti_row){bytes, w, y, 2 * y, 3 * y, 4 * y};
        }
    imc_cacti_law r = imc_cacti_fit(rows, n, IMC_CACTI_READ);
    CU_ASSERT(near(r.k, 2e-3, 1e-9));
    CU_ASSERT_DOUBLE_EQUAL(r.a, 0.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.b, 0.25, 1e-9);
    imc_cacti_law a = imc_cacti_fit(rows, n, IMC_CACTI_AREA);
    CU_ASSERT(near(a.k, 8e-3, 1e-9));
    CU_ASSERT(near(imc_cacti_eval(a, 128, 4096), 4 * 2e-3 * sqrt(128) * pow(4096, 0.25), 1e-9));
}

static imc_instance *buffer_at(const char *model, double bytes, int banks, double width,
                               double node_m)
{
    imc_instance *b = imc_instance_new(find(model), "chip.tile.buffer");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    set_real(b, "capacity", bytes * 8);
    set_int(b, "banks", banks);
    set_real(b, "width", width);
    imc_model_env env = isaac_env(NULL);
    env.technology_m = node_m;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(b, &env, &err), 0);
    return b;
}

/* A 64 KB SRAM, one bank, 256 bit, at 32 nm. The least-squares fits of the 55 SRAM rows of
 * cacti_tables.h, computed apart from the model (Python, from the header's rows): read
 * 3.79253e-4 w^0.733545 C^0.536496 pJ, write 5.33687e-4 w^0.911545 C^0.458898 pJ, leakage
 * 1.38896e-4 w^-0.006820 C^0.963811 mW, area 2.27941e-7 w^0.197467 C^0.936415 mm2. At w = 256,
 * C = 524288 bit: read 25.9424 pJ (CACTI's own run: 27.84), write 35.2538 pJ (32.82), leakage
 * 43.5359 mW (39.84), area 0.154619 mm2 (0.1144). Peak: one bank at 1.2 GHz x 35.2538 pJ =
 * 42.30 mW + leakage. */
static void test_sram_from_cacti(void)
{
    imc_instance *b = buffer_at("buffer/sram", 65536, 1, 256, 32e-9);
    CU_ASSERT(near(imc_model_cost(b, IMC_BUFFER_READ).energy_pj, 25.9424, 1e-4));
    CU_ASSERT(near(imc_model_cost(b, IMC_BUFFER_WRITE).energy_pj, 35.2538, 1e-4));
    CU_ASSERT(near(imc_model_leakage_mw(b), 43.5359, 1e-4));
    CU_ASSERT(near(imc_model_area_um2(b), 154619, 1e-4));
    CU_ASSERT(near(imc_model_peak_power_mw(b), 35.2538e-12 * 1.2e9 * 1e3 + 43.5359, 1e-4));
    CU_ASSERT_PTR_NOT_NULL(strstr(b->assumptions, "CACTI 7 SRAM fits"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b->assumptions, "leakage 43.54 mW"));
    imc_instance_free(b);
}

/* The bank, not the buffer, sets the access energy: 2 MiB in 8 banks of 256 KiB (C = 2097152 bit
 * per bank) reads for 3.79253e-4 x 256^0.733545 x 2097152^0.536496 = 54.5774 pJ, one bank of
 * 2 MiB for 166.539 pJ; leakage and area are 8 banks' worth: 8 x 165.62 = 1324.98 mW and
 * 8 x 0.566294 = 4.53035 mm2. */
static void test_sram_banks(void)
{
    imc_instance *b8 = buffer_at("buffer/sram", 2097152, 8, 256, 32e-9);
    imc_instance *b1 = buffer_at("buffer/sram", 2097152, 1, 256, 32e-9);
    CU_ASSERT(near(imc_model_cost(b8, IMC_BUFFER_READ).energy_pj, 54.5774, 1e-4));
    CU_ASSERT(near(imc_model_cost(b1, IMC_BUFFER_READ).energy_pj, 166.539, 1e-4));
    CU_ASSERT(near(imc_model_leakage_mw(b8), 1324.98, 1e-4));
    CU_ASSERT(near(imc_model_area_um2(b8), 4.53035e6, 1e-4));
    imc_instance_free(b8);
    imc_instance_free(b1);
}

/* At 22 nm the fit's energies scale by Stillmaker and Baas's energy factor (0.519), leakage by
 * their power factor (0.737), area by their area factor (0.535). */
static void test_buffer_follows_the_node(void)
{
    imc_instance *a = buffer_at("buffer/sram", 65536, 1, 256, 32e-9);
    imc_instance *b = buffer_at("buffer/sram", 65536, 1, 256, 22e-9);
    CU_ASSERT(near(imc_tech_factor(IMC_TECH_ENERGY, 32e-9, 22e-9), 0.519, 0.002));
    CU_ASSERT(near(imc_model_cost(b, IMC_BUFFER_READ).energy_pj,
                   25.9424 * imc_tech_factor(IMC_TECH_ENERGY, 32e-9, 22e-9), 1e-4));
    CU_ASSERT(near(imc_model_leakage_mw(b),
                   43.5359 * imc_tech_factor(IMC_TECH_POWER, 32e-9, 22e-9), 1e-4));
    CU_ASSERT(near(imc_model_area_um2(b),
                   154619 * imc_tech_factor(IMC_TECH_AREA, 32e-9, 22e-9), 1e-4));
    imc_instance_free(a);
    imc_instance_free(b);
}

/* Explicit keys win over the fit, each its own figure: energy_per_bit x width, read_energy,
 * leakage, bit_area_f2 x F^2. */
static void test_buffer_explicit_keys(void)
{
    imc_instance *b = imc_instance_new(find("buffer/sram"), "chip.global_buffer");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    set_real(b, "energy_per_bit", 0.24e-12); /* reram.yaml's global buffer: 0.24 pJ/bit */
    set_real(b, "read_energy", 10e-12);
    set_real(b, "leakage", 0);
    set_real(b, "bit_area_f2", 280);
    imc_model_env env = isaac_env(NULL);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(b, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(b, IMC_BUFFER_READ).energy_pj, 10, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(b, IMC_BUFFER_WRITE).energy_pj, 0.24 * 256, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(b), 0, 0);
    /* 64 KB x 280 F^2 at 32 nm: 524288 x 280 x 0.032^2 um2 */
    CU_ASSERT(near(imc_model_area_um2(b), 524288 * 280 * 0.032 * 0.032, 1e-12));
    CU_ASSERT_EQUAL(b->assumptions[0], '\0'); /* nothing derived, nothing to report */
    imc_instance_free(b);
}

/* ISAAC's tile eDRAM (64 KB, 2 banks, 256 bit) at 32 nm from the 40 lp-dram rows: read
 * 7.0297e-4 x 256^0.765081 x 262144^0.475552 = 18.4601 pJ, a write the same (the table's write
 * column is not used), leakage 2 x 2.68192 = 5.36384 mW, area 2 x 0.0370812 = 0.0741623 mm2.
 * ISAAC's Table I (CACTI 6.5): 20.7 mW in all at 2 x 1.2 G accesses/s, 0.083 mm2. */
static void test_edram_from_cacti(void)
{
    imc_instance *b = buffer_at("buffer/edram", 65536, 2, 256, 32e-9);
    CU_ASSERT(near(imc_model_cost(b, IMC_BUFFER_READ).energy_pj, 18.4601, 1e-4));
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(b, IMC_BUFFER_WRITE).energy_pj,
                           imc_model_cost(b, IMC_BUFFER_READ).energy_pj, 0);
    CU_ASSERT(near(imc_model_leakage_mw(b), 5.36384, 1e-4));
    CU_ASSERT(near(imc_model_area_um2(b), 74162.3, 1e-4));
    /* 2 banks, each one access per 1.2 GHz cycle, + leakage */
    CU_ASSERT(near(imc_model_peak_power_mw(b), 2 * 18.4601e-12 * 1.2e9 * 1e3 + 5.36384, 1e-4));
    imc_instance_free(b);
}

static void test_buffer_width_exceeds_bank(void)
{
    imc_instance *b = imc_instance_new(find("buffer/sram"), "chip.tile.buffer");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    set_real(b, "capacity", 1024);
    set_int(b, "banks", 8);
    set_real(b, "width", 256); /* 1024 bit / 8 banks = 128 bit per bank */
    imc_model_env env = isaac_env(NULL);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_instance_init(b, &env, &err), IMC_EINPUT);
    /* sizes are printed the way sim/base/units.c formats them: 256 bit = 32 B */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chip.tile.buffer: width (32 B)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "one bank (16 B"));
    imc_instance_free(b);
}

/* ---- dram/simple and digital/vector --------------------------------------------------------- */

static void test_dram_phy_is_static(void)
{
    imc_instance *d = imc_instance_new(find("dram/simple"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_real(d, "phy_power", 10.4); /* ISAAC HyperTransport: 10.4 W, 22.88 mm2 */
    set_real(d, "phy_area", 22.88e-6);
    imc_model_env env = isaac_env(NULL);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(d, &env, NULL), 0);
    CU_ASSERT(near(imc_model_leakage_mw(d), 10.4e3, 1e-12));
    CU_ASSERT(near(imc_model_area_um2(d), 22.88e6, 1e-12));
    /* 25.6 GB/s at 8 pJ/bit on top of the PHY */
    CU_ASSERT(near(imc_model_peak_power_mw(d), 10.4e3 + 25.6e9 * 8 * 8e-12 * 1e3, 1e-12));
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(d, IMC_DRAM_READ_BITS).energy_pj, 8, 1e-12);
    imc_instance_free(d);
}

/* `type` sets energy, bandwidth and latency; explicit keys override their own. hbm2: O'Connor et
 * al. MICRO 2017, 1.21 + 2.54 + 0.22 = 3.97 pJ/bit; one stack 1024 bit x 2 Gbit/s = 256 GB/s;
 * 100 ns = 121 cycles of 833 ps (1.2 GHz, the period rounded to whole ps). gddr5: 14 pJ/bit, 32 bit x 7 Gbit/s = 28 GB/s. */
static void test_dram_types(void)
{
    const imc_param *tp = imc_model_param(find("dram/simple"), "type");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    imc_model_env env = isaac_env(NULL);
    imc_instance *d = imc_instance_new(find("dram/simple"), "chip.dram");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_int(d, "type", 1);
    CU_ASSERT_STRING_EQUAL(tp->choices[1], "hbm2");
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(d, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(d, IMC_DRAM_READ_BITS).energy_pj, 1.21 + 2.54 + 0.22,
                           1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_instance_get(d, "bandwidth"), 1024 * 2e9, 1);
    CU_ASSERT_EQUAL(imc_model_cost(d, IMC_DRAM_READ_BITS).cycles, 121);
    CU_ASSERT(near(imc_model_peak_power_mw(d), 256e9 * 8 * 3.97e-12 * 1e3, 1e-12));
    CU_ASSERT_PTR_NOT_NULL(strstr(d->assumptions, "hbm2"));
    imc_instance_free(d);

    d = imc_instance_new(find("dram/simple"), "chip.dram");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_int(d, "type", 2);
    CU_ASSERT_STRING_EQUAL(tp->choices[2], "gddr5");
    set_real(d, "write_energy_per_bit", 20e-12); /* explicit: overrides the type's 14 */
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(d, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(d, IMC_DRAM_READ_BITS).energy_pj, 14, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(d, IMC_DRAM_WRITE_BITS).energy_pj, 20, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_instance_get(d, "bandwidth"), 32 * 7e9, 1);
    CU_ASSERT_EQUAL(imc_model_leakage_mw(d), 0);
    imc_instance_free(d);

    /* ddr4, worked by hand from Micron MT40A1G8's currents (TN-40-07's method): read burst
     * (135 - 43) mA x 1.2 V x 3.332 ns / 64 = 5.7477 pJ/bit, write (123 - 43) mA ... = 4.998;
     * activation 1.2 V x (48 mA x 46.16 ns - 43 mA x 32 ns - 34 mA x 14.16 ns) = 0.429888 nJ
     * / 8192 bits = 0.0524766; POD12 I/O 0.5 x 1.2^2 / 94 ohm / 2.4 GHz = 3.1914894. */
    d = imc_instance_new(find("dram/simple"), "chip.dram");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_int(d, "type", 3);
    CU_ASSERT_STRING_EQUAL(tp->choices[3], "ddr4");
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(d, &env, NULL), 0);
    CU_ASSERT(near(imc_model_cost(d, IMC_DRAM_READ_BITS).energy_pj, 8.9916659, 1e-7));
    CU_ASSERT(near(imc_model_cost(d, IMC_DRAM_WRITE_BITS).energy_pj, 8.2419659, 1e-7));
    CU_ASSERT_DOUBLE_EQUAL(imc_instance_get(d, "bandwidth"), 19.2e9 * 8, 1);
    imc_instance_free(d);
}

static void test_vector_peak(void)
{
    imc_instance *v = imc_instance_new(find("digital/vector"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    set_int(v, "lanes", 4);
    set_int(v, "mac_units", 10);
    set_real(v, "mac_energy", 2e-12);
    set_real(v, "add_energy", 9e-12); /* 9 pJ in 1 cycle: now the dearest op per cycle */
    imc_model_env env = isaac_env(NULL);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(v, &env, NULL), 0);
    /* + the default leakage: PUMA VFU 0.19 mW + lookup 0.026 mW per lane, at 32 nm, and per
     * int8 MAC its area (282 + 137 um2 at 45 nm x (32/45)^2 = 211.9 um2) x the PUMA ALU's
     * 0.19 mW / 4000 um2 = 10.06 uW: 4 x 0.216 + 10 x 0.01006 = 0.9646 mW */
    double mac_leak_mw = 419.0 * (32.0 / 45) * (32.0 / 45) * 0.19 / 4000;
    CU_ASSERT_DOUBLE_EQUAL(mac_leak_mw, 0.01006, 1e-5);
    double want_mw = (4 * 9e-12 + 10 * 2e-12) * 1.2e9 * 1e3 + 4 * 0.216 + 10 * mac_leak_mw;
    CU_ASSERT(near(imc_model_peak_power_mw(v), want_mw, 1e-12));
    CU_ASSERT(near(imc_model_leakage_mw(v), 4 * 0.216 + 10 * mac_leak_mw, 1e-12));
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_ADD).energy_pj, 9, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_MAC).energy_pj, 2, 1e-12);
    /* PUMA VFU multiply (ASPLOS 2019; its simulator's constants, 32 nm) by default */
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_MUL).energy_pj, 0.565, 1e-12);
    /* sigmoid and tanh on ISAAC's lookup unit: one cycle */
    CU_ASSERT_EQUAL(imc_model_cost(v, IMC_DIGITAL_SIGMOID).cycles, 1);
    imc_instance_free(v);

    /* the int8 MAC: Horowitz 45 nm 0.2 + 0.1 pJ, x0.65 to 32 nm; 16 bits: x4 */
    v = imc_instance_new(find("digital/vector"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(v, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_MAC).energy_pj, 0.3 * 0.65, 1e-12);
    imc_instance_free(v);
    v = imc_instance_new(find("digital/vector"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    set_int(v, "mac_bits", 16);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(v, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_MAC).energy_pj, 4 * 0.3 * 0.65, 1e-12);
    imc_instance_free(v);
}


/* ---- static power ------------------------------------------------------------------------ */

/* ISAAC's Table I gives each part's whole power; PUMA (ASPLOS 2019; its simulator's
 * include/constants.py) splits it 90 % dynamic, 10 % leakage. By hand, at 32 nm, 10 M crossbar
 * reads/s, 1.2 GHz: a 1-bit DAC 4 mW / 1024 = 3.906 uW -> 3.516 uW / 10 M/s = 0.3516 pJ and
 * 0.3906 uW; a 2-bit DAC twice both (2^bits / 2 unit drivers); an S&H 10 uW / 1024 = 9.766 nW ->
 * 0.8789 fJ and 0.9766 nW; a shift-and-add 0.2 mW / 4 = 0.05 mW -> 0.045 mW / 1.2 GHz = 37.5 fJ
 * and 5 uW. Busy at full rate each still draws Table I's power. */
static void test_periphery_leakage_split(void)
{
    imc_instance *cell;
    imc_instance *d = ready("dac/simple", &cell);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(d, IMC_DAC_CONVERT).energy_pj, 0.3515625, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(d), 0.000390625, 1e-12);
    CU_ASSERT(near(imc_model_peak_power_mw(d), 4.0 / 1024, 1e-9));
    release(d, cell);
    d = imc_instance_new(find("dac/simple"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_int(d, "bits", 2);
    imc_model_env env = isaac_env(NULL);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(d, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(d, IMC_DAC_CONVERT).energy_pj, 2 * 0.3515625, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(d), 2 * 0.000390625, 1e-12);
    set_real(d, "leakage", 1e-6); /* a given leakage is kept */
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(d, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(d), 1e-3, 1e-15);
    imc_instance_free(d);

    imc_instance *h = ready("sh/simple", &cell);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(h, IMC_SH_SAMPLE).energy_pj, 0.87890625e-3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(h), 0.9765625e-6, 1e-15);
    CU_ASSERT(near(imc_model_peak_power_mw(h), 0.010 / 1024, 1e-9));
    release(h, cell);

    imc_instance *u = ready("shiftadd/simple", &cell);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(u, IMC_SHIFTADD_ADD).energy_pj, 0.0375, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_leakage_mw(u), 0.005, 1e-15);
    CU_ASSERT(near(imc_model_peak_power_mw(u), 0.05, 1e-9));
    release(u, cell);

    /* a crossbar at rest has every line at 0 V: no cell conducts (PUMA: xbar_pow_leak = 0) */
    imc_instance *x = ready("xbar/reram", &cell);
    CU_ASSERT_EQUAL(imc_model_leakage_mw(x), 0);
    CU_ASSERT_EQUAL(imc_model_leakage_mw(cell), 0);
    release(x, cell);
    /* the host's power is charged per busy cycle; idle, it is the host system's */
    imc_instance *c = ready("digital/host", &cell);
    CU_ASSERT_EQUAL(imc_model_leakage_mw(c), 0);
    release(c, cell);
}

/* A leakage follows the node by Stillmaker and Baas's power fit: the DAC's from its 32 nm
 * figure, the ADC's with its energy and rate (a share of its power). */
static void test_leakage_follows_the_node(void)
{
    imc_model_env e32 = {.clock_hz = 1.2e9, .technology_m = 32e-9, .read_hz = 10e6};
    imc_model_env e65 = e32;
    e65.technology_m = 65e-9;
    double pf = imc_tech_factor(IMC_TECH_POWER, 32e-9, 65e-9);
    double ef = imc_tech_factor(IMC_TECH_ENERGY, 32e-9, 65e-9);
    imc_instance *a = imc_instance_new(find("dac/simple"), "x");
    imc_instance *b = imc_instance_new(find("dac/simple"), "x");
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(a, &e32, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(b, &e65, NULL), 0);
    CU_ASSERT(pf > 3); /* 65 nm at 1.1 V draws more than 32 nm at 0.9 V */
    CU_ASSERT(near(imc_model_leakage_mw(b), imc_model_leakage_mw(a) * pf, 1e-9));
    imc_instance_free(a);
    imc_instance_free(b);
    /* SAR at the same 1 GS/s at both nodes (a bit time set here is not node-scaled; only the
     * loader scales defaults): leakage = 10 % x energy x rate follows the energy fit */
    a = imc_instance_new(find("adc/sar"), "x"), b = imc_instance_new(find("adc/sar"), "x");
    set_real(a, "bit_time", 1e-9 / 8); /* 1 GS/s at both nodes: the bit time is explicit */
    set_real(b, "bit_time", 1e-9 / 8);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(a, &e32, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(b, &e65, NULL), 0);
    CU_ASSERT(near(imc_model_leakage_mw(b), imc_model_leakage_mw(a) * ef, 1e-9));
    imc_instance_free(a);
    imc_instance_free(b);
}

/* ---- numerics hooks ------------------------------------------------------------------------ */

/* A device that says it is exact programs, reads, converts and drives ideally, and its
 * programming draws nothing from its stream. */
static void test_hooks_keep_their_promises(void)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        if (m->kind != IMC_KIND_CELL && m->kind != IMC_KIND_ADC && m->kind != IMC_KIND_DAC)
            continue;
        imc_instance *cell;
        imc_instance *inst = new_instance(m, &cell);
        imc_model_env env = isaac_env(cell);
        if (init_default(m, inst, &env) == 0) {
            int levels = 1 << imc_model_bits(inst);
            if (m->cell) {
                for (int l = 1; l < levels; l++)
                    CHECK(m, m->cell->level_g(inst, l) > m->cell->level_g(inst, l - 1));
                CHECK(m, m->cell->level_g(inst, 0) > 0);
                if (m->cell->exact(inst)) {
                    static int lv[1 << 11];
                    static double g[1 << 11];
                    for (int l = 0; l < levels; l++)
                        lv[l] = l;
                    imc_normal_rng nr, ref;
                    imc_normal_seed(&nr, 7);
                    ref = nr;
                    m->cell->program(inst, lv, g, (size_t)levels, &nr);
                    CHECK(m, memcmp(&nr, &ref, sizeof nr) == 0); /* nothing drawn */
                    for (int l = 0; l < levels; l++)
                        CHECK(m, g[l] == m->cell->level_g(inst, l));
                    float v[3] = {0, 1.5f, 384}, w[3] = {0, 1.5f, 384};
                    m->cell->read(inst, v, 3, 7);
                    CHECK(m, memcmp(v, w, sizeof v) == 0);
                }
            }
            if (m->adc && m->adc->exact(inst)) {
                float v[64], w[64];
                for (int k = 0; k < 64; k++)
                    v[k] = w[k] = (float)(k * 37.3 - 300);
                m->adc->convert(inst, v, 64, 0.25f);
                imc_adc_ideal_convert(levels == 0 ? 0 : imc_model_bits(inst), w, 64, 0.25f);
                CHECK(m, memcmp(v, w, sizeof v) == 0);
            }
            if (m->dac && m->dac->exact(inst)) {
                float lv[256];
                int n = levels < 256 ? levels : 256;
                m->dac->levels(inst, lv, n);
                for (int k = 0; k < n; k++)
                    CHECK(m, lv[k] == (float)k);
            }
        }
        release(inst, cell);
    }
}

/* The ideal quantizer: round half up, clip at both ends. */
static void test_ideal_adc(void)
{
    float v[] = {-3, 0, 0.49f, 0.5f, 1.49f, 254.5f, 255, 400};
    const float want[] = {0, 0, 0, 1, 1, 255, 255, 255};
    imc_adc_ideal_convert(8, v, 8, 1);
    for (int k = 0; k < 8; k++)
        CU_ASSERT_EQUAL(v[k], want[k]);
}

/* adc/sar's non-linearity: an offset shifts every code, the INL bow bends mid-scale and leaves
 * the ends; at zero both, the ideal quantizer exactly. */
static void test_sar_nonlinearity(void)
{
    imc_model_env env = isaac_env(NULL);
    imc_instance *adc = imc_instance_new(find("adc/sar"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
    set_int(adc, "bits", 8);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    CU_ASSERT(adc->type->adc->exact(adc));
    set_real(adc, "offset", 1);
    CU_ASSERT(!adc->type->adc->exact(adc));
    float v[] = {0, 10, 127.5f, 255};
    adc->type->adc->convert(adc, v, 4, 1);
    CU_ASSERT(v[0] == 1 && v[1] == 11 && v[2] == 129 && v[3] == 255);
    set_real(adc, "offset", 0);
    set_real(adc, "inl", 3);
    float w[] = {0, 127.5f, 255};
    adc->type->adc->convert(adc, w, 3, 1);
    CU_ASSERT(w[0] == 0 && w[1] == 131 && w[2] == 255); /* 127.5 + 3 + 0.5, rounded down */
    imc_instance_free(adc);
}

/* ---- cell/table ------------------------------------------------------------------------------ */

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "test_models.%s", name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void set_string(imc_instance *inst, const char *key, const char *v)
{
    const imc_param *p = imc_model_param(inst->type, key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(p->type, IMC_PT_STRING);
    char **f = (char **)((char *)inst + p->offset);
    free(*f);
    *f = strdup(v);
}

/* A table holding cell/reram's levels, with sigma = variation x level, programs every cell to
 * the very same conductance from the same seed, faults included. */
static void test_table_equals_reram(void)
{
    imc_model_env env = isaac_env(NULL);
    imc_instance *reram = imc_instance_new(find("cell/reram"), "reram");
    CU_ASSERT_PTR_NOT_NULL_FATAL(reram);
    set_int(reram, "bits", 3);
    set_real(reram, "variation", 0.05);
    set_real(reram, "stuck_at_0", 0.01);
    set_real(reram, "stuck_at_1", 0.02);
    set_real(reram, "read_noise", 0.03);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(reram, &env, NULL), 0);
    char csv[4096] = "# cell/reram, 3 bits, 5 % variation\nconductance,sigma\n";
    for (int l = 0; l < 8; l++) {
        double g = reram->type->cell->level_g(reram, l);
        snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "%.17g,%.17g\n", g, 0.05 * g);
    }
    imc_instance *table = imc_instance_new(find("cell/table"), "table");
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    set_string(table, "table", write_file("levels.csv", csv));
    set_real(table, "stuck_at_0", 0.01);
    set_real(table, "stuck_at_1", 0.02);
    set_real(table, "read_noise", 0.03);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(table, &env, &err), 0);
    CU_ASSERT_EQUAL(imc_model_bits(table), 3);
    CU_ASSERT(!table->type->cell->exact(table));
    static int lv[20000];
    static double ga[20000], gb[20000];
    for (int k = 0; k < 20000; k++)
        lv[k] = k % 8;
    imc_normal_rng na, nb;
    imc_normal_seed(&na, 11);
    imc_normal_seed(&nb, 11);
    reram->type->cell->program(reram, lv, ga, 20000, &na);
    table->type->cell->program(table, lv, gb, 20000, &nb);
    int same = memcmp(ga, gb, sizeof ga) == 0;
    float va[64], vb[64];
    for (int k = 0; k < 64; k++)
        va[k] = vb[k] = (float)k;
    reram->type->cell->read(reram, va, 64, 12);
    table->type->cell->read(table, vb, 64, 12);
    CU_ASSERT(same && memcmp(va, vb, sizeof va) == 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(table, IMC_CELL_READ).energy_pj,
                           imc_model_cost(reram, IMC_CELL_READ).energy_pj, 1e-12);
    imc_instance_free(reram);
    imc_instance_free(table);
}

/* Programming: over many cells of one level, the fraction stuck at the lowest and at the
 * highest level is stuck_at_0 and stuck_at_1, and the others land at the level's nominal
 * conductance x (1 + variation n), n standard normal: mean and standard deviation within 5
 * standard errors, a normal's mass within 1 sigma; the same seed programs the same cells and
 * another seed other ones. */
static void test_program_statistics(void)
{
    imc_model_env env = isaac_env(NULL);
    imc_instance *cell = imc_instance_new(find("cell/reram"), "cell");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cell);
    const double var = 0.04, sa0 = 0.01, sa1 = 0.02;
    set_int(cell, "bits", 2);
    set_real(cell, "variation", var);
    set_real(cell, "stuck_at_0", sa0);
    set_real(cell, "stuck_at_1", sa1);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(cell, &env, NULL), 0);
    const imc_cell_ops *ops = cell->type->cell;
    enum { N = 200000 };
    static int lv[N];
    static double g[N], again[N];
    for (int k = 0; k < N; k++)
        lv[k] = 1;
    imc_normal_rng nr;
    imc_normal_seed(&nr, 3);
    ops->program(cell, lv, g, N, &nr);
    double lo = ops->level_g(cell, 0), hi = ops->level_g(cell, 3), mid = ops->level_g(cell, 1);
    double n0 = 0, n1 = 0, n = 0, sum = 0, sum2 = 0, within1 = 0;
    for (int k = 0; k < N; k++) {
        double z = (g[k] / mid - 1) / var;
        if (fabs(g[k] - lo) < 0.3 * lo)
            n0++;
        else if (fabs(g[k] - hi) < 0.3 * hi)
            n1++;
        else
            n++, sum += z, sum2 += z * z, within1 += fabs(z) < 1;
    }
    CU_ASSERT_DOUBLE_EQUAL(n0 / N, sa0, 5 * sqrt(sa0 * (1 - sa0) / N));
    CU_ASSERT_DOUBLE_EQUAL(n1 / N, sa1, 5 * sqrt(sa1 * (1 - sa1) / N));
    CU_ASSERT_DOUBLE_EQUAL(sum / n, 0, 5 / sqrt(n));
    CU_ASSERT_DOUBLE_EQUAL(sqrt(sum2 / n - (sum / n) * (sum / n)), 1, 5 / sqrt(2 * n));
    CU_ASSERT_DOUBLE_EQUAL(within1 / n, 0.682689, 5 * sqrt(0.682689 * 0.317311 / n));
    imc_normal_seed(&nr, 3);
    ops->program(cell, lv, again, N, &nr);
    CU_ASSERT(memcmp(g, again, sizeof g) == 0);
    imc_normal_seed(&nr, 4);
    ops->program(cell, lv, again, N, &nr);
    CU_ASSERT(memcmp(g, again, sizeof g) != 0);
    imc_instance_free(cell);
}

/* Read noise, per column over many reads: every column value V read R times comes back as
 * V x (1 + sigma n) with n standard normal, independent across columns and reads. Checked
 * per column: the mean of the ratio is 1 and its standard deviation sigma (within 5 standard
 * errors); over all reads the ratio's deviations have a normal's mass within 1 and 2 sigma and
 * beyond 3 and 4 sigma (the tail), its kurtosis 3, no correlation between neighbouring
 * columns or between one read and the next; the same seed gives the same reads. */
static void test_read_noise_statistics(void)
{
    imc_model_env env = isaac_env(NULL);
    imc_instance *cell = imc_instance_new(find("cell/reram"), "cell");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cell);
    const double sigma = 0.05;
    set_real(cell, "read_noise", sigma);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(cell, &env, NULL), 0);
    enum { COLS = 64, READS = 20000 };
    static double sum[COLS], sum2[COLS];
    double n = 0, within1 = 0, within2 = 0, beyond3 = 0, beyond4 = 0, m4 = 0, cross = 0, lag = 0;
    float v[COLS], w[COLS], prev[COLS];
    int same = 1;
    for (int r = 0; r < READS; r++) {
        for (int c = 0; c < COLS; c++)
            v[c] = w[c] = (float)(c + 1) * 10;
        cell->type->cell->read(cell, v, COLS, 5000 + (uint64_t)r); /* consecutive seeds */
        if (r < 100) {
            cell->type->cell->read(cell, w, COLS, 5000 + (uint64_t)r);
            same &= memcmp(v, w, sizeof v) == 0;
        }
        for (int c = 0; c < COLS; c++) {
            double z = (v[c] / ((c + 1) * 10.0) - 1) / sigma;
            sum[c] += z, sum2[c] += z * z;
            within1 += fabs(z) < 1, within2 += fabs(z) < 2, beyond3 += fabs(z) > 3, beyond4 += fabs(z) > 4;
            m4 += z * z * z * z;
            if (c)
                cross += z * ((v[c - 1] / (c * 10.0) - 1) / sigma);
            if (r)
                lag += z * ((prev[c] / ((c + 1) * 10.0) - 1) / sigma);
            n++;
        }
        memcpy(prev, v, sizeof v);
    }
    int means = 1, sds = 1;
    for (int c = 0; c < COLS; c++) {
        double mean = sum[c] / READS, var = sum2[c] / READS - mean * mean;
        means &= fabs(mean) < 5 / sqrt(READS);
        sds &= fabs(sqrt(var) - 1) < 5 / sqrt(2.0 * READS) + 1e-3; /* + float rounding */
    }
    CU_ASSERT(means);
    CU_ASSERT(sds);
    CU_ASSERT_DOUBLE_EQUAL(within1 / n, 0.682689, 5 * sqrt(0.682689 * 0.317311 / n));
    CU_ASSERT_DOUBLE_EQUAL(within2 / n, 0.954500, 5 * sqrt(0.9545 * 0.0455 / n));
    CU_ASSERT_DOUBLE_EQUAL(beyond3 / n, 0.002700, 5 * sqrt(0.0027 * 0.9973 / n));
    CU_ASSERT_DOUBLE_EQUAL(beyond4 / n, 6.334e-5, 5 * sqrt(6.334e-5 / n));
    CU_ASSERT_DOUBLE_EQUAL(m4 / n, 3.0, 5 * sqrt(96 / n));
    CU_ASSERT_DOUBLE_EQUAL(cross / (n - READS), 0, 5 / sqrt(n - READS));
    CU_ASSERT_DOUBLE_EQUAL(lag / (n - COLS), 0, 5 / sqrt(n - COLS));
    CU_ASSERT(same);
    imc_instance_free(cell);
}

/* The read noise's vector code and its portable code draw the same deviates: every length
 * (whole blocks of thirty-two, partial ones, a single value), many seeds, so every quarter turn
 * of the angle and radii from the whole range. Where the CPU has no vector code both runs take
 * the portable one and the test says so. */
static void test_read_noise_portable(void)
{
    static const size_t lengths[] = {1, 15, 16, 17, 31, 32, 33, 64, 100, 1000, 4099};
    static float a[4099], b[4099];
    int same = 1, vector = 0;
    for (size_t t = 0; t < sizeof lengths / sizeof lengths[0]; t++)
        for (uint64_t seed = 1; seed <= 40; seed++) {
            size_t n = lengths[t];
            for (size_t k = 0; k < n; k++)
                a[k] = b[k] = 1.0f + (float)k;
            imc_normal_lanes ra, rb;
            imc_normal_lanes_seed(&ra, seed);
            imc_normal_lanes_seed(&rb, seed);
            vector = imc_normal_lanes_portable(0);
            imc_normal_lanes_scale(&ra, a, n, 0.05);
            imc_normal_lanes_portable(1);
            imc_normal_lanes_scale(&rb, b, n, 0.05);
            imc_normal_lanes_portable(0);
            same &= memcmp(a, b, n * sizeof *a) == 0;
        }
    if (!vector)
        printf("\n  (no vector code on this CPU: portable against itself)\n");
    CU_ASSERT(same);
}

/* The read noise's deviates against Box and Muller's transform of the same two uniforms in
 * double with libm (u = (2k + 1) / 2^31 from the radius draw's top 30 bits k, t = the angle
 * draw's top 24 bits / 2^24), normal.c's claim: within 2.7e-6 (3e-6 here) where the radius is at
 * least 0.01 and 3.5e-7 of the radius from 0.5 on, 3.1e-5 below 0.01 (where u rounds to 1 in
 * float), over a million pseudo-random draw
 * pairs and the extremes (the largest and smallest radii; every eighth of a turn and the angles
 * just short of one). */
static void test_box_muller_accuracy(void)
{
    uint64_t z = 12345;
    double worst = 0, worst_off = 0, worst_rel = 0;
    int n = 0;
    for (int k = 0; k < 1000000 + 64; k++) {
        uint32_t d1, d2;
        if (k < 64) { /* extremes */
            static const uint32_t radius[4] = {0, 1, 0xfffffffeu, 0xffffffffu};
            d1 = radius[k % 4];
            d2 = (uint32_t)(k / 4 % 8) << 29 | (k / 32 ? 0xffu : 0); /* eighths of a turn, +- */
            d2 -= k / 32 ? 0x100u : 0;
        } else { /* splitmix64 */
            uint64_t w = (z += 0x9e3779b97f4a7c15u);
            w = (w ^ (w >> 30)) * 0xbf58476d1ce4e5b9u;
            w = (w ^ (w >> 27)) * 0x94d049bb133111ebu;
            w ^= w >> 31;
            d1 = (uint32_t)w, d2 = (uint32_t)(w >> 32);
        }
        float z0, z1;
        imc_normal_box_muller(d1, d2, &z0, &z1);
        double u = (double)((d1 >> 1) | 1) * 0x1p-31, t = (double)(d2 >> 8) * 0x1p-24;
        double r = sqrt(-2 * log(u)), a = 2 * 3.14159265358979323846 * t;
        double e = fmax(fabs(z0 - r * cos(a)), fabs(z1 - r * sin(a)));
        worst = e > worst ? e : worst;
        if (r >= 0.01)
            worst_off = e > worst_off ? e : worst_off;
        if (r >= 0.5)
            worst_rel = e / r > worst_rel ? e / r : worst_rel;
        n++;
    }
    printf("\n  %d pairs: worst |deviate - exact transform| %.2e, %.2e at radii >= 0.01, "
           "%.2e x radius at radii >= 0.5", n, worst, worst_off, worst_rel);
    CU_ASSERT(worst <= 3.1e-5);
    CU_ASSERT(worst_off <= 3e-6);
    CU_ASSERT(worst_rel <= 3.5e-7); /* a few float roundings of u, ln, sqrt and the series */
}

static void test_table_errors(void)
{
    static const struct {
        const char *csv, *want;
    } cases[] = {
        {"g,s\n1e-6,0\n2e-6,0\n", "test_models.bad.csv:1: the first line must be the header 'conductance,sigma'"},
        {"conductance,sigma\n1e-6,0\n2e-6,0\n3e-6,0\n", "has 3 levels; a cell needs a power of two, 2 to 2048"},
        {"conductance,sigma\n2e-6,0\n1e-6,0\n", "test_models.bad.csv:3: levels must be listed lowest first"},
        {"conductance,sigma\n1e-6,-1e-9\n2e-6,0\n", "test_models.bad.csv:2: a conductance must be positive and a sigma not negative"},
        {"conductance,sigma\n1e-6 0\n2e-6,0\n", "test_models.bad.csv:2: expected 'conductance,sigma' (two numbers in siemens)"},
        {"conductance,sigma\n1e-6,0,7\n2e-6,0\n", "test_models.bad.csv:2: expected 'conductance,sigma'"},
        {"conductance,sigma\n1e-6,0\n2e-6,0\n", "bits is 2 but test_models.bad.csv holds 2 levels (1 bits)"},
        {NULL, "table: cannot read test_models.missing.csv"},
    };
    imc_model_env env = isaac_env(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imc_instance *t = imc_instance_new(find("cell/table"), "chip.tile.pe.xbar.cell");
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        set_string(t, "table", cases[i].csv ? write_file("bad.csv", cases[i].csv) : "test_models.missing.csv");
        if (strstr(cases[i].want, "bits is 2"))
            set_int(t, "bits", 2);
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_instance_init(t, &env, &err), IMC_EINPUT);
        if (!strstr(err.msg, cases[i].want) || strncmp(err.msg, "chip.tile.pe.xbar.cell: ", 24))
            fprintf(stderr, "\ncase %zu: got '%s'\n", i, err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].want));
        imc_instance_free(t);
    }
}

/* Stillmaker and Baas (Integration 58, 2017): the authors' corrigendum evaluates the 32 nm HP
 * energy fit at 0.9 V to 0.4571; between two of the paper's nodes a factor is geometric in the
 * node; the fits cover 7-180 nm. */
static void test_techscale(void)
{
    CU_ASSERT_DOUBLE_EQUAL(imc_tech_value(IMC_TECH_ENERGY, 32e-9), 0.4571, 5e-5);
    for (int m = IMC_TECH_ENERGY; m <= IMC_TECH_AREA; m++) {
        CU_ASSERT_DOUBLE_EQUAL(imc_tech_factor((imc_tech_metric)m, 22e-9, 22e-9), 1, 0);
        double f = imc_tech_factor((imc_tech_metric)m, 32e-9, 65e-9);
        double g = imc_tech_factor((imc_tech_metric)m, 65e-9, 32e-9);
        CU_ASSERT_DOUBLE_EQUAL(f * g, 1, 1e-12);
        double t = log(22.0 / 20) / log(32.0 / 20); /* 22 nm between 20 and 32 nm */
        double lo = imc_tech_value((imc_tech_metric)m, 20e-9),
               hi = imc_tech_value((imc_tech_metric)m, 32e-9);
        CU_ASSERT_DOUBLE_EQUAL(imc_tech_value((imc_tech_metric)m, 22e-9), lo * pow(hi / lo, t),
                               1e-12 * hi);
    }
    /* the paper's area table: 45 -> 32 nm x0.46, 45 -> 65 nm x1.5 */
    CU_ASSERT_DOUBLE_EQUAL(imc_tech_factor(IMC_TECH_AREA, 45e-9, 32e-9), 0.46, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_tech_factor(IMC_TECH_AREA, 45e-9, 65e-9), 1.5, 1e-12);
    /* energy per operation falls with every node of the HP series */
    const double nodes[] = {180e-9, 130e-9, 90e-9, 65e-9, 45e-9, 32e-9, 20e-9, 16e-9, 14e-9,
                            10e-9, 7e-9};
    for (size_t i = 1; i < sizeof nodes / sizeof nodes[0]; i++)
        CU_ASSERT(imc_tech_value(IMC_TECH_ENERGY, nodes[i]) <
                  imc_tech_value(IMC_TECH_ENERGY, nodes[i - 1]));
    char why[200];
    CU_ASSERT_EQUAL(imc_tech_check(7e-9, why, sizeof why), 0);
    CU_ASSERT_EQUAL(imc_tech_check(180e-9, why, sizeof why), 0);
    CU_ASSERT_EQUAL(imc_tech_check(5e-9, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "5 nm is outside"));
}

/* Every model's built-in figures follow the node: an instance at its defaults in ISAAC's
 * environment at 65 nm costs what it costs at 32 nm times the energy fit, and has its area times
 * the area factor, unless the model is not a CMOS circuit (node_m 0) or its area is in F^2. */
static void test_models_follow_the_node(void)
{
    static const char *const derived[] = {"adc/sar",   "adc/flash",   "dac/simple",
                                          "noc/mesh", "buffer/sram", "buffer/edram"};
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++) {
        const imc_model *t = imc_registry_find(derived[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_DOUBLE_EQUAL(t->node_m, 32e-9, 0);
        imc_instance *a = imc_instance_new(t, "x"), *b = imc_instance_new(t, "x");
        imc_model_env e32 = {.clock_hz = 1.2e9, .technology_m = 32e-9, .read_hz = 10e6};
        imc_model_env e65 = e32;
        e65.technology_m = 65e-9;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(a, &e32, &err), 0);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(b, &e65, &err), 0);
        double ef = imc_tech_factor(IMC_TECH_ENERGY, 32e-9, 65e-9);
        double af = imc_tech_factor(IMC_TECH_AREA, 32e-9, 65e-9);
        int derived_energy = strcmp(derived[i], "adc/flash") != 0; /* flash: a parameter */
        if (derived_energy)
            CU_ASSERT_DOUBLE_EQUAL(b->cost[0].energy_pj, a->cost[0].energy_pj * ef,
                                   1e-9 * b->cost[0].energy_pj);
        CU_ASSERT_DOUBLE_EQUAL(b->area_um2, a->area_um2 * af, 1e-9 * b->area_um2);
        imc_instance_free(a);
        imc_instance_free(b);
    }
}

static CU_TestInfo tests[] = {
    {"xbar/reram: read energy from the physics", test_xbar_read_physics},
    {"Stillmaker and Baas technology scaling", test_techscale},
    {"built-in figures follow the node", test_models_follow_the_node},
    {"registry: ABI, names, docs", test_registry_names},
    {"params: unique keys, defaults in range, docs", test_params},
    {"params: kind-required keys declared", test_required_params},
    {"actions: match the kind, in order", test_actions},
    {"instances: init and sane costs in ISAAC's env", test_instances},
    {"instances: deterministic", test_deterministic},
    {"instances: every parameter at its minimum", test_params_at_min},
    {"instances: every parameter at its maximum", test_params_at_max},
    {"cell/reram: roff <= ron is refused by name", test_cell_rejects_roff_not_above_ron},
    {"cell/reram: read energy V^2 G t, 4 F^2", test_cell_read_energy},
    {"adc/sar: energy from Murmann's survey envelope", test_sar_energy_from_the_survey},
    {"adc/sar: one internal cycle per bit", test_sar_conversion_time_per_bit},
    {"adc/flash: energy from the survey, 2x per bit", test_flash_energy_from_the_survey},
    {"adc/sar: explicit energy and Walden FOM", test_sar_explicit_energy_and_fom},
    {"adc/flash: 2^bits - 1 comparators", test_flash_comparators},
    {"xbar/reram: costs from the cell", test_xbar_costs_from_cell},
    {"xbar/reram: explicit read energy (ISAAC)", test_xbar_explicit_read_energy},
    {"xbar/reram: refuses to init without a cell", test_xbar_needs_cell},
    {"dac, sh: need the crossbar read rate", test_read_rate_required},
    {"ISAAC Table I peak powers", test_isaac_peak_powers},
    {"noc/mesh: router, link, leakage, area from DSENT", test_mesh_from_dsent},
    {"noc/mesh: wide flits as router slices, refused outside the runs",
     test_mesh_wide_flits_and_range},
    {"buffer: the CACTI fit recovers a known law", test_cacti_fit_recovers_a_law},
    {"buffer/sram: energy, leakage, area from the CACTI fit", test_sram_from_cacti},
    {"buffer/sram: one bank's size sets the access energy", test_sram_banks},
    {"buffer/sram: follows the node", test_buffer_follows_the_node},
    {"buffer/sram: explicit keys win over the fit", test_buffer_explicit_keys},
    {"buffer/edram: CACTI lp-dram fit, write = read", test_edram_from_cacti},
    {"buffer: width above a bank is refused", test_buffer_width_exceeds_bank},
    {"dram/simple: PHY power is static", test_dram_phy_is_static},
    {"dram/simple: type sets cited defaults", test_dram_types},
    {"digital/vector: peak over lanes and MACs", test_vector_peak},
    {"static power: ISAAC's periphery split as PUMA does; arrays do not leak",
     test_periphery_leakage_split},
    {"static power follows the node", test_leakage_follows_the_node},
    {"numerics hooks: exact devices are ideal and draw nothing", test_hooks_keep_their_promises},
    {"the ideal ADC: round half up, clip", test_ideal_adc},
    {"adc/sar: offset and INL bend the transfer", test_sar_nonlinearity},
    {"cell/table: cell/reram's levels give its results", test_table_equals_reram},
    {"cell/table: bad tables are refused by line", test_table_errors},
    {"cell programming: stuck-at fractions and the variation's distribution", test_program_statistics},
    {"cell read noise: per column over many reads, N(1, sigma) and independent", test_read_noise_statistics},
    {"cell read noise: vector and portable code draw the same deviates", test_read_noise_portable},
    {"cell read noise: Box-Muller within 3e-6 of the exact transform (radius >= 0.01)", test_box_muller_accuracy},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "models"
#include "tests/unit/cunit_main.h"
