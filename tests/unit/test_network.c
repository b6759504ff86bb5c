/* test_network.c -- inferring DeiT and FAR networks from model files.
 *
 * Tiny models (D 48, 3 heads, depth 2, 32 px images in 8 px patches, 3 channels, 10 classes,
 * MLP 96) are generated with imc_modelgen_write into a mkdtemp directory and read back: the
 * structure, the parameter counts against closed forms (the FAR per-block formula of
 * Ren et al., arXiv 2505.21535, docs/SOURCES.md: 2D^2 + 16D^2/N + 2D^2/N + 19D), the layer list, pruned FAR heads in
 * the masked and the split form, the gathered layer weights against the file's tensors, and
 * every class of bad model file with its exact one-line message. Each model file is unlinked
 * as soon as it is open (the mapping stays valid), so nothing is left behind. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testmodels.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static int suite_init(void)
{
    return test_dir_make("network");
}
#define SUITE_INIT suite_init
#define SUITE_CLEANUP test_dir_remove

/* Read tensor NAME as floats (caller frees). */
static float *tensor_f32(const imc_netfile *nf, const char *name, int64_t *n)
{
    const imc_tensor *t = imc_netfile_find(nf, name);
    if (!t)
        fprintf(stderr, "\n  no tensor '%s'\n", name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    *n = imc_tensor_numel(t);
    float *v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_netfile_read_f32(nf, t, v, &err), 0);
    return v;
}

static const imc_layer *find_layer(const imc_network *net, const char *name)
{
    for (size_t i = 0; i < net->n_layers; i++)
        if (strcmp(net->layers[i].name, name) == 0)
            return &net->layers[i];
    fprintf(stderr, "\n  no layer '%s'\n", name);
    CU_FAIL_FATAL("layer not found");
    return NULL;
}

/* ---- closed forms ------------------------------------------------------------------------- */

static int kept_units(const imc_modelgen_spec *s)
{
    int hd = s->embed_dim / s->num_heads;
    return hd - (int)lround(s->prune * hd);
}

/* Parameters of SPEC from its shapes alone. EFFECTIVE: FAR blocks count only the weights that
 * are not masked zeros or pruned units (every head and direction keeps kept_units()). */
static int64_t params_closed(const imc_modelgen_spec *s, int effective)
{
    int64_t D = s->embed_dim, N = s->num_heads, hd = D / N, M = s->mlp_hidden;
    int64_t p = s->patch_size, C = s->in_chans, K = s->num_classes, k = kept_units(s);
    int64_t grid = s->img_size / s->patch_size, T = grid * grid + 1;
    int64_t n = D + T * D + D * C * p * p + D /* cls, pos, patch_embed */
                + 2 * D + K * D + K;         /* final norm, head */
    for (int b = 0; b < s->depth; b++) {
        n += 4 * D + D * M + M + M * D + D; /* norm1, norm2, mlp */
        if (!imc_modelgen_is_far(s, b))
            n += 3 * D * D + 3 * D + D * D + D; /* qkv, proj */
        else if (effective || s->split)
            n += 2 * D * D + 2 * D                            /* pre_proj, post_proj */
                 + 2 * N * (4 * k * hd + 4 * k * k + 8 * k)  /* per head and direction */
                 + N * hd * 2 * k + D;                        /* head_proj */
        else
            n += 2 * D * D + 2 * D + 2 * (2 * 4 * D * D + 2 * 4 * D) + 2 * D * D + D;
    }
    return n;
}

/* The closed forms reproduce the published counts (docs/SOURCES.md, DeiT and FAR): DeiT-Ti/S/B
 * exactly, FAR-Ti/S/B to the 0.01 M the reference gives. */
static void test_closed_form_matches_reference(void)
{
    static const struct {
        const char *preset;
        int64_t params;  /* exact (DeiT), or in units of 10^4 (FAR: 7.52 M -> 752) */
    } ref[] = {
        {"deit-ti", 5717416}, {"deit-s", 22050664}, {"deit-b", 86567656},
        {"far-ti", 752},      {"far-s", 2389},      {"far-b", 8317},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        imc_modelgen_spec s;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL_FATAL(imc_modelgen_preset(ref[i].preset, &s, &err), 0);
        int64_t n = params_closed(&s, 1);
        int64_t got = s.far_blocks ? llround((double)n / 1e4) : n;
        CU_ASSERT_EQUAL(got, ref[i].params);
    }
}

/* The layer list SPEC must give (every FAR head and direction keeps K units). */
typedef struct want_layer {
    char name[96];
    imc_layer_kind kind;
    int block, head, dir, in, out;
    int64_t vectors;
} want_layer;

static size_t want_layers(const imc_modelgen_spec *s, int k, want_layer *w)
{
    int D = s->embed_dim, N = s->num_heads, hd = D / N, M = s->mlp_hidden;
    int grid = s->img_size / s->patch_size, P = grid * grid, T = P + 1;
    size_t n = 0;
#define WANT(kind_, b_, h_, d_, in_, out_, v_, ...)                                               \
    do {                                                                                         \
        snprintf(w[n].name, sizeof w[n].name, __VA_ARGS__);                                      \
        w[n].kind = kind_, w[n].block = b_, w[n].head = h_, w[n].dir = d_;                        \
        w[n].in = in_, w[n].out = out_, w[n].vectors = v_;                                       \
        n++;                                                                                     \
    } while (0)
    WANT(IMC_LAYER_PATCH_EMBED, -1, -1, -1, s->in_chans * s->patch_size * s->patch_size, D, P,
         "patch_embed");
    for (int b = 0; b < s->depth; b++) {
        if (imc_modelgen_is_far(s, b)) {
            WANT(IMC_LAYER_FAR_PRE, b, -1, -1, D, D, T, "blocks.%d.attn.pre_proj", b);
            for (int h = 0; h < N; h++)
                for (int d = 0; d < 2; d++)
                    WANT(IMC_LAYER_FAR_LSTM, b, h, d, hd + k, 4 * k, T, "blocks.%d.attn.lstm.h%d.%s",
                         b, h, d ? "bwd" : "fwd");
            for (int h = 0; h < N; h++)
                WANT(IMC_LAYER_FAR_HEAD_PROJ, b, h, -1, 2 * k, hd, T, "blocks.%d.attn.head_proj.h%d",
                     b, h);
            WANT(IMC_LAYER_FAR_POST, b, -1, -1, D, D, T, "blocks.%d.attn.post_proj", b);
        } else {
            WANT(IMC_LAYER_QKV, b, -1, -1, D, 3 * D, T, "blocks.%d.attn.qkv", b);
            WANT(IMC_LAYER_ATTN_PROJ, b, -1, -1, D, D, T, "blocks.%d.attn.proj", b);
        }
        WANT(IMC_LAYER_FC1, b, -1, -1, D, M, T, "blocks.%d.mlp.fc1", b);
        WANT(IMC_LAYER_FC2, b, -1, -1, M, D, T, "blocks.%d.mlp.fc2", b);
    }
    WANT(IMC_LAYER_HEAD, -1, -1, -1, D, s->num_classes, 1, "head");
#undef WANT
    return n;
}

static void check_layers(const imc_network *net, const imc_modelgen_spec *s)
{
    want_layer w[128];
    size_t n = want_layers(s, kept_units(s), w);
    CU_ASSERT_EQUAL_FATAL(net->n_layers, n);
    for (size_t i = 0; i < n; i++) {
        const imc_layer *l = &net->layers[i];
        int ok = strcmp(l->name, w[i].name) == 0 && l->kind == w[i].kind &&
                 l->block == w[i].block && l->head == w[i].head && l->dir == w[i].dir &&
                 l->in == w[i].in && l->out == w[i].out && l->vectors == w[i].vectors &&
                 l->has_bias;
        if (!ok)
            fprintf(stderr, "\n  layer %zu: got %s %s b%d h%d d%d %dx%d x%lld, want %s %s b%d h%d "
                            "d%d %dx%d x%lld\n", i, l->name, imc_layer_kind_name(l->kind), l->block,
                    l->head, l->dir, l->in, l->out, (long long)l->vectors, w[i].name,
                    imc_layer_kind_name(w[i].kind), w[i].block, w[i].head, w[i].dir, w[i].in,
                    w[i].out, (long long)w[i].vectors);
        CU_ASSERT(ok);
    }
}

static void check_shape(const imc_network *net, const imc_modelgen_spec *s)
{
    int grid = s->img_size / s->patch_size;
    CU_ASSERT_STRING_EQUAL(net->name, s->name);
    CU_ASSERT_EQUAL(net->depth, s->depth);
    CU_ASSERT_EQUAL(net->embed_dim, s->embed_dim);
    CU_ASSERT_EQUAL(net->num_heads, s->num_heads);
    CU_ASSERT_EQUAL(net->head_dim, s->embed_dim / s->num_heads);
    CU_ASSERT_EQUAL(net->img_size, s->img_size);
    CU_ASSERT_EQUAL(net->patch_size, s->patch_size);
    CU_ASSERT_EQUAL(net->in_chans, s->in_chans);
    CU_ASSERT_EQUAL(net->num_classes, s->num_classes);
    CU_ASSERT_EQUAL(net->patches, grid * grid);
    CU_ASSERT_EQUAL(net->tokens, grid * grid + 1);
    CU_ASSERT_EQUAL(net->dist_token, 0);
    int far = 0;
    for (int b = 0; b < s->depth; b++) {
        int is_far = imc_modelgen_is_far(s, b);
        far += is_far;
        CU_ASSERT_EQUAL(net->blocks[b].kind, is_far ? IMC_BLOCK_FAR : IMC_BLOCK_ATTENTION);
        CU_ASSERT_EQUAL(net->blocks[b].mlp_hidden, s->mlp_hidden);
        if (is_far)
            CU_ASSERT_EQUAL(net->blocks[b].far_split, s->split);
    }
    CU_ASSERT_EQUAL(imc_network_far_blocks(net), far);
}

/* Every FAR head and direction keeps K units: ascending, distinct indices below head_dim
 * (0..K-1 in the split form). */
static void check_far_units(const imc_network *net, int k, int split)
{
    for (int b = 0; b < net->depth; b++) {
        if (net->blocks[b].kind != IMC_BLOCK_FAR)
            continue;
        for (int i = 0; i < 2 * net->num_heads; i++) {
            const imc_far_dir *fd = &net->blocks[b].far[i];
            CU_ASSERT_EQUAL(fd->hidden, k);
            for (int j = 0; j < fd->hidden; j++) {
                CU_ASSERT(fd->units[j] >= 0 && fd->units[j] < net->head_dim);
                if (j)
                    CU_ASSERT(fd->units[j] > fd->units[j - 1]);
                if (split)
                    CU_ASSERT_EQUAL(fd->units[j], j);
            }
        }
    }
}

/* Zeros in the masked FAR tensors (LSTM weights and biases, head_proj weight) of NF. */
static int64_t masked_zeros(const imc_netfile *nf, int depth)
{
    static const char *const parts[] = {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                        "lstm.bias_hh_l0", "lstm.weight_ih_l0_reverse",
                                        "lstm.weight_hh_l0_reverse", "lstm.bias_ih_l0_reverse",
                                        "lstm.bias_hh_l0_reverse", "head_proj.weight"};
    int64_t zeros = 0;
    for (int b = 0; b < depth; b++)
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            char name[128];
            snprintf(name, sizeof name, "blocks.%d.attn.%s", b, parts[i]);
            if (!imc_netfile_find(nf, name))
                continue;
            int64_t n;
            float *v = tensor_f32(nf, name, &n);
            for (int64_t j = 0; j < n; j++)
                zeros += v[j] == 0;
            free(v);
        }
    return zeros;
}

/* ---- structure and parameter counts ------------------------------------------------------ */

static void test_deit_round_trip(void)
{
    imc_modelgen_spec s = tiny_spec(0, 0, 0);
    model m = gen_model(&s, "deit");
    check_shape(m.net, &s);
    int64_t D = 48, T = 17, H = 96, C = 3, p = 8, K = 10;
    int64_t want = D + T * D + (D * C * p * p + D) +
                   2 * (4 * D + (3 * D * D + 3 * D) + (D * D + D) + (D * H + H) + (H * D + D)) +
                   2 * D + (K * D + K);
    CU_ASSERT_EQUAL(want, params_closed(&s, 0));
    CU_ASSERT_EQUAL(m.net->params_total, want);
    CU_ASSERT_EQUAL(m.net->params_effective, want);
    check_layers(m.net, &s);
    /* The layer list spelled out once, so the expectation builder is checked too. */
    CU_ASSERT_EQUAL_FATAL(m.net->n_layers, 10);
    CU_ASSERT_STRING_EQUAL(m.net->layers[0].name, "patch_embed");
    CU_ASSERT_EQUAL(m.net->layers[0].in, 192);
    CU_ASSERT_EQUAL(m.net->layers[0].vectors, 16);
    CU_ASSERT_STRING_EQUAL(m.net->layers[1].name, "blocks.0.attn.qkv");
    CU_ASSERT_EQUAL(m.net->layers[1].out, 144);
    CU_ASSERT_EQUAL(m.net->layers[1].vectors, 17);
    CU_ASSERT_STRING_EQUAL(m.net->layers[8].name, "blocks.1.mlp.fc2");
    CU_ASSERT_EQUAL(m.net->layers[8].in, 96);
    CU_ASSERT_STRING_EQUAL(m.net->layers[9].name, "head");
    CU_ASSERT_EQUAL(m.net->layers[9].out, 10);
    CU_ASSERT_EQUAL(m.net->layers[9].vectors, 1);
    free_model(&m);
}

static void test_far_masked_unpruned(void)
{
    imc_modelgen_spec s = tiny_spec(~0ULL, 0, 0);
    model m = gen_model(&s, "far");
    check_shape(m.net, &s);
    int64_t D = 48, N = 3, depth = 2;
    int64_t far_block = 2 * D * D + 16 * D * D / N + 2 * D * D / N + 19 * D; /* docs/SOURCES.md, FAR */
    imc_modelgen_spec deit = tiny_spec(0, 0, 0);
    int64_t attn_block = 3 * D * D + 3 * D + D * D + D;
    CU_ASSERT_EQUAL(m.net->params_effective, params_closed(&deit, 0) + depth * (far_block - attn_block));
    CU_ASSERT_EQUAL(m.net->params_effective, params_closed(&s, 1));
    CU_ASSERT_EQUAL(m.net->params_total, params_closed(&s, 0));
    /* The difference is exactly the masked zeros: 18 D^2 (N-1)/N per block. */
    CU_ASSERT(m.net->params_total > m.net->params_effective);
    CU_ASSERT_EQUAL(m.net->params_total - m.net->params_effective, masked_zeros(m.nf, 2));
    CU_ASSERT_EQUAL(m.net->params_total - m.net->params_effective, depth * 18 * D * D * (N - 1) / N);
    check_far_units(m.net, 16, 0);
    check_layers(m.net, &s);
    const imc_layer *l = find_layer(m.net, "blocks.1.attn.lstm.h2.bwd");
    CU_ASSERT_EQUAL(l->in, 16 + 16);
    CU_ASSERT_EQUAL(l->out, 4 * 16);
    l = find_layer(m.net, "blocks.0.attn.head_proj.h1");
    CU_ASSERT_EQUAL(l->in, 2 * 16);
    CU_ASSERT_EQUAL(l->out, 16);
    free_model(&m);
}

static void test_far_pruned_masked_and_split(void)
{
    imc_modelgen_spec sm = tiny_spec(~0ULL, 0.25, 0), ss = tiny_spec(~0ULL, 0.25, 1);
    model mm = gen_model(&sm, "pruned-masked"), ms = gen_model(&ss, "pruned-split");
    int hd = 16, k = hd - (int)lround(0.25 * hd);
    CU_ASSERT_EQUAL(k, 12);
    CU_ASSERT_EQUAL(kept_units(&sm), k);
    check_shape(mm.net, &sm);
    check_shape(ms.net, &ss);
    check_far_units(mm.net, k, 0);
    check_far_units(ms.net, k, 1);
    /* Per block: pre/post 2D^2 + 2D, LSTM 4k hd + 4k k + 8k per head and direction, head_proj
     * hd (kf + kb) + D. */
    int64_t D = 48, N = 3, depth = 2;
    int64_t far_block = 2 * D * D + 2 * D + 2 * N * (4LL * k * hd + 4LL * k * k + 8 * k) +
                        N * (int64_t)hd * (k + k) + D;
    imc_modelgen_spec deit = tiny_spec(0, 0, 0);
    int64_t attn_block = 3 * D * D + 3 * D + D * D + D;
    int64_t want = params_closed(&deit, 0) + depth * (far_block - attn_block);
    CU_ASSERT_EQUAL(mm.net->params_effective, want);
    CU_ASSERT_EQUAL(ms.net->params_effective, want);
    CU_ASSERT_EQUAL(ms.net->params_total, want);
    CU_ASSERT_EQUAL(mm.net->params_total, params_closed(&sm, 0));
    CU_ASSERT_EQUAL(mm.net->params_total - mm.net->params_effective, masked_zeros(mm.nf, 2));
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 2 * 3; i++)
            CU_ASSERT_EQUAL(mm.net->blocks[b].far[i].hidden, ms.net->blocks[b].far[i].hidden);
    check_layers(mm.net, &sm);
    check_layers(ms.net, &ss);
    const imc_layer *l = find_layer(ms.net, "blocks.0.attn.lstm.h0.fwd");
    CU_ASSERT_EQUAL(l->in, hd + k);
    CU_ASSERT_EQUAL(l->out, 4 * k);
    l = find_layer(mm.net, "blocks.1.attn.head_proj.h2");
    CU_ASSERT_EQUAL(l->in, 2 * k);
    CU_ASSERT_EQUAL(l->out, hd);
    free_model(&mm);
    free_model(&ms);
}

static void test_mixed_model(void)
{
    imc_modelgen_spec s = tiny_spec(1ULL << 0, 0, 0);
    model m = gen_model(&s, "mixed");
    CU_ASSERT_EQUAL(m.net->blocks[0].kind, IMC_BLOCK_FAR);
    CU_ASSERT_EQUAL(m.net->blocks[1].kind, IMC_BLOCK_ATTENTION);
    CU_ASSERT_PTR_NULL(m.net->blocks[1].far);
    CU_ASSERT_EQUAL(imc_network_far_blocks(m.net), 1);
    check_shape(m.net, &s);
    check_layers(m.net, &s);
    CU_ASSERT_EQUAL(find_layer(m.net, "blocks.0.attn.pre_proj")->kind, IMC_LAYER_FAR_PRE);
    CU_ASSERT_EQUAL(find_layer(m.net, "blocks.1.attn.qkv")->kind, IMC_LAYER_QKV);
    CU_ASSERT_PTR_NULL(imc_netfile_find(m.nf, "blocks.0.attn.qkv.weight"));
    CU_ASSERT_PTR_NULL(imc_netfile_find(m.nf, "blocks.1.attn.pre_proj.weight"));
    int64_t D = 48, N = 3;
    imc_modelgen_spec deit = tiny_spec(0, 0, 0);
    int64_t far_block = 2 * D * D + 16 * D * D / N + 2 * D * D / N + 19 * D;
    int64_t attn_block = 3 * D * D + 3 * D + D * D + D;
    CU_ASSERT_EQUAL(m.net->params_effective, params_closed(&deit, 0) + far_block - attn_block);
    CU_ASSERT_EQUAL(m.net->params_total - m.net->params_effective, 18 * D * D * (N - 1) / N);
    free_model(&m);
}

/* ---- gathered layer weights ---------------------------------------------------------------- */

typedef struct gathered {
    float *w, *bias;
} gathered;

static gathered gather(const imc_network *net, const imc_layer *l)
{
    gathered g = {malloc((size_t)l->in * l->out * sizeof(float)), malloc((size_t)l->out * sizeof(float))};
    CU_ASSERT_PTR_NOT_NULL_FATAL(g.w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g.bias);
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_network_layer_weights(net, l, g.w, g.bias, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return g;
}

static void free_gathered(gathered *g)
{
    free(g->w);
    free(g->bias);
}

/* Sum of squares and sum (each term exact in double; the totals are compared to 1e-9 relative)
 * and the non-zero count. */
typedef struct moments {
    double sq, sum;
    int64_t nonzero;
} moments;

static void add_moments(moments *m, const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        m->sq += (double)v[i] * v[i];
        m->sum += v[i];
        m->nonzero += v[i] != 0;
    }
}

static void add_tensor_moments(moments *m, const imc_netfile *nf, const char *name)
{
    int64_t n;
    float *v = tensor_f32(nf, name, &n);
    add_moments(m, v, n);
    free(v);
}

static int close_rel(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) + 1e-12;
}

static void test_weights_masked_far(void)
{
    imc_modelgen_spec s = tiny_spec(~0ULL, 0.25, 0);
    model m = gen_model(&s, "weights-masked");
    for (int b = 0; b < 2; b++) {
        /* LSTM: all heads and both directions together hold every weight of the tensors. */
        moments got = {0}, want = {0}, got_b = {0}, want_b = {0}, got_hp = {0}, want_hp = {0};
        static const char *const w_parts[] = {"weight_ih_l0", "weight_hh_l0",
                                              "weight_ih_l0_reverse", "weight_hh_l0_reverse"};
        static const char *const b_parts[] = {"bias_ih_l0", "bias_hh_l0", "bias_ih_l0_reverse",
                                              "bias_hh_l0_reverse"};
        char name[128];
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%s", b, w_parts[i]);
            add_tensor_moments(&want, m.nf, name);
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%s", b, b_parts[i]);
            add_tensor_moments(&want_b, m.nf, name);
        }
        snprintf(name, sizeof name, "blocks.%d.attn.head_proj.weight", b);
        add_tensor_moments(&want_hp, m.nf, name);
        int lstm_layers = 0, hp_layers = 0;
        for (size_t i = 0; i < m.net->n_layers; i++) {
            const imc_layer *l = &m.net->layers[i];
            if (l->block != b || (l->kind != IMC_LAYER_FAR_LSTM && l->kind != IMC_LAYER_FAR_HEAD_PROJ))
                continue;
            gathered g = gather(m.net, l);
            if (l->kind == IMC_LAYER_FAR_LSTM) {
                add_moments(&got, g.w, (int64_t)l->in * l->out);
                add_moments(&got_b, g.bias, l->out);
                lstm_layers++;
            } else {
                add_moments(&got_hp, g.w, (int64_t)l->in * l->out);
                hp_layers++;
            }
            free_gathered(&g);
        }
        CU_ASSERT_EQUAL(lstm_layers, 6);
        CU_ASSERT_EQUAL(hp_layers, 3);
        CU_ASSERT(got.sq > 0);
        CU_ASSERT(close_rel(got.sq, want.sq));
        CU_ASSERT_EQUAL(got.nonzero, want.nonzero);
        /* Gathered biases are b_ih + b_hh of the kept units (rounded to float once each, hence
         * the tolerance); pruned units' biases are zero. One lost or doubled bias (|b| ~ 0.1)
         * is far outside it. */
        CU_ASSERT(fabs(got_b.sum - want_b.sum) < 1e-4);
        CU_ASSERT_EQUAL(got_b.nonzero, 2 * 3 * 4 * 12);
        CU_ASSERT(close_rel(got_hp.sq, want_hp.sq));
        CU_ASSERT_EQUAL(got_hp.nonzero, want_hp.nonzero);
    }
    /* One LSTM layer element by element: W[i][g k + j] is W_ih / W_hh at the kept unit's row. */
    const imc_layer *l = find_layer(m.net, "blocks.1.attn.lstm.h2.bwd");
    const imc_far_dir *fd = &m.net->blocks[1].far[2 * 2 + 1];
    int D = 48, hd = 16, k = fd->hidden, h = 2;
    int64_t n;
    float *ih = tensor_f32(m.nf, "blocks.1.attn.lstm.weight_ih_l0_reverse", &n);
    float *hh = tensor_f32(m.nf, "blocks.1.attn.lstm.weight_hh_l0_reverse", &n);
    float *bi = tensor_f32(m.nf, "blocks.1.attn.lstm.bias_ih_l0_reverse", &n);
    float *bh = tensor_f32(m.nf, "blocks.1.attn.lstm.bias_hh_l0_reverse", &n);
    gathered g = gather(m.net, l);
    int mismatches = 0;
    for (int gate = 0; gate < 4; gate++)
        for (int j = 0; j < k; j++) {
            size_t row = (size_t)(gate * D + h * hd + fd->units[j]);
            int o = gate * k + j;
            for (int i = 0; i < hd; i++)
                mismatches += g.w[(size_t)i * l->out + o] != ih[row * D + (size_t)(h * hd + i)];
            for (int v = 0; v < k; v++)
                mismatches += g.w[(size_t)(hd + v) * l->out + o] !=
                              hh[row * D + (size_t)(h * hd + fd->units[v])];
            mismatches += g.bias[o] != bi[row] + bh[row];
        }
    CU_ASSERT_EQUAL(mismatches, 0);
    free_gathered(&g);
    free(ih), free(hh), free(bi), free(bh);
    free_model(&m);
}

static void test_weights_linear(void)
{
    imc_modelgen_spec s = tiny_spec(1, 0, 0);
    model m = gen_model(&s, "weights-linear");
    static const struct {
        const char *layer, *weight, *bias;
    } cases[] = {
        {"blocks.0.mlp.fc1", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias"},
        {"blocks.1.attn.qkv", "blocks.1.attn.qkv.weight", "blocks.1.attn.qkv.bias"},
        {"blocks.0.attn.post_proj", "blocks.0.attn.post_proj.weight", "blocks.0.attn.post_proj.bias"},
        {"patch_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"}, /* [D, C, p, p] */
        {"head", "head.weight", "head.bias"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const imc_layer *l = find_layer(m.net, cases[c].layer);
        int64_t nw, nb;
        float *w = tensor_f32(m.nf, cases[c].weight, &nw), *b = tensor_f32(m.nf, cases[c].bias, &nb);
        CU_ASSERT_EQUAL(nw, (int64_t)l->in * l->out);
        CU_ASSERT_EQUAL(nb, l->out);
        gathered g = gather(m.net, l);
        int mismatches = 0;
        for (int i = 0; i < l->in; i++)
            for (int o = 0; o < l->out; o++)
                mismatches += g.w[(size_t)i * l->out + o] != w[(size_t)o * l->in + i];
        for (int o = 0; o < l->out; o++)
            mismatches += g.bias[o] != b[o];
        if (mismatches)
            fprintf(stderr, "\n  %s: %d mismatches\n", cases[c].layer, mismatches);
        CU_ASSERT_EQUAL(mismatches, 0);
        free_gathered(&g);
        free(w), free(b);
    }
    free_model(&m);
}

static void test_weights_split_far(void)
{
    imc_modelgen_spec s = tiny_spec(~0ULL, 0.25, 1);
    model m = gen_model(&s, "weights-split");
    int hd = 16, checked = 0;
    for (size_t li = 0; li < m.net->n_layers; li++) {
        const imc_layer *l = &m.net->layers[li];
        if (l->kind != IMC_LAYER_FAR_LSTM && l->kind != IMC_LAYER_FAR_HEAD_PROJ)
            continue;
        char name[128];
        gathered g = gather(m.net, l);
        int mismatches = 0;
        int64_t n;
        if (l->kind == IMC_LAYER_FAR_LSTM) {
            const char *sfx = l->dir ? "_reverse" : "";
            int k = l->out / 4;
            float *t[4];
            static const char *const parts[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
            for (int p = 0; p < 4; p++) {
                snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.%s_l0%s", l->block, l->head,
                         parts[p], sfx);
                t[p] = tensor_f32(m.nf, name, &n);
            }
            CU_ASSERT_EQUAL(k, 12);
            for (int o = 0; o < 4 * k; o++) {
                for (int i = 0; i < hd; i++)
                    mismatches += g.w[(size_t)i * l->out + o] != t[0][(size_t)o * hd + i];
                for (int v = 0; v < k; v++)
                    mismatches += g.w[(size_t)(hd + v) * l->out + o] != t[1][(size_t)o * k + v];
                mismatches += g.bias[o] != t[2][o] + t[3][o];
            }
            for (int p = 0; p < 4; p++)
                free(t[p]);
        } else {
            snprintf(name, sizeof name, "blocks.%d.attn.head_proj.%d.weight", l->block, l->head);
            float *w = tensor_f32(m.nf, name, &n);
            snprintf(name, sizeof name, "blocks.%d.attn.head_proj.%d.bias", l->block, l->head);
            float *b = tensor_f32(m.nf, name, &n);
            for (int i = 0; i < l->in; i++)
                for (int o = 0; o < l->out; o++)
                    mismatches += g.w[(size_t)i * l->out + o] != w[(size_t)o * l->in + i];
            for (int o = 0; o < l->out; o++)
                mismatches += g.bias[o] != b[o];
            free(w), free(b);
        }
        if (mismatches)
            fprintf(stderr, "\n  %s: %d mismatches\n", l->name, mismatches);
        CU_ASSERT_EQUAL(mismatches, 0);
        free_gathered(&g);
        checked++;
    }
    CU_ASSERT_EQUAL(checked, 2 * (6 + 3));
    free_model(&m);
}

/* ---- bad model files ---------------------------------------------------------------------- */

enum { BASE_DEIT, BASE_FAR_MASKED, BASE_FAR_SPLIT };

/* A tensor added by an edit (zeros). */
typedef struct new_tensor {
    const char *name;
    int ndim;
    int64_t shape[3];
} new_tensor;

/* One edit of a generated file: drop a tensor, replace one (new shape, zeros; or the same shape
 * with one element set), add up to three (zeros), set or drop a metadata key. */
typedef struct edit {
    const char *drop;
    const char *tensor;  /* replaced tensor */
    int ndim;            /* its new shape (0: unchanged, data copied) */
    int64_t shape[3];
    int64_t poke;        /* element set to 0.5 (-1: none) */
    const char *meta_key, *meta_value; /* value NULL: drop the key */
    new_tensor add[3];
    const struct poke *pokes; /* further elements set in copied tensors */
    size_t n_pokes;
} edit;

typedef struct poke {
    const char *tensor;
    int64_t index;
    float value;
} poke;

static void put_f32_le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* Copy NF to PATH with edit E applied. */
static void rewrite(const imc_netfile *nf, const char *path, const edit *e)
{
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    imc_err err;
    imc_err_clear(&err);
    unsigned char *replaced = NULL;
    unsigned char **poked = calloc(imc_netfile_count(nf) + 1, sizeof *poked);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poked);
    int rc = 0;
    for (size_t i = 0; i < imc_netfile_count(nf) && !rc; i++) {
        const imc_tensor *t = imc_netfile_at(nf, i);
        if (e->drop && strcmp(t->name, e->drop) == 0)
            continue;
        if (e->tensor && strcmp(t->name, e->tensor) == 0) {
            CU_ASSERT_EQUAL_FATAL(t->dtype, IMC_DT_F32);
            const int64_t *shape = e->ndim ? e->shape : t->shape;
            int ndim = e->ndim ? e->ndim : t->ndim;
            int64_t n = 1;
            for (int d = 0; d < ndim; d++)
                n *= shape[d];
            replaced = calloc((size_t)n * 4 + 1, 1);
            CU_ASSERT_PTR_NOT_NULL_FATAL(replaced);
            if (!e->ndim)
                memcpy(replaced, imc_netfile_data(nf, t), (size_t)n * 4);
            if (e->poke >= 0) {
                CU_ASSERT_FATAL(e->poke < n);
                put_f32_le(replaced + e->poke * 4, 0.5f);
            }
            rc = imc_netwriter_add(w, t->name, t->dtype, ndim, shape, replaced, &err);
        } else {
            const void *data = imc_netfile_data(nf, t);
            for (size_t k = 0; k < e->n_pokes; k++) {
                if (strcmp(e->pokes[k].tensor, t->name) != 0)
                    continue;
                size_t bytes = (size_t)(t->end - t->begin);
                CU_ASSERT_FATAL(t->dtype == IMC_DT_F32 && e->pokes[k].index * 4 < (int64_t)bytes);
                if (!poked[i]) {
                    CU_ASSERT_PTR_NOT_NULL_FATAL(poked[i] = malloc(bytes));
                    memcpy(poked[i], data, bytes);
                    data = poked[i];
                }
                put_f32_le(poked[i] + e->pokes[k].index * 4, e->pokes[k].value);
            }
            rc = imc_netwriter_add(w, t->name, t->dtype, t->ndim, t->shape, data, &err);
        }
    }
    unsigned char *zeros = calloc(4096, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zeros);
    for (int i = 0; i < 3 && e->add[i].name && !rc; i++) {
        int64_t n = 1;
        for (int d = 0; d < e->add[i].ndim; d++)
            n *= e->add[i].shape[d];
        CU_ASSERT_FATAL(n * 4 <= 4096);
        rc = imc_netwriter_add(w, e->add[i].name, IMC_DT_F32, e->add[i].ndim, e->add[i].shape,
                               zeros, &err);
    }
    int meta_done = 0;
    for (size_t i = 0; i < imc_netfile_meta_count(nf) && !rc; i++) {
        const char *key = imc_netfile_meta_key(nf, i);
        const char *value = imc_netfile_meta(nf, key);
        if (e->meta_key && strcmp(key, e->meta_key) == 0) {
            meta_done = 1;
            value = e->meta_value;
        }
        if (value)
            rc = imc_netwriter_meta(w, key, value, &err);
    }
    if (!rc && e->meta_key && !meta_done && e->meta_value)
        rc = imc_netwriter_meta(w, e->meta_key, e->meta_value, &err);
    if (!rc)
        rc = imc_netwriter_write(w, path, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    imc_netwriter_free(w);
    free(replaced);
    free(zeros);
    for (size_t i = 0; i < imc_netfile_count(nf); i++)
        free(poked[i]);
    free(poked);
}

typedef struct bad_model {
    const char *what;
    int base;
    edit e;
    const char *message; /* after "PATH: error: " */
} bad_model;

#define NO_POKE -1
static const bad_model bad_models[] = {
    {"missing tensor", BASE_DEIT, {.drop = "blocks.1.norm2.weight", .poke = NO_POKE},
     "missing tensor 'blocks.1.norm2.weight'"},
    {"missing attention and FAR tensors", BASE_DEIT, {.drop = "blocks.1.attn.qkv.weight", .poke = NO_POKE},
     "missing tensor 'blocks.1.attn.qkv.weight' (attention) or 'blocks.1.attn.pre_proj.weight' "
     "(FAR) of block 1"},
    {"wrong qkv shape", BASE_DEIT,
     {.tensor = "blocks.0.attn.qkv.weight", .ndim = 2, .shape = {145, 48}, .poke = NO_POKE},
     "tensor 'blocks.0.attn.qkv.weight': shape [145, 48], expected [144, 48]"},
    {"wrong fc2 shape", BASE_DEIT,
     {.tensor = "blocks.1.mlp.fc2.weight", .ndim = 2, .shape = {48, 95}, .poke = NO_POKE},
     "tensor 'blocks.1.mlp.fc2.weight': shape [48, 95], expected [48, 96]"},
    {"wrong number of dimensions", BASE_DEIT,
     {.tensor = "norm.weight", .ndim = 2, .shape = {1, 48}, .poke = NO_POKE},
     "tensor 'norm.weight': shape [1, 48], expected [48]"},
    /* Biases are shape-checked at load like weights: a short one would be read past its end
     * when the layer's weights are gathered. */
    {"qkv bias of the wrong length", BASE_DEIT,
     {.tensor = "blocks.0.attn.qkv.bias", .ndim = 1, .shape = {143}, .poke = NO_POKE},
     "tensor 'blocks.0.attn.qkv.bias': shape [143], expected [144]"},
    {"attn.proj bias of the wrong length", BASE_DEIT,
     {.tensor = "blocks.1.attn.proj.bias", .ndim = 1, .shape = {47}, .poke = NO_POKE},
     "tensor 'blocks.1.attn.proj.bias': shape [47], expected [48]"},
    {"post_proj bias of the wrong length", BASE_FAR_MASKED,
     {.tensor = "blocks.1.attn.post_proj.bias", .ndim = 1, .shape = {47}, .poke = NO_POKE},
     "tensor 'blocks.1.attn.post_proj.bias': shape [47], expected [48]"},
    {"no num_heads", BASE_DEIT, {.poke = NO_POKE, .meta_key = "num_heads"},
     "__metadata__ has no 'num_heads', and the shapes cannot say it"},
    {"num_heads not an integer", BASE_DEIT, {.poke = NO_POKE, .meta_key = "num_heads", .meta_value = "3x"},
     "__metadata__ 'num_heads': '3x' is not a positive integer"},
    {"layernorm_eps not a number", BASE_DEIT,
     {.poke = NO_POKE, .meta_key = "layernorm_eps", .meta_value = "1e-6x"},
     "__metadata__ 'layernorm_eps': '1e-6x' is not a number in (0, 1]"},
    {"layernorm_eps zero", BASE_DEIT, {.poke = NO_POKE, .meta_key = "layernorm_eps", .meta_value = "0"},
     "__metadata__ 'layernorm_eps': '0' is not a number in (0, 1]"},
    {"num_heads not dividing D", BASE_DEIT, {.poke = NO_POKE, .meta_key = "num_heads", .meta_value = "5"},
     "__metadata__ num_heads 5 does not divide the embedding dimension 48"},
    {"pos_embed not a square + 1", BASE_DEIT,
     {.tensor = "pos_embed", .ndim = 3, .shape = {1, 18, 48}, .poke = NO_POKE},
     "tensor 'pos_embed': 18 tokens is not a square grid of patches + CLS"},
    {"img_size contradicting pos_embed", BASE_DEIT,
     {.poke = NO_POKE, .meta_key = "img_size", .meta_value = "64"},
     "tensor 'pos_embed': 17 tokens means 32 px images with 8 px patches, but __metadata__ "
     "img_size is 64"},
    {"LSTM W_ih outside its head", BASE_FAR_MASKED,
     {.tensor = "blocks.0.attn.lstm.weight_ih_l0", .poke = 0 * 48 + 20},
     "tensor 'blocks.0.attn.lstm.weight_ih_l0': row 0 (gate i, head 0) has a non-zero weight in "
     "column 20, outside its head's columns 0..15 (FAR's per-head mask)"},
    {"LSTM W_hh reverse outside its head", BASE_FAR_MASKED,
     {.tensor = "blocks.1.attn.lstm.weight_hh_l0_reverse", .poke = 65 * 48 + 5},
     "tensor 'blocks.1.attn.lstm.weight_hh_l0_reverse': row 65 (gate f, head 1) has a non-zero "
     "weight in column 5, outside its head's columns 16..31 (FAR's per-head mask)"},
    {"head_proj reads another head's forward state", BASE_FAR_MASKED,
     {.tensor = "blocks.0.attn.head_proj.weight", .poke = 40 * 96 + 0},
     "tensor 'blocks.0.attn.head_proj.weight': row 40 (head 2) reads column 0 of another head "
     "(FAR's per-head mask)"},
    {"head_proj reads another head's backward state", BASE_FAR_MASKED,
     {.tensor = "blocks.1.attn.head_proj.weight", .poke = 0 * 96 + 68},
     "tensor 'blocks.1.attn.head_proj.weight': row 0 (head 0) reads column 68 of another head "
     "(FAR's per-head mask)"},
    {"masked LSTM missing", BASE_FAR_MASKED,
     {.drop = "blocks.1.attn.lstm.bias_hh_l0_reverse", .poke = NO_POKE},
     "missing tensor 'blocks.1.attn.lstm.bias_hh_l0_reverse'"},
    {"split LSTM W_hh not k x k", BASE_FAR_SPLIT,
     {.tensor = "blocks.0.attn.lstm.1.weight_hh_l0", .ndim = 2, .shape = {48, 11}, .poke = NO_POKE},
     "tensor 'blocks.0.attn.lstm.1.weight_hh_l0': shape [48, 11], expected [48, 12]"},
    {"split LSTM W_ih not 4 gates", BASE_FAR_SPLIT,
     {.tensor = "blocks.1.attn.lstm.2.weight_ih_l0_reverse", .ndim = 2, .shape = {50, 16},
      .poke = NO_POKE},
     "tensor 'blocks.1.attn.lstm.2.weight_ih_l0_reverse': 50 rows is not 4 gates x at most 16 "
     "hidden units"},
    /* A tensor no layer reads (LayerScale, as CaiT and DeiT III have it) would be ignored by
     * both passes: refused, named. */
    {"a LayerScale imcsim does not model", BASE_DEIT,
     {.poke = NO_POKE, .add = {{"blocks.1.ls1.gamma", 1, {48}}}},
     "tensor 'blocks.1.ls1.gamma' is not part of a DeiT or FAR network as imcsim models it "
     "(refused rather than ignored; see README, 'Model files')"},
    {"split head_proj of the wrong width", BASE_FAR_SPLIT,
     {.tensor = "blocks.0.attn.head_proj.2.weight", .ndim = 2, .shape = {16, 23}, .poke = NO_POKE},
     "tensor 'blocks.0.attn.head_proj.2.weight': shape [16, 23], expected [16, 24]"},
};

static void test_bad_model_files(void)
{
    const imc_modelgen_spec *specs[3];
    imc_modelgen_spec deit = tiny_spec(0, 0, 0), masked = tiny_spec(~0ULL, 0.25, 0),
                      split = tiny_spec(~0ULL, 0.25, 1);
    specs[BASE_DEIT] = &deit, specs[BASE_FAR_MASKED] = &masked, specs[BASE_FAR_SPLIT] = &split;
    imc_netfile *base[3];
    base[BASE_DEIT] = gen_file(&deit, "bad-base-deit");
    base[BASE_FAR_MASKED] = gen_file(&masked, "bad-base-masked");
    base[BASE_FAR_SPLIT] = gen_file(&split, "bad-base-split");
    for (size_t i = 0; i < sizeof bad_models / sizeof bad_models[0]; i++) {
        const bad_model *bm = &bad_models[i];
        char path[4200], tag[32];
        snprintf(tag, sizeof tag, "bad-%zu", i);
        test_model_path(path, sizeof path, tag);
        rewrite(base[bm->base], path, &bm->e);
        imc_netfile *nf = open_and_unlink(path);
        imc_network *net = NULL;
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_network_load(&net, nf, &err);
        char line[1024], want[8192];
        imc_err_format(&err, line, sizeof line);
        snprintf(want, sizeof want, "%s: error: %s", path, bm->message);
        if (rc != IMC_EINPUT || strcmp(line, want) != 0)
            fprintf(stderr, "\ncase '%s':\n  got:  %s\n  want: %s\n", bm->what, line, want);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_PTR_NULL(net);
        CU_ASSERT_STRING_EQUAL(line, want);
        imc_network_free(net);
        imc_netfile_close(nf);
    }
    /* The unedited bases load: each failure above is the edit's. */
    for (int b = 0; b < 3; b++) {
        imc_network *net = NULL;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_network_load(&net, base[b], &err), 0);
        CU_ASSERT_EQUAL(net ? net->params_effective : -1, params_closed(specs[b], 1));
        imc_network_free(net);
        imc_netfile_close(base[b]);
    }
}

/* A masked FAR file whose LSTM and head_proj span many of the scan's reads (network.c reads
 * 64 KB of rows at a time; the tiny model's fit in one), in two blocks: the second is scanned
 * ahead on another thread (start_prescan). The units found and a mask error in a late row are
 * the same as read at once, in either block; with errors in both, the first block's is the one
 * reported, as a load in block order would. */
static void test_masked_scan_across_reads(void)
{
    imc_modelgen_spec sm = tiny_spec(~0ULL, 0.25, 0), ss = tiny_spec(~0ULL, 0.25, 1);
    sm.embed_dim = ss.embed_dim = 192; /* W_hh 768 x 192 floats: 9 reads; head_proj 5 */
    model mm = gen_model(&sm, "wide-masked"), ms = gen_model(&ss, "wide-split");
    check_far_units(mm.net, kept_units(&sm), 0);
    CU_ASSERT_EQUAL(mm.net->params_effective, params_closed(&sm, 1));
    CU_ASSERT_EQUAL(mm.net->params_effective, ms.net->params_effective);
    static const char *const w_hh = "tensor 'blocks.%d.attn.lstm.weight_hh_l0_reverse': row 700 "
                                    "(gate o, head 1) has a non-zero weight in column 5, outside "
                                    "its head's columns 64..127 (FAR's per-head mask)";
    static const char *const h_p = "tensor 'blocks.%d.attn.head_proj.weight': row 150 (head 2) "
                                   "reads column 0 of another head (FAR's per-head mask)";
    static const struct {
        const char *tensor, *other; /* OTHER: a second bad tensor, or NULL */
        int64_t poke;
        int block; /* the block the message names */
    } late[] = {
        {"blocks.0.attn.lstm.weight_hh_l0_reverse", NULL, 700 * 192 + 5, 0},
        {"blocks.1.attn.lstm.weight_hh_l0_reverse", NULL, 700 * 192 + 5, 1},
        {"blocks.0.attn.head_proj.weight", NULL, 150 * 384 + 0, 0},
        {"blocks.1.attn.head_proj.weight", NULL, 150 * 384 + 0, 1},
        {"blocks.0.attn.head_proj.weight", "blocks.1.attn.lstm.weight_hh_l0_reverse",
         150 * 384 + 0, 0},
    };
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        char path[4200], line[1024], msg[1024], want[8192];
        test_model_path(path, sizeof path, "wide-bad");
        poke other = {late[i].other, 700 * 192 + 5, 0.5f};
        rewrite(mm.nf, path, &(edit){.tensor = late[i].tensor, .poke = late[i].poke,
                                     .pokes = &other, .n_pokes = late[i].other != NULL});
        imc_netfile *nf = open_and_unlink(path);
        imc_network *net = NULL;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_network_load(&net, nf, &err), IMC_EINPUT);
        imc_err_format(&err, line, sizeof line);
        snprintf(msg, sizeof msg, strstr(late[i].tensor, "head_proj") ? h_p : w_hh, late[i].block);
        snprintf(want, sizeof want, "%s: error: %s", path, msg);
        CU_ASSERT_STRING_EQUAL(line, want);
        imc_network_free(net);
        imc_netfile_close(nf);
    }
    free_model(&mm);
    free_model(&ms);
}

/* Load BASE edited by E (must succeed). */
static model load_edited(const imc_netfile *base, const edit *e, const char *tag)
{
    char path[4200];
    test_model_path(path, sizeof path, tag);
    rewrite(base, path, e);
    model m = {open_and_unlink(path), NULL};
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_network_load(&m.net, m.nf, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return m;
}

/* Files that differ from what modelgen writes but are valid. */
static void test_other_valid_files(void)
{
    imc_modelgen_spec deit = tiny_spec(0, 0, 0), split = tiny_spec(~0ULL, 0.25, 1);
    imc_netfile *base_deit = gen_file(&deit, "valid-base-deit");
    imc_netfile *base_split = gen_file(&split, "valid-base-split");

    /* A split-form FAR network says its heads by tensor names. */
    edit no_heads = {.poke = NO_POKE, .meta_key = "num_heads"};
    model m = load_edited(base_split, &no_heads, "valid-split-no-heads");
    CU_ASSERT_PTR_NULL(imc_netfile_meta(m.nf, "num_heads"));
    CU_ASSERT_EQUAL(m.net->num_heads, 3);
    CU_ASSERT_EQUAL(m.net->head_dim, 16);
    check_layers(m.net, &split);
    free_model(&m);

    /* DeiT distilled: a distillation token (18 tokens) and a second head. */
    edit distilled = {.tensor = "pos_embed", .ndim = 3, .shape = {1, 18, 48}, .poke = NO_POKE,
                      .add = {{"dist_token", 3, {1, 1, 48}},
                              {"head_dist.weight", 2, {10, 48}},
                              {"head_dist.bias", 1, {10}}}};
    m = load_edited(base_deit, &distilled, "valid-distilled");
    CU_ASSERT_EQUAL(m.net->dist_token, 1);
    CU_ASSERT_EQUAL(m.net->tokens, 18);
    CU_ASSERT_EQUAL(m.net->patches, 16);
    CU_ASSERT_EQUAL(m.net->img_size, 32);
    CU_ASSERT_EQUAL(m.net->params_total, params_closed(&deit, 0) + 48 + 48 + 10 * 48 + 10);
    CU_ASSERT_EQUAL_FATAL(m.net->n_layers, 11);
    const imc_layer *l = &m.net->layers[10];
    CU_ASSERT_STRING_EQUAL(l->name, "head_dist");
    CU_ASSERT_EQUAL(l->kind, IMC_LAYER_HEAD);
    CU_ASSERT_EQUAL(l->in, 48);
    CU_ASSERT_EQUAL(l->out, 10);
    CU_ASSERT_EQUAL(l->vectors, 1);
    CU_ASSERT_EQUAL(find_layer(m.net, "blocks.0.attn.qkv")->vectors, 18);
    free_model(&m);

    /* A Linear without a bias (timm qkv_bias=False). Loading and gathering must agree: either
     * the file is rejected at load, naming the tensor, or it loads with has_bias 0 and the
     * gathered bias is zeros (network.h: "zeros if it has none"). */
    edit no_bias = {.drop = "blocks.0.attn.qkv.bias", .poke = NO_POKE};
    char path[4200];
    test_model_path(path, sizeof path, "valid-no-qkv-bias");
    rewrite(base_deit, path, &no_bias);
    m.nf = open_and_unlink(path);
    m.net = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_network_load(&m.net, m.nf, &err)) {
        char line[1024], want[8192];
        imc_err_format(&err, line, sizeof line);
        snprintf(want, sizeof want, "%s: error: missing tensor 'blocks.0.attn.qkv.bias'", path);
        CU_ASSERT_STRING_EQUAL(line, want);
    } else {
        CU_ASSERT_EQUAL(m.net->params_total, params_closed(&deit, 0) - 3 * 48);
        l = find_layer(m.net, "blocks.0.attn.qkv");
        CU_ASSERT_EQUAL(l->has_bias, 0);
        CU_ASSERT_EQUAL(find_layer(m.net, "blocks.1.attn.qkv")->has_bias, 1);
        float *w = malloc((size_t)l->in * l->out * sizeof *w), bias[144];
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        for (int o = 0; o < 144; o++)
            bias[o] = 1;
        int rc = imc_network_layer_weights(m.net, l, w, bias, &err);
        if (rc)
            print_err(&err);
        CU_ASSERT_EQUAL(rc, 0);
        int nonzero = 0;
        for (int o = 0; o < 144; o++)
            nonzero += bias[o] != 0;
        CU_ASSERT_EQUAL(nonzero, 0);
        free(w);
    }
    free_model(&m);

    imc_netfile_close(base_deit);
    imc_netfile_close(base_split);
}

/* Which masked-form units are left out (network.c, unit_removable): a unit whose weight rows
 * are zero is removed only if its g-gate bias (b_ih + b_hh) is zero too, since then its cell
 * state and output stay 0; a unit that nothing reads (zero W_hh column in the other units' rows
 * and zero head_proj column) is removed whatever its weights. */
static void test_masked_unit_removal(void)
{
    int D = 48, hd = 16;
    imc_modelgen_spec pruned = tiny_spec(~0ULL, 0.25, 0), full = tiny_spec(~0ULL, 0, 0);
    model base = gen_model(&pruned, "units-base");
    /* A pruned unit of block 0, head 1, forward. */
    const imc_far_dir *fd = &base.net->blocks[0].far[1 * 2 + 0];
    CU_ASSERT_EQUAL_FATAL(fd->hidden, 12);
    int u = 0;
    for (int j = 0; j < fd->hidden && fd->units[j] == u; j++)
        u++;
    CU_ASSERT_FATAL(u < hd);
    int64_t g_row = 2 * D + 1 * hd + u, i_row = 0 * D + 1 * hd + u;
    static const char ih[] = "blocks.0.attn.lstm.bias_ih_l0", hh[] = "blocks.0.attn.lstm.bias_hh_l0",
                      hp[] = "blocks.0.attn.head_proj.weight";
    /* head_proj row 1 hd (head 1) reading the unit's forward state. */
    int64_t hp_read = (int64_t)(1 * hd) * 2 * D + 1 * hd + u;
    const struct {
        const char *what;
        poke pokes[3];
        size_t n;
        int hidden;
    } cases[] = {
        {"read, live g-gate bias: kept", {{hp, hp_read, 0.5f}, {ih, g_row, 0.5f}}, 2, 13},
        {"read, live g-gate bias in b_hh: kept", {{hp, hp_read, 0.5f}, {hh, g_row, -0.25f}}, 2, 13},
        {"read, g-gate biases cancelling: removed",
         {{hp, hp_read, 0.5f}, {ih, g_row, 0.5f}, {hh, g_row, -0.5f}}, 3, 12},
        {"read, only the i-gate bias live: removed", {{hp, hp_read, 0.5f}, {ih, i_row, 0.5f}}, 2, 12},
        {"live g-gate bias, read by nobody: removed", {{ih, g_row, 0.5f}}, 1, 12},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        edit e = {.poke = NO_POKE, .pokes = cases[c].pokes, .n_pokes = cases[c].n};
        char tag[32];
        snprintf(tag, sizeof tag, "units-%zu", c);
        model m = load_edited(base.nf, &e, tag);
        const imc_far_dir *got = &m.net->blocks[0].far[1 * 2 + 0];
        int has_u = 0;
        for (int j = 0; j < got->hidden; j++)
            has_u |= got->units[j] == u;
        if (got->hidden != cases[c].hidden)
            fprintf(stderr, "\n  %s: %d units, want %d\n", cases[c].what, got->hidden, cases[c].hidden);
        CU_ASSERT_EQUAL(got->hidden, cases[c].hidden);
        CU_ASSERT_EQUAL(has_u, cases[c].hidden == 13);
        /* Kept: 4k hd + 4k k + 8k grows from k = 12 to 13, and head_proj by hd. */
        int64_t grow = cases[c].hidden == 13 ? (4 * 13 * 16 + 4 * 13 * 13 + 8 * 13) -
                                                   (4 * 12 * 16 + 4 * 12 * 12 + 8 * 12) + hd
                                             : 0;
        CU_ASSERT_EQUAL(m.net->params_effective, base.net->params_effective + grow);
        const imc_layer *l = find_layer(m.net, "blocks.0.attn.lstm.h1.fwd");
        CU_ASSERT_EQUAL(l->in, hd + cases[c].hidden);
        CU_ASSERT_EQUAL(l->out, 4 * cases[c].hidden);
        free_model(&m);
    }
    free_model(&base);

    /* Unpruned: unit 3 of block 0, head 0, backward, made unread. */
    imc_netfile *nf = gen_file(&full, "units-full");
    poke zeros[4 * 15 + 16 + 1];
    size_t n = 0;
    for (int g = 0; g < 4; g++)
        for (int v = 0; v < hd; v++)
            if (v != 3)
                zeros[n++] = (poke){"blocks.0.attn.lstm.weight_hh_l0_reverse",
                                    (int64_t)(g * D + v) * D + 3, 0};
    size_t n_whh = n;
    for (int o = 0; o < hd; o++)
        zeros[n++] = (poke){"blocks.0.attn.head_proj.weight", (int64_t)o * 2 * D + D + 3, 0};
    const struct {
        const char *what;
        size_t first, count;
        int hidden;
    } unread[] = {
        {"W_hh column and head_proj column zero: removed", 0, n, 15},
        {"only the head_proj column zero: kept", n_whh, n - n_whh, 16},
        {"only the W_hh column zero: kept", 0, n_whh, 16},
    };
    for (size_t c = 0; c < sizeof unread / sizeof unread[0]; c++) {
        edit e = {.poke = NO_POKE, .pokes = zeros + unread[c].first, .n_pokes = unread[c].count};
        char tag[32];
        snprintf(tag, sizeof tag, "unread-%zu", c);
        model m = load_edited(nf, &e, tag);
        const imc_far_dir *got = &m.net->blocks[0].far[0 * 2 + 1];
        int has_3 = 0;
        for (int j = 0; j < got->hidden; j++)
            has_3 |= got->units[j] == 3;
        if (got->hidden != unread[c].hidden)
            fprintf(stderr, "\n  %s: %d units, want %d\n", unread[c].what, got->hidden,
                    unread[c].hidden);
        CU_ASSERT_EQUAL(got->hidden, unread[c].hidden);
        CU_ASSERT_EQUAL(has_3, unread[c].hidden == 16);
        CU_ASSERT_EQUAL(m.net->blocks[0].far[0 * 2 + 0].hidden, 16);
        free_model(&m);
    }
    imc_netfile_close(nf);
}

static CU_TestInfo tests[] = {
    {"closed forms match the published counts", test_closed_form_matches_reference},
    {"DeiT gen -> load round trip", test_deit_round_trip},
    {"FAR masked, unpruned", test_far_masked_unpruned},
    {"FAR pruned, masked and split forms", test_far_pruned_masked_and_split},
    {"mixed attention / FAR model", test_mixed_model},
    {"layer weights: masked FAR gathers every weight once", test_weights_masked_far},
    {"layer weights: Linear layers transposed", test_weights_linear},
    {"layer weights: split FAR equals the dense tensors", test_weights_split_far},
    {"bad model files", test_bad_model_files},
    {"other files: split without num_heads, distilled, Linear without a bias", test_other_valid_files},
    {"masked FAR: which units are left out", test_masked_unit_removal},
    {"masked FAR: the scan across many reads", test_masked_scan_across_reads},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "network"
#include "tests/unit/cunit_main.h"
