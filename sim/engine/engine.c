/* engine.c -- replay an op graph on a mapped architecture, cycle by cycle of each resource
 * (see engine.h).
 *
 * An op instance (op x inference) runs in stages. Its first stage starts when its last input
 * has arrived; each stage takes the resources it needs on their timelines (a resource is taken
 * until a tick; taking it waits for that tick and rounds to the resource's clock), charges its
 * actions to the ledger, and the next stage starts at its end. When the last stage ends the op
 * is done: its output must find room in the buffer of every consumer's tile, or the op waits
 * (back-pressure); then it travels to the consumers (NoC links reserved along an XY route), and
 * a consumer whose inputs have all arrived is scheduled. Work is charged for inference 0 only
 * (every inference does the same work); time runs for all of them, so they contend.
 *
 * An MVM of one vector on a layer copy's crossbars: the input is read from the home tile's
 * buffer over the tile bus (and sent to the copy's other tiles, if it spans several); then for
 * each of the S = input_bits / dac_bits input slices one crossbar read (R), sample-and-hold and
 * the ADC conversions of the columns that share an ADC (A), pipelined as in ISAAC so read s+1
 * overlaps the conversions of s: latency R + (S-1) max(R, A) + A, a new vector every
 * S max(R, A); the partial sums of other tiles come back over the NoC at partial-sum precision
 * and the row tiles' sums are added on the home tile's vector unit; the output goes back to the
 * home tile's buffer. Element-wise work is spread over the digital units of every tile the
 * layer copy holds. The attention's and FAR's stores live in the global buffer (spilling to
 * DRAM when it is full) until every op reading them has run.
 *
 * For the critical path, each stage of the first inference records how long it queued and for
 * which resource, and each op which input arrived last (bounds.c walks that chain). */
#include "sim/engine/engine_impl.h"

#include "sim/base/hugepages.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINK_E, LINK_W, LINK_N, LINK_S };

static int on_stage(imc_kernel *k, void *ctx, uint64_t arg);
static int on_done(engine *e, int inf, uint32_t i, uint64_t now);
static int park(engine *e, size_t g, uint32_t op);
static int next_load(engine *e, int inf, int r, uint64_t now);

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return b ? (a + b - 1) / b : 0;
}

/* Round T up to the next edge of a clock of period P. */
static uint64_t edge(uint64_t t, uint64_t p)
{
    return p ? ceil_div(t, p) * p : t;
}

static int oom(engine *e)
{
    if (!e->status)
        e->status = imc_err_set(e->err, IMC_ENOMEM, "out of memory");
    return e->status;
}

/* N units of UNIT_PS picoseconds each (N a whole number of accesses, flits, cycles, as a
 * double), as ticks. A stage of 2^62 ps (53 days) or more -- a trace's or a model's sizes, or
 * an architecture's rates, far out of range -- stops the run with an error instead of a
 * conversion C leaves undefined or a product that wraps; with the kernel's horizon of 2^63 ps
 * (kernel.c) no sum of a time and a stage wraps either. */
#define SPAN_MAX_PS ((uint64_t)1 << 62)

static int op_failed(engine *e, const char *msg, const imc_op *op);

static uint64_t span_ps(engine *e, double n, uint64_t unit_ps)
{
    uint64_t ps;
    if (n >= 0 && n < (double)SPAN_MAX_PS && !__builtin_mul_overflow((uint64_t)n, unit_ps, &ps) &&
        ps < SPAN_MAX_PS)
        return ps;
    char msg[160];
    snprintf(msg, sizeof msg, "a stage would take %.3g x %" PRIu64 " ps, past the 2^62 ps (53 "
             "days) one stage may take: sizes or rates out of range", n, unit_ps);
    if (e->current)
        op_failed(e, msg, e->current);
    else if (!e->status) /* a round's reprogramming */
        e->status = imc_err_set(e->err, IMC_EINPUT, "%s", msg);
    return 0;
}

/* A new resource of component COMP named by FMT; its index, or NO_RES when out of memory. */
static uint32_t add_res(engine *e, imc_comp comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static uint32_t add_res(engine *e, imc_comp comp, const char *fmt, ...)
{
    char label[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(label, sizeof label, fmt, ap);
    va_end(ap);
    size_t len = (size_t)(n < 0 ? 0 : n >= (int)sizeof label ? (int)sizeof label - 1 : n) + 1;
    if (e->n_res == e->cap_res) {
        size_t cap = e->cap_res ? 2 * e->cap_res : 256;
        resource *grown = realloc(e->res, cap * sizeof *grown);
        if (!grown)
            return oom(e), NO_RES;
        e->res = grown;
        e->cap_res = cap;
    }
    if (e->n_labels + len > e->cap_labels) {
        size_t cap = e->cap_labels ? 2 * e->cap_labels : 8192;
        while (cap < e->n_labels + len)
            cap *= 2;
        char *grown = realloc(e->labels, cap);
        if (!grown)
            return oom(e), NO_RES;
        e->labels = grown;
        e->cap_labels = cap;
    }
    memcpy(e->labels + e->n_labels, label, len);
    e->res[e->n_res] = (resource){0, 0, 0, comp, (uint32_t)e->n_labels};
    e->n_labels += len;
    return (uint32_t)e->n_res++;
}

const char *imc_engine_res_label(const engine *e, uint32_t r)
{
    return r < e->n_res ? e->labels + e->res[r].name : "?";
}

/* The op instance a stage runs for, for the timeline and the records. */
typedef struct who {
    int inf;
    const imc_op *op;
} who;

/* Take resource R for DUR ps, no earlier than T; returns the start. The queueing is the
 * resource's and the current stage's; the service is the resource's. */
static uint64_t take(engine *e, who w, uint32_t r, uint64_t t, uint64_t dur, uint64_t period)
{
    resource *x = &e->res[r];
    uint64_t s = edge(t > x->free_ps ? t : x->free_ps, period);
    x->free_ps = s + dur;
    x->busy_ps += dur;
    x->wait_ps += s - t;
    e->stage_wait += s - t;
    e->stage_res = r;
    if (e->stage_first == UINT64_MAX)
        e->stage_first = s;
    if (e->opts->on_slice && w.op) {
        imc_slice sl = {w.op, w.inf, r, imc_engine_res_label(e, r), x->comp, t, s, s + dur};
        e->opts->on_slice(e->opts->on_slice_ctx, &sl);
    }
    return s;
}

/* Charge COUNT actions to the ledger (first inference only), through MEMO's remembered row
 * when the call site has one (imc_ledger_add_memo), else by lookup. */
static inline void charge_at(engine *e, int inference, imc_ledger_memo *memo, uint32_t name,
                             int cls, imc_comp comp, unsigned action, double count)
{
    if (inference != 0 || count <= 0 || !e->units[comp].inst) /* (cache_units) */
        return;
    int rc = memo ? imc_ledger_add_memo(e->ledger, memo, name, cls, comp, action, count)
                  : imc_ledger_add(e->ledger, name, cls, comp, action, count);
    if (rc && !e->status)
        e->status = imc_err_set(e->err, IMC_ENOMEM, "out of memory in the ledger");
}

static void charge(engine *e, int inference, uint32_t name, int cls, imc_comp comp,
                   unsigned action, double count)
{
    charge_at(e, inference, NULL, name, cls, comp, action, count);
}

static void traffic(engine *e, int inference, imc_mem_level level, double bits)
{
    if (inference == 0)
        imc_ledger_traffic(e->ledger, level, bits);
}

static const imc_instance *unit(const engine *e, imc_comp c)
{
    return e->units[c].inst;
}

/* A positive value of KEY of INST, or 1. */
static double at_least_one(const imc_instance *inst, const char *key)
{
    double v = inst ? imc_instance_get(inst, key) : NAN;
    return v > 0 ? v : 1;
}

/* e->units from the architecture, once per run. */
static void cache_units(engine *e)
{
    for (int c = 0; c < IMC_COMP_COUNT; c++) {
        unit_rt *u = &e->units[c];
        u->inst = imc_comp_instance(e->arch, (imc_comp)c);
        u->width = at_least_one(u->inst, c == IMC_COMP_TILE_BUS ? "flit_width" : "width");
        u->banks = at_least_one(u->inst, "banks");
        u->lanes = at_least_one(u->inst, "lanes");
    }
}

/* Accesses of buffer C's port for BITS (0 when there is no such buffer). */
static double accesses(const engine *e, imc_comp c, double bits)
{
    if (!e->units[c].inst || bits <= 0)
        return 0;
    return ceil(bits / e->units[c].width);
}

/* Time to move BITS through buffer C (all banks in parallel). */
static uint64_t buffer_ps(engine *e, imc_comp c, double bits)
{
    if (!e->units[c].inst || bits <= 0)
        return 0;
    return span_ps(e, ceil(accesses(e, c, bits) / e->units[c].banks),
                   imc_model_latency_ps(e->units[c].inst, IMC_BUFFER_READ));
}

static double lanes_of(const engine *e, imc_comp c)
{
    return e->units[c].lanes;
}

/* ---- the NoC -------------------------------------------------------------------------------- */

/* Where tile T (-1: the chip-level units) meets the mesh: looked up, not divided out, on every
 * send (setup_noc). */
static const struct noc_place *noc_at(const engine *e, int64_t tile)
{
    return &e->noc_at[tile < 0 ? 0 : tile + 1];
}

/* Send BITS from SRC to DST (tiles; -1 = the chip-level units) leaving at T; returns the
 * arrival of the last flit. XY routing, every link reserved for the flits it carries. */
static uint64_t send(engine *e, who w, uint32_t name, int64_t src, int64_t dst, double bits,
                     uint64_t t)
{
    const struct noc_place *pa = noc_at(e, src), *pb = noc_at(e, dst);
    int a = pa->router, b = pb->router;
    if (bits <= 0 || (a == b && src == dst))
        return t;
    double n = ceil(bits / e->flit_bits);
    span_ps(e, n, e->flit_ps); /* the check: the flits' time is counted per link below */
    uint64_t flits = e->status ? 1 : (uint64_t)n;
    if (a == b) { /* same router, another port: one router traversal */
        charge(e, w.inf, name, IMC_CLS_TRANSFER, IMC_COMP_NOC, IMC_NOC_FLIT_HOP, (double)flits);
        traffic(e, w.inf, IMC_MEM_NOC, bits);
        return t + e->hop_ps + (flits - 1) * e->flit_ps;
    }
    int x = pa->x, y = pa->y, bx = pb->x, by = pb->y, hops = 0;
    while (x != bx || y != by) {
        int r = y * e->mesh_w + x, dir;
        if (x != bx)
            dir = bx > x ? LINK_E : LINK_W, x += bx > x ? 1 : -1;
        else
            dir = by > y ? LINK_S : LINK_N, y += by > y ? 1 : -1;
        uint32_t link = e->first_link + (uint32_t)r * 4 + (uint32_t)dir;
        uint64_t s = take(e, w, link, t, flits * e->flit_ps, e->flit_ps);
        t = s + e->hop_ps;
        hops++;
    }
    charge(e, w.inf, name, IMC_CLS_TRANSFER, IMC_COMP_NOC, IMC_NOC_FLIT_HOP, (double)(flits * hops));
    traffic(e, w.inf, IMC_MEM_NOC, bits);
    return t + (flits - 1) * e->flit_ps;
}

/* ---- memories ------------------------------------------------------------------------------- */

/* Move BITS between the chip and DRAM (the channel's bandwidth and latency). */
static uint64_t dram(engine *e, who w, uint32_t name, int cls, double bits, int write, uint64_t t)
{
    if (bits <= 0)
        return t;
    const imc_instance *d = unit(e, IMC_COMP_DRAM);
    double bw = imc_instance_get(d, "bandwidth"); /* bit/s */
    uint64_t xfer = span_ps(e, ceil(bits / bw * 1e12), 1);
    uint64_t s = take(e, w, e->dram, t, xfer, 0);
    charge(e, w.inf, name, cls, IMC_COMP_DRAM, write ? IMC_DRAM_WRITE_BITS : IMC_DRAM_READ_BITS,
           bits);
    traffic(e, w.inf, IMC_MEM_DRAM, bits);
    return s + xfer + imc_model_latency_ps(d, write ? IMC_DRAM_WRITE_BITS : IMC_DRAM_READ_BITS);
}

static uint64_t gbuf(engine *e, who w, uint32_t name, int cls, double bits, int write, uint64_t t)
{
    const imc_instance *gb = unit(e, IMC_COMP_GLOBAL_BUFFER);
    if (!gb || bits <= 0)
        return t;
    uint64_t d = buffer_ps(e, IMC_COMP_GLOBAL_BUFFER, bits);
    uint64_t s = take(e, w, e->gbuf, t, d, gb->period_ps);
    charge(e, w.inf, name, cls, IMC_COMP_GLOBAL_BUFFER, write ? IMC_BUFFER_WRITE : IMC_BUFFER_READ,
           accesses(e, IMC_COMP_GLOBAL_BUFFER, bits));
    traffic(e, w.inf, IMC_MEM_GLOBAL_BUFFER, bits);
    return s + d;
}

/* Read BITS of a store of which SPILLED went to DRAM: both parts in parallel. */
static uint64_t store_read(engine *e, who w, double bits, double spilled, uint64_t t)
{
    const imc_op *op = w.op;
    uint64_t a = gbuf(e, w, op->name, op->cls, bits * (1 - spilled), 0, t);
    uint64_t b = dram(e, w, op->name, op->cls, bits * spilled, 0, t);
    return a > b ? a : b;
}

/* ---- the stores: where an op's stored data went, and when it may go ----------------------- */

static size_t at(engine *e, int inf, uint32_t i)
{
    return (size_t)inf * e->g->n_ops + i;
}

/* The share of OP's store data that spilled to DRAM: the mean over its STORE and BARRIER
 * dependencies (a barrier holds its stores' mean). */
static double spilled_of(engine *e, int inf, const imc_op *op)
{
    double sum = 0;
    int n = 0;
    for (uint32_t d = 0; d < op->n_deps; d++) {
        uint32_t j = e->g->deps[op->first_dep + d];
        uint8_t kind = e->g->ops[j].kind;
        if (kind == IMC_OP_STORE || kind == IMC_OP_BARRIER) {
            sum += e->spilled[at(e, inf, j)];
            n++;
        }
    }
    return n ? sum / n : 0;
}

static void release_store(engine *e, int inf, uint32_t s)
{
    const imc_op *op = &e->g->ops[s];
    size_t k = at(e, inf, s);
    if (op->kind == IMC_OP_STORE) {
        e->store_bits -= (double)op->out_bits * (1 - e->spilled[k]);
        if (e->store_bits < 0.5)
            e->store_bits = 0;
        return;
    }
    /* a barrier done with: its stores have one reader less */
    for (uint32_t d = 0; d < op->n_deps; d++) {
        uint32_t j = e->g->deps[op->first_dep + d];
        size_t kj = at(e, inf, j);
        if (e->g->ops[j].kind == IMC_OP_STORE && e->readers[kj] && --e->readers[kj] == 0)
            release_store(e, inf, j);
    }
}

/* OP I of inference INF has run: the stores and barriers it read have one reader less. */
static void read_done(engine *e, int inf, uint32_t i)
{
    const imc_op *op = &e->g->ops[i];
    for (uint32_t d = 0; d < op->n_deps; d++) {
        uint32_t j = e->g->deps[op->first_dep + d];
        size_t kj = at(e, inf, j);
        if (e->readers[kj] && --e->readers[kj] == 0) /* (set for stores and barriers only) */
            release_store(e, inf, j);
    }
}

/* ---- executing ops -------------------------------------------------------------------------- */

/* The copy of layer L that works on TOKEN: round robin (no division for a single copy). */
static uint32_t copy_of(const layer_rt *l, uint32_t token)
{
    return l->copies == 1 ? 0 : token % (uint32_t)l->copies;
}

static int64_t site_tile(engine *e, const imc_op *op)
{
    if (op->site < 0)
        return -1;
    const layer_rt *l = &e->layers[op->site];
    return l->tile[copy_of(l, op->token)];
}

static int64_t op_tile(engine *e, const imc_op *op)
{
    return op->kind == IMC_OP_MVM || op->kind == IMC_OP_VECTOR || op->kind == IMC_OP_STORE
               ? site_tile(e, op)
               : -1;
}

static int op_failed(engine *e, const char *msg, const imc_op *op)
{
    if (!e->status)
        e->status = imc_err_set(e->err, IMC_EINPUT, "%s (op %s of %s)", msg,
                                imc_op_class_name((imc_op_class)op->cls), e->g->names[op->name]);
    return e->status;
}

/* Each kind of op runs in stages; a stage takes its resources at the time it starts, so no
 * resource is ever booked ahead of the present. A stage returns its end and sets *last on the
 * op's final stage. */

/* The components and actions of an MVM's fetch charges (mvm_cost.count). */
static const struct {
    imc_comp comp;
    unsigned action;
} mvm_charges[MVM_CHARGES] = {
    {IMC_COMP_XBAR, IMC_XBAR_READ},          {IMC_COMP_DAC, IMC_DAC_CONVERT},
    {IMC_COMP_SH, IMC_SH_SAMPLE},            {IMC_COMP_ADC, IMC_ADC_CONVERT},
    {IMC_COMP_PE_SHIFTADD, IMC_SHIFTADD_ADD}, {IMC_COMP_PE_IR, IMC_BUFFER_WRITE},
    {IMC_COMP_PE_IR, IMC_BUFFER_READ},       {IMC_COMP_PE_OR, IMC_BUFFER_WRITE},
    {IMC_COMP_PE_OR, IMC_BUFFER_READ},       {IMC_COMP_TILE_BUFFER, IMC_BUFFER_READ},
    {IMC_COMP_TILE_BUFFER, IMC_BUFFER_WRITE}, {IMC_COMP_TILE_BUS, IMC_NOC_FLIT_HOP},
    {IMC_COMP_TILE_VECTOR, IMC_DIGITAL_ADD},
};

/* L's costs for an MVM of OP's sizes: remembered, worked out again only when they change (its
 * seven buffer accesses and thirteen counts were a fifth of the engine's instructions, for the
 * same numbers op after op). */
static const mvm_cost *mvm_cost_of(engine *e, layer_rt *l, const imc_layer_place *lp,
                                   const imc_op *op)
{
    mvm_cost *mc = &l->cost;
    if (mc->in_bits == op->in_bits && mc->out_bits == op->out_bits)
        return mc;
    const imc_instance *bus = unit(e, IMC_COMP_TILE_BUS);
    double in = (double)op->in_bits, out = (double)op->out_bits;
    double adds = (double)(lp->row_tiles - 1) * lp->layer->out;
    int S = e->slices;
    mc->read_ps = buffer_ps(e, IMC_COMP_TILE_BUFFER, in);
    mc->bus_ps = bus ? ceil_div((uint64_t)in, (uint64_t)e->units[IMC_COMP_TILE_BUS].width) *
                           imc_model_latency_ps(bus, IMC_NOC_FLIT_HOP)
                     : 0;
    mc->write_ps = buffer_ps(e, IMC_COMP_TILE_BUFFER, out);
    double *n = mc->count;
    n[0] = S * (double)l->xbars;
    n[1] = S * l->dac_conv;
    n[2] = n[3] = n[4] = S * l->cols_used;
    n[5] = accesses(e, IMC_COMP_PE_IR, in * lp->col_tiles);
    n[6] = S * accesses(e, IMC_COMP_PE_IR, in * lp->col_tiles / S);
    n[7] = n[8] = accesses(e, IMC_COMP_PE_OR, out * lp->row_tiles);
    n[9] = accesses(e, IMC_COMP_TILE_BUFFER, in);
    n[10] = accesses(e, IMC_COMP_TILE_BUFFER, out);
    n[11] = accesses(e, IMC_COMP_TILE_BUS, in) + accesses(e, IMC_COMP_TILE_BUS, out);
    n[12] = adds; /* (charge_at skips what a missing unit or a zero count would charge) */
    mc->in_bits = op->in_bits, mc->out_bits = op->out_bits;
    return mc;
}

static uint64_t mvm_stage(engine *e, who w, int stage, uint64_t t, int *last)
{
    const imc_op *op = w.op;
    int inf = w.inf;
    const imc_pe *pe = &e->arch->chip.tile.pe;
    const imc_layer_place *lp = &e->place->layers[op->layer];
    layer_rt *l = &e->layers[op->layer];
    int copy = (int)copy_of(l, op->token);
    int64_t home = l->tile[copy];
    tile_rt *tile = &e->tiles[home];
    const imc_instance *buf = unit(e, IMC_COMP_TILE_BUFFER), *bus = unit(e, IMC_COMP_TILE_BUS);
    const imc_instance *vu = unit(e, IMC_COMP_TILE_VECTOR);
    double in = (double)op->in_bits, out = (double)op->out_bits;
    double adds = (double)(lp->row_tiles - 1) * lp->layer->out;
    int S = e->slices;

    switch (stage) {
    case 0: { /* fetch: tile buffer -> bus -> input registers (and to the copy's other tiles),
               and compute */
        const mvm_cost *mc = mvm_cost_of(e, l, lp, op);
        uint64_t rd = mc->read_ps, bt = mc->bus_ps;
        /* the input registers hold one vector beside the one in the crossbars: a fetch starts
         * no earlier than it must to be ready when the crossbars are (it comes back then,
         * booking nothing ahead of the present) */
        uint64_t pipe_free = e->res[l->pipe[copy]].free_ps, lead = rd + bt;
        if (pipe_free > t + lead) {
            e->stage_again = 1;
            e->res[l->pipe[copy]].wait_ps += pipe_free - lead - t; /* it queues for them */
            return pipe_free - lead;
        }
        uint64_t s = take(e, w, tile->buffer, t, rd, buf ? buf->period_ps : 0), end = s + rd;
        if (bus)
            end = take(e, w, tile->bus, s, bt, bus->period_ps) + bt;
        /* broadcast to the copy's other tiles (a sliding window's input reached them from its
         * producers: window_sends) */
        for (int k = 1; !op->take_bits && k < l->n_tiles; k++) {
            uint64_t a = send(e, w, op->name, home, home + k, in, s + rd);
            end = a > end ? a : end;
        }
        for (int k = 0; inf == 0 && k < MVM_CHARGES; k++)
            charge_at(e, inf, &l->memo[k], op->name, op->cls, mvm_charges[k].comp,
                      mvm_charges[k].action, mc->count[k]);
        traffic(e, inf, IMC_MEM_TILE_BUFFER, in + out);
        traffic(e, inf, IMC_MEM_PE_BUFFERS, in * lp->col_tiles + out * lp->row_tiles);
        /* then the crossbar pipeline, booked as soon as the input is in (so the next vector's
         * fetch is paced by it): S slices of read, sample, convert; then shift-add */
        uint64_t p0 = take(e, w, l->pipe[copy], end, (uint64_t)S * l->stage_ps, 0);
        end = p0 + l->first_ps + (uint64_t)(S - 1) * l->stage_ps;
        return pe->shiftadd ? end + imc_model_latency_ps(pe->shiftadd, IMC_SHIFTADD_ADD) : end;
    }
    case 1: /* (the crossbar pipeline is the fetch's stage: see above) */
        return t;
    case 2: { /* the sums of other tiles to the home tile; the row tiles' sums added */
        uint64_t end = t;
        const imc_placement *p = e->place;
        for (int k = 1; k < l->n_tiles; k++) {
            /* a copy's crossbars lie column tile by column tile, so a tile holds whole columns
             * of row tiles and adds them up itself: one sum per output it holds leaves it */
            double cols = (double)l->xbars_in_tile[copy * l->n_tiles + k] / lp->row_tiles;
            double bits = ceil(cols * p->weights_per_row) * e->psum_bits;
            uint64_t a = send(e, w, op->name, home + k, home, bits, t);
            end = a > end ? a : end;
        }
        if (adds > 0 && vu) {
            uint64_t d = span_ps(e, ceil(adds / lanes_of(e, IMC_COMP_TILE_VECTOR)),
                                 imc_model_latency_ps(vu, IMC_DIGITAL_ADD));
            e->stage_func = IMC_DIGITAL_ADD;
            end = take(e, w, tile->vector, end, d, vu->period_ps) + d;
        }
        return end;
    }
    default: { /* the output back to the home tile's buffer */
        uint64_t wr = mvm_cost_of(e, l, lp, op)->write_ps;
        *last = 1;
        return take(e, w, tile->buffer, t, wr, buf ? buf->period_ps : 0) + wr;
    }
    }
}

/* Is F a special function (a lookup or piecewise-linear unit's), rather than arithmetic? */
static int special(unsigned f)
{
    return f == IMC_DIGITAL_EXP || f == IMC_DIGITAL_SIGMOID || f == IMC_DIGITAL_TANH ||
           f == IMC_DIGITAL_GELU || f == IMC_DIGITAL_SOFTMAX || f == IMC_DIGITAL_DIV ||
           f == IMC_DIGITAL_LAYERNORM;
}

/* Element-wise work: one stage per (function, count), spread over the units of every tile the
 * op's layer copy holds (the chip's unit, or the host's, for chip-level work). */
static uint64_t vector_stage(engine *e, who w, int stage, uint64_t t, int *last)
{
    const imc_op *op = w.op;
    int inf = w.inf;
    int64_t tile = site_tile(e, op);
    int host = tile < 0 && e->arch->mapping.matmul == IMC_MATMUL_HOST &&
               op->cls == IMC_CLS_SOFTMAX;
    if (stage == 0 && !host) { /* operands from and results to the tile or the global buffer;
                                  without work, a receive: its data written, nothing read */
        imc_comp bc = tile >= 0 ? IMC_COMP_TILE_BUFFER : IMC_COMP_GLOBAL_BUFFER;
        const imc_instance *buf = unit(e, bc);
        double rd = op->n_work ? (double)op->in_bits : 0;
        charge(e, inf, op->name, op->cls, bc, IMC_BUFFER_READ, accesses(e, bc, rd));
        charge(e, inf, op->name, op->cls, bc, IMC_BUFFER_WRITE,
               accesses(e, bc, (double)op->out_bits));
        if (buf)
            traffic(e, inf, tile >= 0 ? IMC_MEM_TILE_BUFFER : IMC_MEM_GLOBAL_BUFFER,
                    rd + (double)op->out_bits);
        if (!op->n_work && op->site >= 0) { /* a receive: on to every other tile of the layer */
            const layer_rt *l = &e->layers[op->site];
            uint64_t end = t;
            for (int c = 0; c < l->copies; c++)
                for (int k = 0; k < l->n_tiles; k++)
                    if (l->tile[c] + k != tile) {
                        uint64_t a = send(e, w, op->name, tile, l->tile[c] + k, (double)op->out_bits, t);
                        end = a > end ? a : end;
                    }
            *last = 1;
            return end;
        }
    }
    *last = stage + 1 >= op->n_work;
    if (stage >= op->n_work)
        return t;
    unsigned f = op->work[stage].func;
    double count = op->work[stage].count;
    e->stage_func = (uint8_t)f;
    if (tile < 0) { /* chip level: the chip's digital unit, or the host */
        imc_comp c = host ? IMC_COMP_HOST : IMC_COMP_DIGITAL;
        const imc_instance *u = unit(e, c);
        if (!u) {
            op_failed(e, host ? "mapping.matmul is host but the architecture has no chip.host"
                              : "the architecture has no chip.digital unit for this work",
                      op);
            return t;
        }
        uint64_t d = span_ps(e, ceil(count / lanes_of(e, c)), imc_model_latency_ps(u, f));
        charge(e, inf, op->name, op->cls, c, f, count);
        return take(e, w, host ? e->host : e->digital, t, d, u->period_ps) + d;
    }
    imc_comp c = special(f) && unit(e, IMC_COMP_TILE_SFU) ? IMC_COMP_TILE_SFU
                 : unit(e, IMC_COMP_TILE_VECTOR)         ? IMC_COMP_TILE_VECTOR
                 : unit(e, IMC_COMP_TILE_SFU)            ? IMC_COMP_TILE_SFU
                                                         : IMC_COMP_DIGITAL;
    const imc_instance *u = unit(e, c);
    if (!u) {
        op_failed(e, "the architecture has no digital unit for this work", op);
        return t;
    }
    charge(e, inf, op->name, op->cls, c, f, count);
    if (c == IMC_COMP_DIGITAL) {
        uint64_t d = span_ps(e, ceil(count / lanes_of(e, c)), imc_model_latency_ps(u, f));
        return take(e, w, e->digital, t, d, u->period_ps) + d;
    }
    /* the layer copy's tiles share the elements */
    const layer_rt *l = &e->layers[op->site];
    int n = l->n_tiles;
    double share = ceil(count / n);
    uint64_t d = span_ps(e, ceil(share / lanes_of(e, c)), imc_model_latency_ps(u, f)), end = t;
    for (int k = 0; k < n; k++) {
        const tile_rt *tr = &e->tiles[tile + k];
        uint64_t s = take(e, w, c == IMC_COMP_TILE_SFU ? tr->sfu : tr->vector, t, d, u->period_ps);
        end = s + d > end ? s + d : end;
    }
    return end;
}

static int first_from_store(const engine *e, const imc_op *op)
{
    if (!op->n_deps)
        return 1;
    uint8_t kind = e->g->ops[e->g->deps[op->first_dep]].kind;
    return kind == IMC_OP_STORE || kind == IMC_OP_BARRIER;
}

static uint64_t matmul_stage(engine *e, who w, int stage, uint64_t t, int *last)
{
    const imc_op *op = w.op;
    int inf = w.inf;
    double macs = (double)op->m * op->k * op->n;
    /* the store operands: K^T (with the tile's Q) for Q K^T, V for S V; for another activation
       product (an imported graph's) all of the second and, when the op waits on the store for
       it (its first dependency a store or barrier, graphflow.c), the tile's rows of the first */
    double operand = (double)op->k * op->n * e->g->act_bits;
    if (op->cls == IMC_CLS_QK || (op->cls == IMC_CLS_MATMUL && first_from_store(e, op)))
        operand += (double)op->in_bits;
    switch (e->arch->mapping.matmul) {
    case IMC_MATMUL_HOST: { /* the host computes, its operands and results in DRAM */
        const imc_instance *h = unit(e, IMC_COMP_HOST);
        if (!h) {
            op_failed(e, "mapping.matmul is host but the architecture has no chip.host", op);
            return t;
        }
        if (stage == 0)
            return dram(e, w, op->name, op->cls, operand, 0, t);
        if (stage == 1) {
            double units = imc_instance_get(h, "mac_units");
            uint64_t dur = span_ps(e, ceil(macs / (units > 0 ? units : 1)),
                                   imc_model_latency_ps(h, IMC_DIGITAL_MAC));
            charge(e, inf, op->name, op->cls, IMC_COMP_HOST, IMC_DIGITAL_MAC, macs);
            e->stage_func = IMC_DIGITAL_MAC;
            return take(e, w, e->host, t, dur, h->period_ps) + dur;
        }
        *last = 1;
        return dram(e, w, op->name, op->cls, (double)op->out_bits, 1, t);
    }
    case IMC_MATMUL_REWRITE: { /* the operand sits in rewritten crossbars: one MVM per query */
        const layer_rt *ref = &e->layers[0];
        if (e->g->num_heads < 1) { /* a trace may say heads=0 */
            op_failed(e, "mapping.matmul is rewrite but the graph has no heads (heads=0)", op);
            return t;
        }
        int h = op->head >= 0 ? op->head % e->g->num_heads : 0;
        uint64_t dur = (uint64_t)op->m * e->slices * ref->stage_ps;
        uint64_t s = take(e, w, e->first_scratch + (uint32_t)h, t, dur, 0);
        double xbars = ceil((double)op->k / e->place->rows) *
                       ceil((double)op->n / e->place->weights_per_row);
        double cols = (double)op->n * e->place->cells_per_weight * ceil((double)op->k / e->place->rows);
        double m = op->m;
        charge(e, inf, op->name, op->cls, IMC_COMP_XBAR, IMC_XBAR_READ, m * e->slices * xbars);
        charge(e, inf, op->name, op->cls, IMC_COMP_DAC, IMC_DAC_CONVERT,
               m * e->slices * (double)op->k * ceil((double)op->n / e->place->weights_per_row));
        charge(e, inf, op->name, op->cls, IMC_COMP_SH, IMC_SH_SAMPLE, m * e->slices * cols);
        charge(e, inf, op->name, op->cls, IMC_COMP_ADC, IMC_ADC_CONVERT, m * e->slices * cols);
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_SHIFTADD, IMC_SHIFTADD_ADD, m * e->slices * cols);
        *last = 1;
        return s + dur + (ref->first_ps - ref->stage_ps);
    }
    default: { /* the MAC array of chip.digital, its operands read from the store */
        const imc_instance *d = unit(e, IMC_COMP_DIGITAL);
        double units = d ? imc_instance_get(d, "mac_units") : 0;
        if (units <= 0) {
            op_failed(e, "mapping.matmul is digital but chip.digital has no MAC units", op);
            return t;
        }
        if (stage == 0)
            return store_read(e, w, operand, spilled_of(e, inf, op), t);
        uint64_t dur = span_ps(e, ceil(macs / units), imc_model_latency_ps(d, IMC_DIGITAL_MAC));
        charge(e, inf, op->name, op->cls, IMC_COMP_DIGITAL, IMC_DIGITAL_MAC, macs);
        e->stage_func = IMC_DIGITAL_MAC;
        *last = 1;
        return take(e, w, e->mac, t, dur, d->period_ps) + dur;
    }
    }
}

/* Rewrite mode: once a head's Q, K and V exist, its K and V are programmed into crossbars
 * (one row at a time per crossbar, crossbars in parallel). */
static uint64_t rewrite_operands(engine *e, who w, uint64_t t)
{
    const imc_op *op = w.op;
    const imc_pe *pe = &e->arch->chip.tile.pe;
    if (e->g->num_heads < 1) { /* a trace may say heads=0 */
        op_failed(e, "mapping.matmul is rewrite but the graph has no heads (heads=0)", op);
        return t;
    }
    int T = e->g->tokens, hd = e->g->embed_dim / e->g->num_heads;
    int rows = e->place->rows, wpr = e->place->weights_per_row;
    /* K^T: hd rows x T columns; V: T rows x hd columns */
    double k_xbars = ceil((double)hd / rows) * ceil((double)T / wpr);
    double v_xbars = ceil((double)T / rows) * ceil((double)hd / wpr);
    double rows_written = k_xbars * (hd < rows ? hd : rows) + v_xbars * (T < rows ? T : rows);
    uint64_t row_ps = imc_model_latency_ps(pe->xbar, IMC_XBAR_WRITE_ROW);
    uint64_t dur = (uint64_t)((hd < rows ? hd : rows) + (T < rows ? T : rows)) * row_ps;
    int h = op->head >= 0 ? op->head % e->g->num_heads : 0;
    uint64_t done = take(e, w, e->first_scratch + (uint32_t)h, t, dur, 0) + dur;
    double cells = 2.0 * T * hd * e->place->cells_per_weight; /* T x hd once overflowed int */
    charge(e, w.inf, op->name, IMC_CLS_REPROGRAM, IMC_COMP_XBAR, IMC_XBAR_WRITE_ROW, rows_written);
    traffic(e, w.inf, IMC_MEM_XBAR_WRITE, cells * e->arch->mapping.cell_bits);
    return done;
}

static uint64_t run_stage(engine *e, who w, int stage, uint64_t t, int *last)
{
    const imc_op *op = w.op;
    *last = 0;
    switch (op->kind) {
    case IMC_OP_MVM:
        return mvm_stage(e, w, stage, t, last);
    case IMC_OP_VECTOR:
        return vector_stage(e, w, stage, t, last);
    case IMC_OP_MATMUL:
        return matmul_stage(e, w, stage, t, last);
    case IMC_OP_STORE: { /* a token's stored data: to the global buffer while it has room */
        *last = stage == 1;
        if (stage == 0)
            return send(e, w, op->name, site_tile(e, op), -1, (double)op->out_bits, t);
        double bits = (double)op->out_bits;
        size_t k = at(e, w.inf, (uint32_t)(op - e->g->ops));
        const imc_instance *gb = unit(e, IMC_COMP_GLOBAL_BUFFER);
        if (e->arch->mapping.matmul == IMC_MATMUL_HOST || !gb ||
            e->store_bits + bits > e->store_capacity) {
            e->spilled[k] = 1;
            return dram(e, w, op->name, op->cls, bits, 1, t);
        }
        e->spilled[k] = 0;
        e->store_bits += bits;
        return gbuf(e, w, op->name, op->cls, bits, 1, t);
    }
    case IMC_OP_BARRIER:
        *last = 1;
        if (op->cls == IMC_CLS_SYNC && e->arch->mapping.matmul == IMC_MATMUL_REWRITE && op->head >= 0)
            return rewrite_operands(e, w, t);
        return t;
    case IMC_OP_INPUT: /* the image comes from off chip */
        *last = 1;
        return dram(e, w, op->name, op->cls, (double)op->out_bits, 0, t);
    case IMC_OP_OUTPUT:
        *last = 1;
        return dram(e, w, op->name, op->cls, (double)op->in_bits, 1, t);
    default:
        *last = 1;
        return t;
    }
}

/* ---- records of the first inference --------------------------------------------------------- */

static void record_segment(engine *e, uint32_t i, uint64_t t, uint64_t end)
{
    op_record *r = &e->rec[i];
    if (end <= t && e->stage_res == NO_RES)
        return;
    if (e->n_segs == e->cap_segs) {
        /* first room for 3 an op, no copy: FAR-S records 2.5 an op, DeiT-S 1.9 (measured) */
        size_t cap = e->cap_segs ? 2 * e->cap_segs : 3 * (e->g->n_ops ? e->g->n_ops : 1);
        segment *grown =
            imc_hugepages_grow(e->segs, e->n_segs * sizeof *grown, cap * sizeof *grown);
        if (!grown) {
            oom(e);
            return;
        }
        e->segs = grown;
        e->cap_segs = cap;
    }
    if (!r->n_segs)
        r->first_seg = (uint32_t)e->n_segs;
    uint64_t wait = e->stage_wait < end - t ? e->stage_wait : end - t;
    e->segs[e->n_segs++] = (segment){e->stage_res, e->stage_func, wait, end - t - wait};
    r->n_segs++;
}

/* ---- back-pressure: room in the tiles' buffers -------------------------------------------- */

/* Bits of PRODUCER's output that CONSUMER takes: a MATMUL's output is one row per query, each
 * for another consumer; a barrier or store passes nothing along. */
static double bits_for(const imc_op *producer, const imc_op *consumer)
{
    if (producer->kind == IMC_OP_BARRIER || producer->kind == IMC_OP_STORE)
        return 0;
    double out = (double)producer->out_bits;
    if (producer->kind == IMC_OP_MATMUL && producer->m > 1)
        out /= producer->m;
    if (consumer->take_bits && out > (double)consumer->take_bits)
        out = (double)consumer->take_bits;
    return out < (double)consumer->in_bits ? out : (double)consumer->in_bits;
}

/* The tile whose buffer holds OP's output until its consumers have read it, or -1. */
static int64_t output_tile(engine *e, const imc_op *op)
{
    return e->rooms && (op->kind == IMC_OP_MVM || op->kind == IMC_OP_VECTOR) ? site_tile(e, op) : -1;
}

static int retry_done(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    return on_done(e, (int)(arg >> 32), (uint32_t)arg, imc_kernel_now(k));
}

/* The ops waiting for room in tile T's buffer try again at NOW, in order. */
static int retry_room(engine *e, int64_t t, uint64_t now)
{
    room *rm = &e->rooms[t];
    size_t n = rm->n_wait;
    rm->n_wait = 0;
    for (size_t k = 0; k < n; k++) {
        int rc = imc_kernel_schedule(e->kernel, now, retry_done, e, rm->wait_ops[k]);
        if (rc)
            return rc;
    }
    return 0;
}

/* BITS left tile T's buffer at NOW: the ops that waited for room there try again. */
static int free_room(engine *e, int64_t t, double bits, uint64_t now)
{
    room *rm = &e->rooms[t];
    rm->used_bits -= bits;
    if (rm->used_bits < 0.5)
        rm->used_bits = 0;
    return retry_room(e, t, now);
}

/* Room for op I's output in its tile's buffer, held until every consumer has read it: 0 when
 * it is there (or not needed), 1 when the op must wait (it is queued for room).
 *
 * Waiting can deadlock: a buffer full of data whose readers wait on work that itself waits for
 * room (a batch's younger inferences holding the buffer, a layer's outputs kept across a
 * reprogramming round, FAR's sequences behind large crossbars). When nothing else can happen,
 * imc_engine_run lets the waiting output of the oldest inference through beyond the capacity
 * (force_one), as a design would spill it; the largest excess is reported
 * (imc_engine_result.buffer_overcommit_bits). */
static int reserve_room(engine *e, int inf, uint32_t i, uint64_t now)
{
    const imc_op *op = &e->g->ops[i];
    int64_t t = output_tile(e, op);
    size_t k = at(e, inf, i);
    if (t < 0)
        return 0;
    uint32_t readers = 0;
    for (uint32_t c = e->cons_first[i]; c < e->cons_first[i + 1]; c++)
        readers += bits_for(op, &e->g->ops[e->cons[c]]) > 0;
    double bits = (double)op->out_bits;
    if (!readers || bits <= 0)
        return 0;
    room *rm = &e->rooms[t];
    int escape = e->forced == (((uint64_t)inf << 32) | i);
    if (escape)
        e->forced = UINT64_MAX;
    if (!escape && rm->used_bits + bits > rm->capacity_bits && rm->used_bits > 0) {
        if (!e->hold_since[k])
            e->hold_since[k] = now + 1; /* + 1: 0 means "not waiting" */
        if (rm->n_wait == rm->cap_wait) {
            size_t cap = rm->cap_wait ? 2 * rm->cap_wait : 16;
            uint64_t *grown = realloc(rm->wait_ops, cap * sizeof *grown);
            if (!grown)
                return oom(e);
            rm->wait_ops = grown;
            rm->cap_wait = cap;
        }
        rm->wait_ops[rm->n_wait++] = ((uint64_t)inf << 32) | i;
        return 1;
    }
    rm->used_bits += bits;
    if (rm->used_bits - rm->capacity_bits > e->overcommit_bits)
        e->overcommit_bits = rm->used_bits - rm->capacity_bits;
    e->held_bits[k] = bits;
    e->unread[k] = readers;
    if (e->hold_since[k] && inf == 0)
        e->rec[i].held_ps = now - (e->hold_since[k] - 1);
    e->hold_since[k] = 0;
    return 0;
}

/* Nothing can happen while ops wait for room: the first waiting op of the oldest inference
 * takes its room beyond the capacity, and the run goes on (see reserve_room). 0 when no op
 * waits. */
static int force_one(engine *e)
{
    int64_t best_t = -1;
    size_t best_k = 0;
    uint64_t best = UINT64_MAX;
    for (int64_t t = 0; e->rooms && t < e->n_tiles; t++)
        for (size_t k = 0; k < e->rooms[t].n_wait; k++) {
            uint64_t w = e->rooms[t].wait_ops[k];
            if (best_t < 0 || (w >> 32) < (best >> 32))
                best = w, best_t = t, best_k = k;
        }
    if (best_t < 0)
        return 0;
    room *rm = &e->rooms[best_t];
    memmove(&rm->wait_ops[best_k], &rm->wait_ops[best_k + 1],
            (rm->n_wait - best_k - 1) * sizeof *rm->wait_ops);
    rm->n_wait--;
    e->forced = best;
    e->forced_count++;
    int rc = imc_kernel_schedule(e->kernel, imc_kernel_now(e->kernel), retry_done, e, best);
    return rc ? -rc : 1;
}

/* Op I of inference INF starts at NOW and reads its inputs: their producers' room is free once
 * every reader has read. */
static int inputs_read(engine *e, int inf, uint32_t i, uint64_t now)
{
    const imc_op *op = &e->g->ops[i];
    for (uint32_t d = 0; d < op->n_deps; d++) {
        uint32_t j = e->g->deps[op->first_dep + d];
        size_t kj = at(e, inf, j);
        if (e->held_bits[kj] <= 0 || bits_for(&e->g->ops[j], op) <= 0)
            continue;
        if (--e->unread[kj] == 0) {
            double bits = e->held_bits[kj];
            e->held_bits[kj] = 0;
            int rc = free_room(e, output_tile(e, &e->g->ops[j]), bits, now);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- cache warming ------------------------------------------------------------------------
 *
 * The op state, the graph's ops and their consumer and dependency lists are tens of MB for a
 * large model (FAR-S: 110 k ops), and events touch them in simulated-time order, not memory
 * order: an op's first look at a consumer or at an input was a cache miss, a fifth of a FAR-S
 * timing run (perf annotate, 2-core build machine). So what an op's end will read is fetched
 * when it begins, and what a consumer's start will read when its last input is sent: the lines
 * arrive while other events run. Hints only: nothing computed depends on them. */

#if defined(__GNUC__)
#define WARM(p) __builtin_prefetch(p)
#else
#define WARM(p) ((void)(p))
#endif

/* Op I of inference INF (state A) begins: what on_done will read when it ends -- each
 * consumer's op (both of its cache lines) and state, its own room fields, its inputs' reader
 * counts. */
static void warm_for_end(const engine *e, int inf, uint32_t i, size_t a)
{
    size_t base = a - i;
    for (uint32_t c = e->cons_first[i]; c < e->cons_first[i + 1]; c++) {
        uint32_t j = e->cons[c];
        const imc_op *co = &e->g->ops[j];
        WARM(co);
        WARM((const char *)co + sizeof *co - 1);
        WARM(&e->ready[base + j]);
        WARM(&e->remaining[base + j]);
        WARM(&e->begin[base + j]);
        WARM(&e->stage[base + j]);
        if (!inf)
            WARM(&e->rec[j]);
    }
    WARM(&e->hold_since[a]);
    WARM(&e->held_bits[a]);
    WARM(&e->unread[a]);
    const imc_op *op = &e->g->ops[i];
    for (uint32_t d = 0; d < op->n_deps; d++)
        WARM(&e->readers[base + e->g->deps[op->first_dep + d]]);
}

/* Op CO gets its last input (its inference's state from BASE): what inputs_read will read when
 * it starts -- its inputs' ops and held output. */
static void warm_for_start(const engine *e, size_t base, const imc_op *co)
{
    for (uint32_t d = 0; d < co->n_deps; d++) {
        uint32_t j = e->g->deps[co->first_dep + d];
        WARM(&e->g->ops[j]);
        WARM(&e->held_bits[base + j]);
    }
}

/* ---- events ------------------------------------------------------------------------------- */

static int on_stage_or_final(imc_kernel *k, void *ctx, uint64_t arg);

static int on_inputs_read(imc_kernel *k, void *ctx, uint64_t arg)
{
    return inputs_read(ctx, (int)(arg >> 32), (uint32_t)arg, imc_kernel_now(k));
}

/* The next stage of an op instance (arg: inference << 32 | op); stages that take no time run
 * at once, the others come back as a new event at their end. */
static int on_stage(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    int inf = (int)(arg >> 32);
    uint32_t i = (uint32_t)arg;
    size_t a = at(e, inf, i);
    const imc_op *op = e->current = &e->g->ops[i];
    uint64_t now = imc_kernel_now(k);
    if (e->stage[a] == 0 && op->kind == IMC_OP_MVM && e->rounds > 1) {
        size_t g = (size_t)inf * e->rounds + (size_t)e->place->layers[op->layer].round;
        if (e->gate[g] == UINT64_MAX) /* its crossbars hold another round's weights */
            return park(e, g, i);
    }
    int first = e->stage[a] == 0;
    if (first && !e->begin[a]) {
        e->begin[a] = now + 1; /* + 1: 0 means "not begun" (undone below) */
        warm_for_end(e, inf, i, a);
    }
    who w = {inf, op};
    for (;;) {
        int last;
        e->stage_wait = 0;
        e->stage_first = UINT64_MAX;
        e->stage_res = NO_RES;
        e->stage_func = 0xff;
        e->stage_again = 0;
        /* a stage 0 that came back (stage_again) has waited since the op began */
        uint64_t since = first ? e->begin[a] - 1 : now;
        e->stage_wait = now - since;
        uint64_t end = run_stage(e, w, e->stage[a]++, now, &last);
        if (e->status)
            return e->status;
        if (e->stage_again) { /* not yet: again at END */
            e->stage[a]--;
            return imc_kernel_schedule(k, end, on_stage, e, arg);
        }
        if (first && e->rooms) { /* it reads its inputs when its first resource serves it */
            uint64_t when = e->stage_first != UINT64_MAX ? e->stage_first : now;
            int rc = when > now ? imc_kernel_schedule(k, when, on_inputs_read, e, arg)
                                : inputs_read(e, inf, i, now);
            if (rc)
                return rc;
        }
        if (inf == 0)
            record_segment(e, i, since, end);
        first = 0;
        /* the next stage, or the op's end, at END: at once when nothing else comes first */
        if (end > now && !imc_kernel_advance(k, end))
            return imc_kernel_schedule(k, end, last ? on_stage_or_final : on_stage, e,
                                       last ? arg | (1ull << 63) : arg);
        now = end > now ? end : now;
        if (last)
            return on_done(e, inf, i, now);
    }
}

/* A final stage's end (the top bit of ARG set): the op is done. */
static int on_stage_or_final(imc_kernel *k, void *ctx, uint64_t arg)
{
    if (arg >> 63)
        return on_done(ctx, (int)((arg >> 32) & 0x7fffffff), (uint32_t)arg, imc_kernel_now(k));
    return on_stage(k, ctx, arg);
}

/* OP's output to the sliding-window MVM CO (a convolution's window it falls in): to every tile
 * of CO's copy, unless an earlier window of this output already took it there (the tile buffer
 * keeps it for the windows after: window reuse), so each tile holding the layer receives each
 * input position once. *ARRIVAL: when it is at all of them. e->served lists the tiles served
 * since on_done began with this output. */
static int window_send(engine *e, who w, const imc_op *co, int64_t src, uint64_t now,
                       uint64_t *arrival)
{
    const layer_rt *l = &e->layers[co->layer];
    int64_t home = l->tile[copy_of(l, co->token)];
    double bits = bits_for(w.op, co);
    *arrival = now;
    for (int k = 0; k < l->n_tiles; k++) {
        size_t s = 0;
        while (s < e->n_served && e->served[s].tile != home + k)
            s++;
        if (s == e->n_served) {
            if (e->n_served == e->cap_served) {
                size_t cap = e->cap_served ? 2 * e->cap_served : 16;
                served_at *grown = realloc(e->served, cap * sizeof *grown);
                if (!grown)
                    return oom(e);
                e->served = grown, e->cap_served = cap;
            }
            e->served[s] = (served_at){home + k, send(e, w, co->name, src, home + k, bits, now)};
            e->n_served++;
        }
        *arrival = e->served[s].at > *arrival ? e->served[s].at : *arrival;
    }
    return 0;
}

/* OP I of inference INF is done at NOW: once its output has room, send it to its consumers. */
static int on_done(engine *e, int inf, uint32_t i, uint64_t now)
{
    const imc_op *op = e->current = &e->g->ops[i];
    size_t base = (size_t)inf * e->g->n_ops, a = base + i;
    int rc = reserve_room(e, inf, i, now);
    if (rc)
        return rc < 0 ? rc : 0; /* waits for room: on_done runs again when there is */
    e->ops_done++;
    if (inf == 0) {
        op_record *r = &e->rec[i];
        r->end_ps = now;
        r->ready_ps = e->begin[a] - 1;
        imc_span *sp = &e->spans[op->name];
        uint64_t s = e->begin[a] - 1;
        if (!sp->ops || s < sp->start_ps)
            sp->start_ps = s;
        if (now > sp->end_ps)
            sp->end_ps = now;
        for (uint32_t k = 0; k < r->n_segs; k++)
            sp->busy_ps += e->segs[r->first_seg + k].service_ps;
        sp->ops++;
    }
    if (now > e->inference_done[inf])
        e->inference_done[inf] = now;
    if (now > e->last_done)
        e->last_done = now;
    if (op->kind == IMC_OP_MVM && e->rounds > 1) {
        int r = e->place->layers[op->layer].round;
        if (--e->round_left[(size_t)inf * e->rounds + r] == 0 && (rc = next_load(e, inf, r, now)))
            return rc;
    }
    read_done(e, inf, i);
    uint32_t n_cons = e->cons_first[i + 1] - e->cons_first[i];
    if (op->kind == IMC_OP_STORE || op->kind == IMC_OP_BARRIER) {
        e->readers[a] = n_cons;
        if (op->kind == IMC_OP_BARRIER) { /* it holds the share of its stores that spilled */
            e->spilled[a] = (float)spilled_of(e, inf, op);
        }
        if (!n_cons)
            release_store(e, inf, i);
    }
    int64_t src = op_tile(e, op);
    who w = {inf, op};
    e->n_served = 0;
    for (uint32_t c = e->cons_first[i]; c < e->cons_first[i + 1]; c++) {
        uint32_t j = e->cons[c];
        const imc_op *co = &e->g->ops[j];
        uint64_t arrival;
        if (co->take_bits && co->kind == IMC_OP_MVM) {
            if ((rc = window_send(e, w, co, src, now, &arrival)))
                return rc;
        } else if (op->kind == IMC_OP_STORE && co->kind != IMC_OP_BARRIER) {
            /* the consumer's share of the stored data, read from the store */
            double bits = (double)op->out_bits < (double)co->in_bits ? (double)op->out_bits
                                                                     : (double)co->in_bits;
            who cw = {inf, co};
            uint64_t r = store_read(e, cw, bits, e->spilled[a], now);
            arrival = send(e, cw, co->name, -1, op_tile(e, co), bits, r);
        } else {
            arrival = send(e, w, co->name, src, op_tile(e, co), bits_for(op, co), now);
        }
        size_t b = base + j;
        if (arrival >= e->ready[b]) {
            e->ready[b] = arrival;
            if (inf == 0) {
                e->rec[j].crit_pred = i;
                e->rec[j].arrive_ps = arrival;
            }
        }
        if (--e->remaining[b] == 0) {
            warm_for_start(e, base, co);
            if ((rc = imc_kernel_schedule(e->kernel, e->ready[b], on_stage_or_final, e,
                                          ((uint64_t)inf << 32) | j)))
                return rc;
        }
    }
    return e->status;
}

/* ---- reprogramming rounds ---------------------------------------------------------------------- */

static int park(engine *e, size_t g, uint32_t op)
{
    if (e->n_parked[g] == e->cap_parked[g]) {
        size_t cap = e->cap_parked[g] ? 2 * e->cap_parked[g] : 64;
        uint32_t *grown = realloc(e->parked[g], cap * sizeof *grown);
        if (!grown)
            return oom(e);
        e->parked[g] = grown;
        e->cap_parked[g] = cap;
    }
    e->parked[g][e->n_parked[g]++] = op;
    return 0;
}

static int on_load(imc_kernel *k, void *ctx, uint64_t arg);
static int on_gate(imc_kernel *k, void *ctx, uint64_t arg);

/* Round R of inference INF is finished at NOW: load the next round (or the next inference's
 * first), whose crossbars this one was using. */
static int next_load(engine *e, int inf, int r, uint64_t now)
{
    if (r + 1 < e->rounds)
        return imc_kernel_schedule(e->kernel, now, on_load, e, ((uint64_t)inf << 32) | (uint32_t)(r + 1));
    if (inf + 1 < e->batch)
        return imc_kernel_schedule(e->kernel, now, on_load, e, (uint64_t)(inf + 1) << 32);
    return 0;
}

/* Write round R's weights into the crossbars: fetched from DRAM, then every crossbar programs
 * its rows one after the other, all crossbars in parallel. */
static int on_load(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    e->current = NULL; /* a round's weights, no op's */
    int inf = (int)(arg >> 32), r = (int)(uint32_t)arg;
    const imc_placement *p = e->place;
    const imc_pe *pe = &e->arch->chip.tile.pe;
    uint64_t now = imc_kernel_now(k);
    double bits = 0, rows = 0;
    int max_rows = 0;
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        if (lp->round != r)
            continue;
        bits += (double)lp->cells_used * e->arch->mapping.cell_bits;
        rows += (double)lp->rows_written;
        int per_xbar = lp->layer->in < p->rows ? lp->layer->in : p->rows;
        max_rows = per_xbar > max_rows ? per_xbar : max_rows;
    }
    who w = {inf, NULL};
    uint64_t fetched = dram(e, w, e->reprogram_name, IMC_CLS_REPROGRAM, bits, 0, now);
    charge(e, inf, e->reprogram_name, IMC_CLS_REPROGRAM, IMC_COMP_XBAR, IMC_XBAR_WRITE_ROW, rows);
    traffic(e, inf, IMC_MEM_XBAR_WRITE, bits);
    uint64_t done = fetched + (uint64_t)max_rows * imc_model_latency_ps(pe->xbar, IMC_XBAR_WRITE_ROW);
    return imc_kernel_schedule(k, done, on_gate, e, arg);
}

/* Round R's weights are in: release the MVMs that waited for them. */
static int on_gate(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    int inf = (int)(arg >> 32), r = (int)(uint32_t)arg;
    size_t g = (size_t)inf * e->rounds + (size_t)r;
    uint64_t now = imc_kernel_now(k);
    e->gate[g] = now;
    for (size_t i = 0; i < e->n_parked[g]; i++) {
        int rc = imc_kernel_schedule(k, now, on_stage, e, ((uint64_t)inf << 32) | e->parked[g][i]);
        if (rc)
            return rc;
    }
    e->n_parked[g] = 0;
    return e->round_left[g] == 0 ? next_load(e, inf, r, now) : 0;
}

/* An inference's first ops, at its arrival. */
static int on_arrival(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    int inf = (int)arg;
    for (size_t i = 0; i < e->g->n_ops; i++)
        if (e->g->ops[i].n_deps == 0) {
            int rc = imc_kernel_schedule(k, imc_kernel_now(k), on_stage, e, ((uint64_t)inf << 32) | i);
            if (rc)
                return rc;
        }
    return 0;
}

/* ---- setup -------------------------------------------------------------------------------- */

static int setup_layers(engine *e)
{
    const imc_arch *a = e->arch;
    const imc_pe *pe = &a->chip.tile.pe;
    const imc_placement *p = e->place;
    int pes_per_tile = a->chip.tile.pes, per_pe = pe->xbars;
    uint64_t R = imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    uint64_t conv = imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        layer_rt *l = &e->layers[i];
        l->cost.in_bits = UINT64_MAX; /* no MVM costed yet */
        l->copies = lp->copies;
        l->xbars = lp->row_tiles * lp->col_tiles;
        /* crossbars are packed into PEs copy after copy: crossbar x of copy c sits in PE
         * first_pe + (c x xbars + x) / per_pe; a copy's home is its first crossbar's tile */
        int span = 1;
        for (int c = 0; c < lp->copies; c++) {
            int64_t f = (lp->first_pe + (int64_t)c * l->xbars / per_pe) / pes_per_tile,
                    g = (lp->first_pe + ((int64_t)(c + 1) * l->xbars - 1) / per_pe) / pes_per_tile;
            span = (int)(g - f + 1) > span ? (int)(g - f + 1) : span;
        }
        l->n_tiles = span;
        l->tile = calloc((size_t)lp->copies, sizeof *l->tile);
        l->pipe = calloc((size_t)lp->copies, sizeof *l->pipe);
        l->xbars_in_tile = calloc((size_t)lp->copies * span, sizeof *l->xbars_in_tile);
        if (!l->tile || !l->pipe || !l->xbars_in_tile)
            return oom(e);
        /* the busiest crossbar converts min(cols, out x cells) columns; an ADC takes
         * columns_per_adc of them one after the other */
        int64_t used = (int64_t)lp->layer->out * p->cells_per_weight;
        if (used > p->cols)
            used = p->cols;
        int64_t per_adc = used < pe->columns_per_adc ? used : pe->columns_per_adc;
        uint64_t A = (uint64_t)per_adc * conv;
        l->stage_ps = R > A ? R : A;
        l->first_ps = R + A;
        l->dac_conv = (double)lp->layer->in * lp->col_tiles;
        l->cols_used = (double)lp->layer->out * p->cells_per_weight * lp->row_tiles;
        for (int c = 0; c < lp->copies; c++) {
            l->tile[c] = (lp->first_pe + (int64_t)c * l->xbars / per_pe) / pes_per_tile;
            for (int x = 0; x < l->xbars; x++) {
                int64_t k = (lp->first_pe + ((int64_t)c * l->xbars + x) / per_pe) / pes_per_tile -
                            l->tile[c];
                if (k >= 0 && k < span)
                    l->xbars_in_tile[c * span + k]++;
            }
            l->pipe[c] = add_res(e, A > R ? IMC_COMP_ADC : IMC_COMP_XBAR, "%s copy %d crossbars",
                                 lp->layer->name, c);
        }
    }
    return e->status;
}

static int setup_units(engine *e)
{
    const imc_arch *a = e->arch;
    for (int64_t t = 0; t < e->n_tiles; t++) {
        tile_rt *tr = &e->tiles[t];
        tr->buffer = add_res(e, IMC_COMP_TILE_BUFFER, "tile %lld buffer", (long long)t);
        tr->bus = add_res(e, IMC_COMP_TILE_BUS, "tile %lld bus", (long long)t);
        tr->sfu = add_res(e, IMC_COMP_TILE_SFU, "tile %lld sfu", (long long)t);
        tr->vector = add_res(e, IMC_COMP_TILE_VECTOR, "tile %lld vector unit", (long long)t);
    }
    e->gbuf = add_res(e, IMC_COMP_GLOBAL_BUFFER, "global buffer");
    e->mac = add_res(e, IMC_COMP_DIGITAL, "MAC array");
    e->digital = add_res(e, IMC_COMP_DIGITAL, "chip digital lanes");
    e->dram = add_res(e, IMC_COMP_DRAM, "DRAM channel");
    e->host = add_res(e, IMC_COMP_HOST, "host");
    int heads = e->g->num_heads > 0 ? e->g->num_heads : 1;
    for (int h = 0; h < heads; h++) {
        uint32_t r = add_res(e, IMC_COMP_XBAR, "rewritten crossbars of head %d", h);
        if (h == 0)
            e->first_scratch = r;
    }
    /* the tiles' buffers bound the data waiting in them */
    const imc_instance *buf = a->chip.tile.buffer;
    double cap = buf ? imc_instance_get(buf, "capacity") : 0;
    if (cap > 0) {
        if (!(e->rooms = calloc((size_t)e->n_tiles, sizeof *e->rooms)))
            return oom(e);
        for (int64_t t = 0; t < e->n_tiles; t++)
            e->rooms[t].capacity_bits = cap;
    }
    return e->status;
}

static int setup_noc(engine *e)
{
    const imc_instance *noc = e->arch->chip.noc;
    int conc = (int)imc_arch_noc_concentration(e->arch);
    int routers = (int)((e->n_tiles + conc - 1) / conc);
    e->mesh_w = (int)ceil(sqrt((double)routers));
    e->mesh_h = (routers + e->mesh_w - 1) / e->mesh_w;
    e->flit_bits = imc_instance_get(noc, "flit_width");
    e->flit_ps = noc->period_ps;
    e->hop_ps = imc_model_latency_ps(noc, IMC_NOC_FLIT_HOP);
    if (!(e->noc_at = malloc(((size_t)e->n_tiles + 1) * sizeof *e->noc_at)))
        return oom(e);
    /* The chip-level units (global buffer, MAC array, DRAM interface) attach to the corner
     * router, 0, at the chip's edge next to the off-chip interface: growing the chip adds
     * routers after it and never moves it. */
    for (int64_t t = -1; t < e->n_tiles; t++) {
        int r = t < 0 ? 0 : (int)(t / conc);
        e->noc_at[t + 1] = (struct noc_place){r, r % e->mesh_w, r / e->mesh_w};
    }
    static const char dirs[] = "EWNS";
    for (int r = 0; r < e->mesh_w * e->mesh_h; r++)
        for (int d = 0; d < 4; d++) {
            uint32_t id = add_res(e, IMC_COMP_NOC, "NoC link %d %c", r, dirs[d]);
            if (r == 0 && d == 0)
                e->first_link = id;
        }
    return e->status;
}

static int setup_consumers(engine *e)
{
    /* counts, then their prefix sums; each op then takes the next place of each of its
     * dependencies (cons_first[j] moves on to where j's list ends), and the starts come back
     * by one shift */
    const imc_flow *g = e->g;
    for (size_t d = 0; d < g->n_deps; d++)
        e->cons_first[g->deps[d] + 1]++;
    for (size_t i = 0; i < g->n_ops; i++)
        e->cons_first[i + 1] += e->cons_first[i];
    for (size_t i = 0; i < g->n_ops; i++)
        for (uint32_t d = 0; d < g->ops[i].n_deps; d++)
            e->cons[e->cons_first[g->deps[g->ops[i].first_dep + d]]++] = (uint32_t)i;
    for (size_t i = g->n_ops; i > 0; i--)
        e->cons_first[i] = e->cons_first[i - 1];
    e->cons_first[0] = 0;
    return 0;
}

static int setup_rounds(engine *e)
{
    e->rounds = e->place->rounds > 1 ? e->place->rounds : 1;
    if (e->rounds == 1)
        return 0;
    size_t n = (size_t)e->batch * e->rounds;
    if (!(e->round_mvms = calloc((size_t)e->rounds, sizeof *e->round_mvms)) ||
        !(e->round_left = calloc(n, sizeof *e->round_left)) ||
        !(e->gate = malloc(n * sizeof *e->gate)) || !(e->parked = calloc(n, sizeof *e->parked)) ||
        !(e->n_parked = calloc(n, sizeof *e->n_parked)) ||
        !(e->cap_parked = calloc(n, sizeof *e->cap_parked)))
        return oom(e);
    for (size_t i = 0; i < e->g->n_ops; i++)
        if (e->g->ops[i].kind == IMC_OP_MVM)
            e->round_mvms[e->place->layers[e->g->ops[i].layer].round]++;
    for (size_t i = 0; i < n; i++) {
        e->gate[i] = UINT64_MAX;
        e->round_left[i] = e->round_mvms[i % (size_t)e->rounds];
    }
    /* the first inference's first round is loaded at the start */
    return imc_kernel_schedule(e->kernel, 0, on_load, e, 0);
}

/* The per-op state of N op instances, the first inference's records of N_OPS ops and the
 * consumer lists of the graph's N_OPS ops and N_DEPS dependencies, zeroed, in one block
 * (op_block) of whole huge pages, mapped afresh (imc_hugepages_zalloc: no memset of 14 MB):
 * some 100 bytes per op and 4 per dependency, 12.3 MB for FAR-S's (14 MB of huge pages). Each
 * 4 KB page first touched costs 12-13 us on this machine (PVM guest): the consumer lists on
 * their own took some 450 such faults, 6 ms of a 90 ms timing run.
 * Returns the block, NULL when out of memory. */
static void *alloc_op_state(engine *e, size_t n, size_t n_ops, size_t n_deps)
{
    size_t size = 0, at[12];
#define PLACE(k, count, field) \
    (at[k] = size, size += ((count) * sizeof *e->field + 63) / 64 * 64)
    PLACE(0, n, remaining), PLACE(1, n, ready), PLACE(2, n, begin), PLACE(3, n, stage);
    PLACE(4, n, readers), PLACE(5, n, spilled), PLACE(6, n, held_bits), PLACE(7, n, unread);
    PLACE(8, n, hold_since), PLACE(9, n_ops, rec), PLACE(10, n_ops + 1, cons_first);
    PLACE(11, n_deps, cons);
#undef PLACE
    char *block = imc_hugepages_zalloc(size);
    if (!block)
        return NULL;
    e->op_block_size = size;
    e->remaining = (void *)(block + at[0]), e->ready = (void *)(block + at[1]);
    e->begin = (void *)(block + at[2]), e->stage = (void *)(block + at[3]);
    e->readers = (void *)(block + at[4]), e->spilled = (void *)(block + at[5]);
    e->held_bits = (void *)(block + at[6]), e->unread = (void *)(block + at[7]);
    e->hold_since = (void *)(block + at[8]), e->rec = (void *)(block + at[9]);
    e->cons_first = (void *)(block + at[10]), e->cons = (void *)(block + at[11]);
    return e->op_block = block;
}

static void engine_free(engine *e)
{
    for (size_t i = 0; e->parked && i < (size_t)e->batch * e->rounds; i++)
        free(e->parked[i]);
    free(e->parked);
    free(e->n_parked);
    free(e->cap_parked);
    free(e->round_mvms);
    free(e->round_left);
    free(e->gate);
    free(e->names);
    for (size_t i = 0; e->layers && i < e->place->n_layers; i++) {
        free(e->layers[i].tile);
        free(e->layers[i].pipe);
        free(e->layers[i].xbars_in_tile);
    }
    free(e->layers);
    free(e->tiles);
    free(e->noc_at);
    for (int64_t t = 0; e->rooms && t < e->n_tiles; t++)
        free(e->rooms[t].wait_ops);
    free(e->rooms);
    free(e->served);
    free(e->res);
    free(e->labels);
    imc_hugepages_free(e->op_block, e->op_block_size);
    free(e->arrival);
    free(e->inference_done);
    free(e->segs);
    imc_kernel_free(e->kernel);
}

/* The steady-state interval: completions sorted, the span of the middle half (dropping the
 * pipeline's fill and drain) divided by the completions in it. */
static double steady_interval(const uint64_t *done, const uint64_t *arrival, int n, uint64_t latency)
{
    (void)arrival;
    if (n < 2)
        return (double)latency;
    uint64_t *c = malloc((size_t)n * sizeof *c);
    if (!c)
        return (double)latency;
    memcpy(c, done, (size_t)n * sizeof *c);
    for (int i = 1; i < n; i++) /* insertion sort: batches are small */
        for (int j = i; j > 0 && c[j - 1] > c[j]; j--) {
            uint64_t x = c[j];
            c[j] = c[j - 1];
            c[j - 1] = x;
        }
    int k = n / 4, lo = k, hi = n - 1 - k;
    if (hi <= lo)
        lo = 0, hi = n - 1;
    double iv = (double)(c[hi] - c[lo]) / (hi - lo);
    free(c);
    return iv;
}

/* Per-inference latencies under open arrival: mean, 95th percentile, max. */
static void load_latency(const uint64_t *done, const uint64_t *arrival, int n, imc_engine_result *res)
{
    uint64_t *l = malloc((size_t)n * sizeof *l);
    if (!l)
        return;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        l[i] = done[i] - arrival[i];
        sum += (double)l[i];
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && l[j - 1] > l[j]; j--) {
            uint64_t x = l[j];
            l[j] = l[j - 1];
            l[j - 1] = x;
        }
    res->load_latency_mean_ps = sum / n;
    res->load_latency_p95_ps = (double)l[(int)ceil(0.95 * n) - 1];
    res->load_latency_max_ps = (double)l[n - 1];
    free(l);
}

int imc_engine_run(const imc_arch *arch, const imc_placement *p, const imc_flow *g,
                   const imc_engine_opts *opts, imc_engine_result *res, imc_err *err)
{
    memset(res, 0, sizeof *res);
    engine e = {0};
    e.arch = arch;
    cache_units(&e);
    e.place = p;
    e.g = g;
    e.opts = opts;
    e.err = err;
    e.batch = opts->batch > 0 ? opts->batch : 1;
    e.forced = UINT64_MAX;
    e.slices = imc_arch_input_slices(arch);
    e.n_tiles = arch->chip.tiles;
    /* a partial sum out of a crossbar's shift-add: the ADC's code, shifted over the input
     * slices and the weight's cell slices, with a sign */
    e.psum_bits = imc_model_bits(arch->chip.tile.pe.adc) +
                  (double)(e.slices - 1) * imc_arch_dac_bits(arch) +
                  (double)(imc_arch_weight_slices(arch) - 1) * arch->mapping.cell_bits + 1;
    const imc_instance *gb = arch->chip.global_buffer;
    e.store_capacity = gb ? imc_instance_get(gb, "capacity") : 0;
    size_t n = (size_t)e.batch * g->n_ops;
    int rc = 0;
    if (!(e.layers = calloc(p->n_layers ? p->n_layers : 1, sizeof *e.layers)) ||
        !(e.tiles = calloc((size_t)e.n_tiles, sizeof *e.tiles)) ||
        !alloc_op_state(&e, n ? n : 1, g->n_ops ? g->n_ops : 1, g->n_deps ? g->n_deps : 1) ||
        !(e.arrival = calloc((size_t)e.batch, sizeof *e.arrival)) ||
        !(e.inference_done = calloc((size_t)e.batch, sizeof *e.inference_done)) ||
        !(e.spans = calloc(g->n_names + 1, sizeof *e.spans)) ||
        !(e.names = malloc((g->n_names + 1) * sizeof *e.names)))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    if (!rc) { /* the ledger's names: the graph's, and one for reprogramming */
        for (size_t i = 0; i < g->n_names; i++)
            e.names[i] = g->names[i];
        e.names[g->n_names] = "reprogram";
        e.reprogram_name = (uint32_t)g->n_names;
        if (!(e.ledger = imc_ledger_new(arch, e.names, g->n_names + 1)))
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        for (size_t i = 0; i < g->n_ops; i++)
            e.rec[i].crit_pred = UINT32_MAX;
    }
    if (!rc)
        rc = setup_layers(&e);
    if (!rc)
        rc = setup_units(&e);
    if (!rc)
        rc = setup_noc(&e);
    if (!rc)
        rc = setup_consumers(&e);
    if (!rc)
        rc = imc_kernel_new(&e.kernel, opts->kernel, err);
    if (!rc)
        rc = setup_rounds(&e);
    for (int inf = 0; !rc && inf < e.batch; inf++) {
        for (size_t i = 0; i < g->n_ops; i++)
            e.remaining[(size_t)inf * g->n_ops + i] = g->ops[i].n_deps;
        /* a closed batch arrives at once; an open stream at the configured rate */
        e.arrival[inf] = opts->arrival_hz > 0 ? (uint64_t)llround(inf * 1e12 / opts->arrival_hz) : 0;
        if ((rc = imc_kernel_schedule(e.kernel, e.arrival[inf], on_arrival, &e, (uint64_t)inf)))
            rc = imc_err_set(err, rc, "out of memory scheduling the inferences' arrivals");
    }
    if (!rc) { /* a handler's own error (already in ERR) wins over the kernel's summary */
        imc_err kerr;
        imc_err_clear(&kerr);
        rc = imc_kernel_run(e.kernel, &kerr);
        int forced;
        while (!rc && !e.status && e.ops_done < n && (forced = force_one(&e)) != 0) {
            if (forced < 0) {
                rc = imc_err_set(&kerr, -forced, "out of memory");
                break;
            }
            rc = imc_kernel_run(e.kernel, &kerr);
        }
        if (e.status)
            rc = e.status;
        else if (rc)
            *err = kerr;
    }
    if (!rc && e.ops_done < n) { /* ops left waiting: room that never came */
        int64_t full = -1;
        for (int64_t t = 0; e.rooms && t < e.n_tiles && full < 0; t++)
            if (e.rooms[t].n_wait)
                full = t;
        rc = imc_err_set(err, IMC_EINPUT,
                         "%zu of %zu ops never ran: the tile buffers (%s) are too small for "
                         "this dataflow (tile %lld's buffer is full and nothing can drain it)",
                         n - e.ops_done, n, arch->chip.tile.buffer->path, (long long)full);
    }
    if (!rc) {
        res->latency_ps = e.inference_done[0] - e.arrival[0];
        res->makespan_ps = e.last_done;
        res->buffer_overcommit_bits = e.overcommit_bits;
        res->interval_ps = steady_interval(e.inference_done, e.arrival, e.batch, res->latency_ps);
        if (opts->arrival_hz > 0)
            load_latency(e.inference_done, e.arrival, e.batch, res);
        res->arrival_hz = opts->arrival_hz;
        res->events = imc_kernel_events(e.kernel);
        res->ops = (uint64_t)n;
        double busy = 0, groups = 0;
        for (size_t i = 0; i < p->n_layers; i++)
            for (int c = 0; c < e.layers[i].copies; c++, groups++)
                busy += (double)e.res[e.layers[i].pipe[c]].busy_ps;
        res->xbar_busy = groups && e.last_done ? busy / groups / (double)e.last_done : 0;
        res->mac_busy = e.last_done ? (double)e.res[e.mac].busy_ps / (double)e.last_done : 0;
        rc = imc_engine_bounds(&e, res);
        if (rc)
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; !rc && i < p->n_layers; i++) /* the crossbar reads' sums, to their rows */
        for (size_t m = 0; m < sizeof e.layers[i].memo / sizeof *e.layers[i].memo; m++)
            imc_ledger_memo_flush(e.ledger, &e.layers[i].memo[m]);
    if (!rc) { /* static power over the time the chip is powered, per inference */
        double inst[IMC_COMP_COUNT];
        for (int c = 0; c < IMC_COMP_COUNT; c++)
            inst[c] = imc_arch_comp_count(arch, (imc_comp)c, IMC_LEVEL_CHIP);
        uint64_t powered = (uint64_t)llround((double)e.last_done / e.batch);
        if (imc_ledger_close(e.ledger, powered, inst))
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory in the ledger");
    }
    if (rc) {
        imc_ledger_free(e.ledger);
        free(e.spans);
        free(res->path);
        res->path = NULL;
    } else {
        res->ledger = e.ledger;
        res->spans = e.spans;
        res->n_spans = g->n_names;
    }
    engine_free(&e);
    return rc;
}

void imc_engine_result_free(imc_engine_result *res)
{
    imc_ledger_free(res->ledger);
    free(res->spans);
    free(res->path);
    memset(res, 0, sizeof *res);
}
