/* catalog.c -- list and describe the registered component models (see catalog.h).
 *
 * Describing instantiates the model at its defaults in a reference environment (1 GHz digital
 * clock, 32 nm, 10 M crossbar reads/s, and a default cell/reram under crossbars), so the
 * printed costs are what a config that names the model and sets nothing else would get. */
#include "sim/arch/catalog.h"

#include <string.h>

#include "models/registry.h"
#include "sim/arch/arch.h"
#include "sim/base/suggest.h"

void imc_catalog_list(FILE *out)
{
    fprintf(out, "%-16s %-9s %s\n", "model", "kind", "description");
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        fprintf(out, "%-16s %-9s %s\n", m->name, imc_kind_name(m->kind), m->doc);
    }
}

/* Does M need a parameter no default can give (a file to read)? Then its costs are unknown
 * until an architecture file gives it. */
static const char *required_param(const imc_model *m)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (m->params[i].flags & IMC_PF_REQUIRED)
            return m->params[i].key;
    return NULL;
}

static int describe(const imc_model *m, FILE *out, imc_err *err)
{
    fprintf(out, "%s (%s model)\n  %s\n\nparameters:\n", m->name, imc_kind_name(m->kind), m->doc);
    for (size_t i = 0; i < m->n_params; i++) {
        fputs("  ", out);
        imc_param_print(out, m->params[i].key, &m->params[i]);
    }
    const char *needs = required_param(m);
    if (needs) {
        fprintf(out, "\nactions and costs: they follow from '%s', which has no default\n", needs);
        return 0;
    }
    imc_model_env env = {1e9, 32e-9, NULL, 10e6};
    imc_instance *cell = NULL;
    if (m->kind == IMC_KIND_XBAR) {
        const imc_model *cm = imc_registry_find("cell/reram");
        if (!cm)
            return imc_err_set(err, IMC_EINTERNAL, "no cell/reram model registered");
        if (!(cell = imc_instance_new(cm, "cell")))
            return imc_err_set(err, IMC_ENOMEM, "out of memory");
        if (imc_instance_init(cell, &env, err)) {
            imc_instance_free(cell);
            return IMC_EINTERNAL;
        }
        env.cell = cell;
    }
    imc_instance *inst = imc_instance_new(m, m->name);
    if (!inst) {
        imc_instance_free(cell);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    int rc = imc_instance_init(inst, &env, err);
    if (rc) {
        imc_instance_free(inst);
        imc_instance_free(cell);
        return rc;
    }
    fprintf(out,
            "\nactions at defaults (clock 1 GHz, 32 nm, 10 M reads/s%s; own clock period %llu ps):\n",
            cell ? ", default cell/reram" : "", (unsigned long long)inst->period_ps);
    size_t n_actions;
    const imc_action *actions = imc_kind_actions(m->kind, &n_actions);
    for (size_t i = 0; i < n_actions; i++) {
        imc_cost c = imc_model_cost(inst, (unsigned)i);
        fprintf(out, "  %-10s %12.6g pJ %6u cycle%s  %s\n", actions[i].name, c.energy_pj,
                c.cycles, c.cycles == 1 ? " " : "s", actions[i].doc);
    }
    fprintf(out, "\narea %.6g um2, leakage %.6g mW, peak power %.6g mW (one instance)\n",
            imc_model_area_um2(inst), imc_model_leakage_mw(inst), imc_model_peak_power_mw(inst));
    imc_instance_free(inst);
    imc_instance_free(cell);
    return 0;
}

int imc_catalog_describe(const char *name, FILE *out, imc_err *err)
{
    if (!strcmp(name, "all")) {
        for (size_t i = 0; i < imc_registry_count(); i++) {
            if (i)
                fputc('\n', out);
            int rc = describe(imc_registry_at(i), out, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    const imc_model *m = imc_registry_find(name);
    if (!m) {
        const char *names[128];
        size_t n = 0;
        for (size_t i = 0; i < imc_registry_count() && n < 128; i++)
            names[n++] = imc_registry_at(i)->name;
        const char *near = imc_suggest(name, names, n);
        if (near)
            return imc_err_set(err, IMC_EINPUT,
                               "--describe: unknown model '%s' (did you mean '%s'?)", name, near);
        return imc_err_set(err, IMC_EINPUT,
                           "--describe: unknown model '%s' (see --list-models)", name);
    }
    return describe(m, out, err);
}
