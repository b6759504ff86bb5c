/* registry.c -- the static table of component models. Its entries come from the model list in
 * models/local.mk (the build writes them to models/registry.inc), in --list-models order:
 * registration is explicit, never by constructor attributes or link order. */
#include "models/registry.h"

#include <string.h>

#define IMC_MODEL(sym) extern const imc_model sym;
#include "models/registry.inc"
#undef IMC_MODEL

static const imc_model *const registry[] = {
#define IMC_MODEL(sym) &sym,
#include "models/registry.inc"
#undef IMC_MODEL
};

size_t imc_registry_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const imc_model *imc_registry_at(size_t i)
{
    return i < imc_registry_count() ? registry[i] : NULL;
}

const imc_model *imc_registry_find(const char *name)
{
    for (size_t i = 0; i < imc_registry_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int imc_registry_check(imc_err *err)
{
    for (size_t i = 0; i < imc_registry_count(); i++) {
        int rc = imc_model_check(registry[i], err);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(registry[i]->name, registry[j]->name))
                return imc_err_set(err, IMC_EINTERNAL, "component model %s is registered twice",
                                   registry[i]->name);
    }
    return 0;
}
