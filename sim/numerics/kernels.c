/* kernels.c -- the data kernels of the forward pass's generic ops (see kernels.h). */
#include "sim/numerics/kernels.h"

#include "sim/base/vectorize.h"

#include <math.h>
#include <string.h>

void imc_layernorm_rows(const float *x, float *y, size_t rows, size_t d, const float *w,
                        const float *b, float eps)
{
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * d;
        double mean = 0, var = 0;
        for (size_t k = 0; k < d; k++)
            mean += xi[k];
        mean /= (double)d;
        for (size_t k = 0; k < d; k++)
            var += (xi[k] - mean) * (xi[k] - mean);
        var /= (double)d;
        float inv = (float)(1.0 / sqrt(var + eps));
        for (size_t k = 0; k < d; k++)
            y[i * d + k] = (float)(xi[k] - mean) * inv * (w ? w[k] : 1.0f) + (b ? b[k] : 0.0f);
    }
}

/* In vector code: the same additions, element by element. */
WIDEST void imc_add_bias_rows(float *y, const float *b, size_t rows, size_t out)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t o = 0; o < out; o++)
            y[i * out + o] += b[o];
}

/* Each row: its max (eight running maxima, then theirs -- a max is the same in any order), exp of
 * each element less it, their sum in double in element order, each element divided by the sum.
 * The exps first and the sum after, so the sum is not spilled around every expf call; the
 * division loop in vector code (exact element by element). */
WIDEST void imc_softmax_rows(const float *x, float *y, size_t rows, size_t d)
{
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * d;
        float *row = y + i * d, lane[8], m = xi[0];
        size_t j = 0;
        for (int k = 0; k < 8; k++)
            lane[k] = m;
        for (; j + 8 <= d; j += 8)
            for (int k = 0; k < 8; k++)
                lane[k] = xi[j + k] > lane[k] ? xi[j + k] : lane[k];
        for (int k = 0; k < 8; k++)
            m = lane[k] > m ? lane[k] : m;
        for (; j < d; j++)
            m = xi[j] > m ? xi[j] : m;
        for (j = 0; j < d; j++)
            row[j] = expf(xi[j] - m);
        double sum = 0;
        for (j = 0; j < d; j++)
            sum += row[j];
        for (j = 0; j < d; j++)
            row[j] = (float)(row[j] / sum);
    }
}

/* Element-wise functions, by op. */
void imc_elementwise(imc_node_op op, const float *x, float *y, size_t n, float factor)
{
    switch (op) {
    case IMC_NODE_GELU:
        for (size_t i = 0; i < n; i++)
            y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752440f));
        break;
    case IMC_NODE_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case IMC_NODE_SILU:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] * imc_sigmoidf(x[i]);
        break;
    case IMC_NODE_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = imc_sigmoidf(x[i]);
        break;
    case IMC_NODE_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    case IMC_NODE_SCALE:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] * factor;
        break;
    default:
        break;
    }
}

/* Y[i] = X[index of i] over the NDIM-dimensional output SHAPE, where X's element strides are
 * XSTR (0 along broadcast dimensions): transposes, broadcasts (expand, add, mul). */
void imc_gather(const float *x, const int64_t *xstr, const int64_t *shape, int ndim, float *y)
{
    int64_t idx[IMC_GRAPH_MAX_DIMS] = {0}, off = 0;
    size_t total = 1, last = (size_t)shape[ndim - 1];
    for (int d = 0; d < ndim; d++)
        total *= (size_t)shape[d];
    for (size_t i = 0; i < total; i += last) {
        const float *src = x + off;
        int64_t s = xstr[ndim - 1];
        if (s == 1)
            memcpy(y + i, src, last * sizeof *y);
        else
            for (size_t k = 0; k < last; k++)
                y[i + k] = src[(int64_t)k * s];
        for (int d = ndim - 2; d >= 0; d--) { /* the next row */
            off += xstr[d];
            if (++idx[d] < shape[d])
                break;
            off -= xstr[d] * shape[d];
            idx[d] = 0;
        }
    }
}

/* Element strides of SRC read as the NDIM-dimensional shape, aligned at the last
 * dimension; 0 along dimensions SRC broadcasts. */
void imc_broadcast_strides(const imc_node *src, int ndim, int64_t *str)
{
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        int k = d - (ndim - src->ndim);
        str[d] = k >= 0 && src->shape[k] > 1 ? s : 0;
        if (k >= 0)
            s *= src->shape[k];
    }
}

/* Split SHAPE at DIM: outer x shape[dim] x inner. */
void imc_split_at(const imc_node *n, int dim, size_t *outer, size_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < dim; d++)
        *outer *= (size_t)n->shape[d];
    for (int d = dim + 1; d < n->ndim; d++)
        *inner *= (size_t)n->shape[d];
}

void imc_pool2d(const imc_node *n, const imc_node *in, const float *x, float *y)
{
    const int64_t *a = n->attr;
    int64_t C = in->shape[0], H = in->shape[1], W = in->shape[2], Ho = n->shape[1], Wo = n->shape[2];
    int max = n->op == IMC_NODE_MAXPOOL;
    for (int64_t c = 0; c < C; c++)
        for (int64_t oy = 0; oy < Ho; oy++)
            for (int64_t ox = 0; ox < Wo; ox++) {
                float best = -INFINITY;
                double sum = 0;
                for (int64_t i = 0; i < a[IMC_POOL_KH]; i++)
                    for (int64_t j = 0; j < a[IMC_POOL_KW]; j++) {
                        int64_t iy = oy * a[IMC_POOL_SH] + i - a[IMC_POOL_PH];
                        int64_t ix = ox * a[IMC_POOL_SW] + j - a[IMC_POOL_PW];
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                            continue;
                        float v = x[(c * H + iy) * W + ix];
                        best = v > best ? v : best;
                        sum += v;
                    }
                y[(c * Ho + oy) * Wo + ox] =
                    max ? best : (float)(sum / (double)(a[IMC_POOL_KH] * a[IMC_POOL_KW]));
            }
}

void imc_batchnorm(const imc_node *n, const float *const *t, const float *x, float *y)
{
    size_t C = (size_t)n->shape[0], inner = imc_node_numel(n) / C;
    for (size_t c = 0; c < C; c++) {
        float inv = (float)(1.0 / sqrt((double)t[IMC_T_VAR][c] + n->value));
        float w = t[IMC_T_WEIGHT] ? t[IMC_T_WEIGHT][c] : 1.0f;
        float b = t[IMC_T_BIAS] ? t[IMC_T_BIAS][c] : 0.0f, mu = t[IMC_T_MEAN][c];
        for (size_t i = 0; i < inner; i++)
            y[c * inner + i] = (x[c * inner + i] - mu) * inv * w + b;
    }
}

