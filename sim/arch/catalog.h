/* catalog.h -- what `imcsim --list-models` and `--describe NAME` print: the registered
 * component models with their parameters, actions and costs at default parameters. */
#ifndef IMC_CATALOG_H
#define IMC_CATALOG_H

#include <stdio.h>

#include "sim/base/err.h"

/* One line per registered model: name, kind, doc. */
void imc_catalog_list(FILE *out);

/* Parameters, actions (with their default energy and latency), area, leakage and peak power
 * of the model NAME at its defaults ("all": of every model). IMC_EINPUT for an unknown name
 * (with a suggestion). */
int imc_catalog_describe(const char *name, FILE *out, imc_err *err);

#endif
