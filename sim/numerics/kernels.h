/* kernels.h -- the data kernels of the forward pass's generic ops, on one buffer at a time:
 * normalizations, softmax, element-wise functions, strided gathers (transpose, broadcast,
 * expand), pooling. Each is the arithmetic PyTorch does (see forward.c for the conventions);
 * forward.c decides what runs where and on how many threads. */
#ifndef IMC_KERNELS_H
#define IMC_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/net/graph.h"

/* LayerNorm of ROWS rows of D: mean and variance in double, Y = (X - mean) / sqrt(var + eps)
 * x W + B (W, B NULL: 1, 0). */
void imc_layernorm_rows(const float *x, float *y, size_t rows, size_t d, const float *w,
                        const float *b, float eps);

/* Y[i][o] += B[o] for ROWS rows of OUT values (a layer's bias, after its multiply). */
void imc_add_bias_rows(float *y, const float *b, size_t rows, size_t out);

/* Softmax of ROWS rows of D: the row maximum subtracted, the sum in double. X may be Y. */
void imc_softmax_rows(const float *x, float *y, size_t rows, size_t d);

static inline float imc_sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* N values of OP (GELU, ReLU, SiLU, sigmoid, tanh, scale by FACTOR) from X into Y. */
void imc_elementwise(imc_node_op op, const float *x, float *y, size_t n, float factor);

/* Y[i] = X[index of i] over the NDIM-dimensional output SHAPE, where XSTR are X's element
 * strides per output dimension (0 along broadcast dimensions). */
void imc_gather(const float *x, const int64_t *xstr, const int64_t *shape, int ndim, float *y);

/* The element strides of SRC's output read as an NDIM-dimensional shape aligned at the last
 * dimension, 0 along the dimensions SRC broadcasts. */
void imc_broadcast_strides(const imc_node *src, int ndim, int64_t *str);

/* N's output shape split at DIM: OUTER (before) x shape[dim] x INNER (after). */
void imc_split_at(const imc_node *n, int dim, size_t *outer, size_t *inner);

/* Max or average pooling N of one image X (shaped as IN) into Y. */
void imc_pool2d(const imc_node *n, const imc_node *in, const float *x, float *y);

/* Batch normalization N of one image with tensors T (weight, bias, running mean, variance). */
void imc_batchnorm(const imc_node *n, const float *const *t, const float *x, float *y);

#endif
