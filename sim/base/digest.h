/* digest.h -- SHA-256 of texts and files, for provenance: every output records a digest of
 * the inputs that made it, and a resumed sweep reruns a point whose inputs' digest changed.
 * (FIPS 180-4 by OpenSSL's libcrypto, for its speed; nothing here is a security boundary.) */
#ifndef IMC_DIGEST_H
#define IMC_DIGEST_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "sim/base/err.h"

/* HEX of the bytes of the file PATH, or of every regular file in the folder PATH (by name, each
 * name hashed before its bytes). IMC_EINPUT or IMC_EIO with ERR when one cannot be read. */
int imc_digest_path(const char *path, char hex[65], imc_err *err);

/* The environment variable through which a process hands the digests it has computed to the
 * processes it starts (imcsim-sweep to its imcsim runs, which would otherwise hash the same
 * model file once per run): one line per regular file, "HEX DEV INO SIZE MTIME_SEC MTIME_NSEC".
 * imc_digest_path takes a digest from it only for the very file named there, unchanged since. */
#define IMC_DIGEST_ENV "IMCSIM_KNOWN_SHA256"

/* Add HEX, the digest of the file PATH, to IMC_DIGEST_ENV for the processes started later.
 * A folder is left out. 0, or IMC_ENOMEM. */
int imc_digest_export(const char *path, const char *hex, imc_err *err);

/* HEX of TEXT: 0, or IMC_EIO (libcrypto cannot be loaded) or IMC_ENOMEM with ERR, HEX then "". */
int imc_digest_text(const char *text, size_t n, char hex[65], imc_err *err);

/* The provenance of a run's outputs: the imcsim version and one line per input, "WHAT sha256
 * HEX" (the resolved architecture, each model, trace and dataset file) or "option K=V" (what
 * else changes results), and the digest of those lines -- what every output records and what a
 * resumed sweep compares. */
typedef struct imc_provenance {
    char *lines;       /* malloc'd, '\n'-terminated lines; NULL after an allocation failed */
    size_t len;
    int oom;
    char version[32];
    char digest[65];   /* after imc_provenance_finish */
} imc_provenance;

/* Start with the line "imcsim VERSION". */
void imc_provenance_init(imc_provenance *p, const char *version);

/* Add "WHAT sha256 HEX" for a digest already known (a file hashed once for many runs). */
void imc_provenance_hex(imc_provenance *p, const char *what, const char *hex);

/* Add "WHAT sha256 HEX" for N bytes of TEXT (a resolved architecture dump). */
void imc_provenance_text(imc_provenance *p, const char *what, const char *text, size_t n);

/* Add the line "option TEXT". */
void imc_provenance_option(imc_provenance *p, const char *text);

/* Compute the digest; 0, or IMC_ENOMEM when a line could not be stored, or IMC_EIO when
 * libcrypto cannot be loaded. */
int imc_provenance_finish(imc_provenance *p, imc_err *err);

void imc_provenance_free(imc_provenance *p);

/* Write P as the comment line a CSV file starts with: "# imcsim VERSION, inputs sha256 HEX". */
void imc_provenance_csv(FILE *out, const imc_provenance *p);

/* Write P as the top-level YAML key `provenance:` (version, digest, the input lines). */
void imc_provenance_yaml(FILE *out, const imc_provenance *p);

#endif
