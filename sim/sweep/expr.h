/* sweep_expr.h -- the constraint expressions of a sweep spec: which design points to skip.
 *
 * A constraint is one line of C-like arithmetic and logic over the sweep's key paths, e.g.
 *   "chip.tile.pe.xbar.rows * chip.tile.pe.xbar.cols <= 65536 && chip.tiles != 32"
 *   "chip.tile.pe.adc.model == 'adc/flash' || chip.tile.pe.adc.bits <= 6"
 * Operands: numbers, quoted strings ('...' or "..."), and key paths, whose value at a point is
 * the text the point gives that key (a number when the whole text is a decimal number).
 * Operators, lowest binding first: || && (== != < <= > >=) (+ -) (* / %, % as fmod) and the
 * unary ! and -, and parentheses. A constraint holds when its value is a non-zero number.
 * Parsing checks the syntax (at most 4096 characters, 64 levels of nesting) and that every key
 * path is one the caller knows; evaluation fails on type errors (a string in arithmetic), a
 * division by zero and an overflow. */
#ifndef IMC_SWEEP_EXPR_H
#define IMC_SWEEP_EXPR_H

#include <stddef.h>

#include "sim/base/err.h"

typedef struct imc_expr imc_expr;

/* Parse TEXT. KEYS[0..n_keys) are the key paths it may name; a name is compiled to its index.
 * Errors point at FILE:LINE:COL + the offset of the fault within TEXT (TEXT starts at COL). */
int imc_expr_parse(imc_expr **out, const char *text, const char *const *keys, size_t n_keys,
                   const char *file, int line, int col, imc_err *err);

/* Evaluate with VALUES[i] the text of key i at this point; *HOLDS gets the truth. */
int imc_expr_eval(const imc_expr *e, const char *const *values, int *holds, imc_err *err);

void imc_expr_free(imc_expr *e);

#endif
