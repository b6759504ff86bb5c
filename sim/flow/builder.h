/* builder.h -- appending ops to an imc_flow: what dataflow.c (the flow and its op helpers) and
 * graphflow.c (a network's graph turned into ops) share. Internal to sim/flow. */
#ifndef IMC_FLOW_BUILDER_H
#define IMC_FLOW_BUILDER_H

#include <stdint.h>

#include "sim/flow/dataflow.h"

typedef struct imc_flow_builder {
    imc_flow *g;
    size_t cap_ops, cap_deps, cap_names;
    int failed; /* out of memory: every later call does nothing */
    uint64_t ab; /* activation bits */
    uint32_t *layer_names; /* per network layer, the index of its name once looked up
                              (UINT32_MAX before); NULL: look it up every time */
} imc_flow_builder;

/* The index of ledger name FMT, added if new. */
uint32_t imc_flow_name(imc_flow_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append OP depending on the ops DEPS (UINT32_MAX entries skipped); returns its index. */
uint32_t imc_flow_emit(imc_flow_builder *b, imc_op op, const uint32_t *deps, size_t n);

/* One input vector (TOKEN) through network layer LAYER. */
imc_op imc_flow_mvm(imc_flow_builder *b, const imc_network *net, int layer, uint32_t token);

/* Element-wise work on the digital unit next to SITE's tile (-1: the chip's). */
imc_op imc_flow_vec(int cls, int site, uint32_t name, uint32_t token, uint64_t in_bits,
                    uint64_t out_bits, int n_work, const imc_work *work);

/* The ops of one inference of NET as graph G (net->graph, or its native bound's), graphflow.c. */
void imc_graphflow(imc_flow_builder *b, const imc_network *net, const imc_graph *g,
                   const imc_dataflow_opts *opts);

#endif
