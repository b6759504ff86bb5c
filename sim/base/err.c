/* err.c -- filling and formatting imc_err records (see err.h). */
#include "sim/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void imc_err_clear(imc_err *err)
{
    memset(err, 0, sizeof *err);
}

static void set_msg(imc_err *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    for (char *p = err->msg; *p; p++) /* a message is one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int imc_err_set(imc_err *err, int status, const char *fmt, ...)
{
    if (!err)
        return status;
    va_list ap;
    err->status = status;
    err->file[0] = '\0';
    err->line = err->col = 0;
    va_start(ap, fmt);
    set_msg(err, fmt, ap);
    va_end(ap);
    return status;
}

int imc_err_at(imc_err *err, int status, const char *file, int line, int col, const char *fmt,
               ...)
{
    if (!err)
        return status;
    va_list ap;
    err->status = status;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->col = col;
    va_start(ap, fmt);
    set_msg(err, fmt, ap);
    va_end(ap);
    return status;
}

void imc_err_format(const imc_err *err, char *buf, size_t size)
{
    if (err->file[0] && err->line > 0)
        snprintf(buf, size, "%s:%d:%d: error: %s", err->file, err->line, err->col, err->msg);
    else if (err->file[0])
        snprintf(buf, size, "%s: error: %s", err->file, err->msg);
    else
        snprintf(buf, size, "error: %s", err->msg);
}
