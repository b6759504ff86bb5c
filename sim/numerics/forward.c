/* forward.c -- the forward pass of a network's graph of generic ops (see forward.h).
 *
 * The nodes run in the graph's order, each over the whole batch: a node's output is one
 * buffer of [image][its shape] floats, or a single copy shared by every image when it depends
 * on parameters alone (stride 0: the class token, the position embedding, a pruned head's
 * bias), and it is freed once its last reader has run. Weight layers multiply all the batch's
 * rows at once (a linear's every row; a convolution's im2col rows, group by group; a recurrent
 * layer's batch, step by step), through imc_sgemm (sim/base/blas.h) or the IMC emulation's multiply, then add
 * the bias; matmuls between activations run per image and leading index through sgemm;
 * LayerNorm, GELU and softmax rows are split over the pass's threads, as are the (image,
 * leading index) pairs of a matmul and two recurrent layers that read the same input (FAR's
 * two directions of a head). Every split gives the numbers of the sequential run. Biases,
 * norms and non-linearities are always FP32 here: the IMC emulation only replaces the weight
 * multiplies.
 *
 * Numerics follow PyTorch: LayerNorm's mean and variance in double, eps inside the root; exact
 * (erf) GELU; softmax with the row maximum subtracted and the sum in double; LSTM gates i, f,
 * g, o and GRU gates r, z, n with zero initial state; average pooling counts padding. */
#include "sim/numerics/forward.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/blas.h"
#include "sim/base/hugepages.h"
#include "sim/numerics/kernels.h"

typedef struct node_rt {
    float *t[IMC_GRAPH_MAX_TENSORS]; /* its tensors as floats (params, norms) */
    int matrix;                      /* weight layers: its first matrix (= network layer) */
    int root;       /* the node whose buffer holds its output: itself, or for a reshape (a
                       scale folded into the matmul before it, a batchnorm folded into the
                       weights before it) its input's root */
    int last_use;   /* a root: the last node reading its buffer under any name */
    int readers;
    float alpha;    /* matmul: the factor of a scale folded into it (sgemm's alpha), else 1 */
} node_rt;

enum { POOL = 32 };

struct imc_forward {
    const imc_network *net;
    const imc_graph *g;
    float **w, **b; /* per matrix (network layer): [in][out] and [out] */
    node_rt *nodes;
    int threads;
    struct pooled { /* freed node buffers, reused by later nodes and runs of the same sizes */
        float *p;
        size_t n;
    } pool[POOL];
    int n_pool;
};

static float *read_named(const imc_network *net, const char *name, size_t expect, const char *node,
                         imc_err *err)
{
    const imc_tensor *t = imc_netfile_find(net->file, name);
    if (!t) {
        imc_err_at(err, IMC_EINPUT, imc_netfile_path(net->file), 0, 0, "%s: missing tensor '%s'",
                   node, name);
        return NULL;
    }
    if ((size_t)imc_tensor_numel(t) != expect) {
        imc_err_at(err, IMC_EINPUT, imc_netfile_path(net->file), 0, 0,
                   "%s: tensor '%s': %lld values, expected %zu", node, name,
                   (long long)imc_tensor_numel(t), expect);
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
    for (size_t i = 0; f->w && i < f->net->n_layers; i++)
        free(f->w[i]);
    for (size_t i = 0; f->b && i < f->net->n_layers; i++)
        free(f->b[i]);
    free(f->w);
    free(f->b);
    for (int i = 0; f->nodes && i < f->g->n_nodes; i++)
        for (int t = 0; t < IMC_GRAPH_MAX_TENSORS; t++)
            free(f->nodes[i].t[t]);
    free(f->nodes);
    for (int i = 0; i < f->n_pool; i++)
        free(f->pool[i].p);
    free(f);
}

/* The tensors node N reads besides its weight matrices, with their sizes. */
static int read_node_tensors(imc_forward *f, const imc_node *n, node_rt *rt, imc_err *err)
{
    size_t sizes[IMC_GRAPH_MAX_TENSORS] = {0};
    switch (n->op) {
    case IMC_NODE_PARAM:
        sizes[IMC_T_PARAM] = imc_node_numel(n);
        break;
    case IMC_NODE_LAYERNORM:
        sizes[IMC_T_WEIGHT] = sizes[IMC_T_BIAS] = (size_t)n->attr[IMC_NORM_SIZE];
        break;
    case IMC_NODE_EMBEDDING:
        sizes[IMC_T_WEIGHT] = (size_t)n->attr[IMC_EMB_NUM] * (size_t)n->attr[IMC_EMB_DIM];
        break;
    case IMC_NODE_BATCHNORM: /* unless folded into its weight layer */
        for (int t = 0; t < 4 && n->fold < 0; t++)
            sizes[t] = (size_t)n->attr[IMC_NORM_SIZE];
        break;
    default:
        return 0;
    }
    for (int t = 0; t < IMC_GRAPH_MAX_TENSORS; t++) {
        if (!sizes[t])
            continue;
        if (!n->tensor[t]) /* a norm without its affine part */
            continue;
        if (!(rt->t[t] = read_named(f->net, n->tensor[t], sizes[t], n->name, err)))
            return err->status ? err->status : IMC_EINTERNAL;
    }
    return 0;
}

int imc_forward_new(imc_forward **out, const imc_network *net, imc_err *err)
{
    *out = NULL;
    if (!net->file)
        return imc_err_set(err, IMC_EINPUT, "%s: a trace holds no weights; numerics need a model file",
                           net->name);
    if (!net->graph.n_nodes)
        return imc_err_set(err, IMC_EINTERNAL, "%s: no graph", net->name);
    imc_forward *f = calloc(1, sizeof *f);
    if (!f)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    f->net = net;
    f->g = &net->graph;
    const imc_graph *g = f->g;
    int rc = 0;
    if (!(f->w = calloc(net->n_layers, sizeof *f->w)) || !(f->b = calloc(net->n_layers, sizeof *f->b)) ||
        !(f->nodes = calloc((size_t)g->n_nodes, sizeof *f->nodes)))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < net->n_layers; i++) {
        const imc_layer *l = &net->layers[i];
        f->w[i] = imc_hugepages_alloc((size_t)l->in * l->out * sizeof(float));
        f->b[i] = malloc((size_t)l->out * sizeof(float));
        if (!f->w[i] || !f->b[i])
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        else
            rc = imc_network_layer_weights(net, l, f->w[i], f->b[i], err);
    }
    /* a weight layer's matrices are the network's layers of its name, in order */
    imc_matrix *mat = NULL;
    size_t n_mat = 0;
    if (!rc)
        rc = imc_graph_matrices(g, &mat, &n_mat, err);
    for (int i = 0; f->nodes && i < g->n_nodes; i++)
        f->nodes[i].matrix = -1;
    for (size_t k = 0; !rc && k < n_mat; k++) {
        int l = imc_network_layer_of(net, mat[k].node, mat[k].part);
        if (l < 0 || net->layers[l].in != mat[k].in || net->layers[l].out != mat[k].out)
            rc = imc_err_set(err, IMC_EINTERNAL, "%s: no layer for matrix %d of '%s'", net->name,
                             mat[k].part, g->nodes[mat[k].node].name);
        else if (mat[k].part == 0)
            f->nodes[mat[k].node].matrix = l;
        else if (l != f->nodes[mat[k].node].matrix + mat[k].part)
            rc = imc_err_set(err, IMC_EINTERNAL, "%s: the layers of '%s' are not consecutive",
                             net->name, g->nodes[mat[k].node].name);
    }
    free(mat);
    for (int i = 0; !rc && i < g->n_nodes; i++) {
        const imc_node *n = &g->nodes[i];
        node_rt *rt = &f->nodes[i];
        rt->root = i, rt->last_use = i, rt->alpha = 1.0f;
        for (int k = 0; k < n->n_inputs; k++)
            f->nodes[n->inputs[k]].readers++;
        rc = read_node_tensors(f, n, rt, err);
    }
    for (int i = 0; !rc && i < g->n_nodes; i++) { /* outputs under other names */
        const imc_node *n = &g->nodes[i];
        node_rt *in = n->n_inputs ? &f->nodes[n->inputs[0]] : NULL;
        if (n->op == IMC_NODE_RESHAPE || (n->op == IMC_NODE_BATCHNORM && n->fold >= 0))
            f->nodes[i].root = in->root;
        if (n->op == IMC_NODE_SCALE && g->nodes[n->inputs[0]].op == IMC_NODE_MATMUL && in->readers == 1) {
            in->alpha = (float)n->value;
            f->nodes[i].root = in->root;
        }
        for (int k = 0; k < n->n_inputs; k++) {
            node_rt *root = &f->nodes[f->nodes[n->inputs[k]].root];
            root->last_use = root->last_use > i ? root->last_use : i;
        }
    }
    if (!rc && imc_node_numel(&g->nodes[g->n_nodes - 1]) != (size_t)net->num_classes)
        rc = imc_err_set(err, IMC_EINTERNAL, "%s: the graph's output is not the %d classes",
                         net->name, net->num_classes);
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

void imc_forward_threads(imc_forward *f, int n)
{
    f->threads = n;
}

/* ---- threads -------------------------------------------------------------------------------- */

/* Run JOBS on up to N threads of their own (job 0 on this one); a job whose thread cannot start
 * runs here. With BLAS set, the jobs call BLAS: each call then runs on one BLAS thread (the
 * library's own threads would compete with the jobs'). */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, int n, int blas_calls)
{
    enum { MAX_THREADS = 64 };
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    n = n > MAX_THREADS ? MAX_THREADS : n;
    int blas = blas_calls ? imc_blas_threads() : 0;
    if (blas > 1)
        imc_blas_set_threads(1);
    for (int t = 1; t < n; t++)
        started[t] = !pthread_create(&tid[t], NULL, fn, (char *)jobs + (size_t)t * size);
    fn(jobs);
    for (int t = 1; t < n; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn((char *)jobs + (size_t)t * size);
    if (blas > 1)
        imc_blas_set_threads(blas);
}

enum { MAX_WORKERS = 16 };

/* Workers for ITEMS independent items of at least MIN_ITEMS each. */
static size_t workers_for(const imc_forward *f, size_t items, size_t min_items)
{
    size_t w = f->threads < 2 ? 1 : (size_t)f->threads;
    w = w > MAX_WORKERS ? MAX_WORKERS : w;
    return items / min_items < w ? (items / min_items ? items / min_items : 1) : w;
}

/* ---- row-wise ops ------------------------------------------------------------------------------ */

/* A share of a row-wise op over rows I0 .. I1 - 1 of D values. */
typedef struct rows_job {
    imc_node_op op;
    const float *x, *w, *b;
    float *y, eps;
    size_t d, i0, i1;
} rows_job;

static void *rows_step(void *arg)
{
    rows_job *j = arg;
    const float *x = j->x + j->i0 * j->d;
    float *y = j->y + j->i0 * j->d;
    size_t rows = j->i1 - j->i0;
    if (j->op == IMC_NODE_LAYERNORM)
        imc_layernorm_rows(x, y, rows, j->d, j->w, j->b, j->eps);
    else if (j->op == IMC_NODE_SOFTMAX)
        imc_softmax_rows(x, y, rows, j->d);
    else
        imc_elementwise(j->op, x, y, rows * j->d, j->eps);
    return NULL;
}

/* JOB over ROWS rows, split over the pass's threads (row by row the same numbers). */
static void row_wise(const imc_forward *f, rows_job job, size_t rows)
{
    enum { MIN_ROWS = 64 };
    size_t workers = workers_for(f, rows, MIN_ROWS);
    rows_job jobs[MAX_WORKERS];
    for (size_t w = 0; w < workers; w++) {
        jobs[w] = job;
        jobs[w].i0 = rows * w / workers, jobs[w].i1 = rows * (w + 1) / workers;
    }
    if (workers < 2)
        rows_step(jobs);
    else
        run_jobs(rows_step, jobs, sizeof *jobs, (int)workers, 0);
}

/* ---- a run --------------------------------------------------------------------------------- */

/* A node's output: P holds [image][numel], or one copy for all images (STRIDE 0). OWNED: the
 * floats of a buffer this node allocated (0: borrowed from the input, a parameter, another
 * node, the caller). */
typedef struct buf {
    float *p;
    size_t stride, owned;
} buf;

typedef struct run {
    imc_forward *f;
    const imc_mvm_ops *mvm;
    const imc_probe *probe;
    imc_err *err;
    size_t n;
} run;

/* A share of a layer's multiply: ROWS rows of X times W. */
typedef struct gemm_job {
    const float *x, *w;
    float *y;
    size_t rows, in, out;
} gemm_job;

static void *gemm_step(void *arg)
{
    gemm_job *j = arg;
    imc_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)j->rows, (int)j->out, (int)j->in,
              1.0f, j->x, (int)j->in, j->w, (int)j->out, 0.0f, j->y, (int)j->out);
    return NULL;
}

/* Y = X W over ROWS rows, the rows split over the pass's threads, each share one sgemm on one BLAS
 * thread. The threads are then the pass's alone: OpenBLAS's own, left spinning after its calls,
 * took the core the pass's element-wise jobs that follow want (DeiT-S FP32 at two threads:
 * 0.10-0.12 s per image before, 0.08-0.09 after). Each output must come out as from one sgemm over all
 * the rows on one thread (--threads 1), whatever the split: OpenBLAS blocks the inner dimension
 * alike for any number of rows, but below 28 x 512 x 512 multiply-adds a one-thread call may take
 * its "direct" SkylakeX kernel instead (sgemm_direct_performant, OpenBLAS 0.3.x), which sums in
 * another order. So a layer is split only into shares above that size, as large layers' are
 * (DeiT-S's smallest share: 98 x 384 x 384 = 14 M); test_forward holds the logits equal at one
 * and two threads. */
static void gemm_rows(const imc_forward *f, const float *x, size_t rows, size_t in, const float *w,
                      size_t out, float *y)
{
    enum { MIN_ROWS = 64 };
    const double min_share = 28.0 * 512 * 512;
    size_t workers = workers_for(f, rows, MIN_ROWS);
    while (workers > 1 && (double)(rows / workers) * (double)in * (double)out < min_share)
        workers--;
    gemm_job jobs[MAX_WORKERS];
    for (size_t k = 0; k < workers; k++) {
        size_t i0 = rows * k / workers, i1 = rows * (k + 1) / workers;
        jobs[k] = (gemm_job){x + i0 * in, w, y + i0 * out, i1 - i0, in, out};
    }
    if (workers < 2)
        gemm_step(jobs);
    else
        run_jobs(gemm_step, jobs, sizeof *jobs, (int)workers, 1);
}

/* Y = X W + b for ROWS rows of matrix (network layer) L. */
static int layer(const run *r, int l, const float *x, size_t rows, float *y)
{
    const imc_layer *ly = &r->f->net->layers[l];
    size_t in = (size_t)ly->in, out = (size_t)ly->out;
    if (r->mvm) {
        int rc = r->mvm->mvm(r->mvm->ctx, (size_t)l, x, rows, y, r->err);
        if (rc)
            return rc;
    } else {
        gemm_rows(r->f, x, rows, in, r->f->w[l], out, y);
    }
    imc_add_bias_rows(y, r->f->b[l], rows, out);
    if (r->probe)
        r->probe->layer_output(r->probe->ctx, (size_t)l, y, rows, out);
    return 0;
}

static int conv2d(const run *r, const imc_node *n, int matrix, const imc_node *in, const buf *x,
                  float *y, size_t imgs)
{
    const int64_t *a = n->attr;
    size_t C = (size_t)in->shape[0], H = (size_t)in->shape[1], W = (size_t)in->shape[2];
    size_t G = (size_t)a[IMC_CONV_GROUPS], Cg = C / G, Og = (size_t)a[IMC_CONV_OUT] / G;
    size_t kh = (size_t)a[IMC_CONV_KH], kw = (size_t)a[IMC_CONV_KW];
    size_t Ho = (size_t)n->shape[1], Wo = (size_t)n->shape[2], P = Ho * Wo, K = Cg * kh * kw;
    float *cols = malloc(imgs * P * K * sizeof *cols), *o = malloc(imgs * P * Og * sizeof *o);
    int rc = 0;
    if (!cols || !o)
        rc = imc_err_set(r->err, IMC_ENOMEM, "out of memory");
    for (size_t gi = 0; !rc && gi < G; gi++) {
        for (size_t img = 0; img < imgs; img++)
            for (size_t oy = 0; oy < Ho; oy++)
                for (size_t ox = 0; ox < Wo; ox++) {
                    float *dst = cols + ((img * P) + oy * Wo + ox) * K;
                    for (size_t c = 0; c < Cg; c++)
                        for (size_t i = 0; i < kh; i++) {
                            int64_t iy = (int64_t)(oy * (size_t)a[IMC_CONV_SH] + i * (size_t)a[IMC_CONV_DH]) -
                                         a[IMC_CONV_PH];
                            const float *src = x->p + img * x->stride + ((gi * Cg + c) * H) * W;
                            for (size_t j = 0; j < kw; j++) {
                                int64_t ix = (int64_t)(ox * (size_t)a[IMC_CONV_SW] + j * (size_t)a[IMC_CONV_DW]) -
                                             a[IMC_CONV_PW];
                                dst[(c * kh + i) * kw + j] = iy >= 0 && iy < (int64_t)H && ix >= 0 &&
                                                                     ix < (int64_t)W
                                                                 ? src[(size_t)iy * W + (size_t)ix]
                                                                 : 0.0f;
                            }
                        }
                }
        if ((rc = layer(r, matrix + (int)gi, cols, imgs * P, o)))
            break;
        for (size_t img = 0; img < imgs; img++) /* [position][channel] -> [channel][position] */
            for (size_t c = 0; c < Og; c++)
                for (size_t p = 0; p < P; p++)
                    y[img * Og * G * P + (gi * Og + c) * P + p] = o[(img * P + p) * Og + c];
    }
    free(cols), free(o);
    return rc;
}

/* ---- recurrent layers ---------------------------------------------------------------------- */

/* One direction of one layer of an LSTM or GRU over the sequence: X [imgs][T][in] (rows XS
 * apart per image) into columns COL.. of Y [imgs][T][ystride]. */
typedef struct rnn_dir {
    run r;
    imc_node_op op;
    int matrix, reverse;
    size_t T, in, H, imgs, xs, ystride, col;
    const float *x;
    float *y;
    int rc;
} rnn_dir;

static void *run_rnn_dir(void *arg)
{
    rnn_dir *j = arg;
    size_t T = j->T, in = j->in, H = j->H, n = j->imgs;
    int lstm = j->op == IMC_NODE_LSTM;
    size_t G = lstm ? 4 : 3, xw = lstm ? in + H : in;
    float *state = calloc(n * H, sizeof *state), *xin = malloc(n * xw * sizeof *xin),
          *gates = malloc(n * G * H * sizeof *gates), *hh = lstm ? NULL : malloc(n * G * H * sizeof *hh),
          *hprev = lstm ? NULL : calloc(n * H, sizeof *hprev);
    if (!state || !xin || !gates || (!lstm && (!hh || !hprev)))
        j->rc = imc_err_set(j->r.err, IMC_ENOMEM, "out of memory");
    for (size_t step = 0; step < T && !j->rc; step++) {
        size_t t = j->reverse ? T - 1 - step : step;
        size_t prev = j->reverse ? t + 1 : t - 1;
        for (size_t img = 0; img < n; img++) { /* LSTM: [x_t | h_(t-1)]; GRU: x_t */
            memcpy(xin + img * xw, j->x + img * j->xs + t * in, in * sizeof *xin);
            if (!lstm)
                continue;
            if (step == 0)
                memset(xin + img * xw + in, 0, H * sizeof *xin);
            else
                memcpy(xin + img * xw + in, j->y + (img * T + prev) * j->ystride + j->col, H * sizeof *xin);
        }
        if ((j->rc = layer(&j->r, j->matrix, xin, n, gates)))
            break;
        if (lstm) {
            for (size_t img = 0; img < n; img++) /* gates i, f, g, o */
                for (size_t u = 0; u < H; u++) {
                    const float *g = gates + img * 4 * H;
                    float ig = imc_sigmoidf(g[u]), fg = imc_sigmoidf(g[H + u]), gg = tanhf(g[2 * H + u]),
                          og = imc_sigmoidf(g[3 * H + u]);
                    float *cu = state + img * H + u;
                    *cu = fg * *cu + ig * gg;
                    j->y[(img * T + t) * j->ystride + j->col + u] = og * tanhf(*cu);
                }
            continue;
        }
        if ((j->rc = layer(&j->r, j->matrix + 1, hprev, n, hh))) /* W_hh h_(t-1) + b_hh */
            break;
        for (size_t img = 0; img < n; img++) /* gates r, z, n */
            for (size_t u = 0; u < H; u++) {
                const float *gi = gates + img * 3 * H, *gh = hh + img * 3 * H;
                float rg = imc_sigmoidf(gi[u] + gh[u]), zg = imc_sigmoidf(gi[H + u] + gh[H + u]);
                float ng = tanhf(gi[2 * H + u] + rg * gh[2 * H + u]);
                float h = (1.0f - zg) * ng + zg * hprev[img * H + u];
                hprev[img * H + u] = h;
                j->y[(img * T + t) * j->ystride + j->col + u] = h;
            }
    }
    free(state), free(xin), free(gates), free(hh), free(hprev);
    return NULL;
}

/* A probe that keeps every layer output, to hand on in order after a concurrent run. */
typedef struct probe_log {
    struct entry {
        size_t layer, rows, out;
        float *y;
    } *e;
    size_t n, cap;
    int failed;
} probe_log;

static void log_output(void *ctx, size_t layer_index, const float *y, size_t rows, size_t out)
{
    probe_log *lg = ctx;
    if (lg->failed)
        return;
    if (lg->n == lg->cap) {
        size_t cap = lg->cap ? 2 * lg->cap : 256;
        struct entry *e = realloc(lg->e, cap * sizeof *e);
        if (!e) {
            lg->failed = 1;
            return;
        }
        lg->e = e, lg->cap = cap;
    }
    float *copy = malloc(rows * out * sizeof *copy);
    if (!copy) {
        lg->failed = 1;
        return;
    }
    memcpy(copy, y, rows * out * sizeof *copy);
    lg->e[lg->n++] = (struct entry){layer_index, rows, out, copy};
}

/* The direction job of a one-layer, one-direction recurrent node N over input X into Y. */
static rnn_dir rnn_single(const run *r, const imc_node *n, int matrix, const buf *x, float *y,
                          size_t imgs)
{
    size_t H = (size_t)n->attr[IMC_RNN_HIDDEN];
    return (rnn_dir){*r, n->op, matrix, (int)n->attr[IMC_RNN_REVERSE], (size_t)n->shape[0],
                     (size_t)n->attr[IMC_RNN_IN], H, imgs, x->stride, H, 0, x->p, y, 0};
}

static int single(const imc_node *n)
{
    return (n->op == IMC_NODE_LSTM || n->op == IMC_NODE_GRU) && n->attr[IMC_RNN_LAYERS] == 1 &&
           !n->attr[IMC_RNN_BIDIR];
}

/* Every layer and direction of recurrent node N, one after the other: input X, output Y
 * [imgs][T][H x directions] (a bidirectional layer's forward states first). */
static int rnn_node(const run *r, const imc_node *n, int matrix, const buf *x, float *y, size_t imgs)
{
    const int64_t *a = n->attr;
    size_t T = (size_t)n->shape[0], H = (size_t)a[IMC_RNN_HIDDEN], dirs = a[IMC_RNN_BIDIR] ? 2 : 1;
    size_t per = n->op == IMC_NODE_GRU ? 2 : 1, L = (size_t)a[IMC_RNN_LAYERS];
    float *inner[2] = {NULL, NULL};
    const float *src = x->p;
    size_t xs = x->stride, in = (size_t)a[IMC_RNN_IN];
    int rc = 0;
    for (size_t l = 0; !rc && l < L; l++) {
        float *dst = y;
        if (l + 1 < L && !(dst = inner[l % 2]) &&
            !(dst = inner[l % 2] = malloc(imgs * T * H * dirs * sizeof *dst))) {
            rc = imc_err_set(r->err, IMC_ENOMEM, "out of memory");
            break;
        }
        for (size_t d = 0; !rc && d < dirs; d++) {
            rnn_dir j = {*r, n->op, matrix + (int)((l * dirs + d) * per),
                         (int)(d == 1 || a[IMC_RNN_REVERSE]), T, in, H, imgs, xs, H * dirs, d * H,
                         src, dst, 0};
            run_rnn_dir(&j);
            rc = j.rc;
        }
        src = dst, xs = T * H * dirs, in = H * dirs;
    }
    free(inner[0]), free(inner[1]);
    return rc;
}

/* Two one-direction recurrent layers on the same input (FAR's directions of a head) at once,
 * each sgemm on one BLAS thread; their layer outputs reach the probe afterwards in the order
 * of the sequential run (every step of the first, then of the second). */
static int rnn_pair(const run *r, rnn_dir *dir)
{
    probe_log logs[2] = {{0}, {0}};
    imc_probe probes[2] = {{&logs[0], log_output}, {&logs[1], log_output}};
    imc_err errs[2];
    for (int d = 0; d < 2; d++) {
        imc_err_clear(&errs[d]);
        dir[d].r.err = &errs[d];
        dir[d].r.probe = r->probe ? &probes[d] : NULL;
    }
    run_jobs(run_rnn_dir, dir, sizeof *dir, 2, 1);
    int rc = dir[0].rc ? dir[0].rc : dir[1].rc;
    if (rc)
        *r->err = errs[dir[0].rc ? 0 : 1];
    if (!rc && (logs[0].failed || logs[1].failed))
        rc = imc_err_set(r->err, IMC_ENOMEM, "out of memory");
    for (int d = 0; d < 2; d++) {
        for (size_t k = 0; k < logs[d].n; k++) {
            struct entry *e = &logs[d].e[k];
            if (!rc)
                r->probe->layer_output(r->probe->ctx, e->layer, e->y, e->rows, e->out);
            free(e->y);
        }
        free(logs[d].e);
    }
    return rc;
}

/* ---- matmul ---------------------------------------------------------------------------------- */

/* A share of the (image, leading index) pairs J0 .. J1 - 1 of a matmul. */
typedef struct mm_job {
    const float *a, *b;
    float *c, alpha;
    size_t as, bs, m, k, n, lead, j0, j1; /* as, bs: images' strides (0: shared) */
} mm_job;

static void *mm_step(void *arg)
{
    mm_job *j = arg;
    for (size_t q = j->j0; q < j->j1; q++) {
        size_t img = q / j->lead, i = q % j->lead;
        imc_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)j->m, (int)j->n, (int)j->k, j->alpha,
                  j->a + img * j->as + i * j->m * j->k, (int)j->k,
                  j->b + img * j->bs + i * j->k * j->n, (int)j->n, 0.0f,
                  j->c + (img * j->lead + i) * j->m * j->n, (int)j->n);
    }
    return NULL;
}

static void matmul(const run *r, const imc_node *n, const imc_node *na, const buf *a, const buf *b,
                   float *c, float alpha, size_t imgs)
{
    size_t m = (size_t)na->shape[na->ndim - 2], k = (size_t)na->shape[na->ndim - 1];
    size_t nn = (size_t)n->shape[n->ndim - 1], lead = imc_node_numel(n) / (m * nn), pairs = imgs * lead;
    size_t workers = workers_for(r->f, pairs, 1);
    mm_job jobs[MAX_WORKERS];
    for (size_t w = 0; w < workers; w++)
        jobs[w] = (mm_job){a->p, b->p, c, alpha, a->stride, b->stride, m, k, nn, lead,
                           pairs * w / workers, pairs * (w + 1) / workers};
    if (workers < 2)
        mm_step(jobs);
    else
        run_jobs(mm_step, jobs, sizeof *jobs, (int)workers, 1);
}

/* ---- data movement --------------------------------------------------------------------------- */

/* ---- the pass -------------------------------------------------------------------------------- */

/* Run node I into OUT (allocated, COUNT images of its numel). */
static int run_node(const run *r, int i, buf *bufs, buf *out, size_t count)
{
    const imc_forward *f = r->f;
    const imc_node *n = &f->g->nodes[i];
    const node_rt *rt = &f->nodes[i];
    const imc_node *na = n->n_inputs ? &f->g->nodes[n->inputs[0]] : NULL;
    const buf *a = n->n_inputs ? &bufs[n->inputs[0]] : NULL;
    const buf *b = n->n_inputs > 1 ? &bufs[n->inputs[1]] : NULL;
    size_t size = imc_node_numel(n), ins = na ? imc_node_numel(na) : 0;
    float *y = out->p;
    switch (n->op) {
    case IMC_NODE_INPUT:
    case IMC_NODE_PARAM:
        return 0; /* borrowed */
    case IMC_NODE_OUTPUT:
        for (size_t img = 0; img < count; img++)
            memcpy(y + img * size, a->p + img * a->stride, size * sizeof *y);
        return 0;
    case IMC_NODE_LINEAR: /* a shared input makes a shared output */
        return layer(r, rt->matrix, a->p, count * ins / (size_t)n->attr[IMC_LIN_IN], y);
    case IMC_NODE_CONV2D:
        return conv2d(r, n, rt->matrix, na, a, y, count);
    case IMC_NODE_LSTM:
    case IMC_NODE_GRU:
        return rnn_node(r, n, rt->matrix, a, y, count);
    case IMC_NODE_MATMUL:
        matmul(r, n, na, a, b, y, rt->alpha, count);
        return 0;
    case IMC_NODE_LAYERNORM:
    case IMC_NODE_SOFTMAX:
        if (n->op == IMC_NODE_SOFTMAX && n->attr[IMC_DIM] != n->ndim - 1) {
            size_t outer, inner, len = (size_t)n->shape[n->attr[IMC_DIM]];
            imc_split_at(n, (int)n->attr[IMC_DIM], &outer, &inner);
            float *row = malloc(len * sizeof *row);
            if (!row)
                return imc_err_set(r->err, IMC_ENOMEM, "out of memory");
            for (size_t o = 0; o < count * outer; o++)
                for (size_t k = 0; k < inner; k++) {
                    for (size_t j = 0; j < len; j++)
                        row[j] = a->p[(o * len + j) * inner + k];
                    imc_softmax_rows(row, row, 1, len);
                    for (size_t j = 0; j < len; j++)
                        y[(o * len + j) * inner + k] = row[j];
                }
            free(row);
            return 0;
        }
        row_wise(f, (rows_job){n->op, a->p, rt->t[IMC_T_WEIGHT], rt->t[IMC_T_BIAS], y,
                               (float)n->value, (size_t)n->shape[n->ndim - 1], 0, 0},
                 count * size / (size_t)n->shape[n->ndim - 1]);
        return 0;
    case IMC_NODE_GELU:
    case IMC_NODE_RELU:
    case IMC_NODE_SILU:
    case IMC_NODE_SIGMOID:
    case IMC_NODE_TANH:
    case IMC_NODE_SCALE: {
        size_t d = (size_t)n->shape[n->ndim - 1];
        row_wise(f, (rows_job){n->op, a->p, NULL, NULL, y, (float)n->value, d, 0, 0}, count * size / d);
        return 0;
    }
    case IMC_NODE_BATCHNORM:
        for (size_t img = 0; img < count; img++)
            imc_batchnorm(n, (const float *const *)rt->t, a->p + img * a->stride, y + img * size);
        return 0;
    case IMC_NODE_MAXPOOL:
    case IMC_NODE_AVGPOOL:
        for (size_t img = 0; img < count; img++)
            imc_pool2d(n, na, a->p + img * a->stride, y + img * size);
        return 0;
    case IMC_NODE_MEAN: {
        size_t outer, inner, len = (size_t)na->shape[n->attr[IMC_DIM]];
        imc_split_at(na, (int)n->attr[IMC_DIM], &outer, &inner);
        for (size_t o = 0; o < count * outer; o++)
            for (size_t k = 0; k < inner; k++) {
                double sum = 0;
                for (size_t j = 0; j < len; j++)
                    sum += a->p[(o * len + j) * inner + k];
                y[o * inner + k] = (float)(sum / (double)len);
            }
        return 0;
    }
    case IMC_NODE_ADD:
    case IMC_NODE_MUL: {
        const imc_node *nb = &f->g->nodes[n->inputs[1]];
        int add = n->op == IMC_NODE_ADD;
        if (na->ndim == n->ndim && nb->ndim == n->ndim && ins == size && imc_node_numel(nb) == size) {
            for (size_t img = 0; img < count; img++) {
                const float *x = a->p + img * a->stride, *z = b->p + img * b->stride;
                float *o = y + img * size;
                for (size_t k = 0; k < size; k++)
                    o[k] = add ? x[k] + z[k] : x[k] * z[k];
            }
            return 0;
        }
        int64_t sa[IMC_GRAPH_MAX_DIMS], sb[IMC_GRAPH_MAX_DIMS];
        float *tb = malloc(size * sizeof *tb);
        if (!tb)
            return imc_err_set(r->err, IMC_ENOMEM, "out of memory");
        imc_broadcast_strides(na, n->ndim, sa);
        imc_broadcast_strides(nb, n->ndim, sb);
        for (size_t img = 0; img < count; img++) {
            float *o = y + img * size;
            imc_gather(a->p + img * a->stride, sa, n->shape, n->ndim, o);
            imc_gather(b->p + img * b->stride, sb, n->shape, n->ndim, tb);
            for (size_t k = 0; k < size; k++)
                o[k] = add ? o[k] + tb[k] : o[k] * tb[k];
        }
        free(tb);
        return 0;
    }
    case IMC_NODE_RESHAPE:
        memcpy(y, a->p, count * size * sizeof *y);
        return 0;
    case IMC_NODE_EXPAND:
    case IMC_NODE_TRANSPOSE: {
        int64_t str[IMC_GRAPH_MAX_DIMS];
        if (n->op == IMC_NODE_EXPAND) {
            imc_broadcast_strides(na, n->ndim, str);
        } else {
            int64_t s[IMC_GRAPH_MAX_DIMS], acc = 1;
            for (int d = na->ndim - 1; d >= 0; d--)
                s[d] = acc, acc *= na->shape[d];
            for (int d = 0; d < n->ndim; d++)
                str[d] = s[n->attr[1 + d]];
        }
        for (size_t img = 0; img < count; img++)
            imc_gather(a->p + img * a->stride, str, n->shape, n->ndim, y + img * size);
        return 0;
    }
    case IMC_NODE_CONCAT: {
        int dim = (int)n->attr[IMC_DIM];
        size_t outer, inner, off = 0, len = (size_t)n->shape[dim];
        imc_split_at(n, dim, &outer, &inner);
        for (int k = 0; k < n->n_inputs; k++) {
            const buf *x = &bufs[n->inputs[k]];
            size_t part = (size_t)f->g->nodes[n->inputs[k]].shape[dim] * inner;
            for (size_t img = 0; img < count; img++)
                for (size_t o = 0; o < outer; o++)
                    memcpy(y + img * size + (o * len) * inner + off, x->p + img * x->stride + o * part,
                           part * sizeof *y);
            off += part;
        }
        return 0;
    }
    case IMC_NODE_SLICE: {
        int dim = (int)n->attr[IMC_DIM];
        size_t outer, inner, len = (size_t)na->shape[dim];
        imc_split_at(na, dim, &outer, &inner);
        size_t part = (size_t)n->shape[dim] * inner, from = (size_t)n->attr[IMC_SLICE_START] * inner;
        for (size_t img = 0; img < count; img++)
            for (size_t o = 0; o < outer; o++)
                memcpy(y + img * size + o * part, a->p + img * a->stride + o * len * inner + from,
                       part * sizeof *y);
        return 0;
    }
    case IMC_NODE_EMBEDDING: { /* each id picks a row of the table */
        size_t dim = (size_t)n->attr[IMC_EMB_DIM];
        double rows = (double)n->attr[IMC_EMB_NUM];
        for (size_t img = 0; img < count; img++)
            for (size_t k = 0; k < ins; k++) {
                float id = a->p[img * a->stride + k];
                if (!(id >= 0 && id < rows && id == floorf(id)))
                    return imc_err_set(r->err, IMC_EINPUT, "%s (embedding): token id %g (input "
                                       "value %zu) is not an integer in 0 .. %.0f", n->name,
                                       (double)id, k, rows - 1);
                memcpy(y + img * size + k * dim, rt->t[IMC_T_WEIGHT] + (size_t)id * dim,
                       dim * sizeof *y);
            }
        return 0;
    }
    case IMC_NODE_OP_COUNT:
        break;
    }
    return imc_err_set(r->err, IMC_EINTERNAL, "%s: op %d", n->name, (int)n->op);
}

/* A buffer of N floats: a pooled one of that size, else a new one. */
static float *take(imc_forward *f, size_t n)
{
    for (int i = 0; i < f->n_pool; i++)
        if (f->pool[i].n == n) {
            float *p = f->pool[i].p;
            f->pool[i] = f->pool[--f->n_pool];
            return p;
        }
    return imc_hugepages_alloc(n * sizeof(float)); /* activations: up to tens of MB */
}

static void give(imc_forward *f, float *p, size_t n)
{
    if (f->n_pool < POOL)
        f->pool[f->n_pool++] = (struct pooled){p, n};
    else
        free(p);
}

/* An owned buffer for COUNT images of node I's output. */
static int own(imc_forward *f, buf *out, const imc_node *nd, size_t count, int shared, imc_err *err)
{
    size_t size = imc_node_numel(nd);
    if (!(out->p = take(f, count * size)))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    out->stride = shared ? 0 : size, out->owned = count * size;
    return 0;
}

int imc_forward_run(imc_forward *f, const float *images, size_t n, float *logits,
                    const imc_mvm_ops *mvm, const imc_probe *probe, imc_err *err)
{
    const imc_graph *g = f->g;
    run r = {f, mvm, probe, err, n};
    buf *bufs = calloc((size_t)g->n_nodes, sizeof *bufs);
    if (!bufs)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    int rc = 0;
    for (int i = 0; !rc && i < g->n_nodes; i++) {
        const imc_node *nd = &g->nodes[i];
        buf *out = &bufs[i];
        size_t size = imc_node_numel(nd);
        if (nd->op == IMC_NODE_INPUT) {
            *out = (buf){(float *)images, size, 0};
            continue;
        }
        if (nd->op == IMC_NODE_PARAM) {
            *out = (buf){f->nodes[i].t[IMC_T_PARAM], 0, 0};
            continue;
        }
        if (f->nodes[i].root != i) { /* its input's data under another shape (or scaled) */
            *out = bufs[nd->inputs[0]];
            out->owned = 0;
            continue;
        }
        int shared = 1;
        for (int k = 0; k < nd->n_inputs; k++)
            shared &= bufs[nd->inputs[k]].stride == 0;
        size_t count = shared && nd->op != IMC_NODE_OUTPUT ? 1 : n;
        if (nd->op == IMC_NODE_OUTPUT)
            *out = (buf){logits, size, 0};
        else if ((rc = own(f, out, nd, count, shared, err)))
            break;
        /* two one-direction recurrent layers reading one input run at once (the FP32 pass, or
         * a multiply that may be called from two threads at once) */
        const imc_node *next = i + 1 < g->n_nodes ? &g->nodes[i + 1] : NULL;
        if ((!mvm || mvm->concurrent) && f->threads >= 2 && single(nd) && next && single(next) &&
            next->inputs[0] == nd->inputs[0] && !shared) {
            if ((rc = own(f, &bufs[i + 1], next, n, 0, err)))
                break;
            const buf *x = &bufs[nd->inputs[0]];
            rnn_dir dir[2] = {rnn_single(&r, nd, f->nodes[i].matrix, x, out->p, n),
                              rnn_single(&r, next, f->nodes[i + 1].matrix, x, bufs[i + 1].p, n)};
            rc = rnn_pair(&r, dir);
            i++;
        } else {
            rc = run_node(&r, i, bufs, out, count);
        }
        for (int k = 0; k <= i; k++) /* buffers no later node reads */
            if (bufs[k].owned && f->nodes[k].last_use <= i) {
                give(f, bufs[k].p, bufs[k].owned);
                bufs[k] = (buf){0};
            }
    }
    for (int k = 0; k < g->n_nodes; k++)
        if (bufs[k].owned)
            give(f, bufs[k].p, bufs[k].owned);
    free(bufs);
    return rc;
}

double imc_forward_flops(const imc_network *net)
{
    double flops = 0;
    for (size_t i = 0; i < net->n_layers; i++) {
        const imc_layer *l = &net->layers[i];
        flops += 2.0 * l->in * l->out * (double)l->vectors;
    }
    const imc_graph *g = &net->graph;
    for (int i = 0; i < g->n_nodes; i++) { /* matmuls between activations */
        const imc_node *n = &g->nodes[i];
        if (n->op != IMC_NODE_MATMUL)
            continue;
        const imc_node *a = &g->nodes[n->inputs[0]];
        flops += 2.0 * (double)imc_node_numel(n) * (double)a->shape[a->ndim - 1];
    }
    return flops;
}
