/* outfile.h -- output files that appear whole or not at all.
 *
 * Every report imcsim writes goes to PATH.tmp.XXXXXX first and is renamed over PATH only when
 * complete, so an interrupted or failed run never leaves a partial file. PATH "-" means
 * stdout (written directly). */
#ifndef IMC_OUTFILE_H
#define IMC_OUTFILE_H

#include <stdio.h>

#include "sim/base/err.h"

typedef struct imc_outfile {
    FILE *fp;          /* write here */
    char *path;        /* final name; NULL for stdout */
    char *tmp;         /* temporary name */
} imc_outfile;

/* Open PATH for writing (via a temporary file in the same directory). */
int imc_outfile_open(imc_outfile *of, const char *path, imc_err *err);

/* Flush, close and rename into place; on failure the temporary file is removed. */
int imc_outfile_commit(imc_outfile *of, imc_err *err);

/* Close and remove the temporary file (no-op after commit). */
void imc_outfile_abort(imc_outfile *of);

/* Write V as one CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line
 * break, as a name from a file's metadata or a sweep value may. */
void imc_csv_field(FILE *out, const char *v);

#endif
