/* graphflow.c -- the op graph of one inference of a network: its graph of generic ops
 * (sim/net/graph.h; an imported model's, or the one vitgraph.c builds of a DeiT / FAR network)
 * turned into the engine's ops, node by node, by the same rules for every model. What it keeps
 * per node (the rows of its output, groups, what is parked in the store) is graphrows.c's.
 *
 * A node's output is a set of rows, each one vector the hardware handles at once: a linear
 * layer's rows (tokens), a convolution's output positions (a vector of channels each: the
 * crossbars give every output channel of one position together), a recurrent layer's steps, a
 * matmul's query rows. Weight layers issue one MVM per row (a convolution one per output
 * position and group, reading its im2col window from the tile buffer, while only the input
 * positions new to the window travel to its tiles: sliding-window reuse, see conv()); a
 * recurrent layer chains its steps, each an MVM then the cell's element-wise work, the reverse
 * direction from the last step; matmuls between activations run on the digital MAC array in
 * tiles of mapping.query_tile rows per leading index (head); norms, activations, softmax over
 * the last dimension, residual adds and scaling are element-wise work on the digital unit next
 * to the layer that fed them (an add: where its later input was made; after a matmul: on
 * chip.digital), one op per row or per tile of rows that arrive together; an embedding reads
 * one table row per token id from DRAM (an input op of the row's bits).
 *
 * Dependencies follow the data: a row-wise op on the rows of a row-wise producer waits for its
 * own row only, so consecutive row-wise layers pipeline; a convolution's output row waits for
 * the input rows its windows reach, and so does a pooling's (so convolutions and pools pipeline
 * row by row behind each other, as ISAAC's layers do). Reshapes, transposes, slices and
 * concatenations pass rows on where rows stay whole (pass_rows: a head's slice, heads split or
 * joined, a feature map's positions made tokens), so attention's proj starts on a tile of
 * queries once every head has it; where they move elements across rows (K transposed) or
 * reduce (a mean) an op waits for a barrier joining every op of its input. They move no data
 * through a unit (their cost is the transfers the engine charges between sites).
 *
 * What waits for a whole tensor waits in the global store (park; a tile buffer holds a layer's
 * outputs until the next layer takes them, and cannot hold a sequence at transformer sizes): a
 * matmul's operands (the rows of the layer that made them, written as each is made,
 * once for Q, K and V alike; read per tile: the first's rows of the tile, all of the second),
 * a residual skip whose other input needs a whole tensor (seq: attention, a bidirectional
 * LSTM), and the input of a recurrent layer (its steps lag behind the layer that made it; the
 * reverse direction needs it from the end).
 *
 * Work per row, in digital-unit actions: LayerNorm LAYERNORM x width; a batchnorm none (folded
 * into the weight layer before it, imc_graph_fold) or, where it cannot fold, MUL + ADD; GELU
 * GELU; ReLU MAX; SiLU SIGMOID + MUL; softmax SOFTMAX x width + one DIV; add ADD; mul and scale
 * MUL (none for a scale right after a matmul, attention's 1/sqrt(d): folded into the query
 * projection's weights); max pool MAX per window element; average pool ADD per window element
 * + MUL per channel; an LSTM cell 3 SIGMOID, 2 TANH, 3 MUL, 1 ADD per unit (as FAR's); a GRU
 * cell 2 SIGMOID, 1 TANH, 3 MUL, 5 ADD per unit. */
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "sim/flow/graphrows.h"

/* The ops row R of element-wise node I waits for: each input's row, or its parked copy. */
static void row_deps(gflow *f, const imc_node *n, const uint32_t *const parked[2], uint32_t r,
                     uint32_t rows, uint32_t deps[2])
{
    deps[0] = deps[1] = UINT32_MAX;
    for (int k = 0; k < n->n_inputs && k < 2; k++)
        deps[k] = parked[k] ? parked[k][r] : gf_row_dep(f, n->inputs[k], r, rows);
}

/* Element-wise node I: per row of its output, WORK (each count is per element of the row's
 * width; a count of 0 means one per row). Consecutive rows that wait for the same ops (a
 * matmul's tile of rows, or all rows after a whole tensor) are one op, as the unit gets them
 * together. Of two inputs made row by row, one that waits while the other needs a whole
 * tensor (a residual skip around attention or a bidirectional LSTM) is parked in the store. */
static void rowwise(gflow *f, int i, int cls, const imc_work *work, int n_work)
{
    const imc_node *n = &f->g->nodes[i];
    uint32_t rows, width, name = imc_flow_name(f->b, "%s", n->name);
    gf_geometry(f, i, &rows, &width);
    const uint32_t *parked[2] = {NULL, NULL};
    if (n->n_inputs == 2) {
        int a = n->inputs[0], c = n->inputs[1];
        int k = f->n[a].seq < f->n[c].seq ? 0 : f->n[c].seq < f->n[a].seq ? 1 : -1;
        const node_ops *skip = k >= 0 ? &f->n[n->inputs[k]] : NULL;
        if (skip && skip->rows && skip->n_rows == rows &&
            !(parked[k] = gf_parked_rows(f, n->inputs[k], name)))
            return;
    }
    if (gf_alloc_rows(f, i, rows))
        return;
    uint64_t ab = f->b->ab;
    for (uint32_t r = 0, g; r < rows; r += g) {
        uint32_t deps[2], next[2];
        row_deps(f, n, parked, r, rows, deps);
        for (g = 1; r + g < rows; g++) {
            row_deps(f, n, parked, r + g, rows, next);
            if (next[0] != deps[0] || next[1] != deps[1])
                break;
        }
        imc_work w[IMC_OP_MAX_WORK];
        for (int k = 0; k < n_work; k++)
            w[k] = (imc_work){work[k].func, g * (work[k].count ? work[k].count * width : 1)};
        imc_op op = imc_flow_vec(cls, f->n[i].site, name, r, (uint64_t)n->n_inputs * g * width * ab,
                                 (uint64_t)g * width * ab, n_work, w);
        uint32_t id = imc_flow_emit(f->b, op, deps, 2);
        for (uint32_t k = 0; k < g; k++)
            f->n[i].rows[r + k] = id;
    }
    f->n[i].done = gf_join_distinct(f, name, f->n[i].rows, rows);
}

/* One op for the whole of node I after all its inputs (pooling, means, softmax off the last
 * dimension). */
static void whole(gflow *f, int i, int cls, const imc_work *work, int n_work)
{
    f->n[i].seq++;
    const imc_node *n = &f->g->nodes[i];
    uint32_t name = imc_flow_name(f->b, "%s", n->name), deps[64];
    int k = 0;
    for (; k < n->n_inputs && k < 64; k++)
        deps[k] = f->n[n->inputs[k]].done;
    imc_op op = imc_flow_vec(cls, f->n[i].site, name, 0, imc_node_numel(&f->g->nodes[n->inputs[0]]) * f->b->ab,
                             imc_node_numel(n) * f->b->ab, n_work, work);
    f->n[i].done = imc_flow_emit(f->b, op, deps, (size_t)k);
}

/* One MVM per row, after the op(s) that made its input row: heads or directions joined by a
 * concatenation each send their part (parts_of). */
static void linear(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    int layer = gf_layer_of(f, i);
    uint32_t rows = (uint32_t)f->net->layers[layer].vectors;
    if (gf_alloc_rows(f, i, rows))
        return;
    enum { MAX_PARTS = 512 };
    uint32_t deps[MAX_PARTS];
    for (uint32_t r = 0; r < rows; r++) {
        size_t nd = 0;
        gf_parts_of(f, gf_row_val(f, n->inputs[0], r, rows), deps, &nd, MAX_PARTS);
        f->n[i].rows[r] = imc_flow_emit(f->b, imc_flow_mvm(f->b, f->net, layer, r), deps, nd);
    }
    f->n[i].done = gf_join(f, imc_flow_name(f->b, "%s", n->name), f->n[i].rows, rows);
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
        for (uint32_t x = 0; x < W; x++)
            deps[1 + x] = gf_op_of(f, o->rows[(size_t)y * W + x]);
        bar[y] = gf_join(f, name, deps, W + 1);
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
 * data. So a convolution's input crosses the NoC once per tile, not once per window. Windows
 * that do not overlap (stride at least the kernel's extent: a ViT's patches) have nothing to
 * reuse: each MVM then takes its own window from the single producer, as it is needed. */
static void conv(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i], *in = &f->g->nodes[n->inputs[0]];
    const node_ops *src = &f->n[n->inputs[0]];
    const int64_t *a = n->attr;
    int layer = gf_layer_of(f, i);
    int groups = (int)a[IMC_CONV_GROUPS];
    int64_t H = in->shape[1], W = in->shape[2];
    uint32_t Wo = (uint32_t)n->shape[2], pos = (uint32_t)(n->shape[1] * n->shape[2]);
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    uint64_t take = (uint64_t)(a[IMC_CONV_IN] / groups) * f->b->ab;
    uint32_t *bar = row_barriers(f, n->inputs[0], name);
    size_t max_deps = 1 + (size_t)a[IMC_CONV_KH] * (size_t)a[IMC_CONV_KW];
    uint32_t *per = malloc((size_t)groups * sizeof *per), *deps = malloc(max_deps * sizeof *deps);
    if (f->b->failed || !per || !deps || gf_alloc_rows(f, i, pos)) {
        f->b->failed = 1;
        free(per), free(deps), free(bar);
        return;
    }
    /* from a single producer: the receive, and the barrier the windows wait on; windows that
       do not overlap (a ViT's patches) share nothing, so each takes its own from the producer */
    int disjoint = (a[IMC_CONV_KH] - 1) * a[IMC_CONV_DH] < a[IMC_CONV_SH] &&
                   (a[IMC_CONV_KW] - 1) * a[IMC_CONV_DW] < a[IMC_CONV_SW];
    uint32_t arrived = disjoint ? src->done : UINT32_MAX;
    if (!bar && !disjoint) {
        uint64_t used = (uint64_t)reached(H, n->shape[1], a[IMC_CONV_KH], a[IMC_CONV_SH], a[IMC_CONV_PH], a[IMC_CONV_DH]) *
                        (uint64_t)reached(W, n->shape[2], a[IMC_CONV_KW], a[IMC_CONV_SW], a[IMC_CONV_PW], a[IMC_CONV_DW]) *
                        (uint64_t)a[IMC_CONV_IN] * f->b->ab;
        uint32_t receive = imc_flow_emit(f->b, imc_flow_vec(IMC_CLS_TRANSFER, layer, name, 0, used, used, 0, NULL),
                                         &src->done, 1);
        arrived = gf_barrier(f, name, &receive, 1);
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
                        deps[nd++] = gf_op_of(f, src->rows[y * W + x]);
                }
        } else {
            deps[0] = arrived;
        }
        for (int gi = 0; gi < groups; gi++) {
            imc_op op = imc_flow_mvm(f->b, f->net, layer + gi, p);
            if (bar || !disjoint)
                op.take_bits = (uint32_t)(take < UINT32_MAX ? take : UINT32_MAX);
            per[gi] = imc_flow_emit(f->b, op, deps, nd);
        }
        f->n[i].rows[p] = gf_join(f, name, per, (size_t)groups);
    }
    f->n[i].done = gf_join(f, name, f->n[i].rows, pos);
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
    if (gf_alloc_rows(f, i, pos)) {
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
    f->n[i].done = gf_join(f, name, f->n[i].rows, pos);
}

/* A table lookup per token id: its row read from DRAM (the table is no crossbar's: a language
 * model's is megabytes), as an input op of that row's bits, after the id exists. */
static void embedding(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    uint32_t rows = (uint32_t)imc_node_numel(&f->g->nodes[n->inputs[0]]);
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    if (gf_alloc_rows(f, i, rows))
        return;
    for (uint32_t r = 0; r < rows; r++) {
        imc_op op = {.kind = IMC_OP_INPUT, .cls = IMC_CLS_EMBED, .layer = -1, .site = -1,
                     .name = name, .token = r, .head = -1,
                     .out_bits = (uint64_t)n->attr[IMC_EMB_DIM] * f->b->ab};
        uint32_t dep = gf_row_dep(f, n->inputs[0], r, rows);
        f->n[i].rows[r] = imc_flow_emit(f->b, op, &dep, 1);
    }
    f->n[i].done = gf_join(f, name, f->n[i].rows, rows);
}

/* Every layer and direction: a chain of steps, each its MVM(s) then the cell. A layer with a
 * reverse direction reads its input sequence from the store (park). */
static void recurrent(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    const int64_t *a = n->attr;
    int gru = n->op == IMC_NODE_GRU, dirs = a[IMC_RNN_BIDIR] ? 2 : 1, first = gf_layer_of(f, i);
    uint32_t T = (uint32_t)n->shape[0], H = (uint32_t)a[IMC_RNN_HIDDEN];
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    uint64_t ab = f->b->ab;
    uint32_t *in = malloc(T * sizeof *in), *cell = malloc((size_t)dirs * T * sizeof *cell);
    if (!in || !cell || gf_alloc_rows(f, i, T)) {
        free(in), free(cell);
        f->b->failed = 1;
        return;
    }
    /* The sequence waits in the store when the reverse direction needs it from its end, or
       when it comes row by row from a tile, whose buffer would hold it while the steps lag. */
    int backward = dirs == 2 || a[IMC_RNN_REVERSE];
    const node_ops *src = &f->n[n->inputs[0]];
    const uint32_t *seq = src->rows && src->n_rows == T && (backward || src->site >= 0)
                              ? gf_parked_rows(f, n->inputs[0], name) : NULL;
    for (uint32_t t = 0; t < T; t++)
        in[t] = seq ? seq[t] : gf_row_dep(f, n->inputs[0], t, T);
    for (int64_t l = 0; l < a[IMC_RNN_LAYERS] && !f->b->failed; l++) {
        if (l && backward) { /* a stacked layer's sequence, from the layer below */
            int site = first + (int)((l - 1) * dirs * (gru ? 2 : 1));
            uint32_t *st = gf_park(f, site, in, T, (uint32_t)dirs * H, name);
            if (!st)
                break;
            memcpy(in, st, T * sizeof *in);
            free(st);
        }
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
            in[t] = gf_join(f, name, both, 2);
        }
    }
    memcpy(f->n[i].rows, in, T * sizeof *in);
    f->n[i].done = gf_join(f, name, in, T);
    free(in), free(cell);
}

/* Whether each query tile's rows of matmul node I's first operand (LEAD x M rows) came from
 * one op on chip.digital, which then hands the tile over directly (a softmax's tile into S V);
 * rows made on a tile (Q from qkv) are read from the store, where they were written. */
static int tiles_made_whole(const gflow *f, int i, size_t lead, uint32_t m)
{
    const node_ops *a = &f->n[f->g->nodes[i].inputs[0]];
    if (!a->rows || a->n_rows != lead * m || a->site >= 0)
        return 0;
    for (size_t r = 0; r < lead * m; r++)
        if (a->rows[r] != a->rows[r - r % m + (r % m) / (uint32_t)f->qt * (uint32_t)f->qt])
            return 0;
    return 1;
}

/* Per leading index and tile of query_tile rows: m x k by k x n on the MAC array. The second
 * operand waits in the global store, as a DeiT attention's K and V do: written there once (a
 * STORE of the whole) and read whole by each tile. The first is read from the store a tile of
 * m x k rows at a time (written there whole too), unless each tile of it came whole from one op
 * (a softmax's tile of rows), which hands it over. Output row r of leading index q is its
 * tile's: element-wise work after a matmul runs tile by tile. */
static void matmul(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i], *na = &f->g->nodes[n->inputs[0]];
    uint32_t m = (uint32_t)na->shape[na->ndim - 2], k = (uint32_t)na->shape[na->ndim - 1];
    uint32_t nn = (uint32_t)n->shape[n->ndim - 1], qt = (uint32_t)f->qt;
    size_t lead = imc_node_numel(n) / ((size_t)m * nn), tiles = (m + qt - 1) / qt;
    uint32_t name = imc_flow_name(f->b, "%s", n->name);
    int direct = tiles_made_whole(f, i, lead, m);
    uint32_t a_ready = direct ? UINT32_MAX : gf_stored(f, n->inputs[0], name);
    uint32_t b_ready = gf_stored(f, n->inputs[1], name);
    uint32_t *ops = malloc(lead * tiles * sizeof *ops);
    if (!ops || gf_alloc_rows(f, i, (uint32_t)(lead * m))) {
        free(ops);
        f->b->failed = 1;
        return;
    }
    uint64_t ab = f->b->ab;
    for (size_t q = 0; q < lead; q++)
        for (size_t j = 0; j < tiles; j++) {
            uint32_t rows = (uint32_t)(m - j * qt < qt ? m - j * qt : qt);
            imc_op op = {.kind = IMC_OP_MATMUL, .cls = IMC_CLS_MATMUL, .layer = -1, .site = -1,
                         .name = name, .token = (uint32_t)(j * qt), .head = (int32_t)q,
                         .in_bits = (uint64_t)rows * k * ab, .out_bits = (uint64_t)rows * nn * ab,
                         .m = rows, .k = k, .n = nn};
            uint32_t deps[2] = {direct ? gf_op_of(f, f->n[n->inputs[0]].rows[q * m + j * qt])
                                       : gf_head_ready(f, n->inputs[0], (uint32_t)q, (uint32_t)lead, a_ready, name),
                                gf_head_ready(f, n->inputs[1], (uint32_t)q, (uint32_t)lead, b_ready, name)};
            ops[q * tiles + j] = imc_flow_emit(f->b, op, deps, deps[0] == deps[1] ? 1 : 2);
            for (uint32_t r = 0; r < rows; r++)
                f->n[i].rows[q * m + j * qt + r] = ops[q * tiles + j];
        }
    f->n[i].done = gf_join(f, name, ops, lead * tiles);
    free(ops);
}

/* The layer whose weight node is the only reader of node I's output (through reshapes,
 * transposes and slices read by one node each), or -1. */
static int fed_layer(const gflow *f, int i)
{
    for (int c = i; f->n[c].n_readers == 1;) {
        c = f->n[c].reader;
        imc_node_op op = f->g->nodes[c].op;
        if (op == IMC_NODE_LINEAR || op == IMC_NODE_CONV2D)
            return gf_layer_of(f, c);
        if (op != IMC_NODE_RESHAPE && op != IMC_NODE_TRANSPOSE && op != IMC_NODE_SLICE)
            break;
    }
    return -1;
}

static void node(gflow *f, int i)
{
    const imc_node *n = &f->g->nodes[i];
    node_ops *o = &f->n[i];
    const node_ops *in0 = n->n_inputs ? &f->n[n->inputs[0]] : NULL;
    o->done = UINT32_MAX;
    /* next to the input made last: a residual add runs where its branch ends, not where the
       skip began (every add of a transformer would otherwise sit on the first tile) */
    o->site = -1;
    for (int k = n->n_inputs - 1; o->site < 0 && k >= 0; k--)
        o->site = f->n[n->inputs[k]].site;
    o->seq = 0;
    for (int k = 0; k < n->n_inputs; k++)
        if (f->n[n->inputs[k]].seq > o->seq)
            o->seq = f->n[n->inputs[k]].seq;
    /* [C][H][W] feature maps: rows are positions, through the element-wise ops after them */
    int elementwise = n->op == IMC_NODE_BATCHNORM || n->op == IMC_NODE_RELU ||
                      n->op == IMC_NODE_GELU || n->op == IMC_NODE_SILU ||
                      n->op == IMC_NODE_SIGMOID || n->op == IMC_NODE_TANH ||
                      n->op == IMC_NODE_ADD || n->op == IMC_NODE_MUL || n->op == IMC_NODE_SCALE;
    o->chan = n->ndim == 3 && (n->op == IMC_NODE_CONV2D || n->op == IMC_NODE_MAXPOOL ||
                               n->op == IMC_NODE_AVGPOOL || (elementwise && in0->chan));
    /* a feature map flattened to [C][positions] keeps its positions as rows */
    o->chan |= n->op == IMC_NODE_RESHAPE && n->ndim == 2 && in0->chan &&
               n->shape[0] == f->g->nodes[n->inputs[0]].shape[0];
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
        o->site = gf_layer_of(f, i);
        linear(f, i);
        return;
    case IMC_NODE_CONV2D:
        o->site = gf_layer_of(f, i);
        conv(f, i);
        return;
    case IMC_NODE_LSTM:
    case IMC_NODE_GRU:
        o->site = gf_layer_of(f, i);
        o->seq += n->attr[IMC_RNN_BIDIR] || n->attr[IMC_RNN_REVERSE];
        recurrent(f, i);
        return;
    case IMC_NODE_MATMUL: /* on chip.digital's MAC array, and so is the work after it */
        o->site = -1;
        o->seq++;
        matmul(f, i);
        return;
    case IMC_NODE_LAYERNORM: { /* on the tile of the weight layer it alone feeds (the whole
                                  vector it normalises goes there anyway), else next to its input */
        int fed = fed_layer(f, i);
        if (fed >= 0)
            o->site = fed;
        rowwise(f, i, IMC_CLS_LAYERNORM, (imc_work[]){{IMC_DIGITAL_LAYERNORM, 1}}, 1);
        return;
    }
    case IMC_NODE_BATCHNORM:
        if (n->fold >= 0) { /* in the weights before it: its input, row for row */
            gf_alias_rows(f, i);
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
    case IMC_NODE_SCALE:
        if (f->g->nodes[n->inputs[0]].op == IMC_NODE_MATMUL) { /* attention's 1/sqrt(d): */
            gf_alias_rows(f, i);      /* folded into the query projection's weights, as DeiT/FAR's */
            return;
        }
        /* fall through */
    case IMC_NODE_MUL:
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
    case IMC_NODE_EXPAND: { /* data movement: row by row, or ready when every input is */
        if (gf_pass_rows(f, i, name))
            return;
        o->seq++;
        uint32_t deps[64];
        int k = 0;
        for (; k < n->n_inputs && k < 64; k++)
            deps[k] = f->n[n->inputs[k]].done;
        o->done = gf_join(f, name, deps, (size_t)k);
        return;
    }
    case IMC_NODE_EMBEDDING:
        embedding(f, i);
        return;
    case IMC_NODE_OP_COUNT:
        break;
    }
}

void imc_graphflow(imc_flow_builder *b, const imc_network *net, const imc_graph *g,
                   const imc_dataflow_opts *opts)
{
    gflow f = {.b = b, .net = net, .g = g, .n = calloc((size_t)g->n_nodes, sizeof *f.n),
               .qt = opts->query_tile > 0 ? opts->query_tile : 1};
    if (!f.n) {
        b->failed = 1;
        return;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (f.n[g->nodes[i].inputs[k]].n_readers++ == 0)
                f.n[g->nodes[i].inputs[k]].reader = i;
    for (int i = 0; i < g->n_nodes && !b->failed; i++)
        node(&f, i);
    for (int i = 0; i < g->n_nodes; i++)
        free(f.n[i].rows), free(f.n[i].parked), free(f.n[i].head_ready);
    free(f.n);
    free(f.group_first), free(f.group_ops), free(f.group_bar);
}
