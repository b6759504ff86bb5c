/* imc.c -- bit-slice emulation of crossbar MVMs with device non-idealities (see imc.h).
 *
 * Conductances are kept in level units, g = (G - G_min) / dG with G_min = 1/Roff and dG the
 * step between levels, so an ideal cell holds exactly its integer level and the differential
 * pair or offset encoding can be undone in integers. A layer's cells are built when it
 * multiplies (layer_g), row tile by row tile in panels of columns (g_index); a read of one input
 * slice on one row tile sums, per column, the conductances of the rows whose input is on
 * (column_sums; through tables of four rows' subset sums where many reads share them,
 * table_sums), for all the layer's columns and a chunk of reads at once. Column values are
 * exact in float: at most R x (2^dac - 1) x (2^cell - 1) in level units. Shift-add and the sums
 * over row tiles run in double. The exact path (ideal devices, lossless ADC) is the integer
 * GEMM instead, as float sgemms over chunks of rows whose sums stay exact (exact_rows). */
#include "sim/numerics/imc.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/vectorize.h"

typedef struct layer_emul {
    const imc_layer_place *lp;
    void *q;        /* the quantized weights [in][out], as int8, int16 or int32 (qsize bytes) */
    int qsize;
    double *colsum; /* sum over inputs of the quantized weights, per output */
    float scale;    /* weight scale */
    int exact;      /* ideal devices and an ADC that cannot lose a level: the fast path */
    uint64_t calls; /* full-emulation multiplies of this layer so far (its reads' seeds) */
} layer_emul;

/* The layer a caller multiplied last, as its pass needs it, rebuilt when another layer comes:
 * the full emulation's conductances in level units [in][col_tiles x cols] (G), or the exact
 * path's quantized weights [in][out] (QW: floats, or doubles where exact_k is 0); Q: scratch of
 * a layer's quantized weights. An LSTM direction multiplies the same layer once per token, so
 * it is built once per direction. One slot per caller at a time: a FAR head's two directions
 * multiply at once (imc_mvm_ops.concurrent), each in its own slot. */
typedef struct emul_slot {
    float *g;
    void *qw;
    const struct layer_emul *g_of, *qw_of;
    size_t g_cap, qw_cap;
    int32_t *q;
    size_t q_cap;
    int busy;
} emul_slot;
enum { SLOTS = 2 };

struct imc_emul {
    const imc_arch *arch;
    const imc_placement *p;
    const imc_forward *f;
    layer_emul *layers;
    const imc_instance *cell, *adc, *dac; /* reached only through their numerics hooks */
    float dac_level[1 << 16];             /* the DAC's analog level of each input code */
    float level[256];                     /* an ideal cell's conductance per level (level units) */
    int nominal;                          /* cells program to their nominal level: draw nothing */
    uint64_t program_seed;                /* every crossbar row's programming stream derives
                                             from it and the row's place (row_seed) */
    uint64_t read_seed;                   /* and every read's from this (read_seed) */
    int threads;                          /* workers of a full emulation */
    double min_split;                     /* of work of at least this many cell reads */
    emul_slot slot[SLOTS];
    pthread_mutex_t lock; /* guards the slots' busy flags */
    pthread_cond_t freed; /* a slot stopped being busy */
    size_t exact_k; /* the exact path's rows per float sgemm (exact_rows); 0: dgemm */
    int32_t *q; /* scratch of imc_emul_new: a layer's quantized weights */
    size_t q_cap;
    float dac_top;                        /* of the highest code */
    int ideal_devices;                    /* cell, DAC and ADC hooks all exact */
    int adc_bits, dac_bits, in_bits, slices, force_full;
};

void imc_emul_free(imc_emul *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->layers && i < e->p->n_layers; i++) {
        free(e->layers[i].colsum);
        free(e->layers[i].q);
    }
    free(e->layers);
    for (int k = 0; k < SLOTS; k++)
        free(e->slot[k].g), free(e->slot[k].qw), free(e->slot[k].q);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->freed);
    free(e->q);
    free(e);
}

int imc_emul_exact(const imc_emul *e)
{
    for (size_t i = 0; i < e->p->n_layers; i++)
        if (!e->layers[i].exact)
            return 0;
    return !e->force_full;
}

void imc_emul_force_full(imc_emul *e, int on)
{
    e->force_full = on;
}

/* Grow *BUF to hold N elements of SIZE bytes (its capacity in *CAP); 0 or -1 out of memory. */
static int reserve(void *buf, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    void **p = buf;
    free(*p);
    *cap = 0;
    if (!(*p = malloc(n * size)))
        return -1;
    *cap = n;
    return 0;
}

/* The quantized weights of LE into SL's scratch; NULL when out of memory. */
static const int32_t *quantized(emul_slot *sl, const layer_emul *le)
{
    const imc_layer *l = le->lp->layer;
    size_t n = (size_t)l->in * (size_t)l->out;
    if (reserve(&sl->q, &sl->q_cap, n, sizeof *sl->q))
        return NULL;
    for (size_t k = 0; k < n; k++)
        sl->q[k] = le->qsize == 1 ? ((const int8_t *)le->q)[k]
                   : le->qsize == 2 ? ((const int16_t *)le->q)[k] : ((const int32_t *)le->q)[k];
    return sl->q;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The seed of the programming stream of row ROW of layer LI's column tile XC: a function of the
 * run's seed and the row's place only, so a row reprograms identically whenever it is built. */
static uint64_t row_seed(const imc_emul *e, size_t li, size_t row, int xc)
{
    uint64_t z = mix64(e->program_seed + 0x9e3779b97f4a7c15u * (li + 1));
    z = mix64(z + 0x9e3779b97f4a7c15u * ((uint64_t)xc + 1));
    return mix64(z + 0x9e3779b97f4a7c15u * (row + 1));
}

enum { PANEL = 64 }; /* columns summed at once (column_sums) */

/* Where layer_g keeps the conductance of row R (of NR) of the row tile starting at row R0, and
 * column COL, of a layer WIDTH columns wide: row tile by row tile, and within a tile in panels
 * of PANEL columns, each panel's rows one after the other (a narrower last panel likewise), so
 * column_sums reads a panel as one block instead of PANEL columns at a stride of the layer's
 * width, which would map every row to the same few sets of the cache. */
static size_t g_index(size_t r0, size_t nr, size_t r, size_t col, size_t width)
{
    size_t c0 = col / PANEL * PANEL, pw = width - c0 < PANEL ? width - c0 : PANEL;
    return r0 * width + c0 * nr + r * pw + (col - c0);
}

/* Runs FN on N jobs of SIZE bytes each at JOBS: the first on this thread, the others on threads
 * of their own (or on this one, when no thread can be had). */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
    enum { MAX_JOBS = 64 };
    pthread_t tid[MAX_JOBS];
    int started[MAX_JOBS] = {0};
    char *job = jobs;
    for (size_t t = 1; t < n && t < MAX_JOBS; t++)
        started[t] = !pthread_create(&tid[t], NULL, fn, job + t * size);
    fn(job);
    for (size_t t = 1; t < n; t++)
        if (t < MAX_JOBS && started[t])
            pthread_join(tid[t], NULL);
        else
            fn(job + t * size);
}

/* One worker's share of programming a layer: its crossbars T0 .. T1 - 1 (row tile by row tile,
 * column tiles within). */
typedef struct program_job {
    const imc_emul *e;
    emul_slot *sl;
    const layer_emul *le;
    const int32_t *q; /* the layer's quantized weights */
    size_t t0, t1;
    int failed; /* out of memory */
} program_job;

static void *program_tiles(void *arg)
{
    program_job *j = arg;
    const imc_emul *e = j->e;
    const imc_placement *p = e->p;
    const imc_layer_place *lp = j->le->lp;
    const imc_instance *cell = e->cell;
    const imc_cell_ops *ops = cell->type->cell;
    size_t in = (size_t)lp->layer->in, width = (size_t)lp->col_tiles * p->cols;
    size_t li = (size_t)(j->le - e->layers);
    int levels = 1 << e->arch->mapping.cell_bits, cell_top = (1 << imc_model_bits(cell)) - 1;
    double g0 = ops->level_g(cell, 0), dg = (ops->level_g(cell, cell_top) - g0) / (levels - 1);
    float *g = j->sl->g;
    int16_t *cells = malloc((size_t)p->rows * p->cols * sizeof *cells);
    int *lv = malloc((size_t)p->cols * sizeof *lv);
    size_t *at = malloc((size_t)p->cols * sizeof *at); /* where each drawn cell goes in g */
    double *gv = malloc((size_t)p->cols * sizeof *gv);
    j->failed = !cells || !lv || !at || !gv;
    for (size_t t = j->t0; !j->failed && t < j->t1; t++) {
        int xr = (int)(t / (size_t)lp->col_tiles), xc = (int)(t % (size_t)lp->col_tiles);
        size_t r0 = (size_t)xr * p->rows, nr = in - r0 < (size_t)p->rows ? in - r0 : (size_t)p->rows;
        imc_mapper_cells(p, lp, xr, xc, j->q, cells);
        for (size_t r = 0; r < nr; r++) {
            size_t row = r0 + r, used = 0, col0 = (size_t)xc * p->cols;
            for (int c = 0; c < p->cols; c++) {
                int level = cells[r * p->cols + c];
                size_t at_c = g_index(r0, nr, r, col0 + (size_t)c, width);
                float *gc = g + at_c;
                *gc = 0;
                if (level < 0)
                    continue; /* no weight here: the cell stays off and is not read */
                int cl = levels - 1 == cell_top ? level : (int)lround((double)level * cell_top / (levels - 1));
                if (e->nominal) {
                    *gc = e->level[cl];
                } else {
                    lv[used] = cl;
                    at[used++] = at_c;
                }
            }
            if (!used)
                continue;
            imc_normal_rng stream;
            imc_normal_seed(&stream, row_seed(e, li, row, xc));
            ops->program(cell, lv, gv, used, &stream);
            for (size_t k = 0; k < used; k++)
                g[at[k]] = (float)((gv[k] - g0) / dg);
        }
    }
    free(cells), free(lv), free(at), free(gv);
    return NULL;
}

/* The conductances of LE's cells in level units, g = (G - G_min) / dG, programmed crossbar row
 * by crossbar row through the cell model's hook (its own variation and faults) from each row's
 * seed; 0 where no weight sits (the cell stays off). A mapping of fewer bits per cell than the
 * cell holds uses evenly spread levels of the cell's. The crossbars are split over e->threads
 * workers as a multiply is (imc_emul_threads), a cell counting as CELL_READS reads (drawing a
 * cell took ~9 ns, a cell's read ~0.015 ns in a noisy DeiT-S run): each row's stream is its own,
 * so the split changes nothing. NULL when out of memory. */
enum { CELL_READS = 512 };

static const float *layer_g(const imc_emul *e, emul_slot *sl, const layer_emul *le)
{
    enum { MAX_WORKERS = 64 };
    if (sl->g_of == le)
        return sl->g;
    const imc_layer_place *lp = le->lp;
    size_t in = (size_t)lp->layer->in, width = (size_t)lp->col_tiles * e->p->cols;
    size_t tiles = (size_t)lp->row_tiles * (size_t)lp->col_tiles;
    sl->g_of = NULL;
    const int32_t *q = quantized(sl, le);
    if (!q || reserve(&sl->g, &sl->g_cap, in * width, sizeof *sl->g))
        return NULL;
    size_t n = (double)in * (double)width * CELL_READS < e->min_split ? 1 : (size_t)e->threads;
    n = n > tiles ? tiles : n > MAX_WORKERS ? MAX_WORKERS : n;
    n = n < 1 ? 1 : n;
    program_job jobs[MAX_WORKERS];
    for (size_t t = 0; t < n; t++)
        jobs[t] = (program_job){e, sl, le, q, tiles * t / n, tiles * (t + 1) / n, 0};
    run_jobs(program_tiles, jobs, sizeof *jobs, n);
    for (size_t t = 0; t < n; t++)
        if (jobs[t].failed)
            return NULL;
    sl->g_of = le;
    return sl->g;
}

/* The exact path's weights: LE's quantized weights [in][out] as floats when e->exact_k says
 * float sums are exact, else as doubles; NULL when out of memory. */
static const void *layer_qw(const imc_emul *e, emul_slot *sl, const layer_emul *le)
{
    if (sl->qw_of == le)
        return sl->qw;
    size_t n = (size_t)le->lp->layer->in * (size_t)le->lp->layer->out;
    sl->qw_of = NULL;
    const int32_t *q = quantized(sl, le);
    if (!q || reserve(&sl->qw, &sl->qw_cap, n, e->exact_k ? sizeof(float) : sizeof(double)))
        return NULL;
    for (size_t k = 0; k < n; k++)
        if (e->exact_k)
            ((float *)sl->qw)[k] = (float)q[k];
        else
            ((double *)sl->qw)[k] = q[k];
    sl->qw_of = le;
    return sl->qw;
}

/* How many input rows one float sgemm of the exact path may sum: every partial sum of that
 * many products of an unsigned input (< 2^in_bits) and a quantized weight (|w| <= 2^(bits-1))
 * is an integer of at most 2^24, exact in float whatever order the sgemm adds in; 0 when not
 * even one row's products are (then dgemm, exact below 2^53). */
static size_t exact_rows(const imc_emul *e)
{
    double xmax = ldexp(1, e->in_bits) - 1, wmax = ldexp(1, e->arch->mapping.weight_bits - 1);
    return (size_t)floor(0x1p24 / (xmax * wmax));
}

/* Quantize one layer once, for its scale, the sums the offsets need and whether the exact
 * path serves it, and keep its quantized weights (a byte each for 8-bit weights); its cells
 * are programmed from them when it multiplies (layer_g). */
static int prepare(imc_emul *e, size_t li, imc_err *err)
{
    const imc_placement *p = e->p;
    const imc_layer_place *lp = &p->layers[li];
    const imc_layer *l = lp->layer;
    layer_emul *le = &e->layers[li];
    size_t in = (size_t)l->in, out = (size_t)l->out;
    int levels = 1 << e->arch->mapping.cell_bits;
    le->lp = lp;
    /* exact when every device is ideal and the ADC resolves every level of a full column */
    double fs = (double)(in < (size_t)p->rows ? in : (size_t)p->rows) * e->dac_top * (levels - 1);
    le->exact = e->ideal_devices && fs <= ldexp(1, e->adc_bits) - 1;
    if (!(le->colsum = calloc(out, sizeof *le->colsum)) ||
        reserve(&e->q, &e->q_cap, in * out, sizeof *e->q))
        return imc_err_set(err, IMC_ENOMEM, "out of memory programming %s", l->name);
    le->scale = imc_mapper_quantize(p, lp, imc_forward_weights(e->f, li, NULL), e->q);
    for (size_t i = 0; i < in * out; i++)
        le->colsum[i % out] += e->q[i];
    /* kept in the fewest bytes |q| < 2^(weight_bits - 1) fits */
    int wb = e->arch->mapping.weight_bits;
    le->qsize = wb <= 8 ? 1 : wb <= 16 ? 2 : 4;
    if (!(le->q = malloc(in * out * (size_t)le->qsize)))
        return imc_err_set(err, IMC_ENOMEM, "out of memory programming %s", l->name);
    for (size_t i = 0; i < in * out; i++)
        if (le->qsize == 1)
            ((int8_t *)le->q)[i] = (int8_t)e->q[i];
        else if (le->qsize == 2)
            ((int16_t *)le->q)[i] = (int16_t)e->q[i];
        else
            ((int32_t *)le->q)[i] = e->q[i];
    return 0;
}

/* Does CELL program every level to its nominal conductance? The hook draws nothing when the
 * model has no variation or faults (model.h), so a row of every level that comes out nominal
 * and leaves its stream where it was is programmed ideally. (Read noise does not matter here:
 * it perturbs reads, not cells.) */
static int programs_nominal(const imc_instance *cell)
{
    const imc_cell_ops *ops = cell->type->cell;
    int n = 1 << imc_model_bits(cell), ok = 1;
    int *lv = malloc((size_t)n * sizeof *lv);
    double *g = malloc((size_t)n * sizeof *g);
    if (!lv || !g) {
        free(lv), free(g);
        return 0;
    }
    for (int l = 0; l < n; l++)
        lv[l] = l;
    imc_normal_rng nr, start;
    imc_normal_seed(&nr, 1);
    start = nr;
    ops->program(cell, lv, g, (size_t)n, &nr);
    ok = !memcmp(&nr, &start, sizeof nr); /* a draw would have moved the stream */
    for (int l = 0; ok && l < n; l++)
        ok = g[l] == ops->level_g(cell, l);
    free(lv), free(g);
    return ok;
}

int imc_emul_new(imc_emul **out, const imc_arch *arch, const imc_placement *p,
                 const imc_forward *f, unsigned long seed, imc_err *err)
{
    *out = NULL;
    imc_emul *e = calloc(1, sizeof *e);
    if (e) {
        pthread_mutex_init(&e->lock, NULL);
        pthread_cond_init(&e->freed, NULL);
    }
    if (!e || !(e->layers = calloc(p->n_layers ? p->n_layers : 1, sizeof *e->layers))) {
        imc_emul_free(e);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    e->program_seed = mix64((uint64_t)seed ^ 0x5851f42d4c957f2du);
    e->read_seed = mix64((uint64_t)seed ^ 0x2545f4914f6cdd1du);
    imc_emul_threads(e, 1, 0);
    e->arch = arch;
    e->p = p;
    e->f = f;
    const imc_pe *pe = &arch->chip.tile.pe;
    e->cell = pe->cell;
    e->adc = pe->adc;
    e->dac = pe->dac;
    e->adc_bits = imc_model_bits(pe->adc);
    e->dac_bits = imc_model_bits(pe->dac);
    if (e->dac_bits > 16) {
        imc_emul_free(e);
        return imc_err_set(err, IMC_EINPUT, "%s: the numerics emulate DACs of up to 16 bits",
                           pe->dac->path);
    }
    e->dac->type->dac->levels(e->dac, e->dac_level, 1 << e->dac_bits);
    e->dac_top = e->dac_level[(1 << e->dac_bits) - 1];
    e->ideal_devices = e->cell->type->cell->exact(e->cell) && e->dac->type->dac->exact(e->dac) &&
                       e->adc->type->adc->exact(e->adc);
    {
        const imc_instance *cell = pe->cell;
        const imc_cell_ops *ops = cell->type->cell;
        int levels = 1 << arch->mapping.cell_bits, cell_top = (1 << imc_model_bits(cell)) - 1;
        double g0 = ops->level_g(cell, 0), dg = (ops->level_g(cell, cell_top) - g0) / (levels - 1);
        e->nominal = programs_nominal(cell) && cell_top < 256;
        for (int c = 0; e->nominal && c <= cell_top; c++) /* as layer_g would compute them */
            e->level[c] = (float)((ops->level_g(cell, c) - g0) / dg);
    }
    e->in_bits = arch->mapping.input_bits;
    e->exact_k = exact_rows(e);
    e->slices = imc_arch_input_slices(arch);
    for (size_t i = 0; i < p->n_layers; i++) {
        int rc = prepare(e, i, err);
        if (rc) {
            imc_emul_free(e);
            return rc;
        }
    }
    *out = e;
    return 0;
}

/* ---- one layer's multiply ------------------------------------------------------------------- */

typedef float f32x16 __attribute__((vector_size(64)));

/* Reads whose inputs are on or off (every read of a 1-bit DAC) sum through tables, in the
 * manner of Arlazarov et al.'s "four Russians" (1970): each group of TGROUP rows has a table of
 * the sums of all 16 subsets of its rows' conductances, for SUB columns at a time, and a read
 * adds one table entry per group (the entry its inputs in the group pick) instead of one
 * conductance per row that is on: R / 4 additions per column instead of about R / 2. A table's
 * entries are built once per chunk of reads; TBLOCK groups' tables (32 KB) are built and read at
 * once, so they stay in the first-level cache. Entry c of a group is entry c without its highest
 * row plus that row, so every read's sum runs in one order, whatever the split of the reads; with
 * ideal devices every entry and sum is an integer below 2^24, exact in float. */
enum { TGROUP = 4, TENTRIES = 1 << TGROUP, SUB = 16, TBLOCK = 32 };

/* Column values V[m][c] (c < N rounded down to SUB) of the reads listed in ONE (NONE of them),
 * each the sum of the conductances of its rows whose input is nonzero, times LEVEL[m]. CODE:
 * scratch of M x ceil(K / TGROUP); TAB: TBLOCK x TENTRIES x SUB floats, 64-byte aligned. */
static WIDEST void table_sums(const float *x, const uint32_t *one, size_t none, size_t K,
                              const float *g, size_t N, float *v, const float *level,
                              uint32_t *code, float *tab)
{
    size_t groups = (K + TGROUP - 1) / TGROUP;
    for (size_t t = 0; t < none; t++) { /* each group's entry, as a float offset in its block */
        const float *xm = x + (size_t)one[t] * K;
        for (size_t j = 0; j < groups; j++) {
            unsigned c = 0;
            for (size_t b = 0; b < TGROUP && j * TGROUP + b < K; b++)
                c |= (unsigned)(xm[j * TGROUP + b] != 0.0f) << b;
            code[t * groups + j] = (uint32_t)((j % TBLOCK * TENTRIES + c) * SUB);
        }
    }
    for (size_t c0 = 0; c0 + SUB <= N; c0 += SUB) {
        size_t p0 = c0 / PANEL * PANEL, pw = N - p0 < PANEL ? N - p0 : PANEL;
        const float *panel = g + p0 * K + (c0 - p0); /* row r's SUB columns at r x pw */
        for (size_t j0 = 0; j0 < groups; j0 += TBLOCK) {
            size_t jn = groups - j0 < TBLOCK ? groups - j0 : TBLOCK;
            for (size_t j = 0; j < jn; j++) {
                f32x16 row[TGROUP], *e = (f32x16 *)(tab + j * TENTRIES * SUB);
                for (size_t b = 0; b < TGROUP; b++) {
                    size_t r = (j0 + j) * TGROUP + b;
                    row[b] = (f32x16){0};
                    if (r < K)
                        memcpy(&row[b], panel + r * pw, sizeof row[b]);
                }
                e[0] = (f32x16){0};
                for (unsigned c = 1; c < TENTRIES; c++) {
                    unsigned hb = 31u - (unsigned)__builtin_clz(c);
                    e[c] = e[c & ~(1u << hb)] + row[hb];
                }
            }
            for (size_t t = 0; t < none; t++) {
                const uint32_t *ct = code + t * groups + j0;
                f32x16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, u;
                size_t j = 0;
                for (; j + 4 <= jn; j += 4) {
                    memcpy(&u, tab + ct[j], 64), a0 += u;
                    memcpy(&u, tab + ct[j + 1], 64), a1 += u;
                    memcpy(&u, tab + ct[j + 2], 64), a2 += u;
                    memcpy(&u, tab + ct[j + 3], 64), a3 += u;
                }
                for (; j < jn; j++)
                    memcpy(&u, tab + ct[j], 64), a0 += u;
                a0 = (a0 + a1) + (a2 + a3);
                float *out = v + (size_t)one[t] * N + c0;
                if (j0) { /* the sums of the groups before this block */
                    memcpy(&u, out, 64);
                    a0 = u + a0;
                }
                if (j0 + jn == groups && level[one[t]] != 1.0f)
                    a0 *= level[one[t]];
                memcpy(out, &a0, 64);
            }
        }
    }
}

/* The column values of M reads: V[m][c] = sum over k of X[m][k] G(k, c) (c < N), each the sum
 * of the conductances of the rows whose input is on, weighted by its DAC level. G: K rows of N
 * columns in g_index's panels. A read whose nonzero inputs share one level (every read of a
 * 1-bit DAC) adds the conductances and scales the sums once, through table_sums when there are
 * at least TABLE_READS such reads to share the tables' cost (an LSTM step's 8 reads do not: the
 * tables would cost twice their saving). Other reads list their nonzero rows first (IDX: scratch
 * of M x K) and add only their conductances, weighted where levels are mixed, a panel of 64
 * columns at a time in registers (two rows at a time into two sets of sums, for the adder's
 * latency), over all such reads while the panel stays in the cache. Each sum runs in the same
 * order whatever M is, so a split of the reads changes nothing. With ideal devices every term
 * and sum is an integer below 2^24: exact in float. ONE: scratch of M; CODE and TAB as
 * table_sums wants them. */
enum { TABLE_READS = 48 };

/* Did table_sums sum a read of level LEVEL, when TABLES says it ran? */
static inline int tabled(int tables, float level)
{
    return tables && !isnan(level);
}

static WIDEST void column_sums(const float *x, size_t M, size_t K, const float *g, size_t N,
                               float *v, uint32_t *idx, uint32_t *nnz, float *level,
                               uint32_t *one, uint32_t *code, float *tab)
{
    size_t none = 0;
    for (size_t m = 0; m < M; m++) { /* each read's level (NAN: mixed), without branches */
        const float *xm = x + m * K;
        float first = 0;
        for (size_t k = 0; k < K && first == 0.0f; k++)
            first = xm[k];
        int mixed = 0;
        for (size_t k = 0; k < K; k++)
            mixed |= xm[k] != 0.0f && xm[k] != first;
        level[m] = mixed ? NAN : first;
        if (!mixed)
            one[none++] = (uint32_t)m;
    }
    int tables = none >= TABLE_READS;
    if (tables)
        table_sums(x, one, none, K, g, N, v, level, code, tab);
    for (size_t m = 0; m < M; m++) { /* the nonzero rows of the reads the rows' path sums */
        uint32_t n = 0;
        const float *xm = x + m * K;
        if (!tabled(tables, level[m]) || N % SUB)
            for (size_t k = 0; k < K; k++)
                if (xm[k] != 0.0f)
                    idx[m * K + n++] = (uint32_t)k;
        nnz[m] = n;
    }
    size_t c0 = 0;
    for (; c0 + PANEL <= N; c0 += PANEL)
        for (size_t m = 0; m < M; m++) {
            if (tabled(tables, level[m]))
                continue;
            int same = !isnan(level[m]);
            const float *panel = g + c0 * K;
            const uint32_t *im = idx + m * K;
            const float *xm = x + m * K;
            f32x16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
            uint32_t t = 0, n = nnz[m];
            for (; t + 2 <= n; t += 2) {
                const float *r = panel + (size_t)im[t] * PANEL, *q = panel + (size_t)im[t + 1] * PANEL;
                f32x16 r0, r1, r2, r3, q0, q1, q2, q3;
                memcpy(&r0, r, 64), memcpy(&r1, r + 16, 64), memcpy(&r2, r + 32, 64), memcpy(&r3, r + 48, 64);
                memcpy(&q0, q, 64), memcpy(&q1, q + 16, 64), memcpy(&q2, q + 32, 64), memcpy(&q3, q + 48, 64);
                if (!same) {
                    float wr = xm[im[t]], wq = xm[im[t + 1]];
                    r0 *= wr, r1 *= wr, r2 *= wr, r3 *= wr;
                    q0 *= wq, q1 *= wq, q2 *= wq, q3 *= wq;
                }
                a0 += r0, a1 += r1, a2 += r2, a3 += r3;
                b0 += q0, b1 += q1, b2 += q2, b3 += q3;
            }
            if (t < n) {
                const float *r = panel + (size_t)im[t] * PANEL;
                f32x16 r0, r1, r2, r3;
                memcpy(&r0, r, 64), memcpy(&r1, r + 16, 64), memcpy(&r2, r + 32, 64), memcpy(&r3, r + 48, 64);
                float wr = same ? 1.0f : xm[im[t]];
                a0 += wr * r0, a1 += wr * r1, a2 += wr * r2, a3 += wr * r3;
            }
            a0 += b0, a1 += b1, a2 += b2, a3 += b3;
            if (same && level[m] != 1.0f) {
                float w = level[m];
                a0 *= w, a1 *= w, a2 *= w, a3 *= w;
            }
            float *out = v + m * N + c0;
            memcpy(out, &a0, 64), memcpy(out + 16, &a1, 64), memcpy(out + 32, &a2, 64), memcpy(out + 48, &a3, 64);
        }
    for (size_t m = 0; m < M; m++) /* columns past the last whole panel (or table block) */
        for (size_t c = tabled(tables, level[m]) ? N / SUB * SUB : c0; c < N; c++) {
            size_t p0 = c / PANEL * PANEL, pw = N - p0 < PANEL ? N - p0 : PANEL;
            float sum = 0;
            for (uint32_t t = 0; t < nnz[m]; t++)
                sum += x[m * K + idx[m * K + t]] * g[p0 * K + (size_t)idx[m * K + t] * pw + c - p0];
            v[m * N + c] = sum;
        }
}

/* Shift-add of each output's cell columns: W[o] = sum over c of CODES[o's cell c] x CELLW[c]. */
static inline __attribute__((always_inline)) void combine_cells(const float *codes, size_t out,
                                                                 int wpr, int cols, int cpw,
                                                                 const float *cellw, double scale,
                                                                 double *acc)
{
    for (size_t o0 = 0, tile = 0; o0 < out; o0 += (size_t)wpr, tile++) { /* crossbar by crossbar */
        const float *cv = codes + tile * (size_t)cols;
        size_t n = out - o0 < (size_t)wpr ? out - o0 : (size_t)wpr;
        for (size_t j = 0; j < n; j++) {
            float w = 0;
            for (int c = 0; c < cpw; c++)
                w += cv[j * (size_t)cpw + (size_t)c] * cellw[c];
            acc[o0 + j] += (double)w * scale;
        }
    }
}

/* The same for the usual cells per weight as constants, so the compiler vectorizes across
 * outputs (each output's terms still added in order). */
static WIDEST void combine(const float *codes, size_t out, int wpr, int cols, int cpw,
                           const float *cellw, double scale, double *acc)
{
    if (cpw == 8)
        combine_cells(codes, out, wpr, cols, 8, cellw, scale, acc);
    else if (cpw == 4)
        combine_cells(codes, out, wpr, cols, 4, cellw, scale, acc);
    else
        combine_cells(codes, out, wpr, cols, cpw, cellw, scale, acc);
}

/* The seed of one read: input vector I's slice S on row tile RT in layer LI's CALL-th multiply,
 * a function of the run's seed and these alone, so reads may run in any order and layers
 * multiply in any order (a FAR head's two directions at once). */
static uint64_t read_seed(const imc_emul *e, size_t li, uint64_t call, int rt, size_t i, size_t s)
{
    uint64_t z = mix64(e->read_seed + 0x9e3779b97f4a7c15u * (li + 1));
    z = mix64(z + 0x9e3779b97f4a7c15u * (call + 1));
    z = mix64(z + 0x9e3779b97f4a7c15u * ((uint64_t)rt + 1));
    z = mix64(z + 0x9e3779b97f4a7c15u * (i + 1));
    return mix64(z + 0x9e3779b97f4a7c15u * (s + 1));
}

/* One worker's share of a full emulation: input vectors I0 .. I1 - 1 of one multiply. */
typedef struct rows_job {
    const imc_emul *e;
    const layer_emul *le;
    const float *g;     /* the layer's conductances (layer_g) */
    const int32_t *xu;  /* the inputs, offset to unsigned [rows][in] */
    double *acc;        /* [rows][out]: the worker adds to its own rows only */
    uint64_t call;
    size_t i0, i1;
    int failed;         /* out of memory */
} rows_job;

/* Per row tile, the column values of every input slice of a chunk of input vectors at once
 * (column_sums: the conductances stream through the cache once per chunk, not once per read);
 * then every column value of every read through the cell's read, the ADC and into the
 * shift-add. Chunks keep the column values to about CHUNK_FLOATS. Each vector's sums run in
 * the same order whatever the split, so results do not depend on it. */
static void *emulate_rows(void *arg)
{
    rows_job *j = arg;
    const imc_emul *e = j->e;
    const imc_placement *p = e->p;
    const imc_layer_place *lp = j->le->lp;
    size_t li = (size_t)(j->le - e->layers);
    size_t in = (size_t)lp->layer->in, out = (size_t)lp->layer->out;
    size_t width = (size_t)lp->col_tiles * p->cols, rows = j->i1 - j->i0;
    int diff = e->arch->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL;
    int cb = e->arch->mapping.cell_bits, cpw = p->cells_per_weight, ws = p->slices;
    enum { CHUNK_FLOATS = 1 << 22 };
    int R = p->rows, C = p->cols, dmask = (1 << e->dac_bits) - 1, wpr = p->weights_per_row;
    size_t S = (size_t)e->slices, chunk = CHUNK_FLOATS / (S * width);
    chunk = chunk < 1 ? 1 : chunk > rows ? rows : chunk;
    float *xs = malloc(chunk * S * (size_t)R * sizeof *xs), *v = malloc(chunk * S * width * sizeof *v);
    float *lev = malloc(chunk * S * sizeof *lev);
    uint32_t *idx = malloc(chunk * S * (size_t)R * sizeof *idx), *nnz = malloc(chunk * S * sizeof *nnz);
    uint32_t *one = malloc(chunk * S * sizeof *one);
    uint32_t *code = malloc(chunk * S * (((size_t)R + TGROUP - 1) / TGROUP) * sizeof *code);
    float *tab = aligned_alloc(64, TBLOCK * TENTRIES * SUB * sizeof *tab);
    float cellw[64]; /* each cell column's weight within its weight: +-2^(slice x cell bits) */
    for (int c = 0; c < cpw && c < 64; c++)
        cellw[c] = (float)((diff && c >= ws ? -1 : 1) * ldexp(1, (c % ws) * cb));
    j->failed = !xs || !v || !lev || !idx || !nnz || !one || !code || !tab;
    double codes = ldexp(1, e->adc_bits) - 1;
    for (int rt = 0; !j->failed && rt < lp->row_tiles; rt++) {
        size_t r0 = (size_t)rt * R, nr = in - r0 < (size_t)R ? in - r0 : (size_t)R;
        double fs = (double)nr * e->dac_top * ((1 << cb) - 1);
        double step = fs > codes ? fs / codes : 1, inv = 1 / step;
        for (size_t i0 = j->i0; i0 < j->i1; i0 += chunk) {
            size_t ni = j->i1 - i0 < chunk ? j->i1 - i0 : chunk;
            for (size_t i = 0; i < ni; i++) /* each slice's DAC levels for the row tile */
                for (size_t s = 0; s < S; s++) {
                    const int32_t *xi = j->xu + (i0 + i) * in + r0;
                    float *xr = xs + (i * S + s) * nr;
                    for (size_t r = 0; r < nr; r++)
                        xr[r] = e->dac_level[(xi[r] >> (s * (size_t)e->dac_bits)) & dmask];
                }
            column_sums(xs, ni * S, nr, j->g + r0 * width, width, v, idx, nnz, lev, one, code, tab);
            for (size_t i = 0; i < ni; i++)
                for (size_t s = 0; s < S; s++) {
                    float *vi = v + (i * S + s) * width;
                    e->cell->type->cell->read(e->cell, vi, width, read_seed(e, li, j->call, rt, i0 + i, s));
                    e->adc->type->adc->convert(e->adc, vi, width, (float)inv);
                    combine(vi, out, wpr, C, cpw, cellw, step * ldexp(1, (int)s * e->dac_bits),
                            j->acc + (i0 + i) * out);
                }
        }
    }
    free(xs), free(v), free(lev), free(idx), free(nnz), free(one), free(code), free(tab);
    return NULL;
}

/* The full emulation of one multiply of ROWS vectors, split by vectors over e->threads workers
 * when there is enough of it. */
static int emulate(imc_emul *e, layer_emul *le, const float *g, const int32_t *xu,
                   size_t rows, double *acc, imc_err *err)
{
    enum { MAX_WORKERS = 64 };
    double work = (double)rows * e->slices * le->lp->layer->in * le->lp->col_tiles * e->p->cols;
    size_t n = work < e->min_split ? 1 : (size_t)e->threads < rows ? (size_t)e->threads : rows;
    n = n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
    rows_job jobs[MAX_WORKERS];
    uint64_t call = le->calls++;
    for (size_t t = 0; t < n; t++)
        jobs[t] = (rows_job){e, le, g, xu, acc, call, rows * t / n, rows * (t + 1) / n, 0};
    run_jobs(emulate_rows, jobs, sizeof *jobs, n);
    int failed = 0;
    for (size_t t = 0; t < n; t++)
        failed |= jobs[t].failed;
    return failed ? imc_err_set(err, IMC_ENOMEM, "out of memory") : 0;
}

void imc_emul_threads(imc_emul *e, int n, double min_split)
{
    e->threads = n > 0 ? n : 1;
    e->min_split = min_split > 0 ? min_split : 1 << 24;
}

/* The exact path: ACC = XU x LE's quantized weights, as integers (sum_i x_u w = x_q w +
 * offset sum_i w, undone by the caller): float sgemms over chunks of exact_k rows, whose sums
 * are exact, added in double (exact below 2^53); one dgemm where no chunk is exact. */
static WIDEST int exact_gemm(const imc_emul *e, emul_slot *sl, const layer_emul *le,
                             const int32_t *xu, size_t rows,
                             double *acc, imc_err *err)
{
    size_t in = (size_t)le->lp->layer->in, out = (size_t)le->lp->layer->out, kc = e->exact_k;
    const void *qw = layer_qw(e, sl, le);
    if (!qw)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    if (!kc) {
        double *xd = malloc(rows * in * sizeof *xd);
        if (!xd)
            return imc_err_set(err, IMC_ENOMEM, "out of memory");
        for (size_t k = 0; k < rows * in; k++)
            xd[k] = xu[k];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)in, 1.0,
                    xd, (int)in, qw, (int)out, 0.0, acc, (int)out);
        free(xd);
        return 0;
    }
    float *xf = malloc(rows * in * sizeof *xf), *part = malloc(rows * out * sizeof *part);
    if (!xf || !part) {
        free(xf), free(part);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < rows * in; k++)
        xf[k] = (float)xu[k];
    for (size_t k0 = 0; k0 < in; k0 += kc) {
        size_t kn = in - k0 < kc ? in - k0 : kc;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)kn, 1.0f,
                    xf + k0, (int)in, (const float *)qw + k0 * out, (int)out, 0.0f, part,
                    (int)out);
        for (size_t k = 0; k < rows * out; k++)
            acc[k] += part[k];
    }
    free(xf), free(part);
    return 0;
}

/* One input vector quantized symmetrically to +-QMAX, offset by OFFSET for the DACs, into XU;
 * its scale into SCALE; returns the sum of XU. Vector code: rintf rounds to nearest even as
 * lrintf does, and a NaN lands on -QMAX as lrintf's out-of-range value did. */
static WIDEST int64_t quantize_input(const float *x, size_t in, int32_t qmax, int32_t offset,
                                     int32_t *xu, float *scale)
{
    float m = 0;
    for (size_t k = 0; k < in; k++) {
        float a = fabsf(x[k]);
        m = a > m ? a : m;
    }
    float s = m > 0 ? m / (float)qmax : 1, lo = (float)-qmax, hi = (float)qmax;
    int64_t sum = 0;
    for (size_t k = 0; k < in; k++) {
        float v = rintf(x[k] / s);
        v = v >= lo ? v : lo;
        v = v <= hi ? v : hi;
        xu[k] = (int32_t)v + offset;
        sum += xu[k];
    }
    *scale = s;
    return sum;
}

/* A slot for a multiply of LE: one not busy, preferably one that holds LE already, else the
 * first free one; waits while every slot is busy. */
static emul_slot *claim(imc_emul *e, const layer_emul *le)
{
    pthread_mutex_lock(&e->lock);
    emul_slot *pick = NULL;
    for (;;) {
        for (int k = 0; k < SLOTS; k++) {
            emul_slot *sl = &e->slot[k];
            if (sl->busy)
                continue;
            if (sl->g_of == le || sl->qw_of == le) {
                pick = sl;
                break;
            }
            if (!pick)
                pick = sl;
        }
        if (pick)
            break;
        pthread_cond_wait(&e->freed, &e->lock);
    }
    pick->busy = 1;
    pthread_mutex_unlock(&e->lock);
    return pick;
}

static void release(imc_emul *e, emul_slot *sl)
{
    pthread_mutex_lock(&e->lock);
    sl->busy = 0;
    pthread_cond_signal(&e->freed);
    pthread_mutex_unlock(&e->lock);
}

static WIDEST int mvm(void *ctx, size_t li, const float *x, size_t rows, float *y, imc_err *err)
{
    imc_emul *e = ctx;
    layer_emul *le = &e->layers[li];
    const imc_layer_place *lp = le->lp;
    size_t in = (size_t)lp->layer->in, out = (size_t)lp->layer->out;
    int32_t qmax = (1 << (e->in_bits - 1)) - 1, offset = 1 << (e->in_bits - 1);
    int diff = e->arch->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL;
    double woffset = diff ? 0 : ldexp(1, e->arch->mapping.weight_bits - 1);

    float *sx = malloc(rows * sizeof *sx);
    int32_t *xu = malloc(rows * in * sizeof *xu);
    double *acc = calloc(rows * out, sizeof *acc), *xsum = calloc(rows, sizeof *xsum);
    if (!sx || !xu || !acc || !xsum) {
        free(sx), free(xu), free(acc), free(xsum);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    /* inputs: symmetric per vector, then offset to 0 .. 2^bits - 1 for the DACs */
    for (size_t i = 0; i < rows; i++)
        xsum[i] = (double)quantize_input(x + i * in, in, qmax, offset, xu + i * in, &sx[i]);
    int rc = 0;
    emul_slot *sl = claim(e, le);
    if (le->exact && !e->force_full) {
        rc = exact_gemm(e, sl, le, xu, rows, acc, err);
    } else {
        const float *g = layer_g(e, sl, le);
        if (!g)
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        else
            rc = emulate(e, le, g, xu, rows, acc, err);
    }
    release(e, sl);
    int full = !(le->exact && !e->force_full);
    for (size_t i = 0; !rc && i < rows; i++)
        for (size_t o = 0; o < out; o++) {
            /* undo the offsets: the inputs' (offset x sum of weights) and, where the crossbars
             * held offset-encoded weights, the weights' (weight offset x sum of inputs) */
            double yq = acc[i * out + o] - (full ? woffset * xsum[i] : 0) -
                        (double)offset * le->colsum[o];
            y[i * out + o] = (float)(yq * (double)sx[i] * (double)le->scale);
        }
    free(sx), free(xu), free(acc), free(xsum);
    return rc;
}

imc_mvm_ops imc_emul_ops(imc_emul *e)
{
    return (imc_mvm_ops){e, mvm, 1};
}
