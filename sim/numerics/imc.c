/* imc.c -- bit-slice emulation of crossbar MVMs with device non-idealities (see imc.h).
 *
 * Conductances are kept in level units, g = (G - G_min) / dG with G_min = 1/Roff and dG the
 * step between levels, so an ideal cell holds exactly its integer level and the differential
 * pair or offset encoding can be undone in integers. A layer's cells are built when it
 * multiplies (layer_cells), crossbar by crossbar in panels of columns (g_index); a read of one
 * input slice on one crossbar sums, per column, the conductances of the rows whose input is on
 * (column_sums; through tables of four rows' subset sums where many reads share them,
 * table_sums), for a chunk of reads at once, whose values then go through the read noise, the
 * ADC and the shift-add while they are in the cache. Where every cell holds its nominal level
 * and the levels are small integers (read by a 1-bit DAC), the cells are bit planes instead and
 * a read counts the rows that are on (bit_sums): the same integers. Column values are exact in
 * float: at most R x (2^dac - 1) x (2^cell - 1) in level units. Shift-add adds integers (in
 * float where exact, else in double) and the sums over row tiles run in double. The exact path
 * (ideal devices, lossless ADC) is the integer GEMM instead, as float sgemms over chunks of rows
 * whose sums stay exact (exact_rows). */
#include "sim/numerics/imc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/blas.h"
#include "sim/base/hugepages.h"
#include "sim/base/mix64.h"
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
 * the full emulation's conductances in level units (G, laid out as g_index says) or, where
 * e->bitwise, their levels' bit planes (BITS, layer_cells says how), or the exact
 * path's quantized weights [in][out] (QW: floats, or doubles where exact_k is 0); Q: scratch of
 * a layer's quantized weights. An LSTM direction multiplies the same layer once per token, so
 * it is built once per direction. One slot per caller at a time: a FAR head's two directions
 * multiply at once (imc_mvm_ops.concurrent), each in its own slot. */
typedef struct emul_slot {
    float *g;
    uint32_t *bits;
    void *qw;
    const struct layer_emul *g_of, *qw_of;
    size_t g_cap, bits_cap, qw_cap;
    int32_t *q;
    size_t q_cap;
    int32_t *xu;  /* a multiply's inputs, offset for the DACs */
    double *acc;  /* its sums */
    void *work;   /* exact_gemm's operands in float or double */
    size_t xu_cap, acc_cap, work_cap;
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
    int bit_planes;                       /* > 0: nominal levels are integers of this many bits
                                             and the DAC 1 bit, so reads can count (bit_sums) */
    int bitwise;                          /* and they do (imc_emul_bitwise) */
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

static int bit_sums_fast(void);

void imc_emul_free(imc_emul *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->layers && i < e->p->n_layers; i++) {
        free(e->layers[i].colsum);
        free(e->layers[i].q);
    }
    free(e->layers);
    for (int k = 0; k < SLOTS; k++) {
        emul_slot *sl = &e->slot[k];
        free(sl->g), free(sl->bits), free(sl->qw), free(sl->q), free(sl->xu), free(sl->acc);
        free(sl->work);
    }
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

int imc_emul_bitwise(imc_emul *e, int on)
{
    e->bitwise = on && e->bit_planes > 0;
    for (int k = 0; k < SLOTS; k++)
        e->slot[k].g_of = NULL; /* built the other way */
    return e->bitwise;
}

/* Grow *BUF to hold N elements of SIZE bytes (its capacity in *CAP); 0 or -1 out of memory.
 * The slots' buffers live as long as the emulator, on huge pages from 1 MB up: each multiply
 * writes them whole, and 4 KB faults cost more than the work on a virtual machine
 * (sim/base/hugepages.h). */
static int reserve(void *buf, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    void **p = buf;
    free(*p);
    *cap = 0;
    if (!(*p = imc_hugepages_alloc(n * size)))
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

/* The seed of the programming stream of row ROW of layer LI's column tile XC: a function of the
 * run's seed and the row's place only, so a row reprograms identically whenever it is built. */
static uint64_t row_seed(const imc_emul *e, size_t li, size_t row, int xc)
{
    uint64_t z = imc_mix64(e->program_seed + IMC_MIX64_WEYL * (li + 1));
    z = imc_mix64(z + IMC_MIX64_WEYL * ((uint64_t)xc + 1));
    return imc_mix64(z + IMC_MIX64_WEYL * (row + 1));
}

enum { PANEL = 64 }; /* columns summed at once (column_sums) */

/* Where layer_cells keeps the conductance of row R (of NR) of the row tile starting at row R0, and
 * column COL, of a layer WIDTH columns wide on crossbars of C columns: row tile by row tile,
 * crossbar by crossbar within a row tile (column_sums sums one crossbar at a time), and within
 * a crossbar in panels of PANEL columns, each panel's rows one after the other (a narrower last
 * panel likewise), so column_sums reads a panel as one block instead of PANEL columns at a
 * stride of the layer's width, which would map every row to the same few sets of the cache. */
static size_t g_index(size_t r0, size_t nr, size_t r, size_t col, size_t width, size_t C)
{
    size_t xc = col / C, cc = col % C;
    size_t c0 = cc / PANEL * PANEL, pw = C - c0 < PANEL ? C - c0 : PANEL;
    return r0 * width + xc * C * nr + c0 * nr + r * pw + (cc - c0);
}

/* Words of 32 rows per column, bit plane and row tile of crossbars of P's rows; and where word W
 * of plane B of row tile RT sits, for column COL of a layer WIDTH columns wide (layer_cells). */
static size_t row_words(const imc_placement *p)
{
    return ((size_t)p->rows + 31) / 32;
}

static size_t plane_word(const imc_emul *e, size_t width, size_t rt, int b, size_t w, size_t col)
{
    return ((rt * (size_t)e->bit_planes + (size_t)b) * row_words(e->p) + w) * width + col;
}

/* Runs FN on N jobs (at most MAX_WORKERS) of SIZE bytes each at JOBS: the first on this thread,
 * the others on threads of their own (or on this one, when no thread can be had). */
enum { MAX_WORKERS = 64 }; /* threads of one multiply or programming, at most */

static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
    pthread_t tid[MAX_WORKERS];
    int started[MAX_WORKERS] = {0};
    char *job = jobs;
    for (size_t t = 1; t < n && t < MAX_WORKERS; t++)
        started[t] = !pthread_create(&tid[t], NULL, fn, job + t * size);
    fn(job);
    for (size_t t = 1; t < n; t++)
        if (t < MAX_WORKERS && started[t])
            pthread_join(tid[t], NULL);
        else
            fn(job + t * size);
}

/* The cell's level that mapping level LEVEL (of LEVELS) programs: the same, or evenly spread
 * over the cell's levels 0 .. CELL_TOP where the mapping uses fewer bits than the cell holds. */
static int cell_level(int level, int levels, int cell_top)
{
    return levels - 1 == cell_top ? level : (int)lround((double)level * cell_top / (levels - 1));
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

static WIDEST void *program_tiles(void *arg)
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
    uint32_t *bits = j->sl->bits;
    int planes = e->bit_planes, nominal = e->nominal;
    int16_t *cells = malloc((size_t)p->rows * p->cols * sizeof *cells);
    int *lv = malloc((size_t)p->cols * sizeof *lv);
    size_t *at = malloc((size_t)p->cols * sizeof *at); /* where each drawn cell goes in g */
    double *gv = malloc((size_t)p->cols * sizeof *gv);
    j->failed = !cells || !lv || !at || !gv;
    for (size_t t = j->t0; !j->failed && t < j->t1; t++) {
        int xr = (int)(t / (size_t)lp->col_tiles), xc = (int)(t % (size_t)lp->col_tiles);
        size_t r0 = (size_t)xr * p->rows, nr = in - r0 < (size_t)p->rows ? in - r0 : (size_t)p->rows;
        imc_mapper_cells(p, lp, xr, xc, j->q, cells);
        size_t C = (size_t)p->cols, xbar = g_index(r0, nr, 0, (size_t)xc * C, width, C);
        for (size_t r = 0; r < nr; r++) {
            size_t row = r0 + r, used = 0;
            const int16_t *cr = cells + r * C;
            if (e->bitwise) {
                for (size_t c = 0; c < C; c++) { /* bit b of its level in word r / 32 of plane b */
                    unsigned l =
                        cr[c] < 0 ? 0 : (unsigned)e->level[cell_level(cr[c], levels, cell_top)];
                    for (int b = 0; b < planes; b++)
                        bits[plane_word(e, width, (size_t)xr, b, r / 32, xc * C + c)] |=
                            (l >> b & 1u) << (r % 32);
                }
                continue;
            }
            /* a row whose every cell holds a weight (all but a layer's last rows and columns):
               its cells programmed in column order and stored panel by panel, without the
               indices (an AVX-512 scatter of them was 40 % of this function's time) */
            int full = !nominal;
            for (size_t c = 0; c < C; c++)
                full &= cr[c] >= 0;
            if (full) {
                for (size_t c = 0; c < C; c++)
                    lv[c] = cell_level(cr[c], levels, cell_top);
                used = C;
            }
            for (size_t c0 = 0; !full && c0 < C; c0 += PANEL) { /* g_index's panels */
                size_t pw = C - c0 < PANEL ? C - c0 : PANEL, at_p = xbar + c0 * nr + r * pw;
                for (size_t c = 0; c < pw; c++) {
                    int level = cr[c0 + c];
                    if (level < 0) { /* no weight here: the cell stays off and is not read */
                        g[at_p + c] = 0;
                    } else if (nominal) {
                        g[at_p + c] = e->level[cell_level(level, levels, cell_top)];
                    } else {
                        lv[used] = cell_level(level, levels, cell_top);
                        at[used++] = at_p + c;
                    }
                }
            }
            if (!used)
                continue;
            imc_normal_rng stream;
            imc_normal_seed(&stream, row_seed(e, li, row, xc));
            ops->program(cell, lv, gv, used, &stream);
            for (size_t k = 0; k < used; k++) /* in place, so that it vectorizes */
                gv[k] = (gv[k] - g0) / dg;
            for (size_t c0 = 0; full && c0 < C; c0 += PANEL) {
                size_t pw = C - c0 < PANEL ? C - c0 : PANEL;
                float *gp = g + xbar + c0 * nr + r * pw;
                for (size_t c = 0; c < pw; c++)
                    gp[c] = (float)gv[c0 + c];
            }
            for (size_t k = 0; !full && k < used; k++)
                g[at[k]] = (float)gv[k];
        }
    }
    free(cells), free(lv), free(at), free(gv);
    return NULL;
}

/* The conductances of LE's cells in level units, g = (G - G_min) / dG, programmed crossbar row by
 * crossbar row through the cell model's hook (its own variation and faults) from each row's seed;
 * 0 where no weight sits (the cell stays off). A mapping of fewer bits per cell than the cell
 * holds uses evenly spread levels of the cell's. Where e->bitwise, the levels (integers: nominal
 * cells) as bit planes instead, for bit_sums: bit r % 32 of word [row tile][plane b][r / 32]
 * [column] is bit b of row r's level, 0 where no weight sits. Into *G or *BITS (the other
 * NULL). The crossbars are split over e->threads workers as a multiply is (imc_emul_threads), a
 * cell counting as CELL_READS reads (programming a cell takes ~4 ns, a cell's read ~0.015 ns in a
 * noisy DeiT-S run): each row's stream is its own, so the split changes nothing. Nonzero when
 * out of memory. */
enum { CELL_READS = 256 };

/* The building of LE's cells into SL, for layer_cells (below); nonzero when out of memory. */
static int program_layer(const imc_emul *e, emul_slot *sl, const layer_emul *le)
{
    const imc_layer_place *lp = le->lp;
    size_t in = (size_t)lp->layer->in, width = (size_t)lp->col_tiles * e->p->cols;
    size_t tiles = (size_t)lp->row_tiles * (size_t)lp->col_tiles;
    size_t plane_words = plane_word(e, width, (size_t)lp->row_tiles, 0, 0, 0);
    sl->g_of = NULL;
    const int32_t *q = quantized(sl, le);
    if (!q || (e->bitwise ? reserve(&sl->bits, &sl->bits_cap, plane_words, sizeof *sl->bits)
                          : reserve(&sl->g, &sl->g_cap, in * width, sizeof *sl->g)))
        return -1;
    if (e->bitwise)
        memset(sl->bits, 0, plane_words * sizeof *sl->bits);
    size_t n = (double)in * (double)width * CELL_READS < e->min_split ? 1 : (size_t)e->threads;
    n = n > tiles ? tiles : n;
    n = n > MAX_WORKERS ? MAX_WORKERS : n < 1 ? 1 : n;
    program_job jobs[MAX_WORKERS];
    for (size_t t = 0; t < n; t++)
        jobs[t] = (program_job){e, sl, le, q, tiles * t / n, tiles * (t + 1) / n, 0};
    run_jobs(program_tiles, jobs, sizeof *jobs, n);
    for (size_t t = 0; t < n; t++)
        if (jobs[t].failed)
            return -1;
    sl->g_of = le;
    return 0;
}

static int layer_cells(const imc_emul *e, emul_slot *sl, const layer_emul *le, const float **g,
                       const uint32_t **bits)
{
    if (sl->g_of != le && program_layer(e, sl, le))
        return -1;
    *g = e->bitwise ? NULL : sl->g;
    *bits = e->bitwise ? sl->bits : NULL;
    return 0;
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
 * are programmed from them when it multiplies (layer_cells). */
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
    e->program_seed = imc_mix64((uint64_t)seed ^ 0x5851f42d4c957f2du);
    e->read_seed = imc_mix64((uint64_t)seed ^ 0x2545f4914f6cdd1du);
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
        for (int c = 0; e->nominal && c <= cell_top; c++) /* as layer_cells would compute them */
            e->level[c] = (float)((ops->level_g(cell, c) - g0) / dg);
        /* nominal levels that are integers below 2^8, read by a 1-bit DAC of levels 0 and 1 (so
         * column_sums's sums are those integers, even term by term in its last columns) */
        int ok = e->nominal && e->dac_bits == 1 && e->dac_level[0] == 0.0f &&
                 e->dac_level[1] == 1.0f && bit_sums_fast(), top = 0;
        for (int c = 0; ok && c <= cell_top; c++) {
            float l = e->level[c];
            ok = l >= 0 && l <= 255 && l == floorf(l);
            top = ok && (int)l > top ? (int)l : top;
        }
        for (e->bit_planes = 0; ok && top >> e->bit_planes; e->bit_planes++)
            ;
        e->bitwise = e->bit_planes > 0;
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

/* The rows a chunk of M reads (inputs X, M x K) turns on, found once for every crossbar of the
 * row tile: each read's level (NAN: mixed levels) and, where the tables serve (TABLES: the
 * multiply has at least TABLE_READS reads -- an LSTM step's 8 are not enough to pay for the
 * tables, they would cost twice their saving -- decided for the whole multiply, so that its
 * split among workers and chunks changes no sum), the reads that are on or off (ONE) and
 * their table entries (CODE: per group, the entry as a float offset within its block); for
 * every other read, and for all of them where the crossbars' width leaves columns past the
 * last table block, the rows that are on (IDX, NNZ). */
enum { TABLE_READS = 48 };

typedef struct read_set {
    const float *x;
    size_t M, K;
    float *level;
    uint32_t *one, *idx, *nnz;
    uint64_t *code;
    size_t none;
    int tables;
} read_set;

/* A read's table entries are packed, TGROUP bits per group, CODES_PER_WORD groups to a 64-bit
 * word (code_words of them for K rows): a table block's 32 entries come from two registers by
 * shifts, not from 32 loads of indices, which left the loads' ports the bottleneck. */
enum { CODES_PER_WORD = 64 / TGROUP };
_Static_assert(TBLOCK == 2 * CODES_PER_WORD, "table_sums reads a whole block from two words");

static size_t code_words(size_t K)
{
    return ((K + TGROUP - 1) / TGROUP + CODES_PER_WORD - 1) / CODES_PER_WORD;
}

/* Did table_sums sum read M of RS? */
static inline int tabled(const read_set *rs, size_t m)
{
    return rs->tables && !isnan(rs->level[m]);
}

static WIDEST void find_rows(read_set *rs, size_t N, int tables)
{
    const float *x = rs->x;
    size_t M = rs->M, K = rs->K, groups = (K + TGROUP - 1) / TGROUP;
    rs->none = 0;
    for (size_t m = 0; m < M; m++) { /* each read's level (NAN: mixed), without branches */
        const float *xm = x + m * K;
        float first = 0;
        for (size_t k = 0; k < K && first == 0.0f; k++)
            first = xm[k];
        int mixed = 0;
        for (size_t k = 0; k < K; k++)
            mixed |= xm[k] != 0.0f && xm[k] != first;
        rs->level[m] = mixed ? NAN : first;
        if (!mixed)
            rs->one[rs->none++] = (uint32_t)m;
    }
    rs->tables = tables && rs->none;
    size_t words = code_words(K);
    for (size_t t = 0; rs->tables && t < rs->none; t++) {
        const float *xm = x + (size_t)rs->one[t] * K;
        uint64_t *cw = rs->code + t * words;
        memset(cw, 0, words * sizeof *cw);
        for (size_t j = 0; j < groups; j++) {
            uint64_t c = 0;
            for (size_t b = 0; b < TGROUP && j * TGROUP + b < K; b++)
                c |= (uint64_t)(xm[j * TGROUP + b] != 0.0f) << b;
            cw[j / CODES_PER_WORD] |= c << TGROUP * (j % CODES_PER_WORD);
        }
    }
    for (size_t m = 0; m < M; m++) {
        uint32_t n = 0;
        const float *xm = x + m * K;
        if (!tabled(rs, m) || N % SUB)
            for (size_t k = 0; k < K; k++)
                if (xm[k] != 0.0f)
                    rs->idx[m * K + n++] = (uint32_t)k;
        rs->nnz[m] = n;
    }
}

/* The float offset in a table block of group J's entry, from the code word W that holds it. */
static inline __attribute__((always_inline)) size_t entry_of(uint64_t w, size_t j)
{
    return (j * TENTRIES + (w >> TGROUP * (j % CODES_PER_WORD) & (TENTRIES - 1))) * SUB;
}

/* The same from the block's code words CW. */
static inline size_t code_at(const uint64_t *cw, size_t j)
{
    return entry_of(cw[j / CODES_PER_WORD], j);
}

/* Column values V[m][c] (c < N rounded down to SUB) of the reads RS lists in ONE, each the sum
 * of the conductances of its rows whose input is nonzero, times its level. TAB: TBLOCK x
 * TENTRIES x SUB floats, 64-byte aligned. */
static WIDEST void table_sums(const read_set *rs, const float *g, size_t N, float *v, float *tab)
{
    size_t K = rs->K, groups = (K + TGROUP - 1) / TGROUP, words = code_words(K);
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
            for (size_t t = 0; t < rs->none; t++) {
                const uint64_t *cw = rs->code + t * words + j0 / CODES_PER_WORD;
                f32x16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, u;
                size_t j = 0;
                if (jn == TBLOCK) { /* a whole block: its entries' offsets are constants */
                    uint64_t w0 = cw[0], w1 = cw[1];
#define ENTRY(w, q, a) memcpy(&u, tab + entry_of(w, q), 64), a += u
#define FOUR(w, q) ENTRY(w, q, a0), ENTRY(w, q + 1, a1), ENTRY(w, q + 2, a2), ENTRY(w, q + 3, a3)
                    FOUR(w0, 0), FOUR(w0, 4), FOUR(w0, 8), FOUR(w0, 12);
                    FOUR(w1, 16), FOUR(w1, 20), FOUR(w1, 24), FOUR(w1, 28);
#undef FOUR
#undef ENTRY
                    j = TBLOCK;
                }
                for (; j + 4 <= jn; j += 4) {
                    memcpy(&u, tab + code_at(cw, j), 64), a0 += u;
                    memcpy(&u, tab + code_at(cw, j + 1), 64), a1 += u;
                    memcpy(&u, tab + code_at(cw, j + 2), 64), a2 += u;
                    memcpy(&u, tab + code_at(cw, j + 3), 64), a3 += u;
                }
                for (; j < jn; j++)
                    memcpy(&u, tab + code_at(cw, j), 64), a0 += u;
                a0 = (a0 + a1) + (a2 + a3);
                uint32_t m = rs->one[t];
                float *out = v + (size_t)m * N + c0;
                if (j0) { /* the sums of the groups before this block */
                    memcpy(&u, out, 64);
                    a0 = u + a0;
                }
                if (j0 + jn == groups && rs->level[m] != 1.0f)
                    a0 *= rs->level[m];
                memcpy(out, &a0, 64);
            }
        }
    }
}

/* The column values of RS's reads on one crossbar: V[m][c] = sum over k of X[m][k] G(k, c)
 * (c < N), each the sum of the conductances of the rows whose input is on, weighted by its DAC
 * level. G: the crossbar's K rows of N columns in g_index's panels. A read whose nonzero inputs
 * share one level (every read of a 1-bit DAC) adds the conductances and scales the sums once,
 * through table_sums where find_rows made tables. Other reads add only the conductances of
 * their rows that are on, weighted where levels are mixed, a panel of 64 columns at a time in
 * registers (two rows at a time into two sets of sums, for the adder's latency), over all such
 * reads while the panel stays in the cache. Each sum runs in the same order whatever M is, so a
 * split of the reads changes nothing. With ideal devices every term and sum is an integer below
 * 2^24: exact in float. TAB as table_sums wants it. */
static WIDEST void column_sums(const read_set *rs, const float *g, size_t N, float *v, float *tab)
{
    const float *x = rs->x;
    size_t M = rs->M, K = rs->K;
    if (rs->tables)
        table_sums(rs, g, N, v, tab);
    size_t c0 = 0;
    for (; c0 + PANEL <= N; c0 += PANEL)
        for (size_t m = 0; m < M; m++) {
            if (tabled(rs, m))
                continue;
            float level = rs->level[m];
            int same = !isnan(level);
            const float *panel = g + c0 * K;
            const uint32_t *im = rs->idx + m * K;
            const float *xm = x + m * K;
            f32x16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
            uint32_t t = 0, n = rs->nnz[m];
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
            if (same && level != 1.0f)
                a0 *= level, a1 *= level, a2 *= level, a3 *= level;
            float *out = v + m * N + c0;
            memcpy(out, &a0, 64), memcpy(out + 16, &a1, 64), memcpy(out + 32, &a2, 64), memcpy(out + 48, &a3, 64);
        }
    for (size_t m = 0; m < M; m++) /* columns past the last whole panel (or table block) */
        for (size_t c = tabled(rs, m) ? N / SUB * SUB : c0; c < N; c++) {
            size_t p0 = c / PANEL * PANEL, pw = N - p0 < PANEL ? N - p0 : PANEL;
            const uint32_t *im = rs->idx + m * K;
            float sum = 0;
            for (uint32_t t = 0; t < rs->nnz[m]; t++)
                sum += x[m * K + im[t]] * g[p0 * K + (size_t)im[t] * pw + c - p0];
            v[m * N + c] = sum;
        }
}

/* The column values of M reads of one crossbar of nominal cells whose levels are integers: read
 * m's value in column c is LEVEL (the DAC's one level) times the sum over the rows that are on
 * of the cells' levels = the sum over bit planes b of 2^b x the number of rows that are on and
 * have bit b set: popcount(X[m][w] & P[(b x W + w) x STRIDE + c]) over the W words of 32 rows.
 * An integer below 2^24 times LEVEL: the same float as column_sums gives. Counted sixteen
 * columns at once (AVX-512's VPOPCNTD): a read of 16 columns of 128 rows of 2-bit cells takes
 * 8 counts against table_sums's 32 table entries, and the planes are 16 times smaller than the
 * floats (a FAR-S LSTM layer's 1 MB, read every step, is 64 KB). Only where the CPU counts so
 * (bit_sums_fast): a count a bit at a time would be slower than the floats' tables. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
/* The count of one word of plane B (shift SH) into sums A, for columns 16 Q .. 16 Q + 15 of PP. */
#define BIT_COUNT(a, q) \
    a = _mm512_add_epi32(a, _mm512_sllv_epi32(_mm512_popcnt_epi32(_mm512_and_si512( \
                                                   xw, _mm512_loadu_si512(pp + 16 * (q)))), \
                                               sh))

__attribute__((target("avx512f,avx512vpopcntdq"))) static void bit_sums(const uint32_t *x, size_t M,
                                                                       size_t W, int B,
                                                                       const uint32_t *P,
                                                                       size_t stride, size_t C,
                                                                       float level, float *v)
{
    const __m512 lv = _mm512_set1_ps(level);
    for (size_t m = 0; m < M; m++) {
        const uint32_t *xm = x + m * W;
        float *vm = v + m * C;
        size_t c0 = 0;
        for (; c0 + 128 <= C; c0 += 128) { /* 128 columns' sums in registers */
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                    a6 = a0, a7 = a0;
            for (size_t w = 0; w < W; w++) {
                if (!xm[w])
                    continue; /* none of these 32 rows is on */
                __m512i xw = _mm512_set1_epi32((int)xm[w]);
                for (int b = 0; b < B; b++) {
                    const uint32_t *pp = P + ((size_t)b * W + w) * stride + c0;
                    __m512i sh = _mm512_set1_epi32(b);
                    BIT_COUNT(a0, 0), BIT_COUNT(a1, 1), BIT_COUNT(a2, 2), BIT_COUNT(a3, 3);
                    BIT_COUNT(a4, 4), BIT_COUNT(a5, 5), BIT_COUNT(a6, 6), BIT_COUNT(a7, 7);
                }
            }
            __m512i a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
            for (int q = 0; q < 8; q++)
                _mm512_storeu_ps(vm + c0 + 16 * q, _mm512_mul_ps(_mm512_cvtepi32_ps(a[q]), lv));
        }
        for (; c0 < C; c0 += 16) { /* the rest, 16 at a time */
            __mmask16 k = C - c0 >= 16 ? 0xffff : (__mmask16)((1u << (C - c0)) - 1);
            __m512i acc = _mm512_setzero_si512();
            for (size_t w = 0; w < W; w++) {
                __m512i xw = _mm512_set1_epi32((int)xm[w]);
                for (int b = 0; b < B; b++) {
                    __m512i p = _mm512_maskz_loadu_epi32(k, P + ((size_t)b * W + w) * stride + c0);
                    __m512i n = _mm512_popcnt_epi32(_mm512_and_si512(xw, p));
                    acc = _mm512_add_epi32(acc, _mm512_sllv_epi32(n, _mm512_set1_epi32(b)));
                }
            }
            _mm512_mask_storeu_ps(vm + c0, k, _mm512_mul_ps(_mm512_cvtepi32_ps(acc), lv));
        }
    }
}
#undef BIT_COUNT

static int bit_sums_fast(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
}
#else
static void bit_sums(const uint32_t *x, size_t M, size_t W, int B, const uint32_t *P,
                     size_t stride, size_t C, float level, float *v)
{
    (void)x, (void)M, (void)W, (void)B, (void)P, (void)stride, (void)C, (void)level, (void)v;
}

static int bit_sums_fast(void)
{
    return 0;
}
#endif

/* Shift-add, in two steps. The codes of one input vector's slices on a crossbar, each shifted by
 * its slice's place (SHIFT: 2^(slice x DAC bits)), add up per column into T, in float where
 * every such sum is an integer below 2^24 (ADC bits + slices x DAC bits <= 24: exact in any
 * order); then each output ACC[j] (j < OUT) adds its cells' sums in T shifted by their place in
 * the weight (CELLW: +-2^(slice x cell bits)) in double, times STEP (the ADC's step, times the
 * slice's place where T holds one slice's codes: the other way, for wider ADCs and inputs).
 * Every term is an integer times a power of two and every sum an integer below 2^53. */
static WIDEST void shift_slices(const float *codes, size_t cols, size_t slices, int dac_bits,
                               float *t)
{
    float shift[64]; /* slices <= 24 (float_sums) */
    for (size_t s = 0; s < slices; s++)
        shift[s] = ldexpf(1, (int)s * dac_bits);
    size_t c = 0;
    for (; c + 16 <= cols; c += 16) { /* sixteen columns' sums in a register, slice by slice */
        f32x16 a = {0}, u;
        for (size_t s = 0; s < slices; s++) {
            memcpy(&u, codes + s * cols + c, sizeof u);
            a += u * shift[s];
        }
        memcpy(t + c, &a, sizeof a);
    }
    for (; c < cols; c++) {
        float a = 0;
        for (size_t s = 0; s < slices; s++)
            a += codes[s * cols + c] * shift[s];
        t[c] = a;
    }
}

static inline __attribute__((always_inline)) void shift_weights(const float *t, size_t out,
                                                                 int cpw, const double *cellw,
                                                                 double step, double *acc)
{
    for (size_t j = 0; j < out; j++) {
        double w = 0;
        for (int c = 0; c < cpw; c++)
            w += (double)t[j * (size_t)cpw + (size_t)c] * cellw[c];
        acc[j] += w * step;
    }
}

/* The same with the usual cells per weight as constants, so the compiler vectorizes across
 * outputs. */
static WIDEST void shift_cells(const float *t, size_t out, int cpw, const double *cellw,
                               double step, double *acc)
{
    if (cpw == 8)
        shift_weights(t, out, 8, cellw, step, acc);
    else if (cpw == 4)
        shift_weights(t, out, 4, cellw, step, acc);
    else
        shift_weights(t, out, cpw, cellw, step, acc);
}

/* The seed of the reads of crossbar (RT, XC) in layer LI's CALL-th multiply, and of those of one
 * input vector's slices (read_seed): a function of the run's seed and these alone, so reads may
 * run in any order and layers multiply in any order (a FAR head's two directions at once). */
static uint64_t crossbar_seed(const imc_emul *e, size_t li, uint64_t call, int rt, int xc)
{
    uint64_t z = imc_mix64(e->read_seed + IMC_MIX64_WEYL * (li + 1));
    z = imc_mix64(z + IMC_MIX64_WEYL * (call + 1));
    z = imc_mix64(z + IMC_MIX64_WEYL * ((uint64_t)rt + 1));
    return imc_mix64(z + IMC_MIX64_WEYL * ((uint64_t)xc + 1));
}

static uint64_t read_seed(uint64_t crossbar, size_t i)
{
    return imc_mix64(crossbar + IMC_MIX64_WEYL * (i + 1));
}

/* One worker's share of a full emulation: input vectors I0 .. I1 - 1 of one multiply. */
typedef struct rows_job {
    const imc_emul *e;
    const layer_emul *le;
    const float *g;     /* the layer's conductances (layer_cells) */
    const uint32_t *bits; /* or its levels' bit planes */
    const int32_t *xu;  /* the inputs, offset to unsigned [rows][in] */
    double *acc;        /* [rows][out]: the worker adds to its own rows only */
    uint64_t call;
    int tables;         /* the multiply has enough reads for the tables (find_rows) */
    size_t i0, i1;
    int failed;         /* out of memory */
} rows_job;

/* Per row tile, the rows every input slice of a chunk of input vectors turns on (find_rows, or
 * as bits for bit_sums); then crossbar by crossbar the column values of all those reads at once
 * (column_sums or bit_sums: the crossbar's cells stream through the cache once per chunk, not
 * once per read, and its values, CHUNK_VALUES at most, stay in the cache), and each input
 * vector's values through the cell's read, the ADC and into the shift-add. Each vector's sums
 * run in the same order whatever the split, so results do not depend on it. */
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
    enum { CHUNK_VALUES = 1 << 18 };
    size_t R = (size_t)p->rows, C = (size_t)p->cols, wpr = (size_t)p->weights_per_row;
    int dmask = (1 << e->dac_bits) - 1;
    size_t S = (size_t)e->slices, chunk = CHUNK_VALUES / (S * (R > C ? R : C));
    chunk = chunk < 1 ? 1 : chunk > rows ? rows : chunk;
    size_t M = chunk * S, words = row_words(p);
    float *xs = malloc(M * R * sizeof *xs), *v = malloc(M * C * sizeof *v);
    uint32_t *xbits = malloc(M * words * sizeof *xbits);
    read_set rs = {.x = xs, .K = R};
    rs.level = malloc(M * sizeof *rs.level);
    rs.idx = malloc(M * R * sizeof *rs.idx), rs.nnz = malloc(M * sizeof *rs.nnz);
    rs.one = malloc(M * sizeof *rs.one);
    rs.code = malloc(M * code_words(R) * sizeof *rs.code);
    float *tab = aligned_alloc(64, TBLOCK * TENTRIES * SUB * sizeof *tab);
    float *t = malloc(C * sizeof *t);
    double cellw[64]; /* a cell column's place: +-2^(slice x cell bits) */
    for (int c = 0; c < cpw && c < 64; c++)
        cellw[c] = (diff && c >= ws ? -1 : 1) * ldexp(1, (c % ws) * cb);
    j->failed = !xs || !v || !xbits || !t || !rs.level || !rs.idx || !rs.nnz || !rs.one || !rs.code ||
                !tab;
    double codes = ldexp(1, e->adc_bits) - 1;
    int float_sums = e->adc_bits + (int)S * e->dac_bits <= 24;
    for (int rt = 0; !j->failed && rt < lp->row_tiles; rt++) {
        size_t r0 = (size_t)rt * R, nr = in - r0 < R ? in - r0 : R;
        double fs = (double)nr * e->dac_top * ((1 << cb) - 1);
        double step = fs > codes ? fs / codes : 1, inv = 1 / step;
        for (size_t i0 = j->i0; i0 < j->i1; i0 += chunk) {
            size_t ni = j->i1 - i0 < chunk ? j->i1 - i0 : chunk;
            for (size_t i = 0; i < ni; i++) /* each slice's DAC levels for the row tile */
                for (size_t s = 0; s < S; s++) {
                    const int32_t *xi = j->xu + (i0 + i) * in + r0;
                    if (j->bits) { /* a 1-bit DAC's: the rows that are on, as bits */
                        uint32_t *xb = xbits + (i * S + s) * words;
                        for (size_t w = 0; w < words; w++) {
                            uint32_t b = 0;
                            for (size_t r = w * 32; r < nr && r < w * 32 + 32; r++)
                                b |= (uint32_t)(xi[r] >> s & 1) << (r % 32);
                            xb[w] = b;
                        }
                        continue;
                    }
                    float *xr = xs + (i * S + s) * nr;
                    for (size_t r = 0; r < nr; r++)
                        xr[r] = e->dac_level[(xi[r] >> (s * (size_t)e->dac_bits)) & dmask];
                }
            rs.M = ni * S, rs.K = nr;
            if (!j->bits)
                find_rows(&rs, C, j->tables);
            for (int xc = 0; xc < lp->col_tiles; xc++) {
                size_t o0 = (size_t)xc * wpr, no = out - o0 < wpr ? out - o0 : wpr;
                uint64_t xseed = crossbar_seed(e, li, j->call, rt, xc);
                if (j->bits)
                    bit_sums(xbits, rs.M, words, e->bit_planes,
                             j->bits + plane_word(e, width, (size_t)rt, 0, 0, (size_t)xc * C),
                             width, C, e->dac_level[1], v);
                else
                    column_sums(&rs, j->g + r0 * width + (size_t)xc * C * nr, C, v, tab);
                for (size_t i = 0; i < ni; i++) { /* the S reads of vector i0 + i */
                    float *vi = v + i * S * C;
                    e->cell->type->cell->read(e->cell, vi, S * C, read_seed(xseed, i0 + i));
                    e->adc->type->adc->convert(e->adc, vi, S * C, (float)inv);
                    double *acc = j->acc + (i0 + i) * out + o0, shift = 1; /* 2^(s x DAC bits) */
                    if (float_sums) {
                        shift_slices(vi, C, S, e->dac_bits, t);
                        shift_cells(t, no, cpw, cellw, step, acc);
                    } else {
                        for (size_t s = 0; s < S; s++, shift *= 1 << e->dac_bits)
                            shift_cells(vi + s * C, no, cpw, cellw, step * shift, acc);
                    }
                }
            }
        }
    }
    free(xs), free(v), free(xbits), free(t), free(rs.level), free(rs.idx), free(rs.nnz), free(rs.one);
    free(rs.code), free(tab);
    return NULL;
}

/* The full emulation of one multiply of ROWS vectors, split by vectors over e->threads workers
 * when there is enough of it. */
static int emulate(imc_emul *e, layer_emul *le, const float *g, const uint32_t *bits,
                   const int32_t *xu, size_t rows, double *acc, imc_err *err)
{
    double work = (double)rows * e->slices * le->lp->layer->in * le->lp->col_tiles * e->p->cols;
    size_t n = work < e->min_split ? 1 : (size_t)e->threads < rows ? (size_t)e->threads : rows;
    n = n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
    rows_job jobs[MAX_WORKERS];
    uint64_t call = __atomic_fetch_add(&le->calls, 1, __ATOMIC_RELAXED);
    int tables = rows * (size_t)e->slices >= TABLE_READS;
    for (size_t t = 0; t < n; t++)
        jobs[t] = (rows_job){e, le, g, bits, xu, acc, call, tables, rows * t / n, rows * (t + 1) / n, 0};
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
        if (reserve(&sl->work, &sl->work_cap, rows * in, sizeof(double)))
            return imc_err_set(err, IMC_ENOMEM, "out of memory");
        double *xd = sl->work;
        for (size_t k = 0; k < rows * in; k++)
            xd[k] = xu[k];
        imc_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)in, 1.0,
                  xd, (int)in, qw, (int)out, 0.0, acc, (int)out);
        return 0;
    }
    if (reserve(&sl->work, &sl->work_cap, rows * (in + out), sizeof(float)))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    float *xf = sl->work, *part = xf + rows * in;
    for (size_t k = 0; k < rows * in; k++)
        xf[k] = (float)xu[k];
    for (size_t k0 = 0; k0 < in; k0 += kc) {
        size_t kn = in - k0 < kc ? in - k0 : kc;
        imc_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)kn, 1.0f,
                  xf + k0, (int)in, (const float *)qw + k0 * out, (int)out, 0.0f, part,
                  (int)out);
        for (size_t k = 0; k < rows * out; k++)
            acc[k] += part[k];
    }
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

    emul_slot *sl = claim(e, le);
    float *sx = malloc(rows * sizeof *sx);
    double *xsum = malloc(rows * sizeof *xsum);
    if (!sx || !xsum || reserve(&sl->xu, &sl->xu_cap, rows * in, sizeof *sl->xu) ||
        reserve(&sl->acc, &sl->acc_cap, rows * out, sizeof *sl->acc)) {
        release(e, sl);
        free(sx), free(xsum);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    int32_t *xu = sl->xu;
    double *acc = sl->acc;
    memset(acc, 0, rows * out * sizeof *acc);
    /* inputs: symmetric per vector, then offset to 0 .. 2^bits - 1 for the DACs */
    for (size_t i = 0; i < rows; i++)
        xsum[i] = (double)quantize_input(x + i * in, in, qmax, offset, xu + i * in, &sx[i]);
    int rc = 0;
    if (le->exact && !e->force_full) {
        rc = exact_gemm(e, sl, le, xu, rows, acc, err);
    } else {
        const float *g;
        const uint32_t *bits;
        if (layer_cells(e, sl, le, &g, &bits))
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        else
            rc = emulate(e, le, g, bits, xu, rows, acc, err);
    }
    int full = !(le->exact && !e->force_full);
    for (size_t i = 0; !rc && i < rows; i++)
        for (size_t o = 0; o < out; o++) {
            /* undo the offsets: the inputs' (offset x sum of weights) and, where the crossbars
             * held offset-encoded weights, the weights' (weight offset x sum of inputs) */
            double yq = acc[i * out + o] - (full ? woffset * xsum[i] : 0) -
                        (double)offset * le->colsum[o];
            y[i * out + o] = (float)(yq * (double)sx[i] * (double)le->scale);
        }
    release(e, sl); /* its buffers held XU and ACC */
    free(sx), free(xsum);
    return rc;
}

imc_mvm_ops imc_emul_ops(imc_emul *e)
{
    return (imc_mvm_ops){e, mvm, 1};
}
