/* notify.c -- pass notices to the caller's notifier (see notify.h). */
#include "sim/base/notify.h"

#include <stdarg.h>
#include <stdio.h>

void imc_notify_progress(const imc_notifier *n, const char *what, size_t done, size_t total)
{
    if (n && n->progress)
        n->progress(n->ctx, what, done, total);
}

void imc_notify(const imc_notifier *n, imc_note_level level, const char *fmt, ...)
{
    if (!n || !n->note)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n->note(n->ctx, level, msg);
}
