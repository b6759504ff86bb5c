/* cli.c -- error output and exit statuses of the command-line programs (see cli.h). */
#include "sim/cmd/cli.h"

#include <stdarg.h>
#include <stdio.h>

int imc_cli_bad(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return IMC_EXIT_BAD_INPUT;
}

int imc_cli_report(const char *prog, const imc_err *err)
{
    char line[1024];
    imc_err_format(err, line, sizeof line);
    fprintf(stderr, "%s: %s\n", prog, line);
    return err->status == IMC_EINPUT ? IMC_EXIT_BAD_INPUT : IMC_EXIT_FAILURE;
}
