/* dataset.c -- images and labels for the reference numerics (see dataset.h).
 *
 * Three sources, one result: N x C x H x W floats in the scale the model was trained on.
 *   - IDX files (the MNIST family): big-endian header, u8 pixels scaled to [0, 1]; plain or
 *     gzip-compressed, both read through zlib's gzread (which passes plain files through).
 *   - A safetensors file of `images` [N, C, H, W] (any dtype, values taken as they are: the
 *     file is in the model's scale) and optional integer `labels` [N].
 *   - Seeded synthetic images, uniform in [0, 1) (token ids uniform over the vocabulary for a
 *     network that reads its input with an embedding).
 * Every source is then normalised by the model file's __metadata__ input_mean / input_std when
 * it has them, per channel. Nothing is resized, replicated or invented: a shape that differs from
 * the model's is an error that names both. Only the first MAX images are read, so a big file
 * costs no more than the images asked for; the rest of it is not checked.
 *
 * Knows the network only for its input shape, class count and model-file metadata. */
#include "sim/numerics/dataset.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>
#include <zlib.h>

#include "sim/base/infile.h"
#include "sim/net/netfile.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u

/* Most values one dataset may hold (8 GiB of floats): a bound far above any test set, and low
 * enough that no size computation below overflows a 64-bit size_t. */
/* Values one run reads (1 GiB as floats): a few-megabyte gzip file with a truthful header can
 * decompress to gigabytes, and every image is held in memory. */
#define MAX_VALUES ((uint64_t)1 << 28)

/* Test-set file names of the MNIST family's directory layout (Debian's dataset-*-mnist
 * packages, torchvision's raw/ folders, the original downloads). */
static const char IDX_IMAGES_NAME[] = "t10k-images-idx3-ubyte";
static const char IDX_LABELS_NAME[] = "t10k-labels-idx1-ubyte";

static int bad(imc_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(imc_err *err, const char *path, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(err, IMC_EINPUT, path, 0, 0, "%s", msg);
}

static int is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A new string of A followed by B (and C); NULL when out of memory. */
static char *concat(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    char *s = malloc(la + lb + lc + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb);
        memcpy(s + la + lb, c ? c : "", lc + 1);
    }
    return s;
}

static imc_dataset *dataset_new(size_t n, int channels, int height, int width, int with_labels)
{
    imc_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->n = n;
    d->channels = channels;
    d->height = height;
    d->width = width;
    d->images = malloc(n * (size_t)channels * (size_t)height * (size_t)width * sizeof *d->images);
    d->labels = with_labels ? malloc(n * sizeof *d->labels) : NULL;
    if (!d->images || (with_labels && !d->labels)) {
        imc_dataset_free(d);
        return NULL;
    }
    return d;
}

void imc_dataset_free(imc_dataset *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->labels);
    free(d);
}

/* The network's input shape, checked once for every source. */
static int check_net(const imc_network *net, imc_err *err)
{
    if (!net || net->in_chans < 1 || net->in_h < 1 || net->in_w < 1 || net->num_classes < 1)
        return imc_err_set(err, IMC_EINPUT,
                           "the network has no input shape (channels, image size, classes)");
    return 0;
}

/* COUNT images of PER values each must stay below MAX_VALUES. */
static int check_total(const char *path, size_t count, size_t per, imc_err *err)
{
    if ((uint64_t)count > MAX_VALUES / per)
        return bad(err, path,
                   "%zu images of %zu values are more than the %llu values one run reads "
                   "(ask for fewer images)",
                   count, per, (unsigned long long)MAX_VALUES);
    return 0;
}

static int check_label(const char *path, const char *what, int64_t label, size_t i,
                       const imc_network *net, imc_err *err)
{
    if (label < 0 || label >= net->num_classes)
        return bad(err, path,
                   "%slabel %lld of image %zu is outside 0..%d (the model has %d classes)", what,
                   (long long)label, i, net->num_classes - 1, net->num_classes);
    return 0;
}

/* ---- normalisation ------------------------------------------------------------------------ */

/* Parse "a, b, c" (optionally in [ ]) into V: 1 or CHANNELS finite numbers, all positive when
 * POSITIVE. Errors name the metadata key of MODEL. */
static int parse_channels(const char *model, const char *key, const char *s, int channels,
                          int positive, float *v, imc_err *err)
{
    const char *p = s;
    int n = 0, bracket = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        bracket = 1;
        p++;
    }
    for (;;) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || (!isfinite(x) && errno != ERANGE)) /* "nan", "inf" */
            goto malformed;
        if (positive && !(x > 0))
            return bad(err, model, "__metadata__ '%s': %g is not a positive number", key, x);
        if (errno == ERANGE || !isfinite((float)x) || (x != 0 && (float)x == 0))
            return bad(err, model, "__metadata__ '%s': %g is outside the range of a float", key,
                       x);
        if (n < channels)
            v[n] = (float)x;
        n++;
        p = end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ',')
            break;
        p++;
    }
    if (bracket && *p++ != ']')
        goto malformed;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        goto malformed;
    if (n != 1 && n != channels)
        return bad(err, model,
                   "__metadata__ '%s': '%.80s' has %d values; the model has %d channel%s (give "
                   "one per channel, or one for all)",
                   key, s, n, channels, channels == 1 ? "" : "s");
    for (int c = n; c < channels; c++)
        v[c] = v[0];
    return 0;
malformed:
    return bad(err, model,
               "__metadata__ '%s': '%.80s' is not a list of numbers (one per channel, or one for "
               "all, separated by commas)",
               key, s);
}

/* (x - mean[c]) / std[c] over D, as the model file's __metadata__ says; nothing when it says
 * nothing (or when NET was not read from a file). */
static int normalise(imc_dataset *d, const imc_network *net, imc_err *err)
{
    if (!net->file)
        return 0;
    const char *model = imc_netfile_path(net->file);
    const char *mean_s = imc_netfile_meta(net->file, "input_mean");
    const char *std_s = imc_netfile_meta(net->file, "input_std");
    if (!mean_s && !std_s)
        return 0;
    if (!mean_s || !std_s)
        return bad(err, model, "__metadata__ has '%s' but not '%s' (give both or neither)",
                   mean_s ? "input_mean" : "input_std", mean_s ? "input_std" : "input_mean");
    int C = d->channels;
    float *mean = malloc(2 * (size_t)C * sizeof *mean);
    if (!mean)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    float *std = mean + C;
    int rc = parse_channels(model, "input_mean", mean_s, C, 0, mean, err);
    if (!rc)
        rc = parse_channels(model, "input_std", std_s, C, 1, std, err);
    if (!rc) {
        size_t plane = (size_t)d->height * (size_t)d->width;
        float *x = d->images;
        for (size_t i = 0; i < d->n; i++)
            for (int c = 0; c < C; c++)
                for (size_t k = 0; k < plane; k++, x++)
                    *x = (*x - mean[c]) / std[c];
    }
    free(mean);
    return rc;
}

/* ---- IDX ---------------------------------------------------------------------------------- */

typedef struct idx_file {
    const char *path;
    gzFile gz;
    uint32_t magic;
    uint32_t dims[3];
} idx_file;

/* Read exactly SIZE bytes; a short read is "truncated" (WHAT says of what), a zlib failure is
 * reported as such. */
static int idx_read(idx_file *f, void *buf, size_t size, const char *what, imc_err *err)
{
    size_t got = 0;
    while (got < size) {
        unsigned chunk = size - got > (1u << 30) ? 1u << 30 : (unsigned)(size - got);
        int r = gzread(f->gz, (unsigned char *)buf + got, chunk);
        int zerr;
        const char *zmsg = gzerror(f->gz, &zerr);
        if (zerr == Z_ERRNO)
            return imc_err_at(err, IMC_EIO, f->path, 0, 0, "cannot read: %s", strerror(errno));
        if (zerr != Z_OK) {
            const char *colon = strstr(zmsg, ": "); /* zlib says "<fd:N>: what"; the error has PATH */
            if (!strncmp(zmsg, "<fd:", 4) && colon)
                zmsg = colon + 2;
            return bad(err, f->path, "gzip: %s", zmsg);
        }
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < size)
        return bad(err, f->path, "truncated: the file ends inside %s", what);
    return 0;
}

/* Open PATH and read its IDX header, which must carry MAGIC (images or labels). */
static int idx_open(idx_file *f, const char *path, uint32_t magic, imc_err *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    int fd, rc = imc_infile_open_fd(&fd, path, err);
    if (rc)
        return rc;
    errno = 0;
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    gzbuffer(f->gz, 1u << 17);
    unsigned char h[16];
    int ndim = magic == IDX_IMAGES_MAGIC ? 3 : 1;
    rc = idx_read(f, h, 4, "the IDX header", err);
    if (rc)
        return rc;
    f->magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (f->magic != magic) {
        if (f->magic == IDX_LABELS_MAGIC && magic == IDX_IMAGES_MAGIC)
            return bad(err, path, "this is an IDX labels file (magic 0x%08x); give the images "
                                  "file (magic 0x%08x)", f->magic, magic);
        return bad(err, path, "bad IDX magic 0x%08x: an IDX %s file starts with 0x%08x", f->magic,
                   magic == IDX_IMAGES_MAGIC ? "images" : "labels", magic);
    }
    if ((rc = idx_read(f, h + 4, 4 * (size_t)ndim, "the IDX header", err)))
        return rc;
    for (int i = 0; i < ndim; i++) {
        const unsigned char *p = h + 4 + 4 * i;
        f->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    if (f->dims[0] == 0)
        return bad(err, path, "the IDX file holds no %s", ndim == 3 ? "images" : "labels");
    return 0;
}

static void idx_close(idx_file *f)
{
    if (f->gz)
        gzclose(f->gz);
    f->gz = NULL;
}

/* Does PATH start like an IDX file (any u8 IDX magic) or a gzip stream? */
static int looks_like_idx(const char *path)
{
    unsigned char h[4];
    FILE *fp;
    imc_err ignored;
    if (imc_infile_open(&fp, path, &ignored)) /* the loader then says why */
        return 0;
    size_t got = fread(h, 1, sizeof h, fp);
    fclose(fp);
    if (got >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return 1;
    /* Any IDX element type (u8, i8, i16, i32, f32, f64): a wrong one gets the IDX message. */
    return got == 4 && h[0] == 0 && h[1] == 0 && (h[2] == 0x08 || (h[2] >= 0x09 && h[2] <= 0x0e)) &&
           h[3] >= 1 && h[3] <= 4;
}

/* Load COUNT-limited images from IMAGES (and labels from LABELS when not NULL). */
static int idx_load(imc_dataset **out, const char *images, const char *labels, size_t max,
                    const imc_network *net, imc_err *err)
{
    idx_file fi, fl = {0};
    imc_dataset *d = NULL;
    unsigned char *buf = NULL;
    int rc = idx_open(&fi, images, IDX_IMAGES_MAGIC, err);
    if (rc)
        goto done;
    uint32_t n = fi.dims[0], rows = fi.dims[1], cols = fi.dims[2];
    if (net->in_chans != 1) {
        rc = bad(err, images, "the model expects %d channels, this file has 1 (IDX images are "
                              "grayscale)", net->in_chans);
        goto done;
    }
    if (rows != (uint32_t)net->in_h || cols != (uint32_t)net->in_w) {
        rc = bad(err, images, "the model expects %dx%d images, this file has %" PRIu32 "x%" PRIu32,
                 net->in_h, net->in_w, rows, cols);
        goto done;
    }
    if (labels) {
        if ((rc = idx_open(&fl, labels, IDX_LABELS_MAGIC, err)))
            goto done;
        if (fl.dims[0] != n) {
            rc = bad(err, labels, "%" PRIu32 " labels for the %" PRIu32 " images of %s",
                     fl.dims[0], n, images);
            goto done;
        }
    }
    size_t count = max && max < n ? max : n, plane = (size_t)rows * cols;
    if ((rc = check_total(images, count, plane, err)))
        goto done;
    d = dataset_new(count, 1, net->in_h, net->in_w, labels != NULL);
    buf = malloc(count > plane ? count : plane);
    if (!d || !buf) {
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        char what[64];
        snprintf(what, sizeof what, "image %zu of %" PRIu32, i, n);
        if ((rc = idx_read(&fi, buf, plane, what, err)))
            goto done;
        float *x = d->images + i * plane;
        for (size_t k = 0; k < plane; k++)
            x[k] = buf[k] / 255.0f;
    }
    if (labels) {
        if ((rc = idx_read(&fl, buf, count, "the labels", err)))
            goto done;
        for (size_t i = 0; i < count; i++) {
            if ((rc = check_label(labels, "", buf[i], i, net, err)))
                goto done;
            d->labels[i] = buf[i];
        }
    }
done:
    idx_close(&fi);
    idx_close(&fl);
    free(buf);
    if (rc) {
        imc_dataset_free(d);
        d = NULL;
    }
    *out = d;
    return rc;
}

/* The labels file beside an images file: the same name with "images-idx3" made "labels-idx1",
 * with or without ".gz"; NULL when there is none (or no memory, which the caller finds then). */
static char *idx_labels_beside(const char *images)
{
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *hit = NULL;
    for (const char *p = strstr(base, "images-idx3"); p; p = strstr(p + 1, "images-idx3"))
        hit = p;
    if (!hit)
        return NULL;
    char *name = strdup(images);
    if (!name)
        return NULL;
    memcpy(name + (hit - images), "labels-idx1", 11);
    if (is_regular(name))
        return name;
    size_t len = strlen(name);
    char *other = NULL;
    if (len > 3 && strcmp(name + len - 3, ".gz") == 0) {
        name[len - 3] = '\0';
        other = strdup(name);
    } else {
        other = concat(name, ".gz", NULL);
    }
    free(name);
    if (other && is_regular(other))
        return other;
    free(other);
    return NULL;
}

/* ---- safetensors -------------------------------------------------------------------------- */

static void shape_str(const imc_tensor *t, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "",
                                 (long long)t->shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Images FIRST .. FIRST+COUNT-1 (PER elements each) of T as floats. netfile converts whole
 * tensors only, so a slice is copied into a small one-tensor safetensors image in memory and
 * converted there: the same conversion, touching only the bytes of the images asked for. */
static int read_images(const imc_netfile *nf, const imc_tensor *t, size_t count, size_t per,
                       float *out, imc_err *err)
{
    if ((int64_t)(count * per) == imc_tensor_numel(t))
        return imc_netfile_read_f32(nf, t, out, err);
    size_t esize = imc_dtype_size(t->dtype);
    size_t step = (size_t)(4u << 20) / (per * esize);
    if (step == 0)
        step = 1;
    const unsigned char *src = imc_netfile_data(nf, t);
    int rc = 0;
    for (size_t i = 0; i < count && !rc; i += step) {
        size_t k = count - i < step ? count - i : step, bytes = k * per * esize;
        char json[160];
        int jl = snprintf(json, sizeof json,
                          "{\"x\":{\"dtype\":\"%s\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}}",
                          imc_dtype_name(t->dtype), k * per, bytes);
        unsigned char *buf = malloc(8 + (size_t)jl + bytes);
        if (!buf)
            return imc_err_set(err, IMC_ENOMEM, "out of memory");
        for (int b = 0; b < 8; b++)
            buf[b] = (unsigned char)((uint64_t)jl >> (8 * b));
        memcpy(buf + 8, json, (size_t)jl);
        memcpy(buf + 8 + jl, src + i * per * esize, bytes);
        imc_netfile *slice = NULL;
        rc = imc_netfile_open_memory(&slice, imc_netfile_path(nf), buf, 8 + (size_t)jl + bytes,
                                     err);
        if (!rc)
            rc = imc_netfile_read_f32(slice, imc_netfile_find(slice, "x"), out + i * per, err);
        imc_netfile_close(slice);
        free(buf);
    }
    return rc;
}

/* Integer label I of T (little-endian in the file). */
static int64_t label_at(const unsigned char *p, imc_dtype dtype, size_t i)
{
    size_t size = imc_dtype_size(dtype);
    p += i * size;
    uint64_t u = 0;
    for (size_t k = size; k-- > 0;)
        u = u << 8 | p[k];
    if (dtype == IMC_DT_U8)
        return (int64_t)u;
    unsigned bits = (unsigned)size * 8;
    if (bits < 64 && (u >> (bits - 1)) & 1)
        u |= ~(uint64_t)0 << bits;
    return (int64_t)u;
}

static int st_load(imc_dataset **out, const char *path, size_t max, const imc_network *net,
                   imc_err *err)
{
    imc_netfile *nf = NULL;
    imc_dataset *d = NULL;
    char shape[128];
    int rc = imc_netfile_open(&nf, path, err);
    if (rc == IMC_EINPUT) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        rc = bad(err, path, "neither IDX (plain or gzipped) nor safetensors: %s", why);
    }
    if (rc)
        goto done;
    const imc_tensor *ti = imc_netfile_find(nf, "images");
    const imc_tensor *tl = imc_netfile_find(nf, "labels");
    if (!ti) {
        rc = bad(err, path, "no tensor 'images' (a dataset file has images [N, C, H, W] and "
                            "optionally labels [N])");
        goto done;
    }
    shape_str(ti, shape, sizeof shape);
    if (ti->ndim != 4) {
        rc = bad(err, path, "tensor 'images': shape %s is not [N, C, H, W]", shape);
        goto done;
    }
    if (ti->shape[0] == 0) {
        rc = bad(err, path, "tensor 'images': shape %s holds no images", shape);
        goto done;
    }
    if (ti->shape[1] != net->in_chans) {
        rc = bad(err, path, "tensor 'images': the model expects %d channel%s, this file has %lld",
                 net->in_chans, net->in_chans == 1 ? "" : "s", (long long)ti->shape[1]);
        goto done;
    }
    if (ti->shape[2] != net->in_h || ti->shape[3] != net->in_w) {
        rc = bad(err, path, "tensor 'images': the model expects %dx%d images, this file has "
                            "%lldx%lld", net->in_h, net->in_w, (long long)ti->shape[2],
                 (long long)ti->shape[3]);
        goto done;
    }
    size_t n = (size_t)ti->shape[0];
    if (tl) {
        const imc_dtype ok[] = {IMC_DT_I8, IMC_DT_U8, IMC_DT_I16, IMC_DT_I32, IMC_DT_I64};
        int integer = 0;
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            integer |= tl->dtype == ok[i];
        if (!integer) {
            rc = bad(err, path, "tensor 'labels': dtype %s is not an integer type",
                     imc_dtype_name(tl->dtype));
            goto done;
        }
        if (tl->ndim != 1 || tl->shape[0] != ti->shape[0]) {
            shape_str(tl, shape, sizeof shape);
            rc = bad(err, path, "tensor 'labels': shape %s is not [%zu], one per image", shape, n);
            goto done;
        }
    }
    size_t count = max && max < n ? max : n;
    size_t per = (size_t)net->in_chans * (size_t)net->in_h * (size_t)net->in_w;
    if ((rc = check_total(path, count, per, err)))
        goto done;
    if (!(d = dataset_new(count, net->in_chans, net->in_h, net->in_w, tl != NULL))) {
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = read_images(nf, ti, count, per, d->images, err)))
        goto done;
    if (tl) {
        const unsigned char *p = imc_netfile_data(nf, tl);
        for (size_t i = 0; i < count; i++) {
            int64_t label = label_at(p, tl->dtype, i);
            if ((rc = check_label(path, "tensor 'labels': ", label, i, net, err)))
                goto done;
            d->labels[i] = (int32_t)label;
        }
    }
done:
    imc_netfile_close(nf);
    if (rc) {
        imc_dataset_free(d);
        d = NULL;
    }
    *out = d;
    return rc;
}

/* ---- public ------------------------------------------------------------------------------- */

int imc_dataset_load(imc_dataset **out, const char *path, size_t max, const imc_network *net,
                     imc_err *err)
{
    *out = NULL;
    int rc = check_net(net, err);
    if (rc)
        return rc;
    struct stat st;
    if (stat(path, &st) != 0)
        return bad(err, path, "cannot open: %s", strerror(errno));
    imc_dataset *d = NULL;
    if (S_ISDIR(st.st_mode)) {
        size_t len = strlen(path);
        const char *sep = len && path[len - 1] == '/' ? "" : "/";
        char *dir = concat(path, sep, NULL);
        char *images = dir ? concat(dir, IDX_IMAGES_NAME, NULL) : NULL;
        char *images_gz = dir ? concat(dir, IDX_IMAGES_NAME, ".gz") : NULL;
        char *labels = dir ? concat(dir, IDX_LABELS_NAME, NULL) : NULL;
        char *labels_gz = dir ? concat(dir, IDX_LABELS_NAME, ".gz") : NULL;
        if (!labels_gz) {
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        } else {
            const char *im = is_regular(images) ? images : is_regular(images_gz) ? images_gz : NULL;
            const char *lb = is_regular(labels) ? labels : is_regular(labels_gz) ? labels_gz : NULL;
            if (!im)
                rc = bad(err, path, "a dataset directory needs %s or %s.gz (the MNIST family's "
                                    "test set)", IDX_IMAGES_NAME, IDX_IMAGES_NAME);
            else
                rc = idx_load(&d, im, lb, max, net, err);
        }
        free(dir);
        free(images);
        free(images_gz);
        free(labels);
        free(labels_gz);
    } else if (looks_like_idx(path)) {
        char *labels = idx_labels_beside(path);
        rc = idx_load(&d, path, labels, max, net, err);
        free(labels);
    } else {
        rc = st_load(&d, path, max, net, err);
    }
    if (!rc)
        rc = normalise(d, net, err);
    if (rc) {
        imc_dataset_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* The vocabulary of a network whose input is token ids (the smallest table an embedding reads
 * the input with), or 0 for an image. */
static int64_t token_vocabulary(const imc_network *net)
{
    int64_t vocab = 0;
    for (int i = 1; i < net->graph.n_nodes; i++) {
        const imc_node *nd = &net->graph.nodes[i];
        if (nd->op == IMC_NODE_EMBEDDING && nd->inputs[0] == 0 &&
            (!vocab || nd->attr[IMC_EMB_NUM] < vocab))
            vocab = nd->attr[IMC_EMB_NUM];
    }
    return vocab;
}

int imc_dataset_synthetic(imc_dataset **out, size_t n, const imc_network *net, unsigned long seed,
                          imc_err *err)
{
    *out = NULL;
    int rc = check_net(net, err);
    if (rc)
        return rc;
    if (n == 0)
        return imc_err_set(err, IMC_EINPUT, "synthetic images: the count must be at least 1");
    size_t per = (size_t)net->in_chans * (size_t)net->in_h * (size_t)net->in_w;
    if ((uint64_t)n > MAX_VALUES / per)
        return imc_err_set(err, IMC_EINPUT,
                           "synthetic images: %zu images of %zu values are more than the %llu "
                           "values one run holds", n, per, (unsigned long long)MAX_VALUES);
    imc_dataset *d = dataset_new(n, net->in_chans, net->in_h, net->in_w, 0);
    gsl_rng *rng = d ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    if (!rng) {
        imc_dataset_free(d);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    gsl_rng_set(rng, seed);
    /* The top 24 bits of each 32-bit draw: exact floats in [0, 1), never rounded up to 1; for a
     * language model, token ids uniform over its vocabulary (exact while below 2^24) */
    int64_t vocab = token_vocabulary(net);
    for (size_t i = 0; i < n * per; i++)
        d->images[i] = vocab ? (float)gsl_rng_uniform_int(rng, (unsigned long)(vocab < 1 << 24 ? vocab : 1 << 24))
                             : (float)(gsl_rng_get(rng) >> 8) * 0x1p-24f;
    gsl_rng_free(rng);
    if ((rc = normalise(d, net, err))) {
        imc_dataset_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- logits ------------------------------------------------------------------------------- */

/* N 32-bit values (floats or ints) at SRC as little-endian bytes, whatever the host order. */
static unsigned char *le32(const void *src, size_t n)
{
    unsigned char *b = malloc(n ? 4 * n : 1);
    if (!b)
        return NULL;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, s + 4 * i, 4);
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    return b;
}

int imc_logits_write(const char *path, const float *fp32, const float *imc, const int32_t *labels,
                     size_t n, int classes, const imc_provenance *prov, imc_err *err)
{
    if (!fp32 || !imc || classes < 1 || (uint64_t)n > MAX_VALUES / (uint64_t)classes)
        return imc_err_set(err, IMC_EINTERNAL, "imc_logits_write: bad arguments (%zu x %d)", n,
                           classes);
    size_t values = n * (size_t)classes;
    imc_netwriter *w = imc_netwriter_new();
    unsigned char *b_fp32 = le32(fp32, values), *b_imc = le32(imc, values);
    unsigned char *b_labels = labels ? le32(labels, n) : NULL;
    int rc;
    if (!w || !b_fp32 || !b_imc || (labels && !b_labels)) {
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    } else {
        int64_t shape[2] = {(int64_t)n, classes};
        rc = imc_netwriter_add(w, "fp32", IMC_DT_F32, 2, shape, b_fp32, err);
        if (!rc)
            rc = imc_netwriter_add(w, "imc", IMC_DT_F32, 2, shape, b_imc, err);
        if (!rc && labels)
            rc = imc_netwriter_add(w, "labels", IMC_DT_I32, 1, shape, b_labels, err);
        if (!rc)
            rc = imc_netwriter_meta(w, "format", "imcsim-logits", err);
        if (!rc)
            rc = imc_netwriter_meta(w, "format_version", "1", err);
        if (!rc && prov)
            rc = imc_netwriter_meta(w, "imcsim", prov->version, err);
        if (!rc && prov)
            rc = imc_netwriter_meta(w, "inputs_sha256", prov->digest, err);
        if (!rc)
            rc = imc_netwriter_write(w, path, err);
    }
    imc_netwriter_free(w);
    free(b_fp32);
    free(b_imc);
    free(b_labels);
    return rc;
}
