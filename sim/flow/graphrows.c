/* graphrows.c -- the rows of a graph node's output while graphflow.c turns the graph into ops
 * (graphrows.h): which op made each row, rows passed through data movement (a reshape, a
 * transpose that keeps the last dimension, a slice, a concatenation: pass_rows), groups of ops
 * that make one row together (heads or directions concatenated: a weight layer takes each part
 * from the op that made it, parts_of), barriers joining ops, and the global store for what
 * waits for a whole tensor (a matmul's operands, a residual skip, a recurrent layer's input:
 * park, stored). */
#include "sim/flow/graphrows.h"

#include <stdlib.h>
#include <string.h>

int gf_layer_of(const gflow *f, int i)
{
    return f->g == &f->net->graph ? imc_network_layer_of(f->net, i, 0)
                                  : imc_network_layer_named(f->net, f->g->nodes[i].name);
}

void gf_geometry(const gflow *f, int i, uint32_t *rows, uint32_t *width)
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

/* The ops row value *V stands for: its group's (*OPS, their count returned), or *V itself. */
static size_t parts(const gflow *f, const uint32_t *v, const uint32_t **ops)
{
    if (*v == UINT32_MAX || !(*v & GROUP)) {
        *ops = v;
        return 1;
    }
    uint32_t g = *v & ~GROUP;
    *ops = f->group_ops + f->group_first[g];
    return f->group_first[g + 1] - f->group_first[g];
}

uint32_t gf_op_of(gflow *f, uint32_t v)
{
    if (v == UINT32_MAX || !(v & GROUP))
        return v;
    if (f->b->failed)
        return UINT32_MAX;
    uint32_t g = v & ~GROUP;
    if (f->group_bar[g] == UINT32_MAX) {
        const uint32_t *ops;
        size_t n = parts(f, &v, &ops);
        f->group_bar[g] = gf_barrier(f, f->b->g->ops[ops[0]].name, ops, n);
    }
    return f->group_bar[g];
}

uint32_t gf_row_val(const gflow *f, int j, uint32_t r, uint32_t n_rows)
{
    const node_ops *o = &f->n[j];
    return o->rows && o->n_rows == n_rows ? o->rows[r] : o->done;
}

uint32_t gf_row_dep(gflow *f, int j, uint32_t r, uint32_t n_rows)
{
    return gf_op_of(f, gf_row_val(f, j, r, n_rows));
}

uint32_t gf_barrier(gflow *f, uint32_t name, const uint32_t *deps, size_t n)
{
    imc_op bar = {.kind = IMC_OP_BARRIER, .cls = IMC_CLS_SYNC, .layer = -1, .site = -1,
                  .name = name, .head = -1};
    return imc_flow_emit(f->b, bar, deps, n);
}

uint32_t gf_join(gflow *f, uint32_t name, const uint32_t *deps, size_t n)
{
    size_t real = 0;
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < n; i++)
        if (deps[i] != UINT32_MAX)
            real++, last = deps[i];
    return real <= 1 ? last : gf_barrier(f, name, deps, n);
}

uint32_t gf_join_distinct(gflow *f, uint32_t name, const uint32_t *rows, uint32_t n)
{
    uint32_t *d = malloc((n ? n : 1) * sizeof *d), k = 0;
    if (!d) {
        f->b->failed = 1;
        return UINT32_MAX;
    }
    for (uint32_t r = 0; r < n; r++)
        if (!k || d[k - 1] != rows[r])
            d[k++] = rows[r];
    uint32_t id = gf_join(f, name, d, k);
    free(d);
    return id;
}

int gf_alloc_rows(gflow *f, int i, uint32_t n)
{
    free(f->n[i].rows);
    f->n[i].n_rows = n;
    if (!(f->n[i].rows = malloc((n ? n : 1) * sizeof *f->n[i].rows))) {
        f->b->failed = 1;
        return -1;
    }
    return 0;
}

uint32_t *gf_park(gflow *f, int site, const uint32_t *rows, uint32_t n, uint32_t width, uint32_t name)
{
    uint32_t *st = malloc((n ? n : 1) * sizeof *st);
    if (!st) {
        f->b->failed = 1;
        return NULL;
    }
    uint64_t bits = (uint64_t)width * f->b->ab;
    for (uint32_t r = 0; r < n; r++) {
        imc_op op = {.kind = IMC_OP_STORE, .cls = IMC_CLS_STORE, .layer = -1, .site = site,
                     .name = name, .token = r, .head = -1, .in_bits = bits, .out_bits = bits};
        st[r] = imc_flow_emit(f->b, op, &rows[r], 1);
    }
    return st;
}

const uint32_t *gf_parked_rows(gflow *f, int j, uint32_t name)
{
    node_ops *o = &f->n[j];
    if (!o->parked) {
        uint32_t rows, width;
        gf_geometry(f, j, &rows, &width);
        uint32_t *ops = malloc((o->n_rows ? o->n_rows : 1) * sizeof *ops);
        if (!ops) {
            f->b->failed = 1;
            return NULL;
        }
        for (uint32_t r = 0; r < o->n_rows; r++)
            ops[r] = gf_op_of(f, o->rows[r]);
        o->parked = gf_park(f, o->site, ops, o->n_rows, width, name);
        free(ops);
    }
    return o->parked;
}

void gf_parts_of(gflow *f, uint32_t v, uint32_t *deps, size_t *n, size_t max)
{
    const uint32_t *ops;
    size_t np = parts(f, &v, &ops);
    if (ops == &v || np + *n > max) { /* a plain op, or too many parts */
        if (*n < max)
            deps[(*n)++] = gf_op_of(f, v);
        return;
    }
    for (size_t k = 0; k < np; k++)
        deps[(*n)++] = ops[k];
}

/* Node J's output written to the global store, as a whole, from the tile that produced it; a
 * barrier after the write, for the readers (they read from the store themselves). */
static uint32_t store_whole(gflow *f, int j, uint32_t name)
{
    uint64_t bits = imc_node_numel(&f->g->nodes[j]) * f->b->ab;
    imc_op st = {.kind = IMC_OP_STORE, .cls = IMC_CLS_STORE, .layer = -1, .site = f->n[j].site,
                 .name = name, .head = -1, .in_bits = bits, .out_bits = bits};
    uint32_t op = imc_flow_emit(f->b, st, &f->n[j].done, 1);
    return gf_barrier(f, name, &op, 1);
}

/* The node whose rows node J's output is cut from (through reshapes, transposes, slices). */
static int source_of(const gflow *f, int j)
{
    while (f->g->nodes[j].n_inputs == 1 &&
           (f->g->nodes[j].op == IMC_NODE_RESHAPE || f->g->nodes[j].op == IMC_NODE_TRANSPOSE ||
            f->g->nodes[j].op == IMC_NODE_SLICE))
        j = f->g->nodes[j].inputs[0];
    return j;
}

uint32_t gf_stored(gflow *f, int j, uint32_t name)
{
    int s = source_of(f, j);
    node_ops *o = &f->n[s];
    if (!o->rows || o->chan)
        return store_whole(f, j, name);
    if (!o->has_parked_done) {
        const uint32_t *st = gf_parked_rows(f, s, name);
        if (!st)
            return UINT32_MAX;
        o->parked_done = gf_join(f, name, st, o->n_rows);
        o->has_parked_done = 1;
    }
    return o->parked_done;
}

uint32_t gf_head_ready(gflow *f, int j, uint32_t q, uint32_t n_heads, uint32_t ready, uint32_t name)
{
    node_ops *o = &f->n[source_of(f, j)];
    if (!o->has_parked_done || ready != o->parked_done)
        return ready;
    if (!o->head_ready) {
        if (!(o->head_ready = malloc(n_heads * sizeof *o->head_ready))) {
            f->b->failed = 1;
            return ready;
        }
        o->n_heads = n_heads;
        for (uint32_t h = 0; h < n_heads; h++) {
            imc_op bar = {.kind = IMC_OP_BARRIER, .cls = IMC_CLS_SYNC, .layer = -1, .site = -1,
                          .name = name, .head = (int32_t)h};
            o->head_ready[h] = imc_flow_emit(f->b, bar, &ready, 1);
        }
    }
    return q < o->n_heads ? o->head_ready[q] : ready;
}

/* The index over N's leading dimensions (all but the last) of its row R. */
static void row_index(const imc_node *n, uint32_t r, int64_t *idx)
{
    uint64_t rest = r;
    for (int d = n->ndim - 2; d >= 0; d--) {
        idx[d] = (int64_t)(rest % (uint64_t)n->shape[d]);
        rest /= (uint64_t)n->shape[d];
    }
}

/* Input rows [*LO, *HI] that output row R of single-input data movement node I reads (a
 * reshape keeps the flat order; a transpose that keeps the last dimension and a slice move
 * whole rows). 0 when the node moves elements across rows (a transpose of the last dimension). */
static int rows_read(const gflow *f, int i, uint32_t r, uint32_t *lo, uint32_t *hi)
{
    const imc_node *n = &f->g->nodes[i], *in = &f->g->nodes[n->inputs[0]];
    int last = n->ndim - 1;
    uint64_t w = (uint64_t)n->shape[last], in_w = (uint64_t)in->shape[in->ndim - 1];
    if (n->op == IMC_NODE_RESHAPE) {
        *lo = (uint32_t)((uint64_t)r * w / in_w);
        *hi = (uint32_t)(((uint64_t)r * w + w - 1) / in_w);
        return 1;
    }
    int64_t idx[IMC_GRAPH_MAX_DIMS], in_idx[IMC_GRAPH_MAX_DIMS];
    row_index(n, r, idx);
    if (n->op == IMC_NODE_TRANSPOSE) {
        if (n->attr[1 + last] != last)
            return 0;
        for (int d = 0; d < last; d++)
            in_idx[n->attr[1 + d]] = idx[d];
    } else { /* slice */
        if (n->attr[IMC_DIM] == last) {
            *lo = *hi = r;
            return 1;
        }
        for (int d = 0; d < last; d++)
            in_idx[d] = idx[d] + (d == n->attr[IMC_DIM] ? n->attr[IMC_SLICE_START] : 0);
    }
    uint64_t row = 0;
    for (int d = 0; d < last; d++)
        row = row * (uint64_t)in->shape[d] + (uint64_t)in_idx[d];
    *lo = *hi = (uint32_t)row;
    return 1;
}

void gf_alias_rows(gflow *f, int i)
{
    const node_ops *in = &f->n[f->g->nodes[i].inputs[0]];
    f->n[i].done = in->done;
    if (in->rows && !gf_alloc_rows(f, i, in->n_rows))
        memcpy(f->n[i].rows, in->rows, in->n_rows * sizeof *in->rows);
}

/* The input K and its row that output row R of concatenation I (along a dimension other than
 * the last) is. */
static void concat_row(const gflow *f, int i, uint32_t r, int *k, uint32_t *row)
{
    const imc_node *n = &f->g->nodes[i];
    int last = n->ndim - 1, dim = (int)n->attr[IMC_DIM];
    int64_t idx[IMC_GRAPH_MAX_DIMS];
    row_index(n, r, idx);
    for (*k = 0; *k < n->n_inputs - 1 && idx[dim] >= f->g->nodes[n->inputs[*k]].shape[dim]; (*k)++)
        idx[dim] -= f->g->nodes[n->inputs[*k]].shape[dim];
    const imc_node *in = &f->g->nodes[n->inputs[*k]];
    uint64_t x = 0;
    for (int d = 0; d < last; d++)
        x = x * (uint64_t)in->shape[d] + (uint64_t)idx[d];
    *row = (uint32_t)x;
}

/* Append V to the growing array *A (*N of *CAP used); nonzero (and the flow failed) when out
 * of memory. */
static int push(gflow *f, uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        uint32_t *grown = realloc(*a, c * sizeof *grown);
        if (!grown) {
            f->b->failed = 1;
            return -1;
        }
        *a = grown;
        *cap = c;
    }
    (*a)[(*n)++] = v;
    return 0;
}

/* A new group of the N ops OPS (see gflow); its row value. */
static uint32_t new_group(gflow *f, const uint32_t *ops, size_t n)
{
    if (f->n_groups + 2 > f->cap_groups) {
        size_t c = f->cap_groups ? 2 * f->cap_groups : 1024;
        uint32_t *g1 = realloc(f->group_first, c * sizeof *g1);
        if (g1)
            f->group_first = g1;
        uint32_t *g2 = g1 ? realloc(f->group_bar, c * sizeof *g2) : NULL;
        if (g2)
            f->group_bar = g2;
        if (!g1 || !g2) {
            f->b->failed = 1;
            return UINT32_MAX;
        }
        f->cap_groups = c;
    }
    if (!f->n_groups)
        f->group_first[0] = 0;
    for (size_t k = 0; k < n; k++)
        if (push(f, &f->group_ops, &f->n_group_ops, &f->cap_group_ops, ops[k]))
            return UINT32_MAX;
    f->group_bar[f->n_groups] = UINT32_MAX;
    f->group_first[f->n_groups + 1] = (uint32_t)f->n_group_ops;
    return GROUP | (uint32_t)f->n_groups++;
}

int gf_pass_rows(gflow *f, int i, uint32_t name)
{
    const imc_node *n = &f->g->nodes[i];
    const node_ops *in0 = &f->n[n->inputs[0]];
    uint32_t rows, width;
    if (in0->chan && in0->rows && (f->n[i].chan || (n->op == IMC_NODE_TRANSPOSE && n->ndim == 2))) {
        gf_alias_rows(f, i); /* a feature map's positions flattened, then made the rows */
        return 1;
    }
    if (f->n[i].chan || n->op == IMC_NODE_EXPAND)
        return 0;
    gf_geometry(f, i, &rows, &width);
    int any = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        const imc_node *in = &f->g->nodes[n->inputs[k]];
        const node_ops *o = &f->n[n->inputs[k]];
        uint32_t in_rows, in_w;
        if (o->chan || in->ndim < 1)
            return 0;
        gf_geometry(f, n->inputs[k], &in_rows, &in_w);
        if (o->rows && o->n_rows != in_rows)
            return 0;
        any |= o->rows != NULL;
    }
    int concat = n->op == IMC_NODE_CONCAT, concat_last = concat && n->attr[IMC_DIM] == n->ndim - 1;
    uint32_t lo, hi;
    if (!any || (!concat && !rows_read(f, i, 0, &lo, &hi)))
        return 0;
    if (gf_alloc_rows(f, i, rows))
        return 0;
    uint32_t *deps = NULL, *all = NULL, prev = UINT32_MAX;
    size_t nd = 0, cap = 0, n_all = 0, cap_all = 0, first_prev = 0, n_prev = 0;
    for (uint32_t r = 0; r < rows && !f->b->failed; r++) {
        int k = 0;
        if (concat_last)
            lo = 0, hi = (uint32_t)n->n_inputs - 1;
        else if (concat)
            concat_row(f, i, r, &k, &lo), hi = lo;
        else
            rows_read(f, i, r, &lo, &hi);
        nd = 0;
        for (uint32_t x = lo; x <= hi; x++) {
            const node_ops *o = &f->n[n->inputs[concat_last ? (int)x : k]];
            uint32_t v = !o->rows ? o->done : o->rows[concat_last ? r : x];
            const uint32_t *ps;
            size_t np = parts(f, &v, &ps);
            for (size_t e = 0; e < np; e++)
                if (ps[e] != UINT32_MAX && (!nd || deps[nd - 1] != ps[e]) &&
                    push(f, &deps, &nd, &cap, ps[e]))
                    break;
        }
        if (nd <= 1) {
            f->n[i].rows[r] = nd ? deps[0] : UINT32_MAX;
        } else if (prev != UINT32_MAX && nd == n_prev &&
                   !memcmp(deps, f->group_ops + first_prev, nd * sizeof *deps)) {
            f->n[i].rows[r] = prev; /* the same parts as the row before: the same group */
        } else {
            prev = f->n[i].rows[r] = new_group(f, deps, nd);
            if (prev == UINT32_MAX)
                break;
            first_prev = f->group_first[prev & ~GROUP];
            n_prev = nd;
        }
        for (size_t e = 0; e < nd; e++)
            if ((!n_all || all[n_all - 1] != deps[e]) && push(f, &all, &n_all, &cap_all, deps[e]))
                break;
    }
    f->n[i].done = gf_join(f, name, all, n_all);
    free(deps), free(all);
    return !f->b->failed;
}
