/* sweep_spec.h -- a design-space sweep: the spec file (YAML) and the points it expands to.
 *
 * A spec names a base architecture, a list of models, fixed overrides and axes (a list of
 * values per --set key path), combined as a grid or zipped, minus the points a constraint
 * rejects. Relative file names are relative to the spec's own directory. The format is
 * documented in arch-configs/sweeps/README.md. This module only reads and expands; running
 * the points is sweep_run's job. */
#ifndef IMC_SWEEP_SPEC_H
#define IMC_SWEEP_SPEC_H

#include <stddef.h>

#include "sim/base/err.h"
#include "sim/sweep/expr.h"

typedef struct imc_sweep_axis {
    char *key;          /* a --set key path, e.g. chip.tile.pe.adc.bits */
    char **values;      /* the values as written */
    size_t n_values;
    int line, col;      /* where the spec names it */
    size_t leader;      /* the first axis of its linked group (itself when not linked): the
                           axes of a group advance together, as one dimension of the grid */
} imc_sweep_axis;

typedef struct imc_sweep_model {
    char *file;         /* resolved against the spec's directory */
    char *label;        /* the results' `model` column and the point's folder name */
    int line, col;      /* where the spec names it */
} imc_sweep_model;

typedef struct imc_sweep_spec {
    char *path;         /* the spec file */
    char *arch;         /* base architecture, resolved */
    imc_sweep_model *models;
    size_t n_models;
    char **set;         /* fixed "KEY=VALUE" overrides, applied before the axes */
    int *set_line, *set_col; /* [i]: where the spec names set[i]'s key */
    size_t n_set;
    imc_sweep_axis *axes;
    size_t n_axes;
    int zip;            /* 0: grid (every combination, the last axis fastest); 1: zipped
                           (all axes linked) */
    imc_expr **constraints;
    int *constraint_line; /* [c]: where constraint c is */
    size_t n_constraints;
    int batch;          /* imcsim --batch; 0: its default */
    char *kernel;       /* imcsim --kernel, or NULL */
    int numerics;       /* also run --numerics for every point and model */
    char *dataset;      /* --dataset (resolved), or NULL: synthetic images */
    long images;        /* --images, 0: the default */
    long seed;          /* --seed, 0: the default */
    /* the expansion: n_points points, point p takes axes[a].values[choice[p * n_axes + a]] */
    size_t n_points;
    size_t n_skipped;   /* rejected by a constraint */
    size_t *choice;
} imc_sweep_spec;

/* Read, check and expand the spec at PATH. Errors are FILE:LINE:COL. */
int imc_sweep_spec_load(imc_sweep_spec **out, const char *path, imc_err *err);

/* Check S against imcsim's schema before anything runs: the base architecture loads with the
 * `set` overrides, every axis key is a key of the schema (an axis value imcsim rejects is a
 * failed point, not a spec error) and the model files exist. Errors point into the spec (or
 * into the architecture file, for its own mistakes). */
int imc_sweep_spec_check(const imc_sweep_spec *s, imc_err *err);

/* The value of axis A at point P. */
const char *imc_sweep_value(const imc_sweep_spec *s, size_t p, size_t a);

void imc_sweep_spec_free(imc_sweep_spec *s);

#endif
