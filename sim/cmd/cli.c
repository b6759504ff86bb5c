/* cli.c -- error output and exit statuses of the command-line programs (see cli.h). */
#include "sim/cmd/cli.h"

#include "sim/base/outfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int imc_cli_finish(const char *prog, int status)
{
    imc_err err;
    imc_err_clear(&err);
    if (imc_outfile_close_stdout(&err) == 0)
        return status;
    int rc = imc_cli_report(prog, &err);
    return status ? status : rc;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void clear_progress(imc_cli_notify_state *st)
{
    if (st->shown) {
        fputs("\r\033[K", stderr);
        st->shown = 0;
    }
}

static void on_progress(void *ctx, const char *what, size_t done, size_t total)
{
    imc_cli_notify_state *st = ctx;
    if (st->quiet || !st->tty)
        return;
    double t = now_s();
    if (st->start_s == 0)
        st->start_s = t;
    double spent = t - st->start_s;
    if (done >= total) {
        clear_progress(st);
        st->start_s = 0;
        return;
    }
    if (spent < 2 || done == 0)
        return;
    double rate = (double)done / spent;
    fprintf(stderr, "\r\033[K%s %zu/%zu, %.3g/s, %.0f s left", what, done, total, rate,
            (double)(total - done) / rate);
    fflush(stderr);
    st->shown = 1;
}

static void on_note(void *ctx, imc_note_level level, const char *msg)
{
    imc_cli_notify_state *st = ctx;
    if (level == IMC_NOTE_INFO && st->quiet)
        return;
    clear_progress(st);
    if (level == IMC_NOTE_INFO)
        fprintf(stderr, "%s\n", msg);
    else
        fprintf(stderr, "%s: %s: %s\n", st->prog, level == IMC_NOTE_WARNING ? "warning" : "error",
                msg);
}

imc_notifier imc_cli_notifier(imc_cli_notify_state *state, const char *prog, int quiet)
{
    memset(state, 0, sizeof *state);
    state->prog = prog;
    state->quiet = quiet;
    state->tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    return (imc_notifier){on_progress, on_note, state};
}
