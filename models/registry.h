/* registry.h -- find component models by name ("adc/sar") in the table built from the model
 * list of models/local.mk. Registration is explicit: no constructors, no link-order tricks. */
#ifndef IMC_REGISTRY_H
#define IMC_REGISTRY_H

#include "models/model.h"

/* Number of registered models and the I-th of them (in the order of models/local.mk). */
size_t imc_registry_count(void);
const imc_model *imc_registry_at(size_t i);

/* The model called NAME, or NULL. */
const imc_model *imc_registry_find(const char *name);

/* Check every registered model (imc_model_check) and that no name is taken twice. */
int imc_registry_check(imc_err *err);

#endif
