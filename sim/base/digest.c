/* digest.c -- SHA-256 of texts, files and folders (see digest.h), by OpenSSL's libcrypto,
 * loaded at the first digest. */
#include "config.h"

#include "sim/base/digest.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "sim/base/infile.h"
#include "sim/base/outfile.h"

/* libcrypto is not linked but loaded by the first digest: linked, it cost every process 4 ms
 * at start, mostly its relocations (an empty program 3.2 ms, with libcrypto 7.3 ms, perf stat
 * -r 40), and only a run that writes outputs hashes anything. Its shared object's name follows
 * the headers' version (OpenSSL 3: libcrypto.so.3), looked for where the loader looks, then
 * in pkg-config's libdir (configure's IMC_CRYPTO_LIBDIR). */
#define STRINGIFY(x) #x
#define STRING(x) STRINGIFY(x)
#ifdef OPENSSL_SHLIB_VERSION
#define CRYPTO_SONAME "libcrypto.so." STRING(OPENSSL_SHLIB_VERSION)
#else
#define CRYPTO_SONAME "libcrypto.so." SHLIB_VERSION_NUMBER /* OpenSSL 1.1 */
#endif

static struct {
    EVP_MD_CTX *(*ctx_new)(void);
    void (*ctx_free)(EVP_MD_CTX *);
    const EVP_MD *(*sha256)(void);
    int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
    int (*update)(EVP_MD_CTX *, const void *, size_t);
    int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
    int ready;
    char why[512]; /* why it could not be loaded */
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_load(void)
{
    void *h = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
#ifdef IMC_CRYPTO_LIBDIR
    if (!h)
        h = dlopen(IMC_CRYPTO_LIBDIR "/" CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
#endif
    if (!h) {
        const char *e = dlerror();
        snprintf(crypto.why, sizeof crypto.why, "%s", e ? e : "not found");
        return;
    }
    /* (a function pointer through void *, as POSIX's dlsym asks) */
    *(void **)&crypto.ctx_new = dlsym(h, "EVP_MD_CTX_new");
    *(void **)&crypto.ctx_free = dlsym(h, "EVP_MD_CTX_free");
    *(void **)&crypto.sha256 = dlsym(h, "EVP_sha256");
    *(void **)&crypto.init = dlsym(h, "EVP_DigestInit_ex");
    *(void **)&crypto.update = dlsym(h, "EVP_DigestUpdate");
    *(void **)&crypto.final = dlsym(h, "EVP_DigestFinal_ex");
    crypto.ready = crypto.ctx_new && crypto.ctx_free && crypto.sha256 && crypto.init &&
                   crypto.update && crypto.final;
    if (!crypto.ready) {
        snprintf(crypto.why, sizeof crypto.why, "it has no EVP_sha256 digest functions");
        dlclose(h);
    }
}

/* 0 once libcrypto is loaded, else IMC_EIO with ERR. */
static int crypto_ready(imc_err *err)
{
    pthread_once(&crypto_once, crypto_load);
    return crypto.ready ? 0
                        : imc_err_set(err, IMC_EIO, "cannot load OpenSSL's %s for SHA-256: %s",
                                      CRYPTO_SONAME, crypto.why);
}

/* One SHA-256 in progress: OpenSSL's, which uses the CPU's SHA extensions where there are
 * some: 1.2 GB/s here, against 60 MB/s for the portable C this replaced -- every run with an
 * output hashes its model file, 200 MB for FAR-S. */
typedef struct imc_digest {
    EVP_MD_CTX *ctx; /* NULL after an allocation failed */
} imc_digest;

/* 0, or IMC_EIO (no libcrypto) or IMC_ENOMEM with ERR. */
static int digest_init(imc_digest *d, imc_err *err)
{
    d->ctx = NULL;
    int rc = crypto_ready(err);
    if (rc)
        return rc;
    d->ctx = crypto.ctx_new();
    if (!d->ctx || crypto.init(d->ctx, crypto.sha256(), NULL) != 1) {
        crypto.ctx_free(d->ctx);
        d->ctx = NULL;
        return imc_err_set(err, IMC_ENOMEM, "out of memory (SHA-256 context)");
    }
    return 0;
}

static void digest_add(imc_digest *d, const void *data, size_t n)
{
    crypto.update(d->ctx, data, n); /* cannot fail once initialised with SHA-256 */
}

/* Finish D (and free it); its 64 lower-case hex digits and a NUL in HEX. */
static void digest_hex(imc_digest *d, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    crypto.final(d->ctx, md, &len);
    crypto.ctx_free(d->ctx);
    d->ctx = NULL;
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void digest_free(imc_digest *d)
{
    if (d->ctx)
        crypto.ctx_free(d->ctx);
    d->ctx = NULL;
}

int imc_digest_text(const char *text, size_t n, char hex[65], imc_err *err)
{
    imc_digest d;
    hex[0] = '\0';
    int rc = digest_init(&d, err);
    if (rc)
        return rc;
    digest_add(&d, text, n);
    digest_hex(&d, hex);
    return 0;
}

static int add_file(imc_digest *d, const char *path, imc_err *err)
{
    FILE *f;
    int rc = imc_infile_open(&f, path, err);
    if (rc)
        return rc;
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        digest_add(d, buf, n);
    rc = ferror(f) ? imc_err_at(err, IMC_EIO, path, 0, 0, "cannot read: %s", strerror(errno)) : 0;
    fclose(f);
    return rc;
}

static int is_entry(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* ---- digests known from the parent ------------------------------------------------------- */

/* The line IMC_DIGEST_ENV holds for the regular file behind ST: "HEX DEV INO SIZE SEC NSEC"
 * (its identity and modification time), in LINE. */
static void known_line(const struct stat *st, const char *hex, char *line, size_t n)
{
    snprintf(line, n, "%s %llu %llu %lld %lld %ld", hex, (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino, (long long)st->st_size,
             (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* The digest IMC_DIGEST_ENV gives for the file behind ST into HEX: 1, or 0 when it gives none
 * for that very file (same device, inode, size and modification time). */
static int known_digest(const struct stat *st, char hex[65])
{
    const char *env = getenv(IMC_DIGEST_ENV);
    if (!env)
        return 0;
    char want[160];
    known_line(st, "", want, sizeof want); /* " DEV INO SIZE SEC NSEC" */
    size_t wn = strlen(want);
    for (const char *l = env; *l;) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        if (n == 64 + wn && !strncmp(l + 64, want, wn) && strspn(l, "0123456789abcdef") >= 64) {
            memcpy(hex, l, 64);
            hex[64] = '\0';
            return 1;
        }
        l += n + (end != NULL);
    }
    return 0;
}

int imc_digest_export(const char *path, const char *hex, imc_err *err)
{
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode))
        return 0; /* a folder, or gone: the children hash it themselves */
    char line[160];
    known_line(&st, hex, line, sizeof line);
    const char *old = getenv(IMC_DIGEST_ENV);
    size_t n = (old ? strlen(old) + 1 : 0) + strlen(line) + 1;
    char *all = malloc(n);
    if (!all)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    snprintf(all, n, "%s%s%s", old ? old : "", old ? "\n" : "", line);
    int rc = setenv(IMC_DIGEST_ENV, all, 1) ? imc_err_set(err, IMC_ENOMEM, "out of memory") : 0;
    free(all);
    return rc;
}

int imc_digest_path(const char *path, char hex[65], imc_err *err)
{
    struct stat known;
    if (stat(path, &known) == 0 && S_ISREG(known.st_mode) && known_digest(&known, hex))
        return 0;
    imc_digest d;
    int rc = digest_init(&d, err);
    if (rc)
        return rc;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, is_entry, alphasort);
        if (n < 0) {
            digest_free(&d);
            return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot read: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
            char *file = malloc(len);
            if (!file && !rc)
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
            if (file && !rc) {
                snprintf(file, len, "%s/%s", path, names[i]->d_name);
                if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
                    digest_add(&d, names[i]->d_name, strlen(names[i]->d_name) + 1);
                    rc = add_file(&d, file, err);
                }
            }
            free(file);
            free(names[i]);
        }
        free(names);
    } else {
        rc = add_file(&d, path, err);
    }
    if (!rc)
        digest_hex(&d, hex);
    else
        digest_free(&d);
    return rc;
}

/* ---- provenance --------------------------------------------------------------------------- */

static void add_line(imc_provenance *p, const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *grown = p->oom ? NULL : realloc(p->lines, p->len + n + 1);
    if (!grown) {
        p->oom = 1;
        return;
    }
    p->lines = grown;
    p->len += (size_t)snprintf(p->lines + p->len, n + 1, "%s%s%s\n", a, b, c);
}

void imc_provenance_init(imc_provenance *p, const char *version)
{
    memset(p, 0, sizeof *p);
    snprintf(p->version, sizeof p->version, "%s", version);
    add_line(p, "imcsim ", version, "");
}

void imc_provenance_hex(imc_provenance *p, const char *what, const char *hex)
{
    add_line(p, what, " sha256 ", hex);
}

void imc_provenance_text(imc_provenance *p, const char *what, const char *text, size_t n)
{
    char hex[65];
    (void)imc_digest_text(text, n, hex, NULL); /* a failure is imc_provenance_finish's to say */
    add_line(p, what, " sha256 ", hex);
}

void imc_provenance_option(imc_provenance *p, const char *text)
{
    add_line(p, "option ", text, "");
}

int imc_provenance_finish(imc_provenance *p, imc_err *err)
{
    if (p->oom)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    return imc_digest_text(p->lines, p->len, p->digest, err);
}

void imc_provenance_free(imc_provenance *p)
{
    free(p->lines);
    memset(p, 0, sizeof *p);
}

void imc_provenance_csv(FILE *out, const imc_provenance *p)
{
    fprintf(out, "# imcsim %s, inputs sha256 %s\n", p->version, p->digest);
}

void imc_provenance_yaml(FILE *out, const imc_provenance *p)
{
    fprintf(out, "provenance:\n  imcsim: \"%s\"\n  inputs_sha256: %s\n  inputs:\n", p->version,
            p->digest);
    for (const char *l = p->lines; l && *l;) {
        size_t n = strcspn(l, "\n");
        fputs("    - ", out);
        char *line = strndup(l, n);
        imc_yaml_string(out, line ? line : "");
        free(line);
        fputc('\n', out);
        l += n + (l[n] == '\n');
    }
}
