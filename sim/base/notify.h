/* notify.h -- how library code tells its caller about progress and things worth a word,
 * without printing (err.h: the library never prints or exits).
 *
 * A command installs a notifier (sim/cmd/cli.h has the one for a terminal); library code hands
 * it notices and goes on. A NULL notifier, or a NULL function in one, drops them. */
#ifndef IMC_NOTIFY_H
#define IMC_NOTIFY_H

#include <stddef.h>

typedef enum imc_note_level { IMC_NOTE_INFO, IMC_NOTE_WARNING, IMC_NOTE_ERROR } imc_note_level;

typedef struct imc_notifier {
    /* DONE of TOTAL WHAT ("images", "runs") are finished; called again as more finish */
    void (*progress)(void *ctx, const char *what, size_t done, size_t total);
    /* one line, without a newline */
    void (*note)(void *ctx, imc_note_level level, const char *msg);
    void *ctx;
} imc_notifier;

void imc_notify_progress(const imc_notifier *n, const char *what, size_t done, size_t total);
void imc_notify(const imc_notifier *n, imc_note_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
