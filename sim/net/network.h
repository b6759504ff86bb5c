/* network.h -- a DeiT or FAR vision transformer, as read from a model file.
 *
 * The structure is inferred from timm VisionTransformer tensor names and shapes, plus the
 * file's __metadata__ for what shapes cannot say (num_heads of attention blocks). Each block is
 * either self-attention or FAR (a multi-head BiLSTM, docs/SOURCES.md), in the masked
 * single-LSTM form the FAR reference code saves or the per-head split form; pruned FAR hidden
 * units (all-zero rows in every gate) are found and left out. The network then lists its
 * weight matrices ("layers") in dataflow order, each as `in` inputs x `out` outputs, which is
 * what the mapper places on crossbars and the numerics multiply.
 *
 * Reads tensor data only where the structure is in the data: the LSTM weights of masked-form
 * FAR blocks (to find pruned units and check the per-head masks). Knows nothing of hardware.
 *
 * Any other network comes as a graph of generic ops in the file's __metadata__ (key
 * imcsim_graph, graph.h) with its weights under PyTorch's names (generic.c): then the layers
 * are the graph's weight matrices, and the DeiT fields (depth, blocks, tokens, ...) are 0. */
#ifndef IMC_NETWORK_H
#define IMC_NETWORK_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/err.h"
#include "sim/net/graph.h"
#include "sim/net/netfile.h"

typedef enum imc_block_kind { IMC_BLOCK_ATTENTION, IMC_BLOCK_FAR } imc_block_kind;

enum { IMC_DIR_FWD, IMC_DIR_BWD };

typedef struct imc_far_dir {
    int hidden;  /* kept hidden units of this head and direction (<= head_dim) */
    int *units;  /* their indices within the head, ascending (masked form); split form: 0.. */
} imc_far_dir;

typedef struct imc_block {
    imc_block_kind kind;
    int mlp_hidden;     /* fc1 outputs */
    int far_split;      /* FAR: stored per head (else one masked LSTM) */
    imc_far_dir *far;   /* FAR: [head * 2 + dir] */
} imc_block;

typedef enum imc_layer_kind {
    IMC_LAYER_PATCH_EMBED,
    IMC_LAYER_QKV,
    IMC_LAYER_ATTN_PROJ,
    IMC_LAYER_FAR_PRE,
    IMC_LAYER_FAR_LSTM,      /* one head and direction: [W_ih | W_hh] fused */
    IMC_LAYER_FAR_HEAD_PROJ, /* one head: its forward and backward hidden states -> head_dim */
    IMC_LAYER_FAR_POST,
    IMC_LAYER_FC1,
    IMC_LAYER_FC2,
    IMC_LAYER_HEAD,
    IMC_LAYER_LINEAR,        /* a weight layer of a generic graph (generic.c), by its op */
    IMC_LAYER_CONV2D,        /* one group of a convolution, im2col: C_in/groups x kh x kw rows */
    IMC_LAYER_LSTM,          /* one layer and direction: [W_ih | W_hh] fused */
    IMC_LAYER_GRU,           /* one layer and direction's W_ih, or its W_hh */
    IMC_LAYER_KIND_COUNT
} imc_layer_kind;

/* A weight matrix: `in` inputs (crossbar rows) by `out` outputs (crossbar columns). */
typedef struct imc_layer {
    char name[96];       /* "blocks.3.attn.qkv", "blocks.3.attn.lstm.h2.fwd", ... */
    imc_layer_kind kind;
    int block, head, dir; /* -1 where not applicable */
    int in, out;
    int64_t vectors;     /* input vectors per inference (tokens; LSTM steps; 1 for the head) */
    int has_bias;
    int node, part;      /* a generic graph's weight node and its matrix (imc_matrix); -1 else */
} imc_layer;

typedef struct imc_network {
    char *name;          /* __metadata__ model_name, else the file name */
    const imc_netfile *file;
    int embed_dim, depth, num_heads, head_dim;
    int img_size, patch_size, in_chans, num_classes;
    int in_h, in_w;      /* an input's height and width (in_chans x in_h x in_w values): a
                            DeiT/FAR image is img_size square; an imported graph's input
                            [C][H][W], [T][F] (1 x T x F) or [F] (1 x 1 x F) */
    int patches, tokens; /* tokens = patches + CLS (+ distillation token) */
    int dist_token;
    imc_block *blocks;
    imc_layer *layers;
    size_t n_layers;
    int64_t params_total;     /* every element of every tensor */
    int64_t params_effective; /* excluding masked zeros and pruned units of FAR blocks */
    float layernorm_eps;      /* __metadata__ layernorm_eps, else timm's 1e-6 */
    imc_graph graph;          /* the same network as generic ops (vitgraph.c); no nodes when the
                                 network came from a trace */
} imc_network;

/* Infer the network stored in NF (which must outlive it). Errors name the tensor. */
int imc_network_load(imc_network **out, const imc_netfile *nf, imc_err *err);

void imc_network_free(imc_network *net);

/* NET as a graph of generic ops (vitgraph.c): what imc_network_load stores in net->graph. */
int imc_network_build_graph(const imc_network *net, imc_graph *g, imc_err *err);

/* The native bound of DeiT / FAR network NET (--native) as a graph for the timing: every token
 * mixer reduced to its weight layers, per token (qkv then proj, pre_proj then post_proj), with
 * nothing that mixes tokens. Its weight nodes are named as NET's layers (imc_network_layer_named);
 * it has no tensors to compute with. */
int imc_network_native_graph(const imc_network *net, imc_graph *g, imc_err *err);

/* Whether NET came as a generic graph (an imported model), not as DeiT / FAR tensors. */
int imc_network_is_generic(const imc_network *net);

/* Number of FAR blocks. */
int imc_network_far_blocks(const imc_network *net);

/* The index of the layer of KIND in BLOCK (-1: outside the blocks) with that HEAD and DIR
 * (each -1: any), or -1 when there is none. */
int imc_network_find_layer(const imc_network *net, imc_layer_kind kind, int block, int head,
                           int dir);

/* The weights of LAYER as a row-major [in][out] float matrix W (W[i * out + o] multiplies input
 * i into output o), gathered from the file's tensors; and its bias [out] when BIAS is non-NULL
 * (zeros if it has none). */
int imc_network_layer_weights(const imc_network *net, const imc_layer *layer, float *w,
                              float *bias, imc_err *err);

/* The layer of matrix PART of weight node NODE of net->graph (imc_matrix), or -1. */
int imc_network_layer_of(const imc_network *net, int node, int part);

/* The layer named NAME (a DeiT / FAR graph's weight node's name), or -1. */
int imc_network_layer_named(const imc_network *net, const char *name);

/* Name of a layer kind ("qkv", "far_lstm", ...). */
const char *imc_layer_kind_name(imc_layer_kind kind);

/* `imcsim-model info`: structure, parameter counts and per-layer shapes. */
void imc_network_print(const imc_network *net, FILE *out);

#endif
