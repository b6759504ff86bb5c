/* test_graphflow.c -- the op graph of an imported network (sim/flow/graphflow.c) and its timing.
 *
 * Small generic models are written as model files (graph JSON in __metadata__, zero weights)
 * and loaded. Checked: which ops a node becomes and what each waits for — a row-wise op after a
 * row-wise layer waits for its own row only (so tokens pipeline through a linear, a ReLU and a
 * linear); a convolution's MVMs (one per group and output position) wait for the input rows
 * their windows reach and take only the positions new to their window (sliding-window reuse:
 * the NoC carries a convolution's input once, checked against a hand count); a bidirectional LSTM chains its steps forward and backward, each step's MVM
 * waiting for the previous step's cell, and a GRU step issues its W_ih MVM from the input and
 * its W_hh MVM from the previous state; every dependency is an earlier op. And the engine:
 * rows through a layer overlap in time while a recurrence's steps do not, a convolution starts
 * before the one it reads has finished (also through a max pool, which runs position by
 * position), mapping.replicate copies a CNN's early convolutions,
 * and every imported reference of tests/data times alike on the native and SystemC kernels. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/arch/arch.h"
#include "sim/engine/engine.h"
#include "sim/engine/kernel.h"
#include "sim/flow/dataflow.h"
#include "sim/map/mapper.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/require.h"
#include "tests/unit/small_arch.h"
#include "tests/unit/testmodels.h"

static int suite_init(void)
{
    return test_dir_make("graphflow");
}
#define SUITE_INIT suite_init
#define SUITE_CLEANUP test_dir_remove

typedef struct tensor_spec {
    const char *name;
    int ndim;
    int64_t shape[4];
} tensor_spec;

typedef struct gmodel {
    imc_netfile *nf;
    imc_network *net;
    imc_arch *arch;
    imc_placement *place;
    imc_flow *flow;
} gmodel;

/* NF's network placed on the small chip (with SETS) and turned into its op graph. */
static gmodel prepare(imc_netfile *nf, const char *const *sets, size_t n_sets)
{
    gmodel m = {nf, NULL, NULL, NULL, NULL};
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_network_load(&m.net, m.nf, &err);
    if (!rc)
        rc = imc_arch_load_string(&m.arch, small_arch_text, "graphflow.yaml", sets, n_sets, &err);
    if (!rc)
        rc = imc_mapper_place(&m.place, m.arch, m.net, &err);
    imc_dataflow_opts o = {8, 4, 0};
    if (!rc)
        rc = imc_dataflow_build(&m.flow, m.net, &o, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return m;
}

/* A model file of graph JSON and zero tensors, prepared (with SETS). */
static gmodel load(const char *tag, const char *json, const tensor_spec *t, size_t n,
                   const char *const *sets, size_t n_sets)
{
    char path[4200];
    test_model_path(path, sizeof path, tag);
    imc_err err;
    imc_err_clear(&err);
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    static float zeros[4096];
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t k = 1;
        for (int d = 0; d < t[i].ndim; d++)
            k *= t[i].shape[d];
        CU_ASSERT_FATAL(k <= 4096);
        rc = imc_netwriter_add(w, t[i].name, IMC_DT_F32, t[i].ndim, t[i].shape, zeros, &err);
    }
    if (!rc)
        rc = imc_netwriter_meta(w, "imcsim_graph", json, &err);
    if (!rc)
        rc = imc_netwriter_write(w, path, &err);
    imc_netwriter_free(w);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return prepare(open_and_unlink(path), sets, n_sets);
}

static void unload(gmodel *m)
{
    imc_flow_free(m->flow);
    imc_placement_free(m->place);
    imc_arch_free(m->arch);
    imc_network_free(m->net);
    imc_netfile_close(m->nf);
}

/* Run M's flow for one inference; *R must be freed. */
static void run_once(const gmodel *m, imc_engine_result *r)
{
    imc_engine_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.batch = 1;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_engine_run(m->arch, m->place, m->flow, &eo, r, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static uint64_t latency(const gmodel *m)
{
    imc_engine_result r;
    run_once(m, &r);
    uint64_t l = r.latency_ps;
    imc_engine_result_free(&r);
    return l;
}

/* The ops of kind KIND of node NAME (ledger name NAME, or NAME.<part>: a conv group's or an
 * LSTM direction's layer), in order (at most MAX). */
static size_t ops_of(const imc_flow *g, const char *name, int kind, uint32_t *out, size_t max)
{
    size_t k = 0, len = strlen(name);
    for (size_t i = 0; i < g->n_ops; i++) {
        const char *n = g->names[g->ops[i].name];
        if (g->ops[i].kind == kind && !strncmp(n, name, len) && (!n[len] || n[len] == '.') && k < max)
            out[k++] = (uint32_t)i;
    }
    return k;
}

static const uint32_t *deps_of(const imc_flow *g, uint32_t op)
{
    return g->deps + g->ops[op].first_dep;
}

static void check_topological(const imc_flow *g)
{
    int ok = 1;
    for (size_t i = 0; i < g->n_ops; i++)
        for (uint32_t k = 0; k < g->ops[i].n_deps; k++)
            ok &= deps_of(g, (uint32_t)i)[k] < i;
    CU_ASSERT(ok);
}

#define HEAD "{\"imcsim_graph\": 1, \"nodes\": ["

/* The JSON of a square-kernel convolution node NAME reading IN (dilation 1), with a comma. */
#define CONV(name, in, cin, cout, k, stride, pad, groups)                                          \
    "{\"name\": \"" name "\", \"op\": \"conv2d\", \"inputs\": [\"" in "\"], \"in_channels\": " #cin   \
    ", \"out_channels\": " #cout ", \"kernel_h\": " #k ", \"kernel_w\": " #k ", \"stride_h\": " #stride  \
    ", \"stride_w\": " #stride ", \"pad_h\": " #pad ", \"pad_w\": " #pad                              \
    ", \"dilation_h\": 1, \"dilation_w\": 1, \"groups\": " #groups ", \"weight\": \"" name ".weight\"},"

/* The end of a CNN test graph: IN flattened to N values, a linear layer fc to 5 classes, the
 * output. */
#define FLAT_FC_OUT(in, n)                                                                         \
    "{\"name\": \"flat\", \"op\": \"reshape\", \"inputs\": [\"" in "\"], \"shape\": [" #n "]},"         \
    "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"flat\"], \"in_features\": " #n               \
    ", \"out_features\": 5, \"weight\": \"fc.weight\"},"                                             \
    "{\"name\": \"out\", \"op\": \"output\", \"inputs\": [\"fc\"]}]}"

/* input [ROWS][8] -> fc1 (16) -> ReLU -> fc2 (3) -> mean over rows -> output */
static const char *rows_graph(char *buf, size_t size, int rows)
{
    snprintf(buf, size, HEAD
        "{\"name\": \"x\", \"op\": \"input\", \"shape\": [%d, 8]},"
        "{\"name\": \"fc1\", \"op\": \"linear\", \"inputs\": [\"x\"], \"in_features\": 8, \"out_features\": 16, \"weight\": \"fc1.weight\"},"
        "{\"name\": \"act\", \"op\": \"relu\", \"inputs\": [\"fc1\"]},"
        "{\"name\": \"fc2\", \"op\": \"linear\", \"inputs\": [\"act\"], \"in_features\": 16, \"out_features\": 3, \"weight\": \"fc2.weight\", \"bias\": \"fc2.bias\"},"
        "{\"name\": \"avg\", \"op\": \"mean\", \"inputs\": [\"fc2\"], \"dim\": 0},"
        "{\"name\": \"out\", \"op\": \"output\", \"inputs\": [\"avg\"]}]}", rows);
    return buf;
}

static void test_rows_pipeline(void)
{
    char json[2048];
    tensor_spec t[] = {{"fc1.weight", 2, {16, 8}}, {"fc2.weight", 2, {3, 16}}, {"fc2.bias", 1, {3}}};
    gmodel m = load("rows", rows_graph(json, sizeof json, 4), t, 3, NULL, 0);
    const imc_flow *g = m.flow;
    check_topological(g);
    uint32_t fc1[8], act[8], fc2[8], avg[2];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "fc1", IMC_OP_MVM, fc1, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "act", IMC_OP_VECTOR, act, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "fc2", IMC_OP_MVM, fc2, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "avg", IMC_OP_VECTOR, avg, 2), 1);
    for (int r = 0; r < 4; r++) { /* row r waits for row r only */
        CU_ASSERT_EQUAL(g->ops[act[r]].n_deps, 1);
        CU_ASSERT_EQUAL(deps_of(g, act[r])[0], fc1[r]);
        CU_ASSERT_EQUAL(g->ops[act[r]].cls, IMC_CLS_ACTIVATION);
        CU_ASSERT_EQUAL(g->ops[act[r]].work[0].count, 16);
        CU_ASSERT_EQUAL(g->ops[fc2[r]].n_deps, 1);
        CU_ASSERT_EQUAL(deps_of(g, fc2[r])[0], act[r]);
        CU_ASSERT_EQUAL(g->ops[fc2[r]].token, (uint32_t)r);
    }
    /* the mean waits for all four rows (a barrier of them) */
    uint32_t bar = deps_of(g, avg[0])[0];
    CU_ASSERT_EQUAL(g->ops[bar].kind, IMC_OP_BARRIER);
    CU_ASSERT_EQUAL(g->ops[bar].n_deps, 4);
    /* rows overlap: four rows through two layers take less than four times one row */
    uint64_t four = latency(&m);
    unload(&m);
    gmodel one = load("row", rows_graph(json, sizeof json, 1), t, 3, NULL, 0);
    uint64_t single = latency(&one);
    fprintf(stderr, "\n    1 row %.3f us, 4 rows %.3f us", single * 1e-6, four * 1e-6);
    CU_ASSERT(four > single);
    CU_ASSERT(four < 4 * single);
    unload(&one);
}

static void test_conv_waits_for_its_rows(void)
{
    const char *json = HEAD
        "{\"name\": \"img\", \"op\": \"input\", \"shape\": [1, 6, 6]},"
        CONV("c1", "img", 1, 2, 3, 1, 1, 1)
        "{\"name\": \"r1\", \"op\": \"relu\", \"inputs\": [\"c1\"]},"
        CONV("c2", "r1", 2, 4, 3, 2, 1, 2)
        FLAT_FC_OUT("c2", 36);
    tensor_spec t[] = {{"c1.weight", 4, {2, 1, 3, 3}}, {"c2.weight", 4, {4, 1, 3, 3}}, {"fc.weight", 2, {5, 36}}};
    gmodel m = load("conv", json, t, 3, NULL, 0);
    const imc_flow *g = m.flow;
    check_topological(g);
    uint32_t c1[64], r1[64], c2[64], io[2];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "c1", IMC_OP_MVM, c1, 64), 36); /* 6 x 6 positions */
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "r1", IMC_OP_VECTOR, r1, 64), 36);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "c2", IMC_OP_MVM, c2, 64), 18); /* 3 x 3 positions x 2 groups */
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "img", IMC_OP_INPUT, io, 2), 1);
    /* c1 reads the image, one op: it arrives once, in a receive on c1's tile (1 x 6 x 6 values
     * of 8 bits), and every window waits for it through a barrier */
    uint32_t rcv[2];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "c1", IMC_OP_VECTOR, rcv, 2), 1);
    CU_ASSERT_EQUAL(g->ops[rcv[0]].cls, IMC_CLS_TRANSFER);
    CU_ASSERT_EQUAL(g->ops[rcv[0]].n_work, 0);
    CU_ASSERT_EQUAL(g->ops[rcv[0]].in_bits, 288);
    CU_ASSERT_EQUAL(deps_of(g, rcv[0])[0], io[0]);
    for (int p = 0; p < 36; p++) {
        uint32_t arrived = deps_of(g, c1[p])[0];
        CU_ASSERT_EQUAL(g->ops[c1[p]].n_deps, 1);
        CU_ASSERT_EQUAL(g->ops[arrived].kind, IMC_OP_BARRIER);
        CU_ASSERT_EQUAL(deps_of(g, arrived)[0], rcv[0]);
        CU_ASSERT_EQUAL(g->ops[c1[p]].take_bits, 8);
        CU_ASSERT_EQUAL(deps_of(g, r1[p])[0], c1[p]); /* ReLU per position: its row */
        CU_ASSERT_EQUAL(g->ops[r1[p]].work[0].count, 2); /* two channels */
    }
    /* c2's output row oy (stride 2, padding 1, 3 x 3) reaches input row 2 oy + 1: it waits for
     * the barrier after r1's rows 0 .. 2 oy + 1, which joins the barrier before it and the six
     * positions of its own row; nothing of a later row. Window reuse: it also depends on the
     * r1 positions inside its window (rows and columns 2 o - 1 .. 2 o + 1 within 0 .. 5), and
     * takes its group's channel of each (8 bits) */
    for (int k = 0; k < 18; k++) {
        int oy = k / 2 / 3, ox = k / 2 % 3, last = 2 * oy + 1 > 5 ? 5 : 2 * oy + 1;
        uint32_t bar = deps_of(g, c2[k])[0];
        CU_ASSERT_EQUAL(g->ops[c2[k]].take_bits, 8);
        uint32_t d = 1;
        for (int y = 2 * oy - 1; y <= 2 * oy + 1; y++)
            for (int x = 2 * ox - 1; x <= 2 * ox + 1; x++)
                if (y >= 0 && x >= 0 && y < 6 && x < 6) {
                    CU_ASSERT_FATAL(d < g->ops[c2[k]].n_deps);
                    CU_ASSERT_EQUAL(deps_of(g, c2[k])[d++], r1[y * 6 + x]);
                }
        CU_ASSERT_EQUAL(g->ops[c2[k]].n_deps, d);
        CU_ASSERT_EQUAL_FATAL(g->ops[bar].kind, IMC_OP_BARRIER);
        CU_ASSERT_EQUAL_FATAL(g->ops[bar].n_deps, 7);
        for (int x = 0; x < 6; x++)
            CU_ASSERT_EQUAL(deps_of(g, bar)[1 + x], r1[last * 6 + x]);
        uint32_t before = deps_of(g, bar)[0]; /* rows up to last - 1 */
        CU_ASSERT_EQUAL(g->ops[before].kind, IMC_OP_BARRIER);
        CU_ASSERT_EQUAL(g->ops[c2[k]].layer, g->ops[c2[0]].layer + k % 2); /* group by group */
    }
    CU_ASSERT_NOT_EQUAL(deps_of(g, c2[0])[0], deps_of(g, c2[6])[0]); /* released row by row */
    /* pipelined: the second convolution starts before the first has finished */
    imc_engine_result r;
    run_once(&m, &r);
    uint32_t n1 = g->ops[c1[0]].name, n2 = g->ops[c2[0]].name; /* c1; c2.g0 */
    CU_ASSERT_FATAL(n1 < r.n_spans && n2 < r.n_spans);
    fprintf(stderr, "\n    c1 runs %.3f .. %.3f us, c2 group 0 from %.3f us", r.spans[n1].start_ps * 1e-6,
            r.spans[n1].end_ps * 1e-6, r.spans[n2].start_ps * 1e-6);
    CU_ASSERT(r.spans[n2].start_ps < r.spans[n1].end_ps);
    /* NoC traffic, predicted by hand (layer i on tile i): the image to c1 once (1 x 6 x 6 x 8 =
     * 288 bits), r1's 2 x 6 x 6 values to c2 once (each group's channel to its tile: 576 bits),
     * the logits out (5 x 8 = 40 bits); fc reads c2 through a reshape (a barrier: no data).
     * Without window reuse, each r1 position would go to c2 once per window it falls in. */
    double noc = imc_ledger_traffic_bits(r.ledger, IMC_MEM_NOC);
    fprintf(stderr, "\n    NoC %.0f bits (predicted 904)", noc);
    CU_ASSERT_DOUBLE_EQUAL(noc, 288 + 576 + 40, 1e-9);
    imc_engine_result_free(&r);
    unload(&m);
    /* c2 in two copies (each its own tile), which take alternate output positions: each copy's
     * tile receives the r1 positions its own windows reach, once. Copy 0 (outputs (0,0), (0,2),
     * (1,1), (2,0), (2,2)) reaches 30 of the 36, copy 1 ((0,1), (1,0), (1,2), (2,1)) 26, counted
     * by hand from the windows: (30 + 26) x 8 bits x 2 groups = 896 bits for c2 */
    const char *dup[] = {"mapping.duplicate=c2.*=2"};
    gmodel d = load("conv2", json, t, 3, dup, 1);
    run_once(&d, &r);
    noc = imc_ledger_traffic_bits(r.ledger, IMC_MEM_NOC);
    fprintf(stderr, "\n    c2 in 2 copies: NoC %.0f bits (predicted 1224)", noc);
    CU_ASSERT_DOUBLE_EQUAL(noc, 288 + 896 + 40, 1e-9);
    imc_engine_result_free(&r);
    unload(&d);
}

/* A max pool after a convolution: one op per output position on the digital unit by the
 * convolution's tile, MAX over its 2 x 2 x 2 window, waiting for the barrier after the input
 * rows its window reaches (2 oy + 1); the convolution after it reads it position by position
 * (row barriers, window deps), and starts before the first convolution has finished. */
static void test_pool_pipelines(void)
{
    const char *json = HEAD
        "{\"name\": \"img\", \"op\": \"input\", \"shape\": [1, 8, 8]},"
        CONV("c1", "img", 1, 2, 3, 1, 1, 1)
        "{\"name\": \"mp\", \"op\": \"maxpool2d\", \"inputs\": [\"c1\"], \"kernel_h\": 2, \"kernel_w\": 2, \"stride_h\": 2, \"stride_w\": 2, \"pad_h\": 0, \"pad_w\": 0},"
        CONV("c2", "mp", 2, 2, 3, 1, 1, 1)
        FLAT_FC_OUT("c2", 32);
    tensor_spec t[] = {{"c1.weight", 4, {2, 1, 3, 3}}, {"c2.weight", 4, {2, 2, 3, 3}}, {"fc.weight", 2, {5, 32}}};
    gmodel m = load("pool", json, t, 3, NULL, 0);
    const imc_flow *g = m.flow;
    check_topological(g);
    uint32_t c1[64], mp[32], c2[32];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "c1", IMC_OP_MVM, c1, 64), 64);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "mp", IMC_OP_VECTOR, mp, 32), 16); /* 4 x 4 positions */
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "c2", IMC_OP_MVM, c2, 32), 16);
    for (int p = 0; p < 16; p++) {
        int oy = p / 4, last = 2 * oy + 1;
        const imc_op *o = &g->ops[mp[p]];
        CU_ASSERT_EQUAL(o->cls, IMC_CLS_POOL);
        CU_ASSERT_EQUAL(o->site, g->ops[c1[0]].layer);
        CU_ASSERT_EQUAL(o->n_work, 1);
        CU_ASSERT_EQUAL(o->work[0].func, IMC_DIGITAL_MAX);
        CU_ASSERT_EQUAL(o->work[0].count, 8);
        CU_ASSERT_EQUAL(o->in_bits, 64);
        CU_ASSERT_EQUAL(o->out_bits, 16);
        CU_ASSERT_EQUAL_FATAL(o->n_deps, 1);
        uint32_t bar = deps_of(g, mp[p])[0]; /* rows 0 .. last of c1: joins row last's 8 */
        CU_ASSERT_EQUAL_FATAL(g->ops[bar].kind, IMC_OP_BARRIER);
        CU_ASSERT_EQUAL_FATAL(g->ops[bar].n_deps, 9);
        for (int x = 0; x < 8; x++)
            CU_ASSERT_EQUAL(deps_of(g, bar)[1 + x], c1[last * 8 + x]);
        /* c2 at (0, 0) reads pool positions (0..1, 0..1) */
    }
    CU_ASSERT_EQUAL_FATAL(g->ops[c2[0]].n_deps, 5);
    CU_ASSERT_EQUAL(deps_of(g, c2[0])[1], mp[0]);
    CU_ASSERT_EQUAL(deps_of(g, c2[0])[4], mp[5]);
    imc_engine_result r;
    run_once(&m, &r);
    uint32_t n1 = g->ops[c1[0]].name, n2 = g->ops[c2[0]].name;
    fprintf(stderr, "\n    c1 runs %.3f .. %.3f us, c2 (after the pool) from %.3f us",
            r.spans[n1].start_ps * 1e-6, r.spans[n1].end_ps * 1e-6, r.spans[n2].start_ps * 1e-6);
    CU_ASSERT(r.spans[n2].start_ps < r.spans[n1].end_ps);
    imc_engine_result_free(&r);
    unload(&m);
}

/* Attention in a small graph (6 tokens of 4, 2 heads of 2, query_tile 4: tiles of 4 and 2
 * queries), timm's layout: fc0, qkv, reshape and permute into heads, q k^T, the 1/sqrt(d) scale,
 * softmax, times v, heads joined, proj, the residual add of fc0's output, a mean.
 * Predicted by hand: qkv's rows are written to the store once as each is made (6 STOREs of 12
 * values), shared by Q, K and V, with one barrier after them that every product waits for; the
 * scale costs nothing (folded into the query weights); per head a barrier after it; per head
 * and tile one Q K^T, one softmax after it, one S V taking its tile from that softmax directly
 * (not through the store); proj's row t waits for both heads' S V of its tile, each sending
 * its half of the row; fc0's rows, the residual skip, wait in the store
 * (the add's other input needs whole sequences). Global-buffer traffic, in 8-bit values:
 * writes 6 x 12 (qkv) + 6 x 4 (skip) = 96; Q K^T reads per head 4 x 2 + 2 x 6 and 2 x 2 + 2 x 6
 * = 36, 72 for both; the softmax ops on chip.digital read and write their 6 x 6 per head, 144;
 * S V reads 6 x 2 of V per op, 48; the adds read their skips, 24: 384 values, 3072 bits. */
static void test_attention_flow(void)
{
    const char *json = HEAD
        "{\"name\": \"x\", \"op\": \"input\", \"shape\": [6, 8]},"
        "{\"name\": \"fc0\", \"op\": \"linear\", \"inputs\": [\"x\"], \"in_features\": 8, \"out_features\": 4, \"weight\": \"fc0.weight\"},"
        "{\"name\": \"qkv\", \"op\": \"linear\", \"inputs\": [\"fc0\"], \"in_features\": 4, \"out_features\": 12, \"weight\": \"qkv.weight\"},"
        "{\"name\": \"split\", \"op\": \"reshape\", \"inputs\": [\"qkv\"], \"shape\": [6, 3, 2, 2]},"
        "{\"name\": \"heads\", \"op\": \"transpose\", \"inputs\": [\"split\"], \"perm\": [1, 2, 0, 3]},"
        "{\"name\": \"qs\", \"op\": \"slice\", \"inputs\": [\"heads\"], \"dim\": 0, \"start\": 0, \"end\": 1},"
        "{\"name\": \"ks\", \"op\": \"slice\", \"inputs\": [\"heads\"], \"dim\": 0, \"start\": 1, \"end\": 2},"
        "{\"name\": \"vs\", \"op\": \"slice\", \"inputs\": [\"heads\"], \"dim\": 0, \"start\": 2, \"end\": 3},"
        "{\"name\": \"q\", \"op\": \"reshape\", \"inputs\": [\"qs\"], \"shape\": [2, 6, 2]},"
        "{\"name\": \"k\", \"op\": \"reshape\", \"inputs\": [\"ks\"], \"shape\": [2, 6, 2]},"
        "{\"name\": \"v\", \"op\": \"reshape\", \"inputs\": [\"vs\"], \"shape\": [2, 6, 2]},"
        "{\"name\": \"kt\", \"op\": \"transpose\", \"inputs\": [\"k\"], \"perm\": [0, 2, 1]},"
        "{\"name\": \"qk\", \"op\": \"matmul\", \"inputs\": [\"q\", \"kt\"]},"
        "{\"name\": \"scale\", \"op\": \"scale\", \"inputs\": [\"qk\"], \"factor\": 0.7071},"
        "{\"name\": \"sm\", \"op\": \"softmax\", \"inputs\": [\"scale\"], \"dim\": -1},"
        "{\"name\": \"sv\", \"op\": \"matmul\", \"inputs\": [\"sm\", \"v\"]},"
        "{\"name\": \"back\", \"op\": \"transpose\", \"inputs\": [\"sv\"], \"perm\": [1, 0, 2]},"
        "{\"name\": \"join\", \"op\": \"reshape\", \"inputs\": [\"back\"], \"shape\": [6, 4]},"
        "{\"name\": \"proj\", \"op\": \"linear\", \"inputs\": [\"join\"], \"in_features\": 4, \"out_features\": 4, \"weight\": \"proj.weight\"},"
        "{\"name\": \"add\", \"op\": \"add\", \"inputs\": [\"fc0\", \"proj\"]},"
        "{\"name\": \"avg\", \"op\": \"mean\", \"inputs\": [\"add\"], \"dim\": 0},"
        "{\"name\": \"out\", \"op\": \"output\", \"inputs\": [\"avg\"]}]}";
    tensor_spec t[] = {{"fc0.weight", 2, {4, 8}}, {"qkv.weight", 2, {12, 4}}, {"proj.weight", 2, {4, 4}}};
    gmodel m = load("attention", json, t, 3, NULL, 0);
    const imc_flow *g = m.flow;
    check_topological(g);
    uint32_t qkv[8], st[16], qk[8], sm[8], sv[8], proj[8], add[8], skip[8], none[4];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "qkv", IMC_OP_MVM, qkv, 8), 6);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "qk", IMC_OP_STORE, st, 16), 6);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "qk", IMC_OP_MATMUL, qk, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "sm", IMC_OP_VECTOR, sm, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "sv", IMC_OP_MATMUL, sv, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "proj", IMC_OP_MVM, proj, 8), 6);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "add", IMC_OP_VECTOR, add, 8), 6);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "add", IMC_OP_STORE, skip, 8), 6);
    CU_ASSERT_EQUAL(ops_of(g, "sv", IMC_OP_STORE, none, 4), 0);
    CU_ASSERT_EQUAL(ops_of(g, "scale", IMC_OP_VECTOR, none, 4), 0);
    uint32_t head_ready[2] = {deps_of(g, qk[0])[0], deps_of(g, qk[2])[0]};
    CU_ASSERT_EQUAL_FATAL(g->ops[head_ready[0]].kind, IMC_OP_BARRIER);
    uint32_t kv_ready = deps_of(g, head_ready[0])[0];
    CU_ASSERT_EQUAL_FATAL(g->ops[kv_ready].kind, IMC_OP_BARRIER);
    for (int h = 0; h < 2; h++) { /* a barrier per head (where rewrite mode programs K and V) */
        CU_ASSERT_EQUAL(g->ops[head_ready[h]].head, h);
        CU_ASSERT_EQUAL_FATAL(g->ops[head_ready[h]].n_deps, 1);
        CU_ASSERT_EQUAL(deps_of(g, head_ready[h])[0], kv_ready);
    }
    CU_ASSERT_EQUAL_FATAL(g->ops[kv_ready].n_deps, 6);
    for (int r = 0; r < 6; r++) {
        CU_ASSERT_EQUAL(g->ops[st[r]].out_bits, 96);
        CU_ASSERT_EQUAL(deps_of(g, st[r])[0], qkv[r]);
        CU_ASSERT_EQUAL(deps_of(g, kv_ready)[r], st[r]);
    }
    static const uint32_t m_of[4] = {4, 2, 4, 2}; /* [head][tile] */
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(g->ops[qk[k]].n_deps, 1);
        CU_ASSERT_EQUAL(deps_of(g, qk[k])[0], head_ready[k / 2]);
        CU_ASSERT_EQUAL(g->ops[qk[k]].head, k / 2);
        CU_ASSERT_EQUAL(g->ops[qk[k]].m, m_of[k]);
        CU_ASSERT_EQUAL(g->ops[qk[k]].k, 2);
        CU_ASSERT_EQUAL(g->ops[qk[k]].n, 6);
        CU_ASSERT_EQUAL(deps_of(g, sm[k])[0], qk[k]);
        CU_ASSERT_EQUAL(g->ops[sm[k]].work[0].count, m_of[k] * 6);
        CU_ASSERT_EQUAL(g->ops[sm[k]].work[1].count, m_of[k]);
        CU_ASSERT_EQUAL_FATAL(g->ops[sv[k]].n_deps, 2);
        CU_ASSERT_EQUAL(deps_of(g, sv[k])[0], sm[k]);
        CU_ASSERT_EQUAL(deps_of(g, sv[k])[1], head_ready[k / 2]);
    }
    for (int r = 0; r < 6; r++) { /* both heads' S V of the row's tile, each sending its part */
        CU_ASSERT_EQUAL_FATAL(g->ops[proj[r]].n_deps, 2);
        CU_ASSERT_EQUAL(deps_of(g, proj[r])[0], sv[r / 4]);
        CU_ASSERT_EQUAL(deps_of(g, proj[r])[1], sv[2 + r / 4]);
        CU_ASSERT_EQUAL(deps_of(g, add[r])[0], skip[r]);
        CU_ASSERT_EQUAL(deps_of(g, add[r])[1], proj[r]);
    }
    imc_engine_result r;
    run_once(&m, &r);
    double gb = imc_ledger_traffic_bits(r.ledger, IMC_MEM_GLOBAL_BUFFER);
    fprintf(stderr, "\n    global buffer %.0f bits (predicted 3072)", gb);
    CU_ASSERT_DOUBLE_EQUAL(gb, 3072, 1e-9);
    imc_engine_result_free(&r);
    unload(&m);
}

/* A ViT's patch embedding: a strided convolution's output positions, flattened and transposed
 * into tokens, a class token prepended and a position embedding added, stay rows: token p + 1
 * waits for the convolution's position p only (not for the whole feature map), the class token
 * for nothing, and the linear layer after it pipelines behind them. */
static void test_patch_tokens(void)
{
    const char *json = HEAD
        "{\"name\": \"img\", \"op\": \"input\", \"shape\": [1, 4, 4]},"
        CONV("pe", "img", 1, 3, 2, 2, 0, 1)
        "{\"name\": \"flat\", \"op\": \"reshape\", \"inputs\": [\"pe\"], \"shape\": [3, 4]},"
        "{\"name\": \"tok\", \"op\": \"transpose\", \"inputs\": [\"flat\"], \"perm\": [1, 0]},"
        "{\"name\": \"cls\", \"op\": \"param\", \"shape\": [1, 3], \"tensor\": \"cls\"},"
        "{\"name\": \"seq\", \"op\": \"concat\", \"inputs\": [\"cls\", \"tok\"], \"dim\": 0},"
        "{\"name\": \"pos\", \"op\": \"param\", \"shape\": [5, 3], \"tensor\": \"pos\"},"
        "{\"name\": \"x\", \"op\": \"add\", \"inputs\": [\"seq\", \"pos\"]},"
        "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"x\"], \"in_features\": 3, \"out_features\": 2, \"weight\": \"fc.weight\"},"
        "{\"name\": \"avg\", \"op\": \"mean\", \"inputs\": [\"fc\"], \"dim\": 0},"
        "{\"name\": \"out\", \"op\": \"output\", \"inputs\": [\"avg\"]}]}";
    tensor_spec t[] = {{"pe.weight", 4, {3, 1, 2, 2}}, {"cls", 2, {1, 3}}, {"pos", 2, {5, 3}},
                       {"fc.weight", 2, {2, 3}}};
    gmodel m = load("patches", json, t, 4, NULL, 0);
    const imc_flow *g = m.flow;
    check_topological(g);
    uint32_t pe[8], x[8], fc[8];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "pe", IMC_OP_MVM, pe, 8), 4);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "x", IMC_OP_VECTOR, x, 8), 5);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "fc", IMC_OP_MVM, fc, 8), 5);
    CU_ASSERT_EQUAL(g->ops[x[0]].n_deps, 0);
    for (int r = 1; r < 5; r++) {
        CU_ASSERT_EQUAL_FATAL(g->ops[x[r]].n_deps, 1);
        CU_ASSERT_EQUAL(deps_of(g, x[r])[0], pe[r - 1]);
    }
    for (int r = 0; r < 5; r++)
        CU_ASSERT_EQUAL(deps_of(g, fc[r])[0], x[r]);
    unload(&m);
}

static void test_recurrent_chains(void)
{
    const char *json = HEAD
        "{\"name\": \"seq\", \"op\": \"input\", \"shape\": [5, 4]},"
        "{\"name\": \"rnn\", \"op\": \"lstm\", \"inputs\": [\"seq\"], \"input_size\": 4, \"hidden_size\": 3, \"num_layers\": 1, \"bidirectional\": 1, \"reverse\": 0, \"prefix\": \"rnn\"},"
        "{\"name\": \"gru\", \"op\": \"gru\", \"inputs\": [\"rnn\"], \"input_size\": 6, \"hidden_size\": 2, \"num_layers\": 1, \"bidirectional\": 0, \"reverse\": 0, \"prefix\": \"gru\"},"
        "{\"name\": \"last\", \"op\": \"slice\", \"inputs\": [\"gru\"], \"dim\": 0, \"start\": 4, \"end\": 5},"
        "{\"name\": \"vec\", \"op\": \"reshape\", \"inputs\": [\"last\"], \"shape\": [2]},"
        "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"vec\"], \"in_features\": 2, \"out_features\": 3, \"weight\": \"fc.weight\"},"
        "{\"name\": \"out\", \"op\": \"output\", \"inputs\": [\"fc\"]}]}";
    tensor_spec t[] = {{"rnn.weight_ih_l0", 2, {12, 4}}, {"rnn.weight_hh_l0", 2, {12, 3}},
                       {"rnn.bias_ih_l0", 1, {12}}, {"rnn.bias_hh_l0", 1, {12}},
                       {"rnn.weight_ih_l0_reverse", 2, {12, 4}}, {"rnn.weight_hh_l0_reverse", 2, {12, 3}},
                       {"rnn.bias_ih_l0_reverse", 1, {12}}, {"rnn.bias_hh_l0_reverse", 1, {12}},
                       {"gru.weight_ih_l0", 2, {6, 6}}, {"gru.weight_hh_l0", 2, {6, 2}},
                       {"gru.bias_ih_l0", 1, {6}}, {"gru.bias_hh_l0", 1, {6}},
                       {"fc.weight", 2, {3, 2}}};
    gmodel m = load("rnn", json, t, 13, NULL, 0);
    const imc_flow *g = m.flow;
    check_topological(g);
    uint32_t mv[16], cell[16], gmv[16], gcell[16];
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "rnn", IMC_OP_MVM, mv, 16), 10);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "rnn", IMC_OP_VECTOR, cell, 16), 10);
    static const uint32_t tokens[10] = {0, 1, 2, 3, 4, 4, 3, 2, 1, 0};
    for (int s = 0; s < 10; s++) {
        CU_ASSERT_EQUAL(g->ops[mv[s]].token, tokens[s]);
        CU_ASSERT_EQUAL(g->ops[mv[s]].layer, g->ops[mv[0]].layer + s / 5); /* fwd, then reverse */
        CU_ASSERT_EQUAL(m.net->layers[g->ops[mv[s]].layer].in, 4 + 3); /* [x_t | h_(t-1)] */
        CU_ASSERT_EQUAL(g->ops[cell[s]].cls, IMC_CLS_LSTM_CELL);
        CU_ASSERT_EQUAL(deps_of(g, cell[s])[0], mv[s]);
        if (s % 5) { /* a step waits for the step before it in its direction */
            CU_ASSERT_EQUAL(g->ops[mv[s]].n_deps, 2);
            CU_ASSERT_EQUAL(deps_of(g, mv[s])[1], cell[s - 1]);
        } else {
            CU_ASSERT_EQUAL(g->ops[mv[s]].n_deps, 1);
        }
    }
    /* the GRU: per step a W_ih MVM from the LSTM's row t and a W_hh MVM from the last state */
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "gru", IMC_OP_MVM, gmv, 16), 10);
    CU_ASSERT_EQUAL_FATAL(ops_of(g, "gru", IMC_OP_VECTOR, gcell, 16), 5);
    for (int s = 0; s < 5; s++) {
        uint32_t ih = gmv[2 * s], hh = gmv[2 * s + 1];
        CU_ASSERT_EQUAL(g->ops[hh].layer, g->ops[ih].layer + 1);
        CU_ASSERT_EQUAL(g->ops[gcell[s]].cls, IMC_CLS_RNN_CELL);
        /* row s of the LSTM: both directions' cells at step s, joined, and written to the
           store (the GRU's steps lag behind the tile that made it) */
        uint32_t stored = deps_of(g, ih)[0];
        CU_ASSERT_EQUAL_FATAL(g->ops[stored].kind, IMC_OP_STORE);
        uint32_t row = deps_of(g, stored)[0];
        CU_ASSERT_EQUAL(g->ops[row].kind, IMC_OP_BARRIER);
        CU_ASSERT_EQUAL(deps_of(g, row)[0], cell[s]);
        CU_ASSERT_EQUAL(deps_of(g, row)[1], cell[9 - s]);
        if (s) {
            CU_ASSERT_EQUAL(deps_of(g, hh)[0], gcell[s - 1]);
        } else {
            CU_ASSERT_EQUAL(g->ops[hh].n_deps, 0);
        }
    }
    /* the recurrence is serial: five LSTM steps and five GRU steps take longer than ten
     * multiplies of the same size issued at once would */
    uint64_t serial = latency(&m);
    unload(&m);
    const char *flat = HEAD
        "{\"name\": \"seq\", \"op\": \"input\", \"shape\": [10, 7]},"
        "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"seq\"], \"in_features\": 7, \"out_features\": 12, \"weight\": \"fc.weight\"},"
        "{\"name\": \"avg\", \"op\": \"mean\", \"inputs\": [\"fc\"], \"dim\": 0},"
        "{\"name\": \"out\", \"op\": \"output\", \"inputs\": [\"avg\"]}]}";
    tensor_spec ft[] = {{"fc.weight", 2, {12, 7}}};
    gmodel p = load("flat", flat, ft, 1, NULL, 0);
    uint64_t parallel = latency(&p);
    fprintf(stderr, "\n    recurrent %.3f us, the same multiplies independent %.3f us", serial * 1e-6,
            parallel * 1e-6);
    CU_ASSERT(serial > parallel);
    unload(&p);
}

/* tests/data's imported VGG-8: one MVM per output position of every convolution. */
static void test_vgg8_simulates(void)
{
    char path[4200];
    const char *src = getenv("IMCSIM_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/data/ref_vgg8.model.safetensors", src && *src ? src : ".");
    imc_netfile *nf = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_netfile_open(&nf, path, &err))
        print_err(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nf);
    const char *sets[] = {"chip.tiles=64"}; /* its 32 crossbars */
    gmodel m = prepare(nf, sets, 1);
    check_topological(m.flow);
    size_t mvms = 0, want = 0;
    for (size_t i = 0; i < m.flow->n_ops; i++)
        mvms += m.flow->ops[i].kind == IMC_OP_MVM;
    for (size_t i = 0; i < m.net->n_layers; i++)
        want += (size_t)m.net->layers[i].vectors;
    CU_ASSERT_EQUAL(mvms, want);
    CU_ASSERT_EQUAL(want, 2 * 1024 + 2 * 256 + 2 * 64 + 2);
    uint64_t plain = latency(&m);
    unload(&m);
    /* ISAAC's duplication: spare crossbars copy the layers with the most vectors, the first
     * convolutions (1024 positions), not the classifier (one vector); the latency falls */
    imc_err_clear(&err);
    nf = NULL;
    if (imc_netfile_open(&nf, path, &err))
        print_err(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nf);
    const char *rep[] = {"chip.tiles=64", "mapping.replicate=auto"};
    m = prepare(nf, rep, 2);
    const imc_placement *p = m.place;
    fprintf(stderr, "\n    copies: features.0 %d, features.2 %d, classifier.3 %d",
            p->layers[0].copies, p->layers[1].copies, p->layers[p->n_layers - 1].copies);
    CU_ASSERT(p->layers[0].copies > 1);
    CU_ASSERT_EQUAL(p->layers[p->n_layers - 1].copies, 1);
    uint64_t copied = latency(&m);
    fprintf(stderr, "; latency %.1f us without, %.1f us with", plain * 1e-6, copied * 1e-6);
    CU_ASSERT(copied < plain);
    unload(&m);
}

/* Every imported reference of tests/data on both event kernels: the same latency and events. */
static void test_both_kernels(void)
{
    static const char *const refs[] = {"vgg8", "resnet18", "lstm_lm", "bert_layer", "vit_ls", "gru"};
    if (!imc_kernel_available(IMC_KERNEL_SYSTEMC)) {
        IMC_UNAVAILABLE("the SystemC backend is not built");
        return;
    }
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++) {
        char path[4200];
        const char *src = getenv("IMCSIM_SRCDIR");
        snprintf(path, sizeof path, "%s/tests/data/ref_%s.model.safetensors", src && *src ? src : ".",
                 refs[i]);
        imc_netfile *nf = NULL;
        imc_err err;
        imc_err_clear(&err);
        if (imc_netfile_open(&nf, path, &err))
            print_err(&err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(nf);
        const char *sets[] = {"chip.tiles=64"};
        gmodel m = prepare(nf, sets, 1);
        imc_engine_result r[2];
        for (int k = 0; k < 2; k++) {
            imc_engine_opts o;
            memset(&o, 0, sizeof o);
            o.batch = 2;
            o.kernel = k ? IMC_KERNEL_SYSTEMC : IMC_KERNEL_NATIVE;
            imc_err_clear(&err);
            int rc = imc_engine_run(m.arch, m.place, m.flow, &o, &r[k], &err);
            if (rc)
                print_err(&err);
            CU_ASSERT_EQUAL_FATAL(rc, 0);
        }
        CU_ASSERT_EQUAL(r[0].latency_ps, r[1].latency_ps);
        CU_ASSERT_EQUAL(r[0].makespan_ps, r[1].makespan_ps);
        CU_ASSERT_EQUAL(r[0].events, r[1].events);
        imc_engine_result_free(&r[0]);
        imc_engine_result_free(&r[1]);
        unload(&m);
    }
}

static CU_TestInfo tests[] = {
    {"the imported references time alike on the native and SystemC kernels", test_both_kernels},
    {"rows pipeline through row-wise layers; rows overlap in time", test_rows_pipeline},
    {"a convolution waits for the input rows its windows reach", test_conv_waits_for_its_rows},
    {"a max pool pipelines behind the convolution it reads", test_pool_pipelines},
    {"attention: stores per row, tiles per head, the skip parked, proj per tile", test_attention_flow},
    {"a patch embedding's positions become tokens row by row", test_patch_tokens},
    {"LSTM and GRU steps chain; the recurrence is serial in time", test_recurrent_chains},
    {"the imported VGG-8 is timed; replication copies its early convolutions", test_vgg8_simulates},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "graphflow"
#include "tests/unit/cunit_main.h"
