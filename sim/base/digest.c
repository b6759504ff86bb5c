/* digest.c -- SHA-256 (FIPS 180-4) of texts, files and folders (see digest.h). */
#include "sim/base/digest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/base/infile.h"
#include "sim/base/outfile.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n)
{
    return x >> n | x << (32 - n);
}

static void compress(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64], s[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++)
        w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) + w[i - 7] +
               (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
    memcpy(s, h, sizeof s);
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = s[7] + (ror(s[4], 6) ^ ror(s[4], 11) ^ ror(s[4], 25)) +
                      ((s[4] & s[5]) ^ (~s[4] & s[6])) + K[i] + w[i];
        uint32_t t2 = (ror(s[0], 2) ^ ror(s[0], 13) ^ ror(s[0], 22)) +
                      ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
        memmove(s + 1, s, 7 * sizeof *s);
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += s[i];
}

void imc_digest_init(imc_digest *d)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memset(d, 0, sizeof *d);
    memcpy(d->h, h0, sizeof h0);
}

void imc_digest_add(imc_digest *d, const void *data, size_t n)
{
    const unsigned char *p = data;
    d->bytes += n;
    while (n > 0) {
        size_t take = 64 - d->used < n ? 64 - d->used : n;
        memcpy(d->block + d->used, p, take);
        d->used += take;
        p += take;
        n -= take;
        if (d->used == 64) {
            compress(d->h, d->block);
            d->used = 0;
        }
    }
}

void imc_digest_hex(imc_digest *d, char hex[65])
{
    uint64_t bits = d->bytes * 8;
    unsigned char pad[72] = {0x80};
    size_t n = (d->used < 56 ? 56 : 120) - d->used;
    for (int i = 0; i < 8; i++)
        pad[n + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    imc_digest_add(d, pad, n + 8);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 8 * i, 9, "%08x", d->h[i]);
}

void imc_digest_text(const char *text, size_t n, char hex[65])
{
    imc_digest d;
    imc_digest_init(&d);
    imc_digest_add(&d, text, n);
    imc_digest_hex(&d, hex);
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
        imc_digest_add(d, buf, n);
    rc = ferror(f) ? imc_err_at(err, IMC_EIO, path, 0, 0, "cannot read: %s", strerror(errno)) : 0;
    fclose(f);
    return rc;
}

static int is_entry(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int imc_digest_path(const char *path, char hex[65], imc_err *err)
{
    imc_digest d;
    imc_digest_init(&d);
    struct stat st;
    int rc = 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, is_entry, alphasort);
        if (n < 0)
            return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot read: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
            char *file = malloc(len);
            if (!file && !rc)
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
            if (file && !rc) {
                snprintf(file, len, "%s/%s", path, names[i]->d_name);
                if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
                    imc_digest_add(&d, names[i]->d_name, strlen(names[i]->d_name) + 1);
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
        imc_digest_hex(&d, hex);
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

int imc_provenance_path(imc_provenance *p, const char *what, const char *path, imc_err *err)
{
    char hex[65];
    int rc = imc_digest_path(path, hex, err);
    if (!rc)
        add_line(p, what, " sha256 ", hex);
    return rc;
}

void imc_provenance_hex(imc_provenance *p, const char *what, const char *hex)
{
    add_line(p, what, " sha256 ", hex);
}

void imc_provenance_text(imc_provenance *p, const char *what, const char *text, size_t n)
{
    char hex[65];
    imc_digest_text(text, n, hex);
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
    imc_digest_text(p->lines, p->len, p->digest);
    return 0;
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
