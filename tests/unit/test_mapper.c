/* test_mapper.c -- weight-stationary placement on crossbars.
 *
 * Tiny generated models (D 48, 3 heads, depth 2, 32 px images in 8 px patches; a pruned FAR
 * block where LSTM layers are needed) on small crossbars, so every tiling edge appears: crossbar
 * counts per layer against the closed form ceil(in / rows) x ceil(out / floor(cols / cells per
 * weight)) x copies for differential and offset schemes; whole-PE, contiguous placement; the
 * invariant that every weight is placed exactly once per slice and reconstructs exactly from
 * its cells; pruned FAR heads needing fewer crossbars in proportion; the does-not-fit and
 * reprogramming rules; mapping.duplicate; and the CSV. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/arch/arch.h"
#include "sim/map/mapper.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testmodels.h"

/* ---- models ------------------------------------------------------------------------------- */

static int suite_init(void)
{
    return test_dir_make("mapper");
}
#define SUITE_INIT suite_init
#define SUITE_CLEANUP test_dir_remove

/* The tiny model (testmodels.h) as TAG: blocks in FAR_BLOCKS are FAR (masked form) with PRUNE. */
static model tiny_model(uint64_t far_blocks, double prune, const char *tag)
{
    imc_modelgen_spec s = tiny_spec(far_blocks, prune, 0);
    s.seed = 11;
    return gen_model(&s, tag);
}

/* ---- architectures ------------------------------------------------------------------------ */

/* The smallest complete architecture (as in test_config.c); everything else by --set. */
static const char minimal[] = "schema: 1\n"
                              "chip:\n"
                              "  tiles: 4\n"
                              "  noc: {model: noc/mesh}\n"
                              "  dram: {model: dram/simple}\n"
                              "  tile:\n"
                              "    pes: 2\n"
                              "    buffer: {model: buffer/edram}\n"
                              "    pe:\n"
                              "      xbars: 4\n"
                              "      xbar:\n"
                              "        model: xbar/reram\n"
                              "        cell: {model: cell/reram}\n"
                              "      dac: {model: dac/simple}\n"
                              "      sh: {model: sh/simple}\n"
                              "      adc: {model: adc/sar}\n"
                              "      shiftadd: {model: shiftadd/simple}\n";

typedef struct hw {
    const char *scheme; /* mapping.signed */
    int weight_bits, cell_bits, rows, cols;
    int xbars_per_pe, pes_per_tile, tiles;
    int reprogram;
    const char *duplicate; /* NULL: none */
    int replicate;         /* mapping.replicate: auto */
} hw;

static imc_arch *load_arch(const hw *h)
{
    char buf[12][160];
    const char *sets[12];
    size_t n = 0;
#define SET(...) (snprintf(buf[n], sizeof buf[n], __VA_ARGS__), sets[n] = buf[n], n++)
    SET("mapping.signed=%s", h->scheme);
    SET("mapping.weight_bits=%d", h->weight_bits);
    SET("mapping.cell_bits=%d", h->cell_bits);
    SET("chip.tile.pe.xbar.rows=%d", h->rows);
    SET("chip.tile.pe.xbar.cols=%d", h->cols);
    SET("chip.tile.pe.xbars=%d", h->xbars_per_pe);
    SET("chip.tile.pes=%d", h->pes_per_tile);
    SET("chip.tiles=%d", h->tiles);
    SET("mapping.reprogram=%s", h->reprogram ? "true" : "false");
    if (h->duplicate)
        SET("mapping.duplicate=%s", h->duplicate);
    if (h->replicate)
        SET("mapping.replicate=auto");
#undef SET
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_arch_load_string(&a, minimal, "t.yaml", sets, n, &err))
        print_err(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    return a;
}

static imc_placement *place(const imc_arch *a, const imc_network *net)
{
    imc_placement *p = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_mapper_place(&p, a, net, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

/* The error message placing NET on A gives (the placement must fail). */
static void place_fails(const imc_arch *a, const imc_network *net, const char *message)
{
    imc_placement *p = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_mapper_place(&p, a, net, &err);
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    if (rc != IMC_EINPUT || strcmp(line, message) != 0)
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", line, message);
    CU_ASSERT_EQUAL(rc, IMC_EINPUT);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_STRING_EQUAL(line, message);
    imc_placement_free(p);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static const imc_layer_place *find_place(const imc_placement *p, const char *name)
{
    for (size_t i = 0; i < p->n_layers; i++)
        if (strcmp(p->layers[i].layer->name, name) == 0)
            return &p->layers[i];
    fprintf(stderr, "\n  no layer '%s'\n", name);
    CU_FAIL_FATAL("layer not found");
    return NULL;
}

/* Crossbars of an IN x OUT layer by the closed form. */
static int64_t xbars_closed(int in, int out, int rows, int weights_per_row, int copies)
{
    return ceil_div(in, rows) * ceil_div(out, weights_per_row) * copies;
}

/* ---- crossbar counts and placement --------------------------------------------------------- */

typedef struct scheme_case {
    const char *what;
    hw h;
    int slices, cells_per_weight, weights_per_row; /* expected, worked out by hand */
} scheme_case;

static const scheme_case schemes[] = {
    /* 8-bit differential: 7 magnitude bits in 2-bit cells -> 4 slices, x2 columns. */
    {"differential 8b/2b", {"differential", 8, 2, 16, 16, 5, 3, 4096, 0, NULL, 0}, 4, 8, 2},
    /* 16-bit offset: 16 bits in 2-bit cells -> 8 slices; 20 columns hold 2 weights. */
    {"offset 16b/2b", {"offset", 16, 2, 24, 20, 5, 3, 4096, 0, NULL, 0}, 8, 8, 2},
    /* 8-bit differential in 1-bit cells: 7 slices, 14 columns per weight. */
    {"differential 8b/1b", {"differential", 8, 1, 32, 30, 4, 2, 4096, 0, NULL, 0}, 7, 14, 2},
    /* 8-bit offset in 2-bit cells on a wide crossbar: 4 slices, 32 weights per row. */
    {"offset 8b/2b wide", {"offset", 8, 2, 64, 128, 2, 2, 4096, 0, NULL, 0}, 4, 4, 32},
};

static void check_placement_closed_form(const imc_placement *p, const scheme_case *sc)
{
    const hw *h = &sc->h;
    CU_ASSERT_EQUAL(p->rows, h->rows);
    CU_ASSERT_EQUAL(p->cols, h->cols);
    CU_ASSERT_EQUAL(p->slices, sc->slices);
    CU_ASSERT_EQUAL(p->cells_per_weight, sc->cells_per_weight);
    CU_ASSERT_EQUAL(p->weights_per_row, sc->weights_per_row);
    CU_ASSERT_EQUAL(p->xbars_available, (int64_t)h->tiles * h->pes_per_tile * h->xbars_per_pe);
    CU_ASSERT_EQUAL(p->pes_available, (int64_t)h->tiles * h->pes_per_tile);
    CU_ASSERT_EQUAL_FATAL(p->n_layers, p->net->n_layers);
    int64_t xbars = 0, pes = 0, cells = 0, next_pe = 0;
    int bad = 0;
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        const imc_layer *l = lp->layer;
        int64_t rt = ceil_div(l->in, h->rows), ct = ceil_div(l->out, h->cols / sc->cells_per_weight);
        int64_t x = rt * ct, npe = ceil_div(x, h->xbars_per_pe);
        int ok = l == &p->net->layers[i] && lp->copies == 1 && lp->row_tiles == rt &&
                 lp->col_tiles == ct && lp->xbars == x && lp->pes == npe &&
                 lp->first_pe == next_pe && lp->first_tile == next_pe / h->pes_per_tile &&
                 lp->last_tile == (next_pe + npe - 1) / h->pes_per_tile && lp->round == 0 &&
                 lp->rows_written == 0 &&
                 lp->cells_used == (int64_t)l->in * l->out * sc->cells_per_weight &&
                 fabs(lp->cell_utilization -
                      (double)lp->cells_used / ((double)x * h->rows * h->cols)) < 1e-12;
        /* Contiguous and non-overlapping in PE order. */
        if (i + 1 < p->n_layers)
            ok = ok && p->layers[i + 1].first_pe == lp->first_pe + lp->pes;
        if (!ok) {
            fprintf(stderr, "\n  %s %s: %dx%d got %d x %d tiles, %lld xbars, PEs %lld+%lld, tiles "
                            "%lld-%lld; want %lld x %lld, %lld, PEs %lld+%lld\n", sc->what, l->name,
                    l->in, l->out, lp->row_tiles, lp->col_tiles, (long long)lp->xbars,
                    (long long)lp->first_pe, (long long)lp->pes, (long long)lp->first_tile,
                    (long long)lp->last_tile, (long long)rt, (long long)ct, (long long)x,
                    (long long)next_pe, (long long)npe);
            bad++;
        }
        next_pe += npe;
        xbars += x;
        pes += npe;
        cells += (int64_t)l->in * l->out * sc->cells_per_weight;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(p->xbars_used, xbars);
    CU_ASSERT_EQUAL(p->pes_used, pes);
    CU_ASSERT_EQUAL(p->tiles_used, ceil_div(pes, h->pes_per_tile));
    CU_ASSERT_EQUAL(p->rounds, 1);
    CU_ASSERT_EQUAL(p->rows_written, 0);
    CU_ASSERT_DOUBLE_EQUAL(p->cell_utilization, (double)cells / ((double)xbars * h->rows * h->cols),
                           1e-12);
}

static void test_xbar_counts_closed_form(void)
{
    model m[2] = {tiny_model(0, 0, "counts-deit"), tiny_model(1, 0.25, "counts-mixed")};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        imc_arch *a = load_arch(&schemes[i].h);
        for (int k = 0; k < 2; k++) {
            imc_placement *p = place(a, m[k].net);
            check_placement_closed_form(p, &schemes[i]);
            imc_placement_free(p);
        }
        imc_arch_free(a);
    }
    /* One layer by hand (differential 8b/2b, 16 x 16): the patch embedding is 192 x 48 ->
     * 12 row tiles x 24 column tiles = 288 crossbars in 58 PEs of 5. */
    imc_arch *a = load_arch(&schemes[0].h);
    imc_placement *p = place(a, m[0].net);
    const imc_layer_place *lp = find_place(p, "patch_embed");
    CU_ASSERT_EQUAL(lp->row_tiles, 12);
    CU_ASSERT_EQUAL(lp->col_tiles, 24);
    CU_ASSERT_EQUAL(lp->xbars, 288);
    CU_ASSERT_EQUAL(lp->pes, 58);
    CU_ASSERT_EQUAL(lp->first_pe, 0);
    CU_ASSERT_EQUAL(find_place(p, "blocks.0.attn.qkv")->first_pe, 58);
    imc_placement_free(p);
    imc_arch_free(a);
    free_model(&m[0]);
    free_model(&m[1]);
}

/* ---- every weight placed exactly once per slice ------------------------------------------- */

static void check_cells(const imc_placement *p, const imc_layer_place *lp, const char *what)
{
    const imc_layer *l = lp->layer;
    const imc_arch *a = p->arch;
    size_t n = (size_t)l->in * l->out;
    int cpw = p->cells_per_weight, slices = p->slices, cb = a->mapping.cell_bits;
    int bits = a->mapping.weight_bits, diff = a->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL;
    float *w = malloc(n * sizeof *w);
    int32_t *q = malloc(n * sizeof *q);
    int64_t *pos = calloc(n, sizeof *pos), *neg = calloc(n, sizeof *neg);
    unsigned char *hits = calloc(n * (size_t)cpw, 1);
    int16_t *cells = malloc((size_t)p->rows * p->cols * sizeof *cells);
    CU_ASSERT_FATAL(w && q && pos && neg && hits && cells);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_network_layer_weights(p->net, l, w, NULL, &err), 0);

    /* (c) quantization: |q| <= 2^(bits-1) - 1, |w - q scale| <= scale / 2. */
    float scale = imc_mapper_quantize(p, lp, w, q);
    int32_t qmax = (int32_t)((1u << (bits - 1)) - 1);
    float amax = 0;
    int32_t qabs_max = 0;
    int quant_bad = 0;
    for (size_t i = 0; i < n; i++) {
        amax = fmaxf(amax, fabsf(w[i]));
        int32_t qa = q[i] < 0 ? -q[i] : q[i];
        if (qa > qabs_max)
            qabs_max = qa;
        quant_bad += qa > qmax ||
                     fabs((double)w[i] - (double)q[i] * scale) > scale / 2 * (1 + 1e-5) + amax * FLT_EPSILON;
    }
    CU_ASSERT(scale > 0);
    CU_ASSERT_DOUBLE_EQUAL(scale, amax / qmax, amax / qmax * 1e-6);
    CU_ASSERT_EQUAL(qabs_max, qmax); /* the largest weight uses the full range */
    CU_ASSERT_EQUAL(quant_bad, 0);

    /* Every crossbar's cells: (a) count, (b) reconstruction, each (weight, cell) once. */
    int64_t placed = 0;
    int bad_cell = 0;
    for (int xr = 0; xr < lp->row_tiles; xr++)
        for (int xc = 0; xc < lp->col_tiles; xc++) {
            imc_mapper_cells(p, lp, xr, xc, q, cells);
            for (int r = 0; r < p->rows; r++)
                for (int c = 0; c < p->cols; c++) {
                    int v = cells[(size_t)r * p->cols + c];
                    if (v == -1)
                        continue;
                    placed++;
                    int in = xr * p->rows + r, j = c / cpw, s = c % cpw;
                    int out = xc * p->weights_per_row + j;
                    if (v < 0 || v >= 1 << cb || in >= l->in || out >= l->out ||
                        j >= p->weights_per_row) {
                        bad_cell++;
                        continue;
                    }
                    size_t wi = (size_t)in * l->out + out;
                    hits[wi * cpw + s]++;
                    if (s < slices)
                        pos[wi] += (int64_t)v << (s * cb);
                    else
                        neg[wi] += (int64_t)v << ((s - slices) * cb);
                }
        }
    CU_ASSERT_EQUAL(bad_cell, 0);
    CU_ASSERT_EQUAL(placed, (int64_t)n * cpw);
    int64_t not_once = 0, wrong = 0, both = 0;
    for (size_t i = 0; i < n * (size_t)cpw; i++)
        not_once += hits[i] != 1;
    for (size_t i = 0; i < n; i++) {
        int64_t back = diff ? pos[i] - neg[i] : pos[i] - ((int64_t)1 << (bits - 1));
        wrong += back != q[i];
        both += diff && pos[i] && neg[i]; /* a differential pair uses one side per weight */
    }
    if (not_once || wrong || both)
        fprintf(stderr, "\n  %s %s: %lld cells not placed once, %lld weights wrong, %lld with both "
                        "sides set\n", what, l->name, (long long)not_once, (long long)wrong,
                (long long)both);
    CU_ASSERT_EQUAL(not_once, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(both, 0);
    free(w), free(q), free(pos), free(neg), free(hits), free(cells);
}

static void test_every_weight_placed_once(void)
{
    static const struct {
        const char *what;
        hw h;
    } arches[] = {
        /* 26 columns of 8 cells: 3 weights per row and 2 unused columns. */
        {"differential 8b/2b", {"differential", 8, 2, 16, 26, 4, 2, 4096, 0, NULL, 0}},
        {"offset 16b/2b", {"offset", 16, 2, 16, 26, 4, 2, 4096, 0, NULL, 0}},
        {"differential 8b/1b", {"differential", 8, 1, 12, 30, 4, 2, 4096, 0, NULL, 0}},
        {"offset 8b/2b", {"offset", 8, 2, 16, 19, 4, 2, 4096, 0, NULL, 0}},
    };
    /* Pruned FAR LSTM 28 x 48, head_proj 24 x 16, head 48 x 10: none a multiple of the tile. */
    static const char *const layers[] = {"blocks.0.attn.lstm.h1.bwd", "blocks.0.attn.head_proj.h2",
                                         "head", "blocks.1.attn.qkv", "patch_embed"};
    model m = tiny_model(1, 0.25, "cells");
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        imc_arch *a = load_arch(&arches[i].h);
        imc_placement *p = place(a, m.net);
        for (size_t k = 0; k < sizeof layers / sizeof layers[0]; k++)
            check_cells(p, find_place(p, layers[k]), arches[i].what);
        imc_placement_free(p);
        imc_arch_free(a);
    }
    /* An all-zero matrix quantizes to zeros with scale 1. */
    imc_arch *a = load_arch(&arches[0].h);
    imc_placement *p = place(a, m.net);
    imc_layer l = {.name = "zeros", .in = 3, .out = 2};
    imc_layer_place lp = {.layer = &l, .copies = 1, .row_tiles = 1, .col_tiles = 1, .xbars = 1};
    float w[6] = {0};
    int32_t q[6] = {1, 1, 1, 1, 1, 1};
    CU_ASSERT_EQUAL(imc_mapper_quantize(p, &lp, w, q), 1.0f);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(q[i], 0);
    imc_placement_free(p);
    imc_arch_free(a);
    free_model(&m);
}

/* ---- pruned FAR in proportion --------------------------------------------------------------- */

static int64_t lstm_xbars(const imc_placement *p, int *layers)
{
    int64_t x = 0;
    *layers = 0;
    for (size_t i = 0; i < p->n_layers; i++)
        if (p->layers[i].layer->kind == IMC_LAYER_FAR_LSTM) {
            x += p->layers[i].xbars;
            (*layers)++;
        }
    return x;
}

static void test_pruned_far_fewer_xbars(void)
{
    model full = tiny_model(~0ULL, 0, "far-full"), pruned = tiny_model(~0ULL, 0.25, "far-pruned");
    int hd = 16, k = 12, units = 2 * 2 * 3; /* blocks x directions x heads */
    /* Rows 4 and 4 weights per row (32 columns of 8 cells) tile both LSTM shapes exactly:
     * 32 x 64 and 28 x 48, so crossbars scale exactly as (hd + k) 4k / (2 hd 4 hd). */
    static const hw exact = {"differential", 8, 2, 4, 32, 8, 4, 1024, 0, NULL, 0};
    /* 16 x 16 (2 weights per row): 28 rows round up to 32. */
    static const hw rounded = {"differential", 8, 2, 16, 16, 8, 4, 1024, 0, NULL, 0};
    const hw *hws[] = {&exact, &rounded};
    for (int i = 0; i < 2; i++) {
        imc_arch *a = load_arch(hws[i]);
        imc_placement *pf = place(a, full.net), *pp = place(a, pruned.net);
        int nf, np, wpr = hws[i]->cols / 8;
        int64_t xf = lstm_xbars(pf, &nf), xp = lstm_xbars(pp, &np);
        CU_ASSERT_EQUAL(nf, units);
        CU_ASSERT_EQUAL(np, units);
        CU_ASSERT_EQUAL(xf, units * xbars_closed(2 * hd, 4 * hd, hws[i]->rows, wpr, 1));
        CU_ASSERT_EQUAL(xp, units * xbars_closed(hd + k, 4 * k, hws[i]->rows, wpr, 1));
        CU_ASSERT(xp < xf);
        CU_ASSERT(pp->xbars_used < pf->xbars_used);
        if (i == 0) {
            CU_ASSERT_EQUAL(xf, units * 8 * 16);
            CU_ASSERT_EQUAL(xp, units * 7 * 12);
            CU_ASSERT_EQUAL(xp * (2 * hd) * (4 * hd), xf * (hd + k) * (4 * k));
        } else {
            CU_ASSERT_EQUAL(xp, units * 2 * 24); /* 28 rows: 2 tiles; 48 outputs: 24 */
        }
        imc_placement_free(pf);
        imc_placement_free(pp);
        imc_arch_free(a);
    }
    free_model(&full);
    free_model(&pruned);
}

/* ---- does not fit, reprogramming ------------------------------------------------------------ */

static void test_fit_and_reprogram(void)
{
    model m = tiny_model(0, 0, "fit");
    /* 64 x 64 crossbars, 8 weights per row, 32 per PE: every layer fits one PE, the chip has
     * 2 PEs (64 crossbars), the network needs 10 PEs. */
    hw h = {"differential", 8, 2, 64, 64, 32, 2, 1, 0, NULL, 0};
    int64_t xbars = 0, pes = 0;
    for (size_t i = 0; i < m.net->n_layers; i++) {
        const imc_layer *l = &m.net->layers[i];
        int64_t x = xbars_closed(l->in, l->out, 64, 8, 1);
        xbars += x;
        pes += ceil_div(x, 32);
    }
    CU_ASSERT_EQUAL(xbars, 18 + 2 * (18 + 6 + 12 + 12) + 2);
    CU_ASSERT_EQUAL(pes, 10);
    char want[512];
    snprintf(want, sizeof want,
             "error: tiny does not fit: it needs %lld crossbars in %lld PEs of 32, the chip has 64 "
             "crossbars in 2 PEs (set mapping.reprogram: true to time-multiplex, or add tiles)",
             (long long)xbars, (long long)pes);
    CU_ASSERT_STRING_EQUAL(want, "error: tiny does not fit: it needs 116 crossbars in 10 PEs of "
                                 "32, the chip has 64 crossbars in 2 PEs (set mapping.reprogram: "
                                 "true to time-multiplex, or add tiles)");
    imc_arch *a = load_arch(&h);
    place_fails(a, m.net, want);
    imc_arch_free(a);

    /* Reprogrammed: 10 one-PE layers in rounds of 2 PEs; every layer rewritten once, copies
     * included (fc1 of block 0 doubled: 24 crossbars, still one PE). */
    h.reprogram = 1;
    h.duplicate = "blocks.0.mlp.fc1=2";
    a = load_arch(&h);
    imc_placement *p = place(a, m.net);
    CU_ASSERT(p->rounds > 1);
    CU_ASSERT_EQUAL(p->rounds, 5);
    int64_t rows = 0;
    int bad = 0;
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        int64_t want_rows = (int64_t)lp->layer->in * lp->col_tiles * lp->copies;
        rows += want_rows;
        bad += lp->pes != 1 || lp->round != (int)i / 2 || lp->first_pe != (int64_t)i % 2 ||
               lp->rows_written != want_rows || lp->first_pe + lp->pes > p->pes_available;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(p->rows_written, rows);
    CU_ASSERT_EQUAL(find_place(p, "blocks.1.mlp.fc2")->rows_written, 96 * 6);
    CU_ASSERT_EQUAL(find_place(p, "blocks.0.mlp.fc1")->rows_written, 48 * 12 * 2);
    CU_ASSERT_EQUAL(p->xbars_used, xbars + 12);
    CU_ASSERT_EQUAL(p->pes_used, 2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    imc_placement_print(p, f);
    fclose(f);
    char line[128];
    snprintf(line, sizeof line, "reprogrammed: 5 rounds per inference, %lld crossbar rows written "
                                "per inference\n", (long long)rows);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
    free(text);
    imc_placement_free(p);
    imc_arch_free(a);

    /* A layer bigger than the whole chip cannot be reprogrammed either: patch_embed 192 x 48 on
     * 16 x 16 crossbars is 12 x 24 = 288 crossbars, 72 PEs of 4; the chip has one PE. */
    hw tiny = {"differential", 8, 2, 16, 16, 4, 1, 1, 1, NULL, 0};
    a = load_arch(&tiny);
    place_fails(a, m.net,
                "error: layer patch_embed alone needs 288 crossbars (72 PEs) but the chip has 4 "
                "(1 PEs), even when reprogrammed");
    imc_arch_free(a);

    /* A layer without weights would sit on no PE, after the last one (the fuzzer's trace of a
     * full chip and an 8 x 0 layer ran past the engine's tiles); refused by name. */
    h.reprogram = 0;
    h.duplicate = NULL;
    a = load_arch(&h);
    m.net->layers[3].out = 0;
    char zero[160];
    snprintf(zero, sizeof zero, "error: layer %s: %d x 0 weights, nothing to place",
             m.net->layers[3].name, m.net->layers[3].in);
    place_fails(a, m.net, zero);
    imc_arch_free(a);
    free_model(&m);
}

/* ---- mapping.duplicate -------------------------------------------------------------------- */

static void test_duplicate(void)
{
    static const struct {
        const char *duplicate;
        const char *layers[4]; /* layers with COPIES copies; every other layer has 1 */
        int copies[4];
    } cases[] = {
        {"blocks.*.mlp.fc1=2", {"blocks.0.mlp.fc1", "blocks.1.mlp.fc1"}, {2, 2}},
        {"head=3, blocks.1.attn.q?v=2", {"head", "blocks.1.attn.qkv"}, {3, 2}},
        {"patch_embed=4", {"patch_embed"}, {4}},
    };
    model m = tiny_model(0, 0, "dup");
    hw h = {"differential", 8, 2, 16, 16, 4, 4, 1024, 0, NULL, 0};
    imc_arch *a = load_arch(&h);
    imc_placement *base = place(a, m.net);
    imc_arch_free(a);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        h.duplicate = cases[c].duplicate;
        a = load_arch(&h);
        imc_placement *p = place(a, m.net);
        int64_t total = 0;
        int bad = 0;
        for (size_t i = 0; i < p->n_layers; i++) {
            const imc_layer_place *lp = &p->layers[i];
            int copies = 1;
            for (int k = 0; k < 4 && cases[c].layers[k]; k++)
                if (strcmp(cases[c].layers[k], lp->layer->name) == 0)
                    copies = cases[c].copies[k];
            int ok = lp->copies == copies && lp->xbars == base->layers[i].xbars * copies &&
                     lp->xbars == xbars_closed(lp->layer->in, lp->layer->out, 16, 2, copies) &&
                     lp->pes == ceil_div(lp->xbars, 4) &&
                     lp->cells_used == base->layers[i].cells_used * copies &&
                     (i == 0 || lp->first_pe == p->layers[i - 1].first_pe + p->layers[i - 1].pes);
            if (!ok)
                fprintf(stderr, "\n  %s: %s has %d copies, %lld xbars\n", cases[c].duplicate,
                        lp->layer->name, lp->copies, (long long)lp->xbars);
            bad += !ok;
            total += lp->xbars;
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(p->xbars_used, total);
        CU_ASSERT(p->xbars_used > base->xbars_used);
        imc_placement_free(p);
        imc_arch_free(a);
    }
    imc_placement_free(base);

    /* A pattern that matches nothing names the model. */
    h.duplicate = "blocks.*.mlp.fc1=2,nope=2";
    a = load_arch(&h);
    place_fails(a, m.net, "error: mapping.duplicate: 'nope' matches no layer of tiny");
    imc_arch_free(a);
    free_model(&m);

    /* A syntax error is the architecture loader's, with its location. */
    static const struct {
        const char *yaml_tail, *set, *message;
    } syntax[] = {
        {"mapping:\n  duplicate: 'blocks.*.mlp.fc1=0'\n", NULL,
         "t.yaml:19:14: error: mapping.duplicate: 'blocks.*.mlp.fc1=0' is not LAYER=COPIES with "
         "COPIES in 1..4096"},
        {"mapping:\n  duplicate: head\n", NULL,
         "t.yaml:19:14: error: mapping.duplicate: 'head' is not LAYER=COPIES with COPIES in "
         "1..4096"},
        {"", "mapping.duplicate=head=2x",
         "--set:1:19: error: mapping.duplicate: 'head=2x' is not LAYER=COPIES with COPIES in "
         "1..4096"},
    };
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", minimal, syntax[i].yaml_tail);
        imc_err err;
        imc_err_clear(&err);
        imc_arch *bad = NULL;
        int rc = imc_arch_load_string(&bad, text, "t.yaml", &syntax[i].set, syntax[i].set ? 1 : 0,
                                      &err);
        char line[1024];
        imc_err_format(&err, line, sizeof line);
        if (strcmp(line, syntax[i].message))
            fprintf(stderr, "\n  got:  %s\n  want: %s\n", line, syntax[i].message);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_PTR_NULL(bad);
        CU_ASSERT_STRING_EQUAL(line, syntax[i].message);
        imc_arch_free(bad);
    }
}

/* ---- CSV ---------------------------------------------------------------------------------- */

/* Split LINE at commas in place into at most MAX fields; returns the count. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    for (char *s = line; n < max;) {
        fields[n++] = s;
        char *comma = strchr(s, ',');
        if (!comma)
            break;
        *comma = '\0';
        s = comma + 1;
    }
    return n;
}

static void test_csv(void)
{
    model m = tiny_model(1, 0.25, "csv");
    hw h = {"differential", 8, 2, 16, 16, 4, 2, 4096, 0, "blocks.1.mlp.fc2=2", 0};
    imc_arch *a = load_arch(&h);
    imc_placement *p = place(a, m.net);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    imc_placement_csv(p, f);
    fclose(f);
    static const char header[] =
        "model,layer,kind,in,out,copies,row_tiles,col_tiles,xbars,first_pe,pes,first_tile,"
        "last_tile,cell_utilization,round,rows_written_per_inference";
    size_t rows = 0;
    int64_t xbar_sum = 0, total = -1;
    int bad = 0, saw_total = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_STRING_EQUAL(line, header);
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *fld[20];
        int n = split_csv(line, fld, 20);
        bad += n != 16 || strcmp(fld[0], "tiny") != 0 || saw_total;
        if (n != 16)
            continue;
        if (strcmp(fld[1], "total") == 0) {
            saw_total = 1;
            total = atoll(fld[8]);
            bad += atoll(fld[10]) != p->pes_used;
            continue;
        }
        const imc_layer_place *lp = rows < p->n_layers ? &p->layers[rows] : NULL;
        bad += !lp || strcmp(fld[1], lp->layer->name) != 0 ||
               strcmp(fld[2], imc_layer_kind_name(lp->layer->kind)) != 0 ||
               atoi(fld[3]) != lp->layer->in || atoi(fld[4]) != lp->layer->out ||
               atoi(fld[5]) != lp->copies || atoi(fld[6]) != lp->row_tiles ||
               atoi(fld[7]) != lp->col_tiles || atoll(fld[8]) != lp->xbars ||
               atoll(fld[9]) != lp->first_pe || atoll(fld[10]) != lp->pes;
        xbar_sum += atoll(fld[8]);
        rows++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(rows, p->n_layers);
    CU_ASSERT(saw_total);
    CU_ASSERT_EQUAL(total, p->xbars_used);
    CU_ASSERT_EQUAL(xbar_sum, total);
    CU_ASSERT_EQUAL(find_place(p, "blocks.1.mlp.fc2")->copies, 2);
    free(text);
    imc_placement_free(p);
    imc_arch_free(a);
    free_model(&m);
}

/* mapping.replicate: auto. The tiny FAR model's per-token layers all take 17 vectors of 8
 * slices (patch_embed 16): on a chip with room for two more of each, every layer tied at the
 * longest time gets the same number of copies, at least two, patch_embed (shorter) no more, the
 * LSTMs (their steps wait for each other) and the head (one vector) none, and the PEs used stay
 * within the chip. On a chip
 * too small for a second copy of every tied layer nothing changes: a copy of only some of them
 * would not shorten the pipeline. */
static void test_replicate_auto(void)
{
    model m = tiny_model(1, 0, "rep"); /* block 0 FAR, block 1 attention */
    hw h = {"differential", 8, 2, 16, 16, 4, 1, 1024, 0, NULL, 0};
    imc_arch *a = load_arch(&h);
    imc_placement *base = place(a, m.net);
    imc_arch_free(a);
    int64_t tied = 0; /* crossbars of the layers tied at the longest time */
    for (size_t i = 0; i < base->n_layers; i++) {
        const imc_layer_place *lp = &base->layers[i];
        if (lp->layer->vectors == 17 && lp->layer->kind != IMC_LAYER_FAR_LSTM)
            tied += lp->xbars;
    }
    for (int room = 0; room < 2; room++) {
        /* one PE of 4 crossbars per tile: tiles for the base and two more copies of every tied
         * layer (with a PE to spare for packing), or too few for one more */
        int64_t xbars = room ? base->xbars_used + 2 * tied + 64 : base->xbars_used + tied / 2;
        h.tiles = (int)((xbars + 3) / 4);
        h.replicate = 1;
        a = load_arch(&h);
        imc_placement *p = place(a, m.net);
        int bad = 0, copies = 0;
        for (size_t i = 0; i < p->n_layers && !copies; i++)
            if (p->layers[i].layer->vectors == 17 && p->layers[i].layer->kind != IMC_LAYER_FAR_LSTM)
                copies = p->layers[i].copies;
        for (size_t i = 0; i < p->n_layers; i++) {
            const imc_layer_place *lp = &p->layers[i];
            int tied_layer = lp->layer->vectors == 17 && lp->layer->kind != IMC_LAYER_FAR_LSTM;
            int wrong = tied_layer ? lp->copies != copies || (room ? copies < 2 : copies != 1)
                        : lp->layer->kind == IMC_LAYER_PATCH_EMBED ? lp->copies > copies
                                                                   : lp->copies != 1;
            if (wrong)
                fprintf(stderr, "\nroom %d: %s (%lld vectors) has %d copies\n", room, lp->layer->name,
                        (long long)lp->layer->vectors, lp->copies);
            bad += wrong;
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT(p->pes_used <= p->pes_available);
        imc_placement_free(p);
        imc_arch_free(a);
    }
    imc_placement_free(base);
    free_model(&m);
}

static CU_TestInfo tests[] = {
    {"mapping.replicate: auto balances the pipeline", test_replicate_auto},
    {"crossbar counts and PE placement: closed form", test_xbar_counts_closed_form},
    {"every weight placed exactly once per slice", test_every_weight_placed_once},
    {"pruned FAR needs fewer crossbars in proportion", test_pruned_far_fewer_xbars},
    {"does not fit; reprogramming", test_fit_and_reprogram},
    {"mapping.duplicate", test_duplicate},
    {"placement CSV", test_csv},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "mapper"
#include "tests/unit/cunit_main.h"
