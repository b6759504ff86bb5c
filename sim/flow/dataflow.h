/* dataflow.h -- the op graph of one inference of a network: what runs, on which data, after
 * what. Built from a network's graph of generic ops (graphflow.c, for DeiT / FAR as for an
 * imported model; dataflow.c holds the entry point) or read from a trace file (trace.c);
 * executed by the engine. Knows nothing of hardware or time.
 *
 * Granularity is one token (one input vector) per op: an MVM pushes one vector through one
 * mapped weight matrix; a VECTOR op is element-wise work on a digital unit (LayerNorm, GELU,
 * residual add, softmax, an LSTM cell update: a few (function, count) pairs); a MATMUL is an
 * activation x activation product (a tile of queries' rows of Q K^T, or of S V); a STORE writes
 * a token's data (its Q, K and V; FAR's sequence; a residual skip) where later ops read it, and it stays
 * there until every op depending on it (directly or through a barrier) has run; a BARRIER joins
 * many ops into one
 * dependency (all K and V of a layer), so the graph stays linear in tokens. Dependencies are
 * real: an op runs when every op it lists has finished and their outputs have reached it. */
#ifndef IMC_DATAFLOW_H
#define IMC_DATAFLOW_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/err.h"
#include "sim/net/network.h"

#define IMC_TRACE_VERSION 2

typedef enum imc_op_kind {
    IMC_OP_MVM,     /* one input vector through the mapped layer `layer` */
    IMC_OP_VECTOR,  /* element-wise work (`work`) on the digital unit next to `site` */
    IMC_OP_MATMUL,  /* activation x activation: m x k by k x n MACs */
    IMC_OP_STORE,   /* write `out_bits` (a head's Q, K, V of a token) to the store */
    IMC_OP_BARRIER, /* no work: joins its dependencies */
    IMC_OP_INPUT,   /* the image arrives from off chip (out_bits) */
    IMC_OP_OUTPUT,  /* the logits leave the chip (in_bits) */
    IMC_OP_KIND_COUNT
} imc_op_kind;

/* What an op is for: the `op` column of the energy breakdown. */
typedef enum imc_op_class {
    IMC_CLS_MVM,
    IMC_CLS_EMBED,     /* an embedding table's rows (a language model's tokens) */
    IMC_CLS_LAYERNORM,
    IMC_CLS_GELU,
    IMC_CLS_RESIDUAL,
    IMC_CLS_QK,        /* attention scores Q K^T (traces; imcsim's flows write MATMUL) */
    IMC_CLS_SOFTMAX,
    IMC_CLS_SV,        /* attention output S V (traces; imcsim's flows write MATMUL) */
    IMC_CLS_STORE,     /* data parked in the store: attention Q K V, FAR sequence, skips */
    IMC_CLS_LSTM_CELL, /* an LSTM's (FAR's) gate non-linearities and cell update */
    IMC_CLS_SYNC,
    IMC_CLS_IO,
    IMC_CLS_TRANSFER,  /* charged by the engine: moving outputs between sites */
    IMC_CLS_REPROGRAM, /* charged by the engine: rewriting crossbars */
    IMC_CLS_LEAKAGE,   /* charged by the engine: static power over the run */
    IMC_CLS_ACTIVATION, /* ReLU, SiLU, sigmoid, tanh */
    IMC_CLS_BATCHNORM,
    IMC_CLS_POOL,      /* pooling, means */
    IMC_CLS_MATMUL,    /* an activation product (attention's Q K^T and S V among them) */
    IMC_CLS_SCALE,     /* element-wise products and scaling (LayerScale) */
    IMC_CLS_RNN_CELL,  /* a GRU's gates and update */
    IMC_CLS_COUNT
} imc_op_class;

/* Element-wise functions; the values are the digital model's actions (IMC_DIGITAL_*). */
typedef struct imc_work {
    uint8_t func;   /* IMC_DIGITAL_ADD ... IMC_DIGITAL_MAX */
    uint32_t count; /* elements */
} imc_work;

#define IMC_OP_MAX_WORK 4

typedef struct imc_op {
    uint8_t kind;          /* imc_op_kind */
    uint8_t cls;           /* imc_op_class */
    uint16_t n_work;       /* VECTOR: entries of `work` */
    int32_t layer;         /* MVM: the mapped layer (index into the graph's layers); else -1 */
    int32_t site;          /* the layer whose tile hosts the op (VECTOR, STORE source); MVM:
                              == layer; -1: chip level (global buffer, MAC array, I/O) */
    uint32_t name;         /* index into the graph's names: the ledger's `layer` column */
    uint32_t token;        /* the token it works on (for timelines and checks) */
    int32_t head;          /* the attention or FAR head it belongs to, -1 for none */
    uint64_t in_bits;      /* data it consumes (OUTPUT), or reads from the store (MATMUL) */
    uint64_t out_bits;     /* data it produces, moved to the ops that depend on it */
    uint32_t m, k, n;      /* MATMUL sizes */
    uint32_t take_bits;    /* MVM of a sliding window (a convolution's output position): the
                              bits it takes from each op it depends on (its group's channels of
                              one input position), sent to each tile of its layer copy only for
                              the first window there that takes them (the tile buffer keeps
                              them: window reuse); 0: each producer sends all of its output, up
                              to in_bits, to the home tile, which passes in_bits on to the
                              copy's other tiles */
    imc_work work[IMC_OP_MAX_WORK];
    uint32_t first_dep;    /* its dependencies: deps[first_dep .. first_dep + n_deps) */
    uint32_t n_deps;
} imc_op;

typedef struct imc_flow {
    char *model;           /* model name */
    int tokens, embed_dim, num_heads, act_bits;
    imc_layer *layers;     /* the weight matrices the MVMs use (copied from the network, or
                              read from a trace), in the network's order */
    size_t n_layers;
    char **names;          /* ledger names ("blocks.3.attn", "blocks.3.mlp.fc1", ...) */
    size_t n_names;
    imc_op *ops;           /* in a topological order: every dependency comes earlier */
    size_t n_ops;
    uint32_t *deps;
    size_t n_deps;
} imc_flow;

typedef struct imc_dataflow_opts {
    int act_bits;     /* bits of an activation moved between ops (mapping.input_bits) */
    int query_tile;   /* attention queries per Q K^T / S V op (mapping.query_tile) */
    int drop_mixer;   /* the "native" bound: every token mixer (attention or FAR) reduced to its
                         weight layers as per-token MVMs (qkv then proj, pre_proj then post_proj),
                         with nothing that mixes tokens */
} imc_dataflow_opts;

/* Build the op graph of one inference of NET. */
int imc_dataflow_build(imc_flow **out, const imc_network *net, const imc_dataflow_opts *opts,
                       imc_err *err);

void imc_flow_free(imc_flow *g);

const char *imc_op_kind_name(imc_op_kind kind);
const char *imc_op_class_name(imc_op_class cls);

#endif
