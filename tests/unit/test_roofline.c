/* test_roofline.c -- reference processors (sim/ref/roofline.c) against closed forms.
 *
 * Graphs are written as traces (traces/README.md), so every FLOP and bit below follows from
 * the text of the test. One linear layer over T tokens is one GEMM kernel: 2 I O T FLOPs and
 * the weights once plus every token's input and output through DRAM; its time is the largest
 * of launch, FLOPs / peak and bits / bandwidth, each regime made to win once. One
 * bidirectional LSTM head over two tokens is one input GEMM (W_ih of both directions) and two
 * step kernels, each the forward and the backward direction's recurrent product and cell
 * fused, with nothing from DRAM. Attention's products: one kernel per product with K or V read
 * once per head. The shipped processors load; every mistake in a processor file is reported
 * at its FILE:LINE:COL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/flow/trace.h"
#include "sim/ref/roofline.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testdir.h"

static int suite_init(void)
{
    return test_dir_make("roofline");
}
#define SUITE_INIT suite_init
#define SUITE_CLEANUP test_dir_remove

static const char *write_file(const char *name, const char *text)
{
    static char path[4200];
    test_dir_path(path, sizeof path, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static imc_flow *read_graph(const char *text)
{
    imc_flow *g = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_trace_read(&g, write_file("g.trace", text), &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return g;
}

/* A processor with round numbers: 1 TFLOP/s at 16 bits, 100 Gbit/s, 10 us a kernel. */
static imc_refproc proc(void)
{
    return (imc_refproc){.name = "p", .peak_flops = 1e12, .operand_bits = 16, .dram_bps = 1e11,
                         .launch_s = 10e-6, .step_kernels = 1, .flop_j = 1e-12, .dram_bit_j = 5e-12, .power_w = 100};
}

#define NEAR(a, b) CU_ASSERT_DOUBLE_EQUAL((a), (b), 1e-9 * fabs((double)(b)))

/* ---- one linear layer ----------------------------------------------------------------------- */

/* fc1 of 3 tokens, 64 -> 256. */
static const char linear_trace[] = "imcsim-trace 1\n"
                                   "model lin tokens=3 dim=64 heads=1 act_bits=8\n"
                                   "layer 0 blocks.0.mlp.fc1 mlp_fc1 block=0 in=64 out=256 vectors=3\n"
                                   "name 0 fc1\n"
                                   "op input out=512\n"
                                   "op mvm layer=0 name=0 deps=-1\n"
                                   "op mvm layer=0 name=0 tok=1 deps=-2\n"
                                   "op mvm layer=0 name=0 tok=2 deps=-3\n"
                                   "op output name=0 in=2048 deps=-1,-2,-3\n"
                                   "end ops=5\n";

static void test_linear_layer(void)
{
    imc_flow *g = read_graph(linear_trace);
    imc_refproc p = proc();
    imc_ref_result r;
    imc_err err;
    double flops = 2.0 * 64 * 256 * 3;                 /* 98,304 */
    double bits = (64.0 * 256 + 3 * (64 + 256)) * 16;  /* weights once + 3 inputs and outputs */

    /* Launch-bound: 98 ns of FLOPs and 2.8 us of DRAM against a 10 us launch. */
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    CU_ASSERT_EQUAL(r.kernels, 1);
    CU_ASSERT_EQUAL(r.launch_bound, 1);
    NEAR(r.flops, flops);
    NEAR(r.dram_bits, bits);
    NEAR(r.latency_s, 10e-6);
    NEAR(r.time_s[IMC_CLS_MVM], 10e-6);
    NEAR(r.energy_j, 100 * 10e-6);
    NEAR(r.dynamic_j, flops * 1e-12 + bits * 5e-12);

    /* Memory-bound once the launch is free. */
    p.launch_s = 0;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    CU_ASSERT_EQUAL(r.launch_bound, 0);
    NEAR(r.latency_s, bits / 1e11);

    /* Compute-bound on a slow core with wide DRAM. */
    p.peak_flops = 1e9;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    NEAR(r.latency_s, flops / 1e9);

    /* Operands at 32 bits double the DRAM term only. */
    p = proc();
    p.launch_s = 0;
    p.operand_bits = 32;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    NEAR(r.dram_bits, 2 * bits);
    NEAR(r.latency_s, 2 * bits / 1e11);
    imc_flow_free(g);
}

/* ---- one LSTM head over two steps -------------------------------------------------------- */

/* Head 0 of a FAR block, hidden 8: each direction's layer is [W_ih | W_hh], in 16 = x 8 +
 * h 8, out 32 = four gates of 8. The backward direction reads token 1 first. Each cell runs
 * sigmoid 24, tanh 16, mul 24, add 8. */
#define CELL "work=sigmoid:24,tanh:16,mul:24,add:8"
static const char lstm_trace[] =
    "imcsim-trace 1\n"
    "model far tokens=2 dim=8 heads=1 act_bits=8\n"
    "layer 0 blocks.0.attn.lstm.h0.fwd far_lstm block=0 head=0 dir=fwd in=16 out=32 vectors=2\n"
    "layer 1 blocks.0.attn.lstm.h0.bwd far_lstm block=0 head=0 dir=bwd in=16 out=32 vectors=2\n"
    "name 0 lstm\n"
    "op input out=128\n"
    "op mvm layer=0 name=0 deps=-1\n"
    "op vector lstm_cell site=0 name=0 in=256 out=64 " CELL " deps=-1\n"
    "op mvm layer=0 name=0 tok=1 deps=-1\n"
    "op vector lstm_cell site=0 name=0 tok=1 in=256 out=64 " CELL " deps=-1\n"
    "op mvm layer=1 name=0 tok=1 deps=-5\n"
    "op vector lstm_cell site=1 name=0 tok=1 in=256 out=64 " CELL " deps=-1\n"
    "op mvm layer=1 name=0 deps=-1\n"
    "op vector lstm_cell site=1 name=0 in=256 out=64 " CELL " deps=-1\n"
    "op output name=0 in=64 deps=-1,-5\n"
    "end ops=10\n";

static void test_lstm_steps(void)
{
    imc_flow *g = read_graph(lstm_trace);
    imc_refproc p = proc();
    p.launch_s = 0;
    p.peak_flops = 1e9;
    p.dram_bps = 1e9;
    imc_ref_result r;
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);

    /* The input GEMM: W_ih (8 -> 32) for 2 tokens in 2 directions; both layers' weights once,
     * each token's x in and its 32 gate pre-activations out. */
    double in_flops = 2.0 * 8 * 32 * 4;
    double in_bits = (2 * 16.0 * 32 + 4 * (8 + 32)) * 16;
    /* A step: both directions' W_hh (8 -> 32) and cells; the sigmoid and tanh an exponential,
     * an add and a divide (37 FLOPs), mul and add one. */
    double cell = 24 * 37 + 16 * 37 + 24 + 8;
    double step_flops = 2 * (2.0 * 8 * 32 + cell);
    CU_ASSERT_EQUAL(r.kernels, 3); /* the input GEMM and two steps, not four */
    NEAR(r.flops, in_flops + 2 * step_flops);
    NEAR(r.dram_bits, in_bits);
    NEAR(r.time_s[IMC_CLS_MVM], fmax(in_flops / 1e9, in_bits / 1e9));
    NEAR(r.time_s[IMC_CLS_LSTM_CELL], 2 * step_flops / 1e9);
    NEAR(r.latency_s, fmax(in_flops / 1e9, in_bits / 1e9) + 2 * step_flops / 1e9);

    /* With a launch longer than any step, the steps cost their launches. */
    p.launch_s = 1e-3;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    CU_ASSERT_EQUAL(r.launch_bound, 3);
    NEAR(r.latency_s, 3e-3);
    NEAR(r.kernels_of[IMC_CLS_LSTM_CELL], 2);

    /* A framework that launches 24 kernels a step (PyTorch's CPU LSTM) pays 24 launches. */
    p.step_kernels = 24;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    CU_ASSERT_EQUAL(r.kernels, 1 + 2 * 24);
    CU_ASSERT_EQUAL(r.launch_bound, 1 + 2 * 24);
    NEAR(r.latency_s, 1e-3 + 2 * 24e-3);
    imc_flow_free(g);
}

/* ---- attention's products ------------------------------------------------------------------ */

/* Two heads, two query tiles each: QK^T of 2 queries x 4 keys x head dim 4, then S V. */
static const char attn_trace[] = "imcsim-trace 1\n"
                                 "model att tokens=4 dim=8 heads=2 act_bits=8\n"
                                 "name 0 attn\n"
                                 "op input out=8\n"
                                 "op matmul qk name=0 head=0 in=64 out=64 mkn=2x4x4 deps=-1\n"
                                 "op matmul qk name=0 head=0 in=64 out=64 mkn=2x4x4 deps=-2\n"
                                 "op matmul qk name=0 head=1 in=64 out=64 mkn=2x4x4 deps=-3\n"
                                 "op matmul sv name=0 head=0 in=64 out=64 mkn=2x4x4 deps=-3\n"
                                 "op output name=0 in=64 deps=-1,-2\n"
                                 "end ops=6\n";

static void test_attention_products(void)
{
    imc_flow *g = read_graph(attn_trace);
    imc_refproc p = proc();
    p.launch_s = 0;
    imc_ref_result r;
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_roofline_run(&p, g, &r, &err), 0);
    CU_ASSERT_EQUAL(r.kernels, 2); /* QK^T of both heads, S V */
    double mm = 2.0 * 2 * 4 * 4, tile = (2.0 * 4 + 2 * 4) * 16, operand = 4.0 * 4 * 16;
    NEAR(r.flops_of[IMC_CLS_QK], 3 * mm);
    NEAR(r.flops_of[IMC_CLS_SV], mm);
    /* QK^T: 3 tiles; K of head 0 and of head 1 once each. S V: V of head 0 once. */
    NEAR(r.dram_bits, 4 * tile + 3 * operand);
    imc_flow_free(g);
}

/* ---- processor files ---------------------------------------------------------------------- */

static void test_shipped_processors(void)
{
    static const char *names[] = {"a100", "orin", "xeon-core"};
    char root[4096];
    const char *src = getenv("IMCSIM_SRCDIR");
    for (size_t i = 0; i < 3; i++) {
        snprintf(root, sizeof root, "%s/arch-configs/references/%s.yaml", src ? src : ".", names[i]);
        imc_refproc *p = NULL;
        imc_err err;
        int rc = imc_refproc_load(&p, root, &err);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(p->name, names[i]);
        CU_ASSERT(p->peak_flops > 1e9 && p->dram_bps > 1e9 && p->power_w > 1);
        imc_refproc_free(p);
    }
}

static const char good[] = "reference: 1\nname: t\npeak_flops: 1e12\noperand_bits: 16\n"
                           "dram_bandwidth: 100 GB/s\nkernel_launch: 5 us\nflop_energy: 1 pJ\n"
                           "dram_energy_per_bit: 4 pJ\npower: 50 W\n";

static void expect_error(const char *text, const char *want)
{
    const char *path = write_file("p.yaml", text);
    imc_refproc *p = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_refproc_load(&p, path, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NULL(p);
    char full[4400], got[1200];
    snprintf(full, sizeof full, "%s:%s", path, want);
    imc_err_format(&err, got, sizeof got);
    if (strcmp(got, full))
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", got, full);
    CU_ASSERT_STRING_EQUAL(got, full);
}

static void test_processor_errors(void)
{
    imc_refproc *p = NULL;
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_refproc_load(&p, write_file("p.yaml", good), &err), 0);
    NEAR(p->dram_bps, 800e9);
    NEAR(p->launch_s, 5e-6);
    NEAR(p->flop_j, 1e-12);
    NEAR(p->power_w, 50);
    CU_ASSERT_EQUAL(p->step_kernels, 1); /* fused, unless the file says otherwise */
    imc_refproc_free(p);

    char text[1024];
    snprintf(text, sizeof text, "%s%s", good, "peak_flop: 3\n");
    expect_error(text, "10:1: error: peak_flop: unknown key (did you mean 'peak_flops'?)");
    snprintf(text, sizeof text, "%s", good);
    memcpy(strstr(text, "100 GB/s"), "100 GHz!", 8);
    expect_error(text, "5:17: error: dram_bandwidth: unknown unit 'GHz!' (expected a data rate, e.g. 25.6 GB/s)");
    expect_error("reference: 1\nname: t\n", "1:1: error: missing required key 'peak_flops'");
    snprintf(text, sizeof text, "%s", good);
    memcpy(strstr(text, "operand_bits: 16"), "operand_bits: 99", 16);
    expect_error(text, "4:15: error: operand_bits: out of its range 1 .. 64");
    snprintf(text, sizeof text, "%s", good);
    memcpy(strstr(text, "reference: 1"), "reference: 2", 12);
    expect_error(text, "1:12: error: reference: out of its range 1 .. 1");
    expect_error("reference: 1\nname: [a, b]\n", "2:7: error: name: expected a single value");
}

static CU_TestInfo tests[] = {
    {"one linear layer: launch, memory and compute bound", test_linear_layer},
    {"one LSTM head: the input GEMM and a kernel per step", test_lstm_steps},
    {"attention's products: a kernel each, K and V once per head", test_attention_products},
    {"the shipped processors load", test_shipped_processors},
    {"processor files: every mistake at its line and column", test_processor_errors},
    CU_TEST_INFO_NULL,
};
#define SUITE_NAME "roofline"
#include "tests/unit/cunit_main.h"
