/* err.h -- the error convention every imcsim module follows.
 *
 * Functions return 0 on success or a negative IMC_E* status, and describe the failure in a
 * caller-owned imc_err: a one-line message plus, when the failure points into a file (a config
 * or a model file), its name, line and column. Library code never prints or exits; the commands (sim/cmd)
 * formats the error with imc_err_format() and chooses the exit status. */
#ifndef IMC_ERR_H
#define IMC_ERR_H

#include <stddef.h>

enum {
    IMC_OK = 0,
    IMC_EINPUT = -1, /* bad user input: config, model file, option (exit status 2) */
    IMC_ENOMEM = -2, /* out of memory */
    IMC_EIO = -3,    /* an operating-system I/O failure */
    IMC_EINTERNAL = -4
};

typedef struct imc_err {
    int status;     /* the IMC_E* code last set */
    char msg[640];  /* one line, no trailing newline */
    char file[256]; /* file the error points into, "" if none */
    int line, col;  /* 1-based; 0 when unknown */
} imc_err;

/* Clear an error record. */
void imc_err_clear(imc_err *err);

/* Set a message without a location; returns status so callers can `return imc_err_set(...)`. */
int imc_err_set(imc_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set a message that points at FILE:LINE:COL. */
int imc_err_at(imc_err *err, int status, const char *file, int line, int col, const char *fmt,
               ...) __attribute__((format(printf, 6, 7)));

/* Format as the user sees it: "FILE:LINE:COL: error: MSG", "FILE: error: MSG" or
 * "error: MSG". */
void imc_err_format(const imc_err *err, char *buf, size_t size);

#endif
