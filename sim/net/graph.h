/* graph.h -- a network as a graph of generic layers and ops: the description every model
 * family produces (vitgraph.c for DeiT/FAR, generic.c for an imported model), which the forward
 * passes execute, whose weight matrices the mapper places and whose timing is built from it
 * (sim/flow/graphflow.c: attention's query tiles and stores, FAR's sequence store, a CNN's
 * sliding windows).
 *
 * A node is one PyTorch-level operation on one image: a weight layer (linear, conv2d, LSTM,
 * GRU), an op between activations (matmul, softmax, norms, activations, pooling, add, mul,
 * scale, reshape, transpose, concat, slice, mean), a table lookup (embedding: a language
 * model's tokens, held digitally, not on crossbars), a parameter tensor of the model file, or the
 * input and output. Shapes are per image (no batch dimension): an image is [C][H][W], a token
 * sequence [T][D]. Nodes are stored in a topological order: a node's inputs are earlier nodes,
 * so a graph with a cycle cannot be built. Every node carries its module path ("blocks.3.attn.
 * qkv", "layer1.0.conv2"), which is what errors name.
 *
 * The ops, their inputs, attributes and weight tensors are one table (graph.c): the JSON form
 * (imc_graph_to_json, imc_graph_from_json: what a model file's __metadata__ carries), the
 * checks and the shape inference all read it, so adding an op is one entry and its shape rule.
 *
 * A weight layer expands to the matrices a crossbar holds (imc_graph_matrices): linear: in x
 * out, one vector per row of its input; conv2d (im2col): C_in/groups x kh x kw inputs by
 * C_out/groups outputs per group, one vector per output position; LSTM: [W_ih | W_hh] per layer
 * and direction, (input + hidden) x 4 hidden, one vector per step; GRU: W_ih and W_hh apart
 * (its candidate gate multiplies W_hh h by the reset gate), one vector per step each.
 *
 * Knows nothing of hardware or of how a node's weights are read (network.c). */
#ifndef IMC_GRAPH_H
#define IMC_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/base/err.h"

#define IMC_GRAPH_MAX_DIMS 6
#define IMC_GRAPH_MAX_ATTRS 12
#define IMC_GRAPH_MAX_TENSORS 6

typedef enum imc_node_op {
    IMC_NODE_INPUT,     /* the image: attrs = its shape */
    IMC_NODE_OUTPUT,    /* the logits: one input */
    IMC_NODE_PARAM,     /* a tensor of the model file (class token, position embedding) */
    IMC_NODE_LINEAR,    /* y = x W^T + b over the last dimension */
    IMC_NODE_CONV2D,    /* [C][H][W] -> [C'][H'][W'], any kernel, stride, padding, groups */
    IMC_NODE_LSTM,      /* [T][in] -> [T][hidden x directions]; gates i, f, g, o */
    IMC_NODE_GRU,       /* likewise; gates r, z, n */
    IMC_NODE_MATMUL,    /* activation x activation: [..][m][k] x [..][k][n] */
    IMC_NODE_SOFTMAX,   /* over attribute dim */
    IMC_NODE_LAYERNORM, /* over the last dimension */
    IMC_NODE_BATCHNORM, /* per channel (dimension 0), running statistics (inference) */
    IMC_NODE_GELU,      /* exact (erf) */
    IMC_NODE_RELU,
    IMC_NODE_SILU,
    IMC_NODE_SIGMOID,
    IMC_NODE_TANH,
    IMC_NODE_MAXPOOL,   /* 2-D over [C][H][W] */
    IMC_NODE_AVGPOOL,   /* 2-D, padding counted as zeros (PyTorch's count_include_pad) */
    IMC_NODE_MEAN,      /* over attribute dim, which is dropped */
    IMC_NODE_ADD,       /* two inputs, the second broadcast to the first's shape */
    IMC_NODE_MUL,       /* likewise (LayerScale: x * gamma) */
    IMC_NODE_SCALE,     /* x * a constant */
    IMC_NODE_RESHAPE,
    IMC_NODE_TRANSPOSE, /* a permutation of the dimensions */
    IMC_NODE_CONCAT,    /* along attribute dim */
    IMC_NODE_SLICE,     /* [start, end) along attribute dim */
    IMC_NODE_EXPAND,    /* broadcast to attribute shape (a bias standing for a pruned head) */
    IMC_NODE_EMBEDDING, /* token ids (integers held as floats) -> rows of a table: [..] -> [..][dim] */
    IMC_NODE_OP_COUNT
} imc_node_op;

typedef struct imc_node {
    char *name;             /* module path, unique in the graph */
    imc_node_op op;
    int *inputs;            /* earlier nodes */
    int n_inputs;
    int64_t attr[IMC_GRAPH_MAX_ATTRS]; /* the op's integer attributes, in its table order */
    double value;           /* eps (norms), the factor (scale); 0 otherwise */
    char *tensor[IMC_GRAPH_MAX_TENSORS]; /* the op's weight tensors in the model file (NULL:
                                            absent, e.g. no bias) */
    int ndim;               /* output shape, per image (inferred) */
    int64_t shape[IMC_GRAPH_MAX_DIMS];
    int fold;               /* a batchnorm folded into the weight layer before it: that layer;
                               such a layer: the batchnorm; -1 otherwise (imc_graph_fold) */
} imc_node;

typedef struct imc_graph {
    imc_node *nodes;
    int n_nodes, cap;
    int *index;      /* open-addressing table of node indices by name (-1: empty) */
    int index_cap;   /* a power of two, at least twice n_nodes */
} imc_graph;

/* The integer attributes of each op, by position in imc_node.attr. */
enum { IMC_LIN_IN, IMC_LIN_OUT };
enum { IMC_CONV_IN, IMC_CONV_OUT, IMC_CONV_KH, IMC_CONV_KW, IMC_CONV_SH, IMC_CONV_SW,
       IMC_CONV_PH, IMC_CONV_PW, IMC_CONV_DH, IMC_CONV_DW, IMC_CONV_GROUPS };
enum { IMC_RNN_IN, IMC_RNN_HIDDEN, IMC_RNN_LAYERS, IMC_RNN_BIDIR, IMC_RNN_REVERSE };
enum { IMC_POOL_KH, IMC_POOL_KW, IMC_POOL_SH, IMC_POOL_SW, IMC_POOL_PH, IMC_POOL_PW };
enum { IMC_DIM = 0 };                  /* softmax, mean, concat, slice */
enum { IMC_SLICE_START = 1, IMC_SLICE_END = 2 };
enum { IMC_NORM_SIZE = 0 };            /* layernorm, batchnorm: features or channels */
enum { IMC_EMB_NUM, IMC_EMB_DIM };     /* embedding: table rows (vocabulary), row width */
/* input, param, reshape, expand: attr[0] = ndim, attr[1..] = the shape (reshape: one may be -1);
   transpose: attr[0] = ndim, attr[1..] = the permutation */

/* Weight tensors, by position in imc_node.tensor. */
enum { IMC_T_WEIGHT, IMC_T_BIAS };                          /* linear, conv2d, norms; embedding's table */
enum { IMC_T_MEAN = 2, IMC_T_VAR = 3 };                     /* batchnorm */
enum { IMC_T_PARAM = 0 };                                   /* param */
/* LSTM/GRU: per layer, tensors are named by prefix: tensor[0] is the module prefix and the
   weights are <prefix>.weight_ih_l<k>[_reverse] etc., as torch.nn.LSTM names them */

void imc_graph_init(imc_graph *g);
void imc_graph_free(imc_graph *g);

/* Append a node; its shape is inferred and checked against its inputs. ATTR holds the op's
 * attributes in table order (the unused tail ignored), TENSORS its tensor names (NULL entries:
 * absent). Returns the node's index, or a negative status with an error naming the node. */
int imc_graph_add(imc_graph *g, const char *name, imc_node_op op, const int *inputs,
                  int n_inputs, const int64_t *attr, int n_attr, double value,
                  const char *const *tensors, imc_err *err);

/* Fold every batchnorm into the weight layer before it where inference allows: the layer's only
 * reader is the batchnorm and its output's dimension 0 is its output channels (a convolution; a
 * linear layer giving one vector). Sets both nodes' `fold`; the layer's weights and bias then
 * carry the normalisation (scale s = gamma / sqrt(var + eps) per output channel, bias (b - mean)
 * s + beta) and the batchnorm passes its input on. Returns how many were folded. */
int imc_graph_fold(imc_graph *g);

/* The index of the node named NAME, or -1. */
int imc_graph_find(const imc_graph *g, const char *name);

/* The graph's nodes as JSON text (caller frees), and back. Reading checks every node as
 * imc_graph_add does; errors name SOURCE, the node and the field. */
char *imc_graph_to_json(const imc_graph *g);
int imc_graph_from_json(imc_graph *g, const char *json, const char *source, imc_err *err);

/* The op's name in JSON and messages ("conv2d"), and back (-1: unknown). */
const char *imc_node_op_name(imc_node_op op);
int imc_node_op_from_name(const char *name);

/* Whether the node holds weights a crossbar stores. */
int imc_node_is_weighted(const imc_node *n);

/* One crossbar matrix of a weight layer: `in` rows by `out` columns, `vectors` input vectors per
 * image. */
typedef struct imc_matrix {
    int node;       /* the weight layer */
    int part;       /* its index among its node's matrices: conv2d: the group; LSTM: layer x
                       directions + direction; GRU: 2 x that + (0: W_ih, 1: W_hh); else 0 */
    int64_t in, out, vectors;
} imc_matrix;

/* Every weight layer's matrices, in node order (caller frees *OUT). */
int imc_graph_matrices(const imc_graph *g, imc_matrix **out, size_t *n, imc_err *err);

/* Elements of a node's output per image. */
size_t imc_node_numel(const imc_node *n);

/* "[3, 224, 224]" */
void imc_shape_str(const int64_t *shape, int ndim, char *buf, size_t size);

/* One line per node: index, op, name, inputs, shape. */
void imc_graph_print(const imc_graph *g, FILE *out);

#endif
