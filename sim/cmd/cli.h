/* cli.h -- what the command-line programs (imcsim, imcsim-model, imcsim-sweep) share: how an
 * error reaches the user and which exit status it gets. Only the programs' main files use it;
 * the library never prints (err.h). */
#ifndef IMC_CLI_H
#define IMC_CLI_H

#include "sim/base/err.h"
#include "sim/base/notify.h"

enum { IMC_EXIT_FAILURE = 1, IMC_EXIT_BAD_INPUT = 2 };

/* Print "PROG: error: MESSAGE" (one line) on stderr; returns IMC_EXIT_BAD_INPUT. */
int imc_cli_bad(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print ERR as "PROG: FILE:LINE:COL: error: ..." on stderr; returns the exit status it calls
 * for: IMC_EXIT_BAD_INPUT for bad input, IMC_EXIT_FAILURE otherwise. */
int imc_cli_report(const char *prog, const imc_err *err);

/* The end of a command's main(): stdout is flushed and checked (a full disk or a closed pipe
 * must not pass as success: "PROG: error: writing to stdout: ..." and IMC_EXIT_FAILURE).
 * Returns STATUS, or that failure when STATUS is 0. */
int imc_cli_finish(const char *prog, int status);

/* The commands' notifier: info lines on stderr as they are; warnings and errors as
 * "PROG: warning: ..."; progress as one line rewritten in place on stderr ("images 120/1000,
 * 41.3/s, 21 s left"), only when stdout and stderr are both terminals and the work has already
 * taken 2 s. QUIET drops info lines and progress. STATE lives as long as the notifier. */
typedef struct imc_cli_notify_state {
    const char *prog;
    int quiet, tty;
    double start_s;  /* when the first progress notice came */
    int shown;       /* a progress line is on the screen */
} imc_cli_notify_state;

imc_notifier imc_cli_notifier(imc_cli_notify_state *state, const char *prog, int quiet);

#endif
