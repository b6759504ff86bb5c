/* network.c -- infer a DeiT / FAR network from a model file (see network.h).
 *
 * Names follow timm's VisionTransformer; FAR blocks follow the FAR reference implementation
 * (Ren et al., arXiv 2505.21535; docs/SOURCES.md). Every inconsistency is one error naming the tensor and saying
 * what was expected. Checks are by shape, except in masked-form FAR blocks where the per-head
 * block-diagonal masks and pruned units can only be seen in the data. */
#include "sim/net/network.h"

#include "sim/base/hugepages.h"
#include "sim/base/vectorize.h"
#include "sim/net/generic.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 1024

static const char *const kind_names[IMC_LAYER_KIND_COUNT] = {
    [IMC_LAYER_PATCH_EMBED] = "patch_embed", [IMC_LAYER_QKV] = "qkv",
    [IMC_LAYER_ATTN_PROJ] = "attn_proj",     [IMC_LAYER_FAR_PRE] = "far_pre_proj",
    [IMC_LAYER_FAR_LSTM] = "far_lstm",       [IMC_LAYER_FAR_HEAD_PROJ] = "far_head_proj",
    [IMC_LAYER_FAR_POST] = "far_post_proj",  [IMC_LAYER_FC1] = "mlp_fc1",
    [IMC_LAYER_FC2] = "mlp_fc2",             [IMC_LAYER_HEAD] = "head",
    [IMC_LAYER_LINEAR] = "linear",           [IMC_LAYER_CONV2D] = "conv2d",
    [IMC_LAYER_LSTM] = "lstm",               [IMC_LAYER_GRU] = "gru",
};

const char *imc_layer_kind_name(imc_layer_kind kind)
{
    return kind < IMC_LAYER_KIND_COUNT ? kind_names[kind] : "?";
}

typedef struct ctx {
    const imc_netfile *nf;
    imc_network *net;
    imc_err *err;
    size_t cap_layers;
    unsigned char *used;     /* per tensor, in header order: the network has read it */
    struct prescan *prescan; /* masked FAR blocks scanned ahead on a second thread, or NULL */
} ctx;

/* Tensor NAME, or NULL; a tensor found is one the network uses (unused ones are refused at
 * the end of the load, never silently dropped). */
static const imc_tensor *find(ctx *c, const char *name)
{
    const imc_tensor *t = imc_netfile_find(c->nf, name);
    if (t)
        c->used[t - imc_netfile_at(c->nf, 0)] = 1;
    return t;
}

static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx *c, const char *fmt, ...)
{
    char msg[sizeof c->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(c->err, IMC_EINPUT, imc_netfile_path(c->nf), 0, 0, "%s", msg);
}

/* Find tensor NAME and check its shape against the NDIM dims given (-1: any). */
static const imc_tensor *need(ctx *c, int *rc, const char *name, int ndim, ...)
{
    if (*rc)
        return NULL;
    const imc_tensor *t = find(c, name);
    if (!t) {
        *rc = fail(c, "missing tensor '%s'", name);
        return NULL;
    }
    int64_t want[IMC_TENSOR_MAX_DIMS];
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++)
        want[i] = va_arg(ap, int64_t);
    va_end(ap);
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = want[i] < 0 || want[i] == t->shape[i];
    if (!ok) {
        char got_s[128], want_s[128];
        imc_shape_str(t->shape, t->ndim, got_s, sizeof got_s);
        imc_shape_str(want, ndim, want_s, sizeof want_s);
        for (char *p = want_s; (p = strstr(p, "-1")); p++)
            memcpy(p, " *", 2);
        *rc = fail(c, "tensor '%s': shape %s, expected %s", name, got_s, want_s);
        return NULL;
    }
    return t;
}

#define D64(x) ((int64_t)(x))

/* A Linear layer's bias PREFIX.bias: optional (timm's qkv_bias=False has none), but when
 * present it must hold OUT values. Returns 1 when present. */
static int opt_bias(ctx *c, int *rc, const char *prefix, int out)
{
    char name[160];
    snprintf(name, sizeof name, "%s.bias", prefix);
    if (*rc || !find(c, name))
        return 0;
    return need(c, rc, name, 1, D64(out)) != NULL;
}

static int meta_int(ctx *c, const char *key, int *out)
{
    const char *v = imc_netfile_meta(c->nf, key);
    if (!v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n <= 0 || n > 1 << 24)
        return fail(c, "__metadata__ '%s': '%s' is not a positive integer", key, v);
    *out = (int)n;
    return 0;
}

/* __metadata__ layernorm_eps: a number in (0, 1], else timm's default 1e-6. */
static int meta_eps(ctx *c, float *out)
{
    const char *v = imc_netfile_meta(c->nf, "layernorm_eps");
    *out = 1e-6f;
    if (!v)
        return 0;
    char *end;
    float eps = strtof(v, &end);
    if (end == v || *end || !(eps > 0) || eps > 1)
        return fail(c, "__metadata__ 'layernorm_eps': '%s' is not a number in (0, 1]", v);
    *out = eps;
    return 0;
}

static int add_layer(ctx *c, imc_layer_kind kind, int block, int head, int dir, int in, int out,
                     int64_t vectors, int has_bias, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));
static int add_layer(ctx *c, imc_layer_kind kind, int block, int head, int dir, int in, int out,
                     int64_t vectors, int has_bias, const char *fmt, ...)
{
    imc_network *net = c->net;
    if (in <= 0 || out <= 0)
        return 0; /* a head whose units were all pruned maps to nothing */
    if (net->n_layers == c->cap_layers) {
        size_t cap = c->cap_layers ? 2 * c->cap_layers : 64;
        imc_layer *grown = realloc(net->layers, cap * sizeof *grown);
        if (!grown)
            return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
        net->layers = grown;
        c->cap_layers = cap;
    }
    imc_layer *l = &net->layers[net->n_layers++];
    memset(l, 0, sizeof *l);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->name, sizeof l->name, fmt, ap);
    va_end(ap);
    l->kind = kind;
    l->block = block;
    l->head = head;
    l->dir = dir;
    l->in = in;
    l->out = out;
    l->vectors = vectors;
    l->has_bias = has_bias;
    l->node = l->part = -1;
    return 0;
}

static const char *dir_suffix(int dir)
{
    return dir == IMC_DIR_FWD ? "" : "_reverse";
}

/* ---- FAR blocks ---------------------------------------------------------------------------- */

static int read_need(ctx *c, int *rc, const imc_tensor *t, float *out)
{
    if (!*rc && t)
        *rc = imc_netfile_read_f32(c->nf, t, out, c->err);
    return *rc;
}

/* The OR of N little-endian 32-bit words at P (vector code: integer ORs reassociate freely). */
static VECTORIZE uint32_t or_words(const unsigned char *p, size_t n)
{
    uint32_t acc = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t w;
        memcpy(&w, p + 4 * k, 4);
        acc |= w;
    }
    return acc;
}

/* Which of N elements of DTYPE at the raw little-endian bytes P are non-zero as
 * imc_netfile_read_f32 would convert them (NaN counts as non-zero, -0 as zero): NZ[k] != 0.
 * Converts nothing but F64 (whose tiny values round to a float 0). */
static void nonzero_run(imc_dtype dtype, const unsigned char *p, size_t n, uint32_t *nz)
{
    size_t es = imc_dtype_size(dtype);
    switch (dtype) {
    case IMC_DT_F32:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(nz, p, n * 4); /* the host's own order: one copy, then the sign bit off */
        for (size_t k = 0; k < n; k++)
            nz[k] &= 0x7fffffffu;
        break;
#endif
        for (size_t k = 0; k < n; k++, p += 4)
            nz[k] = ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24) & 0x7fffffffu;
        break;
    case IMC_DT_F16:
    case IMC_DT_BF16:
        for (size_t k = 0; k < n; k++, p += 2)
            nz[k] = ((uint32_t)p[0] | (uint32_t)p[1] << 8) & 0x7fffu;
        break;
    case IMC_DT_F64:
        for (size_t k = 0; k < n; k++, p += 8) {
            uint64_t bits = 0;
            for (int i = 7; i >= 0; i--)
                bits = bits << 8 | p[i];
            double d;
            memcpy(&d, &bits, sizeof d);
            nz[k] = (float)d != 0;
        }
        break;
    default: /* integers and BOOL: non-zero as a float exactly when a byte is */
        for (size_t k = 0; k < n; k++, p += es) {
            uint32_t any = 0;
            for (size_t i = 0; i < es; i++)
                any |= p[i];
            nz[k] = any;
        }
    }
}

/* Whether any of N elements of DTYPE at P is non-zero (as nonzero_run says; SCRATCH holds N
 * values). For F32, the raw words OR-ed together, sign bit off: no copy, and a loop the compiler
 * vectorises -- most of what a masked FAR file's scan reads must be zero. */
static uint32_t nonzero_any(imc_dtype dtype, const unsigned char *p, size_t n, uint32_t *scratch)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (dtype == IMC_DT_F32)
        return or_words(p, n) & 0x7fffffffu;
#endif
    nonzero_run(dtype, p, n, scratch);
    uint32_t acc = 0;
    for (size_t k = 0; k < n; k++)
        acc |= scratch[k];
    return acc;
}

/* A tensor's rows read from the file a few at a time into a buffer that stays in cache: the
 * scan below looks at each byte once and keeps none. */
typedef struct row_reader {
    const imc_tensor *t;
    imc_dtype dtype;
    size_t es;              /* bytes per element */
    size_t cols, row_bytes; /* elements and bytes per row */
    size_t per;             /* rows per read */
    size_t first, loaded;   /* the rows in buf: first .. first + loaded */
    unsigned char *buf;
} row_reader;

/* RR reading T's rows of COLS elements (its previous buffer, if any, freed). */
static int row_reader_init(ctx *c, row_reader *rr, const imc_tensor *t, size_t cols)
{
    enum { CHUNK = 64 << 10 }; /* bytes: two readers' buffers stay in a 1 MB L2 */
    size_t es = imc_dtype_size(t->dtype);
    free(rr->buf);
    *rr = (row_reader){.t = t, .dtype = t->dtype, .es = es, .cols = cols, .row_bytes = cols * es};
    rr->per = rr->row_bytes && rr->row_bytes < CHUNK ? CHUNK / rr->row_bytes : 1;
    if (!(rr->buf = malloc(rr->per * rr->row_bytes + 1)))
        return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
    return 0;
}

/* The raw bytes of row R of ROWS (NULL after an error, in *RC). */
static const unsigned char *row_at(ctx *c, int *rc, row_reader *rr, size_t r, size_t rows)
{
    if (r < rr->first || r >= rr->first + rr->loaded) {
        size_t n = rows - r < rr->per ? rows - r : rr->per;
        if ((*rc = imc_netfile_read_raw(c->nf, rr->t, r * rr->cols, n * rr->cols, rr->buf, c->err)))
            return NULL;
        rr->first = r;
        rr->loaded = n;
    }
    return rr->buf + (r - rr->first) * rr->row_bytes;
}

/* Masked form: check the per-head block-diagonal masks of the LSTM and head_proj, and find the
 * units each head and direction keeps. A unit U of head H is unused when removing it changes
 * nothing: its weight rows are zero in every gate and its g-gate bias sums to zero (its cell
 * state, hence its output, stays 0), or nothing reads it (a zero W_hh column, outside its own
 * rows, and a zero head_proj column). The FAR reference code masks only the weight rows and
 * keeps training biases, so a unit with zero rows but a live bias still produces an output and
 * is kept.
 *
 * Only zero or not matters, so the tensors are scanned from the file's raw bytes, read a few
 * rows at a time (row_reader): a timing-only run of a masked-form FAR-S file neither converts
 * nor keeps the 113 MB it must look at. */
static int scan_masked_lstm(ctx *c, int b, imc_block *blk, const imc_tensor *head_proj,
                            int64_t *effective)
{
    imc_network *net = c->net;
    int D = net->embed_dim, N = net->num_heads, hd = net->head_dim, rc = 0;
    char name[128];
    uint32_t *row = malloc((size_t)2 * D * sizeof *row), *row_hh = malloc((size_t)D * sizeof *row_hh);
    float *bih = malloc((size_t)4 * D * sizeof *bih), *bhh = malloc((size_t)4 * D * sizeof *bhh);
    unsigned char *zero_row = malloc((size_t)4 * D), *hh_read = malloc((size_t)D),
                  *hp_read = calloc((size_t)2 * D, 1);
    row_reader rr[2] = {{0}};
    if (!row || !row_hh || !bih || !bhh || !zero_row || !hh_read || !hp_read)
        rc = imc_err_set(c->err, IMC_ENOMEM, "out of memory");
    /* head_proj [D][2D]: row r (head r / hd) reads only its head's columns of either direction */
    if (!rc)
        rc = row_reader_init(c, &rr[0], head_proj, (size_t)2 * D);
    imc_dtype dt = rr[0].dtype;
    size_t es = rr[0].es;
    for (int r = 0; r < D && !rc; r++) {
        const unsigned char *p = row_at(c, &rc, &rr[0], (size_t)r, (size_t)D);
        if (!p)
            break;
        int h0 = r / hd * hd;
        /* its head's columns of either direction; then, only if the rest is not all zero, the
           whole row for the message */
        nonzero_run(dt, p + (size_t)h0 * es, (size_t)hd, row + h0);
        nonzero_run(dt, p + (size_t)(D + h0) * es, (size_t)hd, row + D + h0);
        if (!(nonzero_any(dt, p, (size_t)h0, row_hh) ||
              nonzero_any(dt, p + (size_t)(h0 + hd) * es, (size_t)(D - hd), row_hh) ||
              nonzero_any(dt, p + (size_t)(D + h0 + hd) * es, (size_t)(D - h0 - hd), row_hh))) {
            for (int dir = 0; dir < 2; dir++)
                for (int col = dir * D + h0; col < dir * D + h0 + hd; col++)
                    hp_read[col] |= row[col] != 0;
            continue;
        }
        nonzero_run(dt, p, (size_t)2 * D, row);
        for (int dir = 0; dir < 2; dir++)
            for (int col = dir * D + h0; col < dir * D + h0 + hd; col++) {
                hp_read[col] |= row[col] != 0;
                row[col] = 0; /* the rest of the row must be zero */
            }
        uint32_t other = 0;
        for (int col = 0; col < 2 * D; col++)
            other |= row[col];
        if (!other)
            continue;
        int col = 0;
        while (!row[col])
            col++;
        rc = fail(c, "tensor '%s': row %d (head %d) reads column %d of another head "
                  "(FAR's per-head mask)", head_proj->name, r, r / hd, col);
    }
    for (int dir = 0; dir < 2 && !rc; dir++) {
        const imc_tensor *t[4];
        static const char *const kinds[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%s_l0%s", b, kinds[k], dir_suffix(dir));
            t[k] = k < 2 ? need(c, &rc, name, 2, D64(4 * D), D64(D)) : need(c, &rc, name, 1, D64(4 * D));
        }
        read_need(c, &rc, t[2], bih);
        read_need(c, &rc, t[3], bhh);
        for (int k = 0; k < 2 && !rc; k++)
            rc = row_reader_init(c, &rr[k], t[k], (size_t)D);
        imc_dtype dih = rr[0].dtype, dhh = rr[1].dtype;
        size_t eih = rr[0].es, ehh = rr[1].es;
        memset(hh_read, 0, (size_t)D);
        for (int r = 0; r < 4 * D && !rc; r++) {
            const unsigned char *pih = row_at(c, &rc, &rr[0], (size_t)r, (size_t)4 * D);
            const unsigned char *phh = pih ? row_at(c, &rc, &rr[1], (size_t)r, (size_t)4 * D) : NULL;
            if (!phh)
                break;
            int h = (r % D) / hd, u = (r % D) % hd;
            size_t h0 = (size_t)h * hd, h1 = h0 + (size_t)hd;
            /* block-diagonal per head: outside the head's columns all zero (checked without a
               copy; the whole rows looked at again only for the message) */
            uint32_t other = nonzero_any(dih, pih, h0, row) |
                             nonzero_any(dih, pih + h1 * eih, (size_t)D - h1, row) |
                             nonzero_any(dhh, phh, h0, row) |
                             nonzero_any(dhh, phh + h1 * ehh, (size_t)D - h1, row);
            if (other) {
                nonzero_run(dih, pih, (size_t)D, row);
                nonzero_run(dhh, phh, (size_t)D, row_hh);
            } else {
                nonzero_run(dih, pih + h0 * eih, (size_t)hd, row + h0);
                nonzero_run(dhh, phh + h0 * ehh, (size_t)hd, row_hh + h0);
            }
            for (int col = 0; other && col < D; col++) {
                if (col / hd == h || !(row[col] || row_hh[col]))
                    continue;
                int in_ih = row[col] != 0;
                rc = fail(c, "tensor '%s': row %d (gate %c, head %d) has a non-zero weight in "
                          "column %d, outside its head's columns %d..%d (FAR's per-head mask)",
                          t[in_ih ? 0 : 1]->name, r, "ifgo"[r / D], h, col, h * hd,
                          (h + 1) * hd - 1);
                break;
            }
            uint32_t any = 0;
            for (int col = h * hd; col < (h + 1) * hd; col++) {
                any |= row[col] | row_hh[col];
                if (col - h * hd != u && row_hh[col]) /* unit col is read by another unit's row */
                    hh_read[col] = 1;
            }
            zero_row[r] = !any;
        }
        for (int h = 0; h < N && !rc; h++) {
            imc_far_dir *fd = &blk->far[h * 2 + dir];
            if (!(fd->units = malloc((size_t)hd * sizeof *fd->units))) {
                rc = imc_err_set(c->err, IMC_ENOMEM, "out of memory");
                break;
            }
            fd->hidden = 0;
            for (int u = 0; u < hd; u++) {
                int j = h * hd + u, zero_rows = 1, g_row = 2 * D + j;
                for (int g = 0; g < 4; g++)
                    zero_rows &= zero_row[g * D + j];
                int removable = (zero_rows && bih[g_row] + bhh[g_row] == 0) ||
                                (!hh_read[j] && !hp_read[dir * D + j]);
                if (!removable)
                    fd->units[fd->hidden++] = u;
            }
            int64_t k = fd->hidden;
            *effective += 4 * k * hd + 4 * k * k + 8 * k;
        }
    }
    free(rr[0].buf), free(rr[1].buf);
    free(row), free(row_hh), free(bih), free(bhh), free(zero_row), free(hh_read), free(hp_read);
    return rc;
}

/* The form of block B's token mixer, by its tensors' names (nothing read or marked used). */
typedef enum { MIXER_NONE, MIXER_ATTENTION, MIXER_FAR_MASKED, MIXER_FAR_SPLIT } mixer_form;

static mixer_form block_mixer(const imc_netfile *nf, int b)
{
    char name[128];
    snprintf(name, sizeof name, "blocks.%d.attn.qkv.weight", b);
    if (imc_netfile_find(nf, name))
        return MIXER_ATTENTION;
    snprintf(name, sizeof name, "blocks.%d.attn.pre_proj.weight", b);
    if (!imc_netfile_find(nf, name))
        return MIXER_NONE;
    snprintf(name, sizeof name, "blocks.%d.attn.lstm.0.weight_ih_l0", b);
    return imc_netfile_find(nf, name) ? MIXER_FAR_SPLIT : MIXER_FAR_MASKED;
}

/* ---- masked FAR blocks scanned ahead ----------------------------------------------------
 *
 * Reading a masked-form file is mostly scan_masked_lstm's (FAR-S: 113 MB in 12 blocks), and
 * each block's scan needs only its own tensors: the second half of the masked blocks are
 * scanned on a second thread, with a context of its own (its error, its used flags), while
 * this thread loads the first. load_far_block takes a block's result where it would have
 * scanned it, so errors come in the same order as without; the thread's used flags join the
 * load's at the end. */
typedef struct prescan_result {
    int block, rc;
    imc_err err;
    imc_far_dir *far; /* 2 x num_heads, as the block's; owned here until taken */
    int64_t eff;
} prescan_result;

typedef struct prescan {
    ctx c;
    imc_err err;
    prescan_result *res;
    int n, running;
    pthread_t tid;
} prescan;

static void *prescan_run(void *arg)
{
    prescan *ps = arg;
    imc_network *net = ps->c.net;
    int D = net->embed_dim;
    for (int i = 0; i < ps->n; i++) {
        prescan_result *r = &ps->res[i];
        imc_block tmp = {.kind = IMC_BLOCK_FAR};
        int rc = 0;
        if (!(r->far = tmp.far = calloc((size_t)net->num_heads * 2, sizeof *tmp.far)))
            rc = imc_err_set(ps->c.err, IMC_ENOMEM, "out of memory");
        char name[128];
        snprintf(name, sizeof name, "blocks.%d.attn.head_proj.weight", r->block);
        const imc_tensor *hp = need(&ps->c, &rc, name, 2, D64(D), D64(2 * D));
        if (!rc)
            rc = scan_masked_lstm(&ps->c, r->block, &tmp, hp, &r->eff);
        if ((r->rc = rc))
            r->err = ps->err;
    }
    return NULL;
}

/* Start the scan of the second half of C's masked FAR blocks, if there are two or more (none
 * where the thread or memory cannot be had: the blocks are then scanned in place). */
static void start_prescan(ctx *c, prescan *ps)
{
    imc_network *net = c->net;
    int masked = 0, *blocks = malloc((size_t)net->depth * sizeof *blocks);
    memset(ps, 0, sizeof *ps);
    for (int b = 0; blocks && b < net->depth; b++)
        if (block_mixer(c->nf, b) == MIXER_FAR_MASKED)
            blocks[masked++] = b;
    int n = masked / 2;
    ps->c = (ctx){c->nf, net, &ps->err, 0, calloc(imc_netfile_count(c->nf) + 1, 1), NULL};
    ps->res = n ? calloc((size_t)n, sizeof *ps->res) : NULL;
    if (n && ps->c.used && ps->res) {
        for (int i = 0; i < n; i++)
            ps->res[i].block = blocks[masked - n + i];
        ps->n = n;
        ps->running = !pthread_create(&ps->tid, NULL, prescan_run, ps);
    }
    if (!ps->running) {
        free(ps->c.used), free(ps->res);
        memset(ps, 0, sizeof *ps);
    } else {
        c->prescan = ps;
    }
    free(blocks);
}

/* Block B's result, if it was scanned ahead: into BLK's units, *EFF and *RC (its error into
 * C's); 0 if it was not. */
static int take_prescan(ctx *c, int b, imc_block *blk, int64_t *eff, int *rc)
{
    prescan *ps = c->prescan;
    for (int i = 0; ps && i < ps->n; i++) {
        prescan_result *r = &ps->res[i];
        if (r->block != b)
            continue;
        if (ps->running) {
            pthread_join(ps->tid, NULL);
            ps->running = 0;
        }
        for (int k = 0; r->far && k < 2 * c->net->num_heads; k++) /* NULL: rc says why */
            blk->far[k] = r->far[k];
        free(r->far);
        r->far = NULL;
        *eff += r->eff;
        if ((*rc = r->rc))
            *c->err = r->err;
        return 1;
    }
    return 0;
}

/* Wait for the thread, keep the tensors it read as used, and free what was not taken. */
static void finish_prescan(ctx *c)
{
    prescan *ps = c->prescan;
    if (!ps)
        return;
    if (ps->running)
        pthread_join(ps->tid, NULL);
    for (size_t i = 0; i < imc_netfile_count(c->nf); i++)
        c->used[i] |= ps->c.used[i];
    for (int i = 0; i < ps->n; i++) {
        for (int k = 0; ps->res[i].far && k < 2 * c->net->num_heads; k++)
            free(ps->res[i].far[k].units);
        free(ps->res[i].far);
    }
    free(ps->c.used), free(ps->res);
    c->prescan = NULL;
}

static int load_far_block(ctx *c, int b, imc_block *blk, int64_t *effective)
{
    imc_network *net = c->net;
    int D = net->embed_dim, N = net->num_heads, hd = net->head_dim, T = net->tokens, rc = 0;
    char name[128];
    blk->kind = IMC_BLOCK_FAR;
    if (!(blk->far = calloc((size_t)N * 2, sizeof *blk->far)))
        return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
    snprintf(name, sizeof name, "blocks.%d.attn.pre_proj.weight", b);
    need(c, &rc, name, 2, D64(D), D64(D));
    snprintf(name, sizeof name, "blocks.%d.attn.post_proj.weight", b);
    need(c, &rc, name, 2, D64(D), D64(D));
    snprintf(name, sizeof name, "blocks.%d.attn.head_proj.bias", b);
    int64_t eff = 0;
    if (!blk->far_split) {
        need(c, &rc, name, 1, D64(D));
        snprintf(name, sizeof name, "blocks.%d.attn.head_proj.weight", b);
        const imc_tensor *hp = need(c, &rc, name, 2, D64(D), D64(2 * D));
        if (!rc && !take_prescan(c, b, blk, &eff, &rc))
            rc = scan_masked_lstm(c, b, blk, hp, &eff);
        /* Effective counts replace the masked tensors' full counts. */
        int64_t masked = 2 * (4LL * D * D * 2 + 4LL * D * 2) + 2LL * D * D;
        for (int h = 0; h < N; h++)
            eff += (int64_t)hd * (blk->far[h * 2].hidden + blk->far[h * 2 + 1].hidden);
        *effective += eff - masked;
    } else {
        for (int h = 0; h < N && !rc; h++) {
            for (int dir = 0; dir < 2 && !rc; dir++) {
                const char *sfx = dir_suffix(dir);
                imc_far_dir *fd = &blk->far[h * 2 + dir];
                snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.weight_ih_l0%s", b, h, sfx);
                const imc_tensor *ih = need(c, &rc, name, 2, D64(-1), D64(hd));
                if (rc)
                    break;
                if (ih->shape[0] % 4 || ih->shape[0] / 4 > hd) {
                    rc = fail(c, "tensor '%s': %lld rows is not 4 gates x at most %d hidden units",
                              name, (long long)ih->shape[0], hd);
                    break;
                }
                fd->hidden = (int)(ih->shape[0] / 4);
                int64_t k = fd->hidden;
                snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.weight_hh_l0%s", b, h, sfx);
                need(c, &rc, name, 2, 4 * k, k);
                snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.bias_ih_l0%s", b, h, sfx);
                need(c, &rc, name, 1, 4 * k);
                snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.bias_hh_l0%s", b, h, sfx);
                need(c, &rc, name, 1, 4 * k);
                if (!rc && !(fd->units = malloc((size_t)(k ? k : 1) * sizeof *fd->units)))
                    rc = imc_err_set(c->err, IMC_ENOMEM, "out of memory");
                for (int u = 0; !rc && u < k; u++)
                    fd->units[u] = u;
            }
            int hf = blk->far[h * 2].hidden, hb = blk->far[h * 2 + 1].hidden;
            snprintf(name, sizeof name, "blocks.%d.attn.head_proj.%d.weight", b, h);
            need(c, &rc, name, 2, D64(hd), D64(hf + hb));
            snprintf(name, sizeof name, "blocks.%d.attn.head_proj.%d.bias", b, h);
            need(c, &rc, name, 1, D64(hd));
        }
        snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.weight_ih_l0", b, N);
        if (!rc && find(c, name))
            rc = fail(c, "tensor '%s': block %d has more LSTM heads than num_heads %d", name, b, N);
    }
    if (rc)
        return rc;
    char pre[96], post[96];
    snprintf(pre, sizeof pre, "blocks.%d.attn.pre_proj", b);
    snprintf(post, sizeof post, "blocks.%d.attn.post_proj", b);
    int pre_bias = opt_bias(c, &rc, pre, D), post_bias = opt_bias(c, &rc, post, D);
    if (!rc)
        rc = add_layer(c, IMC_LAYER_FAR_PRE, b, -1, -1, D, D, T, pre_bias, "%s", pre);
    for (int h = 0; h < N && !rc; h++)
        for (int dir = 0; dir < 2 && !rc; dir++) {
            int k = blk->far[h * 2 + dir].hidden;
            rc = add_layer(c, IMC_LAYER_FAR_LSTM, b, h, dir, hd + k, 4 * k, T, 1,
                           "blocks.%d.attn.lstm.h%d.%s", b, h, dir ? "bwd" : "fwd");
        }
    for (int h = 0; h < N && !rc; h++)
        rc = add_layer(c, IMC_LAYER_FAR_HEAD_PROJ, b, h, -1,
                       blk->far[h * 2].hidden + blk->far[h * 2 + 1].hidden, hd, T, 1,
                       "blocks.%d.attn.head_proj.h%d", b, h);
    if (!rc)
        rc = add_layer(c, IMC_LAYER_FAR_POST, b, -1, -1, D, D, T, post_bias, "%s", post);
    return rc;
}

/* ---- the whole network ------------------------------------------------------------------- */

static int block_count(ctx *c, int *depth)
{
    int max = -1;
    unsigned char seen[MAX_DEPTH] = {0};
    for (size_t i = 0; i < imc_netfile_count(c->nf); i++) {
        const char *n = imc_netfile_at(c->nf, i)->name;
        int b, used = 0;
        if (sscanf(n, "blocks.%d.%n", &b, &used) != 1 || used == 0)
            continue;
        if (b < 0 || b >= MAX_DEPTH)
            return fail(c, "tensor '%s': block index out of range 0..%d", n, MAX_DEPTH - 1);
        seen[b] = 1;
        if (b > max)
            max = b;
    }
    for (int b = 0; b <= max; b++)
        if (!seen[b])
            return fail(c, "missing tensors of block %d (blocks 0..%d are present otherwise)", b, max);
    *depth = max + 1;
    return 0;
}

static int load(ctx *c)
{
    imc_network *net = c->net;
    int rc = 0;
    const imc_tensor *pe = need(c, &rc, "patch_embed.proj.weight", 4, D64(-1), D64(-1), D64(-1), D64(-1));
    if (rc)
        return rc;
    if (pe->shape[2] != pe->shape[3] || pe->shape[0] <= 0 || pe->shape[1] <= 0 || pe->shape[2] <= 0)
        return fail(c, "tensor 'patch_embed.proj.weight': shape [D, C, p, p] with a square patch expected");
    int D = net->embed_dim = (int)pe->shape[0];
    net->in_chans = (int)pe->shape[1];
    net->patch_size = (int)pe->shape[2];
    need(c, &rc, "cls_token", 3, D64(1), D64(1), D64(D));
    net->dist_token = find(c, "dist_token") != NULL;
    if (net->dist_token)
        need(c, &rc, "dist_token", 3, D64(1), D64(1), D64(D));
    const imc_tensor *pos = need(c, &rc, "pos_embed", 3, D64(1), D64(-1), D64(D));
    need(c, &rc, "norm.weight", 1, D64(D));
    need(c, &rc, "norm.bias", 1, D64(D));
    const imc_tensor *head = need(c, &rc, "head.weight", 2, D64(-1), D64(D));
    if (rc)
        return rc;
    net->num_classes = (int)head->shape[0];
    net->tokens = (int)pos->shape[1];
    net->patches = net->tokens - 1 - net->dist_token;
    int grid = (int)lround(sqrt((double)(net->patches > 0 ? net->patches : 0)));
    if (net->patches <= 0 || grid * grid != net->patches)
        return fail(c, "tensor 'pos_embed': %d tokens is not a square grid of patches + CLS%s",
                    net->tokens, net->dist_token ? " + distillation token" : "");
    net->img_size = grid * net->patch_size;
    net->in_h = net->in_w = net->img_size;
    int meta_img = 0;
    if ((rc = meta_int(c, "img_size", &meta_img)))
        return rc;
    if (meta_img && meta_img != net->img_size)
        return fail(c, "tensor 'pos_embed': %d tokens means %d px images with %d px patches, but "
                    "__metadata__ img_size is %d", net->tokens, net->img_size, net->patch_size,
                    meta_img);
    if ((rc = block_count(c, &net->depth)) || (rc = meta_int(c, "num_heads", &net->num_heads)) ||
        (rc = meta_eps(c, &net->layernorm_eps)))
        return rc;
    if (net->num_heads == 0) { /* only a split-form FAR network can say it by names */
        char name[128];
        snprintf(name, sizeof name, "blocks.0.attn.lstm.0.weight_ih_l0");
        int h = 0;
        while (find(c, name))
            snprintf(name, sizeof name, "blocks.0.attn.lstm.%d.weight_ih_l0", ++h);
        if (h == 0 || !find(c, "blocks.0.attn.pre_proj.weight"))
            return fail(c, "__metadata__ has no 'num_heads', and the shapes cannot say it");
        net->num_heads = h;
    }
    if (D % net->num_heads)
        return fail(c, "__metadata__ num_heads %d does not divide the embedding dimension %d",
                    net->num_heads, D);
    net->head_dim = D / net->num_heads;
    if (!(net->blocks = calloc((size_t)net->depth, sizeof *net->blocks)))
        return imc_err_set(c->err, IMC_ENOMEM, "out of memory");

    for (size_t i = 0; i < imc_netfile_count(c->nf); i++)
        net->params_total += imc_tensor_numel(imc_netfile_at(c->nf, i));
    int64_t effective = net->params_total;
    int T = net->tokens;
    int pe_bias = opt_bias(c, &rc, "patch_embed.proj", D);
    if (!rc)
        rc = add_layer(c, IMC_LAYER_PATCH_EMBED, -1, -1, -1,
                       net->in_chans * net->patch_size * net->patch_size, D, net->patches, pe_bias,
                       "patch_embed");
    prescan ps;
    if (!rc)
        start_prescan(c, &ps);
    for (int b = 0; b < net->depth && !rc; b++) {
        imc_block *blk = &net->blocks[b];
        char name[128];
        static const char *const norms[] = {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"};
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "blocks.%d.%s", b, norms[k]);
            need(c, &rc, name, 1, D64(D));
        }
        snprintf(name, sizeof name, "blocks.%d.mlp.fc1.weight", b);
        const imc_tensor *fc1 = need(c, &rc, name, 2, D64(-1), D64(D));
        if (rc)
            break;
        blk->mlp_hidden = (int)fc1->shape[0];
        char fc1n[96], fc2n[96];
        snprintf(fc1n, sizeof fc1n, "blocks.%d.mlp.fc1", b);
        snprintf(fc2n, sizeof fc2n, "blocks.%d.mlp.fc2", b);
        int fc1_bias = opt_bias(c, &rc, fc1n, blk->mlp_hidden), fc2_bias = opt_bias(c, &rc, fc2n, D);
        snprintf(name, sizeof name, "blocks.%d.mlp.fc2.weight", b);
        need(c, &rc, name, 2, D64(D), D64(blk->mlp_hidden));
        char qkv[128], pre[128];
        snprintf(qkv, sizeof qkv, "blocks.%d.attn.qkv.weight", b);
        snprintf(pre, sizeof pre, "blocks.%d.attn.pre_proj.weight", b);
        if (rc)
            break;
        mixer_form form = block_mixer(c->nf, b);
        if (form == MIXER_ATTENTION) {
            blk->kind = IMC_BLOCK_ATTENTION;
            need(c, &rc, qkv, 2, D64(3 * D), D64(D));
            snprintf(name, sizeof name, "blocks.%d.attn.proj.weight", b);
            need(c, &rc, name, 2, D64(D), D64(D));
            char qkvn[96], projn[96];
            snprintf(qkvn, sizeof qkvn, "blocks.%d.attn.qkv", b);
            snprintf(projn, sizeof projn, "blocks.%d.attn.proj", b);
            int qkv_bias = opt_bias(c, &rc, qkvn, 3 * D), proj_bias = opt_bias(c, &rc, projn, D);
            if (!rc)
                rc = add_layer(c, IMC_LAYER_QKV, b, -1, -1, D, 3 * D, T, qkv_bias, "%s", qkvn);
            if (!rc)
                rc = add_layer(c, IMC_LAYER_ATTN_PROJ, b, -1, -1, D, D, T, proj_bias, "%s", projn);
        } else if (form != MIXER_NONE) { /* its tensors are marked used as they are read */
            blk->far_split = form == MIXER_FAR_SPLIT;
            rc = load_far_block(c, b, blk, &effective);
        } else {
            rc = fail(c, "missing tensor '%s' (attention) or '%s' (FAR) of block %d", qkv, pre, b);
        }
        if (!rc)
            rc = add_layer(c, IMC_LAYER_FC1, b, -1, -1, D, blk->mlp_hidden, T, fc1_bias, "%s", fc1n);
        if (!rc)
            rc = add_layer(c, IMC_LAYER_FC2, b, -1, -1, blk->mlp_hidden, D, T, fc2_bias, "%s", fc2n);
    }
    finish_prescan(c);
    int head_bias = opt_bias(c, &rc, "head", net->num_classes);
    if (!rc)
        rc = add_layer(c, IMC_LAYER_HEAD, -1, -1, -1, D, net->num_classes, 1, head_bias, "head");
    if (!rc && find(c, "head_dist.weight")) {
        need(c, &rc, "head_dist.weight", 2, D64(net->num_classes), D64(D));
        int dist_bias = opt_bias(c, &rc, "head_dist", net->num_classes);
        if (!rc)
            rc = add_layer(c, IMC_LAYER_HEAD, -1, -1, -1, D, net->num_classes, 1, dist_bias,
                           "head_dist");
    }
    net->params_effective = effective;
    return rc;
}

int imc_network_load(imc_network **out, const imc_netfile *nf, imc_err *err)
{
    *out = NULL;
    imc_network *net = calloc(1, sizeof *net);
    if (!net)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    net->file = nf;
    const char *name = imc_netfile_meta(nf, "model_name");
    if (!name) {
        name = strrchr(imc_netfile_path(nf), '/');
        name = name ? name + 1 : imc_netfile_path(nf);
    }
    if (!(net->name = strdup(name))) {
        free(net);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    ctx c = {nf, net, err, 0, calloc(imc_netfile_count(nf) + 1, 1), NULL};
    const char *graph = imc_netfile_meta(nf, "imcsim_graph");
    int rc = !c.used ? imc_err_set(err, IMC_ENOMEM, "out of memory")
             : graph ? imc_generic_load(net, graph, c.used, err)
                     : load(&c);
    /* A tensor the network does not read would be silently ignored by the timing and the
     * numerics alike (a LayerScale's blocks.N.ls1.gamma): refused, named. */
    for (size_t i = 0; !rc && i < imc_netfile_count(nf); i++)
        if (!c.used[i])
            rc = fail(&c, graph ? "tensor '%s' is read by no node of the graph (refused rather "
                                  "than ignored)"
                                : "tensor '%s' is not part of a DeiT or FAR network as imcsim "
                                  "models it (refused rather than ignored; see README, 'Model "
                                  "files')",
                      imc_netfile_at(nf, i)->name);
    free(c.used);
    if (!rc && !graph)
        rc = imc_network_build_graph(net, &net->graph, err);
    if (rc) {
        imc_network_free(net);
        return rc;
    }
    *out = net;
    return 0;
}

void imc_network_free(imc_network *net)
{
    if (!net)
        return;
    for (int b = 0; net->blocks && b < net->depth; b++) {
        if (!net->blocks[b].far)
            continue;
        for (int i = 0; i < 2 * net->num_heads; i++)
            free(net->blocks[b].far[i].units);
        free(net->blocks[b].far);
    }
    free(net->blocks);
    free(net->layers);
    free(net->name);
    imc_graph_free(&net->graph);
    free(net);
}

int imc_network_find_layer(const imc_network *net, imc_layer_kind kind, int block, int head,
                           int dir)
{
    for (size_t i = 0; i < net->n_layers; i++) {
        const imc_layer *l = &net->layers[i];
        if (l->kind == kind && l->block == block && (head < 0 || l->head == head) &&
            (dir < 0 || l->dir == dir))
            return (int)i;
    }
    return -1;
}

int imc_network_layer_of(const imc_network *net, int node, int part)
{
    if (!imc_network_is_generic(net))
        return part == 0 ? imc_network_layer_named(net, net->graph.nodes[node].name) : -1;
    for (size_t i = 0; i < net->n_layers; i++)
        if (net->layers[i].node == node && net->layers[i].part == part)
            return (int)i;
    return -1;
}

int imc_network_layer_named(const imc_network *net, const char *name)
{
    for (size_t i = 0; i < net->n_layers; i++)
        if (!strcmp(net->layers[i].name, name))
            return (int)i;
    return -1;
}

int imc_network_is_generic(const imc_network *net)
{
    return net->n_layers > 0 && net->layers[0].node >= 0;
}

int imc_network_far_blocks(const imc_network *net)
{
    int n = 0;
    for (int b = 0; b < net->depth; b++)
        n += net->blocks[b].kind == IMC_BLOCK_FAR;
    return n;
}

/* ---- gathering a layer's weights -------------------------------------------------------------- */

int imc_network_read_tensor(const imc_network *net, const char *name, float **out, imc_err *err)
{
    const imc_tensor *t = imc_netfile_find(net->file, name);
    if (!t)
        return imc_err_at(err, IMC_EINPUT, imc_netfile_path(net->file), 0, 0,
                          "missing tensor '%s'", name);
    int64_t n = imc_tensor_numel(t);
    if (!(*out = imc_hugepages_alloc((size_t)n * sizeof **out))) /* a weight matrix: MBs */
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    int rc = imc_netfile_read_f32(net->file, t, *out, err);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* W[i][o] = src[o][i] for a Linear weight stored [out, in]. */
static int gather_linear(const imc_network *net, const imc_layer *l, const char *wname,
                         const char *bname, float *w, float *bias, imc_err *err)
{
    float *src;
    int rc = imc_network_read_tensor(net, wname, &src, err);
    if (rc)
        return rc;
    for (int o = 0; o < l->out; o++)
        for (int i = 0; i < l->in; i++)
            w[(size_t)i * l->out + o] = src[(size_t)o * l->in + i];
    free(src);
    if (bias && !l->has_bias)
        memset(bias, 0, (size_t)l->out * sizeof *bias);
    else if (bias) {
        if ((rc = imc_network_read_tensor(net, bname, &src, err)))
            return rc;
        memcpy(bias, src, (size_t)l->out * sizeof *bias);
        free(src);
    }
    return 0;
}

/* The split form's weights of one head and direction: its own 4 K x HD and 4 K x K matrices. */
static int gather_far_split(const imc_network *net, const imc_layer *l, int k, const char *n_ih,
                            const char *n_hh, float *w, imc_err *err)
{
    int hd = net->head_dim, rc;
    float *ih, *hh;
    if ((rc = imc_network_read_tensor(net, n_ih, &ih, err)))
        return rc;
    if ((rc = imc_network_read_tensor(net, n_hh, &hh, err))) {
        free(ih);
        return rc;
    }
    for (int o = 0; o < 4 * k; o++) { /* row o: gate o / k, unit o % k */
        for (int i = 0; i < hd; i++) /* x inputs */
            w[(size_t)i * l->out + o] = ih[(size_t)o * hd + i];
        for (int v = 0; v < k; v++) /* recurrent inputs */
            w[(size_t)(hd + v) * l->out + o] = hh[(size_t)o * k + v];
    }
    free(ih);
    free(hh);
    return 0;
}

/* The masked form's weights of one head and direction (gather_far_lstm): of the block's
 * 4 D x D matrices, only the head's rows of its kept units, and of each only the head's HD
 * columns. Read row by row, not whole: the six heads would each convert both matrices (FAR-S:
 * 680 MB read for 45 MB of weights). */
static int gather_far_rows(const imc_network *net, const imc_layer *l, const imc_far_dir *fd,
                           const char *n_ih, const char *n_hh, float *w, imc_err *err)
{
    int D = net->embed_dim, hd = net->head_dim, k = fd->hidden, rc = 0;
    const imc_tensor *tih = imc_netfile_find(net->file, n_ih);
    const imc_tensor *thh = imc_netfile_find(net->file, n_hh);
    if (!tih || !thh)
        return imc_err_at(err, IMC_EINPUT, imc_netfile_path(net->file), 0, 0,
                          "missing tensor '%s'", tih ? n_hh : n_ih);
    float *xr = malloc((size_t)2 * hd * sizeof *xr), *hr = xr + hd;
    if (!xr)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (int g = 0; !rc && g < 4; g++)
        for (int j = 0; !rc && j < k; j++) {
            size_t row = (size_t)(g * D + l->head * hd + fd->units[j]);
            size_t at = row * (size_t)D + (size_t)(l->head * hd);
            int o = g * k + j;
            if ((rc = imc_netfile_read_f32_at(net->file, tih, at, (size_t)hd, xr, err)) ||
                (rc = imc_netfile_read_f32_at(net->file, thh, at, (size_t)hd, hr, err)))
                break;
            for (int i = 0; i < hd; i++) /* x inputs */
                w[(size_t)i * l->out + o] = xr[i];
            for (int v = 0; v < k; v++) /* recurrent inputs: the kept units */
                w[(size_t)(hd + v) * l->out + o] = hr[fd->units[v]];
        }
    free(xr);
    return rc;
}

static int gather_far_lstm(const imc_network *net, const imc_layer *l, float *w, float *bias,
                           imc_err *err)
{
    const imc_block *blk = &net->blocks[l->block];
    const imc_far_dir *fd = &blk->far[l->head * 2 + l->dir];
    int D = net->embed_dim, hd = net->head_dim, k = fd->hidden, rc;
    const char *sfx = dir_suffix(l->dir);
    char n_ih[128], n_hh[128], n_bi[128], n_bh[128];
    if (blk->far_split) {
        snprintf(n_ih, sizeof n_ih, "blocks.%d.attn.lstm.%d.weight_ih_l0%s", l->block, l->head, sfx);
        snprintf(n_hh, sizeof n_hh, "blocks.%d.attn.lstm.%d.weight_hh_l0%s", l->block, l->head, sfx);
        snprintf(n_bi, sizeof n_bi, "blocks.%d.attn.lstm.%d.bias_ih_l0%s", l->block, l->head, sfx);
        snprintf(n_bh, sizeof n_bh, "blocks.%d.attn.lstm.%d.bias_hh_l0%s", l->block, l->head, sfx);
    } else {
        snprintf(n_ih, sizeof n_ih, "blocks.%d.attn.lstm.weight_ih_l0%s", l->block, sfx);
        snprintf(n_hh, sizeof n_hh, "blocks.%d.attn.lstm.weight_hh_l0%s", l->block, sfx);
        snprintf(n_bi, sizeof n_bi, "blocks.%d.attn.lstm.bias_ih_l0%s", l->block, sfx);
        snprintf(n_bh, sizeof n_bh, "blocks.%d.attn.lstm.bias_hh_l0%s", l->block, sfx);
    }
    rc = blk->far_split ? gather_far_split(net, l, k, n_ih, n_hh, w, err)
                        : gather_far_rows(net, l, fd, n_ih, n_hh, w, err);
    if (rc)
        return rc;
    float *bi = NULL, *bh = NULL;
    if (bias) {
        if ((rc = imc_network_read_tensor(net, n_bi, &bi, err)) || (rc = imc_network_read_tensor(net, n_bh, &bh, err))) {
            free(bi);
            return rc;
        }
        for (int g = 0; g < 4; g++)
            for (int j = 0; j < k; j++) {
                size_t row = blk->far_split ? (size_t)(g * k + j) : (size_t)(g * D + l->head * hd + fd->units[j]);
                bias[g * k + j] = bi[row] + bh[row];
            }
        free(bi);
        free(bh);
    }
    return 0;
}

static int gather_head_proj(const imc_network *net, const imc_layer *l, float *w, float *bias,
                            imc_err *err)
{
    const imc_block *blk = &net->blocks[l->block];
    int D = net->embed_dim, hd = net->head_dim, h = l->head, rc;
    const imc_far_dir *f = &blk->far[h * 2], *bk = &blk->far[h * 2 + 1];
    char wn[128], bn[128];
    if (blk->far_split) {
        snprintf(wn, sizeof wn, "blocks.%d.attn.head_proj.%d.weight", l->block, h);
        snprintf(bn, sizeof bn, "blocks.%d.attn.head_proj.%d.bias", l->block, h);
    } else {
        snprintf(wn, sizeof wn, "blocks.%d.attn.head_proj.weight", l->block);
        snprintf(bn, sizeof bn, "blocks.%d.attn.head_proj.bias", l->block);
    }
    float *src;
    if ((rc = imc_network_read_tensor(net, wn, &src, err)))
        return rc;
    for (int o = 0; o < hd; o++)
        for (int i = 0; i < l->in; i++) {
            float v;
            if (blk->far_split)
                v = src[(size_t)o * l->in + i];
            else if (i < f->hidden)
                v = src[(size_t)(h * hd + o) * 2 * D + (size_t)(h * hd + f->units[i])];
            else
                v = src[(size_t)(h * hd + o) * 2 * D + (size_t)(D + h * hd + bk->units[i - f->hidden])];
            w[(size_t)i * hd + o] = v;
        }
    free(src);
    if (bias) {
        if ((rc = imc_network_read_tensor(net, bn, &src, err)))
            return rc;
        memcpy(bias, src + (blk->far_split ? 0 : h * hd), (size_t)hd * sizeof *bias);
        free(src);
    }
    return 0;
}

int imc_network_layer_weights(const imc_network *net, const imc_layer *l, float *w, float *bias,
                              imc_err *err)
{
    char wn[128], bn[128];
    switch (l->kind) {
    case IMC_LAYER_LINEAR:
    case IMC_LAYER_CONV2D:
    case IMC_LAYER_LSTM:
    case IMC_LAYER_GRU:
        return imc_generic_layer_weights(net, l, w, bias, err);
    case IMC_LAYER_FAR_LSTM:
        return gather_far_lstm(net, l, w, bias, err);
    case IMC_LAYER_FAR_HEAD_PROJ:
        return gather_head_proj(net, l, w, bias, err);
    case IMC_LAYER_PATCH_EMBED:
        snprintf(wn, sizeof wn, "patch_embed.proj.weight"); /* [D, C, p, p] = [out, in] */
        snprintf(bn, sizeof bn, "patch_embed.proj.bias");
        break;
    default: /* a Linear named after the layer */
        snprintf(wn, sizeof wn, "%s.weight", l->name);
        snprintf(bn, sizeof bn, "%s.bias", l->name);
        break;
    }
    return gather_linear(net, l, wn, bn, w, bias, err);
}

/* ---- info ------------------------------------------------------------------------------- */

static void print_vit(const imc_network *net, int far, FILE *out);

void imc_network_print(const imc_network *net, FILE *out)
{
    int far = imc_network_far_blocks(net);
    fprintf(out, "model %s (%s)\n", net->name, imc_netfile_path(net->file));
    if (imc_network_is_generic(net)) {
        const imc_graph *g = &net->graph;
        char in[96];
        imc_shape_str(g->nodes[0].shape, g->nodes[0].ndim, in, sizeof in);
        fprintf(out, "  imported graph: %d nodes (imcsim-model graph lists them), input %s, %d "
                "classes\n", g->n_nodes, in, net->num_classes);
        fprintf(out, "  parameters: %lld\n", (long long)net->params_total);
    } else {
        print_vit(net, far, out);
    }
    fprintf(out, "  layers (weight matrices, inputs x outputs, input vectors per inference):\n");
    for (size_t i = 0; i < net->n_layers; i++) {
        const imc_layer *l = &net->layers[i];
        fprintf(out, "    %-32s %-14s %5d x %-5d x %lld\n", l->name, imc_layer_kind_name(l->kind),
                l->in, l->out, (long long)l->vectors);
    }
}

/* The DeiT / FAR structure. */
static void print_vit(const imc_network *net, int far, FILE *out)
{
    fprintf(out,
            "  %s: depth %d, embed dim %d, %d heads of %d, %d x %d px images in %d channel%s, "
            "%d px patches -> %d patches + CLS%s = %d tokens, %d classes\n",
            far == 0 ? "DeiT (attention)" : far == net->depth ? "FAR (every block a BiLSTM)"
                                                               : "mixed attention / FAR",
            net->depth, net->embed_dim, net->num_heads, net->head_dim, net->img_size,
            net->img_size, net->in_chans, net->in_chans == 1 ? "" : "s", net->patch_size,
            net->patches, net->dist_token ? " + distillation" : "", net->tokens, net->num_classes);
    fprintf(out, "  parameters: %lld total, %lld effective (excluding masked zeros and pruned units)\n",
            (long long)net->params_total, (long long)net->params_effective);
    fprintf(out, "  blocks:\n");
    for (int b = 0; b < net->depth; b++) {
        const imc_block *blk = &net->blocks[b];
        fprintf(out, "    %2d  %-9s mlp %d", b, blk->kind == IMC_BLOCK_FAR ? "FAR" : "attention",
                blk->mlp_hidden);
        if (blk->kind == IMC_BLOCK_FAR) {
            int kept = 0;
            fprintf(out, ", %s form, hidden per head fwd/bwd:", blk->far_split ? "split" : "masked");
            for (int h = 0; h < net->num_heads; h++) {
                fprintf(out, " %d/%d", blk->far[h * 2].hidden, blk->far[h * 2 + 1].hidden);
                kept += blk->far[h * 2].hidden + blk->far[h * 2 + 1].hidden;
            }
            fprintf(out, " (%.1f %% pruned)", 100.0 * (1 - kept / (2.0 * net->embed_dim)));
        }
        fputc('\n', out);
    }
}
