/* outfile.h -- output files that appear whole or not at all, and never clobber what they
 * should not.
 *
 * A regular file (or a new one) is written to PATH.tmp.HOST.PID.XXXXXX in the same folder and
 * renamed over PATH only when complete, so an interrupted or failed run never leaves a partial
 * file. What PATH is decides the rest:
 *   - "-" is stdout, written directly;
 *   - a symbolic link is followed: its target is replaced, the link stays;
 *   - a device, a FIFO, a socket or an open file such as /dev/stdout or /dev/fd/N (a pipe from
 *     `>(gzip > x)`) is written directly, as a shell redirection would: it cannot be renamed over;
 *   - an existing regular file keeps its mode and owner; one with several hard links is
 *     rewritten in place at commit (from the complete temporary), so every link sees the result.
 * Temporaries are removed when the process is stopped by SIGINT, SIGTERM or SIGHUP (after
 * imc_outfile_on_signals()), and the next open in the same folder removes those that a killed
 * process of this host (SIGKILL, a crash) left. Every write is checked at commit. */
#ifndef IMC_OUTFILE_H
#define IMC_OUTFILE_H

#include <stdio.h>

#include "sim/base/err.h"

typedef struct imc_outfile {
    FILE *fp;          /* write here */
    char *path;        /* final name (a symlink's target); NULL when written directly */
    char *tmp;         /* temporary name */
    int in_place;      /* 1: copy the temporary into PATH at commit (hard links) */
    const char *shown; /* the name as given, for messages */
} imc_outfile;

/* Open PATH for writing as described above. */
int imc_outfile_open(imc_outfile *of, const char *path, imc_err *err);

/* Flush, check and close; rename (or copy) into place. On failure the temporary is removed. */
int imc_outfile_commit(imc_outfile *of, imc_err *err);

/* Close and remove the temporary file (no-op after commit). */
void imc_outfile_abort(imc_outfile *of);

/* Remove the open temporaries when SIGINT, SIGTERM or SIGHUP stops the process (the signal
 * then takes its default course, so the exit status says it). The commands call it once. */
void imc_outfile_on_signals(void);

/* A file an output would overwrite. */
typedef struct imc_io_name {
    const char *option; /* e.g. "--csv" */
    const char *path;
} imc_io_name;

/* Refuse outputs that are one of the inputs, or each other (the same file by device and inode,
 * whatever the names: a link, ./x and x). "-" and outputs that do not exist yet never clash.
 * IMC_EINPUT, naming both options, or 0. */
int imc_outfile_check_distinct(const imc_io_name *outputs, size_t n_out, const imc_io_name *inputs,
                               size_t n_in, imc_err *err);

/* Flush and check stdout at the end of a command: a full disk or a closed pipe must not pass
 * as success. 0, or IMC_EIO in ERR. */
int imc_outfile_close_stdout(imc_err *err);

/* Write V as one CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line
 * break, as a name from a file's metadata or a sweep value may. */
void imc_csv_field(FILE *out, const char *v);

/* The length of the valid UTF-8 sequence at S (1 to 4), or 0 when S does not start one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
int imc_utf8_len(const char *s);

/* 1 when S is valid UTF-8 without control characters other than tab: a string a YAML or JSON
 * file can hold as it is. */
int imc_text_ok(const char *s);

/* Write V as the inside of a JSON string (no quotes), escaped as imc_json_string does. */
void imc_json_text(FILE *out, const char *v);

/* Write V as a JSON string (quotes included): '"', '\\' and control characters escaped, a byte
 * that is not UTF-8 written as U+FFFD, so that any name gives JSON that parses. */
void imc_json_string(FILE *out, const char *v);

/* Write V as a YAML double-quoted scalar, escaped likewise, so that it reloads as V. */
void imc_yaml_string(FILE *out, const char *v);

#endif
