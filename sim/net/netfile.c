/* netfile.c -- safetensors reader and writer (see netfile.h for the format).
 *
 * Reading: the file is mapped read-only (MAP_PRIVATE) and only its header is parsed. Tensor
 * data is read with pread into the caller's memory (imc_netfile_read_raw, _read_f32): a page
 * fault on a mapped file costs several times the copy on a virtual machine (113 MB scanned in
 * 75-85 ms through the mapping, 20-25 ms by pread, measured on the project's AMD guest). The
 * header
 * bytes are first checked to be UTF-8, then copied into a NUL-terminated buffer and handed to
 * cJSON: we own no JSON parser. Everything the accessors later rely on is checked once, here,
 * and every failure is a one-line IMC_EINPUT message pointing at the file:
 *   - the length prefix fits the file and the 100 MB limit;
 *   - each tensor has a known dtype, a shape of at most IMC_TENSOR_MAX_DIMS integers, and
 *     data_offsets [begin, end] inside the data section whose byte count equals
 *     numel * dtype size, computed with checked multiplication;
 *   - names are unique (cJSON keeps duplicate keys, so a sorted index finds them), and no two
 *     non-empty tensors share a byte;
 *   - __metadata__, if present, is an object of strings with unique keys.
 * JSON numbers are doubles in cJSON, so shape entries and offsets must be integers no larger
 * than 2^53, where doubles are still exact; no real file comes near that. Two more cJSON
 * quirks: a "\u0000" escape ends a name early (cJSON strings are C strings), and a failed
 * parse also sets cJSON's global error pointer, which we never read (the position comes from
 * return_parse_end instead).
 *
 * Writing emits the header JSON itself (emitting is simple; parsing is what we delegate) and
 * streams the borrowed tensor data through sim/base/outfile.h so a failed write leaves no file.
 *
 * This module must not know what tensors mean: names and shapes are opaque here. */
#define _DEFAULT_SOURCE
#include "sim/net/netfile.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/infile.h"
#include "sim/base/outfile.h"

#define MAX_EXACT 9007199254740992.0 /* 2^53: larger JSON numbers are not exact in a double */

static const struct {
    const char *name;
    size_t size;
} dtypes[IMC_DT_COUNT] = {
    [IMC_DT_F32] = {"F32", 4},  [IMC_DT_F16] = {"F16", 2}, [IMC_DT_BF16] = {"BF16", 2},
    [IMC_DT_F64] = {"F64", 8},  [IMC_DT_I8] = {"I8", 1},   [IMC_DT_U8] = {"U8", 1},
    [IMC_DT_I16] = {"I16", 2},  [IMC_DT_I32] = {"I32", 4}, [IMC_DT_I64] = {"I64", 8},
    [IMC_DT_BOOL] = {"BOOL", 1},
};

size_t imc_dtype_size(imc_dtype dtype)
{
    return (unsigned)dtype < IMC_DT_COUNT ? dtypes[dtype].size : 0;
}

const char *imc_dtype_name(imc_dtype dtype)
{
    return (unsigned)dtype < IMC_DT_COUNT ? dtypes[dtype].name : NULL;
}

imc_dtype imc_dtype_from_name(const char *name)
{
    for (int d = 0; d < IMC_DT_COUNT; d++)
        if (strcmp(name, dtypes[d].name) == 0)
            return (imc_dtype)d;
    return IMC_DT_COUNT;
}

int64_t imc_tensor_numel(const imc_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* ---- shared helpers ---------------------------------------------------------------------- */

/* Index of the first byte of S[0..N) that is not well-formed UTF-8 (overlong forms, surrogates
 * and code points past U+10FFFF are not), or is NUL; N if there is none. */
static size_t utf8_bad_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            lo = c == 0xE0 ? 0xA0 : lo;
            hi = c == 0xED ? 0x9F : hi;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            lo = c == 0xF0 ? 0x90 : lo;
            hi = c == 0xF4 ? 0x8F : hi;
        } else {
            return i;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += len;
    }
    return n;
}

static int is_utf8(const char *s)
{
    size_t n = strlen(s);
    return utf8_bad_at((const unsigned char *)s, n) == n;
}

/* A * B into *OUT; 0 on overflow of uint64_t. */
static int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

/* Format a shape as "[2, 3]" ("[]" for a scalar). */
static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
}

/* ---- reader -------------------------------------------------------------------------------- */

typedef struct meta_entry {
    char *key, *value;
} meta_entry;

struct imc_netfile {
    char *path;
    void *map;                         /* our mapping of the whole file; NULL over memory */
    size_t map_bytes;
    int fd;                            /* the open file, read by pread; -1 over memory */
    const unsigned char *data;         /* the data section */
    uint64_t data_bytes;
    imc_tensor *tensors;               /* header order */
    size_t ntensors;
    const imc_tensor **by_name;        /* sorted by name (ties by header order) for find */
    meta_entry *meta;                  /* header order */
    size_t nmeta;
    const meta_entry **meta_by_key;    /* sorted by key */
};

/* An IMC_EINPUT error pointing at the file, as "PATH: error: MSG". */
static int bad(const imc_netfile *nf, imc_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const imc_netfile *nf, imc_err *err, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(err, IMC_EINPUT, nf->path, 0, 0, "%s", msg);
}

static int oom(imc_err *err)
{
    return imc_err_set(err, IMC_ENOMEM, "out of memory");
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* An integral JSON number in [0, 2^53] into *OUT (with -0 read as 0). */
static int get_count(const cJSON *item, double *out)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double d = item->valuedouble;
    if (!(d >= 0 && d <= MAX_EXACT) || (double)(uint64_t)d != d)
        return 0;
    *out = d == 0 ? 0 : d;
    return 1;
}

/* A byte offset: an integral number >= 0. Above 2^53 every double is integral; such offsets
 * (and infinity, from "1e999") are accepted here and then found to run past the data section.
 * Printed with %.17g, which is exact for every integer below 10^17. */
static int get_offset(const cJSON *item, double *out)
{
    if (cJSON_IsNumber(item) && item->valuedouble > MAX_EXACT) {
        *out = item->valuedouble;
        return 1;
    }
    return get_count(item, out);
}

static int parse_metadata(imc_netfile *nf, const cJSON *obj, imc_err *err)
{
    if (!cJSON_IsObject(obj))
        return bad(nf, err, "__metadata__ is not an object of strings");
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    nf->meta = calloc(n ? n : 1, sizeof *nf->meta);
    nf->meta_by_key = calloc(n ? n : 1, sizeof *nf->meta_by_key);
    if (!nf->meta || !nf->meta_by_key)
        return oom(err);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return bad(nf, err, "__metadata__ '%s' is not a string", c->string);
        meta_entry *m = &nf->meta[nf->nmeta];
        m->key = strdup(c->string);
        m->value = strdup(c->valuestring);
        nf->nmeta++; /* counted before the check so close() frees a partial entry */
        if (!m->key || !m->value)
            return oom(err);
        nf->meta_by_key[nf->nmeta - 1] = m;
    }
    return 0;
}

/* Read the header entry ITEM (named item->string) into T; T->name is already set. */
static int parse_tensor(imc_netfile *nf, const cJSON *item, imc_tensor *t, imc_err *err)
{
    const char *name = t->name;
    if (!cJSON_IsObject(item))
        return bad(nf, err, "tensor '%s': expected an object with dtype, shape and data_offsets",
                   name);
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    const cJSON *found[3] = {NULL, NULL, NULL};
    for (const cJSON *f = item->child; f; f = f->next) {
        for (int k = 0; k < 3; k++) { /* other fields are ignored, as the reference does */
            if (strcmp(f->string, fields[k]) != 0)
                continue;
            if (found[k])
                return bad(nf, err, "tensor '%s': duplicate field '%s'", name, fields[k]);
            found[k] = f;
        }
    }
    for (int k = 0; k < 3; k++)
        if (!found[k])
            return bad(nf, err, "tensor '%s': missing field '%s'", name, fields[k]);
    const cJSON *dtype = found[0], *shape = found[1], *offsets = found[2];

    if (!cJSON_IsString(dtype))
        return bad(nf, err, "tensor '%s': dtype is not a string", name);
    t->dtype = imc_dtype_from_name(dtype->valuestring);
    if (t->dtype == IMC_DT_COUNT)
        return bad(nf, err,
                   "tensor '%s': unknown dtype '%s' (one of: F32, F16, BF16, F64, I8, U8, I16, "
                   "I32, I64, BOOL)",
                   name, dtype->valuestring);

    if (!cJSON_IsArray(shape))
        return bad(nf, err, "tensor '%s': shape is not a list of integers >= 0", name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > IMC_TENSOR_MAX_DIMS)
        return bad(nf, err, "tensor '%s': shape has %d dimensions, above the maximum %d", name,
                   ndim, IMC_TENSOR_MAX_DIMS);
    t->ndim = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        double v;
        if (!get_count(d, &v))
            return bad(nf, err,
                       cJSON_IsNumber(d) && d->valuedouble > MAX_EXACT
                           ? "tensor '%s': shape has a dimension above 2^53"
                           : "tensor '%s': shape is not a list of integers >= 0",
                       name);
        t->shape[t->ndim++] = (int64_t)v;
    }
    char shape_text[256];
    format_shape(shape_text, sizeof shape_text, t->ndim, t->shape);

    double begin, end;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !get_offset(offsets->child, &begin) || !get_offset(offsets->child->next, &end))
        return bad(nf, err, "tensor '%s': data_offsets is not two integers [begin, end] >= 0",
                   name);
    if (begin > end)
        return bad(nf, err, "tensor '%s': data_offsets [%.17g, %.17g] end before they begin",
                   name, begin, end);
    if (end > (double)nf->data_bytes)
        return bad(nf, err,
                   "tensor '%s': data_offsets [%.17g, %.17g] run past the end of the data "
                   "section (%" PRIu64 " bytes)",
                   name, begin, end, nf->data_bytes);
    t->begin = (uint64_t)begin;
    t->end = (uint64_t)end;

    uint64_t need = dtypes[t->dtype].size;
    for (int i = 0; i < t->ndim; i++)
        if (!mul_u64(need, (uint64_t)t->shape[i], &need))
            return bad(nf, err, "tensor '%s': shape %s of %s overflows a 64-bit byte count",
                       name, shape_text, dtypes[t->dtype].name);
    if (t->end - t->begin != need)
        return bad(nf, err,
                   "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                   " bytes but shape %s of %s needs %" PRIu64,
                   name, t->begin, t->end, t->end - t->begin, shape_text,
                   dtypes[t->dtype].name, need);
    return 0;
}

static int cmp_by_name(const void *a, const void *b)
{
    const imc_tensor *x = *(const imc_tensor *const *)a, *y = *(const imc_tensor *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x > y) - (x < y); /* same array: a total, deterministic order */
}

static int cmp_by_key(const void *a, const void *b)
{
    const meta_entry *x = *(const meta_entry *const *)a, *y = *(const meta_entry *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x > y) - (x < y);
}

static int cmp_by_offset(const void *a, const void *b)
{
    const imc_tensor *x = *(const imc_tensor *const *)a, *y = *(const imc_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (x > y) - (x < y);
}

/* Names unique, metadata keys unique, no two non-empty tensors sharing a byte. */
static int check_whole(imc_netfile *nf, imc_err *err)
{
    size_t n = nf->ntensors;
    for (size_t i = 0; i < n; i++)
        nf->by_name[i] = &nf->tensors[i];
    qsort(nf->by_name, n, sizeof *nf->by_name, cmp_by_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(nf->by_name[i - 1]->name, nf->by_name[i]->name) == 0)
            return bad(nf, err, "duplicate tensor name '%s'", nf->by_name[i]->name);

    if (nf->nmeta) {
        qsort(nf->meta_by_key, nf->nmeta, sizeof *nf->meta_by_key, cmp_by_key);
        for (size_t i = 1; i < nf->nmeta; i++)
            if (strcmp(nf->meta_by_key[i - 1]->key, nf->meta_by_key[i]->key) == 0)
                return bad(nf, err, "duplicate __metadata__ key '%s'", nf->meta_by_key[i]->key);
    }

    if (n < 2)
        return 0;
    const imc_tensor **order = malloc(n * sizeof *order);
    if (!order)
        return oom(err);
    memcpy(order, nf->by_name, n * sizeof *order);
    qsort(order, n, sizeof *order, cmp_by_offset);
    const imc_tensor *last = NULL; /* the non-empty tensor reaching furthest so far */
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const imc_tensor *t = order[i];
        if (t->begin == t->end)
            continue;
        if (last && t->begin < last->end)
            rc = bad(nf, err, "tensors '%s' and '%s' overlap in the data section", last->name,
                     t->name);
        if (!last || t->end > last->end)
            last = t;
    }
    free(order);
    return rc;
}

/* Validate the SIZE bytes at BUF (the whole file) and index them into NF. */
/* cJSON reports an allocation failure as a parse failure: its allocations go through these, so
 * the loader can tell "out of memory" from "not JSON". (The flag is per process; model files
 * are read on one thread.) */
static int json_oom;

static void *json_malloc(size_t n)
{
    void *p = malloc(n);
    json_oom |= !p;
    return p;
}

static void json_free(void *p)
{
    free(p);
}

static void json_hooks(void)
{
    static int done;
    if (!done) {
        cJSON_Hooks h = {json_malloc, json_free};
        cJSON_InitHooks(&h);
        done = 1;
    }
}

void *imc_json_parse(const char *text, int *oom)
{
    json_hooks();
    json_oom = 0;
    cJSON *root = cJSON_Parse(text);
    *oom = !root && json_oom;
    return root;
}

static int parse_file(imc_netfile *nf, const unsigned char *buf, size_t size, imc_err *err)
{
    if (size < 8)
        return bad(nf, err, "file too short for a safetensors header (%zu bytes)", size);
    uint64_t n = le64(buf);
    if (n > IMC_NETFILE_MAX_HEADER_BYTES)
        return bad(nf, err, "header length %" PRIu64 " is above the limit of %u bytes", n,
                   IMC_NETFILE_MAX_HEADER_BYTES);
    if (n > size - 8)
        return bad(nf, err, "header length %" PRIu64 " runs past the end of the file (%zu bytes)",
                   n, size);
    const unsigned char *header = buf + 8;
    nf->data = header + n;
    nf->data_bytes = size - 8 - n;

    size_t at = utf8_bad_at(header, (size_t)n);
    if (at < n)
        return bad(nf, err, "header is not valid UTF-8 (byte %zu of the header)", at);

    /* cJSON gets its own NUL-terminated copy: the mapping has no terminator. */
    char *text = malloc((size_t)n + 1);
    if (!text)
        return oom(err);
    memcpy(text, header, (size_t)n);
    text[n] = '\0';
    const char *stop = NULL;
    json_hooks();
    json_oom = 0;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)n, &stop, 0);
    if (!root && json_oom) { /* cJSON says only "no": an allocation of its own failed */
        free(text);
        return oom(err);
    }
    size_t pos = stop ? (size_t)(stop - text) : 0;
    while (root && pos < n &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n'))
        pos++; /* padding after the object */
    int rc = 0;
    if (!root || pos < n) {
        rc = bad(nf, err, "header is not valid JSON (near byte %zu of the header)", pos);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = bad(nf, err, "header is not a JSON object");
        goto done;
    }

    size_t count = 0;
    const cJSON *metadata = NULL;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") != 0) {
            count++;
        } else if (metadata) {
            rc = bad(nf, err, "duplicate key '__metadata__'");
            goto done;
        } else {
            metadata = c;
        }
    }
    if (metadata && (rc = parse_metadata(nf, metadata, err)) != 0)
        goto done;

    nf->tensors = calloc(count ? count : 1, sizeof *nf->tensors);
    nf->by_name = calloc(count ? count : 1, sizeof *nf->by_name);
    if (!nf->tensors || !nf->by_name) {
        rc = oom(err);
        goto done;
    }
    for (const cJSON *c = root->child; c && !rc; c = c->next) {
        if (c == metadata)
            continue;
        imc_tensor *t = &nf->tensors[nf->ntensors++];
        if (!(t->name = strdup(c->string)))
            rc = oom(err);
        else
            rc = parse_tensor(nf, c, t, err);
    }
    if (!rc)
        rc = check_whole(nf, err);
done:
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* Make the netfile for PATH over SIZE bytes at BUF, taking ownership of MAP (if not NULL). */
static int load(imc_netfile **out, const char *path, const void *buf, size_t size, void *map,
                int fd, imc_err *err)
{
    imc_netfile *nf = calloc(1, sizeof *nf);
    if (!nf || !(nf->path = strdup(path))) {
        free(nf);
        if (map)
            munmap(map, size);
        if (fd >= 0)
            close(fd);
        return oom(err);
    }
    nf->fd = fd;
    nf->map = map;
    nf->map_bytes = size;
    int rc = parse_file(nf, buf, size, err);
    if (rc) {
        imc_netfile_close(nf);
        return rc;
    }
    *out = nf;
    return 0;
}

int imc_netfile_open_memory(imc_netfile **out, const char *name, const void *buf, size_t size,
                            imc_err *err)
{
    *out = NULL;
    return load(out, name ? name : "<memory>", buf, size, NULL, -1, err);
}

int imc_netfile_open(imc_netfile **out, const char *path, imc_err *err)
{
    *out = NULL;
    int fd;
    int rc = imc_infile_open_fd(&fd, path, err); /* a FIFO is refused, not waited on */
    if (rc)
        return rc;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return imc_err_at(err, IMC_EIO, path, 0, 0, "cannot stat: %s", strerror(e));
    }
    if ((uintmax_t)st.st_size > SIZE_MAX) {
        close(fd);
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "file too large to map (%jd bytes)",
                          (intmax_t)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    if (size < 8) { /* mmap cannot map an empty file; the parser reports the size */
        close(fd);
        unsigned char none[1];
        return load(out, path, none, size, NULL, -1, err);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        close(fd);
        return imc_err_at(err, IMC_EIO, path, 0, 0, "cannot map: %s", strerror(e));
    }
    return load(out, path, map, size, map, fd, err);
}

void imc_netfile_close(imc_netfile *nf)
{
    if (!nf)
        return;
    for (size_t i = 0; i < nf->ntensors; i++)
        free((char *)nf->tensors[i].name);
    for (size_t i = 0; i < nf->nmeta; i++) {
        free(nf->meta[i].key);
        free(nf->meta[i].value);
    }
    free(nf->tensors);
    free(nf->by_name);
    free(nf->meta);
    free(nf->meta_by_key);
    if (nf->map)
        munmap(nf->map, nf->map_bytes);
    if (nf->fd >= 0)
        close(nf->fd);
    free(nf->path);
    free(nf);
}

const char *imc_netfile_path(const imc_netfile *nf)
{
    return nf->path;
}

size_t imc_netfile_count(const imc_netfile *nf)
{
    return nf->ntensors;
}

const imc_tensor *imc_netfile_at(const imc_netfile *nf, size_t i)
{
    return i < nf->ntensors ? &nf->tensors[i] : NULL;
}

const imc_tensor *imc_netfile_find(const imc_netfile *nf, const char *name)
{
    size_t lo = 0, hi = nf->ntensors; /* the answer, if any, is in [lo, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, nf->by_name[mid]->name);
        if (c == 0)
            return nf->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *imc_netfile_meta(const imc_netfile *nf, const char *key)
{
    size_t lo = 0, hi = nf->nmeta;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, nf->meta_by_key[mid]->key);
        if (c == 0)
            return nf->meta_by_key[mid]->value;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t imc_netfile_meta_count(const imc_netfile *nf)
{
    return nf->nmeta;
}

const char *imc_netfile_meta_key(const imc_netfile *nf, size_t i)
{
    return i < nf->nmeta ? nf->meta[i].key : NULL;
}

const void *imc_netfile_data(const imc_netfile *nf, const imc_tensor *t)
{
    return nf->data + t->begin;
}

/* IEEE binary16 bits to float, exactly. */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) { /* inf, or NaN with its payload */
        bits = sign | 0x7f800000u | man << 13;
    } else if (exp != 0) { /* normal: rebias 15 -> 127 */
        bits = sign | (exp + 112) << 23 | man << 13;
    } else if (man == 0) { /* +-0 */
        bits = sign;
    } else { /* subnormal man * 2^-24: normalise, a normal float */
        uint32_t e = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            e--;
        }
        bits = sign | e << 23 | (man & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The low BITS bits of U as a two's-complement integer (without implementation-defined
 * conversions). */
static int64_t to_signed(uint64_t u, unsigned bits)
{
    uint64_t sign = (uint64_t)1 << (bits - 1);
    if (!(u & sign))
        return (int64_t)u;
    uint64_t mag = (bits == 64 ? 0 : (uint64_t)1 << bits) - u; /* 2^bits - u, >= 1 */
    return -(int64_t)(mag - 1) - 1;
}

int imc_netfile_read_f32(const imc_netfile *nf, const imc_tensor *t, float *out, imc_err *err)
{
    return imc_netfile_read_f32_at(nf, t, 0, t ? (size_t)imc_tensor_numel(t) : 0, out, err);
}

/* Whether T is one of NF's tensors with a known dtype and elements FROM .. FROM + N inside it
 * (then *AT is where they start in the data section); an IMC_EINTERNAL error naming CALLER
 * otherwise. */
static int check_slice(const imc_netfile *nf, const imc_tensor *t, size_t from, size_t n,
                       const char *caller, uint64_t *at, imc_err *err)
{
    uintptr_t p = (uintptr_t)t, first = (uintptr_t)nf->tensors;
    if (!t || nf->ntensors == 0 || p < first || p >= (uintptr_t)(nf->tensors + nf->ntensors) ||
        (unsigned)t->dtype >= IMC_DT_COUNT)
        return imc_err_at(err, IMC_EINTERNAL, nf->path, 0, 0,
                          "%s: the tensor does not belong to this file", caller);
    size_t size = dtypes[t->dtype].size, numel = (size_t)((t->end - t->begin) / size);
    if (from > numel || n > numel - from)
        return imc_err_at(err, IMC_EINTERNAL, nf->path, 0, 0,
                          "%s: elements %zu .. %zu past the %zu of the tensor", caller, from,
                          from + n, numel);
    *at = t->begin + from * size;
    return 0;
}

/* BYTES bytes of the data section from offset AT into OUT: pread from the file (a file that
 * shrank since it was opened is an IMC_EIO error, where the mapping would raise SIGBUS), or a
 * copy over memory. */
static int copy_data(const imc_netfile *nf, uint64_t at, size_t bytes, void *out, imc_err *err)
{
    if (nf->fd < 0) {
        memcpy(out, nf->data + at, bytes);
        return 0;
    }
    off_t pos = (off_t)(nf->data - (const unsigned char *)nf->map) + (off_t)at;
    for (size_t done = 0; done < bytes;) {
        ssize_t got = pread(nf->fd, (char *)out + done, bytes - done, pos + (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return imc_err_at(err, IMC_EIO, nf->path, 0, 0, "cannot read %zu bytes at offset %jd: %s",
                              bytes - done, (intmax_t)(pos + (off_t)done),
                              got < 0 ? strerror(errno) : "the file is shorter than when opened");
        done += (size_t)got;
    }
    return 0;
}

int imc_netfile_read_raw(const imc_netfile *nf, const imc_tensor *t, size_t from, size_t n,
                         void *out, imc_err *err)
{
    uint64_t at;
    int rc = check_slice(nf, t, from, n, "imc_netfile_read_raw", &at, err);
    return rc ? rc : copy_data(nf, at, n * dtypes[t->dtype].size, out, err);
}

/* N elements of DTYPE (SIZE bytes each) from the raw little-endian bytes B to float in OUT. */
static void convert(imc_dtype dtype, size_t size, const unsigned char *b, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++, b += size) {
        uint64_t u = 0;
        for (size_t k = size; k-- > 0;)
            u = u << 8 | b[k];
        switch (dtype) {
        case IMC_DT_F32: {
            uint32_t w = (uint32_t)u;
            memcpy(&out[i], &w, sizeof w);
            break;
        }
        case IMC_DT_F16:
            out[i] = f16_to_f32((uint16_t)u);
            break;
        case IMC_DT_BF16: {
            uint32_t w = (uint32_t)u << 16;
            memcpy(&out[i], &w, sizeof w);
            break;
        }
        case IMC_DT_F64: {
            double d;
            memcpy(&d, &u, sizeof d);
            out[i] = (float)d;
            break;
        }
        case IMC_DT_U8:
            out[i] = (float)u;
            break;
        case IMC_DT_I8:
        case IMC_DT_I16:
        case IMC_DT_I32:
        case IMC_DT_I64:
            out[i] = (float)to_signed(u, (unsigned)size * 8);
            break;
        case IMC_DT_BOOL:
            out[i] = u != 0;
            break;
        case IMC_DT_COUNT:
            break;
        }
    }
}

int imc_netfile_read_f32_at(const imc_netfile *nf, const imc_tensor *t, size_t from, size_t n,
                            float *out, imc_err *err)
{
    uint64_t at;
    int rc = check_slice(nf, t, from, n, "imc_netfile_read_f32", &at, err);
    if (rc)
        return rc;
    size_t size = dtypes[t->dtype].size;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (t->dtype == IMC_DT_F32) /* the file's bytes are the host's floats */
        return copy_data(nf, at, n * sizeof *out, out, err);
#endif
    /* through a small buffer that stays in cache: 8 KB of raw bytes at a time */
    uint64_t chunk[1024];
    size_t per = sizeof chunk / size;
    for (size_t i = 0; i < n && !rc; i += per) {
        size_t k = n - i < per ? n - i : per;
        if (!(rc = copy_data(nf, at + i * size, k * size, chunk, err)))
            convert(t->dtype, size, (const unsigned char *)chunk, k, out + i);
    }
    return rc;
}

/* ---- writer -------------------------------------------------------------------------------- */

typedef struct wtensor {
    char *name;
    imc_dtype dtype;
    int ndim;
    int64_t shape[IMC_TENSOR_MAX_DIMS];
    const void *data; /* borrowed */
    uint64_t bytes;
} wtensor;

struct imc_netwriter {
    wtensor *tensors;
    size_t ntensors, tensor_cap;
    meta_entry *meta;
    size_t nmeta, meta_cap;
};

imc_netwriter *imc_netwriter_new(void)
{
    return calloc(1, sizeof(imc_netwriter));
}

void imc_netwriter_free(imc_netwriter *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ntensors; i++)
        free(w->tensors[i].name);
    for (size_t i = 0; i < w->nmeta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->tensors);
    free(w->meta);
    free(w);
}

/* Make room for one more element of SIZE bytes in *ARR (holding N of CAP). */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 1;
    size_t want = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, want * size);
    if (!p)
        return 0;
    *arr = p;
    *cap = want;
    return 1;
}

int imc_netwriter_add(imc_netwriter *w, const char *name, imc_dtype dtype, int ndim,
                      const int64_t *shape, const void *data, imc_err *err)
{
    if (!name || !is_utf8(name))
        return imc_err_set(err, IMC_EINPUT, "tensor name is missing or not valid UTF-8");
    if (strcmp(name, "__metadata__") == 0)
        return imc_err_set(err, IMC_EINPUT, "tensor name '__metadata__' is reserved");
    if ((unsigned)dtype >= IMC_DT_COUNT)
        return imc_err_set(err, IMC_EINPUT, "tensor '%s': invalid dtype %d", name, (int)dtype);
    if (ndim < 0 || ndim > IMC_TENSOR_MAX_DIMS)
        return imc_err_set(err, IMC_EINPUT, "tensor '%s': ndim %d is outside 0..%d", name, ndim,
                           IMC_TENSOR_MAX_DIMS);
    if (ndim > 0 && !shape)
        return imc_err_set(err, IMC_EINPUT, "tensor '%s': shape is NULL for ndim %d", name, ndim);
    char shape_text[256];
    format_shape(shape_text, sizeof shape_text, ndim, shape);
    uint64_t bytes = dtypes[dtype].size;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return imc_err_set(err, IMC_EINPUT, "tensor '%s': shape %s has a negative dimension",
                               name, shape_text);
        if (!mul_u64(bytes, (uint64_t)shape[i], &bytes) || bytes > (uint64_t)MAX_EXACT)
            return imc_err_set(err, IMC_EINPUT, "tensor '%s': shape %s of %s is too large", name,
                               shape_text, dtypes[dtype].name);
    }
    if (bytes && !data)
        return imc_err_set(err, IMC_EINPUT, "tensor '%s': data is NULL for %" PRIu64 " bytes",
                           name, bytes);
    for (size_t i = 0; i < w->ntensors; i++) /* linear: a write of 1000 tensors is 500k compares */
        if (strcmp(w->tensors[i].name, name) == 0)
            return imc_err_set(err, IMC_EINPUT, "duplicate tensor name '%s'", name);
    if (!grow((void **)&w->tensors, &w->tensor_cap, w->ntensors, sizeof *w->tensors))
        return oom(err);
    wtensor *t = &w->tensors[w->ntensors];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name)))
        return oom(err);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->data = data;
    t->bytes = bytes;
    w->ntensors++;
    return 0;
}

int imc_netwriter_meta(imc_netwriter *w, const char *key, const char *value, imc_err *err)
{
    if (!key || !value || !is_utf8(key) || !is_utf8(value))
        return imc_err_set(err, IMC_EINPUT, "__metadata__ key or value is missing or not valid "
                                            "UTF-8");
    for (size_t i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta[i].key, key) == 0)
            return imc_err_set(err, IMC_EINPUT, "duplicate __metadata__ key '%s'", key);
    if (!grow((void **)&w->meta, &w->meta_cap, w->nmeta, sizeof *w->meta))
        return oom(err);
    meta_entry *m = &w->meta[w->nmeta];
    m->key = strdup(key);
    m->value = strdup(value);
    if (!m->key || !m->value) {
        free(m->key);
        free(m->value);
        return oom(err);
    }
    w->nmeta++;
    return 0;
}

/* S as a JSON string: quote, backslash and control characters escaped; UTF-8 passes through. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The header JSON, as the reference library lays it out: __metadata__ first, then each tensor
 * in order; padded with spaces to a multiple of 8 bytes. */
static int build_header(const imc_netwriter *w, char **text, size_t *len, imc_err *err)
{
    FILE *f = open_memstream(text, len);
    if (!f)
        return oom(err);
    fputc('{', f);
    const char *sep = "";
    if (w->nmeta) {
        fputs("\"__metadata__\":{", f);
        for (size_t i = 0; i < w->nmeta; i++) {
            fputs(i ? "," : "", f);
            put_string(f, w->meta[i].key);
            fputc(':', f);
            put_string(f, w->meta[i].value);
        }
        fputc('}', f);
        sep = ",";
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->ntensors; i++, sep = ",") {
        const wtensor *t = &w->tensors[i];
        fputs(sep, f);
        put_string(f, t->name);
        fprintf(f, ":{\"dtype\":\"%s\",\"shape\":[", dtypes[t->dtype].name);
        for (int d = 0; d < t->ndim; d++)
            fprintf(f, "%s%" PRId64, d ? "," : "", t->shape[d]);
        fprintf(f, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", offset, offset + t->bytes);
        offset += t->bytes;
    }
    fputc('}', f);
    long at = ftell(f);
    while (at >= 0 && at % 8 != 0) {
        fputc(' ', f);
        at++;
    }
    if (fclose(f) != 0 || at < 0) {
        free(*text);
        *text = NULL;
        return oom(err);
    }
    if (*len > IMC_NETFILE_MAX_HEADER_BYTES) {
        free(*text);
        *text = NULL;
        return imc_err_set(err, IMC_EINPUT, "header of %zu bytes is above the limit of %u bytes",
                           *len, IMC_NETFILE_MAX_HEADER_BYTES);
    }
    return 0;
}

int imc_netwriter_write(imc_netwriter *w, const char *path, imc_err *err)
{
    uint64_t total = 0;
    for (size_t i = 0; i < w->ntensors; i++) {
        if (total + w->tensors[i].bytes > (uint64_t)MAX_EXACT)
            return imc_err_at(err, IMC_EINPUT, path, 0, 0,
                              "the data section would exceed 2^53 bytes at tensor '%s'",
                              w->tensors[i].name);
        total += w->tensors[i].bytes;
    }
    char *header = NULL;
    size_t len = 0;
    int rc = build_header(w, &header, &len, err);
    if (rc)
        return rc;
    imc_outfile of;
    if ((rc = imc_outfile_open(&of, path, err)) != 0) {
        free(header);
        return rc;
    }
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++)
        prefix[i] = (unsigned char)((uint64_t)len >> (8 * i));
    fwrite(prefix, 1, sizeof prefix, of.fp);
    fwrite(header, 1, len, of.fp);
    free(header);
    for (size_t i = 0; i < w->ntensors; i++)
        if (w->tensors[i].bytes)
            fwrite(w->tensors[i].data, 1, (size_t)w->tensors[i].bytes, of.fp);
    return imc_outfile_commit(&of, err); /* checks the stream's error flag */
}
