/* test_imc.c -- the IMC emulation is faithful to the hardware model: with ideal devices and a
 * lossless ADC it is the integer-quantized GEMM exactly (and its fast path is bit-identical to
 * the full bit-slice emulation); fewer ADC bits than the bound log2(rows) + DAC bits + cell
 * bits never lower the error; stuck-at faults and programming variation change the result;
 * the same seed gives the same result; and a column converted by hand gives what the emulation
 * gives. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/arch/arch.h"
#include "sim/numerics/forward.h"
#include "sim/numerics/imc.h"
#include "sim/map/mapper.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testdir.h"

/* 16 x 16 crossbars, so a 48-input layer spans three row tiles. */
static const char arch_text[] = "schema: 1\n"
                                "mapping: {weight_bits: 8, input_bits: 8, cell_bits: 2}\n"
                                "chip:\n"
                                "  tiles: 64\n"
                                "  noc: {model: noc/mesh}\n"
                                "  dram: {model: dram/simple}\n"
                                "  tile:\n"
                                "    pes: 8\n"
                                "    buffer: {model: buffer/edram}\n"
                                "    pe:\n"
                                "      xbars: 8\n"
                                "      xbar:\n"
                                "        model: xbar/reram\n"
                                "        rows: 16\n"
                                "        cols: 16\n"
                                "        cell: {model: cell/reram, bits: 2}\n"
                                "      dac: {model: dac/simple, bits: 1}\n"
                                "      sh: {model: sh/simple}\n"
                                "      adc: {model: adc/sar, bits: 12}\n"
                                "      shiftadd: {model: shiftadd/simple}\n";

static char model[4200];
static imc_netfile *nf;
static imc_network *net;
static imc_forward *fwd;

typedef struct setup_t {
    imc_arch *arch;
    imc_placement *place;
    imc_emul *emul;
} setup_t;

static void make(setup_t *s, const char *const *sets, size_t n, unsigned long seed)
{
    imc_err err;
    imc_err_clear(&err);
    memset(s, 0, sizeof *s);
    if (imc_arch_load_string(&s->arch, arch_text, "imc.yaml", sets, n, &err))
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->arch);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&s->place, s->arch, net, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_emul_new(&s->emul, s->arch, s->place, fwd, seed, &err), 0);
}

/* ARCH_TEXT with FIND replaced by REPLACE (caller frees). */
static char *edit_arch(const char *find, const char *replace)
{
    const char *at = strstr(arch_text, find);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    size_t n = strlen(arch_text) + strlen(replace) + 1;
    char *out = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - arch_text), arch_text, replace, at + strlen(find));
    return out;
}

static void make_text(setup_t *s, const char *text, unsigned long seed)
{
    imc_err err;
    imc_err_clear(&err);
    memset(s, 0, sizeof *s);
    if (imc_arch_load_string(&s->arch, text, "imc.yaml", NULL, 0, &err))
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->arch);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&s->place, s->arch, net, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_emul_new(&s->emul, s->arch, s->place, fwd, seed, &err), 0);
}

static void unmake(setup_t *s)
{
    imc_emul_free(s->emul);
    imc_placement_free(s->place);
    imc_arch_free(s->arch);
}

/* A small model from PRESET (48-wide embedding, 3 heads, one block, MLP_HIDDEN hidden units,
 * 16 px images of 8 px patches, 10 classes) written to PATH and opened for the forward pass;
 * nonzero on error (ERR says what). */
static int small_model(const char *preset, int mlp_hidden, const char *path, imc_netfile **nfp,
                       imc_network **netp, imc_forward **fwdp, imc_err *err)
{
    imc_modelgen_spec s;
    if (imc_modelgen_preset(preset, &s, err))
        return -1;
    s.embed_dim = 48, s.num_heads = 3, s.depth = 1, s.mlp_hidden = mlp_hidden, s.img_size = 16;
    s.patch_size = 8, s.num_classes = 10;
    return imc_modelgen_write(&s, path, err) || imc_netfile_open(nfp, path, err) ||
           imc_network_load(netp, *nfp, err) || imc_forward_new(fwdp, *netp, err);
}

/* The layer under test: the first MLP layer (48 inputs, 96 outputs). */
static size_t fc1(void)
{
    for (size_t i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind == IMC_LAYER_FC1)
            return i;
    return 0;
}

#define ROWS 5

static void inputs_n(float *x, size_t in, size_t n)
{
    for (size_t i = 0; i < n * in; i++) /* a fixed, varied input */
        x[i] = (float)sin(0.37 * (double)i) * (1.0f + (float)(i % 7));
}

static void inputs(float *x, size_t in)
{
    inputs_n(x, in, ROWS);
}

static void run_mvm_n(setup_t *s, size_t layer, const float *x, size_t n, float *y)
{
    imc_mvm_ops ops = imc_emul_ops(s->emul);
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(ops.mvm(ops.ctx, layer, x, n, y, &err), 0);
}

static void run_mvm(setup_t *s, size_t layer, const float *x, float *y)
{
    run_mvm_n(s, layer, x, ROWS, y);
}

static double err2(const float *a, const float *b, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return e;
}

/* The integer-quantized GEMM, computed independently: inputs quantized per vector to the
 * architecture's input bits, weights as the mapper quantizes them. */
static void reference(setup_t *s, size_t li, const float *x, size_t n, float *y)
{
    const imc_layer *l = &net->layers[li];
    size_t in = (size_t)l->in, out = (size_t)l->out;
    int32_t *q = malloc(in * out * sizeof *q);
    float sw = imc_mapper_quantize(s->place, &s->place->layers[li], imc_forward_weights(fwd, li, NULL), q);
    for (size_t i = 0; i < n; i++) {
        float m = 0;
        for (size_t k = 0; k < in; k++)
            m = fmaxf(m, fabsf(x[i * in + k]));
        float sx = m / (float)((1 << (s->arch->mapping.input_bits - 1)) - 1);
        for (size_t o = 0; o < out; o++) {
            double acc = 0;
            for (size_t k = 0; k < in; k++)
                acc += (double)lrintf(x[i * in + k] / sx) * q[k * out + o];
            y[i * out + o] = (float)(acc * sx * sw);
        }
    }
    free(q);
}

static void test_exact_integer_gemm(void)
{
    /* 36- and 34-column crossbars: fc1's width (its column tiles x 36 or 34) is then no multiple
     * of column_sums's 64-column panels (34 columns, offset-encoded: 408, not even of table_sums's
     * 16, and cells in use among the last 8), and cells in use fall in the narrower last panel,
     * so they are checked too. 18-row crossbars
     * leave a short last row tile and a group of two rows in each tile's tables; a 2-bit DAC
     * gives reads of several levels (column_sums weights each row). The exact path sums 8-bit
     * products in float sgemms of up to 514 rows (exact_rows), 12-bit ones two rows at a time,
     * and 16-bit ones in one dgemm. Each scheme with 5 input vectors (40 reads of 8-bit inputs:
     * the per-row sums) and 12 (96 reads: at least imc.c's 48, the tables), and where the CPU
     * counts bits (bit_sums: nominal cells, 1-bit DAC) both ways; 40-row, 144-column crossbars
     * give it two words of rows (and a zero one in the 8-row last tile) and a whole block of
     * 128 columns before a narrower one. */
    const char *schemes[][2] = {{"mapping.signed=differential", "chip.tile.pe.xbar.cols=16"},
                                {"mapping.signed=offset", "chip.tile.pe.xbar.cols=16"},
                                {"mapping.signed=differential", "chip.tile.pe.xbar.cols=36"},
                                {"mapping.signed=offset", "chip.tile.pe.xbar.cols=34"},
                                {"chip.tile.pe.xbar.rows=18", "chip.tile.pe.xbar.cols=32"},
                                {"chip.tile.pe.dac.bits=2", "chip.tile.pe.xbar.cols=32"},
                                {"mapping.input_bits=12", "mapping.weight_bits=12"},
                                {"mapping.input_bits=16", "mapping.weight_bits=16"},
                                {"chip.tile.pe.xbar.rows=40", "chip.tile.pe.xbar.cols=144"}};
    enum { MANY = 12 };
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    float *x = malloc(MANY * in * sizeof *x), *fast = malloc(MANY * out * sizeof *fast),
          *full = malloc(MANY * out * sizeof *full), *ref = malloc(MANY * out * sizeof *ref);
    inputs_n(x, in, MANY);
    static const size_t counts[] = {ROWS, MANY};
    int counted = 0;
    for (int k = 0; k < 9; k++)
        for (size_t c = 0; c < 2; c++) {
            size_t n = counts[c];
            setup_t s;
            make(&s, schemes[k], 2, 1);
            size_t width = (size_t)s.place->layers[li].col_tiles * (size_t)s.place->cols;
            CU_ASSERT_EQUAL(width % 64 != 0, k == 2 || k == 3 || k == 8);
            CU_ASSERT_EQUAL(width % 16 != 0, k == 3);
            CU_ASSERT(imc_emul_exact(s.emul)); /* 40 rows x 1 x 3 = 120 levels < 2^12 */
            run_mvm_n(&s, li, x, n, fast);
            imc_emul_force_full(s.emul, 1);
            CU_ASSERT(!imc_emul_exact(s.emul));
            for (int bits = 0; bits < 2; bits++) {
                int on = imc_emul_bitwise(s.emul, bits);
                CU_ASSERT(on <= bits && !(on && k == 5)); /* the 2-bit DAC's reads have levels */
                if (on != bits)
                    continue;
                counted += bits;
                memset(full, 0, n * out * sizeof *full);
                run_mvm_n(&s, li, x, n, full);
                CU_ASSERT_EQUAL(memcmp(fast, full, n * out * sizeof *fast), 0);
            }
            reference(&s, li, x, n, ref);
            for (size_t i = 0; i < n * out; i++)
                CU_ASSERT_DOUBLE_EQUAL(full[i], ref[i], 1e-5 * (fabs(ref[i]) + 1e-3));
            unmake(&s);
        }
    printf("(bits counted in %d of 18 runs) ", counted);
#if defined(__GNUC__) && defined(__x86_64__)
    /* every scheme but the 2-bit DAC's counts where the CPU can (not under valgrind) */
    int can = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
    CU_ASSERT_EQUAL(counted, can ? 16 : 0);
#endif
    free(x), free(fast), free(full), free(ref);
}

/* Crossbars of 256 rows under a layer of 200 inputs: 50 groups of four rows, so table_sums
 * works a row tile in two blocks of tables (32 groups, then 18: past the first word of its
 * packed entries) and adds the second block's sums to the first's. A model of its own (the
 * suite's widest layer has 96 inputs); the full emulation of 12 vectors (96 reads) against the
 * exact path, to the bit. */
static void test_tables_in_blocks(void)
{
    char path[4200];
    test_dir_path(path, sizeof path, "wide.bin");
    imc_err err;
    imc_netfile *wnf = NULL;
    imc_network *wnet = NULL;
    imc_forward *wfwd = NULL;
    CU_ASSERT_EQUAL_FATAL(small_model("deit-ti", 200, path, &wnf, &wnet, &wfwd, &err), 0);
    size_t li = 0;
    while (li < wnet->n_layers && wnet->layers[li].kind != IMC_LAYER_FC2)
        li++;
    CU_ASSERT_FATAL(li < wnet->n_layers && wnet->layers[li].in == 200);
    const char *sets[] = {"chip.tile.pe.xbar.rows=256"};
    imc_arch *arch = NULL;
    imc_placement *place = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_arch_load_string(&arch, arch_text, "imc.yaml", sets, 1, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_mapper_place(&place, arch, wnet, &err), 0);
    enum { N = 12 };
    size_t in = 200, out = (size_t)wnet->layers[li].out;
    float *x = malloc(N * in * sizeof *x), *fast = malloc(N * out * sizeof *fast),
          *full = malloc(N * out * sizeof *full);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x && fast && full ? x : NULL);
    inputs_n(x, in, N);
    for (int force = 0; force < 2; force++) {
        imc_emul *emul = NULL;
        CU_ASSERT_EQUAL_FATAL(imc_emul_new(&emul, arch, place, wfwd, 1, &err), 0);
        CU_ASSERT(imc_emul_exact(emul)); /* 256 rows x 1 x 3 = 768 levels < 2^12 */
        imc_emul_force_full(emul, force);
        imc_emul_bitwise(emul, 0); /* the tables, not bit counts */
        imc_mvm_ops ops = imc_emul_ops(emul);
        CU_ASSERT_EQUAL(ops.mvm(ops.ctx, li, x, N, force ? full : fast, &err), 0);
        imc_emul_free(emul);
    }
    CU_ASSERT_EQUAL(memcmp(fast, full, N * out * sizeof *fast), 0);
    free(x), free(fast), free(full);
    imc_placement_free(place);
    imc_arch_free(arch);
    imc_forward_free(wfwd);
    imc_network_free(wnet);
    imc_netfile_close(wnf);
}

static void test_adc_bits_monotonic(void)
{
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    float *x = malloc(ROWS * in * sizeof *x), *y = malloc(ROWS * out * sizeof *y),
          *exact = malloc(ROWS * out * sizeof *exact);
    inputs(x, in);
    setup_t s;
    make(&s, NULL, 0, 1);
    run_mvm(&s, li, x, exact);
    unmake(&s);
    /* the bound: log2(16 rows) + 1 DAC bit + 2 cell bits = 7 bits (48 levels < 2^6 - 1 = 63 too) */
    double prev = 0;
    for (int bits = 6; bits >= 2; bits--) {
        char set[64];
        snprintf(set, sizeof set, "chip.tile.pe.adc.bits=%d", bits);
        const char *sets[] = {set};
        make(&s, sets, 1, 1);
        run_mvm(&s, li, x, y);
        double e = err2(y, exact, ROWS * out);
        if (bits == 6) { /* 48 levels fit 6 bits: still lossless */
            CU_ASSERT_EQUAL(e, 0);
        } else {
            CU_ASSERT(e > prev);
        }
        prev = e;
        unmake(&s);
    }
    free(x), free(y), free(exact);
}

static void test_faults_and_variation(void)
{
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    float *x = malloc(ROWS * in * sizeof *x), *ideal = malloc(ROWS * out * sizeof *ideal),
          *y = malloc(ROWS * out * sizeof *y), *y2 = malloc(ROWS * out * sizeof *y2);
    inputs(x, in);
    setup_t s;
    make(&s, NULL, 0, 1);
    run_mvm(&s, li, x, ideal);
    unmake(&s);
    static const char *const cases[][2] = {
        {"chip.tile.pe.xbar.cell.stuck_at_0=0", "chip.tile.pe.xbar.cell.stuck_at_1=0"},
        {"chip.tile.pe.xbar.cell.stuck_at_0=5 %", "chip.tile.pe.xbar.cell.stuck_at_1=0"},
        {"chip.tile.pe.xbar.cell.stuck_at_0=0", "chip.tile.pe.xbar.cell.stuck_at_1=5 %"},
        {"chip.tile.pe.xbar.cell.variation=0", "chip.tile.pe.xbar.cell.read_noise=0"},
        {"chip.tile.pe.xbar.cell.variation=10 %", "chip.tile.pe.xbar.cell.read_noise=0"},
        {"chip.tile.pe.xbar.cell.variation=0", "chip.tile.pe.xbar.cell.read_noise=5 %"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ideal_case = c == 0 || c == 3;
        make(&s, cases[c], 2, 7);
        CU_ASSERT_EQUAL(imc_emul_exact(s.emul), ideal_case);
        run_mvm(&s, li, x, y);
        double e = err2(y, ideal, ROWS * out);
        CU_ASSERT(ideal_case ? e == 0 : e > 0);
        unmake(&s);
        /* the same seed reproduces the same devices (and noise) exactly */
        make(&s, cases[c], 2, 7);
        run_mvm(&s, li, x, y2);
        CU_ASSERT_EQUAL(memcmp(y, y2, ROWS * out * sizeof *y), 0);
        unmake(&s);
        /* another seed draws other devices */
        make(&s, cases[c], 2, 8);
        run_mvm(&s, li, x, y2);
        CU_ASSERT(ideal_case ? memcmp(y, y2, ROWS * out * sizeof *y) == 0
                             : memcmp(y, y2, ROWS * out * sizeof *y) != 0);
        unmake(&s);
    }
    free(x), free(ideal), free(y), free(y2);
}

/* Each programmed cell lands where its column reads it: with 0.1 % variation each conductance
 * is within 0.3 % of a level of its nominal one (g_min / dG is 0.02 levels here), so 16 rows
 * sum to within 0.05 level of the nominal integer, which a lossless ADC rounds back: every
 * output equals the integer GEMM's. On crossbars of 16 and of 128 columns (two of
 * column_sums's 64-wide panels, in which a crossbar row is stored), for fc1 (every crossbar
 * row full: 96 outputs x 8 cells) and the head (10 x 8 cells: 48 of 128 columns unused). */
static void test_small_variation_rounds_to_exact(void)
{
    size_t layers[2] = {fc1(), net->n_layers - 1};
    CU_ASSERT_EQUAL_FATAL(net->layers[layers[1]].kind, IMC_LAYER_HEAD);
    static const char *const sets[][2] = {
        {"chip.tile.pe.xbar.cell.variation=0.1 %", "chip.tile.pe.xbar.cols=16"},
        {"chip.tile.pe.xbar.cell.variation=0.1 %", "chip.tile.pe.xbar.cols=128"},
    };
    for (size_t c = 0; c < 2; c++)
        for (size_t l = 0; l < 2; l++) {
            size_t li = layers[l], in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
            float *x = malloc(ROWS * in * sizeof *x), *y = malloc(ROWS * out * sizeof *y),
                  *want = malloc(ROWS * out * sizeof *want);
            inputs(x, in);
            setup_t s;
            make(&s, sets[c], 2, 3);
            CU_ASSERT_FALSE(imc_emul_exact(s.emul));
            run_mvm(&s, li, x, y);
            reference(&s, li, x, ROWS, want);
            double e = err2(y, want, ROWS * out), norm = 0;
            for (size_t k = 0; k < ROWS * out; k++)
                norm += (double)want[k] * want[k];
            CU_ASSERT(norm > 0 && e <= 1e-10 * norm);
            unmake(&s);
            free(x), free(y), free(want);
        }
}

/* The full emulation split over workers gives the very same outputs as one worker, with
 * variation, faults, read noise and a lossy ADC on (every vector's sums in the same order, every
 * crossbar row programmed and every read's noise drawn from its own seed): 1, 2, 3 and 5
 * workers over the 5 input vectors and the layer's crossbars (a minimum split of 1); and the
 * noise does differ between two multiplies of the same inputs (each read draws afresh). */
static void test_threads_same_results(void)
{
    static const char *const sets[] = {
        "chip.tile.pe.xbar.cell.variation=3 %", "chip.tile.pe.xbar.cell.read_noise=2 %",
        "chip.tile.pe.xbar.cell.stuck_at_0=1 %", "chip.tile.pe.adc.bits=4"};
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    float *x = malloc(ROWS * in * sizeof *x), *one = malloc(ROWS * out * sizeof *one),
          *y = malloc(ROWS * out * sizeof *y);
    inputs(x, in);
    setup_t s;
    make(&s, sets, 4, 9);
    run_mvm(&s, li, x, one);
    run_mvm(&s, li, x, y);
    CU_ASSERT(memcmp(one, y, ROWS * out * sizeof *y) != 0);
    unmake(&s);
    static const int workers[] = {2, 3, 5};
    for (size_t k = 0; k < sizeof workers / sizeof workers[0]; k++) {
        make(&s, sets, 4, 9);
        imc_emul_threads(s.emul, workers[k], 1);
        run_mvm(&s, li, x, y);
        CU_ASSERT_EQUAL(memcmp(one, y, ROWS * out * sizeof *y), 0);
        unmake(&s);
    }
    free(x), free(one), free(y);
}

/* The same with enough vectors for the tables (300 x 8 = 2400 reads) and non-integer
 * conductances: 1 worker against 64 and against 200 (more workers than the layer's 144
 * crossbars to program and than imc.c keeps job slots for: with the programming's cap wrong
 * this overran its job array), every worker's share alone too small for the tables, which the
 * multiply as a whole decides for. (Sums added another way would differ in their last bits,
 * but the ADC's codes rarely show it: with the tables decided per chunk instead, these outputs
 * still agreed.) */
static void test_threads_many_vectors(void)
{
    static const char *const sets[] = {"chip.tile.pe.xbar.cell.variation=3 %",
                                       "chip.tile.pe.adc.bits=8"};
    enum { MANY = 300 };
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    float *x = malloc(MANY * in * sizeof *x), *one = malloc(MANY * out * sizeof *one),
          *y = malloc(MANY * out * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x && one && y ? x : NULL);
    inputs_n(x, in, MANY);
    static const int workers[] = {1, 64, 200};
    for (size_t k = 0; k < sizeof workers / sizeof workers[0]; k++) {
        setup_t s;
        make(&s, sets, 2, 5);
        CU_ASSERT_EQUAL(s.place->layers[li].row_tiles * s.place->layers[li].col_tiles, 144);
        imc_emul_threads(s.emul, workers[k], 1);
        run_mvm_n(&s, li, x, MANY, k ? y : one);
        if (k)
            CU_ASSERT_EQUAL(memcmp(one, y, MANY * out * sizeof *y), 0);
        unmake(&s);
    }
    free(x), free(one), free(y);
}

/* One output by hand: every input at +max quantizes to +127, offset to 255 = all eight 1-bit
 * slices set, so each slice reads every column's sum of levels; a 4-bit ADC over the full scale
 * 16 x 1 x 3 = 48 has a step of 48 / 15 = 3.2 levels. */
static void test_hand_computed_column(void)
{
    const char *sets[] = {"chip.tile.pe.adc.bits=4"};
    setup_t s;
    make(&s, sets, 1, 1);
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    const imc_layer_place *lp = &s.place->layers[li];
    float *x = malloc(ROWS * in * sizeof *x), *y = malloc(ROWS * out * sizeof *y);
    for (size_t i = 0; i < ROWS * in; i++)
        x[i] = 2.5f; /* x_q = 127 everywhere, scale 2.5 / 127 */
    run_mvm(&s, li, x, y);
    int32_t *q = malloc(in * out * sizeof *q);
    int16_t *cells = malloc(16 * 16 * sizeof *cells);
    float sw = imc_mapper_quantize(s.place, lp, imc_forward_weights(fwd, li, NULL), q);
    const int o = 3, wpr = s.place->weights_per_row, cpw = s.place->cells_per_weight; /* 2, 8 */
    int xc = o / wpr, j = o % wpr;
    double step = 48.0 / 15.0, acc = 0, colsum = 0;
    for (int xr = 0; xr < lp->row_tiles; xr++) {
        imc_mapper_cells(s.place, lp, xr, xc, q, cells);
        double w = 0;
        for (int c = 0; c < cpw; c++) {
            double level_sum = 0;
            for (int r = 0; r < 16; r++)
                level_sum += cells[r * 16 + j * cpw + c];
            double code = nearbyint(level_sum / step);
            int slice = c % 4; /* differential: 4 positive slices, then 4 negative */
            w += (c < 4 ? 1 : -1) * code * step * ldexp(1, 2 * slice);
        }
        acc += w * 255; /* all eight input slices: sum of 2^k = 255 */
    }
    for (size_t k = 0; k < in; k++)
        colsum += q[k * out + (size_t)o];
    double want = (acc - 128 * colsum) * (2.5 / 127) * sw;
    CU_ASSERT_DOUBLE_EQUAL(y[o], want, 1e-6 * fabs(want) + 1e-9);
    free(x), free(y), free(q), free(cells);
    unmake(&s);
}

/* Every logit of the network through the IMC pass of SETUP. */
static void run_network(setup_t *s, float *logits)
{
    imc_mvm_ops ops = imc_emul_ops(s->emul);
    imc_err err;
    size_t img = (size_t)net->in_chans * net->img_size * net->img_size;
    float *x = malloc(2 * img * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (size_t i = 0; i < 2 * img; i++)
        x[i] = (float)sin(0.11 * (double)i);
    CU_ASSERT_EQUAL(imc_forward_run(fwd, x, 2, logits, &ops, NULL, &err), 0);
    free(x);
}

/* A cell/table holding cell/reram's levels (sigma = variation x level) gives the very same
 * logits as cell/reram, with variation, stuck-at faults and read noise on: the IMC pass reaches
 * the cell only through its hooks. */
static void test_table_cell_same_logits(void)
{
    const char *faults = "variation: 3 %, stuck_at_0: 1 %, stuck_at_1: 1 %, read_noise: 2 %";
    char reram[160], table[4400], csv[4200];
    snprintf(reram, sizeof reram, "cell: {model: cell/reram, bits: 2, %s}", faults);
    char *text = edit_arch("cell: {model: cell/reram, bits: 2}", reram);
    setup_t a, b;
    make_text(&a, text, 3);
    /* the levels as the cell model states them, and their spreads */
    test_dir_path(csv, sizeof csv, "levels.csv");
    FILE *f = fopen(csv, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("conductance,sigma\n", f);
    const imc_instance *cell = a.arch->chip.tile.pe.cell;
    for (int l = 0; l < 4; l++) {
        double g = cell->type->cell->level_g(cell, l);
        fprintf(f, "%.17g,%.17g\n", g, 0.03 * g);
    }
    fclose(f);
    snprintf(table, sizeof table,
             "cell: {model: cell/table, table: '%s', stuck_at_0: 1 %%, stuck_at_1: 1 %%, "
             "read_noise: 2 %%}", csv);
    char *text2 = edit_arch("cell: {model: cell/reram, bits: 2}", table);
    make_text(&b, text2, 3);
    CU_ASSERT(!imc_emul_exact(a.emul) && !imc_emul_exact(b.emul));
    size_t k = (size_t)net->num_classes;
    float *la = malloc(2 * k * sizeof *la), *lb = malloc(2 * k * sizeof *lb);
    run_network(&a, la);
    run_network(&b, lb);
    CU_ASSERT_EQUAL(memcmp(la, lb, 2 * k * sizeof *la), 0);
    unmake(&a), unmake(&b);
    free(la), free(lb), free(text), free(text2);
}

/* The whole IMC pass at two threads gives the logits of one, to the bit, with variation, faults
 * and read noise on: the test model's FAR block then runs each head's two LSTM directions at
 * once through the emulation (two callers in their own slots, each layer's reads seeded by the
 * layer and its own count of multiplies, not by the order the calls come in). */
static void test_concurrent_directions(void)
{
    static const char *const sets[] = {
        "chip.tile.pe.xbar.cell.variation=3 %", "chip.tile.pe.xbar.cell.read_noise=2 %",
        "chip.tile.pe.xbar.cell.stuck_at_0=1 %", "chip.tile.pe.adc.bits=4"};
    CU_ASSERT_FATAL(imc_network_far_blocks(net) > 0);
    size_t k = (size_t)net->num_classes;
    float *one = malloc(2 * k * sizeof *one), *two = malloc(2 * k * sizeof *two);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    CU_ASSERT_PTR_NOT_NULL_FATAL(two);
    setup_t s;
    make(&s, sets, 4, 5);
    CU_ASSERT(imc_emul_ops(s.emul).concurrent);
    run_network(&s, one);
    unmake(&s);
    make(&s, sets, 4, 5);
    imc_forward_threads(fwd, 2);
    run_network(&s, two);
    imc_forward_threads(fwd, 1);
    unmake(&s);
    CU_ASSERT_EQUAL(memcmp(one, two, 2 * k * sizeof *one), 0);
    free(one), free(two);
}

/* An ADC's INL and offset move the result; at zero they are the ideal ADC, to the bit. */
static void test_adc_nonlinearity(void)
{
    size_t li = fc1(), in = (size_t)net->layers[li].in, out = (size_t)net->layers[li].out;
    float *x = malloc(ROWS * in * sizeof *x), *ideal = malloc(ROWS * out * sizeof *ideal),
          *y = malloc(ROWS * out * sizeof *y);
    inputs(x, in);
    const char *four[] = {"chip.tile.pe.adc.bits=4"};
    setup_t s;
    make(&s, four, 1, 1);
    run_mvm(&s, li, x, ideal);
    unmake(&s);
    static const char *const cases[][3] = {
        {"chip.tile.pe.adc.bits=4", "chip.tile.pe.adc.inl=0", "chip.tile.pe.adc.offset=0"},
        {"chip.tile.pe.adc.bits=4", "chip.tile.pe.adc.inl=1.5", "chip.tile.pe.adc.offset=0"},
        {"chip.tile.pe.adc.bits=4", "chip.tile.pe.adc.inl=0", "chip.tile.pe.adc.offset=-0.7"},
    };
    for (int c = 0; c < 3; c++) {
        make(&s, cases[c], 3, 1);
        run_mvm(&s, li, x, y);
        double e = err2(y, ideal, ROWS * out);
        CU_ASSERT(c == 0 ? e == 0 : e > 0);
        unmake(&s);
    }
    free(x), free(ideal), free(y);
}

static int cleanup(void)
{
    imc_forward_free(fwd);
    imc_network_free(net);
    imc_netfile_close(nf);
    return test_dir_remove();
}

static int setup(void)
{
    if (test_dir_make("imc"))
        return -1;
    test_dir_path(model, sizeof model, "m.bin");
    imc_err err;
    int rc = small_model("far-ti", 96, model, &nf, &net, &fwd, &err);
    if (rc)
        cleanup(); /* CUnit runs no cleanup after a failed init */
    return rc ? -1 : 0;
}

static CU_TestInfo tests[] = {
    {"ideal devices, lossless ADC: the integer GEMM exactly", test_exact_integer_gemm},
    {"256-row crossbars: tables in two blocks, the same sums", test_tables_in_blocks},
    {"fewer ADC bits never lower the error", test_adc_bits_monotonic},
    {"stuck-at faults, variation, read noise; seeds", test_faults_and_variation},
    {"0.1 % variation rounds back to the exact GEMM", test_small_variation_rounds_to_exact},
    {"split over workers: the same outputs", test_threads_same_results},
    {"2400 reads over 1, 64, 200 workers: the same outputs", test_threads_many_vectors},
    {"a column converted by hand", test_hand_computed_column},
    {"cell/table with cell/reram's levels: the same logits", test_table_cell_same_logits},
    {"ADC INL and offset; zero is the ideal ADC", test_adc_nonlinearity},
    {"two LSTM directions at once: the logits of one thread", test_concurrent_directions},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "imc"
#define SUITE_INIT setup
#define SUITE_CLEANUP cleanup
#include "tests/unit/cunit_main.h"
