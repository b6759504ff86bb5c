/* test_forward.c -- the FP32 forward pass against PyTorch.
 *
 * tests/data holds three small random networks written by tools/numerics_ref.py (see
 * tests/data/README.md): ref_deit (2 attention blocks), ref_far_mixed (attention, then FAR in
 * the masked single-LSTM form) and ref_far_pruned (2 FAR blocks in the split form, 22..26 of 32
 * hidden units kept per head and direction); all D 96, 3 heads, 32 px images in 8 px patches,
 * 10 classes, MLP 192; and five imported through tools/imcsim-import by tools/graph_ref.py,
 * small shapes of tools/zoo.py's VGG-8, ResNet-18 (batchnorm, strided and 1 x 1 shortcut
 * convolutions, global pooling), two-layer LSTM language model (token ids through an embedding),
 * BERT-style post-norm encoder
 * layer and LayerScale ViT, and a stacked bidirectional GRU. Each comes with 8 random images and PyTorch's logits for them,
 * computed in float64 from the file's float32 weights. Checked here: the logits, batched runs
 * against one-image runs, the probe's view of every layer, the multiply hook, and batchnorm
 * folded into the convolutions against batchnorm applied apart. No Python
 * needed. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/blas.h"
#include "sim/numerics/dataset.h"
#include "sim/numerics/forward.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testmodels.h"

/* ---- fixtures ----------------------------------------------------------------------------- */

static const char *const MODELS[] = {"ref_deit",     "ref_far_mixed", "ref_far_pruned",
                                     "ref_vgg8",     "ref_resnet18",  "ref_lstm_lm",
                                     "ref_bert_layer", "ref_vit_ls", "ref_gru"};
#define N_MODELS (sizeof MODELS / sizeof MODELS[0])

typedef struct ref {
    imc_netfile *model_file, *inputs_file;
    imc_network *net;
    imc_forward *fwd;
    size_t n, classes, image_size; /* images, logits per image, floats per image */
    float *images, *logits;        /* the reference: [n][C][H][W], [n][classes] */
    float *labels;                 /* [n], as floats */
} ref;

static void data_path(char *buf, size_t size, const char *name, const char *kind)
{
    const char *src = getenv("IMCSIM_SRCDIR");
    snprintf(buf, size, "%s/tests/data/%s.%s.safetensors", src && *src ? src : ".", name, kind);
}

/* Tensor NAME of NF as floats, which must hold N values. */
static float *read_tensor(const imc_netfile *nf, const char *name, size_t n)
{
    const imc_tensor *t = imc_netfile_find(nf, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL((size_t)imc_tensor_numel(t), n);
    float *p = malloc(n * sizeof *p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_netfile_read_f32(nf, t, p, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return p;
}

static ref load_ref(const char *name)
{
    ref r;
    memset(&r, 0, sizeof r);
    char path[4200];
    imc_err err;
    imc_err_clear(&err);
    data_path(path, sizeof path, name, "model");
    int rc = imc_netfile_open(&r.model_file, path, &err);
    if (!rc)
        rc = imc_network_load(&r.net, r.model_file, &err);
    if (!rc)
        rc = imc_forward_new(&r.fwd, r.net, &err);
    data_path(path, sizeof path, name, "inputs");
    if (!rc)
        rc = imc_netfile_open(&r.inputs_file, path, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const imc_tensor *im = imc_netfile_find(r.inputs_file, "images");
    CU_ASSERT_PTR_NOT_NULL_FATAL(im);
    CU_ASSERT_EQUAL_FATAL(im->ndim, 4);
    CU_ASSERT_EQUAL_FATAL(im->shape[1], r.net->in_chans);
    CU_ASSERT_EQUAL_FATAL(im->shape[2], r.net->in_h);
    CU_ASSERT_EQUAL_FATAL(im->shape[3], r.net->in_w);
    r.n = (size_t)im->shape[0];
    r.classes = (size_t)r.net->num_classes;
    r.image_size = (size_t)r.net->in_chans * (size_t)r.net->in_h * (size_t)r.net->in_w;
    CU_ASSERT_EQUAL_FATAL(r.n, 8);
    CU_ASSERT_EQUAL_FATAL(r.classes, 10);
    r.images = read_tensor(r.inputs_file, "images", r.n * r.image_size);
    r.logits = read_tensor(r.inputs_file, "logits", r.n * r.classes);
    r.labels = read_tensor(r.inputs_file, "labels", r.n);
    return r;
}

static void free_ref(ref *r)
{
    imc_forward_free(r->fwd);
    imc_network_free(r->net);
    imc_netfile_close(r->model_file);
    imc_netfile_close(r->inputs_file);
    free(r->images);
    free(r->logits);
    free(r->labels);
}

/* Run images FIRST .. FIRST+N-1 of R; LOGITS receives n x classes. */
static void run(ref *r, size_t first, size_t n, float *logits, const imc_mvm_ops *mvm,
                const imc_probe *probe)
{
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_forward_run(r->fwd, r->images + first * r->image_size, n, logits, mvm, probe,
                             &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static float max_abs(const float *v, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(v[i]) > m ? fabsf(v[i]) : m;
    return m;
}

/* Largest |got - want| of one image's logits, relative to that image's largest |want|. Relative
 * to the largest logit rather than to each one: a logit near zero is the difference of large
 * terms and carries the absolute rounding error of its neighbours, not a relative one. */
static double image_error(const float *got, const float *want, size_t classes)
{
    double scale = max_abs(want, classes), worst = 0;
    for (size_t k = 0; k < classes; k++) {
        double e = fabs((double)got[k] - want[k]) / (scale > 0 ? scale : 1);
        worst = e > worst ? e : worst;
    }
    return worst;
}

static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* ---- the logits against PyTorch ---------------------------------------------------------- */

/* Tolerance 1e-4 of the image's largest logit. FP32 rounding (2^-24 = 6e-8 per operation)
 * through dot products of 96..192 terms, two blocks, five LayerNorms, softmax and 17-step LSTM
 * recurrences accumulates to ~1e-6 of the logits here (the worst is printed; 6.5e-7 .. 9e-7
 * with OpenBLAS on x86-64), so 1e-4 leaves two orders of magnitude for other BLAS builds and
 * compilers. It still fails every semantic slip tried on a copy of forward.c: LayerNorm eps
 * 1e-5 instead of 1e-6 (1.6e-4 .. 4.8e-4), tanh-approximated GELU (2.7e-4 .. 5e-4), and 1e-2 .. 1
 * for swapped i/f gates, q read as k, the wrong attention scale, a missing bias, the backward
 * LSTM reading the wrong previous step, its cell state not reset, a hidden state dropped
 * before head_proj, the CLS token replaced. */
static void test_logits_match_pytorch(void)
{
    for (size_t m = 0; m < N_MODELS; m++) {
        ref r = load_ref(MODELS[m]);
        float *got = malloc(r.n * r.classes * sizeof *got);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        run(&r, 0, r.n, got, NULL, NULL);
        double worst = 0;
        for (size_t i = 0; i < r.n; i++) {
            const float *g = got + i * r.classes, *w = r.logits + i * r.classes;
            double e = image_error(g, w, r.classes);
            worst = e > worst ? e : worst;
            if (e > 1e-4) {
                fprintf(stderr, "\n  %s image %zu: error %.3g of max |logit| %.4g:", MODELS[m], i,
                        e, max_abs(w, r.classes));
                for (size_t k = 0; k < r.classes; k++)
                    fprintf(stderr, " %.6g/%.6g", g[k], w[k]);
            }
            CU_ASSERT(e <= 1e-4);
            /* the labels are PyTorch's top-1, with a margin of at least 0.02 (numerics_ref.py and
               graph_ref.py print it) */
            CU_ASSERT_EQUAL(argmax(g, r.classes), (size_t)r.labels[i]);
        }
        fprintf(stderr, "\n    %-15s worst |error| / max |logit| over %zu images: %.2e", MODELS[m],
                r.n, worst);
        free(got);
        free_ref(&r);
    }
}

/* The batch's images are independent rows of every multiply: a batch of 8 gives each image the
 * logits it gets alone, up to the summation order a BLAS picks for another row count. That
 * reorders FP32 sums just as the FP32-vs-float64 comparison does, so the difference is of the
 * same size as the FP32 error itself: up to 8e-7 of the largest logit natively, 1.1e-6 under
 * valgrind (where OpenBLAS takes other kernels). 1e-5 bounds that; a cross-image mix-up, a
 * stale per-image state or a batch-size bug moves logits by far more (see above). */
static void test_batch_equals_single_runs(void)
{
    for (size_t m = 0; m < N_MODELS; m++) {
        ref r = load_ref(MODELS[m]);
        float *batch = malloc(r.n * r.classes * sizeof *batch);
        float *one = malloc(r.classes * sizeof *one);
        CU_ASSERT_PTR_NOT_NULL_FATAL(batch);
        CU_ASSERT_PTR_NOT_NULL_FATAL(one);
        run(&r, 0, r.n, batch, NULL, NULL);
        double worst = 0;
        for (size_t i = 0; i < r.n; i++) {
            run(&r, i, 1, one, NULL, NULL);
            double e = image_error(one, batch + i * r.classes, r.classes);
            worst = e > worst ? e : worst;
            CU_ASSERT(e <= 1e-5);
        }
        fprintf(stderr, "\n    %-15s worst one-image vs batch difference / max |logit|: %.2e",
                MODELS[m], worst);
        /* and a second run of the same forward object repeats the first exactly */
        float *again = malloc(r.n * r.classes * sizeof *again);
        CU_ASSERT_PTR_NOT_NULL_FATAL(again);
        run(&r, 0, r.n, again, NULL, NULL);
        CU_ASSERT(memcmp(again, batch, r.n * r.classes * sizeof *again) == 0);
        free(again);
        free(batch);
        free(one);
        free_ref(&r);
    }
}

/* ---- the probe ---------------------------------------------------------------------------- */

typedef struct probe_log {
    const imc_network *net;
    size_t *calls, *rows;   /* per layer */
    int bad_out, nonfinite; /* a call whose `out` is not the layer's; a NaN or infinity seen */
    int last_block, out_of_order;
    float *head_out;        /* copy of the classifier's output */
    size_t head_rows;
} probe_log;

static void record(void *ctx, size_t layer, const float *y, size_t rows, size_t out)
{
    probe_log *p = ctx;
    CU_ASSERT_FATAL(layer < p->net->n_layers);
    const imc_layer *l = &p->net->layers[layer];
    p->calls[layer]++;
    p->rows[layer] += rows;
    if (out != (size_t)l->out)
        p->bad_out = 1;
    for (size_t i = 0; i < rows * out; i++)
        if (!isfinite(y[i]))
            p->nonfinite = 1;
    /* dataflow order: no layer of a block before one of an earlier block; the patch embedding
     * (block -1) first, the classifier (block -1) last */
    int blk = l->kind == IMC_LAYER_HEAD ? p->net->depth : l->block;
    if (blk < p->last_block)
        p->out_of_order = 1;
    p->last_block = blk;
    int classifier = imc_network_is_generic(p->net) ? layer + 1 == p->net->n_layers
                                                    : l->kind == IMC_LAYER_HEAD && !strcmp(l->name, "head");
    if (classifier) {
        free(p->head_out);
        p->head_out = malloc(rows * out * sizeof *p->head_out);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p->head_out);
        memcpy(p->head_out, y, rows * out * sizeof *y);
        p->head_rows = rows;
    }
}

/* Every weight layer reports its output once per run over n x vectors rows: one call of
 * n x vectors rows, except a recurrent layer's matrix (a FAR head's direction, a layer and
 * direction of an LSTM, either matrix of a GRU's), which runs step by step and reports each of
 * its `vectors` steps as one call of n rows (one per image). */
static int stepwise(const imc_layer *l)
{
    return l->kind == IMC_LAYER_FAR_LSTM || l->kind == IMC_LAYER_LSTM || l->kind == IMC_LAYER_GRU;
}

static void test_probe_sees_every_layer(void)
{
    for (size_t m = 0; m < N_MODELS; m++) {
        ref r = load_ref(MODELS[m]);
        size_t L = r.net->n_layers;
        probe_log p = {r.net, calloc(L, sizeof(size_t)), calloc(L, sizeof(size_t)), 0, 0, -1, 0,
                       NULL, 0};
        CU_ASSERT_PTR_NOT_NULL_FATAL(p.calls);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p.rows);
        imc_probe probe = {&p, record};
        float *got = malloc(r.n * r.classes * sizeof *got);
        float *plain = malloc(r.n * r.classes * sizeof *plain);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
        const size_t batch[] = {1, r.n}; /* one image, then all eight */
        for (size_t bi = 0; bi < 2; bi++) {
            size_t n = batch[bi];
            memset(p.calls, 0, L * sizeof *p.calls);
            memset(p.rows, 0, L * sizeof *p.rows);
            p.last_block = -1;
            run(&r, 0, n, got, NULL, &probe);
            int lstm_layers = 0;
            for (size_t i = 0; i < L; i++) {
                const imc_layer *l = &r.net->layers[i];
                lstm_layers += l->kind == IMC_LAYER_FAR_LSTM;
                size_t want_calls = stepwise(l) ? (size_t)l->vectors : 1;
                if (p.calls[i] != want_calls || p.rows[i] != n * (size_t)l->vectors)
                    fprintf(stderr, "\n  %s %s: %zu calls over %zu rows, want %zu over %zu",
                            MODELS[m], l->name, p.calls[i], p.rows[i], want_calls,
                            n * (size_t)l->vectors);
                CU_ASSERT_EQUAL(p.calls[i], want_calls);
                CU_ASSERT_EQUAL(p.rows[i], n * (size_t)l->vectors);
            }
            /* FAR blocks: 3 heads x 2 directions of LSTM layers each */
            CU_ASSERT_EQUAL(lstm_layers, 6 * imc_network_far_blocks(r.net));
            CU_ASSERT_FALSE(p.bad_out);
            CU_ASSERT_FALSE(p.nonfinite);
            CU_ASSERT_FALSE(p.out_of_order);
            /* the classifier's output is the logits; the probe changes nothing */
            CU_ASSERT_PTR_NOT_NULL_FATAL(p.head_out);
            CU_ASSERT_EQUAL(p.head_rows, n);
            CU_ASSERT(memcmp(p.head_out, got, n * r.classes * sizeof *got) == 0);
            run(&r, 0, n, plain, NULL, NULL);
            CU_ASSERT(memcmp(plain, got, n * r.classes * sizeof *got) == 0);
        }
        CU_ASSERT_EQUAL(imc_network_far_blocks(r.net), m < 3 ? (int)m : 0); /* 0, 1, 2 FAR blocks */
        free(p.calls);
        free(p.rows);
        free(p.head_out);
        free(got);
        free(plain);
        free_ref(&r);
    }
}

/* ---- the multiply hook -------------------------------------------------------------------- */

typedef struct mvm_ctx {
    const imc_forward *fwd;
    const imc_network *net;
    size_t calls, fail_at; /* fail on call FAIL_AT (0: never) */
    size_t failed_layer;
} mvm_ctx;

/* Y = X W with the forward pass's own FP32 weights, in double: what an ideal crossbar does. */
static int exact_mvm(void *ctx, size_t layer, const float *x, size_t rows, float *y, imc_err *err)
{
    mvm_ctx *c = ctx;
    if (++c->calls == c->fail_at) {
        c->failed_layer = layer;
        return imc_err_set(err, IMC_EINPUT, "crossbar of layer %zu stuck", layer);
    }
    const imc_layer *l = &c->net->layers[layer];
    const float *w = imc_forward_weights(c->fwd, layer, NULL);
    size_t in = (size_t)l->in, out = (size_t)l->out;
    for (size_t i = 0; i < rows; i++)
        for (size_t o = 0; o < out; o++) {
            double s = 0;
            for (size_t k = 0; k < in; k++)
                s += (double)x[i * in + k] * w[k * out + o];
            y[i * out + o] = (float)s;
        }
    return 0;
}

/* A running FNV-1a hash of every probe call: the layer, the rows and the output's bytes, in
 * call order. */
static void hash_calls(void *ctx, size_t layer, const float *y, size_t rows, size_t out)
{
    uint64_t *h = ctx;
    const unsigned char *b = (const unsigned char *)y;
    size_t head[2] = {layer, rows};
    for (size_t k = 0; k < sizeof head; k++)
        *h = (*h ^ ((const unsigned char *)head)[k]) * 0x100000001b3u;
    for (size_t k = 0; k < rows * out * sizeof *y; k++)
        *h = (*h ^ b[k]) * 0x100000001b3u;
}

/* With two threads the FP32 pass runs each FAR head's two LSTM directions at once and splits an
 * attention block's (image, head) pairs between them: the logits are the same to the bit, and
 * the probe sees the same outputs in the same order as with one. */
static void test_threads_same_pass(void)
{
    for (size_t m = 0; m < N_MODELS; m++) {
        ref r = load_ref(MODELS[m]);
        float *one = malloc(r.n * r.classes * sizeof *one), *two = malloc(r.n * r.classes * sizeof *two);
        CU_ASSERT_PTR_NOT_NULL_FATAL(one);
        CU_ASSERT_PTR_NOT_NULL_FATAL(two);
        uint64_t h1 = 0xcbf29ce484222325u, h2 = h1;
        imc_probe p1 = {&h1, hash_calls}, p2 = {&h2, hash_calls};
        imc_forward_threads(r.fwd, 1);
        run(&r, 0, r.n, one, NULL, &p1);
        imc_forward_threads(r.fwd, 2);
        run(&r, 0, r.n, two, NULL, &p2);
        CU_ASSERT(memcmp(one, two, r.n * r.classes * sizeof *one) == 0);
        CU_ASSERT_EQUAL(h1, h2);
        free(one), free(two);
        free_ref(&r);
    }
}

/* A multiply plugged in through imc_mvm_ops replaces sgemm and nothing else: with exact
 * products it reproduces PyTorch like sgemm does, and its error stops the run with its
 * message. */
static void test_mvm_hook(void)
{
    for (size_t m = 0; m < N_MODELS; m++) {
        ref r = load_ref(MODELS[m]);
        float *got = malloc(r.n * r.classes * sizeof *got);
        float *plain = malloc(r.n * r.classes * sizeof *plain);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
        mvm_ctx c = {r.fwd, r.net, 0, 0, 0};
        imc_mvm_ops ops = {&c, exact_mvm};
        run(&r, 0, r.n, got, &ops, NULL);
        run(&r, 0, r.n, plain, NULL, NULL);
        size_t want_calls = 0;
        for (size_t i = 0; i < r.net->n_layers; i++) {
            const imc_layer *l = &r.net->layers[i];
            want_calls += stepwise(l) ? (size_t)l->vectors : 1;
        }
        CU_ASSERT_EQUAL(c.calls, want_calls);
        for (size_t i = 0; i < r.n; i++) {
            const float *g = got + i * r.classes;
            CU_ASSERT(image_error(g, r.logits + i * r.classes, r.classes) <= 1e-4);
            CU_ASSERT(image_error(g, plain + i * r.classes, r.classes) <= 1e-5);
        }
        /* the weights the hook reads are the layer's [in][out] matrix and its bias: the
         * classifier's against the file's [classes][D] weight and bias (DeiT: head.weight and
         * head.bias; an imported model: its last linear's tensors) */
        size_t last = r.net->n_layers - 1, D = (size_t)r.net->layers[last].in;
        const imc_layer *hl = &r.net->layers[last];
        int generic = imc_network_is_generic(r.net);
        CU_ASSERT_EQUAL_FATAL(hl->kind, generic ? IMC_LAYER_LINEAR : IMC_LAYER_HEAD);
        const imc_node *hn = generic ? &r.net->graph.nodes[hl->node] : NULL;
        const float *bias = NULL;
        const float *w = imc_forward_weights(r.fwd, last, &bias);
        float *hw = read_tensor(r.model_file, hn ? hn->tensor[IMC_T_WEIGHT] : "head.weight", r.classes * D);
        float *hb = read_tensor(r.model_file, hn ? hn->tensor[IMC_T_BIAS] : "head.bias", r.classes);
        int same = 1;
        for (size_t o = 0; o < r.classes; o++) {
            same &= bias[o] == hb[o];
            for (size_t k = 0; k < D; k++)
                same &= w[k * r.classes + o] == hw[o * D + k];
        }
        CU_ASSERT(same);
        free(hw);
        free(hb);
        /* a failing multiply half-way through: the run fails with its status and message */
        c.calls = 0;
        c.fail_at = want_calls / 2;
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_forward_run(r.fwd, r.images, r.n, got, &ops, NULL, &err);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_EQUAL(c.calls, want_calls / 2);
        char want[64];
        snprintf(want, sizeof want, "crossbar of layer %zu stuck", c.failed_layer);
        CU_ASSERT_STRING_EQUAL(err.msg, want);
        free(got);
        free(plain);
        free_ref(&r);
    }
}

/* ResNet-18's batchnorms all fold into the convolution before them (imc_graph_fold); the same
 * graph with every batchnorm applied apart (the per-channel affine after the convolution) gives
 * the same logits up to FP32 rounding of the reordered products: measured 2.9e-7 of the largest
 * logit, bound 1e-6 (a fold that drops the mean, 2.4e-1 against PyTorch, fails both). */
static void test_batchnorm_folded_or_apart(void)
{
    ref r = load_ref("ref_resnet18");
    imc_graph *g = &r.net->graph;
    int folded = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == IMC_NODE_BATCHNORM) {
            CU_ASSERT(g->nodes[i].fold >= 0);
            folded++;
        }
    CU_ASSERT(folded >= 20);
    float *fold = malloc(r.n * r.classes * sizeof *fold), *apart = malloc(r.n * r.classes * sizeof *apart);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fold);
    CU_ASSERT_PTR_NOT_NULL_FATAL(apart);
    run(&r, 0, r.n, fold, NULL, NULL);
    for (int i = 0; i < g->n_nodes; i++)
        g->nodes[i].fold = -1;
    imc_forward_free(r.fwd);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_forward_new(&r.fwd, r.net, &err), 0);
    run(&r, 0, r.n, apart, NULL, NULL);
    double worst = 0;
    for (size_t i = 0; i < r.n; i++) {
        double e = image_error(fold + i * r.classes, apart + i * r.classes, r.classes);
        worst = e > worst ? e : worst;
        CU_ASSERT(image_error(apart + i * r.classes, r.logits + i * r.classes, r.classes) <= 1e-4);
    }
    fprintf(stderr, "\n    folded vs apart: %.2e of the largest logit", worst);
    CU_ASSERT(worst <= 1e-6);
    free(fold), free(apart);
    free_ref(&r);
}

/* The LSTM language model reads token ids through its embedding: synthetic inputs for it are
 * ids over its vocabulary (10 words), which run; an id that is not one of the table's rows stops
 * the run with one line naming the node, the value and where it was. */
static void test_token_ids(void)
{
    ref r = load_ref("ref_lstm_lm");
    imc_err err;
    imc_err_clear(&err);
    imc_dataset *d = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_dataset_synthetic(&d, 4, r.net, 3, &err), 0);
    size_t per = r.image_size, seen[10] = {0};
    int ids = 1;
    for (size_t k = 0; k < 4 * per; k++) {
        float v = d->images[k];
        ids &= v >= 0 && v < 10 && v == floorf(v);
        if (ids)
            seen[(size_t)v]++;
    }
    CU_ASSERT(ids);
    size_t words = 0;
    for (int w = 0; w < 10; w++)
        words += seen[w] > 0;
    CU_ASSERT(words >= 8); /* 64 draws over 10 words */
    float logits[40];
    CU_ASSERT_EQUAL(imc_forward_run(r.fwd, d->images, 4, logits, NULL, NULL, &err), 0);
    imc_dataset_free(d);
    r.images[5] = 3.5f;
    CU_ASSERT_EQUAL(imc_forward_run(r.fwd, r.images, 1, logits, NULL, NULL, &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "embed (embedding): token id 3.5 (input value 5) is not an "
                                    "integer in 0 .. 9");
    imc_err_clear(&err);
    r.images[5] = 10;
    CU_ASSERT_EQUAL(imc_forward_run(r.fwd, r.images, 1, logits, NULL, NULL, &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "embed (embedding): token id 10 (input value 5) is not an "
                                    "integer in 0 .. 9");
    free_ref(&r);
}

/* The multiplies go to OpenBLAS wherever configure found it (loaded at the first call: a build
 * that cannot load it would fall back to gslcblas, five times slower, without a word), and
 * both GEMMs multiply: a 2 x 3 by 3 x 2 product, and alpha and beta. */
static void test_blas_loaded_and_multiplies(void)
{
#ifdef IMC_OPENBLAS_SONAME
    CU_ASSERT_STRING_EQUAL(imc_blas_name(), "OpenBLAS");
#else
    CU_ASSERT_STRING_EQUAL(imc_blas_name(), "gslcblas");
#endif
    CU_ASSERT(imc_blas_threads() >= 1);
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, 12};
    float c[4] = {1, 1, 1, 1};
    imc_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 2.0f, a, 3, b, 2, 0.5f, c, 2);
    const float want[4] = {2 * 58 + 0.5f, 2 * 64 + 0.5f, 2 * 139 + 0.5f, 2 * 154 + 0.5f};
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(c[i], want[i]);
    const double ad[6] = {1, 2, 3, 4, 5, 6}, bd[6] = {7, 8, 9, 10, 11, 12};
    double cd[4] = {0};
    imc_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1.0, ad, 3, bd, 2, 0.0, cd, 2);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(cd[i], (want[i] - 0.5) / 2);
}

static CU_TestInfo tests[] = {
    {"BLAS: OpenBLAS where configured, its GEMMs multiply", test_blas_loaded_and_multiplies},
    {"logits match PyTorch (float64) to 1e-4 of the largest", test_logits_match_pytorch},
    {"a batch gives every image its one-image logits", test_batch_equals_single_runs},
    {"two threads: the same logits and probe calls", test_threads_same_pass},
    {"the probe sees every layer once per run, n x vectors rows", test_probe_sees_every_layer},
    {"an exact multiply hook reproduces sgemm; its error stops the run", test_mvm_hook},
    {"batchnorm folded into the convolutions or applied apart: the same logits", test_batchnorm_folded_or_apart},
    {"a language model's inputs are token ids; a bad id is refused", test_token_ids},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "forward"
#include "cunit_main.h"
