/* test_engine.c -- the engine against hand-derived closed forms, and its invariants.
 *
 * Closed forms (ISAAC's pipeline: Shafiee et al., ISCA 2016, section IV): one MVM of one vector on one crossbar
 * takes the tile-buffer fetch, then R + (S - 1) max(R, A) + A for S input slices (crossbar read
 * R, conversions of the columns sharing an ADC A), a shift-add cycle and the write-back;
 * halving the ADCs doubles A; an LSTM direction of T steps is T x (step MVM + cell update); a
 * NoC transfer across k hops adds k hop latencies plus the serialisation of its flits. Then:
 * energy conservation (the CSV sums to the total, which is the sum of count x per-action
 * energy), determinism and identical results on both kernels, and monotonicity. */
#include "config.h"

#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/arch/arch.h"
#include "sim/base/hugepages.h"
#include "sim/flow/dataflow.h"
#include "sim/engine/engine.h"
#include "sim/map/mapper.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/require.h"

#include "tests/unit/testmodels.h"

#include "tests/unit/small_arch.h"

static imc_arch *load_arch(const char *const *sets, size_t n)
{
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_arch_load_string(&a, small_arch_text, "engine.yaml", sets, n, &err))
        fprintf(stderr, "\n%s:%d:%d: %s\n", err.file, err.line, err.col, err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    return a;
}

/* Whole networks need more than one crossbar per tile: 8 PEs of 8. */
static imc_arch *load_big(const char *extra)
{
    const char *sets[] = {"chip.tile.pes=8", "chip.tile.pe.xbars=8", extra};
    return load_arch(sets, extra ? 3 : 2);
}

/* ---- a hand-built graph ----------------------------------------------------------------- */

typedef struct hand {
    imc_flow g;
    imc_layer layers[16];
    char *names[16];
    imc_op ops[1024];
    uint32_t deps[1024];
} hand;

static void hand_init(hand *h, int n_layers, int in, int out)
{
    memset(h, 0, sizeof *h);
    h->g.model = "hand";
    h->g.tokens = 1;
    h->g.embed_dim = in;
    h->g.num_heads = 1;
    h->g.act_bits = 8;
    h->g.layers = h->layers;
    h->g.names = h->names;
    h->g.ops = h->ops;
    h->g.deps = h->deps;
    for (int i = 0; i < n_layers; i++) {
        static char names[16][16];
        snprintf(names[i], sizeof names[i], "l%d", i);
        h->layers[i] = (imc_layer){.kind = IMC_LAYER_FC1, .block = 0, .head = -1, .dir = -1,
                                   .in = in, .out = out, .vectors = 1, .has_bias = 1};
        snprintf(h->layers[i].name, sizeof h->layers[i].name, "l%d", i);
        h->names[i] = names[i];
    }
    h->g.n_layers = (size_t)n_layers;
    h->g.n_names = (size_t)n_layers;
}

static uint32_t hand_op(hand *h, imc_op op, const uint32_t *deps, int n)
{
    op.first_dep = (uint32_t)h->g.n_deps;
    op.n_deps = (uint32_t)n;
    for (int i = 0; i < n; i++)
        h->deps[h->g.n_deps++] = deps[i];
    h->ops[h->g.n_ops] = op;
    return (uint32_t)h->g.n_ops++;
}

static imc_op mvm_op(const hand *h, int layer, uint32_t token)
{
    return (imc_op){.kind = IMC_OP_MVM, .cls = IMC_CLS_MVM, .layer = layer, .site = layer,
                    .name = (uint32_t)layer, .token = token, .head = -1,
                    .in_bits = (uint64_t)h->layers[layer].in * 8,
                    .out_bits = (uint64_t)h->layers[layer].out * 8};
}

/* Run H as BATCH inferences on the native kernel and, when built, on SystemC's: both must
 * agree on every time; RES gets the native result (the caller frees it). */
static void run_hand_full(const imc_arch *a, hand *h, int batch, imc_engine_result *res)
{
    imc_network net = {.name = "hand", .layers = h->layers, .n_layers = h->g.n_layers};
    imc_placement *p = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&p, a, &net, &err), 0);
    /* every closed form must hold on both kernels */
    for (int b = 0; b < 2; b++) {
        imc_kernel_backend k = b ? IMC_KERNEL_SYSTEMC : IMC_KERNEL_NATIVE;
        if (b && !imc_kernel_available(k))
            IMC_UNAVAILABLE("the SystemC backend is not built");
        if (b && !imc_kernel_available(k))
            break;
        imc_engine_opts o = {.kernel = k, .batch = batch};
        imc_engine_result r;
        int rc = imc_engine_run(a, p, &h->g, &o, &r, &err);
        if (rc)
            fprintf(stderr, "\nengine: %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        if (b) {
            CU_ASSERT_EQUAL(r.latency_ps, res->latency_ps);
            CU_ASSERT_EQUAL(r.makespan_ps, res->makespan_ps);
            CU_ASSERT_EQUAL(r.interval_ps, res->interval_ps);
            imc_engine_result_free(&r);
        } else {
            *res = r;
        }
    }
    imc_placement_free(p);
}

static uint64_t run_hand(const imc_arch *a, hand *h, imc_kernel_backend kernel)
{
    (void)kernel; /* both kernels run */
    imc_engine_result r;
    run_hand_full(a, h, 1, &r);
    uint64_t lat = r.latency_ps;
    imc_engine_result_free(&r);
    return lat;
}

/* ---- the closed forms -------------------------------------------------------------------- */

static uint64_t edge(uint64_t t, uint64_t p)
{
    return p ? (t + p - 1) / p * p : t;
}

/* Buffer time for BITS: accesses of `width` bits spread over `banks`, one read cycle each. */
static uint64_t buffer_time(const imc_instance *buf, double bits)
{
    double acc = ceil(bits / imc_instance_get(buf, "width"));
    return (uint64_t)ceil(acc / imc_instance_get(buf, "banks")) * imc_model_latency_ps(buf, IMC_BUFFER_READ);
}

/* End of one MVM of layer shape (in, out) on one crossbar, started at T. */
static uint64_t mvm_end(const imc_arch *a, int in, int out, uint64_t t)
{
    const imc_pe *pe = &a->chip.tile.pe;
    const imc_instance *buf = a->chip.tile.buffer;
    uint64_t bp = buf->period_ps;
    int S = imc_arch_input_slices(a);
    int used = out * imc_arch_cells_per_weight(a);
    if (used > imc_arch_xbar_cols(a))
        used = imc_arch_xbar_cols(a);
    int per_adc = used < pe->columns_per_adc ? used : pe->columns_per_adc;
    uint64_t R = imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    uint64_t A = (uint64_t)per_adc * imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    uint64_t stage = R > A ? R : A;
    uint64_t fetched = edge(t, bp) + buffer_time(buf, in * 8.0);
    uint64_t computed = fetched + R + (uint64_t)(S - 1) * stage + A +
                        imc_model_latency_ps(pe->shiftadd, IMC_SHIFTADD_ADD);
    return edge(computed, bp) + buffer_time(buf, out * 8.0);
}

static void test_one_mvm_closed_form(void)
{
    imc_arch *a = load_arch(NULL, 0);
    hand h;
    hand_init(&h, 1, 100, 16); /* 100 rows, 16 weights x 8 cells = 128 columns */
    hand_op(&h, mvm_op(&h, 0, 0), NULL, 0);
    uint64_t got = run_hand(a, &h, IMC_KERNEL_NATIVE);
    CU_ASSERT_EQUAL(got, mvm_end(a, 100, 16, 0));
    /* R = 100 ns >= A = 128 x 781 ps: latency = fetch + 8 reads + A + shift-add + write */
    const imc_pe *pe = &a->chip.tile.pe;
    CU_ASSERT(imc_model_latency_ps(pe->xbar, IMC_XBAR_READ) >= 128 * imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT));
    imc_arch_free(a);
}

/* An MVM's buffer accesses and times follow its own sizes, not the previous MVM's of its
 * layer (mvm_cost_of remembers a layer's last): a whole vector, a shorter one (as a trace may
 * give), the whole again, then the whole input with a shorter output; the tile buffer's reads
 * and writes are counted per op, and each op's fetch and write take its own buffer time. */
static void test_mvm_costs_follow_sizes(void)
{
    const char *sets[] = {"chip.tile.buffer.width=32 bit"}; /* 128 and 32 bits: 4 and 1 accesses */
    imc_arch *a = load_arch(sets, 1);
    hand h;
    hand_init(&h, 1, 100, 16);
    imc_op whole = mvm_op(&h, 0, 0), part = whole, fewer_out = whole;
    part.in_bits = 40 * 8, part.out_bits = 4 * 8;
    fewer_out.out_bits = 4 * 8;
    uint32_t d0 = hand_op(&h, whole, NULL, 0);
    uint32_t d1 = hand_op(&h, part, &d0, 1);
    uint32_t d2 = hand_op(&h, whole, &d1, 1);
    hand_op(&h, fewer_out, &d2, 1);
    imc_engine_result r;
    run_hand_full(a, &h, 1, &r);
    double width = imc_instance_get(a->chip.tile.buffer, "width"), reads = -1, writes = -1;
    for (size_t i = 0; i < imc_ledger_rows(r.ledger); i++) {
        imc_ledger_row row = imc_ledger_row_at(r.ledger, i);
        if (row.comp == IMC_COMP_TILE_BUFFER && row.op_class == IMC_CLS_MVM)
            *(row.action == IMC_BUFFER_READ ? &reads : &writes) = row.count;
    }
    CU_ASSERT_EQUAL(reads, 3 * ceil(800 / width) + ceil(320 / width));
    CU_ASSERT_EQUAL(writes, 2 * ceil(128 / width) + 2 * ceil(32 / width));
    /* four MVMs in a row: each one's fetch and write at its own size */
    uint64_t t = mvm_end(a, 100, 16, 0);
    const imc_instance *buf = a->chip.tile.buffer;
    uint64_t short_end = mvm_end(a, 100, 16, t) - buffer_time(buf, 800) - buffer_time(buf, 128) +
                         buffer_time(buf, 320) + buffer_time(buf, 32);
    CU_ASSERT(buffer_time(buf, 320) < buffer_time(buf, 800)); /* the test tells them apart */
    uint64_t third_end = mvm_end(a, 100, 16, short_end);
    CU_ASSERT_EQUAL(r.latency_ps, mvm_end(a, 100, 16, third_end) - buffer_time(buf, 128) +
                                      buffer_time(buf, 32));
    imc_engine_result_free(&r);
    imc_arch_free(a);
}

/* With a fast crossbar the ADCs bound the pipeline: halving the ADCs (twice the columns per
 * ADC) doubles the conversion time of every slice. */
static void test_adc_sharing_doubles_conversion(void)
{
    const char *fast64[] = {"chip.tile.pe.xbar.read_latency=10 ns", "chip.tile.pe.columns_per_adc=64"};
    const char *fast128[] = {"chip.tile.pe.xbar.read_latency=10 ns", "chip.tile.pe.columns_per_adc=128"};
    imc_arch *a = load_arch(fast64, 2), *b = load_arch(fast128, 2);
    hand h;
    hand_init(&h, 1, 100, 16);
    hand_op(&h, mvm_op(&h, 0, 0), NULL, 0);
    uint64_t la = run_hand(a, &h, IMC_KERNEL_NATIVE), lb = run_hand(b, &h, IMC_KERNEL_NATIVE);
    CU_ASSERT_EQUAL(la, mvm_end(a, 100, 16, 0));
    CU_ASSERT_EQUAL(lb, mvm_end(b, 100, 16, 0));
    uint64_t A1 = 64 * imc_model_latency_ps(a->chip.tile.pe.adc, IMC_ADC_CONVERT);
    int S = imc_arch_input_slices(a);
    /* latency = fetch + R + S x A + shift-add + write, so the difference is S x A1 (up to the
     * write-back's alignment to the buffer clock) */
    uint64_t bp = a->chip.tile.buffer->period_ps;
    CU_ASSERT(lb - la >= (uint64_t)S * A1 - bp && lb - la <= (uint64_t)S * A1 + bp);
    imc_arch_free(a);
    imc_arch_free(b);
}

/* One LSTM direction: T steps, each the fused MVM then the cell update on the tile's units
 * (the layer's 4 crossbars in one tile, so nothing crosses the NoC). */
static void test_lstm_direction_closed_form(void)
{
    const char *one_tile[] = {"chip.tile.pes=4"};
    imc_arch *a = load_arch(one_tile, 1);
    int hd = 16, T = 12;
    hand h;
    hand_init(&h, 1, 2 * hd, 4 * hd);
    h.layers[0].kind = IMC_LAYER_FAR_LSTM;
    h.g.tokens = T;
    uint32_t prev = 0;
    for (int t = 0; t < T; t++) {
        imc_op step = mvm_op(&h, 0, (uint32_t)t);
        uint32_t s = hand_op(&h, step, &prev, t ? 1 : 0);
        imc_op cell = {.kind = IMC_OP_VECTOR, .cls = IMC_CLS_LSTM_CELL, .layer = -1, .site = 0,
                       .name = 0, .token = (uint32_t)t, .head = 0, .in_bits = 4u * hd * 8,
                       .out_bits = (uint64_t)hd * 8, .n_work = 4,
                       .work = {{IMC_DIGITAL_SIGMOID, 3u * hd}, {IMC_DIGITAL_TANH, 2u * hd},
                                {IMC_DIGITAL_MUL, 3u * hd}, {IMC_DIGITAL_ADD, (uint32_t)hd}}};
        prev = hand_op(&h, cell, &s, 1);
    }
    uint64_t got = run_hand(a, &h, IMC_KERNEL_NATIVE);
    const imc_instance *sfu = a->chip.tile.sfu, *vu = a->chip.tile.vector;
    uint64_t t = 0;
    for (int i = 0; i < T; i++) {
        t = mvm_end(a, 2 * hd, 4 * hd, t);
        const struct {
            const imc_instance *u;
            unsigned f;
            double n;
        } work[4] = {{sfu, IMC_DIGITAL_SIGMOID, 3.0 * hd}, {sfu, IMC_DIGITAL_TANH, 2.0 * hd},
                     {vu, IMC_DIGITAL_MUL, 3.0 * hd}, {vu, IMC_DIGITAL_ADD, hd}};
        for (int w = 0; w < 4; w++)
            t = edge(t, work[w].u->period_ps) +
                (uint64_t)ceil(work[w].n / imc_instance_get(work[w].u, "lanes")) *
                    imc_model_latency_ps(work[w].u, work[w].f);
    }
    CU_ASSERT_EQUAL(got, t);
    imc_arch_free(a);
}

/* A transfer across k hops of the 4 x 4 mesh: layer 0 on tile 0 feeds layer J on tile J. */
static void test_noc_hops_closed_form(void)
{
    imc_arch *a = load_arch(NULL, 0);
    const imc_instance *noc = a->chip.noc;
    uint64_t hop = imc_model_latency_ps(noc, IMC_NOC_FLIT_HOP), flit = noc->period_ps;
    double flit_bits = imc_instance_get(noc, "flit_width");
    static const int targets[] = {1, 5, 15, 12};
    for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
        int j = targets[k];
        hand h;
        hand_init(&h, j + 1, 64, 8);
        uint32_t first = hand_op(&h, mvm_op(&h, 0, 0), NULL, 0);
        hand_op(&h, mvm_op(&h, j, 0), &first, 1);
        uint64_t got = run_hand(a, &h, IMC_KERNEL_NATIVE);
        int hops = j % 4 + j / 4; /* XY routing from router (0, 0) */
        uint64_t flits = (uint64_t)ceil(8 * 8 / flit_bits); /* min(out 8 x 8 bits, in 64 x 8) */
        uint64_t arrival = mvm_end(a, 64, 8, 0) + (uint64_t)hops * hop + (flits - 1) * flit;
        if (got != mvm_end(a, 64, 8, arrival))
            fprintf(stderr, "\n%d hops: got %llu, want %llu\n", hops, (unsigned long long)got,
                    (unsigned long long)mvm_end(a, 64, 8, arrival));
        CU_ASSERT_EQUAL(got, mvm_end(a, 64, 8, arrival));
    }
    imc_arch_free(a);
}

/* A layer over two tiles (two column tiles, one crossbar per tile): the input goes from the
 * home tile's buffer to the other tile over one hop while the home tile computes; the other
 * tile's sums (one per output it holds, at partial-sum precision: the ADC's 8 bits shifted over
 * 8 input slices of 1 bit and 4 cell slices of 2 bits, plus a sign: 22 bits) come back over one
 * hop before the write-back. */
static void test_two_tile_gather_closed_form(void)
{
    imc_arch *a = load_arch(NULL, 0);
    const imc_pe *pe = &a->chip.tile.pe;
    const imc_instance *noc = a->chip.noc, *buf = a->chip.tile.buffer;
    uint64_t hop = imc_model_latency_ps(noc, IMC_NOC_FLIT_HOP), flit = noc->period_ps;
    double flit_bits = imc_instance_get(noc, "flit_width");
    hand h;
    hand_init(&h, 1, 100, 32); /* 32 weights x 8 cells = 256 columns: two crossbars */
    hand_op(&h, mvm_op(&h, 0, 0), NULL, 0);
    uint64_t got = run_hand(a, &h, IMC_KERNEL_NATIVE);

    uint64_t bp = buf->period_ps;
    uint64_t read = buffer_time(buf, 100 * 8.0);
    uint64_t bcast = read + hop + ((uint64_t)ceil(100 * 8 / flit_bits) - 1) * flit;
    uint64_t fetched = read > bcast ? read : bcast;
    int S = imc_arch_input_slices(a);
    uint64_t R = imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    uint64_t A = 128 * imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    uint64_t stage = R > A ? R : A;
    uint64_t computed = fetched + R + (uint64_t)(S - 1) * stage + A +
                        imc_model_latency_ps(pe->shiftadd, IMC_SHIFTADD_ADD);
    double psum_bits = 8 + 7 * 1 + 3 * 2 + 1;
    CU_ASSERT_EQUAL(imc_arch_weight_slices(a), 4);
    uint64_t gathered = computed + hop + ((uint64_t)ceil(16 * psum_bits / flit_bits) - 1) * flit;
    uint64_t want = edge(gathered, bp) + buffer_time(buf, 32 * 8.0);
    if (got != want)
        fprintf(stderr, "\ngather: got %llu want %llu\n", (unsigned long long)got,
                (unsigned long long)want);
    CU_ASSERT_EQUAL(got, want);
    imc_arch_free(a);
}

/* Two LSTM directions' cell updates share their tile's SFU: both wait on one MVM; the first
 * takes the SFU for its sigmoids, the second's sigmoids follow, then the first's tanh, then the
 * second's; the multiplies and adds on the vector unit trail them. */
static void test_shared_sfu_closed_form(void)
{
    const char *one_tile[] = {"chip.tile.pes=4"};
    imc_arch *a = load_arch(one_tile, 1);
    const imc_instance *sfu = a->chip.tile.sfu, *vu = a->chip.tile.vector;
    int hd = 16;
    hand h;
    hand_init(&h, 1, 2 * hd, 4 * hd);
    h.layers[0].kind = IMC_LAYER_FAR_LSTM;
    uint32_t m = hand_op(&h, mvm_op(&h, 0, 0), NULL, 0);
    for (int d = 0; d < 2; d++) {
        imc_op cell = {.kind = IMC_OP_VECTOR, .cls = IMC_CLS_LSTM_CELL, .layer = -1, .site = 0,
                       .name = 0, .head = 0, .in_bits = 4u * hd * 8, .out_bits = (uint64_t)hd * 8,
                       .n_work = 4,
                       .work = {{IMC_DIGITAL_SIGMOID, 3u * hd}, {IMC_DIGITAL_TANH, 2u * hd},
                                {IMC_DIGITAL_MUL, 3u * hd}, {IMC_DIGITAL_ADD, (uint32_t)hd}}};
        hand_op(&h, cell, &m, 1);
    }
    uint64_t got = run_hand(a, &h, IMC_KERNEL_NATIVE);
    double lanes_s = imc_instance_get(sfu, "lanes"), lanes_v = imc_instance_get(vu, "lanes");
    uint64_t ds = (uint64_t)ceil(3 * hd / lanes_s) * imc_model_latency_ps(sfu, IMC_DIGITAL_SIGMOID);
    uint64_t dt = (uint64_t)ceil(2 * hd / lanes_s) * imc_model_latency_ps(sfu, IMC_DIGITAL_TANH);
    uint64_t dm = (uint64_t)ceil(3 * hd / lanes_v) * imc_model_latency_ps(vu, IMC_DIGITAL_MUL);
    uint64_t da = (uint64_t)ceil(hd / lanes_v) * imc_model_latency_ps(vu, IMC_DIGITAL_ADD);
    CU_ASSERT(dm <= dt); /* so the second's multiplies never wait for the first's */
    uint64_t t0 = edge(mvm_end(a, 2 * hd, 4 * hd, 0), sfu->period_ps);
    uint64_t want = t0 + 2 * ds + 2 * dt + dm + da;
    if (got != want)
        fprintf(stderr, "\nshared sfu: got %llu want %llu\n", (unsigned long long)got,
                (unsigned long long)want);
    CU_ASSERT_EQUAL(got, want);
    imc_arch_free(a);
}

/* A chain of K layers, one per tile, one vector per inference: under --batch N every layer's
 * crossbars take a new vector each S x max(R, A), so inferences leave that far apart: the
 * steady-state interval is exactly that, and the makespan the first latency plus N - 1 of it. */
static void test_pipeline_interval_closed_form(void)
{
    imc_arch *a = load_arch(NULL, 0);
    const imc_pe *pe = &a->chip.tile.pe;
    enum { K = 4, N = 8 };
    hand h;
    hand_init(&h, K, 100, 16);
    uint32_t prev = 0;
    for (int k = 0; k < K; k++)
        prev = hand_op(&h, mvm_op(&h, k, 0), &prev, k ? 1 : 0);
    imc_engine_result r;
    run_hand_full(a, &h, N, &r);
    uint64_t R = imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    uint64_t A = 128 * imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    double period = (double)imc_arch_input_slices(a) * (double)(R > A ? R : A);
    if (r.interval_ps != period)
        fprintf(stderr, "\ninterval %g want %g, makespan %llu latency %llu\n", r.interval_ps, period,
                (unsigned long long)r.makespan_ps, (unsigned long long)r.latency_ps);
    CU_ASSERT_EQUAL(r.interval_ps, period);
    CU_ASSERT_EQUAL(r.makespan_ps, r.latency_ps + (uint64_t)((N - 1) * period));
    /* the bound it names is the busiest crossbar group, N x S x stage in all */
    CU_ASSERT_EQUAL(r.bottleneck_comp, IMC_COMP_XBAR);
    CU_ASSERT_EQUAL(r.bottleneck_busy_ps, period);
    imc_engine_result_free(&r);
    imc_arch_free(a);
}

/* fc1 over 197 tokens behind a buffer that holds K of its outputs: each output waits in the
 * tile's buffer until a slow element-wise op (V, on the vector unit) reads it, so the layer's
 * last token can only leave when V has started on token 197 - 1 - K; with room for all it
 * leaves at the pace of its own crossbars. */
static void test_small_buffer_closed_form(void)
{
    enum { T = 197, K = 6, OUT = 64, WORK = 32000 }; /* V: 2 us, fc1: 0.8 us a token */
    const imc_instance *vu;
    uint64_t end[2];
    for (int small = 0; small < 2; small++) {
        char cap[64];
        snprintf(cap, sizeof cap, "chip.tile.buffer.capacity=%d bit", small ? K * OUT * 8 : 1 << 24);
        /* the layer's 4 crossbars in one tile, whose vector unit runs V */
        const char *sets[] = {cap, "chip.tile.buffer.banks=1", "chip.tile.buffer.width=64 bit",
                              "chip.tile.pes=4"};
        imc_arch *a = load_arch(sets, 4);
        hand h;
        hand_init(&h, 1, 64, OUT);
        snprintf(h.layers[0].name, sizeof h.layers[0].name, "fc1");
        h.g.n_names = 2;
        for (int t = 0; t < T; t++) {
            uint32_t m = hand_op(&h, mvm_op(&h, 0, (uint32_t)t), NULL, 0);
            imc_op v = {.kind = IMC_OP_VECTOR, .cls = IMC_CLS_GELU, .layer = -1, .site = 0,
                        .name = 1, .token = (uint32_t)t, .head = -1, .in_bits = OUT * 8,
                        .out_bits = 0, .n_work = 1, .work = {{IMC_DIGITAL_ADD, WORK}}};
            hand_op(&h, v, &m, 1);
        }
        imc_engine_result r;
        run_hand_full(a, &h, 1, &r);
        end[small] = r.spans[0].end_ps; /* fc1's last op */
        vu = a->chip.tile.vector;
        uint64_t v = (uint64_t)ceil(WORK / imc_instance_get(vu, "lanes")) *
                     imc_model_latency_ps(vu, IMC_DIGITAL_ADD);
        uint64_t first = edge(mvm_end(a, 64, OUT, 0), vu->period_ps); /* V(0) starts */
        if (small) {
            uint64_t want = first + (uint64_t)(T - 1 - K) * v;
            if (end[1] != want)
                fprintf(stderr, "\nsmall buffer: got %llu want %llu\n", (unsigned long long)end[1],
                        (unsigned long long)want);
            CU_ASSERT_EQUAL(end[1], want);
            CU_ASSERT(r.path_held_ps > 0);
        } else {
            CU_ASSERT(end[0] < first + (uint64_t)(T - 1 - K) * v); /* nothing held it back */
        }
        imc_engine_result_free(&r);
        imc_arch_free(a);
    }
    CU_ASSERT(end[1] > end[0]);
}

/* ---- whole networks ----------------------------------------------------------------------- */

typedef struct sim {
    imc_netfile *nf;
    imc_network *net;
    imc_placement *place;
    imc_flow *graph;
    imc_engine_result res;
} sim;

static void simulate(const imc_arch *a, const char *file, imc_kernel_backend k, sim *s)
{
    memset(s, 0, sizeof *s);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&s->nf, file, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_network_load(&s->net, s->nf, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&s->place, a, s->net, &err), 0);
    imc_dataflow_opts d = {.act_bits = a->mapping.input_bits, .query_tile = a->mapping.query_tile};
    CU_ASSERT_EQUAL_FATAL(imc_dataflow_build(&s->graph, s->net, &d, &err), 0);
    imc_engine_opts o = {.kernel = k, .batch = 1};
    int rc = imc_engine_run(a, s->place, s->graph, &o, &s->res, &err);
    if (rc)
        fprintf(stderr, "\nengine: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static void sim_free(sim *s)
{
    imc_engine_result_free(&s->res);
    imc_flow_free(s->graph);
    imc_placement_free(s->place);
    imc_network_free(s->net);
    imc_netfile_close(s->nf);
}

/* (not inlined: gcc 12 then misreads open_memstream's buffer as dangling) */
static __attribute__((noinline)) char *csv_of(const sim *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    imc_ledger_csv(s->res.ledger, "m", f, 1);
    fclose(f);
    return buf;
}

/* Called from the suite's setup, outside any test: no CUnit assertions here. */
static int generate(const char *name, uint64_t far_blocks, double prune)
{
    imc_modelgen_spec spec = tiny_spec(far_blocks, prune, 0);
    char path[4200];
    test_model_path(path, sizeof path, name);
    imc_err err;
    imc_err_clear(&err);
    return imc_modelgen_write(&spec, path, &err);
}

/* The suite's generated model NAME, simulated on A with the native kernel. */
static void simulate_named(const imc_arch *a, const char *name, sim *s)
{
    char path[4200];
    test_model_path(path, sizeof path, name);
    simulate(a, path, IMC_KERNEL_NATIVE, s);
}

/* Attention with operand reuse, on the tiny DeiT (T = 17 tokens, D = 48, N = 3 heads of 16,
 * 2 blocks): per block, every token's skip input is written to the store and read back, each
 * head's Q, K and V written once; each tile of Q queries reads its Q and all of K for Q K^T and
 * all of V for S V, and the softmax reads and writes its scores in the global buffer. So the
 * global buffer moves 8 T D (6 + 2 ceil(T / Q)) + 16 N T^2 bits per block: K and V once per
 * query tile, not once per query. */
static void test_attention_reuse_closed_form(void)
{
    const double T = 17, D = 48, N = 3, depth = 2;
    static const int tile[] = {1, 4, 17};
    double got[3];
    for (int k = 0; k < 3; k++) {
        char q[64];
        snprintf(q, sizeof q, "mapping.query_tile=%d", tile[k]);
        const char *sets[] = {"chip.tile.pes=8", "chip.tile.pe.xbars=8", q};
        imc_arch *a = load_arch(sets, 3);
        sim s;
        simulate_named(a, "deit", &s);
        got[k] = imc_ledger_traffic_bits(s.res.ledger, IMC_MEM_GLOBAL_BUFFER);
        double tiles = ceil(T / tile[k]);
        double want = depth * (8 * T * D * (6 + 2 * tiles) + 16 * N * T * T);
        if (got[k] != want)
            fprintf(stderr, "\nquery tile %d: got %.0f want %.0f\n", tile[k], got[k], want);
        CU_ASSERT_EQUAL(got[k], want);
        /* and the MAC array does the same MACs: 2 N T^2 hd per block */
        double macs = 0;
        for (size_t i = 0; i < imc_ledger_rows(s.res.ledger); i++) {
            imc_ledger_row r = imc_ledger_row_at(s.res.ledger, i);
            if (r.comp == IMC_COMP_DIGITAL && r.action == IMC_DIGITAL_MAC)
                macs += r.count;
        }
        CU_ASSERT_EQUAL(macs, depth * 2 * N * T * T * (D / N));
        sim_free(&s);
        imc_arch_free(a);
    }
    CU_ASSERT(got[0] > got[1] && got[1] > got[2]);
}

static void test_energy_conservation(void)
{
    const char *sets[] = {"chip.tile.pes=8", "chip.tile.pe.xbars=8",
                          "chip.tile.pe.adc.leakage=1 uW", "chip.tile.buffer.leakage=20 uW"};
    imc_arch *a = load_arch(sets, 4);
    const char *models[] = {"deit", "far"};
    for (int m = 0; m < 2; m++) {
        sim s;
        simulate_named(a, models[m], &s);
        double total = imc_ledger_total_pj(s.res.ledger), sum = 0, leak = 0;
        CU_ASSERT(total > 0);
        for (size_t i = 0; i < imc_ledger_rows(s.res.ledger); i++) {
            imc_ledger_row r = imc_ledger_row_at(s.res.ledger, i);
            const imc_instance *inst = imc_comp_instance(a, r.comp);
            double e = r.action == IMC_LEDGER_LEAKAGE
                           ? r.count * imc_model_leakage_mw(inst) * 1e-3
                           : r.count * imc_model_cost(inst, r.action).energy_pj;
            CU_ASSERT_DOUBLE_EQUAL(r.energy_pj, e, fabs(e) * 1e-12);
            sum += e;
            leak += r.action == IMC_LEDGER_LEAKAGE ? e : 0;
        }
        CU_ASSERT_DOUBLE_EQUAL(sum, total, total * 1e-12);
        /* leakage = instances x power x the time the chip is powered for one inference */
        double want = 0;
        for (int c = 0; c < IMC_COMP_COUNT; c++) {
            const imc_instance *inst = imc_comp_instance(a, (imc_comp)c);
            if (inst)
                want += imc_arch_comp_count(a, (imc_comp)c, IMC_LEVEL_CHIP) *
                        imc_model_leakage_mw(inst) * 1e-3 * (double)s.res.latency_ps;
        }
        CU_ASSERT(want > 16.0 * 8 * 8 * 1e-3 * 1e-3 * (double)s.res.latency_ps); /* ADCs at least */
        CU_ASSERT_DOUBLE_EQUAL(leak, want, want * 1e-9);
        /* the CSV's energy column sums to the total */
        char *csv = csv_of(&s), *save = NULL;
        double csv_sum = 0;
        for (char *line = strtok_r(strchr(csv, '\n') + 1, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            csv_sum += strtod(strrchr(line, ',') + 1, NULL);
        CU_ASSERT_DOUBLE_EQUAL(csv_sum, total, total * 1e-12);
        free(csv);
        sim_free(&s);
    }
    imc_arch_free(a);
}

/* The per-layer spans of the first inference: every op counted once, each span inside the
 * inference, the last end is the latency, and busy time is the ops' durations. */
static void test_layer_spans(void)
{
    const char *sets[] = {"chip.tile.pes=8", "chip.tile.pe.xbars=8"};
    imc_arch *a = load_arch(sets, 2);
    const char *models[] = {"deit", "far"};
    for (int m = 0; m < 2; m++) {
        sim s;
        simulate_named(a, models[m], &s);
        CU_ASSERT_EQUAL_FATAL(s.res.n_spans, s.graph->n_names);
        uint64_t ops = 0, last = 0, first = UINT64_MAX;
        for (size_t i = 0; i < s.res.n_spans; i++) {
            const imc_span *sp = &s.res.spans[i];
            ops += sp->ops;
            if (!sp->ops)
                continue;
            CU_ASSERT(sp->start_ps <= sp->end_ps);
            CU_ASSERT(sp->end_ps <= s.res.latency_ps);
            last = sp->end_ps > last ? sp->end_ps : last;
            first = sp->start_ps < first ? sp->start_ps : first;
        }
        CU_ASSERT_EQUAL(ops, s.graph->n_ops);
        CU_ASSERT_EQUAL(last, s.res.latency_ps);
        CU_ASSERT_EQUAL(first, 0);
        /* the names of the graph's MVMs all ran and took time */
        for (size_t i = 0; i < s.graph->n_ops; i++)
            if (s.graph->ops[i].kind == IMC_OP_MVM)
                CU_ASSERT(s.res.spans[s.graph->ops[i].name].busy_ps > 0);
        sim_free(&s);
    }
    imc_arch_free(a);
}

static void test_deterministic_on_both_kernels(void)
{
    imc_arch *a = load_big(NULL);
    const char *models[] = {"deit", "far", "far_pruned"};
    for (int m = 0; m < 3; m++) {
        char path[4200];
        test_model_path(path, sizeof path, models[m]);
        sim x, y;
        simulate(a, path, IMC_KERNEL_NATIVE, &x);
        simulate(a, path, IMC_KERNEL_NATIVE, &y);
        char *cx = csv_of(&x), *cy = csv_of(&y);
        CU_ASSERT_EQUAL(x.res.latency_ps, y.res.latency_ps);
        CU_ASSERT_EQUAL(x.res.events, y.res.events);
        CU_ASSERT_STRING_EQUAL(cx, cy);
        free(cy);
        sim_free(&y);
        if (!imc_kernel_available(IMC_KERNEL_SYSTEMC))
            IMC_UNAVAILABLE("the SystemC backend is not built");
        else {
            simulate(a, path, IMC_KERNEL_SYSTEMC, &y);
            cy = csv_of(&y);
            CU_ASSERT_EQUAL(x.res.latency_ps, y.res.latency_ps);
            CU_ASSERT_EQUAL(x.res.events, y.res.events);
            CU_ASSERT_STRING_EQUAL(cx, cy);
            free(cy);
            sim_free(&y);
        }
        free(cx);
        sim_free(&x);
    }
    imc_arch_free(a);
}

static void test_monotonic(void)
{
    char path[4200];
    test_model_path(path, sizeof path, "far");
    /* more ADC bits never lower the ADC energy, nor the latency (a SAR decides one bit per
     * internal cycle once the file's fixed rate is removed, which a change of bits requires) */
    double prev = 0;
    uint64_t lat_bits = 0;
    for (int bits = 4; bits <= 10; bits++) {
        char set[64];
        snprintf(set, sizeof set, "chip.tile.pe.adc.bits=%d", bits);
        const char *sets[] = {"chip.tile.pes=8", "chip.tile.pe.xbars=8",
                              "!chip.tile.pe.adc.rate", set};
        imc_arch *a = load_arch(sets, 4);
        sim s;
        simulate(a, path, IMC_KERNEL_NATIVE, &s);
        double adc = imc_ledger_comp_pj(s.res.ledger, IMC_COMP_ADC);
        CU_ASSERT(adc >= prev);
        CU_ASSERT(s.res.latency_ps >= lat_bits);
        prev = adc;
        lat_bits = s.res.latency_ps;
        sim_free(&s);
        imc_arch_free(a);
    }
    /* more tiles (same mesh width, so the same placement) never raise the latency */
    uint64_t lat_prev = UINT64_MAX;
    for (int tiles = 13; tiles <= 16; tiles++) {
        char set[64];
        snprintf(set, sizeof set, "chip.tiles=%d", tiles);
        imc_arch *a = load_big(set);
        sim s;
        simulate(a, path, IMC_KERNEL_NATIVE, &s);
        CU_ASSERT(s.res.latency_ps <= lat_prev);
        lat_prev = s.res.latency_ps;
        sim_free(&s);
        imc_arch_free(a);
    }
}

/* The three places activation x activation products can run all work, and differ. */
static void test_matmul_placements(void)
{
    char path[4200];
    test_model_path(path, sizeof path, "deit");
    const char *where[] = {"mapping.matmul=digital", "mapping.matmul=rewrite", "mapping.matmul=host"};
    double dram[3], writes[3], macs[3];
    for (int i = 0; i < 3; i++) {
        const char *sets[] = {"chip.tile.pes=8", "chip.tile.pe.xbars=8", where[i],
                              "chip.host.model=digital/vector", "chip.host.mac_units=32"};
        imc_arch *a = load_arch(sets, 5);
        sim s;
        simulate(a, path, IMC_KERNEL_NATIVE, &s);
        dram[i] = imc_ledger_traffic_bits(s.res.ledger, IMC_MEM_DRAM);
        writes[i] = imc_ledger_traffic_bits(s.res.ledger, IMC_MEM_XBAR_WRITE);
        macs[i] = 0; /* the MAC array's MACs (its unit also leaks and runs softmax) */
        for (size_t k = 0; k < imc_ledger_rows(s.res.ledger); k++) {
            imc_ledger_row r = imc_ledger_row_at(s.res.ledger, k);
            if (r.comp == IMC_COMP_DIGITAL && r.action == IMC_DIGITAL_MAC)
                macs[i] += r.energy_pj;
        }
        sim_free(&s);
        imc_arch_free(a);
    }
    CU_ASSERT(macs[0] > 0 && macs[1] == 0 && macs[2] == 0); /* only digital uses the MAC array */
    CU_ASSERT(writes[1] > 0 && writes[0] == 0 && writes[2] == 0);
    CU_ASSERT(dram[2] > dram[0]); /* the host sees Q, K, V and the results over DRAM */
}

/* A chip too small for the network, with mapping.reprogram: every round's weights are written
 * once per inference (the rows the mapping records), fetched from DRAM, and the run is slower
 * than on a chip that holds everything; batches still complete. */
static void test_reprogramming_rounds(void)
{
    char path[4200];
    test_model_path(path, sizeof path, "far");
    imc_arch *fits = load_big(NULL);
    const char *sets[] = {"mapping.reprogram=true"}; /* 16 crossbars for 91 */
    imc_arch *small = load_arch(sets, 1);
    sim a, b;
    simulate(fits, path, IMC_KERNEL_NATIVE, &a);
    simulate(small, path, IMC_KERNEL_NATIVE, &b);
    CU_ASSERT_EQUAL(a.place->rounds, 1);
    CU_ASSERT(b.place->rounds > 1);
    CU_ASSERT(b.res.latency_ps > a.res.latency_ps);
    double writes = 0;
    for (size_t i = 0; i < imc_ledger_rows(b.res.ledger); i++) {
        imc_ledger_row r = imc_ledger_row_at(b.res.ledger, i);
        if (r.comp == IMC_COMP_XBAR && r.action == IMC_XBAR_WRITE_ROW) {
            CU_ASSERT_EQUAL(r.op_class, IMC_CLS_REPROGRAM);
            writes += r.count;
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(writes, (double)b.place->rows_written, 0);
    double weight_bits = 0;
    for (size_t i = 0; i < b.place->n_layers; i++)
        weight_bits += (double)b.place->layers[i].cells_used * small->mapping.cell_bits;
    CU_ASSERT_DOUBLE_EQUAL(imc_ledger_traffic_bits(b.res.ledger, IMC_MEM_XBAR_WRITE), weight_bits, 0);
    CU_ASSERT(imc_ledger_traffic_bits(b.res.ledger, IMC_MEM_DRAM) > weight_bits);
    sim_free(&a);
    sim_free(&b);
    /* a batch of three on the small chip finishes, one inference after the other */
    imc_err err;
    imc_err_clear(&err);
    sim c;
    memset(&c, 0, sizeof c);
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&c.nf, path, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_network_load(&c.net, c.nf, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&c.place, small, c.net, &err), 0);
    imc_dataflow_opts d = {.act_bits = 8};
    CU_ASSERT_EQUAL_FATAL(imc_dataflow_build(&c.graph, c.net, &d, &err), 0);
    imc_engine_opts o = {.kernel = IMC_KERNEL_NATIVE, .batch = 3};
    CU_ASSERT_EQUAL(imc_engine_run(small, c.place, c.graph, &o, &c.res, &err), 0);
    CU_ASSERT(c.res.makespan_ps >= 3 * c.res.latency_ps - c.res.latency_ps / 2);
    sim_free(&c);
    imc_arch_free(fits);
    imc_arch_free(small);
}

/* A graph from a trace may have no heads, or the largest tokens and dim a trace allows: the
 * rewrite placement of attention operands must neither divide by zero nor overflow. */
static void test_rewrite_extremes(void)
{
    const char *sets[] = {"mapping.matmul=rewrite"};
    imc_arch *a = load_arch(sets, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    static hand h;
    hand_init(&h, 1, 16, 16);
    uint32_t mvm = hand_op(&h, mvm_op(&h, 0, 0), NULL, 0);
    hand_op(&h, (imc_op){.kind = IMC_OP_BARRIER, .cls = IMC_CLS_SYNC, .site = -1, .layer = -1,
                         .head = 0}, &mvm, 1); /* head 0's K and V are complete */
    imc_network net = {.name = "hand", .layers = h.layers, .n_layers = h.g.n_layers};
    imc_placement *p = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&p, a, &net, &err), 0);
    imc_engine_opts o = {.kernel = IMC_KERNEL_NATIVE, .batch = 1};
    imc_engine_result r;
    h.g.num_heads = 0; /* once a SIGFPE */
    CU_ASSERT_EQUAL(imc_engine_run(a, p, &h.g, &o, &r, &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "mapping.matmul is rewrite but the graph has no heads "
                                    "(heads=0) (op sync of l0)");
    /* tokens x head_dim once overflowed int: 2^20 x 2^24 x 2 */
    h.g.num_heads = 1;
    h.g.tokens = 1 << 20;
    h.g.embed_dim = 1 << 24;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_engine_run(a, p, &h.g, &o, &r, &err), 0);
    double want_bits = 2.0 * (1 << 20) * (1 << 24) * p->cells_per_weight *
                       a->mapping.cell_bits;
    CU_ASSERT_DOUBLE_EQUAL(imc_ledger_traffic_bits(r.ledger, IMC_MEM_XBAR_WRITE), want_bits,
                           want_bits * 1e-12);
    imc_engine_result_free(&r);
    imc_placement_free(p);
    imc_arch_free(a);
}

/* A layer too large for int64 products is an error from the mapper, not a negative count. */
static void test_mapper_overflow(void)
{
    imc_arch *a = load_arch(NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    imc_layer l = {.name = "huge", .kind = IMC_LAYER_FC1, .block = 0, .head = -1, .dir = -1,
                   .in = INT_MAX, .out = INT_MAX, .vectors = 1};
    imc_network net = {.name = "hand", .layers = &l, .n_layers = 1};
    imc_placement *p = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_mapper_place(&p, a, &net, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_STRING_EQUAL(err.msg, "layer huge: 2147483647 x 2147483647 weights are too many "
                                    "to place");
    l.out = 1; /* the ceiling of in / rows once overflowed int */
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_mapper_place(&p, a, &net, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not fit: it needs "));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "needs -"));
    imc_arch_free(a);
}

static int setup(void)
{
    if (test_dir_make("engine"))
        return -1;
    if (generate("deit", 0, 0) || generate("far", ~0ULL, 0) ||
        generate("far_pruned", ~0ULL, 0.25)) {
        test_dir_remove(); /* CUnit runs no cleanup after a failed init */
        return -1;
    }
    return 0;
}

/* Whether the mapping holding P carries the huge-page advice ("hg" in /proc/self/smaps's
 * VmFlags); -1 where the file cannot tell (no /proc). */
static int advised_huge(const void *p)
{
    FILE *fp = fopen("/proc/self/smaps", "r");
    if (!fp)
        return -1;
    char line[512];
    int inside = 0, hg = 0;
    while (fgets(line, sizeof line, fp)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = (unsigned long)p >= lo && (unsigned long)p < hi;
        else if (inside && !strncmp(line, "VmFlags:", 8))
            hg = strstr(line, " hg") != NULL;
    }
    fclose(fp);
    return hg;
}

/* The process's address space in kB (VmSize, /proc/self/status), -1 when unknown. */
static long vm_size_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    if (fp)
        fclose(fp);
    return kb;
}

/* The engine's and the dataflow's large arrays (sim/base/hugepages.h): a grown array keeps
 * its contents, and from 1 MB up its memory starts on a 2 MB boundary with the advice, in the
 * fresh allocation, the grown one and the zeroed one; below that, plain malloc, realloc and
 * calloc. */
static void test_hugepages_arrays(void)
{
    /* growth by eight below 64 MB, then by two, saturating */
    CU_ASSERT_EQUAL(imc_hugepages_next(2u << 20), 16u << 20);
    CU_ASSERT_EQUAL(imc_hugepages_next((64u << 20) - 1), 8 * ((64u << 20) - 1));
    CU_ASSERT_EQUAL(imc_hugepages_next(64u << 20), 128u << 20);
    CU_ASSERT_EQUAL(imc_hugepages_next(SIZE_MAX / 2 + 1), SIZE_MAX);
    size_t n = (5u << 20) / sizeof(uint32_t);
    uint32_t *a = imc_hugepages_alloc(n * sizeof *a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL((uintptr_t)a % (2u << 20), 0);
    for (size_t i = 0; i < n; i++)
        a[i] = (uint32_t)(i * 2654435761u);
    uint32_t *b = imc_hugepages_grow(a, n * sizeof *a, 2 * n * sizeof *a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL((uintptr_t)b % (2u << 20), 0);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += b[i] != (uint32_t)(i * 2654435761u);
    CU_ASSERT_EQUAL(bad, 0);
    b[2 * n - 1] = 7; /* the grown part is there */
    int hg = advised_huge(b + n);
    if (hg >= 0) /* the advice: where the kernel has transparent huge pages */
        CU_ASSERT_EQUAL(hg, access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0);
    free(b);
    uint8_t *s = imc_hugepages_alloc(1000); /* small: malloc */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, 5, 1000);
    uint8_t *t = imc_hugepages_grow(s, 1000, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT(t[0] == 5 && t[999] == 5);
    free(t);

    /* zeroed: from 1 MB up a fresh mapping on a 2 MB boundary, advised, zero throughout and
       writable to its last byte; below, calloc's; each freed by its size */
    size_t z = (3u << 20) + 12345;
    long before = vm_size_kb();
    uint8_t *u = imc_hugepages_zalloc(z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    CU_ASSERT_EQUAL((uintptr_t)u % (2u << 20), 0);
    if (before >= 0) /* two huge pages mapped, the extra one cut off both ends */
        CU_ASSERT_EQUAL(vm_size_kb() - before, 4096);
    size_t nonzero = 0;
    for (size_t i = 0; i < z; i++)
        nonzero += u[i] != 0;
    CU_ASSERT_EQUAL(nonzero, 0);
    u[z - 1] = 1;
    hg = advised_huge(u);
    if (hg >= 0)
        CU_ASSERT_EQUAL(hg, access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0);
    long mapped = vm_size_kb(); /* (after advised_huge's stdio, which may grow the heap) */
    imc_hugepages_free(u, z);
    if (mapped >= 0) /* all of it unmapped */
        CU_ASSERT_EQUAL(mapped - vm_size_kb(), 4096);
    uint8_t *v = imc_hugepages_zalloc(1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(v[0] == 0 && v[999] == 0);
    imc_hugepages_free(v, 1000);
    CU_ASSERT_PTR_NULL(imc_hugepages_zalloc(SIZE_MAX - 1)); /* too large: no mapping */
    imc_hugepages_free(NULL, 5u << 20);
}

static CU_TestInfo tests[] = {
    {"rewrite with no heads or huge operands", test_rewrite_extremes},
    {"mapper products are checked", test_mapper_overflow},
    {"one MVM on one crossbar: closed form", test_one_mvm_closed_form},
    {"halving the ADCs doubles the conversions", test_adc_sharing_doubles_conversion},
    {"one LSTM direction of T steps: closed form", test_lstm_direction_closed_form},
    {"NoC transfer across k hops: closed form", test_noc_hops_closed_form},
    {"per-layer spans cover the inference", test_layer_spans},
    {"energy conservation", test_energy_conservation},
    {"an MVM's costs follow its own sizes", test_mvm_costs_follow_sizes},
    {"deterministic, identical on both kernels", test_deterministic_on_both_kernels},
    {"monotonic in ADC bits and tiles", test_monotonic},
    {"activation products: digital, rewrite, host", test_matmul_placements},
    {"reprogramming rounds", test_reprogramming_rounds},
    {"a two-tile layer's broadcast and gather: closed form", test_two_tile_gather_closed_form},
    {"attention with K and V read once per query tile: closed form", test_attention_reuse_closed_form},
    {"two LSTM cells share an SFU: closed form", test_shared_sfu_closed_form},
    {"a K-stage pipeline's interval under a batch: closed form", test_pipeline_interval_closed_form},
    {"fc1 over 197 tokens behind a small buffer: closed form", test_small_buffer_closed_form},
    {"large arrays on huge pages keep their contents", test_hugepages_arrays},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "engine"
#define SUITE_INIT setup
#define SUITE_CLEANUP test_dir_remove
#include "tests/unit/cunit_main.h"
