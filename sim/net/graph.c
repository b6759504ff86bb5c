/* graph.c -- the network graph: the op table, shape inference, the JSON form, the crossbar
 * matrices of weight layers (see graph.h).
 *
 * Each op's row in `ops` says how many inputs it takes, the JSON keys of its integer
 * attributes (in imc_node.attr order), whether it has a real-valued attribute, and the JSON
 * keys of its tensors. infer() holds the one shape rule per op; imc_graph_add runs it for
 * every node, whether a producer in C builds the graph or a model file's JSON does. */
#include "sim/net/graph.h"

#include "sim/net/netfile.h"

#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { ANY = -1 };         /* inputs: one or more */
enum { LIST_ATTRS = -1 };  /* attributes: attr[0] = count, then the list (a JSON array) */

typedef struct op_info {
    const char *name;
    int min_in, max_in;
    int n_attrs;                               /* or LIST_ATTRS */
    const char *attrs[IMC_GRAPH_MAX_ATTRS];    /* JSON keys (LIST_ATTRS: attrs[0] the list's) */
    const char *value;                         /* JSON key of imc_node.value, or NULL */
    const char *tensors[IMC_GRAPH_MAX_TENSORS];
} op_info;

#define CONV_ATTRS \
    {"in_channels", "out_channels", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", \
     "pad_w", "dilation_h", "dilation_w", "groups"}
#define POOL_ATTRS {"kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w"}
#define RNN_ATTRS {"input_size", "hidden_size", "num_layers", "bidirectional", "reverse"}

static const op_info ops[IMC_NODE_OP_COUNT] = {
    [IMC_NODE_INPUT] = {"input", 0, 0, LIST_ATTRS, {"shape"}, NULL, {0}},
    [IMC_NODE_OUTPUT] = {"output", 1, 1, 0, {0}, NULL, {0}},
    [IMC_NODE_PARAM] = {"param", 0, 0, LIST_ATTRS, {"shape"}, NULL, {"tensor"}},
    [IMC_NODE_LINEAR] = {"linear", 1, 1, 2, {"in_features", "out_features"}, NULL,
                         {"weight", "bias"}},
    [IMC_NODE_CONV2D] = {"conv2d", 1, 1, 11, CONV_ATTRS, NULL, {"weight", "bias"}},
    [IMC_NODE_LSTM] = {"lstm", 1, 1, 5, RNN_ATTRS, NULL, {"prefix"}},
    [IMC_NODE_GRU] = {"gru", 1, 1, 5, RNN_ATTRS, NULL, {"prefix"}},
    [IMC_NODE_MATMUL] = {"matmul", 2, 2, 0, {0}, NULL, {0}},
    [IMC_NODE_SOFTMAX] = {"softmax", 1, 1, 1, {"dim"}, NULL, {0}},
    [IMC_NODE_LAYERNORM] = {"layernorm", 1, 1, 1, {"normalized_size"}, "eps", {"weight", "bias"}},
    [IMC_NODE_BATCHNORM] = {"batchnorm", 1, 1, 1, {"num_features"}, "eps",
                            {"weight", "bias", "running_mean", "running_var"}},
    [IMC_NODE_GELU] = {"gelu", 1, 1, 0, {0}, NULL, {0}},
    [IMC_NODE_RELU] = {"relu", 1, 1, 0, {0}, NULL, {0}},
    [IMC_NODE_SILU] = {"silu", 1, 1, 0, {0}, NULL, {0}},
    [IMC_NODE_SIGMOID] = {"sigmoid", 1, 1, 0, {0}, NULL, {0}},
    [IMC_NODE_TANH] = {"tanh", 1, 1, 0, {0}, NULL, {0}},
    [IMC_NODE_MAXPOOL] = {"maxpool2d", 1, 1, 6, POOL_ATTRS, NULL, {0}},
    [IMC_NODE_AVGPOOL] = {"avgpool2d", 1, 1, 6, POOL_ATTRS, NULL, {0}},
    [IMC_NODE_MEAN] = {"mean", 1, 1, 1, {"dim"}, NULL, {0}},
    [IMC_NODE_ADD] = {"add", 2, 2, 0, {0}, NULL, {0}},
    [IMC_NODE_MUL] = {"mul", 2, 2, 0, {0}, NULL, {0}},
    [IMC_NODE_SCALE] = {"scale", 1, 1, 0, {0}, "factor", {0}},
    [IMC_NODE_RESHAPE] = {"reshape", 1, 1, LIST_ATTRS, {"shape"}, NULL, {0}},
    [IMC_NODE_TRANSPOSE] = {"transpose", 1, 1, LIST_ATTRS, {"perm"}, NULL, {0}},
    [IMC_NODE_CONCAT] = {"concat", 1, ANY, 1, {"dim"}, NULL, {0}},
    [IMC_NODE_SLICE] = {"slice", 1, 1, 3, {"dim", "start", "end"}, NULL, {0}},
    [IMC_NODE_EXPAND] = {"expand", 1, 1, LIST_ATTRS, {"shape"}, NULL, {0}},
    [IMC_NODE_EMBEDDING] = {"embedding", 1, 1, 2, {"num_embeddings", "embedding_dim"}, NULL,
                            {"weight"}},
};

const char *imc_node_op_name(imc_node_op op)
{
    return (unsigned)op < IMC_NODE_OP_COUNT ? ops[op].name : "?";
}

int imc_node_op_from_name(const char *name)
{
    for (int i = 0; i < IMC_NODE_OP_COUNT; i++)
        if (!strcmp(ops[i].name, name))
            return i;
    return -1;
}

int imc_node_is_weighted(const imc_node *n)
{
    return n->op == IMC_NODE_LINEAR || n->op == IMC_NODE_CONV2D || n->op == IMC_NODE_LSTM ||
           n->op == IMC_NODE_GRU;
}

void imc_graph_init(imc_graph *g)
{
    memset(g, 0, sizeof *g);
}

static void node_free(imc_node *n)
{
    free(n->name);
    free(n->inputs);
    for (int t = 0; t < IMC_GRAPH_MAX_TENSORS; t++)
        free(n->tensor[t]);
}

void imc_graph_free(imc_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        node_free(&g->nodes[i]);
    free(g->nodes);
    free(g->index);
    imc_graph_init(g);
}

/* ---- shape inference ------------------------------------------------------------------------ */

static int bad(imc_err *err, const imc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(imc_err *err, const imc_node *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_set(err, IMC_EINPUT, "%s (%s): %s", n->name, ops[n->op].name, msg);
}

void imc_shape_str(const int64_t *s, int ndim, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%" PRId64, i ? ", " : "", s[i]);
    if (k < size)
        snprintf(buf + k, size - k, "]");
}

static int64_t numel(const int64_t *s, int ndim);

size_t imc_node_numel(const imc_node *n)
{
    return (size_t)numel(n->shape, n->ndim);
}

static int64_t numel(const int64_t *s, int ndim)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= s[i];
    return n;
}

/* Dimension D of an NDIM-dimensional shape, negative counting from the end; -1 if out of range. */
static int norm_dim(int64_t d, int ndim)
{
    if (d < 0)
        d += ndim;
    return d >= 0 && d < ndim ? (int)d : -1;
}

/* An output size along one spatial axis: (in + 2 pad - dil (k - 1) - 1) / stride + 1. */
static int64_t window_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t dil)
{
    int64_t span = dil * (k - 1) + 1;
    return in + 2 * p < span ? 0 : (in + 2 * p - span) / s + 1;
}

#define MAX_EXTENT ((int64_t)1 << 31) /* any one dimension, and any weight matrix side */
#define MAX_NODES (1 << 20)           /* nodes of one graph */
#define MAX_PARTS 65536               /* crossbar matrices of one node: conv groups, 4 x RNN layers */

static int check_positive(imc_err *err, const imc_node *n, int from, int to)
{
    for (int a = from; a < to; a++)
        if (n->attr[a] < 1 || n->attr[a] > MAX_EXTENT)
            return bad(err, n, "%s = %" PRId64 " (must be 1 .. 2^31)", ops[n->op].attrs[a], n->attr[a]);
    return 0;
}

static int set_shape(imc_err *err, imc_node *n, const int64_t *s, int ndim)
{
    if (ndim < 1 || ndim > IMC_GRAPH_MAX_DIMS)
        return bad(err, n, "%d dimensions (1 .. %d supported)", ndim, IMC_GRAPH_MAX_DIMS);
    int64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        if (s[i] < 1 || s[i] > MAX_EXTENT)
            return bad(err, n, "dimension %d of its output is %" PRId64, i, s[i]);
        if (s[i] > MAX_EXTENT * 64 / total) /* (divided: the product could overflow) */
            return bad(err, n, "output of more than 2^37 values");
        total *= s[i];
    }
    memcpy(n->shape, s, (size_t)ndim * sizeof *s);
    n->ndim = ndim;
    return 0;
}

/* The output shape of N from its inputs (already in G), or an error naming what disagrees. */
static int infer(const imc_graph *g, imc_node *n, imc_err *err)
{
    const imc_node *a = n->n_inputs > 0 ? &g->nodes[n->inputs[0]] : NULL;
    const imc_node *b = n->n_inputs > 1 ? &g->nodes[n->inputs[1]] : NULL;
    int64_t s[IMC_GRAPH_MAX_DIMS], *at = n->attr;
    char sa[96], sb[96];
    if (a)
        imc_shape_str(a->shape, a->ndim, sa, sizeof sa);
    if (b)
        imc_shape_str(b->shape, b->ndim, sb, sizeof sb);
    if (!a && n->op != IMC_NODE_INPUT && n->op != IMC_NODE_PARAM)
        return imc_err_set(err, IMC_EINTERNAL, "%s: no input", n->name);
    int last = a ? a->ndim - 1 : 0;
    switch (n->op) {
    case IMC_NODE_INPUT:
    case IMC_NODE_PARAM:
        return set_shape(err, n, at + 1, (int)at[0]);
    case IMC_NODE_LINEAR:
        if (check_positive(err, n, 0, 2))
            return err->status;
        if (a->shape[last] != at[IMC_LIN_IN])
            return bad(err, n, "in_features %" PRId64 " but its input '%s' is %s", at[IMC_LIN_IN],
                       a->name, sa);
        memcpy(s, a->shape, sizeof s);
        s[last] = at[IMC_LIN_OUT];
        return set_shape(err, n, s, a->ndim);
    case IMC_NODE_CONV2D: {
        if (check_positive(err, n, 0, 6) || check_positive(err, n, 8, 11))
            return err->status;
        if (at[IMC_CONV_PH] < 0 || at[IMC_CONV_PW] < 0 || at[IMC_CONV_PH] > MAX_EXTENT ||
            at[IMC_CONV_PW] > MAX_EXTENT)
            return bad(err, n, "padding %" PRId64 " x %" PRId64, at[IMC_CONV_PH], at[IMC_CONV_PW]);
        int64_t gr = at[IMC_CONV_GROUPS];
        if (gr > MAX_PARTS)
            return bad(err, n, "%" PRId64 " groups (at most %d)", gr, MAX_PARTS);
        if (at[IMC_CONV_IN] % gr || at[IMC_CONV_OUT] % gr)
            return bad(err, n, "%" PRId64 " groups do not divide %" PRId64 " in and %" PRId64
                       " out channels", gr, at[IMC_CONV_IN], at[IMC_CONV_OUT]);
        if (at[IMC_CONV_KH] > MAX_EXTENT / (at[IMC_CONV_IN] / gr) ||
            at[IMC_CONV_KW] > MAX_EXTENT / (at[IMC_CONV_IN] / gr * at[IMC_CONV_KH]))
            return bad(err, n, "a %" PRId64 " x %" PRId64 " kernel over %" PRId64 " channels per "
                       "group is more than 2^31 crossbar rows", at[IMC_CONV_KH], at[IMC_CONV_KW],
                       at[IMC_CONV_IN] / gr);
        if (a->ndim != 3 || a->shape[0] != at[IMC_CONV_IN])
            return bad(err, n, "takes [%" PRId64 "][H][W] but its input '%s' is %s", at[IMC_CONV_IN],
                       a->name, sa);
        s[0] = at[IMC_CONV_OUT];
        s[1] = window_out(a->shape[1], at[IMC_CONV_KH], at[IMC_CONV_SH], at[IMC_CONV_PH], at[IMC_CONV_DH]);
        s[2] = window_out(a->shape[2], at[IMC_CONV_KW], at[IMC_CONV_SW], at[IMC_CONV_PW], at[IMC_CONV_DW]);
        if (s[1] < 1 || s[2] < 1)
            return bad(err, n, "its kernel does not fit its input '%s' %s", a->name, sa);
        return set_shape(err, n, s, 3);
    }
    case IMC_NODE_LSTM:
    case IMC_NODE_GRU:
        if (check_positive(err, n, 0, 3))
            return err->status;
        if (at[IMC_RNN_LAYERS] > MAX_PARTS / 4)
            return bad(err, n, "%" PRId64 " layers (at most %d)", at[IMC_RNN_LAYERS], MAX_PARTS / 4);
        if ((at[IMC_RNN_BIDIR] | at[IMC_RNN_REVERSE]) & ~(int64_t)1 ||
            (at[IMC_RNN_BIDIR] && at[IMC_RNN_REVERSE]))
            return bad(err, n, "bidirectional and reverse are 0 or 1, not both 1");
        if (a->ndim != 2 || a->shape[1] != at[IMC_RNN_IN])
            return bad(err, n, "takes [steps][%" PRId64 "] but its input '%s' is %s", at[IMC_RNN_IN],
                       a->name, sa);
        s[0] = a->shape[0];
        s[1] = at[IMC_RNN_HIDDEN] * (at[IMC_RNN_BIDIR] ? 2 : 1);
        return set_shape(err, n, s, 2);
    case IMC_NODE_MATMUL:
        if (a->ndim < 2 || a->ndim != b->ndim ||
            memcmp(a->shape, b->shape, (size_t)(a->ndim - 2) * sizeof *s) ||
            a->shape[a->ndim - 1] != b->shape[b->ndim - 2])
            return bad(err, n, "cannot multiply '%s' %s by '%s' %s", a->name, sa, b->name, sb);
        memcpy(s, a->shape, sizeof s);
        s[last] = b->shape[last];
        return set_shape(err, n, s, a->ndim);
    case IMC_NODE_SOFTMAX:
    case IMC_NODE_MEAN:
    case IMC_NODE_CONCAT:
    case IMC_NODE_SLICE: {
        int d = norm_dim(at[IMC_DIM], a->ndim);
        if (d < 0)
            return bad(err, n, "dim %" PRId64 " outside its input '%s' %s", at[IMC_DIM], a->name, sa);
        at[IMC_DIM] = d;
        memcpy(s, a->shape, sizeof s);
        if (n->op == IMC_NODE_MEAN) {
            if (a->ndim == 1)
                return bad(err, n, "would leave no dimension of '%s' %s", a->name, sa);
            memmove(s + d, s + d + 1, (size_t)(a->ndim - d - 1) * sizeof *s);
            return set_shape(err, n, s, a->ndim - 1);
        }
        if (n->op == IMC_NODE_SLICE) {
            if (at[IMC_SLICE_START] < 0 || at[IMC_SLICE_END] > a->shape[d] ||
                at[IMC_SLICE_START] >= at[IMC_SLICE_END])
                return bad(err, n, "[%" PRId64 ", %" PRId64 ") outside dim %d of '%s' %s",
                           at[IMC_SLICE_START], at[IMC_SLICE_END], d, a->name, sa);
            s[d] = at[IMC_SLICE_END] - at[IMC_SLICE_START];
        }
        for (int i = 1; n->op == IMC_NODE_CONCAT && i < n->n_inputs; i++) {
            const imc_node *c = &g->nodes[n->inputs[i]];
            int same = c->ndim == a->ndim;
            for (int k = 0; same && k < a->ndim; k++)
                same = k == d || c->shape[k] == a->shape[k];
            if (!same) {
                imc_shape_str(c->shape, c->ndim, sb, sizeof sb);
                return bad(err, n, "cannot join '%s' %s to '%s' %s along dim %d", c->name, sb,
                           a->name, sa, d);
            }
            s[d] += c->shape[d];
        }
        return set_shape(err, n, s, a->ndim);
    }
    case IMC_NODE_LAYERNORM:
    case IMC_NODE_BATCHNORM: {
        int d = n->op == IMC_NODE_LAYERNORM ? last : 0;
        if (a->shape[d] != at[IMC_NORM_SIZE])
            return bad(err, n, "normalizes %" PRId64 " features but its input '%s' is %s",
                       at[IMC_NORM_SIZE], a->name, sa);
        if (!(n->value > 0) || n->value > 1)
            return bad(err, n, "eps = %g (must be in (0, 1])", n->value);
        return set_shape(err, n, a->shape, a->ndim);
    }
    case IMC_NODE_MAXPOOL:
    case IMC_NODE_AVGPOOL:
        if (check_positive(err, n, 0, 4))
            return err->status;
        if (at[IMC_POOL_PH] < 0 || at[IMC_POOL_PW] < 0 || 2 * at[IMC_POOL_PH] > at[IMC_POOL_KH] ||
            2 * at[IMC_POOL_PW] > at[IMC_POOL_KW])
            return bad(err, n, "padding must be at most half the kernel");
        if (a->ndim != 3)
            return bad(err, n, "takes [C][H][W] but its input '%s' is %s", a->name, sa);
        s[0] = a->shape[0];
        s[1] = window_out(a->shape[1], at[IMC_POOL_KH], at[IMC_POOL_SH], at[IMC_POOL_PH], 1);
        s[2] = window_out(a->shape[2], at[IMC_POOL_KW], at[IMC_POOL_SW], at[IMC_POOL_PW], 1);
        if (s[1] < 1 || s[2] < 1)
            return bad(err, n, "its window does not fit its input '%s' %s", a->name, sa);
        return set_shape(err, n, s, 3);
    case IMC_NODE_ADD:
    case IMC_NODE_MUL: {
        /* numpy broadcasting, aligned at the last dimension */
        int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
        for (int k = 0; k < nd; k++) {
            int ia = k - (nd - a->ndim), ib = k - (nd - b->ndim);
            int64_t x = ia >= 0 ? a->shape[ia] : 1, y = ib >= 0 ? b->shape[ib] : 1;
            if (x != y && x != 1 && y != 1)
                return bad(err, n, "cannot broadcast '%s' %s with '%s' %s", a->name, sa, b->name, sb);
            s[k] = x > y ? x : y;
        }
        return set_shape(err, n, s, nd);
    }
    case IMC_NODE_RESHAPE: {
        int nd = (int)at[0], free_dim = -1;
        if (nd < 1 || nd > IMC_GRAPH_MAX_DIMS)
            return bad(err, n, "a shape of %d dimensions", nd);
        int64_t known = 1;
        for (int k = 0; k < nd; k++) {
            s[k] = at[1 + k];
            if (s[k] == -1 && free_dim < 0)
                free_dim = k;
            else if (s[k] < 1 || s[k] > MAX_EXTENT || s[k] > MAX_EXTENT * 64 / known)
                return bad(err, n, "dimension %d of its shape is %" PRId64, k, s[k]);
            else
                known *= s[k];
        }
        int64_t total = numel(a->shape, a->ndim);
        if (free_dim >= 0 && total % known == 0)
            s[free_dim] = total / known;
        if (numel(s, nd) != total || (free_dim >= 0 && total % known)) {
            imc_shape_str(at + 1, nd, sb, sizeof sb);
            return bad(err, n, "cannot reshape '%s' %s to %s", a->name, sa, sb);
        }
        return set_shape(err, n, s, nd);
    }
    case IMC_NODE_EMBEDDING:
        if (check_positive(err, n, 0, 2))
            return err->status;
        if (a->ndim >= IMC_GRAPH_MAX_DIMS)
            return bad(err, n, "its input '%s' %s has no room for another dimension", a->name, sa);
        memcpy(s, a->shape, sizeof s);
        s[a->ndim] = at[IMC_EMB_DIM];
        return set_shape(err, n, s, a->ndim + 1);
    case IMC_NODE_EXPAND: {
        int nd = (int)at[0], fits = nd >= a->ndim;
        for (int k = 0; fits && k < a->ndim; k++) {
            int64_t from = a->shape[k], to = at[1 + nd - a->ndim + k];
            fits = from == 1 || from == to;
        }
        if (!fits) {
            imc_shape_str(at + 1, nd, sb, sizeof sb);
            return bad(err, n, "cannot expand '%s' %s to %s", a->name, sa, sb);
        }
        return set_shape(err, n, at + 1, nd);
    }
    case IMC_NODE_TRANSPOSE: {
        int seen = 0;
        if (at[0] != a->ndim)
            return bad(err, n, "permutes %" PRId64 " dimensions of '%s' %s", at[0], a->name, sa);
        for (int k = 0; k < a->ndim; k++) {
            int p = norm_dim(at[1 + k], a->ndim);
            if (p < 0 || seen & 1 << p)
                return bad(err, n, "perm is not a permutation of %d dimensions", a->ndim);
            seen |= 1 << p;
            at[1 + k] = p;
            s[k] = a->shape[p];
        }
        return set_shape(err, n, s, a->ndim);
    }
    case IMC_NODE_OUTPUT:
    case IMC_NODE_GELU:
    case IMC_NODE_RELU:
    case IMC_NODE_SILU:
    case IMC_NODE_SIGMOID:
    case IMC_NODE_TANH:
    case IMC_NODE_SCALE:
        if (n->op == IMC_NODE_SCALE && !isfinite(n->value))
            return bad(err, n, "factor is not finite");
        return set_shape(err, n, a->shape, a->ndim);
    case IMC_NODE_OP_COUNT:
        break;
    }
    return imc_err_set(err, IMC_EINTERNAL, "unknown op %d", (int)n->op);
}

/* ---- building --------------------------------------------------------------------------- */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return h;
}

/* The node named NAME, or -1: a hash table, so a graph of many nodes loads in linear time. */
int imc_graph_find(const imc_graph *g, const char *name)
{
    if (!g->index_cap)
        return -1;
    size_t mask = (size_t)g->index_cap - 1;
    for (size_t k = name_hash(name) & mask;; k = (k + 1) & mask) {
        int i = g->index[k];
        if (i < 0 || !strcmp(g->nodes[i].name, name))
            return i;
    }
}

/* Room in the index for one more node (rebuilt at twice the size when half full). */
static int index_grow(imc_graph *g)
{
    if (2 * (g->n_nodes + 1) <= g->index_cap)
        return 0;
    int cap = g->index_cap ? 2 * g->index_cap : 128;
    int *idx = malloc((size_t)cap * sizeof *idx);
    if (!idx)
        return -1;
    for (int k = 0; k < cap; k++)
        idx[k] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t k = name_hash(g->nodes[i].name) & (size_t)(cap - 1);
        while (idx[k] >= 0)
            k = (k + 1) & (size_t)(cap - 1);
        idx[k] = i;
    }
    free(g->index);
    g->index = idx, g->index_cap = cap;
    return 0;
}

int imc_graph_add(imc_graph *g, const char *name, imc_node_op op, const int *inputs,
                  int n_inputs, const int64_t *attr, int n_attr, double value,
                  const char *const *tensors, imc_err *err)
{
    if ((unsigned)op >= IMC_NODE_OP_COUNT)
        return imc_err_set(err, IMC_EINTERNAL, "%s: unknown op %d", name, (int)op);
    const op_info *info = &ops[op];
    imc_node n = {.op = op, .value = value, .fold = -1};
    n.name = (char *)name; /* for messages until it is copied */
    if (!*name)
        return imc_err_set(err, IMC_EINPUT, "a %s node without a name", info->name);
    if (imc_graph_find(g, name) >= 0)
        return bad(err, &n, "a second node of that name");
    if (n_inputs < info->min_in || (info->max_in != ANY && n_inputs > info->max_in))
        return bad(err, &n, "%d inputs (takes %d%s)", n_inputs, info->min_in,
                   info->max_in == ANY ? " or more" : info->max_in > info->min_in ? " or 2" : "");
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] < 0 || inputs[i] >= g->n_nodes)
            return imc_err_set(err, IMC_EINTERNAL, "%s: input %d is not an earlier node", name, i);
    int max_attr = info->n_attrs == LIST_ATTRS ? IMC_GRAPH_MAX_ATTRS : info->n_attrs;
    if (n_attr > max_attr || (info->n_attrs == LIST_ATTRS && n_attr > 0 &&
                              (attr[0] < 1 || attr[0] > IMC_GRAPH_MAX_DIMS || attr[0] + 1 > n_attr)))
        return bad(err, &n, "%d attributes", n_attr);
    if (info->n_attrs == LIST_ATTRS && n_attr == 0)
        return bad(err, &n, "no %s", info->attrs[0]);
    if (n_attr)
        memcpy(n.attr, attr, (size_t)n_attr * sizeof *attr);
    n.inputs = (int *)inputs, n.n_inputs = n_inputs; /* borrowed until it is copied */
    if (infer(g, &n, err))
        return err->status;
    if (g->n_nodes == g->cap) {
        if (g->cap >= MAX_NODES)
            return bad(err, &n, "a graph of more than %d nodes", MAX_NODES);
        int cap = g->cap ? 2 * g->cap : 64;
        imc_node *p = realloc(g->nodes, (size_t)cap * sizeof *p);
        if (!p)
            return imc_err_set(err, IMC_ENOMEM, "out of memory");
        g->nodes = p, g->cap = cap;
    }
    if (index_grow(g))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    int ok = (n.name = strdup(name)) != NULL;
    n.inputs = malloc((size_t)(n_inputs ? n_inputs : 1) * sizeof *n.inputs);
    ok = ok && n.inputs;
    if (ok && n_inputs)
        memcpy(n.inputs, inputs, (size_t)n_inputs * sizeof *inputs);
    for (int t = 0; ok && tensors && t < IMC_GRAPH_MAX_TENSORS && info->tensors[t]; t++)
        if (tensors[t] && !(n.tensor[t] = strdup(tensors[t])))
            ok = 0;
    if (!ok) {
        node_free(&n);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    g->nodes[g->n_nodes] = n;
    size_t k = name_hash(n.name) & (size_t)(g->index_cap - 1);
    while (g->index[k] >= 0)
        k = (k + 1) & (size_t)(g->index_cap - 1);
    g->index[k] = g->n_nodes;
    return g->n_nodes++;
}

int imc_graph_fold(imc_graph *g)
{
    int *readers = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *readers), folded = 0;
    if (!readers)
        return 0; /* unfolded is still exact */
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            readers[g->nodes[i].inputs[k]]++;
    for (int i = 0; i < g->n_nodes; i++) {
        imc_node *bn = &g->nodes[i];
        if (bn->op != IMC_NODE_BATCHNORM || bn->fold >= 0)
            continue;
        imc_node *w = &g->nodes[bn->inputs[0]];
        int channels_first = w->op == IMC_NODE_CONV2D || (w->op == IMC_NODE_LINEAR && w->ndim == 1);
        if (channels_first && w->fold < 0 && readers[bn->inputs[0]] == 1)
            bn->fold = bn->inputs[0], w->fold = i, folded++;
    }
    free(readers);
    return folded;
}

/* ---- JSON ------------------------------------------------------------------------------- */

char *imc_graph_to_json(const imc_graph *g)
{
    cJSON *root = cJSON_CreateObject(), *nodes = cJSON_CreateArray();
    int ok = root && nodes && cJSON_AddNumberToObject(root, "imcsim_graph", 1);
    if (ok)
        cJSON_AddItemToObject(root, "nodes", nodes);
    else
        cJSON_Delete(nodes);
    for (int i = 0; ok && i < g->n_nodes; i++) {
        const imc_node *n = &g->nodes[i];
        const op_info *info = &ops[n->op];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(nodes, o) && cJSON_AddStringToObject(o, "name", n->name) &&
             cJSON_AddStringToObject(o, "op", info->name);
        if (ok && info->max_in != 0) {
            cJSON *in = cJSON_AddArrayToObject(o, "inputs");
            for (int k = 0; (ok = in != NULL) && k < n->n_inputs; k++)
                ok = cJSON_AddItemToArray(in, cJSON_CreateString(g->nodes[n->inputs[k]].name));
        }
        if (ok && info->n_attrs == LIST_ATTRS) {
            cJSON *l = cJSON_AddArrayToObject(o, info->attrs[0]);
            for (int k = 0; (ok = l != NULL) && k < n->attr[0]; k++)
                ok = cJSON_AddItemToArray(l, cJSON_CreateNumber((double)n->attr[1 + k]));
        }
        for (int k = 0; ok && k < info->n_attrs; k++)
            ok = cJSON_AddNumberToObject(o, info->attrs[k], (double)n->attr[k]) != NULL;
        if (ok && info->value)
            ok = cJSON_AddNumberToObject(o, info->value, n->value) != NULL;
        for (int t = 0; ok && t < IMC_GRAPH_MAX_TENSORS && info->tensors[t]; t++)
            if (n->tensor[t])
                ok = cJSON_AddStringToObject(o, info->tensors[t], n->tensor[t]) != NULL;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* An integer JSON value that a double holds exactly. */
static int json_int(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) <= 9007199254740992.0) ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static int from_json_node(imc_graph *g, const cJSON *o, int index, const char *source, imc_err *err)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *opv = cJSON_GetObjectItemCaseSensitive(o, "op");
    if (!cJSON_IsObject(o) || !cJSON_IsString(name) || !cJSON_IsString(opv))
        return imc_err_at(err, IMC_EINPUT, source, 0, 0, "graph node %d: needs a \"name\" and an \"op\"",
                          index);
    const char *nm = name->valuestring;
    int op = imc_node_op_from_name(opv->valuestring);
    if (op < 0)
        return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: unsupported op '%.60s'", nm,
                          opv->valuestring);
    const op_info *info = &ops[op];
    int inputs[64], n_in = 0;
    int64_t attr[IMC_GRAPH_MAX_ATTRS] = {0};
    int n_attr = 0;
    const char *tensors[IMC_GRAPH_MAX_TENSORS] = {0};
    double value = 0;
    for (const cJSON *f = o->child; f; f = f->next) {
        const char *key = f->string;
        if (cJSON_GetObjectItemCaseSensitive(o, key) != f)
            return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: field \"%.40s\" given twice", nm,
                              key);
        int known = !strcmp(key, "name") || !strcmp(key, "op");
        if (!strcmp(key, "inputs") && info->max_in != 0) {
            known = 1;
            if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) > 64)
                return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: \"inputs\" must be a list of "
                                  "at most 64 node names", nm);
            for (const cJSON *e = f->child; e; e = e->next) {
                int id = cJSON_IsString(e) ? imc_graph_find(g, e->valuestring) : -1;
                if (id < 0)
                    return imc_err_at(err, IMC_EINPUT, source, 0, 0,
                                      "%s: input '%.80s' is not an earlier node (nodes must be in "
                                      "an order where inputs come first; a cycle has none)",
                                      nm, cJSON_IsString(e) ? e->valuestring : "?");
                inputs[n_in++] = id;
            }
        }
        if (info->n_attrs == LIST_ATTRS && !strcmp(key, info->attrs[0])) {
            known = 1;
            int len = cJSON_IsArray(f) ? cJSON_GetArraySize(f) : -1;
            if (len < 1 || len > IMC_GRAPH_MAX_DIMS)
                return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: \"%s\" must be a list of 1 "
                                  "to %d integers", nm, key, IMC_GRAPH_MAX_DIMS);
            attr[0] = len, n_attr = len + 1;
            int k = 1;
            for (const cJSON *e = f->child; e; e = e->next, k++)
                if (json_int(e, &attr[k]))
                    return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: \"%s\" must be a list of "
                                      "integers", nm, key);
        }
        for (int k = 0; !known && k < info->n_attrs; k++)
            if (!strcmp(key, info->attrs[k])) {
                known = 1;
                if (json_int(f, &attr[k]))
                    return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: \"%s\" must be an integer",
                                      nm, key);
            }
        if (!known && info->value && !strcmp(key, info->value)) {
            known = 1;
            if (!cJSON_IsNumber(f))
                return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: \"%s\" must be a number", nm, key);
            value = f->valuedouble;
        }
        for (int t = 0; !known && t < IMC_GRAPH_MAX_TENSORS && info->tensors[t]; t++)
            if (!strcmp(key, info->tensors[t])) {
                known = 1;
                if (!cJSON_IsString(f) || !*f->valuestring)
                    return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s: \"%s\" must name a tensor",
                                      nm, key);
                tensors[t] = f->valuestring;
            }
        if (!known)
            return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s (%s): unknown field \"%.40s\"", nm,
                              info->name, key);
    }
    if (info->n_attrs > 0) {
        n_attr = info->n_attrs;
        for (int k = 0; k < info->n_attrs; k++)
            if (!cJSON_GetObjectItemCaseSensitive(o, info->attrs[k]))
                return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s (%s): missing \"%s\"", nm,
                                  info->name, info->attrs[k]);
    }
    if (info->value && !cJSON_GetObjectItemCaseSensitive(o, info->value))
        return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s (%s): missing \"%s\"", nm, info->name,
                          info->value);
    if (imc_node_is_weighted(&(imc_node){.op = op}) && !tensors[0])
        return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s (%s): missing \"%s\"", nm, info->name,
                          info->tensors[0]);
    if (op == IMC_NODE_PARAM && !tensors[0])
        return imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s (param): missing \"tensor\"", nm);
    int rc = imc_graph_add(g, nm, (imc_node_op)op, inputs, n_in, attr, n_attr, value, tensors, err);
    if (rc < 0 && err->status == IMC_EINPUT && !err->file[0]) {
        imc_err e = *err;
        imc_err_at(err, IMC_EINPUT, source, 0, 0, "%s", e.msg);
    }
    return rc < 0 ? rc : 0;
}

int imc_graph_from_json(imc_graph *g, const char *json, const char *source, imc_err *err)
{
    imc_graph_init(g);
    int oom = 0;
    cJSON *root = imc_json_parse(json, &oom);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "imcsim_graph");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    int rc = 0;
    if (!root)
        rc = oom ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                 : imc_err_at(err, IMC_EINPUT, source, 0, 0, "the graph is not valid JSON");
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1)
        rc = imc_err_at(err, IMC_EINPUT, source, 0, 0, "the graph needs \"imcsim_graph\": 1");
    else if (!cJSON_IsArray(nodes) || !cJSON_GetArraySize(nodes))
        rc = imc_err_at(err, IMC_EINPUT, source, 0, 0, "the graph needs a list of \"nodes\"");
    int index = 0, outputs = 0;
    for (const cJSON *o = nodes ? nodes->child : NULL; !rc && o; o = o->next, index++)
        rc = from_json_node(g, o, index, source, err);
    for (int i = 0; !rc && i < g->n_nodes; i++)
        outputs += g->nodes[i].op == IMC_NODE_OUTPUT;
    if (!rc && (g->nodes[0].op != IMC_NODE_INPUT || outputs != 1 ||
                g->nodes[g->n_nodes - 1].op != IMC_NODE_OUTPUT))
        rc = imc_err_at(err, IMC_EINPUT, source, 0, 0, "the graph must start with its input and "
                        "end with its one output (it has %d)", outputs);
    cJSON_Delete(root);
    if (rc)
        imc_graph_free(g);
    return rc;
}

/* ---- crossbar matrices -------------------------------------------------------------------- */

int imc_graph_matrices(const imc_graph *g, imc_matrix **out, size_t *n, imc_err *err)
{
    size_t cap = 0, k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const imc_node *nd = &g->nodes[i];
        if (nd->op == IMC_NODE_CONV2D)
            cap += (size_t)nd->attr[IMC_CONV_GROUPS];
        else if (nd->op == IMC_NODE_LSTM || nd->op == IMC_NODE_GRU)
            cap += (size_t)nd->attr[IMC_RNN_LAYERS] * 4;
        else if (nd->op == IMC_NODE_LINEAR)
            cap++;
    }
    imc_matrix *m = malloc((cap ? cap : 1) * sizeof *m);
    if (!m)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++) {
        const imc_node *nd = &g->nodes[i];
        if (!imc_node_is_weighted(nd))
            continue;
        const imc_node *in = &g->nodes[nd->inputs[0]];
        const int64_t *a = nd->attr;
        if (nd->op == IMC_NODE_LINEAR) {
            m[k++] = (imc_matrix){i, 0, a[IMC_LIN_IN], a[IMC_LIN_OUT],
                                  numel(in->shape, in->ndim - 1)};
        } else if (nd->op == IMC_NODE_CONV2D) {
            int64_t gr = a[IMC_CONV_GROUPS];
            for (int64_t p = 0; p < gr; p++)
                m[k++] = (imc_matrix){i, (int)p, a[IMC_CONV_IN] / gr * a[IMC_CONV_KH] * a[IMC_CONV_KW],
                                      a[IMC_CONV_OUT] / gr, nd->shape[1] * nd->shape[2]};
        } else if (nd->op == IMC_NODE_LSTM || nd->op == IMC_NODE_GRU) {
            int64_t H = a[IMC_RNN_HIDDEN], dirs = a[IMC_RNN_BIDIR] ? 2 : 1, T = in->shape[0];
            for (int64_t l = 0; l < a[IMC_RNN_LAYERS]; l++)
                for (int64_t d = 0; d < dirs; d++) {
                    int64_t x = l ? H * dirs : a[IMC_RNN_IN];
                    int part = (int)(l * dirs + d);
                    if (nd->op == IMC_NODE_LSTM) {
                        m[k++] = (imc_matrix){i, part, x + H, 4 * H, T};
                    } else {
                        m[k++] = (imc_matrix){i, part * 2, x, 3 * H, T};
                        m[k++] = (imc_matrix){i, part * 2 + 1, H, 3 * H, T};
                    }
                }
        }
    }
    *out = m;
    *n = k;
    return 0;
}

void imc_graph_print(const imc_graph *g, FILE *out)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const imc_node *n = &g->nodes[i];
        char s[96];
        imc_shape_str(n->shape, n->ndim, s, sizeof s);
        fprintf(out, "%4d  %-10s %-40s %-*s", i, ops[n->op].name, n->name, n->n_inputs ? 22 : 0, s);
        for (int k = 0; k < n->n_inputs; k++)
            fprintf(out, "%s%s", k ? ", " : " <- ", g->nodes[n->inputs[k]].name);
        if (n->op == IMC_NODE_BATCHNORM && n->fold >= 0)
            fprintf(out, "  (folded into %s)", g->nodes[n->fold].name);
        fputc('\n', out);
    }
}
