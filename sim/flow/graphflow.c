/* graphflow.c -- the op graph of one inference of an imported network: its graph of generic ops
 * (sim/net/graph.h) turned into the engine's ops, node by node.
 *
 * A node's output is a set of rows, each one vector the hardware handles at once: a linear
 * layer's rows (tokens), a convolution's output positions (a vector of channels each: the
 * crossbars give every output channel of one position together), a recurrent layer's steps.
 * Weight layers issue one MVM per row (a convolution one per output position and group,
 * reading its im2col window from the tile buffer, while only the input positions new to the
 * window travel to its tiles: sliding-window reuse, see conv()); a recurrent layer chains its
 * steps, each an MVM then the cell's element-wise work, the reverse direction from the last
 * step; matmuls between activations run on the digital MAC array in tiles of
 * mapping.query_tile rows, their operands written to the global store whole and read from it;
 * norms, activations, softmax over the last dimension, residual adds and scaling are
 * element-wise work per row on the digital unit next to the weight layer that fed them; an
 * embedding reads one table row per token id from DRAM (an input op of the row's bits).
 *
 * Dependencies follow the data: a row-wise op on the rows of a row-wise producer waits for its
 * own row only, so consecutive row-wise layers pipeline; a convolution's output row waits for
 * the input rows its windows reach, and so does a pooling's (so convolutions and pools pipeline
 * row by row behind each other, as ISAAC's layers do); an op that needs a whole tensor (a
 * matmul, a mean, a reshape or transpose that reorders rows) waits for a barrier joining every
 * op of its inputs. Reshapes, transposes, slices, concatenations and expansions move no data
 * through a unit here (their cost is the transfers the engine charges between sites). Apart
 * from matmul operands nothing is held in the global store: the tile buffers are assumed to
 * hold what waits, residual skips included (a DeiT/FAR flow parks skips in the store).
 *
 * Work per row, in digital-unit actions: LayerNorm LAYERNORM x width; a batchnorm none (folded
 * into the weight layer before it, imc_graph_fold) or, where it cannot fold, MUL + ADD; GELU
 * GELU; ReLU MAX; SiLU SIGMOID + MUL; softmax SOFTMAX x width + one DIV; add ADD; mul and scale
 * MUL; max pool MAX per window element; average pool ADD per window element + MUL per channel;
 * an LSTM cell 3 SIGMOID, 2 TANH, 3 MUL, 1 ADD per unit (as FAR's); a GRU cell 2 SIGMOID,
 * 1 TANH, 3 MUL, 5 ADD per unit. */
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "sim/flow/builder.h"

typedef struct node_ops {
    uint32_t done;  /* an op after which the whole output exists (UINT32_MAX: a parameter) */
    uint32_t *rows; /* per row, the op that produced it; NULL when not produced row by row */
    uint32_t n_rows;
    int chan;       /* rows are the positions of a [C][H][W] tensor, C wide */
    int site;       /* the layer whose tile hosts its element-wise work (-1: the chip's) */
} node_ops;

typedef struct gflow {
    imc_flow_builder *b;
    const imc_network *net;
    const imc_graph *g;
    node_ops *n;
    int qt;
} gflow;

/* Rows and width of node I's output. */
static void geometry(const gflow *f, int i, uint32_t *rows, uint32_t *width)
{
    const imc_node *n = &f->g->nodes[i];
    if (f->n[i].chan) {
        *width = (uint32_t)n->shape[0];
        *rows = (uint32_t)(imc_node_numel(n) / (size_t)n->shape[0]);
    } else {
        *width = (uint32_t)n->shape[n->ndim - 1];
        *rows = (uint32_t)(imc_node_numel(n) / (size_t)n->shape[n->ndim - 1]);
    }
}

/* The op row R of node J's output waits for, given the consumer has N_ROWS rows. */
static uint32_t row_dep(const gflow *f, int j, uint32_t r, uint32_t n_rows)
{
    const node_ops *o = &f->n[j];
    return o->rows && o->n_rows == n_rows ? o->rows[r] : o->done;
}

/* A barrier after DEPS: no work, and it passes no data on (its readers wait, and take their
 * data from elsewhere: the store, or their own window's producers). */
static uint32_t barrier(gflow *f, uint32_t name, const uint32_t *deps, size_t n)
{
    imc_op bar = {.kind = IMC_OP_BARRIER, .cls = IMC_CLS_SYNC, .layer = -1, .site = -1,
                  .name = name, .head = -1};
    return imc_flow_emit(f->b, bar, deps, n);
}

/* A barrier joining DEPS (or the single op itself). */
static uint32_t join(gflow *f, uint32_t name, const uint32_t *deps, size_t n)
{
    size_t real = 0;
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < n; i++)
        if (deps[i] != UINT32_MAX)
            real++, last = deps[i];
    return real <= 1 ? last : barrier(f, name, deps, n);
}

static int alloc_rows(gflow *f, int i, uint32_t n)
{
    free(f->n[i].rows);
    f->n[i].n_rows = n;
    if (!(f->n[i].rows = malloc((n ? n : 1) * sizeof *f->n[i].rows))) {
        f->b->failed = 1;
        return -1;
    }
    return 0;
}

/* Element-wise node I: per row of its output, WORK (each count is per element of the row's
 * width; a count of 0 means one per row). */
static void rowwise(gflow *f, int i, int cls, const imc_work *work, int n_work)
{
    const imc_node *n = &f->g->nodes[i];
    uint32_t rows, width, name = imc_flow_name(f->b, "%s", n->name);
    geometry(f, i, &rows, &width);
    if (alloc_rows(f, i, rows))
        return;
    uint64_t ab = f->b->ab;
    for (uint32_t r = 0; r < rows; r++) {
        imc_work w[IMC_OP_MAX_WORK];
        for (int k = 0; k < n_work; k++)
            w[k] = (imc_work){work[k].func, work[k].count ? work[k].count * width : 1};
        uint32_t deps[2] = {UINT32_MAX, UINT32_MAX};
        for (int k = 0; k < n->n_inputs && k < 2; k++)
            deps[k] = row_dep(f, n->inputs[k], r, rows);
        imc_op op = imc_flow_vec(cls, f->n[i].site, name, r, (uint64_t)n->n_inputs * width * ab,
                                 (uint64_t)width * ab, n_work, w);
        f->n[i].rows[r] = imc_flow_emit(f->b, op, deps, 2);
    }
    f->n[i].done = join(f, name, f->n[i].rows, rows);
}

/* One op for the whole of node I after all its inputs (pooling, means, softmax off the last
 * dimension). */
static void whole(gflow *f, int i, int cls, const imc_work *work, int n_work)
{
    const imc_node *n = &f->g->nodes[i];
    uint32_t name = imc_flow_name(f->b, "%s", n->name), deps[64];
    int k = 0;
    for (; k < n->n_inputs && k < 64; k++)
        deps[k] = f->n[n->inputs[k]].done;
    imc_op op = imc_flow_vec(cls, f->n[i].site, name, 0, imc_node_numel(&f->g->nodes[n->inputs[0]]) * f->b->ab,
                             imc_node_numel(n) * f->b->ab, n_work, work);
    f->n[i].done = imc_flow_emit(f->b, op, deps, (size_t)k);
}

static void linear(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    int layer = imc_network_layer_of(f->net, i, 0);
    uint32_t rows = (uint32_t)f->net->layers[layer].vectors;
    if (alloc_rows(f, i, rows))
        return;
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t dep = row_dep(f, n->inputs[0], r, rows);
        f->n[i].rows[r] = imc_flow_emit(f->b, imc_flow_mvm(f->b, f->net, layer, r), &dep, 1);
    }
    f->n[i].done = join(f, imc_flow_name(f->b, "%s", n->name), f->n[i].rows, rows);
}

/* For input rows 0 .. H-1 of a [C][H][W] tensor produced position by position, a barrier per
 * row after which rows 0 .. y all exist (each joins the one before and the row's W positions);
 * NULL when the input was not produced by positions. */
static uint32_t *row_barriers(gflow *f, int j, uint32_t name)
{
    const imc_node *in = &f->g->nodes[j];
    const node_ops *o = &f->n[j];
    if (in->ndim != 3 || !o->chan || !o->rows || o->n_rows != (uint32_t)(in->shape[1] * in->shape[2]))
        return NULL;
    uint32_t H = (uint32_t)in->shape[1], W = (uint32_t)in->shape[2];
    uint32_t *bar = malloc(H * sizeof *bar), *deps = malloc((W + 1) * sizeof *deps);
    if (!bar || !deps) {
        free(bar), free(deps);
        f->b->failed = 1;
        return NULL;
    }
    for (uint32_t y = 0; y < H; y++) {
        deps[0] = y ? bar[y - 1] : UINT32_MAX;
        memcpy(deps + 1, o->rows + (size_t)y * W, W * sizeof *deps);
        bar[y] = join(f, name, deps, W + 1);
    }
    free(deps);
    return bar;
}

/* Of the row barriers BAR of an H-row input, the one after row LAST (clamped to the input): what
 * a window whose last row is LAST waits for. */
static uint32_t bar_through(const uint32_t *bar, int64_t last, int64_t H)
{
    return bar[last < 0 ? 0 : last >= H ? H - 1 : last];
}

/* How many of IN input indices along one axis some window of a convolution reaches. */
static int64_t reached(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dil)
{
    int64_t n = 0;
    for (int64_t i = 0; i < in; i++) {
        int hit = 0;
        for (int64_t kk = 0; kk < k && !hit; kk++) { /* i = o stride - pad + kk dil, 0 <= o < out */
            int64_t num = i + pad - kk * dil;
            hit = num >= 0 && num % stride == 0 && num / stride < out;
        }
        n += hit;
    }
    return n;
}

/* Per group and output position, one MVM of the im2col window; a position's row is done when
 * every group's is. Output row oy waits for the input rows its windows reach (the last,
 * oy x stride - padding + (kernel - 1) x dilation, and every row before it), so a convolution
 * starts as soon as the rows it needs exist, behind the layer before it (ISAAC's inter-layer
 * pipeline); when its input was not produced position by position, for all of it.
 *
 * Sliding-window reuse: each MVM reads its whole window from the tile buffer (in_bits), but an
 * input position travels to each tile holding the layer once. With the input produced position
 * by position, the MVM depends on the producer ops of every position in its window and takes
 * its group's channels of each (take_bits, C_in / groups values); the engine sends a position
 * to a tile only for the first window there that takes it (window_send), so the tile buffer
 * keeps it for the windows after, on every copy of a replicated layer. From a single producer
 * (the image, a pooling) the input the windows reach arrives once, in a receive op that hands
 * it to every tile of the layer, and the MVMs wait for it through a barrier, which carries no
 * data. So a convolution's input crosses the NoC once per tile, not once per window. */
static void conv(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i], *in = &f->g->nodes[n->inputs[0]];
    const node_ops *src = &f->n[n->inputs[0]];
    const int64_t *a = n->attr;
    int layer = imc_network_layer_of(f->net, i, 0);
    int groups = (int)a[IMC_CONV_GROUPS];
    int64_t H = in->shape[1], W = in->shape[2];
    uint32_t Wo = (uint32_t)n->shape[2], pos = (uint32_t)(n->shape[1] * n->shape[2]);
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    uint64_t take = (uint64_t)(a[IMC_CONV_IN] / groups) * f->b->ab;
    uint32_t *bar = row_barriers(f, n->inputs[0], name);
    size_t max_deps = 1 + (size_t)a[IMC_CONV_KH] * (size_t)a[IMC_CONV_KW];
    uint32_t *per = malloc((size_t)groups * sizeof *per), *deps = malloc(max_deps * sizeof *deps);
    if (f->b->failed || !per || !deps || alloc_rows(f, i, pos)) {
        f->b->failed = 1;
        free(per), free(deps), free(bar);
        return;
    }
    /* from a single producer: the receive, and the barrier the windows wait on */
    uint32_t arrived = UINT32_MAX;
    if (!bar) {
        uint64_t used = (uint64_t)reached(H, n->shape[1], a[IMC_CONV_KH], a[IMC_CONV_SH], a[IMC_CONV_PH], a[IMC_CONV_DH]) *
                        (uint64_t)reached(W, n->shape[2], a[IMC_CONV_KW], a[IMC_CONV_SW], a[IMC_CONV_PW], a[IMC_CONV_DW]) *
                        (uint64_t)a[IMC_CONV_IN] * f->b->ab;
        uint32_t receive = imc_flow_emit(f->b, imc_flow_vec(IMC_CLS_TRANSFER, layer, name, 0, used, used, 0, NULL),
                                         &src->done, 1);
        arrived = barrier(f, name, &receive, 1);
    }
    for (uint32_t p = 0; p < pos; p++) {
        int64_t y0 = (int64_t)(p / Wo) * a[IMC_CONV_SH] - a[IMC_CONV_PH];
        int64_t x0 = (int64_t)(p % Wo) * a[IMC_CONV_SW] - a[IMC_CONV_PW];
        size_t nd = 1;
        if (bar) {
            deps[0] = bar_through(bar, y0 + (a[IMC_CONV_KH] - 1) * a[IMC_CONV_DH], H);
            for (int64_t ky = 0; ky < a[IMC_CONV_KH]; ky++)
                for (int64_t kx = 0; kx < a[IMC_CONV_KW]; kx++) {
                    int64_t y = y0 + ky * a[IMC_CONV_DH], x = x0 + kx * a[IMC_CONV_DW];
                    if (y >= 0 && y < H && x >= 0 && x < W)
                        deps[nd++] = src->rows[y * W + x];
                }
        } else {
            deps[0] = arrived;
        }
        for (int gi = 0; gi < groups; gi++) {
            imc_op op = imc_flow_mvm(f->b, f->net, layer + gi, p);
            op.take_bits = (uint32_t)(take < UINT32_MAX ? take : UINT32_MAX);
            per[gi] = imc_flow_emit(f->b, op, deps, nd);
        }
        f->n[i].rows[p] = join(f, name, per, (size_t)groups);
    }
    f->n[i].done = join(f, name, f->n[i].rows, pos);
    free(per), free(deps), free(bar);
}

/* Pooling: per output position, MAX per window element (max pool) or ADD per window element
 * and MUL per channel (average pool) on the digital unit next to the layer that fed it. From an
 * input produced position by position, output row oy waits for the input rows its windows reach,
 * so pooling pipelines row by row as a convolution does; otherwise one op does the whole after
 * all of its input. */
static void pool(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i], *in = &f->g->nodes[n->inputs[0]];
    const int64_t *a = n->attr;
    int max = n->op == IMC_NODE_MAXPOOL;
    uint32_t C = (uint32_t)n->shape[0], window = (uint32_t)(a[IMC_POOL_KH] * a[IMC_POOL_KW]) * C;
    uint32_t Wo = (uint32_t)n->shape[2], pos = (uint32_t)(n->shape[1] * n->shape[2]);
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    uint32_t *bar = row_barriers(f, n->inputs[0], name);
    if (f->b->failed)
        return;
    if (!bar) {
        imc_work w[2] = {{max ? IMC_DIGITAL_MAX : IMC_DIGITAL_ADD, window * pos}, {IMC_DIGITAL_MUL, C * pos}};
        whole(f, i, IMC_CLS_POOL, w, max ? 1 : 2);
        return;
    }
    if (alloc_rows(f, i, pos)) {
        free(bar);
        return;
    }
    uint64_t ab = f->b->ab;
    for (uint32_t p = 0; p < pos; p++) {
        int64_t last = (int64_t)(p / Wo) * a[IMC_POOL_SH] - a[IMC_POOL_PH] + a[IMC_POOL_KH] - 1;
        imc_work w[2] = {{max ? IMC_DIGITAL_MAX : IMC_DIGITAL_ADD, window}, {IMC_DIGITAL_MUL, C}};
        imc_op op = imc_flow_vec(IMC_CLS_POOL, f->n[i].site, name, p, (uint64_t)window * ab,
                                 (uint64_t)C * ab, max ? 1 : 2, w);
        uint32_t dep = bar_through(bar, last, in->shape[1]);
        f->n[i].rows[p] = imc_flow_emit(f->b, op, &dep, 1);
    }
    free(bar);
    f->n[i].done = join(f, name, f->n[i].rows, pos);
}

/* A table lookup per token id: its row read from DRAM (the table is no crossbar's: a language
 * model's is megabytes), as an input op of that row's bits, after the id exists. */
static void embedding(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    uint32_t rows = (uint32_t)imc_node_numel(&f->g->nodes[n->inputs[0]]);
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    if (alloc_rows(f, i, rows))
        return;
    for (uint32_t r = 0; r < rows; r++) {
        imc_op op = {.kind = IMC_OP_INPUT, .cls = IMC_CLS_EMBED, .layer = -1, .site = -1,
                     .name = name, .token = r, .head = -1,
                     .out_bits = (uint64_t)n->attr[IMC_EMB_DIM] * f->b->ab};
        uint32_t dep = row_dep(f, n->inputs[0], r, rows);
        f->n[i].rows[r] = imc_flow_emit(f->b, op, &dep, 1);
    }
    f->n[i].done = join(f, name, f->n[i].rows, rows);
}

/* Every layer and direction: a chain of steps, each its MVM(s) then the cell. */
static void recurrent(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    const int64_t *a = n->attr;
    int gru = n->op == IMC_NODE_GRU, dirs = a[IMC_RNN_BIDIR] ? 2 : 1, first = imc_network_layer_of(f->net, i, 0);
    uint32_t T = (uint32_t)n->shape[0], H = (uint32_t)a[IMC_RNN_HIDDEN];
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    uint64_t ab = f->b->ab;
    uint32_t *in = malloc(T * sizeof *in), *cell = malloc((size_t)dirs * T * sizeof *cell);
    if (!in || !cell || alloc_rows(f, i, T)) {
        free(in), free(cell);
        f->b->failed = 1;
        return;
    }
    for (uint32_t t = 0; t < T; t++)
        in[t] = row_dep(f, n->inputs[0], t, T);
    for (int64_t l = 0; l < a[IMC_RNN_LAYERS]; l++) {
        for (int d = 0; d < dirs; d++) {
            int reverse = d == 1 || a[IMC_RNN_REVERSE];
            int layer = first + (int)((l * dirs + d) * (gru ? 2 : 1));
            uint32_t prev = UINT32_MAX;
            for (uint32_t s = 0; s < T; s++) {
                uint32_t t = reverse ? T - 1 - s : s;
                uint32_t deps[2] = {in[t], prev}, mv[2];
                mv[0] = imc_flow_emit(f->b, imc_flow_mvm(f->b, f->net, layer, t), deps, gru ? 1 : 2);
                mv[1] = gru ? imc_flow_emit(f->b, imc_flow_mvm(f->b, f->net, layer + 1, t), &prev, 1)
                            : UINT32_MAX;
                imc_work lstm_w[4] = {{IMC_DIGITAL_SIGMOID, 3 * H}, {IMC_DIGITAL_TANH, 2 * H},
                                      {IMC_DIGITAL_MUL, 3 * H}, {IMC_DIGITAL_ADD, H}};
                imc_work gru_w[4] = {{IMC_DIGITAL_SIGMOID, 2 * H}, {IMC_DIGITAL_TANH, H},
                                     {IMC_DIGITAL_MUL, 3 * H}, {IMC_DIGITAL_ADD, 5 * H}};
                imc_op c = imc_flow_vec(gru ? IMC_CLS_RNN_CELL : IMC_CLS_LSTM_CELL, layer, name, t,
                                        (gru ? 6 : 4) * (uint64_t)H * ab, (uint64_t)H * ab, 4,
                                        gru ? gru_w : lstm_w);
                prev = cell[(size_t)d * T + t] = imc_flow_emit(f->b, c, mv, 2);
            }
        }
        for (uint32_t t = 0; t < T; t++) { /* the layer's output row t: every direction's */
            uint32_t both[2] = {cell[t], dirs == 2 ? cell[T + t] : UINT32_MAX};
            in[t] = join(f, name, both, 2);
        }
    }
    memcpy(f->n[i].rows, in, T * sizeof *in);
    f->n[i].done = join(f, name, in, T);
    free(in), free(cell);
}

/* Node J's output written to the global store, as a whole, from the tile that produced it; a
 * barrier after the write, for the readers (they read from the store themselves). */
static uint32_t store_whole(gflow *f, int j, uint32_t name)
{
    uint64_t bits = imc_node_numel(&f->g->nodes[j]) * f->b->ab;
    imc_op st = {.kind = IMC_OP_STORE, .cls = IMC_CLS_STORE, .layer = -1, .site = f->n[j].site,
                 .name = name, .head = -1, .in_bits = bits, .out_bits = bits};
    uint32_t op = imc_flow_emit(f->b, st, &f->n[j].done, 1);
    return barrier(f, name, &op, 1);
}

/* Per leading index and tile of query_tile rows: m x k by k x n on the MAC array. Both operands
 * wait in the global store, as a DeiT attention's Q, K and V do: each is written there once (a
 * STORE of the whole), and each tile reads its m x k rows of the first and all k x n of the
 * second from there. */
static void matmul(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i], *na = &f->g->nodes[n->inputs[0]];
    uint32_t m = (uint32_t)na->shape[na->ndim - 2], k = (uint32_t)na->shape[na->ndim - 1];
    uint32_t nn = (uint32_t)n->shape[n->ndim - 1];
    size_t lead = imc_node_numel(n) / ((size_t)m * nn), tiles = (m + (uint32_t)f->qt - 1) / (uint32_t)f->qt;
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    uint32_t deps[2] = {store_whole(f, n->inputs[0], name), store_whole(f, n->inputs[1], name)};
    uint32_t *ops = malloc(lead * tiles * sizeof *ops);
    if (!ops) {
        f->b->failed = 1;
        return;
    }
    uint64_t ab = f->b->ab;
    for (size_t q = 0; q < lead; q++)
        for (size_t j = 0; j < tiles; j++) {
            uint32_t rows = (uint32_t)(m - j * (size_t)f->qt < (size_t)f->qt ? m - j * (size_t)f->qt : (size_t)f->qt);
            imc_op op = {.kind = IMC_OP_MATMUL, .cls = IMC_CLS_MATMUL, .layer = -1, .site = -1,
                         .name = name, .token = (uint32_t)(j * (size_t)f->qt), .head = -1,
                         .in_bits = (uint64_t)rows * k * ab, .out_bits = (uint64_t)rows * nn * ab,
                         .m = rows, .k = k, .n = nn};
            ops[q * tiles + j] = imc_flow_emit(f->b, op, deps, 2);
        }
    f->n[i].done = join(f, name, ops, lead * tiles);
    free(ops);
}

static void node(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    node_ops *o = &f->n[i];
    const node_ops *in0 = n->n_inputs ? &f->n[n->inputs[0]] : NULL;
    o->done = UINT32_MAX;
    o->site = in0 ? in0->site : -1;
    for (int k = 1; o->site < 0 && k < n->n_inputs; k++)
        o->site = f->n[n->inputs[k]].site;
    /* [C][H][W] feature maps: rows are positions, through the element-wise ops after them */
    int elementwise = n->op == IMC_NODE_BATCHNORM || n->op == IMC_NODE_RELU ||
                      n->op == IMC_NODE_GELU || n->op == IMC_NODE_SILU ||
                      n->op == IMC_NODE_SIGMOID || n->op == IMC_NODE_TANH ||
                      n->op == IMC_NODE_ADD || n->op == IMC_NODE_MUL || n->op == IMC_NODE_SCALE;
    o->chan = n->ndim == 3 && (n->op == IMC_NODE_CONV2D || n->op == IMC_NODE_MAXPOOL ||
                               n->op == IMC_NODE_AVGPOOL || (elementwise && in0->chan));
    uint64_t ab = f->b->ab;
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    switch (n->op) {
    case IMC_NODE_INPUT: {
        imc_op in = {.kind = IMC_OP_INPUT, .cls = IMC_CLS_IO, .layer = -1, .site = -1,
                     .name = name, .head = -1, .out_bits = imc_node_numel(n) * 8};
        o->done = imc_flow_emit(f->b, in, NULL, 0);
        return;
    }
    case IMC_NODE_PARAM:
        return;
    case IMC_NODE_OUTPUT: {
        imc_op out = {.kind = IMC_OP_OUTPUT, .cls = IMC_CLS_IO, .layer = -1, .site = -1,
                      .name = name, .head = -1, .in_bits = imc_node_numel(n) * ab};
        o->done = imc_flow_emit(f->b, out, &in0->done, 1);
        return;
    }
    case IMC_NODE_LINEAR:
        o->site = imc_network_layer_of(f->net, i, 0);
        linear(f, i);
        return;
    case IMC_NODE_CONV2D:
        o->site = imc_network_layer_of(f->net, i, 0);
        conv(f, i);
        return;
    case IMC_NODE_LSTM:
    case IMC_NODE_GRU:
        o->site = imc_network_layer_of(f->net, i, 0);
        recurrent(f, i);
        return;
    case IMC_NODE_MATMUL:
        matmul(f, i);
        return;
    case IMC_NODE_LAYERNORM:
        rowwise(f, i, IMC_CLS_LAYERNORM, (imc_work[]){{IMC_DIGITAL_LAYERNORM, 1}}, 1);
        return;
    case IMC_NODE_BATCHNORM:
        if (n->fold >= 0) { /* in the weights before it: its input, row for row */
            o->done = in0->done;
            if (in0->rows && !alloc_rows(f, i, in0->n_rows))
                memcpy(o->rows, in0->rows, in0->n_rows * sizeof *o->rows);
            return;
        }
        rowwise(f, i, IMC_CLS_BATCHNORM, (imc_work[]){{IMC_DIGITAL_MUL, 1}, {IMC_DIGITAL_ADD, 1}}, 2);
        return;
    case IMC_NODE_GELU:
        rowwise(f, i, IMC_CLS_GELU, (imc_work[]){{IMC_DIGITAL_GELU, 1}}, 1);
        return;
    case IMC_NODE_RELU:
        rowwise(f, i, IMC_CLS_ACTIVATION, (imc_work[]){{IMC_DIGITAL_MAX, 1}}, 1);
        return;
    case IMC_NODE_SILU:
        rowwise(f, i, IMC_CLS_ACTIVATION, (imc_work[]){{IMC_DIGITAL_SIGMOID, 1}, {IMC_DIGITAL_MUL, 1}}, 2);
        return;
    case IMC_NODE_SIGMOID:
        rowwise(f, i, IMC_CLS_ACTIVATION, (imc_work[]){{IMC_DIGITAL_SIGMOID, 1}}, 1);
        return;
    case IMC_NODE_TANH:
        rowwise(f, i, IMC_CLS_ACTIVATION, (imc_work[]){{IMC_DIGITAL_TANH, 1}}, 1);
        return;
    case IMC_NODE_ADD:
        rowwise(f, i, IMC_CLS_RESIDUAL, (imc_work[]){{IMC_DIGITAL_ADD, 1}}, 1);
        return;
    case IMC_NODE_MUL:
    case IMC_NODE_SCALE:
        rowwise(f, i, IMC_CLS_SCALE, (imc_work[]){{IMC_DIGITAL_MUL, 1}}, 1);
        return;
    case IMC_NODE_SOFTMAX:
        if (n->attr[IMC_DIM] == n->ndim - 1) {
            rowwise(f, i, IMC_CLS_SOFTMAX, (imc_work[]){{IMC_DIGITAL_SOFTMAX, 1}, {IMC_DIGITAL_DIV, 0}}, 2);
        } else {
            imc_work w[2] = {{IMC_DIGITAL_SOFTMAX, (uint32_t)imc_node_numel(n)},
                             {IMC_DIGITAL_DIV, (uint32_t)(imc_node_numel(n) / (size_t)n->shape[n->attr[IMC_DIM]])}};
            whole(f, i, IMC_CLS_SOFTMAX, w, 2);
        }
        return;
    case IMC_NODE_MAXPOOL:
    case IMC_NODE_AVGPOOL:
        pool(f, i);
        return;
    case IMC_NODE_MEAN: {
        imc_work w[2] = {{IMC_DIGITAL_ADD, (uint32_t)imc_node_numel(&f->g->nodes[n->inputs[0]])},
                         {IMC_DIGITAL_MUL, (uint32_t)imc_node_numel(n)}};
        whole(f, i, IMC_CLS_POOL, w, 2);
        return;
    }
    case IMC_NODE_RESHAPE:
    case IMC_NODE_TRANSPOSE:
    case IMC_NODE_CONCAT:
    case IMC_NODE_SLICE:
    case IMC_NODE_EXPAND: { /* data movement: ready when every input is */
        uint32_t deps[64];
        int k = 0;
        for (; k < n->n_inputs && k < 64; k++)
            deps[k] = f->n[n->inputs[k]].done;
        o->done = join(f, name, deps, (size_t)k);
        return;
    }
    case IMC_NODE_EMBEDDING:
        embedding(f, i);
        return;
    case IMC_NODE_OP_COUNT:
        break;
    }
}

void imc_graphflow(imc_flow_builder *b, const imc_network *net, const imc_dataflow_opts *opts)
{
    const imc_graph *g = &net->graph;
    gflow f = {b, net, g, calloc((size_t)g->n_nodes, sizeof *f.n),
               opts->query_tile > 0 ? opts->query_tile : 1};
    if (!f.n) {
        b->failed = 1;
        return;
    }
    for (int i = 0; i < g->n_nodes && !b->failed; i++)
        node(&f, i);
    for (int i = 0; i < g->n_nodes; i++)
        free(f.n[i].rows);
    free(f.n);
}
