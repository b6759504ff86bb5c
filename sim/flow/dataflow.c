/* dataflow.c -- the op graph of one inference of a DeiT / FAR network (see dataflow.h); an
 * imported network's comes from graphflow.c. The op builder both use is here (builder.h).
 *
 * Per block, pre-norm as in timm: x = x + mixer(norm1(x)); x = x + mlp(norm2(x)). Attention:
 * every token's QKV MVM stores each head's Q, K and V; a barrier per head waits for all of
 * them; then per head and tile of `query_tile` queries Q K^T (a MATMUL reading the tile's Q and
 * all K), softmax, S V (reading all V): K and V are read once per query tile; the projection of
 * a token waits for all heads of its tile. FAR (Ren et al., arXiv 2505.21535; docs/SOURCES.md):
 * pre_proj per token, its output stored per head (the backward direction needs the whole
 * sequence); per head and direction a chain of LSTM steps, each an MVM of the fused
 * [W_ih | W_hh] on [x_t | h_(t-1)] followed by the cell update (3 sigmoid, 2 tanh, 3 mul, 1 add
 * per unit), the backward chain starting at the last token; head_proj of token t waits for both
 * directions' h_t; post_proj waits for all heads. The classifier reads the CLS token after the final norm.
 * Ops are emitted phase by phase, so the array is a topological order; the engine runs each op
 * as soon as its own inputs exist, which pipelines tokens across layers. */
#include "sim/flow/dataflow.h"

#include "sim/flow/builder.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"

static const char *const kind_names[IMC_OP_KIND_COUNT] = {
    "mvm", "vector", "matmul", "store", "barrier", "input", "output",
};

static const char *const class_names[IMC_CLS_COUNT] = {
    "mvm",     "embed",   "layernorm", "gelu",     "residual", "qk",        "softmax",
    "sv",      "store",   "lstm_cell", "sync",    "io",       "transfer",  "reprogram",
    "leakage", "activation", "batchnorm", "pool", "matmul", "scale", "rnn_cell",
};

const char *imc_op_kind_name(imc_op_kind kind)
{
    return kind < IMC_OP_KIND_COUNT ? kind_names[kind] : "?";
}

const char *imc_op_class_name(imc_op_class cls)
{
    return cls < IMC_CLS_COUNT ? class_names[cls] : "?";
}

void imc_flow_free(imc_flow *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_names; i++)
        free(g->names[i]);
    free(g->names);
    free(g->layers);
    free(g->ops);
    free(g->deps);
    free(g->model);
    free(g);
}

/* ---- building --------------------------------------------------------------------------- */


uint32_t imc_flow_name(imc_flow_builder *b, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    imc_flow *g = b->g;
    for (size_t i = g->n_names; i-- > 0;) /* recent names first: callers cache per block */
        if (!strcmp(g->names[i], buf))
            return (uint32_t)i;
    if (g->n_names == b->cap_names) {
        size_t cap = b->cap_names ? 2 * b->cap_names : 64;
        char **grown = realloc(g->names, cap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return 0;
        }
        g->names = grown;
        b->cap_names = cap;
    }
    if (!(g->names[g->n_names] = strdup(buf))) {
        b->failed = 1;
        return 0;
    }
    return (uint32_t)g->n_names++;
}

/* Append an op with the given dependencies (op ids; UINT32_MAX entries are skipped). */
uint32_t imc_flow_emit(imc_flow_builder *b, imc_op op, const uint32_t *deps, size_t n)
{
    imc_flow *g = b->g;
    if (b->failed)
        return 0;
    if (g->n_ops == b->cap_ops) {
        size_t cap = b->cap_ops ? 2 * b->cap_ops : 4096;
        imc_op *grown = realloc(g->ops, cap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return 0;
        }
        g->ops = grown;
        b->cap_ops = cap;
    }
    if (g->n_deps + n > b->cap_deps) {
        size_t cap = b->cap_deps ? 2 * b->cap_deps : 8192;
        while (cap < g->n_deps + n)
            cap *= 2;
        uint32_t *grown = realloc(g->deps, cap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return 0;
        }
        g->deps = grown;
        b->cap_deps = cap;
    }
    op.first_dep = (uint32_t)g->n_deps;
    op.n_deps = 0;
    for (size_t i = 0; i < n; i++)
        if (deps[i] != UINT32_MAX) {
            g->deps[g->n_deps++] = deps[i];
            op.n_deps++;
        }
    g->ops[g->n_ops] = op;
    return (uint32_t)g->n_ops++;
}

imc_op imc_flow_mvm(imc_flow_builder *b, const imc_network *net, int layer, uint32_t token)
{
    const imc_layer *l = &net->layers[layer];
    return (imc_op){.kind = IMC_OP_MVM, .cls = IMC_CLS_MVM, .layer = layer, .site = layer,
                    .name = imc_flow_name(b, "%s", l->name), .token = token, .head = l->head,
                    .in_bits = (uint64_t)l->in * b->ab, .out_bits = (uint64_t)l->out * b->ab};
}

imc_op imc_flow_vec(int cls, int site, uint32_t name, uint32_t token, uint64_t in_bits,
                  uint64_t out_bits, int n_work, const imc_work *work)
{
    imc_op op = {.kind = IMC_OP_VECTOR, .cls = (uint8_t)cls, .layer = -1, .site = site,
                 .name = name, .token = token, .head = -1, .in_bits = in_bits, .out_bits = out_bits,
                 .n_work = (uint16_t)n_work};
    if (n_work) /* a receive has none (and may pass no array) */
        memcpy(op.work, work, (size_t)n_work * sizeof *work);
    return op;
}

/* The residual stream of token T around a token mixer: the mixer needs every token before it
 * gives any back, so the skip input waits a whole sequence; it goes to the store (a tile
 * buffer cannot hold a sequence at DeiT sizes) and the residual add reads it from there. */
static uint32_t skip_store(imc_flow_builder *b, uint32_t name, uint32_t x, uint32_t t, uint64_t bits)
{
    imc_op st = {.kind = IMC_OP_STORE, .cls = IMC_CLS_STORE, .layer = -1,
                 .site = b->g->ops[x].site, .name = name, .token = t, .head = -1,
                 .in_bits = bits, .out_bits = bits};
    return imc_flow_emit(b, st, &x, 1);
}

/* Per head: every token's Q, K and V of that head go to the attention store (STORE); a
 * barrier per head waits for all of them; then per tile of QT queries: Q K^T (a MATMUL reading
 * the tile's Q and all K from the store), softmax row by row, S V (reading all V). K and V are
 * thus read once per query tile, and the store of a head lives until its last S V. The
 * projection of a token waits for every head's S V of its query tile. */
static void attention(imc_flow_builder *b, const imc_network *net, int blk, int qt, uint32_t *x, uint32_t *tmp)
{
    int T = net->tokens, D = net->embed_dim, N = net->num_heads, hd = net->head_dim;
    int tiles = (T + qt - 1) / qt;
    uint64_t ab = b->ab;
    int qkv = imc_network_find_layer(net, IMC_LAYER_QKV, blk, -1, -1);
    int proj = imc_network_find_layer(net, IMC_LAYER_ATTN_PROJ, blk, -1, -1);
    uint32_t n_norm = imc_flow_name(b, "blocks.%d.norm1", blk), n_attn = imc_flow_name(b, "blocks.%d.attn", blk);
    uint32_t *qkv_op = tmp;
    uint32_t *stores = malloc((size_t)T * N * sizeof *stores); /* [h * T + t] */
    uint32_t *sv = malloc((size_t)tiles * N * sizeof *sv);     /* [tile * N + h] */
    if (!stores || !sv) {
        free(stores), free(sv);
        b->failed = 1;
        return;
    }
    uint32_t *skip = tmp + T;
    for (int t = 0; t < T; t++) {
        imc_work ln = {IMC_DIGITAL_LAYERNORM, (uint32_t)D};
        uint32_t n1 = imc_flow_emit(b, imc_flow_vec(IMC_CLS_LAYERNORM, qkv, n_norm, (uint32_t)t, D * ab, D * ab, 1, &ln), &x[t], 1);
        skip[t] = skip_store(b, n_attn, x[t], (uint32_t)t, D * ab);
        qkv_op[t] = imc_flow_emit(b, imc_flow_mvm(b, net, qkv, (uint32_t)t), &n1, 1);
        for (int h = 0; h < N; h++) {
            imc_op st = {.kind = IMC_OP_STORE, .cls = IMC_CLS_STORE, .layer = -1, .site = qkv,
                         .name = n_attn, .token = (uint32_t)t, .head = h,
                         .in_bits = 3 * (uint64_t)hd * ab, .out_bits = 3 * (uint64_t)hd * ab};
            stores[(size_t)h * T + t] = imc_flow_emit(b, st, &qkv_op[t], 1);
        }
    }
    for (int h = 0; h < N; h++) {
        imc_op bar = {.kind = IMC_OP_BARRIER, .cls = IMC_CLS_SYNC, .layer = -1, .site = -1,
                      .name = n_attn, .head = h};
        uint32_t kv_ready = imc_flow_emit(b, bar, stores + (size_t)h * T, (size_t)T);
        for (int j = 0; j < tiles; j++) {
            uint32_t q0 = (uint32_t)(j * qt), m = (uint32_t)(T - j * qt < qt ? T - j * qt : qt);
            imc_op qk = {.kind = IMC_OP_MATMUL, .cls = IMC_CLS_QK, .layer = -1, .site = -1,
                         .name = n_attn, .token = q0, .head = h, .in_bits = (uint64_t)m * hd * ab,
                         .out_bits = (uint64_t)m * T * ab, .m = m, .k = (uint32_t)hd, .n = (uint32_t)T};
            uint32_t s = imc_flow_emit(b, qk, &kv_ready, 1);
            imc_work sm_work[2] = {{IMC_DIGITAL_SOFTMAX, m * (uint32_t)T}, {IMC_DIGITAL_DIV, m}};
            imc_op smop = imc_flow_vec(IMC_CLS_SOFTMAX, -1, n_attn, q0, (uint64_t)m * T * ab,
                              (uint64_t)m * T * ab, 2, sm_work);
            smop.head = h;
            uint32_t sm = imc_flow_emit(b, smop, &s, 1);
            imc_op svop = {.kind = IMC_OP_MATMUL, .cls = IMC_CLS_SV, .layer = -1, .site = -1,
                           .name = n_attn, .token = q0, .head = h, .in_bits = (uint64_t)m * T * ab,
                           .out_bits = (uint64_t)m * hd * ab, .m = m, .k = (uint32_t)T, .n = (uint32_t)hd};
            uint32_t deps[2] = {sm, kv_ready}; /* V is read from the store */
            sv[(size_t)j * N + h] = imc_flow_emit(b, svop, deps, 2);
        }
    }
    for (int t = 0; t < T; t++) {
        uint32_t p = imc_flow_emit(b, imc_flow_mvm(b, net, proj, (uint32_t)t), &sv[(size_t)(t / qt) * N], (size_t)N);
        imc_work add = {IMC_DIGITAL_ADD, (uint32_t)D};
        uint32_t deps[2] = {p, skip[t]};
        x[t] = imc_flow_emit(b, imc_flow_vec(IMC_CLS_RESIDUAL, proj, n_attn, (uint32_t)t, 2 * D * ab, D * ab, 1, &add), deps, 2);
    }
    free(stores);
    free(sv);
}

/* pre_proj per token; its output goes to the sequence store, one STORE per head (the backward
 * direction reads the sequence from its end, so it must be held somewhere: the tiles' buffers
 * cannot hold a whole sequence at DeiT sizes); each LSTM step reads its head's slice from
 * there. The store of a head lives until both directions have read it. */
static void far_mixer(imc_flow_builder *b, const imc_network *net, int blk, uint32_t *x, uint32_t *tmp)
{
    int T = net->tokens, D = net->embed_dim, N = net->num_heads, hd = net->head_dim;
    uint64_t ab = b->ab;
    const imc_block *bk = &net->blocks[blk];
    int pre = imc_network_find_layer(net, IMC_LAYER_FAR_PRE, blk, -1, -1);
    int post = imc_network_find_layer(net, IMC_LAYER_FAR_POST, blk, -1, -1);
    uint32_t n_norm = imc_flow_name(b, "blocks.%d.norm1", blk), n_attn = imc_flow_name(b, "blocks.%d.attn", blk);
    uint32_t *seq = malloc((size_t)N * T * sizeof *seq);         /* [h * T + t]: stores */
    uint32_t *cell = malloc((size_t)2 * N * T * sizeof *cell); /* [(h*2+d)*T + t] */
    uint32_t *hp = malloc((size_t)N * T * sizeof *hp);          /* [t*N + h] */
    if (!seq || !cell || !hp) {
        free(seq), free(cell), free(hp);
        b->failed = 1;
        return;
    }
    uint32_t *skip = tmp;
    for (int t = 0; t < T; t++) {
        imc_work ln = {IMC_DIGITAL_LAYERNORM, (uint32_t)D};
        uint32_t n1 = imc_flow_emit(b, imc_flow_vec(IMC_CLS_LAYERNORM, pre, n_norm, (uint32_t)t, D * ab, D * ab, 1, &ln), &x[t], 1);
        skip[t] = skip_store(b, n_attn, x[t], (uint32_t)t, D * ab);
        uint32_t p = imc_flow_emit(b, imc_flow_mvm(b, net, pre, (uint32_t)t), &n1, 1);
        for (int h = 0; h < N; h++) {
            imc_op st = {.kind = IMC_OP_STORE, .cls = IMC_CLS_STORE, .layer = -1, .site = pre,
                         .name = n_attn, .token = (uint32_t)t, .head = h,
                         .in_bits = (uint64_t)hd * ab, .out_bits = (uint64_t)hd * ab};
            seq[(size_t)h * T + t] = imc_flow_emit(b, st, &p, 1);
        }
    }
    for (int h = 0; h < N; h++)
        for (int d = 0; d < 2; d++) {
            uint32_t *c = cell + (size_t)(h * 2 + d) * T;
            int k = bk->far[h * 2 + d].hidden;
            int layer = imc_network_find_layer(net, IMC_LAYER_FAR_LSTM, blk, h, d);
            if (k == 0 || layer < 0) {
                for (int t = 0; t < T; t++)
                    c[t] = UINT32_MAX;
                continue;
            }
            uint32_t name = imc_flow_name(b, "%s", net->layers[layer].name);
            uint32_t prev = UINT32_MAX;
            for (int i = 0; i < T; i++) {
                int t = d == IMC_DIR_FWD ? i : T - 1 - i;
                uint32_t deps[2] = {seq[(size_t)h * T + t], prev};
                uint32_t step = imc_flow_emit(b, imc_flow_mvm(b, net, layer, (uint32_t)t), deps, 2);
                imc_work w[4] = {{IMC_DIGITAL_SIGMOID, 3u * k}, {IMC_DIGITAL_TANH, 2u * k},
                                 {IMC_DIGITAL_MUL, 3u * k}, {IMC_DIGITAL_ADD, (uint32_t)k}};
                imc_op cl = imc_flow_vec(IMC_CLS_LSTM_CELL, layer, name, (uint32_t)t, 4 * (uint64_t)k * ab,
                                (uint64_t)k * ab, 4, w);
                cl.head = h;
                prev = c[t] = imc_flow_emit(b, cl, &step, 1);
            }
        }
    for (int h = 0; h < N; h++) {
        int layer = imc_network_find_layer(net, IMC_LAYER_FAR_HEAD_PROJ, blk, h, -1);
        for (int t = 0; t < T; t++) {
            if (layer < 0) { /* every unit of the head pruned: nothing to wait for */
                hp[(size_t)t * N + h] = UINT32_MAX;
                continue;
            }
            uint32_t deps[2] = {cell[(size_t)(h * 2) * T + t], cell[(size_t)(h * 2 + 1) * T + t]};
            hp[(size_t)t * N + h] = imc_flow_emit(b, imc_flow_mvm(b, net, layer, (uint32_t)t), deps, 2);
        }
    }
    for (int t = 0; t < T; t++) {
        uint32_t p = imc_flow_emit(b, imc_flow_mvm(b, net, post, (uint32_t)t), &hp[(size_t)t * N], (size_t)N);
        imc_work add = {IMC_DIGITAL_ADD, (uint32_t)D};
        uint32_t deps[2] = {p, skip[t]};
        x[t] = imc_flow_emit(b, imc_flow_vec(IMC_CLS_RESIDUAL, post, n_attn, (uint32_t)t, 2 * D * ab, D * ab, 1, &add), deps, 2);
    }
    free(seq);
    free(cell);
    free(hp);
}

/* The native bound: the mixer's weight layers as plain per-token MVMs (attention's qkv then
 * proj, FAR's pre_proj then post_proj), without what mixes tokens (the activation products and
 * softmax, or the LSTMs): every weight stays on the crossbars, nothing waits for a sequence. */
static void native_mixer(imc_flow_builder *b, const imc_network *net, int blk, uint32_t *x)
{
    int T = net->tokens, D = net->embed_dim;
    uint64_t ab = b->ab;
    int attn = net->blocks[blk].kind == IMC_BLOCK_ATTENTION;
    int in = imc_network_find_layer(net, attn ? IMC_LAYER_QKV : IMC_LAYER_FAR_PRE, blk, -1, -1);
    int out = imc_network_find_layer(net, attn ? IMC_LAYER_ATTN_PROJ : IMC_LAYER_FAR_POST, blk, -1, -1);
    uint32_t n_norm = imc_flow_name(b, "blocks.%d.norm1", blk), n_attn = imc_flow_name(b, "blocks.%d.attn", blk);
    for (int t = 0; t < T; t++) {
        imc_work ln = {IMC_DIGITAL_LAYERNORM, (uint32_t)D}, add = {IMC_DIGITAL_ADD, (uint32_t)D};
        uint32_t n1 = imc_flow_emit(b, imc_flow_vec(IMC_CLS_LAYERNORM, in, n_norm, (uint32_t)t, D * ab, D * ab, 1, &ln), &x[t], 1);
        uint32_t m1 = imc_flow_emit(b, imc_flow_mvm(b, net, in, (uint32_t)t), &n1, 1);
        uint32_t m2 = imc_flow_emit(b, imc_flow_mvm(b, net, out, (uint32_t)t), &m1, 1);
        uint32_t deps[2] = {m2, x[t]};
        x[t] = imc_flow_emit(b, imc_flow_vec(IMC_CLS_RESIDUAL, out, n_attn, (uint32_t)t, 2 * D * ab, D * ab, 1, &add), deps, 2);
    }
}

static void mlp(imc_flow_builder *b, const imc_network *net, int blk, uint32_t *x)
{
    int T = net->tokens, D = net->embed_dim, H = net->blocks[blk].mlp_hidden;
    uint64_t ab = b->ab;
    int fc1 = imc_network_find_layer(net, IMC_LAYER_FC1, blk, -1, -1);
    int fc2 = imc_network_find_layer(net, IMC_LAYER_FC2, blk, -1, -1);
    uint32_t n_norm = imc_flow_name(b, "blocks.%d.norm2", blk), n_mlp = imc_flow_name(b, "blocks.%d.mlp", blk);
    uint32_t n_fc1 = imc_flow_name(b, "%s", net->layers[fc1].name);
    for (int t = 0; t < T; t++) {
        imc_work ln = {IMC_DIGITAL_LAYERNORM, (uint32_t)D}, gelu = {IMC_DIGITAL_GELU, (uint32_t)H},
                 add = {IMC_DIGITAL_ADD, (uint32_t)D};
        uint32_t n2 = imc_flow_emit(b, imc_flow_vec(IMC_CLS_LAYERNORM, fc1, n_norm, (uint32_t)t, D * ab, D * ab, 1, &ln), &x[t], 1);
        uint32_t f1 = imc_flow_emit(b, imc_flow_mvm(b, net, fc1, (uint32_t)t), &n2, 1);
        uint32_t g = imc_flow_emit(b, imc_flow_vec(IMC_CLS_GELU, fc1, n_fc1, (uint32_t)t, H * ab, H * ab, 1, &gelu), &f1, 1);
        uint32_t f2 = imc_flow_emit(b, imc_flow_mvm(b, net, fc2, (uint32_t)t), &g, 1);
        uint32_t deps[2] = {f2, x[t]};
        x[t] = imc_flow_emit(b, imc_flow_vec(IMC_CLS_RESIDUAL, fc2, n_mlp, (uint32_t)t, 2 * D * ab, D * ab, 1, &add), deps, 2);
    }
}

/* DeiT / FAR: per token, block by block (see the file's comment). */
static void vit_flow(imc_flow_builder *bp, const imc_network *net, const imc_dataflow_opts *opts)
{
    imc_flow_builder b = *bp;
    int T = net->tokens, D = net->embed_dim;
    uint32_t *x = malloc((size_t)T * sizeof *x), *tmp = malloc((size_t)T * (net->num_heads + 1) * sizeof *tmp);
    if (!x || !tmp) {
        free(x), free(tmp);
        bp->failed = 1;
        return;
    }
    /* The image arrives; patches go through the patch embedding; CLS (and distillation)
     * tokens and the position embedding are added. */
    int patch = imc_network_find_layer(net, IMC_LAYER_PATCH_EMBED, -1, -1, -1);
    uint64_t image_bits = (uint64_t)net->in_chans * net->img_size * net->img_size * 8;
    imc_op in = {.kind = IMC_OP_INPUT, .cls = IMC_CLS_IO, .layer = -1, .site = -1,
                 .name = imc_flow_name(&b, "input"), .head = -1, .out_bits = image_bits};
    uint32_t input = imc_flow_emit(&b, in, NULL, 0);
    uint32_t n_embed = imc_flow_name(&b, "patch_embed");
    int extra = 1 + net->dist_token;
    for (int t = 0; t < T; t++) {
        imc_work add = {IMC_DIGITAL_ADD, (uint32_t)D};
        uint32_t src = input;
        if (t >= extra) {
            imc_op m = imc_flow_mvm(&b, net, patch, (uint32_t)t);
            m.in_bits = (uint64_t)net->layers[patch].in * 8; /* one patch of 8-bit pixels */
            src = imc_flow_emit(&b, m, &input, 1);
        }
        x[t] = imc_flow_emit(&b, imc_flow_vec(IMC_CLS_EMBED, patch, n_embed, (uint32_t)t, D * b.ab, D * b.ab, 1, &add), &src, 1);
    }
    for (int blk = 0; blk < net->depth && !b.failed; blk++) {
        if (opts->drop_mixer)
            native_mixer(&b, net, blk, x);
        else if (net->blocks[blk].kind == IMC_BLOCK_ATTENTION)
            attention(&b, net, blk, opts->query_tile > 0 ? opts->query_tile : 1, x, tmp);
        else
            far_mixer(&b, net, blk, x, tmp);
        mlp(&b, net, blk, x);
    }
    /* Final norm and classifier(s) on the CLS token (and the distillation token). */
    int head = imc_network_find_layer(net, IMC_LAYER_HEAD, -1, -1, -1);
    imc_work ln = {IMC_DIGITAL_LAYERNORM, (uint32_t)D};
    uint32_t heads[2] = {UINT32_MAX, UINT32_MAX};
    for (int i = 0; i < extra && !b.failed; i++) {
        int layer = head + i; /* head_dist follows head in the layer list */
        uint32_t nrm = imc_flow_emit(&b, imc_flow_vec(IMC_CLS_LAYERNORM, layer, imc_flow_name(&b, "norm"), (uint32_t)i, D * b.ab, D * b.ab, 1, &ln), &x[i], 1);
        heads[i] = imc_flow_emit(&b, imc_flow_mvm(&b, net, layer, (uint32_t)i), &nrm, 1);
    }
    uint64_t classes = (uint64_t)net->num_classes * b.ab;
    if (extra == 2) { /* DeiT distilled: the two heads' logits are averaged */
        imc_work avg[2] = {{IMC_DIGITAL_ADD, (uint32_t)net->num_classes}, {IMC_DIGITAL_MUL, (uint32_t)net->num_classes}};
        heads[0] = imc_flow_emit(&b, imc_flow_vec(IMC_CLS_RESIDUAL, head, imc_flow_name(&b, "head"), 0, 2 * classes, classes, 2, avg), heads, 2);
        heads[1] = UINT32_MAX;
    }
    imc_op o = {.kind = IMC_OP_OUTPUT, .cls = IMC_CLS_IO, .layer = -1, .site = -1,
                .name = imc_flow_name(&b, "output"), .head = -1, .in_bits = classes};
    imc_flow_emit(&b, o, heads, 2);
    free(x);
    free(tmp);
    *bp = b;
}

int imc_dataflow_build(imc_flow **out, const imc_network *net, const imc_dataflow_opts *opts,
                       imc_err *err)
{
    *out = NULL;
    imc_flow_builder b = {0};
    b.ab = (uint64_t)(opts->act_bits > 0 ? opts->act_bits : 8);
    imc_flow *g = b.g = calloc(1, sizeof *g);
    if (!g || !(g->model = strdup(net->name)) ||
        !(g->layers = malloc((net->n_layers ? net->n_layers : 1) * sizeof *g->layers))) {
        imc_flow_free(g);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    memcpy(g->layers, net->layers, net->n_layers * sizeof *g->layers);
    g->n_layers = net->n_layers;
    g->tokens = net->tokens;
    g->embed_dim = net->embed_dim;
    g->num_heads = net->num_heads;
    g->act_bits = (int)b.ab;
    if (imc_network_is_generic(net))
        imc_graphflow(&b, net, opts);
    else
        vit_flow(&b, net, opts);
    if (b.failed) {
        imc_flow_free(g);
        return imc_err_set(err, IMC_ENOMEM, "out of memory building the op graph");
    }
    *out = g;
    return 0;
}
