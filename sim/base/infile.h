/* infile.h -- opening an input file (an architecture, a spec, a trace, a model, a dataset).
 *
 * Inputs are regular files: imcsim reads some of them twice or needs their size, and a FIFO
 * with no writer would block the run forever. The check is made on a descriptor opened with
 * O_NONBLOCK, so that naming a FIFO is an error at once, never a hang. */
#ifndef IMC_INFILE_H
#define IMC_INFILE_H

#include <stdio.h>

#include "sim/base/err.h"

/* Open PATH for reading as a regular file: IMC_EINPUT "PATH: error: cannot open: ..." or
 * "PATH: error: not a regular file (a FIFO, a device or a folder)". */
int imc_infile_open(FILE **out, const char *path, imc_err *err);

/* The same, as a descriptor (for mmap and gzdopen). */
int imc_infile_open_fd(int *out, const char *path, imc_err *err);

#endif
