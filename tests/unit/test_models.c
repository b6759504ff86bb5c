/* test_models.c -- conformance of every registered component model, plus checks of specific
 * models against the numbers they are built from.
 *
 * The conformance tests loop over the registry, so a new model is covered the moment its line
 * is in models/models.def: ABI, name, parameter table, kind-required keys, action table, and an
 * instance initialised in a realistic environment (ISAAC's: 1.2 GHz clock, 32 nm, 10 M crossbar
 * reads/s; crossbars get a default cell/reram) must give sane, deterministic costs. The specific
 * tests pin values from papers (ISAAC Table I, shared/reference/isaac.md; Kull et al. via
 * components.md) and the error messages of bad inputs. Every instance is freed (valgrind). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "models/model.h"
#include "models/registry.h"

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

/* ISAAC's environment (shared/reference/isaac.md): 1.2 GHz digital clock, 32 nm, one crossbar
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
    return p->type == IMC_PT_REAL ? sizeof(double) : sizeof(int);
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
        CHECK(m, m->init && m->cost && m->area_um2 && m->leakage_mw && m->peak_power_mw);
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
            CHECK(m, p->type <= IMC_PT_ENUM);
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
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        size_t n;
        const char *const *names = imc_kind_actions(m->kind, &n);
        CHECK(m, names != NULL && n > 0);
        CHECK(m, m->n_actions == n);
        for (size_t j = 0; j < n && j < m->n_actions; j++) {
            CHECK(m, strcmp(m->actions[j].name, names[j]) == 0);
            CHECK(m, m->actions[j].doc && m->actions[j].doc[0]);
        }
    }
}

/* ---- conformance: instances --------------------------------------------------------------- */

/* Init succeeds and every answer is sane. */
static void check_instance(const imc_model *m, const imc_instance *inst)
{
    CHECK(m, inst->period_ps > 0);
    for (unsigned a = 0; a < m->n_actions; a++) {
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
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_instance_init(inst, &env, &err);
        CHECK(m, rc == 0);
        if (rc == 0)
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
        imc_err err;
        imc_err_clear(&err);
        int ok = imc_instance_init(a, &env_a, &err) == 0 && imc_instance_init(b, &env_b, &err) == 0;
        CHECK(m, ok);
        if (ok) {
            CHECK(m, a->period_ps == b->period_ps);
            for (unsigned k = 0; k < m->n_actions; k++) {
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
            if (p->flags & IMC_PF_OPTIONAL || p->type == IMC_PT_ENUM)
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

static void test_sar_energy_rises_with_bits(void)
{
    double prev = 0;
    for (int bits = 4; bits <= 10; bits++) {
        imc_instance *adc = imc_instance_new(find("adc/sar"), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
        set_int(adc, "bits", bits);
        imc_model_env env = isaac_env(NULL);
        CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
        double e = imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj;
        CU_ASSERT(e > prev);
        if (bits == 8) /* the Accelergy/CiMLoop 32 nm table row (components.md): 1.67 pJ */
            CU_ASSERT_DOUBLE_EQUAL(e, 1.67, 1e-9);
        prev = e;
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
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 2.5, 1e-12);
    imc_instance_free(adc);

    /* Kull et al. ISSCC 2013 (ISAAC's ADC): 33.8 fJ per conversion step; at ENOB 6: 2^6 steps */
    adc = imc_instance_new(find("adc/sar"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(adc);
    set_real(adc, "fom", 33.8e-15);
    set_real(adc, "enob", 6);
    CU_ASSERT_EQUAL_FATAL(imc_instance_init(adc, &env, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(adc, IMC_ADC_CONVERT).energy_pj, 33.8e-3 * 64, 1e-12);
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
        double want = cells * read.energy_pj;
        CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(x, IMC_XBAR_READ).energy_pj, want, want * 1e-12);
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

/* ---- ISAAC Table I per-instance peak powers (shared/reference/isaac.md, 32 nm, 1.2 GHz,
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
    /* router: 42 mW per router (1 %) */
    CU_ASSERT(near(default_peak("noc/mesh"), 42.0, 0.01));
    /* eDRAM-to-IMA bus, 384 wires: 7 mW (1 %) */
    CU_ASSERT(near(default_peak("noc/bus"), 7.0, 0.01));
}

/* ISAAC-derived eDRAM access (components.md: 20.45 pJ per 256-bit access) and Table I's
 * 0.083 mm2 for the 64 KB buffer at 32 nm. */
static void test_edram_isaac(void)
{
    imc_instance *cell;
    imc_instance *b = ready("buffer/edram", &cell);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(b, IMC_BUFFER_READ).energy_pj, 20.45, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(b, IMC_BUFFER_WRITE).energy_pj, 20.45, 1e-9);
    CU_ASSERT(near(imc_model_area_um2(b), 0.083e6, 1e-9));
    /* 2 banks, each one access per 1.2 GHz cycle */
    CU_ASSERT(near(imc_model_peak_power_mw(b), 2 * 20.45e-12 * 1.2e9 * 1e3, 1e-12));
    release(b, cell);
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
    double want_mw = (4 * 9e-12 + 10 * 2e-12) * 1.2e9 * 1e3;
    CU_ASSERT(near(imc_model_peak_power_mw(v), want_mw, 1e-12));
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_ADD).energy_pj, 9, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_MAC).energy_pj, 2, 1e-12);
    /* Horowitz 45 nm fp16 multiply by default */
    CU_ASSERT_DOUBLE_EQUAL(imc_model_cost(v, IMC_DIGITAL_MUL).energy_pj, 1.1, 1e-12);
    imc_instance_free(v);
}

static CU_TestInfo tests[] = {
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
    {"adc/sar: energy rises with bits (4..10)", test_sar_energy_rises_with_bits},
    {"adc/sar: explicit energy and Walden FOM", test_sar_explicit_energy_and_fom},
    {"adc/flash: 2^bits - 1 comparators", test_flash_comparators},
    {"xbar/reram: costs from the cell", test_xbar_costs_from_cell},
    {"xbar/reram: explicit read energy (ISAAC)", test_xbar_explicit_read_energy},
    {"xbar/reram: refuses to init without a cell", test_xbar_needs_cell},
    {"dac, sh: need the crossbar read rate", test_read_rate_required},
    {"ISAAC Table I peak powers", test_isaac_peak_powers},
    {"buffer/edram: ISAAC access energy and area", test_edram_isaac},
    {"buffer: width above a bank is refused", test_buffer_width_exceeds_bank},
    {"dram/simple: PHY power is static", test_dram_phy_is_static},
    {"digital/vector: peak over lanes and MACs", test_vector_peak},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "models"
#include "tests/unit/cunit_main.h"
