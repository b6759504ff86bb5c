/* graphrows.h -- what graphflow.c keeps per node of the graph while it turns it into ops: the
 * rows of each node's output (the op that made each, or a group of them), and where what waits
 * for them is kept (parked in the global store). Internal to sim/flow (graphrows.c). */
#ifndef IMC_FLOW_GRAPHROWS_H
#define IMC_FLOW_GRAPHROWS_H

#include <stdint.h>

#include "sim/flow/builder.h"

typedef struct node_ops {
    uint32_t done;  /* an op after which the whole output exists (UINT32_MAX: a parameter) */
    uint32_t *rows; /* per row, the op that produced it; NULL when not produced row by row */
    uint32_t n_rows;
    int chan;       /* rows are the positions of a [C][H][W] tensor, C wide */
    int site;       /* the layer whose tile hosts its element-wise work (-1: the chip's) */
    uint32_t *parked; /* per row, its STORE once parked in the global store (parked_rows) */
    uint32_t parked_done; /* a barrier after every row's STORE, once has_parked_done */
    int has_parked_done;
    uint32_t *head_ready; /* per leading index (head) of the matmuls reading the parked rows:
                             a barrier after parked_done (n_heads of them) */
    uint32_t n_heads;
    int n_readers, reader; /* nodes reading its output; the first of them */
    int seq;        /* whole-tensor waits on the longest path to it: two inputs that differ
                       here mean one waits, made, while the other needs a whole tensor */
} node_ops;

typedef struct gflow {
    imc_flow_builder *b;    /* the flow being built */
    const imc_network *net; /* its layers */
    const imc_graph *g;     /* the graph turned into ops (net->graph or the native bound's) */
    node_ops *n;            /* per node of g */
    int qt;                 /* mapping.query_tile */
    /* Rows that join several ops (a row of heads or directions concatenated) are a group until
       something needs them as one op: a row's value GROUP | g names group g, whose ops are
       group_ops[group_first[g] .. group_first[g + 1]); group_bar[g] its barrier once made. A
       weight layer takes the ops themselves, so most groups never become a barrier (op). */
    uint32_t *group_first, *group_ops, *group_bar;
    size_t n_groups, n_group_ops, cap_groups, cap_group_ops;
} gflow;

#define GROUP 0x80000000u /* a row value naming a group (gflow), not an op */

/* The network layer of weight node I (its first matrix). The graph may be the native bound's
 * (imc_network_native_graph), whose nodes are named as the layers. */
int gf_layer_of(const gflow *f, int i);

/* Rows and width of node I's output. */
void gf_geometry(const gflow *f, int i, uint32_t *rows, uint32_t *width);

/* The op a row's value V stands for: V itself, or its group's barrier (made now if need be). */
uint32_t gf_op_of(gflow *f, uint32_t v);

/* The value (op or group) row R of node J's output stands for, given the consumer has N_ROWS
 * rows (the whole output's op when the rows do not match). */
uint32_t gf_row_val(const gflow *f, int j, uint32_t r, uint32_t n_rows);

/* The op row R of node J's output waits for, given the consumer has N_ROWS rows. */
uint32_t gf_row_dep(gflow *f, int j, uint32_t r, uint32_t n_rows);

/* A barrier after DEPS: no work, and it passes no data on (its readers wait, and take their
 * data from elsewhere: the store, or their own window's producers). */
uint32_t gf_barrier(gflow *f, uint32_t name, const uint32_t *deps, size_t n);

/* A barrier joining DEPS (or the single op itself). */
uint32_t gf_join(gflow *f, uint32_t name, const uint32_t *deps, size_t n);

/* A barrier joining the distinct ops of ROWS (consecutive repeats dropped). */
uint32_t gf_join_distinct(gflow *f, uint32_t name, const uint32_t *rows, uint32_t n);

/* Node I's rows array for N rows (0, or nonzero with the flow failed). */
int gf_alloc_rows(gflow *f, int i, uint32_t n);

/* The N rows ROWS (ops), each WIDTH values, parked in the global store: a STORE per row after
 * the op that made it, from the tile of layer SITE. What waits for a consumer that first needs a
 * whole tensor goes there (a residual skip around a token mixer, the input of a recurrent
 * layer): a tile buffer cannot hold a sequence at transformer sizes, and a tile whose buffer is
 * full stalls its layer. NULL on failure. */
uint32_t *gf_park(gflow *f, int site, const uint32_t *rows, uint32_t n, uint32_t width, uint32_t name);

/* Node J's rows parked in the global store, once: every reader shares the STOREs. */
const uint32_t *gf_parked_rows(gflow *f, int j, uint32_t name);

/* Append to DEPS (at most MAX, *N so far) the ops row value V stands for: a group's each, or,
 * when they would not fit, the group's barrier. */
void gf_parts_of(gflow *f, uint32_t v, uint32_t *deps, size_t *n, size_t max);

/* Operand J of a matmul, in the global store: a barrier after its writes. When J is a reshape,
 * transpose or slice of a tensor made row by row, it is those rows that are written, each as it
 * is made, once for every operand cut from them (a DeiT attention's Q, K and V from its qkv
 * rows, each written as its token's qkv MVM ends); otherwise J's output as a whole, once it
 * exists. */
uint32_t gf_stored(gflow *f, int j, uint32_t name);

/* Operand J of a matmul ready for leading index (head) Q: when J's rows were parked, a barrier
 * per head after them, shared by every matmul reading them (Q K^T and S V of that head). In
 * mapping.matmul: rewrite, it is there that the engine programs the head's K and V into
 * crossbars, once per head. */
uint32_t gf_head_ready(gflow *f, int j, uint32_t q, uint32_t n_heads, uint32_t ready, uint32_t name);

/* Node I costs nothing here: its output is its input, row for row. */
void gf_alias_rows(gflow *f, int i);

/* Data movement node I row by row where its input came so: output row r waits for the ops of
 * the input rows it reads (a concatenation along the last dimension: every input's row r), so
 * what comes after it pipelines (a FAR head's slice of pre_proj into its LSTMs, attention's
 * heads joined into proj tile by tile). Returns 0 when it cannot (whole-tensor inputs, feature
 * maps, a transpose of the last dimension): then it waits for all of its input. */
int gf_pass_rows(gflow *f, int i, uint32_t name);

#endif
