/* generic.c -- a network a model file gives as a graph of generic ops (graph.h) in its
 * __metadata__ (key imcsim_graph), with the weights under PyTorch's names: how
 * tools/imcsim-import writes any torch.nn.Module.
 *
 * Loading checks every tensor a node names against the shape PyTorch gives it (Linear weight
 * [out, in]; Conv2d weight [out, in / groups, kh, kw]; LSTM/GRU <prefix>.weight_ih_l<k>[_reverse]
 * [gates x hidden, input], weight_hh [gates x hidden, hidden], biases [gates x hidden]; norms'
 * affine parameters and running statistics [features]; a parameter's element count), and the
 * network's layers are the graph's weight matrices (imc_graph_matrices), named after their
 * node: "fc", "conv.g1" (group 1), "lstm.l1", "lstm.l0_reverse", "gru.l0.ih" / ".hh".
 * Gathering a layer's weights turns PyTorch's layouts into the [in][out] matrix the mapper and
 * the numerics use: a convolution's rows in im2col order (channel, kernel row, kernel column),
 * an LSTM's [W_ih | W_hh] with b_ih + b_hh. A batchnorm right after a convolution (or a linear
 * layer giving one vector) is folded into that layer's weights and bias, as inference hardware
 * deploys it (imc_graph_fold): the crossbars hold the folded weights, so the IMC pass quantises
 * those, and the digital unit does no per-channel affine. */
#include "sim/net/generic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name of matrix M of graph G (see the file's comment). */
static void matrix_name(const imc_graph *g, const imc_matrix *m, char *buf, size_t size)
{
    const imc_node *n = &g->nodes[m->node];
    int dirs = n->op == IMC_NODE_LSTM || n->op == IMC_NODE_GRU ? (n->attr[IMC_RNN_BIDIR] ? 2 : 1) : 1;
    int rnn = m->part / (n->op == IMC_NODE_GRU ? 2 : 1);
    if (n->op == IMC_NODE_CONV2D && n->attr[IMC_CONV_GROUPS] > 1)
        snprintf(buf, size, "%s.g%d", n->name, m->part);
    else if (n->op == IMC_NODE_LSTM && (n->attr[IMC_RNN_LAYERS] > 1 || dirs > 1))
        snprintf(buf, size, "%s.l%d%s", n->name, rnn / dirs, rnn % dirs ? "_reverse" : "");
    else if (n->op == IMC_NODE_GRU)
        snprintf(buf, size, "%s.l%d%s.%s", n->name, rnn / dirs, rnn % dirs ? "_reverse" : "",
                 m->part % 2 ? "hh" : "ih");
    else
        snprintf(buf, size, "%s", n->name);
}

typedef struct ctx {
    imc_network *net;
    unsigned char *used;
    imc_err *err;
} ctx;

/* Tensor NAME of node N with exactly the NDIM dims WANT; marks it used. */
static const imc_tensor *expect(ctx *c, const imc_node *n, const char *name, int ndim,
                                const int64_t *want)
{
    const imc_netfile *nf = c->net->file;
    const imc_tensor *t = imc_netfile_find(nf, name);
    if (!t) {
        imc_err_at(c->err, IMC_EINPUT, imc_netfile_path(nf), 0, 0, "%s (%s): missing tensor '%s'",
                   n->name, imc_node_op_name(n->op), name);
        return NULL;
    }
    c->used[t - imc_netfile_at(nf, 0)] = 1;
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == want[i];
    if (!ok) {
        char got[128], exp[128];
        imc_shape_str(t->shape, t->ndim, got, sizeof got);
        imc_shape_str(want, ndim, exp, sizeof exp);
        imc_err_at(c->err, IMC_EINPUT, imc_netfile_path(nf), 0, 0,
                   "%s (%s): tensor '%s' has shape %s, expected %s", n->name,
                   imc_node_op_name(n->op), name, got, exp);
        return NULL;
    }
    return t;
}

#define SHAPE(...) (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), ((const int64_t[]){__VA_ARGS__})

/* The tensors of recurrent node N: per layer and direction, as torch.nn.LSTM / GRU names them. */
static int check_rnn(ctx *c, const imc_node *n)
{
    const int64_t *a = n->attr;
    int64_t G = n->op == IMC_NODE_LSTM ? 4 : 3, H = a[IMC_RNN_HIDDEN], dirs = a[IMC_RNN_BIDIR] ? 2 : 1;
    char name[400];
    for (int64_t l = 0; l < a[IMC_RNN_LAYERS]; l++)
        for (int64_t d = 0; d < dirs; d++) {
            const char *sfx = d || a[IMC_RNN_REVERSE] ? "_reverse" : "";
            int64_t in = l ? H * dirs : a[IMC_RNN_IN];
            snprintf(name, sizeof name, "%s.weight_ih_l%lld%s", n->tensor[0], (long long)l, sfx);
            if (!expect(c, n, name, SHAPE(G * H, in)))
                return c->err->status;
            snprintf(name, sizeof name, "%s.weight_hh_l%lld%s", n->tensor[0], (long long)l, sfx);
            if (!expect(c, n, name, SHAPE(G * H, H)))
                return c->err->status;
            for (int k = 0; k < 2; k++) {
                snprintf(name, sizeof name, "%s.bias_%s_l%lld%s", n->tensor[0], k ? "hh" : "ih",
                         (long long)l, sfx);
                if (!expect(c, n, name, SHAPE(G * H)))
                    return c->err->status;
            }
        }
    return 0;
}

static int check_node(ctx *c, const imc_node *n)
{
    const int64_t *a = n->attr;
    char *const *t = n->tensor;
    switch (n->op) {
    case IMC_NODE_LINEAR:
        if (!expect(c, n, t[IMC_T_WEIGHT], SHAPE(a[IMC_LIN_OUT], a[IMC_LIN_IN])) ||
            (t[IMC_T_BIAS] && !expect(c, n, t[IMC_T_BIAS], SHAPE(a[IMC_LIN_OUT]))))
            return c->err->status;
        return 0;
    case IMC_NODE_CONV2D:
        if (!expect(c, n, t[IMC_T_WEIGHT], SHAPE(a[IMC_CONV_OUT], a[IMC_CONV_IN] / a[IMC_CONV_GROUPS],
                                                 a[IMC_CONV_KH], a[IMC_CONV_KW])) ||
            (t[IMC_T_BIAS] && !expect(c, n, t[IMC_T_BIAS], SHAPE(a[IMC_CONV_OUT]))))
            return c->err->status;
        return 0;
    case IMC_NODE_LSTM:
    case IMC_NODE_GRU:
        return check_rnn(c, n);
    case IMC_NODE_EMBEDDING:
        return expect(c, n, t[IMC_T_WEIGHT], SHAPE(a[IMC_EMB_NUM], a[IMC_EMB_DIM])) ? 0 : c->err->status;
    case IMC_NODE_LAYERNORM:
    case IMC_NODE_BATCHNORM:
        for (int k = 0; k < (n->op == IMC_NODE_BATCHNORM ? 4 : 2); k++)
            if ((t[k] || k >= 2) && !expect(c, n, t[k], SHAPE(a[IMC_NORM_SIZE])))
                return c->err->status;
        return 0;
    case IMC_NODE_PARAM: {
        const imc_tensor *p = imc_netfile_find(c->net->file, t[IMC_T_PARAM]);
        int64_t want = 1;
        for (int i = 0; i < n->ndim; i++)
            want *= n->shape[i];
        if (p && imc_tensor_numel(p) != want)
            return imc_err_at(c->err, IMC_EINPUT, imc_netfile_path(c->net->file), 0, 0,
                              "%s (param): tensor '%s' has %lld values, expected %lld", n->name,
                              t[IMC_T_PARAM], (long long)imc_tensor_numel(p), (long long)want);
        return expect(c, n, t[IMC_T_PARAM], p ? p->ndim : 0, p ? p->shape : NULL) ? 0 : c->err->status;
    }
    default:
        return 0;
    }
}

int imc_generic_load(imc_network *net, const char *json, unsigned char *used, imc_err *err)
{
    ctx c = {net, used, err};
    const char *path = imc_netfile_path(net->file);
    int rc = imc_graph_from_json(&net->graph, json, path, err);
    const imc_graph *g = &net->graph;
    for (int i = 0; !rc && i < g->n_nodes; i++)
        rc = check_node(&c, &g->nodes[i]);
    if (!rc)
        imc_graph_fold(&net->graph);
    imc_matrix *m = NULL;
    size_t n = 0;
    if (!rc)
        rc = imc_graph_matrices(g, &m, &n, err);
    if (!rc && !(net->layers = calloc(n ? n : 1, sizeof *net->layers)))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        const imc_node *nd = &g->nodes[m[k].node];
        imc_layer *l = &net->layers[k];
        if (m[k].in > 1 << 30 || m[k].out > 1 << 30)
            rc = imc_err_at(err, IMC_EINPUT, path, 0, 0, "%s (%s): a %lld x %lld weight matrix is too "
                            "large", nd->name, imc_node_op_name(nd->op), (long long)m[k].in,
                            (long long)m[k].out);
        matrix_name(g, &m[k], l->name, sizeof l->name);
        l->kind = nd->op == IMC_NODE_LINEAR ? IMC_LAYER_LINEAR
                  : nd->op == IMC_NODE_CONV2D ? IMC_LAYER_CONV2D
                  : nd->op == IMC_NODE_LSTM   ? IMC_LAYER_LSTM
                                              : IMC_LAYER_GRU;
        l->block = l->head = l->dir = -1;
        l->in = (int)m[k].in, l->out = (int)m[k].out, l->vectors = m[k].vectors;
        l->has_bias = nd->op == IMC_NODE_LSTM || nd->op == IMC_NODE_GRU || nd->tensor[IMC_T_BIAS] ||
                      nd->fold >= 0;
        l->node = m[k].node, l->part = m[k].part;
    }
    free(m);
    if (rc)
        return rc;
    net->n_layers = n;
    const imc_node *in = &g->nodes[0], *out = &g->nodes[g->n_nodes - 1];
    for (size_t i = 0; i < imc_netfile_count(net->file); i++)
        net->params_total += imc_tensor_numel(imc_netfile_at(net->file, i));
    net->params_effective = net->params_total;
    net->num_classes = (int)(out->ndim == 1 ? out->shape[0] : 0);
    if (out->ndim != 1)
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "%s: the output must be one vector of class "
                          "scores, not a %d-dimensional tensor", out->name, out->ndim);
    /* the input as the datasets hold it: [C][H][W] images; a sequence [T][F] as 1 x T x F (a
     * higher-dimensional input has no dataset form: --numerics says so) */
    if (in->ndim > 3)
        return 0;
    net->in_chans = in->ndim == 3 ? (int)in->shape[0] : 1;
    net->in_h = in->ndim >= 2 ? (int)in->shape[in->ndim - 2] : 1;
    net->in_w = (int)in->shape[in->ndim - 1];
    if (in->ndim == 3 && in->shape[1] == in->shape[2])
        net->img_size = net->in_h;
    return 0;
}

/* The batchnorm folded into the OUT columns of W ([in][out]) and BIAS (may be NULL), which hold
 * output channels FIRST .. FIRST + OUT - 1 of the layer: per channel c, s = gamma / sqrt(var +
 * eps) (in double, as imc_batchnorm takes the root), w *= s, b = (b - mean) s + beta. */
static int fold_batchnorm(const imc_network *net, const imc_node *bn, size_t first, float *w,
                          size_t in, size_t out, float *bias, imc_err *err)
{
    float *t[4] = {0};
    int rc = 0;
    for (int k = 0; !rc && k < 4; k++)
        if (bn->tensor[k])
            rc = imc_network_read_tensor(net, bn->tensor[k], &t[k], err);
    for (size_t o = 0; !rc && o < out; o++) {
        size_t c = first + o;
        float s = (float)(1.0 / sqrt((double)t[IMC_T_VAR][c] + bn->value)) *
                  (t[IMC_T_WEIGHT] ? t[IMC_T_WEIGHT][c] : 1.0f);
        for (size_t i = 0; i < in; i++)
            w[i * out + o] *= s;
        if (bias)
            bias[o] = (bias[o] - t[IMC_T_MEAN][c]) * s + (t[IMC_T_BIAS] ? t[IMC_T_BIAS][c] : 0.0f);
    }
    for (int k = 0; k < 4; k++)
        free(t[k]);
    return rc;
}

/* W[row0 + i][o] = src[o][i] for i < IN, o < OUT (a PyTorch [out, in] weight). */
static void transpose_into(float *w, size_t row0, size_t out, const float *src, size_t in)
{
    for (size_t o = 0; o < out; o++)
        for (size_t i = 0; i < in; i++)
            w[(row0 + i) * out + o] = src[o * in + i];
}

int imc_generic_layer_weights(const imc_network *net, const imc_layer *l, float *w, float *bias,
                              imc_err *err)
{
    const imc_node *n = &net->graph.nodes[l->node];
    size_t in = (size_t)l->in, out = (size_t)l->out;
    float *src = NULL, *b2 = NULL;
    int rc = 0;
    if (bias)
        memset(bias, 0, out * sizeof *bias);
    if (n->op == IMC_NODE_LINEAR) {
        if (!(rc = imc_network_read_tensor(net, n->tensor[IMC_T_WEIGHT], &src, err)))
            transpose_into(w, 0, out, src, in);
    } else if (n->op == IMC_NODE_CONV2D) { /* group `part`: its outputs, rows (c, ky, kx) */
        if (!(rc = imc_network_read_tensor(net, n->tensor[IMC_T_WEIGHT], &src, err)))
            transpose_into(w, 0, out, src + (size_t)l->part * out * in, in);
    } else { /* LSTM [W_ih | W_hh], b_ih + b_hh; GRU W_ih, b_ih or W_hh, b_hh */
        int gru = n->op == IMC_NODE_GRU, dirs = n->attr[IMC_RNN_BIDIR] ? 2 : 1;
        int rnn = gru ? l->part / 2 : l->part, layer = rnn / dirs;
        const char *sfx = rnn % dirs || n->attr[IMC_RNN_REVERSE] ? "_reverse" : "";
        size_t H = (size_t)n->attr[IMC_RNN_HIDDEN], x = gru ? in : in - H;
        char name[400];
        for (int k = 0; !rc && k < 2; k++) {
            if (gru && k != l->part % 2)
                continue;
            snprintf(name, sizeof name, "%s.weight_%s_l%d%s", n->tensor[0], k ? "hh" : "ih", layer, sfx);
            free(src);
            src = NULL;
            if (!(rc = imc_network_read_tensor(net, name, &src, err)))
                transpose_into(w, gru || !k ? 0 : x, out, src, k ? H : x);
            snprintf(name, sizeof name, "%s.bias_%s_l%d%s", n->tensor[0], k ? "hh" : "ih", layer, sfx);
            if (!rc && bias && !(rc = imc_network_read_tensor(net, name, &b2, err)))
                for (size_t o = 0; o < out; o++)
                    bias[o] += b2[o];
            free(b2);
            b2 = NULL;
        }
        free(src);
        return rc;
    }
    if (!rc && bias && n->tensor[IMC_T_BIAS] && !(rc = imc_network_read_tensor(net, n->tensor[IMC_T_BIAS], &b2, err)))
        memcpy(bias, b2 + (n->op == IMC_NODE_CONV2D ? (size_t)l->part * out : 0), out * sizeof *bias);
    if (!rc && n->fold >= 0)
        rc = fold_batchnorm(net, &net->graph.nodes[n->fold], (size_t)l->part * out, w, in, out, bias, err);
    free(src), free(b2);
    return rc;
}
