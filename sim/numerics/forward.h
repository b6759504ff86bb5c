/* forward.h -- the reference forward pass of a network on images, in FP32: its graph of
 * generic ops (net->graph, sim/net/graph.h) executed node by node over a batch.
 *
 * The ops follow PyTorch (forward.c, kernels.c): DeiT is timm's VisionTransformer (pre-norm
 * blocks, exact-erf GELU, softmax(q k^T / sqrt(head_dim)) v, classifier on the CLS token; a
 * distilled model averages its two heads) and FAR's blocks are pre_proj, per head a
 * bidirectional LSTM (gates i, f, g, o, zero initial state), head_proj on [h_fwd | h_bwd],
 * post_proj, because that is the graph their producer (sim/net/vitgraph.c) builds. Every weight
 * layer is the network's [in][out] matrix (network.h), multiplied through imc_sgemm (OpenBLAS's cblas_sgemm) by
 * default; the IMC emulation (imc.h) plugs in its own multiply, so both passes share
 * everything else. Images are N x C x H x W floats, already scaled as the model expects (see
 * imc_dataset). */
#ifndef IMC_FORWARD_H
#define IMC_FORWARD_H

#include <stddef.h>

#include "sim/base/err.h"
#include "sim/net/network.h"

typedef struct imc_forward imc_forward;

/* How a weight layer multiplies: Y[rows][out] = X[rows][in] W (+ bias, added by the forward
 * pass afterwards). LAYER indexes net->layers. CONCURRENT: MVM may be called from two threads
 * at once for different layers (then a FAR head's two LSTM directions run at once, as in the
 * FP32 pass); 0: one call at a time. */
typedef struct imc_mvm_ops {
    void *ctx;
    int (*mvm)(void *ctx, size_t layer, const float *x, size_t rows, float *y, imc_err *err);
    int concurrent;
} imc_mvm_ops;

/* Called after every weight layer with its output (bias included), e.g. to compare passes. */
typedef struct imc_probe {
    void *ctx;
    void (*layer_output)(void *ctx, size_t layer, const float *y, size_t rows, size_t out);
} imc_probe;

/* Read every weight of NET as FP32 (the network's file must stay open). */
int imc_forward_new(imc_forward **out, const imc_network *net, imc_err *err);
void imc_forward_free(imc_forward *f);

/* LOGITS[n][classes] of N images. MVM NULL: FP32 sgemm. PROBE may be NULL. */
int imc_forward_run(imc_forward *f, const float *images, size_t n, float *logits,
                    const imc_mvm_ops *mvm, const imc_probe *probe, imc_err *err);

/* Threads of the pass beyond BLAS's: row-wise ops, matmul pairs and (in the FP32 pass, or with
 * a concurrent multiply) two recurrent layers reading one input (a FAR head's directions) split
 * over N threads; the same
 * numbers at any N, and the probe sees the layers in sequential order. */
void imc_forward_threads(imc_forward *f, int n);

/* The FP32 weights [in][out] and bias [out] of layer LAYER, as the forward pass uses them. */
const float *imc_forward_weights(const imc_forward *f, size_t layer, const float **bias);

/* Floating-point operations of one image's forward pass (2 per multiply-add), for speed
 * reports. */
double imc_forward_flops(const imc_network *net);

#endif
