/* model.c -- kind names, the per-kind action lists and the typed accessors of model.h. */
#include "models/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static const char *const cell_actions[] = {"read", "write"};
static const char *const xbar_actions[] = {"read", "write_row"};
static const char *const dac_actions[] = {"convert"};
static const char *const adc_actions[] = {"convert"};
static const char *const sh_actions[] = {"sample"};
static const char *const shiftadd_actions[] = {"add"};
static const char *const buffer_actions[] = {"read", "write"};
static const char *const noc_actions[] = {"flit_hop"};
static const char *const dram_actions[] = {"read_bits", "write_bits"};
static const char *const digital_actions[] = {"add",     "mul",  "exp",  "div",
                                              "sigmoid", "tanh", "gelu", "layernorm",
                                              "softmax", "max",  "mac"};

#define LIST(a) {a, sizeof a / sizeof a[0]}
static const struct {
    const char *const *names;
    size_t n;
} kind_actions[IMC_KIND_COUNT] = {
    [IMC_KIND_CELL] = LIST(cell_actions),         [IMC_KIND_XBAR] = LIST(xbar_actions),
    [IMC_KIND_DAC] = LIST(dac_actions),           [IMC_KIND_ADC] = LIST(adc_actions),
    [IMC_KIND_SH] = LIST(sh_actions),             [IMC_KIND_SHIFTADD] = LIST(shiftadd_actions),
    [IMC_KIND_BUFFER] = LIST(buffer_actions),     [IMC_KIND_NOC] = LIST(noc_actions),
    [IMC_KIND_DRAM] = LIST(dram_actions),         [IMC_KIND_DIGITAL] = LIST(digital_actions),
};

const char *const *imc_kind_actions(imc_kind kind, size_t *n)
{
    if (kind >= IMC_KIND_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = kind_actions[kind].n;
    return kind_actions[kind].names;
}

imc_cost imc_model_cost(const imc_instance *inst, unsigned action)
{
    return inst->type->cost(inst, action);
}

double imc_model_area_um2(const imc_instance *inst)
{
    return inst->type->area_um2(inst);
}

double imc_model_leakage_mw(const imc_instance *inst)
{
    return inst->type->leakage_mw(inst);
}

double imc_model_peak_power_mw(const imc_instance *inst)
{
    return inst->type->peak_power_mw(inst);
}

uint64_t imc_model_latency_ps(const imc_instance *inst, unsigned action)
{
    return (uint64_t)inst->type->cost(inst, action).cycles * inst->period_ps;
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
    free((char *)inst->path);
    free(inst);
}
