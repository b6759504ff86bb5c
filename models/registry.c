/* registry.c -- the static table of component models (see models.def). */
#include "models/registry.h"

#include <string.h>

#define IMC_MODEL(sym) extern const imc_model sym;
#include "models/models.def"
#undef IMC_MODEL

static const imc_model *const registry[] = {
#define IMC_MODEL(sym) &sym,
#include "models/models.def"
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
