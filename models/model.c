/* model.c -- kind names, the per-kind action lists and the typed accessors of model.h. */
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/vectorize.h"

static const char *const kind_names[IMC_KIND_COUNT] = {
    [IMC_KIND_CELL] = "cell",         [IMC_KIND_XBAR] = "xbar",
    [IMC_KIND_DAC] = "dac",           [IMC_KIND_ADC] = "adc",
    [IMC_KIND_SH] = "sh",             [IMC_KIND_SHIFTADD] = "shiftadd",
    [IMC_KIND_BUFFER] = "buffer",     [IMC_KIND_NOC] = "noc",
    [IMC_KIND_DRAM] = "dram",         [IMC_KIND_DIGITAL] = "digital",
};

const char *imc_kind_name(imc_kind kind)
{
    return kind < IMC_KIND_COUNT ? kind_names[kind] : "?";
}

static const imc_action cell_actions[] = {
    {"read", "read one cell for one read pulse at the read voltage"},
    {"write", "program one cell to a level"},
};
static const imc_action xbar_actions[] = {
    {"read", "one read of the whole array: every row driven, every column sensed"},
    {"write_row", "program one row of cells"},
};
static const imc_action dac_actions[] = {{"convert", "drive one row with one input slice"}};
static const imc_action adc_actions[] = {{"convert", "one conversion of one column"}};
static const imc_action sh_actions[] = {{"sample", "hold one column's value for conversion"}};
static const imc_action shiftadd_actions[] = {{"add", "shift one partial sum and add it"}};
static const imc_action buffer_actions[] = {
    {"read", "one access of the port width"},
    {"write", "one access of the port width"},
};
static const imc_action noc_actions[] = {{"flit_hop", "one flit through one router or bus"}};
static const imc_action dram_actions[] = {
    {"read_bits", "one bit read from off-chip memory"},
    {"write_bits", "one bit written to off-chip memory"},
};
static const imc_action digital_actions[] = {
    {"add", "one element: add"},
    {"mul", "one element: multiply"},
    {"exp", "one element: exponential"},
    {"div", "one element: divide"},
    {"sigmoid", "one element: sigmoid"},
    {"tanh", "one element: tanh"},
    {"gelu", "one element: GELU"},
    {"layernorm", "one element: layer normalisation"},
    {"softmax", "one element: softmax"},
    {"max", "one element: maximum"},
    {"mac", "one multiply-accumulate of the MAC array"},
};

#define LIST(a) {a, sizeof a / sizeof a[0]}
static const struct {
    const imc_action *actions;
    size_t n;
} kind_actions[IMC_KIND_COUNT] = {
    [IMC_KIND_CELL] = LIST(cell_actions),         [IMC_KIND_XBAR] = LIST(xbar_actions),
    [IMC_KIND_DAC] = LIST(dac_actions),           [IMC_KIND_ADC] = LIST(adc_actions),
    [IMC_KIND_SH] = LIST(sh_actions),             [IMC_KIND_SHIFTADD] = LIST(shiftadd_actions),
    [IMC_KIND_BUFFER] = LIST(buffer_actions),     [IMC_KIND_NOC] = LIST(noc_actions),
    [IMC_KIND_DRAM] = LIST(dram_actions),         [IMC_KIND_DIGITAL] = LIST(digital_actions),
};

const imc_action *imc_kind_actions(imc_kind kind, size_t *n)
{
    if (kind >= IMC_KIND_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = kind_actions[kind].n;
    return kind_actions[kind].actions;
}

imc_cost imc_model_cost(const imc_instance *inst, unsigned action)
{
    return action < IMC_ACTIONS_MAX ? inst->cost[action] : (imc_cost){0, 0};
}

double imc_model_area_um2(const imc_instance *inst)
{
    return inst->area_um2;
}

double imc_model_leakage_mw(const imc_instance *inst)
{
    return inst->leakage_mw;
}

double imc_model_peak_power_mw(const imc_instance *inst)
{
    return inst->peak_power_mw;
}

uint64_t imc_model_latency_ps(const imc_instance *inst, unsigned action)
{
    return (uint64_t)imc_model_cost(inst, action).cycles * inst->period_ps;
}

int imc_model_bits(const imc_instance *inst)
{
    return (int)imc_instance_get(inst, "bits");
}

/* float is exact here: codes < 2^24. Much of the full emulation's time: vector code. */
WIDEST void imc_adc_ideal_convert(int bits, float *v, size_t n, float inv_step)
{
    float top = (float)(ldexp(1, bits) - 1) + 0.5f;
    for (size_t k = 0; k < n; k++) {
        float u = v[k] * inv_step + 0.5f;
        u = u > 0.0f ? u : 0.0f;
        u = u < top ? u : top;
        v[k] = (float)(int32_t)u;
    }
}

uint64_t imc_period_ps(double hz)
{
    double ps = llround(1e12 / hz);
    return ps < 1 ? 1 : (uint64_t)ps;
}

uint32_t imc_cycles_for(double seconds, uint64_t period_ps)
{
    /* Round to the nearest femtosecond before dividing, so 100 ns at 10 ns is 10, not 11. */
    double ps = round(seconds * 1e15) / 1e3;
    double c = ceil(ps / (double)period_ps - 1e-9);
    return c < 1 ? 1 : (uint32_t)c;
}

static const char *const cell_required[] = {"bits", NULL};
static const char *const xbar_required[] = {"rows", "cols", NULL};
static const char *const dac_required[] = {"bits", NULL};
static const char *const adc_required[] = {"bits", NULL};
static const char *const buffer_required[] = {"capacity", "width", "banks", NULL};
static const char *const noc_required[] = {"flit_width", NULL};
static const char *const dram_required[] = {"bandwidth", NULL};
static const char *const none_required[] = {NULL};

const char *const *imc_kind_required_params(imc_kind kind)
{
    switch (kind) {
    case IMC_KIND_CELL: return cell_required;
    case IMC_KIND_XBAR: return xbar_required;
    case IMC_KIND_DAC: return dac_required;
    case IMC_KIND_ADC: return adc_required;
    case IMC_KIND_BUFFER: return buffer_required;
    case IMC_KIND_NOC: return noc_required;
    case IMC_KIND_DRAM: return dram_required;
    default: return none_required;
    }
}

const imc_param *imc_model_param(const imc_model *type, const char *key)
{
    for (size_t i = 0; i < type->n_params; i++)
        if (strcmp(type->params[i].key, key) == 0)
            return &type->params[i];
    return NULL;
}

double imc_instance_get(const imc_instance *inst, const char *key)
{
    const imc_param *p = imc_model_param(inst->type, key);
    if (!p)
        return NAN;
    const char *field = (const char *)inst + p->offset;
    if (p->type == IMC_PT_STRING)
        return NAN;
    if (p->type == IMC_PT_REAL)
        return *(const double *)field;
    int v = *(const int *)field;
    return (p->flags & IMC_PF_OPTIONAL) && v < 0 ? NAN : v;
}

imc_instance *imc_instance_new(const imc_model *type, const char *path)
{
    imc_instance *inst = calloc(1, type->instance_size);
    char *copy = strdup(path ? path : type->name);
    if (!inst || !copy) {
        free(inst);
        free(copy);
        return NULL;
    }
    inst->type = type;
    inst->path = copy;
    for (size_t i = 0; i < type->n_params; i++) {
        const imc_param *p = &type->params[i];
        char *field = (char *)inst + p->offset;
        int unset = (p->flags & (IMC_PF_OPTIONAL | IMC_PF_REQUIRED)) != 0;
        if (p->type == IMC_PT_REAL)
            *(double *)field = unset ? NAN : p->def;
        else if (p->type == IMC_PT_STRING)
            *(char **)field = NULL;
        else
            *(int *)field = unset ? -1 : (int)p->def;
    }
    return inst;
}

int imc_instance_init(imc_instance *inst, const imc_model_env *env, imc_err *err)
{
    return inst->type->init(inst, env, err);
}

void imc_instance_free(imc_instance *inst)
{
    if (!inst)
        return;
    for (size_t i = 0; i < inst->type->n_params; i++)
        if (inst->type->params[i].type == IMC_PT_STRING)
            free(*(char **)((char *)inst + inst->type->params[i].offset));
    free((char *)inst->path);
    free(inst);
}

static void ideal_adc_convert(const imc_instance *self, float *v, size_t n, float inv_step)
{
    imc_adc_ideal_convert(imc_model_bits(self), v, n, inv_step);
}

static int always_exact(const imc_instance *self)
{
    (void)self;
    return 1;
}

const imc_adc_ops imc_adc_ideal_ops = {ideal_adc_convert, always_exact};

static void ideal_dac_levels(const imc_instance *self, float *level, int n)
{
    (void)self;
    for (int k = 0; k < n; k++)
        level[k] = (float)k;
}

const imc_dac_ops imc_dac_ideal_ops = {ideal_dac_levels, always_exact};

/* ---- checking a model ------------------------------------------------------------------------ */

static int bad(const imc_model *t, imc_err *err, const char *what)
{
    return imc_err_set(err, IMC_EINTERNAL, "component model %s: %s", t->name ? t->name : "?",
                       what);
}

int imc_model_check(const imc_model *t, imc_err *err)
{
    char why[256];
    if (t->abi != IMC_MODEL_ABI) {
        snprintf(why, sizeof why, "built for model ABI %u, this imcsim has ABI %d", t->abi,
                 IMC_MODEL_ABI);
        return bad(t, err, why);
    }
    if (!t->name || t->kind >= IMC_KIND_COUNT)
        return bad(t, err, "no name or no valid kind");
    size_t kl = strlen(imc_kind_name(t->kind));
    if (strncmp(t->name, imc_kind_name(t->kind), kl) || t->name[kl] != '/' || !t->name[kl + 1])
        return bad(t, err, "its name must be <kind>/<variant>");
    if (!t->doc || !t->doc[0] || !t->init || t->instance_size < sizeof(imc_instance))
        return bad(t, err, "needs a doc, an init and an instance struct that starts with "
                           "imc_instance");
    for (const char *const *k = imc_kind_required_params(t->kind); *k; k++)
        if (!imc_model_param(t, *k)) {
            snprintf(why, sizeof why, "every %s model must declare '%s'", imc_kind_name(t->kind),
                     *k);
            return bad(t, err, why);
        }
    for (size_t i = 0; i < t->n_params; i++) {
        const imc_param *p = &t->params[i];
        if (!p->key || !p->doc || p->offset + sizeof(double) > t->instance_size ||
            p->offset < sizeof(imc_instance)) {
            snprintf(why, sizeof why, "parameter %zu (%s) is malformed", i, p->key ? p->key : "?");
            return bad(t, err, why);
        }
        if (p->type != IMC_PT_STRING && !(p->flags & (IMC_PF_OPTIONAL | IMC_PF_REQUIRED)) &&
            (p->def < p->min || p->def > p->max)) {
            snprintf(why, sizeof why, "the default of '%s' is outside its range", p->key);
            return bad(t, err, why);
        }
    }
    int wants_cell = t->kind == IMC_KIND_CELL, wants_adc = t->kind == IMC_KIND_ADC,
        wants_dac = t->kind == IMC_KIND_DAC;
    if (wants_cell != (t->cell != NULL) || wants_adc != (t->adc != NULL) ||
        wants_dac != (t->dac != NULL))
        return bad(t, err, "a cell model needs .cell hooks, an ADC .adc, a DAC .dac, and no "
                           "other kind has any");
    if ((t->cell && (!t->cell->level_g || !t->cell->program || !t->cell->read ||
                     !t->cell->exact)) ||
        (t->adc && (!t->adc->convert || !t->adc->exact)) ||
        (t->dac && (!t->dac->levels || !t->dac->exact)))
        return bad(t, err, "a numerics hook is missing");
    return 0;
}
