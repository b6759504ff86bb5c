/* forward.c -- the FP32 forward pass of DeiT / FAR networks (see forward.h).
 *
 * Activations are row-major [image][token][feature] matrices, so every weight layer of a whole
 * batch is one multiply of (images x tokens) rows; attention runs per image and head through
 * sgemm; an LSTM direction runs step by step with the batch's images as the rows of each step.
 * Biases, norms and non-linearities are always FP32 here: the IMC emulation only replaces the
 * weight multiplies. */
#include "sim/numerics/forward.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct block_rt {
    float *n1w, *n1b, *n2w, *n2b;
    int qkv, proj, pre, post, fc1, fc2;
    int *lstm;      /* [head * 2 + dir], -1 when every unit is pruned */
    int *head_proj; /* [head], -1 likewise */
    float *head_bias; /* [D]: head_proj's bias for heads without a layer */
} block_rt;

struct imc_forward {
    const imc_network *net;
    float **w, **b; /* per layer: [in][out] and [out] */
    block_rt *blocks;
    float *cls, *dist, *pos, *nw, *nb;
    int patch, head, head_dist;
    float eps;
    int threads; /* the FP32 pass runs a FAR head's two directions at once when 2 or more */
};

static float *read_named(const imc_network *net, const char *name, size_t expect, imc_err *err)
{
    const imc_tensor *t = imc_netfile_find(net->file, name);
    if (!t) {
        imc_err_at(err, IMC_EINPUT, imc_netfile_path(net->file), 0, 0, "missing tensor '%s'", name);
        return NULL;
    }
    if ((size_t)imc_tensor_numel(t) != expect) {
        imc_err_at(err, IMC_EINPUT, imc_netfile_path(net->file), 0, 0,
                   "tensor '%s': %lld values, expected %zu", name, (long long)imc_tensor_numel(t),
                   expect);
        return NULL;
    }
    float *p = malloc((expect ? expect : 1) * sizeof *p);
    if (!p) {
        imc_err_set(err, IMC_ENOMEM, "out of memory");
        return NULL;
    }
    if (imc_netfile_read_f32(net->file, t, p, err)) {
        free(p);
        return NULL;
    }
    return p;
}

void imc_forward_free(imc_forward *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->w && i < f->net->n_layers; i++) {
        free(f->w[i]);
        free(f->b[i]);
    }
    free(f->w);
    free(f->b);
    for (int i = 0; f->blocks && i < f->net->depth; i++) {
        block_rt *b = &f->blocks[i];
        free(b->n1w), free(b->n1b), free(b->n2w), free(b->n2b);
        free(b->lstm), free(b->head_proj), free(b->head_bias);
    }
    free(f->blocks);
    free(f->cls), free(f->dist), free(f->pos), free(f->nw), free(f->nb);
    free(f);
}

int imc_forward_new(imc_forward **out, const imc_network *net, imc_err *err)
{
    *out = NULL;
    if (!net->file)
        return imc_err_set(err, IMC_EINPUT, "%s: a trace holds no weights; numerics need a model file",
                           net->name);
    imc_forward *f = calloc(1, sizeof *f);
    if (!f)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    f->net = net;
    size_t D = (size_t)net->embed_dim, T = (size_t)net->tokens;
    f->eps = net->layernorm_eps;
    int rc = 0;
    if (!(f->w = calloc(net->n_layers, sizeof *f->w)) || !(f->b = calloc(net->n_layers, sizeof *f->b)) ||
        !(f->blocks = calloc((size_t)net->depth, sizeof *f->blocks)))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < net->n_layers; i++) {
        const imc_layer *l = &net->layers[i];
        f->w[i] = malloc((size_t)l->in * l->out * sizeof(float));
        f->b[i] = malloc((size_t)l->out * sizeof(float));
        if (!f->w[i] || !f->b[i])
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        else
            rc = imc_network_layer_weights(net, l, f->w[i], f->b[i], err);
    }
#define READ(dst, name, n) \
    if (!rc && !(dst = read_named(net, name, n, err)))  \
    rc = err->status ? err->status : IMC_EINTERNAL
    READ(f->cls, "cls_token", D);
    READ(f->pos, "pos_embed", T * D);
    READ(f->nw, "norm.weight", D);
    READ(f->nb, "norm.bias", D);
    if (net->dist_token)
        READ(f->dist, "dist_token", D);
    char name[128];
    for (int i = 0; !rc && i < net->depth; i++) {
        block_rt *b = &f->blocks[i];
        snprintf(name, sizeof name, "blocks.%d.norm1.weight", i);
        READ(b->n1w, name, D);
        snprintf(name, sizeof name, "blocks.%d.norm1.bias", i);
        READ(b->n1b, name, D);
        snprintf(name, sizeof name, "blocks.%d.norm2.weight", i);
        READ(b->n2w, name, D);
        snprintf(name, sizeof name, "blocks.%d.norm2.bias", i);
        READ(b->n2b, name, D);
        b->qkv = imc_network_find_layer(net, IMC_LAYER_QKV, i, -1, -1);
        b->proj = imc_network_find_layer(net, IMC_LAYER_ATTN_PROJ, i, -1, -1);
        b->pre = imc_network_find_layer(net, IMC_LAYER_FAR_PRE, i, -1, -1);
        b->post = imc_network_find_layer(net, IMC_LAYER_FAR_POST, i, -1, -1);
        b->fc1 = imc_network_find_layer(net, IMC_LAYER_FC1, i, -1, -1);
        b->fc2 = imc_network_find_layer(net, IMC_LAYER_FC2, i, -1, -1);
        if (net->blocks[i].kind != IMC_BLOCK_FAR || rc)
            continue;
        int N = net->num_heads, hd = net->head_dim;
        b->lstm = malloc((size_t)2 * N * sizeof *b->lstm);
        b->head_proj = malloc((size_t)N * sizeof *b->head_proj);
        b->head_bias = calloc(D, sizeof *b->head_bias);
        if (!b->lstm || !b->head_proj || !b->head_bias) {
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
            break;
        }
        for (int h = 0; h < N; h++) {
            for (int d = 0; d < 2; d++)
                b->lstm[h * 2 + d] = imc_network_find_layer(net, IMC_LAYER_FAR_LSTM, i, h, d);
            b->head_proj[h] = imc_network_find_layer(net, IMC_LAYER_FAR_HEAD_PROJ, i, h, -1);
            if (b->head_proj[h] >= 0)
                continue;
            /* every unit of the head pruned: its output is head_proj's bias alone */
            float *hb = NULL;
            if (net->blocks[i].far_split) {
                snprintf(name, sizeof name, "blocks.%d.attn.head_proj.%d.bias", i, h);
                READ(hb, name, (size_t)hd);
                if (hb)
                    memcpy(b->head_bias + (size_t)h * hd, hb, (size_t)hd * sizeof *hb);
            } else {
                snprintf(name, sizeof name, "blocks.%d.attn.head_proj.bias", i);
                READ(hb, name, D);
                if (hb)
                    memcpy(b->head_bias + (size_t)h * hd, hb + (size_t)h * hd, (size_t)hd * sizeof *hb);
            }
            free(hb);
        }
    }
#undef READ
    f->patch = imc_network_find_layer(net, IMC_LAYER_PATCH_EMBED, -1, -1, -1);
    f->head = imc_network_find_layer(net, IMC_LAYER_HEAD, -1, -1, -1);
    f->head_dist = net->dist_token ? f->head + 1 : -1;
    if (rc) {
        imc_forward_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

const float *imc_forward_weights(const imc_forward *f, size_t layer, const float **bias)
{
    if (bias)
        *bias = f->b[layer];
    return f->w[layer];
}

/* ---- building blocks ---------------------------------------------------------------------- */

typedef struct run {
    imc_forward *f;
    const imc_mvm_ops *mvm;
    const imc_probe *probe;
    imc_err *err;
} run;

/* Y = X W + b for ROWS rows of layer L. */
static int layer(run *r, int l, const float *x, size_t rows, float *y)
{
    const imc_layer *ly = &r->f->net->layers[l];
    size_t in = (size_t)ly->in, out = (size_t)ly->out;
    if (r->mvm) {
        int rc = r->mvm->mvm(r->mvm->ctx, (size_t)l, x, rows, y, r->err);
        if (rc)
            return rc;
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)in, 1.0f,
                    x, (int)in, r->f->w[l], (int)out, 0.0f, y, (int)out);
    }
    const float *b = r->f->b[l];
    for (size_t i = 0; i < rows; i++)
        for (size_t o = 0; o < out; o++)
            y[i * out + o] += b[o];
    if (r->probe)
        r->probe->layer_output(r->probe->ctx, (size_t)l, y, rows, out);
    return 0;
}

static void layernorm(const float *x, float *y, size_t rows, size_t d, const float *w,
                      const float *b, float eps)
{
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * d;
        double mean = 0, var = 0;
        for (size_t k = 0; k < d; k++)
            mean += xi[k];
        mean /= (double)d;
        for (size_t k = 0; k < d; k++)
            var += (xi[k] - mean) * (xi[k] - mean);
        var /= (double)d;
        float inv = (float)(1.0 / sqrt(var + eps));
        for (size_t k = 0; k < d; k++)
            y[i * d + k] = (float)(xi[k] - mean) * inv * w[k] + b[k];
    }
}

/* OpenBLAS's own calls, when it is the BLAS behind GSL (weak: absent otherwise). */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

/* Run JOBS on up to N threads of their own (job 0 on this one); a job whose thread cannot start
 * runs here. With BLAS set, the jobs call BLAS: each call then runs on one BLAS thread (the
 * library's own threads would compete with the jobs'). */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, int n, int blas_calls)
{
    enum { MAX_THREADS = 64 };
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    n = n > MAX_THREADS ? MAX_THREADS : n;
    int blas = blas_calls && openblas_get_num_threads ? openblas_get_num_threads() : 0;
    if (blas > 1 && openblas_set_num_threads)
        openblas_set_num_threads(1);
    for (int t = 1; t < n; t++)
        started[t] = !pthread_create(&tid[t], NULL, fn, (char *)jobs + (size_t)t * size);
    fn(jobs);
    for (int t = 1; t < n; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn((char *)jobs + (size_t)t * size);
    if (blas > 1 && openblas_set_num_threads)
        openblas_set_num_threads(blas);
}

/* The exact GELU of N values in place. */
static void gelu(float *z, size_t n)
{
    for (size_t i = 0; i < n; i++)
        z[i] = 0.5f * z[i] * (1.0f + erff(z[i] * 0.70710678118654752440f));
}

/* A share of a row-wise step, rows I0 .. I1 - 1 of D values: layer normalization X -> Y with
 * W, B, EPS, or (GELU set) the GELU of Y in place. */
typedef struct rows_job {
    int gelu;
    const float *x, *w, *b;
    float *y, eps;
    size_t d, i0, i1;
} rows_job;

static void *rows_step(void *arg)
{
    rows_job *j = arg;
    if (j->gelu)
        gelu(j->y + j->i0 * j->d, (j->i1 - j->i0) * j->d);
    else
        layernorm(j->x + j->i0 * j->d, j->y + j->i0 * j->d, j->i1 - j->i0, j->d, j->w, j->b, j->eps);
    return NULL;
}

/* JOB over ROWS rows, split over the pass's threads (row by row the same numbers). */
static void row_wise(const run *r, rows_job job, size_t rows)
{
    enum { MAX_WORKERS = 16, MIN_ROWS = 64 };
    size_t workers = r->f->threads < 2 ? 1 : (size_t)r->f->threads;
    workers = workers > MAX_WORKERS ? MAX_WORKERS : workers;
    workers = rows / MIN_ROWS < workers ? rows / MIN_ROWS : workers;
    if (workers < 2) {
        job.i0 = 0, job.i1 = rows;
        rows_step(&job);
        return;
    }
    rows_job jobs[MAX_WORKERS];
    for (size_t w = 0; w < workers; w++) {
        jobs[w] = job;
        jobs[w].i0 = rows * w / workers, jobs[w].i1 = rows * (w + 1) / workers;
    }
    run_jobs(rows_step, jobs, sizeof *jobs, (int)workers, 0);
}

static float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* Head H of image IMG: softmax(q k^T / sqrt(hd)) v from Y's qkv rows [n][T][3D] into OUT's
 * columns of head H [n][T][D]; TMP holds the T x T scores. */
static void attend_head(const imc_network *net, const float *y, size_t img, int h, float *out,
                        float *tmp)
{
    size_t T = (size_t)net->tokens, D = (size_t)net->embed_dim, hd = (size_t)net->head_dim;
    float scale = 1.0f / sqrtf((float)hd);
    const float *qkv = y + img * T * 3 * D;
    const float *q = qkv + (size_t)h * hd, *k = qkv + D + (size_t)h * hd,
                *v = qkv + 2 * D + (size_t)h * hd;
    /* S = q k^T * scale: T x T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, (int)hd, scale, q,
                (int)(3 * D), k, (int)(3 * D), 0.0f, tmp, (int)T);
    for (size_t i = 0; i < T; i++) {
        float *row = tmp + i * T, m = row[0];
        for (size_t j = 1; j < T; j++)
            m = row[j] > m ? row[j] : m;
        double sum = 0;
        for (size_t j = 0; j < T; j++)
            sum += row[j] = expf(row[j] - m);
        for (size_t j = 0; j < T; j++)
            row[j] = (float)(row[j] / sum);
    }
    /* O = S v: T x hd, into head h's columns */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)hd, (int)T, 1.0f, tmp,
                (int)T, v, (int)(3 * D), 0.0f, out + img * T * D + (size_t)h * hd, (int)D);
}

/* A share of the heads of all images: pairs (image, head) J0 .. J1 - 1. */
typedef struct heads_job {
    const imc_network *net;
    const float *y;
    float *out, *tmp;
    size_t j0, j1;
} heads_job;

static void *attend_heads(void *arg)
{
    heads_job *j = arg;
    size_t H = (size_t)j->net->num_heads;
    for (size_t k = j->j0; k < j->j1; k++)
        attend_head(j->net, j->y, k / H, (int)(k % H), j->out, j->tmp);
    return NULL;
}

/* Self-attention of N images, the (image, head) pairs split over the pass's threads (each with
 * its own scores, TMP for the first); the numbers are the same at any thread count. */
static int attention(run *r, const float *y, size_t n, float *out, float *tmp)
{
    enum { MAX_WORKERS = 16 };
    const imc_network *net = r->f->net;
    size_t T = (size_t)net->tokens, pairs = n * (size_t)net->num_heads;
    size_t workers = r->f->threads < 2 ? 1 : (size_t)r->f->threads;
    workers = workers > pairs ? pairs : workers > MAX_WORKERS ? MAX_WORKERS : workers;
    heads_job jobs[MAX_WORKERS];
    int rc = 0;
    for (size_t w = 0; w < workers; w++) {
        jobs[w] = (heads_job){net, y, out, w ? malloc(T * T * sizeof *tmp) : tmp,
                              pairs * w / workers, pairs * (w + 1) / workers};
        if (!jobs[w].tmp)
            rc = imc_err_set(r->err, IMC_ENOMEM, "out of memory");
    }
    if (!rc && workers > 1)
        run_jobs(attend_heads, jobs, sizeof *jobs, (int)workers, 1);
    else if (!rc)
        attend_heads(jobs);
    for (size_t w = 1; w < workers; w++)
        free(jobs[w].tmp);
    return rc;
}

/* One LSTM direction of one head over the tokens: the steps' [x_t | h_(t-1)] through layer L,
 * then the cell update (gates i, f, g, o; zero initial state). P holds pre_proj's output
 * [n][T][D]; HS receives h_t [n][T][K]. With LOG, each step's gates (bias included) are also
 * kept there [T][n][4K] for the caller to hand to the probe in order. */
typedef struct lstm_dir {
    run r;
    int l, h, d;
    size_t K, n;
    const float *p;
    float *hs, *log;
    int rc;
} lstm_dir;

static void *run_direction(void *arg)
{
    lstm_dir *j = arg;
    run *r = &j->r;
    const imc_network *net = r->f->net;
    size_t T = (size_t)net->tokens, D = (size_t)net->embed_dim, hd = (size_t)net->head_dim;
    size_t K = j->K, n = j->n;
    int d = j->d;
    float *c = calloc(n * K, sizeof *c), *xin = malloc(n * (hd + K) * sizeof *xin),
          *gates = malloc(n * 4 * K * sizeof *gates);
    if (!c || !xin || !gates)
        j->rc = imc_err_set(r->err, IMC_ENOMEM, "out of memory");
    for (size_t step = 0; step < T && !j->rc; step++) {
        size_t t = d == IMC_DIR_FWD ? step : T - 1 - step;
        for (size_t img = 0; img < n; img++) { /* [x_t | h_(t-1)] */
            memcpy(xin + img * (hd + K), j->p + (img * T + t) * D + (size_t)j->h * hd, hd * sizeof *xin);
            if (step == 0)
                memset(xin + img * (hd + K) + hd, 0, K * sizeof *xin);
            else {
                size_t prev = d == IMC_DIR_FWD ? t - 1 : t + 1;
                memcpy(xin + img * (hd + K) + hd, j->hs + (img * T + prev) * K, K * sizeof *xin);
            }
        }
        if ((j->rc = layer(r, j->l, xin, n, gates)))
            break;
        if (j->log)
            memcpy(j->log + step * n * 4 * K, gates, n * 4 * K * sizeof *gates);
        for (size_t img = 0; img < n; img++) /* gates i, f, g, o */
            for (size_t u = 0; u < K; u++) {
                const float *g = gates + img * 4 * K;
                float ig = sigmoidf(g[u]), fg = sigmoidf(g[K + u]), gg = tanhf(g[2 * K + u]),
                      og = sigmoidf(g[3 * K + u]);
                float *cu = c + img * K + u;
                *cu = fg * *cu + ig * gg;
                j->hs[(img * T + t) * K + u] = og * tanhf(*cu);
            }
    }
    free(c), free(xin), free(gates);
    return NULL;
}

/* Both directions of one head. The FP32 pass (no MVM hook) with 2 threads or more runs them at
 * once, each direction's sgemm on one BLAS thread, and hands their gates to the probe afterwards
 * in the order the sequential run would (every forward step, then every backward step); the
 * numbers are the same either way. The IMC pass runs them one after the other (its multiply
 * keeps state). */
static int both_directions(run *r, lstm_dir *dir)
{
    const imc_network *net = r->f->net;
    size_t T = (size_t)net->tokens;
    int both = dir[0].K && dir[1].K && dir[0].l >= 0 && dir[1].l >= 0;
    if (!both || r->mvm || r->f->threads < 2) {
        for (int d = 0; d < 2; d++)
            if (dir[d].K && dir[d].l >= 0 && (run_direction(&dir[d]), dir[d].rc))
                return dir[d].rc;
        return 0;
    }
    for (int d = 0; d < 2; d++) {
        dir[d].r.probe = NULL;
        if (r->probe && !(dir[d].log = malloc(T * dir[d].n * 4 * dir[d].K * sizeof *dir[d].log))) {
            free(dir[0].log);
            return imc_err_set(r->err, IMC_ENOMEM, "out of memory");
        }
    }
    run_jobs(run_direction, dir, sizeof *dir, 2, 1);
    int rc = dir[0].rc ? dir[0].rc : dir[1].rc;
    for (int d = 0; d < 2; d++) {
        size_t step = 4 * dir[d].K * dir[d].n;
        for (size_t s = 0; !rc && r->probe && s < T; s++)
            r->probe->layer_output(r->probe->ctx, (size_t)dir[d].l, dir[d].log + s * step, dir[d].n,
                                   4 * dir[d].K);
        free(dir[d].log);
        dir[d].log = NULL;
    }
    return rc;
}

/* FAR: per head, a bidirectional LSTM over the tokens, then head_proj. P holds pre_proj's
 * output [n][T][D]; OUT receives the heads' outputs [n][T][D]. */
static int far_mixer(run *r, const block_rt *b, int bi, const float *p, size_t n, float *out)
{
    const imc_network *net = r->f->net;
    const imc_block *blk = &net->blocks[bi];
    size_t T = (size_t)net->tokens, D = (size_t)net->embed_dim, hd = (size_t)net->head_dim;
    int rc = 0;
    size_t maxk = hd;
    float *hs[2], *cat = malloc(n * T * 2 * maxk * sizeof *cat), *hp = malloc(n * T * hd * sizeof *hp);
    hs[0] = malloc(n * T * maxk * sizeof *hs[0]);
    hs[1] = malloc(n * T * maxk * sizeof *hs[1]);
    imc_err errs[2];
    if (!cat || !hp || !hs[0] || !hs[1])
        rc = imc_err_set(r->err, IMC_ENOMEM, "out of memory");
    for (int h = 0; !rc && h < net->num_heads; h++) {
        lstm_dir dir[2];
        for (int d = 0; d < 2; d++) {
            dir[d] = (lstm_dir){*r, b->lstm[h * 2 + d], h, d, (size_t)blk->far[h * 2 + d].hidden,
                                n, p, hs[d], NULL, 0};
            imc_err_clear(&errs[d]);
            dir[d].r.err = &errs[d];
        }
        if ((rc = both_directions(r, dir))) {
            *r->err = errs[dir[0].rc ? 0 : 1];
            break;
        }
        int hl = b->head_proj[h];
        if (hl < 0) { /* no units left: the bias alone */
            for (size_t row = 0; row < n * T; row++)
                memcpy(out + row * D + (size_t)h * hd, b->head_bias + (size_t)h * hd, hd * sizeof *out);
            continue;
        }
        size_t kf = dir[0].K, kb = dir[1].K;
        for (size_t row = 0; row < n * T; row++) {
            memcpy(cat + row * (kf + kb), hs[0] + row * kf, kf * sizeof *cat);
            memcpy(cat + row * (kf + kb) + kf, hs[1] + row * kb, kb * sizeof *cat);
        }
        if ((rc = layer(r, hl, cat, n * T, hp)))
            break;
        for (size_t row = 0; row < n * T; row++)
            memcpy(out + row * D + (size_t)h * hd, hp + row * hd, hd * sizeof *out);
    }
    free(cat), free(hp), free(hs[0]), free(hs[1]);
    return rc;
}

void imc_forward_threads(imc_forward *f, int n)
{
    f->threads = n;
}

int imc_forward_run(imc_forward *f, const float *images, size_t n, float *logits,
                    const imc_mvm_ops *mvm, const imc_probe *probe, imc_err *err)
{
    const imc_network *net = f->net;
    size_t T = (size_t)net->tokens, D = (size_t)net->embed_dim, P = (size_t)net->patches;
    size_t C = (size_t)net->in_chans, p = (size_t)net->patch_size, S = (size_t)net->img_size;
    size_t grid = S / p, extra = 1 + (size_t)net->dist_token, wide = D;
    for (int i = 0; i < net->depth; i++)
        if ((size_t)net->blocks[i].mlp_hidden > wide)
            wide = (size_t)net->blocks[i].mlp_hidden;
    if (3 * D > wide)
        wide = 3 * D;
    run r = {f, mvm, probe, err};
    size_t rows = n * T;
    float *x = malloc(rows * D * sizeof *x), *y = malloc(rows * D * sizeof *y),
          *z = malloc(rows * wide * sizeof *z), *o = malloc(rows * D * sizeof *o),
          *patches = calloc(n * P * C * p * p, sizeof *patches),
          *scores = malloc(T * T * sizeof *scores), *pe = malloc(n * P * D * sizeof *pe);
    int rc = 0;
    if (!x || !y || !z || !o || !patches || !scores || !pe)
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");

    /* patch embedding: a convolution with stride = kernel = p, as im2col + one multiply */
    for (size_t img = 0; !rc && img < n; img++)
        for (size_t gy = 0; gy < grid; gy++)
            for (size_t gx = 0; gx < grid; gx++) {
                float *dst = patches + ((img * P) + gy * grid + gx) * C * p * p;
                for (size_t c = 0; c < C; c++)
                    for (size_t i = 0; i < p; i++)
                        memcpy(dst + (c * p + i) * p,
                               images + ((img * C + c) * S + gy * p + i) * S + gx * p, p * sizeof *dst);
            }
    if (!rc)
        rc = layer(&r, f->patch, patches, n * P, pe);
    for (size_t img = 0; !rc && img < n; img++)
        for (size_t t = 0; t < T; t++) {
            float *xt = x + (img * T + t) * D;
            const float *src = t == 0 ? f->cls : t < extra ? f->dist : pe + (img * P + t - extra) * D;
            for (size_t k = 0; k < D; k++)
                xt[k] = src[k] + f->pos[t * D + k];
        }

    for (int bi = 0; !rc && bi < net->depth; bi++) {
        const block_rt *b = &f->blocks[bi];
        row_wise(&r, (rows_job){0, x, b->n1w, b->n1b, y, f->eps, D, 0, 0}, rows);
        if (net->blocks[bi].kind == IMC_BLOCK_ATTENTION) {
            if (!(rc = layer(&r, b->qkv, y, rows, z))) {
                if (!(rc = attention(&r, z, n, o, scores)))
                    rc = layer(&r, b->proj, o, rows, y);
            }
        } else if (!(rc = layer(&r, b->pre, y, rows, z)) && !(rc = far_mixer(&r, b, bi, z, n, o))) {
            rc = layer(&r, b->post, o, rows, y);
        }
        if (rc)
            break;
        for (size_t i = 0; i < rows * D; i++)
            x[i] += y[i];
        row_wise(&r, (rows_job){0, x, b->n2w, b->n2b, y, f->eps, D, 0, 0}, rows);
        if ((rc = layer(&r, b->fc1, y, rows, z)))
            break;
        size_t H = (size_t)net->blocks[bi].mlp_hidden;
        row_wise(&r, (rows_job){1, NULL, NULL, NULL, z, 0, H, 0, 0}, rows);
        if ((rc = layer(&r, b->fc2, z, rows, y)))
            break;
        for (size_t i = 0; i < rows * D; i++)
            x[i] += y[i];
    }

    /* final norm of the CLS (and distillation) token, classifier(s) */
    size_t K = (size_t)net->num_classes;
    for (size_t e = 0; !rc && e < extra; e++) {
        for (size_t img = 0; img < n; img++)
            layernorm(x + (img * T + e) * D, y + img * D, 1, D, f->nw, f->nb, f->eps);
        if ((rc = layer(&r, e == 0 ? f->head : f->head_dist, y, n, z)))
            break;
        for (size_t i = 0; i < n * K; i++)
            logits[i] = e == 0 ? z[i] : 0.5f * (logits[i] + z[i]);
    }
    free(x), free(y), free(z), free(o), free(patches), free(scores), free(pe);
    return rc;
}

double imc_forward_flops(const imc_network *net)
{
    double flops = 0;
    for (size_t i = 0; i < net->n_layers; i++) {
        const imc_layer *l = &net->layers[i];
        flops += 2.0 * l->in * l->out * (double)l->vectors;
    }
    for (int b = 0; b < net->depth; b++)
        if (net->blocks[b].kind == IMC_BLOCK_ATTENTION) /* q k^T and s v per head */
            flops += 4.0 * net->tokens * net->tokens * (double)net->embed_dim;
    return flops;
}
