/* engine.c -- replay an op graph on a mapped architecture, cycle by cycle of each resource
 * (see engine.h).
 *
 * Each op instance (op x inference) goes through two kernel events. START, at the time its
 * last input has arrived: the op reserves its resources on their timelines (a timeline is the
 * tick until which the resource is taken; reserving waits for it and rounds to the resource's
 * clock), charges its actions to the ledger and schedules DONE at its finish. DONE: the output
 * is sent to every consumer (a NoC transfer reserving each link on its XY route when the
 * consumer sits on another router), and a consumer whose inputs have all arrived is scheduled
 * to START at the arrival of the last one. Work is charged for inference 0 only (every
 * inference does the same work); time runs for all of them, so they contend.
 *
 * An MVM of one vector on a layer's crossbar group: the input is read from the tile buffer over
 * the tile bus into the PE input registers; then, for each of the S = input_bits / dac_bits
 * input slices, one crossbar read (R), sample-and-hold and the ADC conversions of the columns
 * that share an ADC (A), pipelined as in ISAAC so read s+1 overlaps the conversions of s:
 * latency R + (S-1) max(R, A) + A, and the group takes a new vector every S max(R, A). Partial
 * sums of row tiles are added on the tile's vector unit; the output goes back to the tile
 * buffer. */
#include "sim/engine/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


typedef struct timeline {
    uint64_t free_ps; /* taken until */
    uint64_t busy_ps; /* total time taken */
} timeline;

typedef struct layer_rt {
    int copies;
    int64_t *tile;      /* [copy] */
    timeline *pipe;     /* [copy]: the crossbar + ADC pipeline of that copy */
    uint64_t stage_ps;  /* max(R, A) */
    uint64_t first_ps;  /* R + A: the first slice */
    int xbars;          /* crossbars of one copy */
    double dac_conv;    /* per vector, per slice */
    double cols_used;   /* converted columns of one copy, per slice */
} layer_rt;

typedef struct tile_rt {
    timeline buffer, bus, sfu, vector;
} tile_rt;

typedef struct engine {
    const imc_arch *arch;
    const imc_placement *place;
    const imc_graph *g;
    const imc_engine_opts *opts;
    imc_ledger *ledger;
    imc_kernel *kernel;
    imc_err *err;
    int batch;
    uint64_t clk_ps;    /* the digital clock */
    int slices;
    layer_rt *layers;
    tile_rt *tiles;
    int64_t n_tiles;
    /* NoC: routers on a mesh, 4 links each (E, W, N, S) */
    int conc, mesh_w, mesh_h, center; /* center: the router of the chip-level units */
    timeline *links;
    uint64_t hop_ps, flit_ps;
    double flit_bits;
    /* chip level */
    timeline gbuf, mac, digital, dram, *scratch; /* scratch: per head, rewrite mode */
    double store_bits;      /* attention store used so far (for spilling to DRAM) */
    double store_capacity;  /* global buffer capacity in bits, 0 without one */
    /* op state: [inference * n_ops + op] */
    uint32_t *remaining;
    uint64_t *ready;
    uint64_t *begin;   /* when the op instance started */
    uint8_t *stage;    /* its next stage */
    uint32_t *cons_first, *cons; /* consumers (CSR) */
    /* reprogramming (placement rounds > 1): round r's weights are written before its MVMs */
    int rounds;
    uint32_t reprogram_name; /* the ledger name of reprogramming: "reprogram" */
    const char **names;      /* the graph's names + "reprogram" */
    uint32_t *round_mvms;   /* [r]: MVM ops of the graph in round r */
    uint32_t *round_left;   /* [inf * rounds + r]: of those, not done yet */
    uint64_t *gate;         /* [inf * rounds + r]: when round r's weights are in, or UINT64_MAX */
    uint32_t **parked;      /* [inf * rounds + r]: ops waiting for that gate */
    size_t *n_parked, *cap_parked;
    uint64_t last_done;
    uint64_t *inference_done;
    imc_span *spans;        /* [name]: first inference only */
    int status;
} engine;

enum { LINK_E, LINK_W, LINK_N, LINK_S };

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

/* Take timeline TL for DUR ps, no earlier than T; returns the start. */
static uint64_t take(timeline *tl, uint64_t t, uint64_t dur, uint64_t period)
{
    uint64_t s = edge(t > tl->free_ps ? t : tl->free_ps, period);
    tl->free_ps = s + dur;
    tl->busy_ps += dur;
    return s;
}

static void charge(engine *e, int inference, uint32_t name, int cls, imc_comp comp,
                   unsigned action, double count)
{
    if (inference != 0 || count <= 0 || !imc_comp_instance(e->arch, comp))
        return;
    if (imc_ledger_add(e->ledger, name, cls, comp, action, count) && !e->status)
        e->status = imc_err_set(e->err, IMC_ENOMEM, "out of memory in the ledger");
}

static void traffic(engine *e, int inference, imc_mem_level level, double bits)
{
    if (inference == 0)
        imc_ledger_traffic(e->ledger, level, bits);
}

static const imc_instance *unit(engine *e, imc_comp c)
{
    return imc_comp_instance(e->arch, c);
}

/* Accesses of a WIDTH-bit port for BITS (0 when there is no such buffer). */
static double accesses(const imc_instance *buf, double bits)
{
    if (!buf || bits <= 0)
        return 0;
    double w = imc_instance_get(buf, "width");
    return ceil(bits / (w > 0 ? w : 1));
}

/* Time to move BITS through buffer BUF (all banks in parallel). */
static uint64_t buffer_ps(const imc_instance *buf, double bits)
{
    if (!buf || bits <= 0)
        return 0;
    double banks = imc_instance_get(buf, "banks");
    uint64_t n = (uint64_t)ceil(accesses(buf, bits) / (banks > 0 ? banks : 1));
    return n * imc_model_latency_ps(buf, IMC_BUFFER_READ);
}

/* ---- the NoC -------------------------------------------------------------------------------- */

static int router_of(engine *e, int64_t tile)
{
    return tile < 0 ? e->center : (int)(tile / e->conc);
}

/* Send BITS from SRC to DST (tiles; -1 = the chip-level units) leaving at T; returns the
 * arrival of the last flit. XY routing, every link reserved for the flits it carries. */
static uint64_t send(engine *e, int inf, uint32_t name, int64_t src, int64_t dst, double bits,
                     uint64_t t)
{
    int a = router_of(e, src), b = router_of(e, dst);
    if (bits <= 0 || (a == b && src == dst))
        return t;
    uint64_t flits = (uint64_t)ceil(bits / e->flit_bits);
    if (a == b) { /* same router, another port: one router traversal */
        charge(e, inf, name, IMC_CLS_TRANSFER, IMC_COMP_NOC, IMC_NOC_FLIT_HOP, (double)flits);
        traffic(e, inf, IMC_MEM_NOC, bits);
        return t + e->hop_ps + (flits - 1) * e->flit_ps;
    }
    int x = a % e->mesh_w, y = a / e->mesh_w, bx = b % e->mesh_w, by = b / e->mesh_w, hops = 0;
    while (x != bx || y != by) {
        int r = y * e->mesh_w + x, dir;
        if (x != bx)
            dir = bx > x ? LINK_E : LINK_W, x += bx > x ? 1 : -1;
        else
            dir = by > y ? LINK_S : LINK_N, y += by > y ? 1 : -1;
        timeline *link = &e->links[(size_t)r * 4 + dir];
        uint64_t s = take(link, t, flits * e->flit_ps, e->flit_ps);
        t = s + e->hop_ps;
        hops++;
    }
    charge(e, inf, name, IMC_CLS_TRANSFER, IMC_COMP_NOC, IMC_NOC_FLIT_HOP, (double)(flits * hops));
    traffic(e, inf, IMC_MEM_NOC, bits);
    return t + (flits - 1) * e->flit_ps;
}

/* ---- executing ops -------------------------------------------------------------------------- */

static int64_t site_tile(engine *e, const imc_op *op, uint32_t token)
{
    if (op->site < 0)
        return -1;
    const layer_rt *l = &e->layers[op->site];
    return l->tile[token % (uint32_t)l->copies];
}

static int op_failed(engine *e, const char *msg, const imc_op *op)
{
    if (!e->status)
        e->status = imc_err_set(e->err, IMC_EINPUT, "%s (op %s of %s)", msg,
                                imc_op_class_name((imc_op_class)op->cls), e->g->names[op->name]);
    return e->status;
}

/* Each kind of op runs in stages; a stage reserves its resources at the time it starts, so no
 * resource is ever booked ahead of the present. A stage returns its end and sets *last on the
 * op's final stage. */

static uint64_t mvm_stage(engine *e, int inf, const imc_op *op, int stage, uint64_t t, int *last)
{
    const imc_pe *pe = &e->arch->chip.tile.pe;
    const imc_layer_place *lp = &e->place->layers[op->layer];
    layer_rt *l = &e->layers[op->layer];
    int copy = (int)(op->token % (uint32_t)l->copies);
    tile_rt *tile = &e->tiles[l->tile[copy]];
    const imc_instance *buf = unit(e, IMC_COMP_TILE_BUFFER), *bus = unit(e, IMC_COMP_TILE_BUS);
    const imc_instance *vu = unit(e, IMC_COMP_TILE_VECTOR);
    double in = (double)op->in_bits, out = (double)op->out_bits;
    double adds = (double)(lp->row_tiles - 1) * lp->layer->out;
    int S = e->slices;

    switch (stage) {
    case 0: { /* fetch: tile buffer -> bus -> input registers; all the op's actions charged */
        uint64_t rd = buffer_ps(buf, in);
        uint64_t s = take(&tile->buffer, t, rd, buf ? buf->period_ps : 0), end = s + rd;
        if (bus) {
            uint64_t bt = ceil_div((uint64_t)in, (uint64_t)imc_instance_get(bus, "flit_width")) *
                          imc_model_latency_ps(bus, IMC_NOC_FLIT_HOP);
            end = take(&tile->bus, s, bt, bus->period_ps) + bt;
        }
        double x = l->xbars;
        charge(e, inf, op->name, op->cls, IMC_COMP_XBAR, IMC_XBAR_READ, S * x);
        charge(e, inf, op->name, op->cls, IMC_COMP_DAC, IMC_DAC_CONVERT, S * l->dac_conv);
        charge(e, inf, op->name, op->cls, IMC_COMP_SH, IMC_SH_SAMPLE, S * l->cols_used);
        charge(e, inf, op->name, op->cls, IMC_COMP_ADC, IMC_ADC_CONVERT, S * l->cols_used);
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_SHIFTADD, IMC_SHIFTADD_ADD, S * l->cols_used);
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_IR, IMC_BUFFER_WRITE,
               accesses(pe->input_register, in * lp->col_tiles));
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_IR, IMC_BUFFER_READ,
               S * accesses(pe->input_register, in * lp->col_tiles / S));
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_OR, IMC_BUFFER_WRITE,
               accesses(pe->output_register, out * lp->row_tiles));
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_OR, IMC_BUFFER_READ,
               accesses(pe->output_register, out * lp->row_tiles));
        charge(e, inf, op->name, op->cls, IMC_COMP_TILE_BUFFER, IMC_BUFFER_READ, accesses(buf, in));
        charge(e, inf, op->name, op->cls, IMC_COMP_TILE_BUFFER, IMC_BUFFER_WRITE, accesses(buf, out));
        if (bus)
            charge(e, inf, op->name, op->cls, IMC_COMP_TILE_BUS, IMC_NOC_FLIT_HOP,
                   ceil(in / imc_instance_get(bus, "flit_width")) +
                       ceil(out / imc_instance_get(bus, "flit_width")));
        if (adds > 0 && vu)
            charge(e, inf, op->name, op->cls, IMC_COMP_TILE_VECTOR, IMC_DIGITAL_ADD, adds);
        traffic(e, inf, IMC_MEM_TILE_BUFFER, in + out);
        traffic(e, inf, IMC_MEM_PE_BUFFERS, in * lp->col_tiles + out * lp->row_tiles);
        return end;
    }
    case 1: { /* the crossbar pipeline: S slices of read, sample, convert; then shift-add */
        uint64_t p0 = take(&l->pipe[copy], t, (uint64_t)S * l->stage_ps, 0);
        uint64_t end = p0 + l->first_ps + (uint64_t)(S - 1) * l->stage_ps;
        return pe->shiftadd ? end + imc_model_latency_ps(pe->shiftadd, IMC_SHIFTADD_ADD) : end;
    }
    case 2: /* partial sums of the row tiles, on the tile's vector unit */
        if (adds > 0 && vu) {
            double lanes = imc_instance_get(vu, "lanes");
            uint64_t d = (uint64_t)ceil(adds / lanes) * imc_model_latency_ps(vu, IMC_DIGITAL_ADD);
            return take(&tile->vector, t, d, vu->period_ps) + d;
        }
        return t;
    default: { /* the output back to the tile buffer */
        uint64_t wr = buffer_ps(buf, out);
        *last = 1;
        return take(&tile->buffer, t, wr, buf ? buf->period_ps : 0) + wr;
    }
    }
}

/* Element-wise work on the digital unit of the op's site: one stage per (function, count). */
static uint64_t vector_stage(engine *e, int inf, const imc_op *op, int stage, uint64_t t, int *last)
{
    int64_t tile = site_tile(e, op, op->token);
    if (tile < 0 && op->cls == IMC_CLS_SOFTMAX && e->arch->mapping.matmul == IMC_MATMUL_HOST) {
        *last = 1; /* the host computes the whole attention; the chip only moves data */
        return t;
    }
    if (stage == 0) { /* operands from and results to the tile buffer, or the global buffer */
        imc_comp bc = tile >= 0 ? IMC_COMP_TILE_BUFFER : IMC_COMP_GLOBAL_BUFFER;
        const imc_instance *buf = unit(e, bc);
        charge(e, inf, op->name, op->cls, bc, IMC_BUFFER_READ, accesses(buf, (double)op->in_bits));
        charge(e, inf, op->name, op->cls, bc, IMC_BUFFER_WRITE, accesses(buf, (double)op->out_bits));
        if (buf)
            traffic(e, inf, tile >= 0 ? IMC_MEM_TILE_BUFFER : IMC_MEM_GLOBAL_BUFFER,
                    (double)(op->in_bits + op->out_bits));
    }
    *last = stage + 1 >= op->n_work;
    if (stage >= op->n_work)
        return t;
    unsigned f = op->work[stage].func;
    int special = f == IMC_DIGITAL_EXP || f == IMC_DIGITAL_SIGMOID || f == IMC_DIGITAL_TANH ||
                  f == IMC_DIGITAL_GELU || f == IMC_DIGITAL_SOFTMAX || f == IMC_DIGITAL_DIV;
    imc_comp c = tile < 0                                 ? IMC_COMP_DIGITAL
                 : special && unit(e, IMC_COMP_TILE_SFU) ? IMC_COMP_TILE_SFU
                 : unit(e, IMC_COMP_TILE_VECTOR)         ? IMC_COMP_TILE_VECTOR
                 : unit(e, IMC_COMP_TILE_SFU)            ? IMC_COMP_TILE_SFU
                                                         : IMC_COMP_DIGITAL;
    const imc_instance *u = unit(e, c);
    if (!u) {
        op_failed(e, "the architecture has no digital unit for this work", op);
        return t;
    }
    timeline *tl = c == IMC_COMP_DIGITAL      ? &e->digital
                   : c == IMC_COMP_TILE_SFU ? &e->tiles[tile].sfu
                                            : &e->tiles[tile].vector;
    double lanes = imc_instance_get(u, "lanes");
    uint64_t d = (uint64_t)ceil(op->work[stage].count / (lanes > 0 ? lanes : 1)) *
                 imc_model_latency_ps(u, f);
    charge(e, inf, op->name, op->cls, c, f, op->work[stage].count);
    return take(tl, t, d, u->period_ps) + d;
}

/* Move BITS between the chip and DRAM (the channel's bandwidth and latency). */
static uint64_t dram(engine *e, int inf, const imc_op *op, double bits, int write, uint64_t t)
{
    const imc_instance *d = unit(e, IMC_COMP_DRAM);
    double bw = imc_instance_get(d, "bandwidth"); /* bit/s */
    uint64_t xfer = (uint64_t)ceil(bits / bw * 1e12);
    uint64_t s = take(&e->dram, t, xfer, 0);
    charge(e, inf, op->name, op->cls, IMC_COMP_DRAM, write ? IMC_DRAM_WRITE_BITS : IMC_DRAM_READ_BITS,
           bits);
    traffic(e, inf, IMC_MEM_DRAM, bits);
    return s + xfer + imc_model_latency_ps(d, write ? IMC_DRAM_WRITE_BITS : IMC_DRAM_READ_BITS);
}

/* The attention store: the global buffer while it has room, else DRAM; the host's in DRAM. */
static uint64_t store_access(engine *e, int inf, const imc_op *op, double bits, int write,
                             uint64_t t)
{
    const imc_instance *gb = unit(e, IMC_COMP_GLOBAL_BUFFER);
    if (e->arch->mapping.matmul == IMC_MATMUL_HOST || !gb || e->store_bits > e->store_capacity)
        return dram(e, inf, op, bits, write, t);
    uint64_t d = buffer_ps(gb, bits);
    uint64_t s = take(&e->gbuf, t, d, gb->period_ps);
    charge(e, inf, op->name, op->cls, IMC_COMP_GLOBAL_BUFFER, write ? IMC_BUFFER_WRITE : IMC_BUFFER_READ,
           accesses(gb, bits));
    traffic(e, inf, IMC_MEM_GLOBAL_BUFFER, bits);
    return s + d;
}

static uint64_t matmul_stage(engine *e, int inf, const imc_op *op, int stage, uint64_t t, int *last)
{
    double macs = (double)op->m * op->k * op->n;
    double operand = (double)op->k * op->n * e->g->act_bits; /* K^T or V, read from the store */
    switch (e->arch->mapping.matmul) {
    case IMC_MATMUL_HOST: /* the host computes: the chip sends each query (with Q K^T) and
                             receives each result (with S V) over DRAM */
        *last = 1;
        if (op->cls == IMC_CLS_QK)
            return dram(e, inf, op, (double)op->in_bits, 1, t);
        return dram(e, inf, op, (double)op->out_bits, 0, t);
    case IMC_MATMUL_REWRITE: { /* the operand sits in rewritten crossbars: one MVM per query */
        const layer_rt *ref = &e->layers[0];
        int h = op->head >= 0 ? op->head % e->g->num_heads : 0;
        uint64_t s = take(&e->scratch[h], t, (uint64_t)e->slices * ref->stage_ps, 0);
        double xbars = ceil((double)op->k / e->place->rows) *
                       ceil((double)op->n / e->place->weights_per_row);
        double cols = (double)op->n * e->place->cells_per_weight * ceil((double)op->k / e->place->rows);
        charge(e, inf, op->name, op->cls, IMC_COMP_XBAR, IMC_XBAR_READ, e->slices * xbars);
        charge(e, inf, op->name, op->cls, IMC_COMP_DAC, IMC_DAC_CONVERT,
               e->slices * (double)op->k * ceil((double)op->n / e->place->weights_per_row));
        charge(e, inf, op->name, op->cls, IMC_COMP_SH, IMC_SH_SAMPLE, e->slices * cols);
        charge(e, inf, op->name, op->cls, IMC_COMP_ADC, IMC_ADC_CONVERT, e->slices * cols);
        charge(e, inf, op->name, op->cls, IMC_COMP_PE_SHIFTADD, IMC_SHIFTADD_ADD, e->slices * cols);
        *last = 1;
        return s + ref->first_ps + (uint64_t)(e->slices - 1) * ref->stage_ps;
    }
    default: { /* the MAC array of chip.digital, its operand read from the store */
        const imc_instance *d = unit(e, IMC_COMP_DIGITAL);
        double units = d ? imc_instance_get(d, "mac_units") : 0;
        if (units <= 0) {
            op_failed(e, "mapping.matmul is digital but chip.digital has no MAC units", op);
            return t;
        }
        if (stage == 0)
            return store_access(e, inf, op, operand, 0, t);
        uint64_t dur = (uint64_t)ceil(macs / units) * imc_model_latency_ps(d, IMC_DIGITAL_MAC);
        charge(e, inf, op->name, op->cls, IMC_COMP_DIGITAL, IMC_DIGITAL_MAC, macs);
        *last = 1;
        return take(&e->mac, t, dur, d->period_ps) + dur;
    }
    }
}

/* Rewrite mode: once the K and V of a layer exist, every head's operands are programmed into
 * crossbars (one row at a time per crossbar, crossbars in parallel). */
static uint64_t rewrite_operands(engine *e, int inf, const imc_op *op, uint64_t t)
{
    const imc_pe *pe = &e->arch->chip.tile.pe;
    int T = e->g->tokens, hd = e->g->embed_dim / e->g->num_heads, rows = e->place->rows;
    int wpr = e->place->weights_per_row;
    /* K^T: hd rows x T columns; V: T rows x hd columns */
    double k_xbars = ceil((double)hd / rows) * ceil((double)T / wpr);
    double v_xbars = ceil((double)T / rows) * ceil((double)hd / wpr);
    double rows_written = k_xbars * (hd < rows ? hd : rows) + v_xbars * (T < rows ? T : rows);
    uint64_t row_ps = imc_model_latency_ps(pe->xbar, IMC_XBAR_WRITE_ROW);
    uint64_t dur = (uint64_t)((hd < rows ? hd : rows) + (T < rows ? T : rows)) * row_ps;
    uint64_t done = t;
    for (int h = 0; h < e->g->num_heads; h++) {
        uint64_t s = take(&e->scratch[h], t, dur, 0) + dur;
        done = s > done ? s : done;
    }
    double cells = (double)(T * hd * 2) * e->place->cells_per_weight * e->g->num_heads;
    charge(e, inf, op->name, IMC_CLS_REPROGRAM, IMC_COMP_XBAR, IMC_XBAR_WRITE_ROW,
           rows_written * e->g->num_heads);
    traffic(e, inf, IMC_MEM_XBAR_WRITE, cells * e->arch->mapping.cell_bits);
    return done;
}

static uint64_t run_stage(engine *e, int inf, const imc_op *op, int stage, uint64_t t, int *last)
{
    *last = 0;
    switch (op->kind) {
    case IMC_OP_MVM:
        return mvm_stage(e, inf, op, stage, t, last);
    case IMC_OP_VECTOR:
        return vector_stage(e, inf, op, stage, t, last);
    case IMC_OP_MATMUL:
        return matmul_stage(e, inf, op, stage, t, last);
    case IMC_OP_STORE: /* K and V of a token go to the attention store */
        *last = stage == 1;
        if (stage == 0) {
            if (inf == 0)
                e->store_bits += (double)op->out_bits;
            return send(e, inf, op->name, site_tile(e, op, op->token), -1, (double)op->out_bits, t);
        }
        return store_access(e, inf, op, (double)op->out_bits, 1, t);
    case IMC_OP_BARRIER:
        *last = 1;
        if (op->cls == IMC_CLS_SYNC && e->arch->mapping.matmul == IMC_MATMUL_REWRITE)
            return rewrite_operands(e, inf, op, t);
        return t;
    case IMC_OP_INPUT: /* the image comes from off chip */
        *last = 1;
        return dram(e, inf, op, (double)op->out_bits, 0, t);
    case IMC_OP_OUTPUT:
        *last = 1;
        return dram(e, inf, op, (double)op->in_bits, 1, t);
    default:
        *last = 1;
        return t;
    }
}

/* ---- events ------------------------------------------------------------------------------- */

static int on_done(engine *e, int inf, uint32_t i, uint64_t now);
static int on_final(imc_kernel *k, void *ctx, uint64_t arg);
static int park(engine *e, size_t g, uint32_t op);
static int next_load(engine *e, int inf, int r, uint64_t now);

static void report_op(engine *e, const imc_op *op, int inf, uint64_t s, uint64_t d)
{
    if (!e->opts->on_op)
        return;
    int64_t tile = op->kind == IMC_OP_MVM || op->kind == IMC_OP_VECTOR ? site_tile(e, op, op->token) : -1;
    imc_op_span span = {op, inf, tile, s, d};
    e->opts->on_op(e->opts->on_op_ctx, &span);
}

/* The next stage of an op instance (arg: inference << 32 | op); stages that take no time run
 * at once, the others come back as a new event at their end. */
static int on_stage(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    int inf = (int)(arg >> 32);
    uint32_t i = (uint32_t)arg;
    size_t at = (size_t)inf * e->g->n_ops + i;
    const imc_op *op = &e->g->ops[i];
    uint64_t now = imc_kernel_now(k);
    if (e->stage[at] == 0 && op->kind == IMC_OP_MVM && e->rounds > 1) {
        size_t g = (size_t)inf * e->rounds + (size_t)e->place->layers[op->layer].round;
        if (e->gate[g] == UINT64_MAX) /* its crossbars hold another round's weights */
            return park(e, g, i);
    }
    if (e->stage[at] == 0)
        e->begin[at] = now;
    for (;;) {
        int last;
        uint64_t end = run_stage(e, inf, op, e->stage[at]++, now, &last);
        if (e->status)
            return e->status;
        if (last) {
            if (end > now)
                return imc_kernel_schedule(k, end, on_final, e, arg);
            return on_done(e, inf, i, now);
        }
        if (end > now)
            return imc_kernel_schedule(k, end, on_stage, e, arg);
    }
}

/* OP I of inference INF is done at NOW: send its output to its consumers. */
static int on_done(engine *e, int inf, uint32_t i, uint64_t now)
{
    const imc_op *op = &e->g->ops[i];
    size_t base = (size_t)inf * e->g->n_ops;
    report_op(e, op, inf, e->begin[base + i], now);
    if (inf == 0) {
        imc_span *sp = &e->spans[op->name];
        uint64_t s = e->begin[base + i];
        if (!sp->ops || s < sp->start_ps)
            sp->start_ps = s;
        if (now > sp->end_ps)
            sp->end_ps = now;
        sp->busy_ps += now - s;
        sp->ops++;
    }
    if (now > e->inference_done[inf])
        e->inference_done[inf] = now;
    if (now > e->last_done)
        e->last_done = now;
    if (op->kind == IMC_OP_MVM && e->rounds > 1) {
        int r = e->place->layers[op->layer].round;
        if (--e->round_left[(size_t)inf * e->rounds + r] == 0) {
            int rc = next_load(e, inf, r, now);
            if (rc)
                return rc;
        }
    }
    int64_t src = op->kind == IMC_OP_MVM || op->kind == IMC_OP_VECTOR ? site_tile(e, op, op->token) : -1;
    for (uint32_t c = e->cons_first[i]; c < e->cons_first[i + 1]; c++) {
        uint32_t j = e->cons[c];
        const imc_op *co = &e->g->ops[j];
        int64_t dst = co->kind == IMC_OP_MVM || co->kind == IMC_OP_VECTOR ? site_tile(e, co, co->token) : -1;
        double bits = (double)(op->out_bits < co->in_bits ? op->out_bits : co->in_bits);
        if (op->kind == IMC_OP_BARRIER || op->kind == IMC_OP_STORE)
            bits = 0; /* a synchronisation, not data */
        uint64_t arrival = send(e, inf, co->name, src, dst, bits, now);
        if (arrival > e->ready[base + j])
            e->ready[base + j] = arrival;
        if (--e->remaining[base + j] == 0) {
            int rc = imc_kernel_schedule(e->kernel, e->ready[base + j], on_stage, e,
                                         ((uint64_t)inf << 32) | j);
            if (rc)
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
            return e->status = imc_err_set(e->err, IMC_ENOMEM, "out of memory");
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
    imc_op load = {.kind = IMC_OP_BARRIER, .cls = IMC_CLS_REPROGRAM, .name = e->reprogram_name};
    uint64_t fetched = dram(e, inf, &load, bits, 0, now);
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

/* A final stage's end: the op is done. */
static int on_final(imc_kernel *k, void *ctx, uint64_t arg)
{
    engine *e = ctx;
    return on_done(e, (int)((arg >> 32) & 0x7fffffff), (uint32_t)arg, imc_kernel_now(k));
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
        l->copies = lp->copies;
        l->tile = calloc((size_t)lp->copies, sizeof *l->tile);
        l->pipe = calloc((size_t)lp->copies, sizeof *l->pipe);
        if (!l->tile || !l->pipe)
            return imc_err_set(e->err, IMC_ENOMEM, "out of memory");
        int64_t per_copy_pes = (lp->row_tiles * (int64_t)lp->col_tiles + per_pe - 1) / per_pe;
        for (int c = 0; c < lp->copies; c++)
            l->tile[c] = (lp->first_pe + c * per_copy_pes) / pes_per_tile;
        l->xbars = lp->row_tiles * lp->col_tiles;
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
    }
    return 0;
}

static int setup_noc(engine *e)
{
    const imc_instance *noc = e->arch->chip.noc;
    e->conc = (int)imc_arch_noc_concentration(e->arch);
    int routers = (int)((e->n_tiles + e->conc - 1) / e->conc);
    e->mesh_w = (int)ceil(sqrt((double)routers));
    e->mesh_h = (routers + e->mesh_w - 1) / e->mesh_w;
    /* The chip-level units (global buffer, MAC array, DRAM interface) attach to the corner
     * router, at the chip's edge next to the off-chip interface: growing the chip adds routers
     * after it and never moves it. */
    e->center = 0;
    e->flit_bits = imc_instance_get(noc, "flit_width");
    e->flit_ps = noc->period_ps;
    e->hop_ps = imc_model_latency_ps(noc, IMC_NOC_FLIT_HOP);
    e->links = calloc((size_t)e->mesh_w * e->mesh_h * 4, sizeof *e->links);
    return e->links ? 0 : imc_err_set(e->err, IMC_ENOMEM, "out of memory");
}

static int setup_consumers(engine *e)
{
    const imc_graph *g = e->g;
    e->cons_first = calloc(g->n_ops + 1, sizeof *e->cons_first);
    e->cons = malloc((g->n_deps ? g->n_deps : 1) * sizeof *e->cons);
    if (!e->cons_first || !e->cons)
        return imc_err_set(e->err, IMC_ENOMEM, "out of memory");
    for (size_t d = 0; d < g->n_deps; d++)
        e->cons_first[g->deps[d] + 1]++;
    for (size_t i = 0; i < g->n_ops; i++)
        e->cons_first[i + 1] += e->cons_first[i];
    uint32_t *fill = malloc((g->n_ops ? g->n_ops : 1) * sizeof *fill);
    if (!fill)
        return imc_err_set(e->err, IMC_ENOMEM, "out of memory");
    memcpy(fill, e->cons_first, g->n_ops * sizeof *fill);
    for (size_t i = 0; i < g->n_ops; i++)
        for (uint32_t d = 0; d < g->ops[i].n_deps; d++)
            e->cons[fill[g->deps[g->ops[i].first_dep + d]]++] = (uint32_t)i;
    free(fill);
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
        return imc_err_set(e->err, IMC_ENOMEM, "out of memory");
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
    }
    free(e->layers);
    free(e->tiles);
    free(e->links);
    free(e->scratch);
    free(e->remaining);
    free(e->ready);
    free(e->begin);
    free(e->stage);
    free(e->cons_first);
    free(e->cons);
    free(e->inference_done);
    imc_kernel_free(e->kernel);
}

int imc_engine_run(const imc_arch *arch, const imc_placement *p, const imc_graph *g,
                   const imc_engine_opts *opts, imc_engine_result *res, imc_err *err)
{
    memset(res, 0, sizeof *res);
    engine e = {0};
    e.arch = arch;
    e.place = p;
    e.g = g;
    e.opts = opts;
    e.err = err;
    e.batch = opts->batch > 0 ? opts->batch : 1;
    e.clk_ps = imc_period_ps(arch->clock_hz);
    e.slices = imc_arch_input_slices(arch);
    e.n_tiles = arch->chip.tiles;
    const imc_instance *gb = arch->chip.global_buffer;
    e.store_capacity = gb ? imc_instance_get(gb, "capacity") : 0;
    size_t n = (size_t)e.batch * g->n_ops;
    int rc = 0;
    if (!(e.layers = calloc(p->n_layers ? p->n_layers : 1, sizeof *e.layers)) ||
        !(e.tiles = calloc((size_t)e.n_tiles, sizeof *e.tiles)) ||
        !(e.scratch = calloc((size_t)(g->num_heads > 0 ? g->num_heads : 1), sizeof *e.scratch)) ||
        !(e.remaining = malloc((n ? n : 1) * sizeof *e.remaining)) ||
        !(e.ready = calloc(n ? n : 1, sizeof *e.ready)) ||
        !(e.begin = calloc(n ? n : 1, sizeof *e.begin)) ||
        !(e.stage = calloc(n ? n : 1, sizeof *e.stage)) ||
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
    }

    if (!rc)
        rc = setup_layers(&e);
    if (!rc)
        rc = setup_noc(&e);
    if (!rc)
        rc = setup_consumers(&e);
    if (!rc)
        rc = imc_kernel_new(&e.kernel, opts->kernel, err);
    if (!rc)
        rc = setup_rounds(&e);
    for (int inf = 0; !rc && inf < e.batch; inf++)
        for (size_t i = 0; !rc && i < g->n_ops; i++) {
            e.remaining[(size_t)inf * g->n_ops + i] = g->ops[i].n_deps;
            if (g->ops[i].n_deps == 0)
                rc = imc_kernel_schedule(e.kernel, 0, on_stage, &e, ((uint64_t)inf << 32) | i);
        }
    if (!rc) { /* a handler's own error (already in ERR) wins over the kernel's summary */
        imc_err kerr;
        imc_err_clear(&kerr);
        rc = imc_kernel_run(e.kernel, &kerr);
        if (e.status)
            rc = e.status;
        else if (rc)
            *err = kerr;
    }
    if (!rc) {
        res->latency_ps = e.inference_done[0];
        res->makespan_ps = e.last_done;
        res->interval_ps = e.batch > 1 ? (double)(e.inference_done[e.batch - 1] - e.inference_done[0]) /
                                             (e.batch - 1)
                                       : (double)res->latency_ps;
        res->events = imc_kernel_events(e.kernel);
        res->ops = (uint64_t)n;
        double busy = 0, groups = 0;
        for (size_t i = 0; i < p->n_layers; i++)
            for (int c = 0; c < e.layers[i].copies; c++, groups++)
                busy += (double)e.layers[i].pipe[c].busy_ps;
        res->xbar_busy = groups && e.last_done ? busy / groups / (double)e.last_done : 0;
        res->mac_busy = e.last_done ? (double)e.mac.busy_ps / (double)e.last_done : 0;
        double inst[IMC_COMP_COUNT];
        for (int c = 0; c < IMC_COMP_COUNT; c++)
            inst[c] = imc_arch_comp_count(arch, (imc_comp)c, IMC_LEVEL_CHIP);
        rc = imc_ledger_close(e.ledger, (uint64_t)llround(res->interval_ps), inst);
        if (rc)
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory in the ledger");
    }
    if (rc) {
        imc_ledger_free(e.ledger);
        free(e.spans);
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
    memset(res, 0, sizeof *res);
}
