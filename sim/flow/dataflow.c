/* dataflow.c -- the op graph of one inference of a network (see dataflow.h): the network's graph
 * of generic ops (net->graph: an imported model's, or the one vitgraph.c builds of a DeiT / FAR
 * network) turned into ops by graphflow.c; for the native bound (--native) the DeiT / FAR graph
 * with its token mixers reduced to their weight layers. The op builder graphflow uses is here
 * (builder.h), with the names of op kinds and classes. */
#include "sim/flow/dataflow.h"

#include "sim/base/hugepages.h"
#include "sim/flow/builder.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
    if (!strcmp(fmt, "%s")) { /* most names: a node's or layer's, as is (and as cut) */
        const char *s = va_arg(ap, const char *);
        size_t len = strnlen(s, sizeof buf - 1);
        memcpy(buf, s, len);
        buf[len] = '\0';
    } else {
        vsnprintf(buf, sizeof buf, fmt, ap);
    }
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
        /* from one huge page on: no 4 KB faults while a large graph grows */
        size_t cap = b->cap_ops ? imc_hugepages_next(b->cap_ops * sizeof *g->ops) / sizeof *g->ops
                                : IMC_HUGE_PAGE / sizeof *g->ops;
        imc_op *grown = imc_hugepages_grow(g->ops, g->n_ops * sizeof *grown, cap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return 0;
        }
        g->ops = grown;
        b->cap_ops = cap;
    }
    if (g->n_deps + n > b->cap_deps) {
        size_t cap = b->cap_deps ? imc_hugepages_next(b->cap_deps * sizeof *g->deps) / sizeof *g->deps
                                 : IMC_HUGE_PAGE / sizeof *g->deps;
        while (cap < g->n_deps + n)
            cap *= 2;
        uint32_t *grown =
            imc_hugepages_grow(g->deps, g->n_deps * sizeof *grown, cap * sizeof *grown);
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
    uint32_t name = b->layer_names ? b->layer_names[layer] : UINT32_MAX;
    if (name == UINT32_MAX) { /* looked up once per layer: a layer has an MVM per token */
        name = imc_flow_name(b, "%s", l->name);
        if (b->layer_names && !b->failed)
            b->layer_names[layer] = name;
    }
    return (imc_op){.kind = IMC_OP_MVM, .cls = IMC_CLS_MVM, .layer = layer, .site = layer,
                    .name = name, .token = token, .head = l->head,
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
    imc_graph native;
    const imc_graph *graph = &net->graph;
    if (opts->drop_mixer) {
        if (imc_network_is_generic(net)) {
            imc_flow_free(g);
            return imc_err_set(err, IMC_EINPUT, "%s: the native bound (--native) removes a DeiT or "
                               "FAR network's token mixers; an imported graph has none it knows",
                               net->name);
        }
        int rc = imc_network_native_graph(net, &native, err);
        if (rc) {
            imc_flow_free(g);
            return rc;
        }
        graph = &native;
    }
    if (!graph->n_nodes) {
        imc_flow_free(g);
        return imc_err_set(err, IMC_EINPUT, "%s: no graph to build the op graph from", net->name);
    }
    if ((b.layer_names = malloc(net->n_layers * sizeof *b.layer_names)) != NULL)
        memset(b.layer_names, 0xff, net->n_layers * sizeof *b.layer_names);
    imc_graphflow(&b, net, graph, opts);
    free(b.layer_names);
    if (graph == &native)
        imc_graph_free(&native);
    if (b.failed) {
        imc_flow_free(g);
        return imc_err_set(err, IMC_ENOMEM, "out of memory building the op graph");
    }
    *out = g;
    return 0;
}
