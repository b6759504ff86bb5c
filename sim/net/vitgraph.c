/* vitgraph.c -- a DeiT or FAR network (network.h) as a graph of generic ops (graph.h).
 *
 * The graph is what timm's VisionTransformer.forward does, op for op: the patch embedding as a
 * strided convolution, flattened and transposed into tokens; the class (and distillation)
 * token prepended and the position embedding added; per block a pre-norm token mixer and MLP
 * with residual adds; the final norm, the class token's row through the head (a distilled
 * model averages its two heads). The attention mixer is qkv, a reshape and permute into heads,
 * q k^T, the 1/sqrt(head_dim) scale, softmax, times v, heads joined, proj. The FAR mixer is
 * pre_proj, per head a slice of head_dim features through a forward and a reverse LSTM of that
 * head's kept units, their concatenation through head_proj, the heads joined, post_proj; a
 * direction whose units were all pruned is absent, and a head with none left outputs its
 * head_proj bias (expanded over the tokens).
 *
 * A weight layer's node has the name of its network layer ("blocks.3.attn.lstm.h2.bwd"), so the
 * graph's matrices (imc_graph_matrices) are the network's layers one for one; the nodes come in
 * the order the forward pass has always run them (a FAR head's LSTMs, then its head_proj), which
 * is not the layers' order (every head's LSTMs, then every head_proj) the mapper places by.
 *
 * The native bound (--native) is the same graph with each token mixer reduced to its first and
 * last weight layers, per token (imc_network_native_graph): the timing's graph, not the numerics'. */
#include "sim/net/network.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct build {
    imc_graph *g;
    imc_err *err;
    int rc;
    int native; /* token mixers reduced to their weight layers (imc_network_native_graph) */
} build;

/* Append a node named by FMT; returns its index, or -1 once anything failed. */
static int node(build *b, imc_node_op op, const int *in, int n_in, const int64_t *attr,
                int n_attr, double value, const char *t0, const char *t1, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));
static int node(build *b, imc_node_op op, const int *in, int n_in, const int64_t *attr,
                int n_attr, double value, const char *t0, const char *t1, const char *fmt, ...)
{
    if (b->rc)
        return -1;
    for (int i = 0; i < n_in; i++)
        if (in[i] < 0)
            return -1;
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const char *tensors[IMC_GRAPH_MAX_TENSORS] = {t0, t1};
    int id = imc_graph_add(b->g, name, op, in, n_in, attr, n_attr, value, tensors, b->err);
    if (id < 0)
        b->rc = id;
    return id;
}

#define IN(...) ((const int[]){__VA_ARGS__}), (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))
#define ATTR(...) ((const int64_t[]){__VA_ARGS__}), (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define NOATTR NULL, 0

/* A weight layer of the network as a linear node over X, named as the layer, with the tensor
 * names of module MODULE (its bias only when the layer has one). */
static int linear(build *b, const imc_layer *l, int x, const char *module)
{
    char w[140], bias[140];
    snprintf(w, sizeof w, "%s.weight", module);
    snprintf(bias, sizeof bias, "%s.bias", module);
    return node(b, IMC_NODE_LINEAR, IN(x), ATTR(l->in, l->out), 0, w, l->has_bias ? bias : NULL,
                "%s", l->name);
}

static const imc_layer *layer_of(const imc_network *net, imc_layer_kind kind, int block, int head,
                                 int dir)
{
    int i = imc_network_find_layer(net, kind, block, head, dir);
    return i >= 0 ? &net->layers[i] : NULL;
}

static int layernorm(build *b, int x, int64_t d, double eps, const char *module)
{
    char w[140], bias[140];
    snprintf(w, sizeof w, "%s.weight", module);
    snprintf(bias, sizeof bias, "%s.bias", module);
    return node(b, IMC_NODE_LAYERNORM, IN(x), ATTR(d), eps, w, bias, "%s", module);
}

/* softmax(q k^T / sqrt(head_dim)) v over every head, then proj: timm's Attention.forward. */
static int attention(build *b, const imc_network *net, int bi, int x)
{
    int64_t T = net->tokens, D = net->embed_dim, H = net->num_heads, hd = net->head_dim;
    const imc_layer *qkvl = layer_of(net, IMC_LAYER_QKV, bi, -1, -1);
    const imc_layer *projl = layer_of(net, IMC_LAYER_ATTN_PROJ, bi, -1, -1);
    int qkv = linear(b, qkvl, x, qkvl->name);
    int split = node(b, IMC_NODE_RESHAPE, IN(qkv), ATTR(4, T, 3, H, hd), 0, NULL, NULL,
                     "blocks.%d.attn.reshape", bi);
    int heads = node(b, IMC_NODE_TRANSPOSE, IN(split), ATTR(4, 1, 2, 0, 3), 0, NULL, NULL,
                     "blocks.%d.attn.permute", bi);
    int part[3];
    static const char *const qkv_names[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        int s = node(b, IMC_NODE_SLICE, IN(heads), ATTR(0, i, i + 1), 0, NULL, NULL,
                     "blocks.%d.attn.%s.slice", bi, qkv_names[i]);
        part[i] = node(b, IMC_NODE_RESHAPE, IN(s), ATTR(3, H, T, hd), 0, NULL, NULL,
                       "blocks.%d.attn.%s", bi, qkv_names[i]);
    }
    int kt = node(b, IMC_NODE_TRANSPOSE, IN(part[1]), ATTR(3, 0, 2, 1), 0, NULL, NULL,
                  "blocks.%d.attn.k_t", bi);
    int qk = node(b, IMC_NODE_MATMUL, IN(part[0], kt), NOATTR, 0, NULL, NULL,
                  "blocks.%d.attn.qk", bi);
    int scaled = node(b, IMC_NODE_SCALE, IN(qk), NOATTR, (double)(1.0f / sqrtf((float)hd)), NULL, NULL,
                      "blocks.%d.attn.scale", bi);
    int sm = node(b, IMC_NODE_SOFTMAX, IN(scaled), ATTR(-1), 0, NULL, NULL,
                  "blocks.%d.attn.softmax", bi);
    int sv = node(b, IMC_NODE_MATMUL, IN(sm, part[2]), NOATTR, 0, NULL, NULL,
                  "blocks.%d.attn.sv", bi);
    int back = node(b, IMC_NODE_TRANSPOSE, IN(sv), ATTR(3, 1, 0, 2), 0, NULL, NULL,
                    "blocks.%d.attn.unpermute", bi);
    int joined = node(b, IMC_NODE_RESHAPE, IN(back), ATTR(2, T, D), 0, NULL, NULL,
                      "blocks.%d.attn.join", bi);
    return linear(b, projl, joined, projl->name);
}

/* FAR: pre_proj, per head a bidirectional LSTM over the tokens and head_proj, post_proj. */
static int far(build *b, const imc_network *net, int bi, int x)
{
    const imc_block *blk = &net->blocks[bi];
    int64_t T = net->tokens, D = net->embed_dim, H = net->num_heads, hd = net->head_dim;
    const imc_layer *prel = layer_of(net, IMC_LAYER_FAR_PRE, bi, -1, -1);
    const imc_layer *postl = layer_of(net, IMC_LAYER_FAR_POST, bi, -1, -1);
    int pre = linear(b, prel, x, prel->name);
    enum { MAX_HEADS = 256 };
    if (H > MAX_HEADS) {
        b->rc = imc_err_set(b->err, IMC_EINPUT, "block %d: %d heads (at most %d)", bi, (int)H,
                            MAX_HEADS);
        return -1;
    }
    int outs[MAX_HEADS];
    for (int h = 0; h < H; h++) {
        int slice = node(b, IMC_NODE_SLICE, IN(pre), ATTR(1, h * hd, (h + 1) * hd), 0, NULL, NULL,
                         "blocks.%d.attn.h%d", bi, h);
        int dirs[2];
        for (int d = 0; d < 2; d++) {
            const imc_layer *l = layer_of(net, IMC_LAYER_FAR_LSTM, bi, h, d);
            char prefix[96];
            if (blk->far_split)
                snprintf(prefix, sizeof prefix, "blocks.%d.attn.lstm.%d", bi, h);
            else
                snprintf(prefix, sizeof prefix, "blocks.%d.attn.lstm", bi);
            dirs[d] = !l ? -1 : node(b, IMC_NODE_LSTM, IN(slice),
                                     ATTR(hd, blk->far[h * 2 + d].hidden, 1, 0, d), 0, prefix, NULL,
                                     "%s", l->name);
        }
        const imc_layer *l = layer_of(net, IMC_LAYER_FAR_HEAD_PROJ, bi, h, -1);
        if (!l) { /* no unit left in either direction: head_proj's bias for every token */
            char bias[96];
            int bias_node;
            if (blk->far_split) {
                snprintf(bias, sizeof bias, "blocks.%d.attn.head_proj.%d.bias", bi, h);
                bias_node = node(b, IMC_NODE_PARAM, NULL, 0, ATTR(1, hd), 0, bias, NULL,
                                 "blocks.%d.attn.head_proj.h%d.bias", bi, h);
            } else {
                snprintf(bias, sizeof bias, "blocks.%d.attn.head_proj.bias", bi);
                int all = imc_graph_find(b->g, bias); /* the whole bias, added by the first
                                                         head that needs it */
                if (all < 0)
                    all = node(b, IMC_NODE_PARAM, NULL, 0, ATTR(1, D), 0, bias, NULL, "%s", bias);
                bias_node = node(b, IMC_NODE_SLICE, IN(all), ATTR(0, h * hd, (h + 1) * hd), 0, NULL,
                                 NULL, "blocks.%d.attn.head_proj.h%d.bias", bi, h);
            }
            outs[h] = node(b, IMC_NODE_EXPAND, IN(bias_node), ATTR(2, T, hd), 0, NULL, NULL,
                           "blocks.%d.attn.head_proj.h%d", bi, h);
            continue;
        }
        int cat = dirs[0] >= 0 && dirs[1] >= 0
                      ? node(b, IMC_NODE_CONCAT, IN(dirs[0], dirs[1]), ATTR(1), 0, NULL, NULL,
                             "blocks.%d.attn.lstm.h%d", bi, h)
                      : dirs[0] >= 0 ? dirs[0] : dirs[1];
        char module[96];
        if (blk->far_split)
            snprintf(module, sizeof module, "blocks.%d.attn.head_proj.%d", bi, h);
        else
            snprintf(module, sizeof module, "blocks.%d.attn.head_proj", bi);
        outs[h] = linear(b, l, cat, module);
    }
    if (b->rc)
        return -1;
    int joined = node(b, IMC_NODE_CONCAT, outs, (int)H, ATTR(1), 0, NULL, NULL,
                      "blocks.%d.attn.join", bi);
    return linear(b, postl, joined, postl->name);
}

/* The native bound's mixer: its first weight layer straight into its last, per token (qkv's
 * query third into proj, the D values a token's proj reads; pre_proj into post_proj). */
static int native_mixer(build *b, const imc_network *net, int bi, int x)
{
    int attn = net->blocks[bi].kind == IMC_BLOCK_ATTENTION;
    const imc_layer *in = layer_of(net, attn ? IMC_LAYER_QKV : IMC_LAYER_FAR_PRE, bi, -1, -1);
    const imc_layer *out = layer_of(net, attn ? IMC_LAYER_ATTN_PROJ : IMC_LAYER_FAR_POST, bi, -1, -1);
    int y = linear(b, in, x, in->name);
    if (attn)
        y = node(b, IMC_NODE_SLICE, IN(y), ATTR(1, 0, net->embed_dim), 0, NULL, NULL,
                 "blocks.%d.attn.native", bi);
    return linear(b, out, y, out->name);
}

static int build_graph(const imc_network *net, imc_graph *g, int native, imc_err *err)
{
    imc_graph_init(g);
    build bb = {g, err, 0, native}, *b = &bb;
    int64_t C = net->in_chans, S = net->img_size, p = net->patch_size, D = net->embed_dim;
    int64_t T = net->tokens, grid = S / p;
    double eps = net->layernorm_eps;
    int x = node(b, IMC_NODE_INPUT, NULL, 0, ATTR(3, C, S, S), 0, NULL, NULL, "image");
    const imc_layer *pel = layer_of(net, IMC_LAYER_PATCH_EMBED, -1, -1, -1);
    int pe = node(b, IMC_NODE_CONV2D, IN(x), ATTR(C, D, p, p, p, p, 0, 0, 1, 1, 1), 0,
                  "patch_embed.proj.weight", pel->has_bias ? "patch_embed.proj.bias" : NULL, "%s",
                  pel->name);
    int flat = node(b, IMC_NODE_RESHAPE, IN(pe), ATTR(2, D, grid * grid), 0, NULL, NULL,
                    "patch_embed.flatten");
    int tok[3];
    tok[0] = node(b, IMC_NODE_PARAM, NULL, 0, ATTR(2, 1, D), 0, "cls_token", NULL, "cls_token");
    if (net->dist_token)
        tok[1] = node(b, IMC_NODE_PARAM, NULL, 0, ATTR(2, 1, D), 0, "dist_token", NULL, "dist_token");
    tok[1 + net->dist_token] = node(b, IMC_NODE_TRANSPOSE, IN(flat), ATTR(2, 1, 0), 0, NULL, NULL,
                                    "patch_embed.transpose");
    int seq = node(b, IMC_NODE_CONCAT, tok, 2 + net->dist_token, ATTR(0), 0, NULL, NULL, "tokens");
    int pos = node(b, IMC_NODE_PARAM, NULL, 0, ATTR(2, T, D), 0, "pos_embed", NULL, "pos_embed");
    x = node(b, IMC_NODE_ADD, IN(seq, pos), NOATTR, 0, NULL, NULL, "pos_add");
    for (int bi = 0; bi < net->depth && !b->rc; bi++) {
        char m[96];
        snprintf(m, sizeof m, "blocks.%d.norm1", bi);
        int n1 = layernorm(b, x, D, eps, m);
        int mixed = b->native                                      ? native_mixer(b, net, bi, n1)
                    : net->blocks[bi].kind == IMC_BLOCK_ATTENTION ? attention(b, net, bi, n1)
                                                                  : far(b, net, bi, n1);
        x = node(b, IMC_NODE_ADD, IN(x, mixed), NOATTR, 0, NULL, NULL, "blocks.%d.add1", bi);
        snprintf(m, sizeof m, "blocks.%d.norm2", bi);
        int n2 = layernorm(b, x, D, eps, m);
        const imc_layer *fc1 = layer_of(net, IMC_LAYER_FC1, bi, -1, -1);
        const imc_layer *fc2 = layer_of(net, IMC_LAYER_FC2, bi, -1, -1);
        int h = linear(b, fc1, n2, fc1->name);
        int act = node(b, IMC_NODE_GELU, IN(h), NOATTR, 0, NULL, NULL, "blocks.%d.mlp.act", bi);
        int y = linear(b, fc2, act, fc2->name);
        x = node(b, IMC_NODE_ADD, IN(x, y), NOATTR, 0, NULL, NULL, "blocks.%d.add2", bi);
    }
    int norm = layernorm(b, x, D, eps, "norm");
    int logits = -1;
    for (int e = 0; e <= net->dist_token && !b->rc; e++) {
        const imc_layer *hl = &net->layers[imc_network_find_layer(net, IMC_LAYER_HEAD, -1, -1, -1) + e];
        int row = node(b, IMC_NODE_SLICE, IN(norm), ATTR(0, e, e + 1), 0, NULL, NULL, "%s.token",
                       hl->name);
        int vec = node(b, IMC_NODE_RESHAPE, IN(row), ATTR(1, D), 0, NULL, NULL, "%s.select", hl->name);
        int y = linear(b, hl, vec, hl->name);
        if (e == 0) {
            logits = y;
            continue;
        }
        int sum = node(b, IMC_NODE_ADD, IN(logits, y), NOATTR, 0, NULL, NULL, "heads_add");
        logits = node(b, IMC_NODE_SCALE, IN(sum), NOATTR, 0.5, NULL, NULL, "heads_mean");
    }
    node(b, IMC_NODE_OUTPUT, IN(logits), NOATTR, 0, NULL, NULL, "logits");
    if (b->rc)
        imc_graph_free(g);
    return b->rc;
}

int imc_network_build_graph(const imc_network *net, imc_graph *g, imc_err *err)
{
    return build_graph(net, g, 0, err);
}

int imc_network_native_graph(const imc_network *net, imc_graph *g, imc_err *err)
{
    return build_graph(net, g, 1, err);
}
