/* imc.c -- bit-slice emulation of crossbar MVMs with device non-idealities (see imc.h).
 *
 * Conductances are kept in level units, g = (G - G_min) / dG with G_min = 1/Roff and dG the
 * step between levels, so an ideal cell holds exactly its integer level and the differential
 * pair or offset encoding can be undone in integers. A layer's cells are one dense matrix
 * [in][col_tiles x cols]: row tile rt is rows rt*R .. rt*R+R-1 of it, column tile ct its
 * columns ct*cols ..; one crossbar read of one input slice over all images is then a single
 * sgemm of (rows x R) by (R x cols). Column values are exact in float: at most R x (2^dac - 1) x
 * (2^cell - 1) in level units. Shift-add and the sums over row tiles run in double. */
#include "sim/numerics/imc.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct layer_emul {
    const imc_layer_place *lp;
    /* conductances in level units, [in][col_tiles * cols]: with ideal cells each cell's level
     * as one byte (CODE, conductance e->level[code], NO_CELL where no weight sits), else one
     * float per cell (G, its own variation and faults) */
    float *g;
    uint8_t *code;
    double *qd;     /* the quantized weights as doubles [in][out], for the exact path only */
    double *colsum; /* sum over inputs of the quantized weights, per output */
    float scale;    /* weight scale */
    int exact;      /* ideal devices and an ADC that cannot lose a level: the fast path */
} layer_emul;

struct imc_emul {
    const imc_arch *arch;
    const imc_placement *p;
    const imc_forward *f;
    layer_emul *layers;
    gsl_rng *rng;
    const imc_instance *cell, *adc, *dac; /* reached only through their numerics hooks */
    float dac_level[1 << 16];             /* the DAC's analog level of each input code */
    float level[256];                     /* an ideal cell's conductance per code (level units) */
    int coded;                            /* ideal cells of < 255 levels: stored as codes */
    float *gcache;                        /* a coded layer's conductances as floats (layer_g) */
    const layer_emul *gcache_of;
    size_t gcache_cap;
    float dac_top;                        /* of the highest code */
    int ideal_devices;                    /* cell, DAC and ADC hooks all exact */
    int adc_bits, dac_bits, in_bits, slices, force_full;
};

void imc_emul_free(imc_emul *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->layers && i < e->p->n_layers; i++) {
        free(e->layers[i].g);
        free(e->layers[i].code);
        free(e->layers[i].qd);
        free(e->layers[i].colsum);
    }
    free(e->layers);
    free(e->gcache);
    if (e->rng)
        gsl_rng_free(e->rng);
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

#define NO_CELL 255

/* Program one layer's cells from its quantized weights Q, crossbar by crossbar, each through
 * the cell model's hook (its own variation and faults). A mapping of fewer bits per cell than
 * the cell holds uses evenly spread levels of the cell's. Ideal cells draw nothing and keep
 * only their level (e->coded); others a float each. */
static int program_cells(imc_emul *e, layer_emul *le, const int32_t *q, imc_err *err)
{
    const imc_placement *p = e->p;
    const imc_layer_place *lp = le->lp;
    const imc_layer *l = lp->layer;
    const imc_instance *cell = e->arch->chip.tile.pe.cell;
    const imc_cell_ops *ops = cell->type->cell;
    size_t in = (size_t)l->in, width = (size_t)lp->col_tiles * p->cols;
    int levels = 1 << e->arch->mapping.cell_bits, cell_top = (1 << imc_model_bits(cell)) - 1;
    double g0 = ops->level_g(cell, 0), dg = (ops->level_g(cell, cell_top) - g0) / (levels - 1);
    int16_t *cells = malloc((size_t)p->rows * p->cols * sizeof *cells);
    if (e->coded) {
        le->code = malloc(in * width);
        if (le->code)
            memset(le->code, NO_CELL, in * width);
    } else {
        le->g = calloc(in * width, sizeof *le->g);
    }
    if (!cells || (e->coded ? !le->code : !le->g)) {
        free(cells);
        return imc_err_set(err, IMC_ENOMEM, "out of memory programming %s", l->name);
    }
    for (int xr = 0; xr < lp->row_tiles; xr++)
        for (int xc = 0; xc < lp->col_tiles; xc++) {
            imc_mapper_cells(p, lp, xr, xc, q, cells);
            for (int r = 0; r < p->rows; r++) {
                size_t row = (size_t)xr * p->rows + (size_t)r;
                if (row >= in)
                    break;
                for (int c = 0; c < p->cols; c++) {
                    int level = cells[(size_t)r * p->cols + c];
                    if (level < 0)
                        continue; /* no weight here: the cell stays off and is not read */
                    int cl = levels - 1 == cell_top ? level : (int)lround((double)level * cell_top / (levels - 1));
                    size_t at = row * width + (size_t)xc * p->cols + (size_t)c;
                    if (e->coded) /* ideal: program would return level_g(cl), drawing nothing */
                        le->code[at] = (uint8_t)cl;
                    else
                        le->g[at] = (float)((ops->program(cell, cl, e->rng) - g0) / dg);
                }
            }
        }
    free(cells);
    return 0;
}

/* Quantize one layer; program its cells unless the exact path will serve it (then only when
 * the full emulation is forced, see cells_ready), or keep its weights for that path. */
static int program(imc_emul *e, size_t li, imc_err *err)
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

    int32_t *q = malloc(in * out * sizeof *q);
    le->colsum = calloc(out, sizeof *le->colsum);
    if (le->exact)
        le->qd = malloc(in * out * sizeof *le->qd);
    if (!q || !le->colsum || (le->exact && !le->qd)) {
        free(q);
        return imc_err_set(err, IMC_ENOMEM, "out of memory programming %s", l->name);
    }
    le->scale = imc_mapper_quantize(p, lp, imc_forward_weights(e->f, li, NULL), q);
    for (size_t i = 0; i < in * out; i++) {
        if (le->qd)
            le->qd[i] = q[i];
        le->colsum[i % out] += q[i];
    }
    int rc = le->exact ? 0 : program_cells(e, le, q, err);
    free(q);
    return rc;
}

/* The cells of an exact layer, programmed when the full emulation is forced on it: its
 * devices are ideal, so nothing is drawn and the order of programming does not matter. */
static int cells_ready(imc_emul *e, layer_emul *le, imc_err *err)
{
    if (le->g || le->code)
        return 0;
    const imc_layer *l = le->lp->layer;
    size_t n = (size_t)l->in * (size_t)l->out;
    int32_t *q = malloc(n * sizeof *q);
    if (!q)
        return imc_err_set(err, IMC_ENOMEM, "out of memory programming %s", l->name);
    imc_mapper_quantize(e->p, le->lp, imc_forward_weights(e->f, (size_t)(le - e->layers), NULL), q);
    int rc = program_cells(e, le, q, err);
    free(q);
    return rc;
}

/* Does CELL program every level to its nominal conductance? The hook draws nothing when the
 * model has no variation or faults (model.h), so a level programmed on a copy of RNG that
 * leaves the copy where it was, at the nominal value, is programmed ideally: its cells need no
 * float of their own. (Read noise does not matter here: it perturbs reads, not cells.) */
static int programs_nominal(const imc_instance *cell, const gsl_rng *rng)
{
    const imc_cell_ops *ops = cell->type->cell;
    gsl_rng *a = gsl_rng_clone(rng), *b = gsl_rng_clone(rng);
    int ok = a && b;
    for (int l = 0; ok && l < 1 << imc_model_bits(cell); l++) {
        ok = ops->program(cell, l, a) == ops->level_g(cell, l);
        for (int k = 0; ok && k < 4; k++) /* a draw would have moved the copy */
            ok = gsl_rng_get(a) == gsl_rng_get(b);
    }
    if (a)
        gsl_rng_free(a);
    if (b)
        gsl_rng_free(b);
    return ok;
}

int imc_emul_new(imc_emul **out, const imc_arch *arch, const imc_placement *p,
                 const imc_forward *f, unsigned long seed, imc_err *err)
{
    *out = NULL;
    imc_emul *e = calloc(1, sizeof *e);
    if (!e || !(e->layers = calloc(p->n_layers ? p->n_layers : 1, sizeof *e->layers)) ||
        !(e->rng = gsl_rng_alloc(gsl_rng_mt19937))) {
        imc_emul_free(e);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    gsl_rng_set(e->rng, seed);
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
        e->coded = programs_nominal(cell, e->rng) && cell_top < NO_CELL;
        for (int c = 0; e->coded && c <= cell_top; c++) /* as program_cells would store them */
            e->level[c] = (float)((ops->level_g(cell, c) - g0) / dg);
        /* level[NO_CELL] stays 0: an unused cell adds nothing */
    }
    e->in_bits = arch->mapping.input_bits;
    e->slices = imc_arch_input_slices(arch);
    for (size_t i = 0; i < p->n_layers; i++) {
        int rc = program(e, i, err);
        if (rc) {
            imc_emul_free(e);
            return rc;
        }
    }
    *out = e;
    return 0;
}

/* ---- one layer's multiply ------------------------------------------------------------------- */

/* GCC vectorises this loop only from -O3 on. */
#if defined(__GNUC__) && !defined(__clang__)
#define VECTORIZE __attribute__((optimize("O3")))
#else
#define VECTORIZE
#endif

/* Shift-add of each output's cell columns: W[o] = sum over c of CODES[o's cell c] x CELLW[c]. */
static VECTORIZE void combine(const float *codes, size_t out, int wpr, int cols, int cpw,
                              const float *cellw, double scale, double *acc)
{
    for (size_t o = 0; o < out; o++) {
        const float *cv = codes + (o / (size_t)wpr) * (size_t)cols + (o % (size_t)wpr) * (size_t)cpw;
        float w = 0;
        for (int c = 0; c < cpw; c++)
            w += cv[c] * cellw[c];
        acc[o] += (double)w * scale;
    }
}

/* The layer's conductances as floats: LE's own, or expanded from its codes into one buffer
 * that keeps the last layer expanded. An LSTM direction multiplies the same layer once per
 * token with a batch of only a few rows; expanding at every call would cost as much as the
 * sgemm itself. NULL when out of memory. */
static const float *layer_g(imc_emul *e, const layer_emul *le)
{
    if (le->g)
        return le->g;
    size_t n = (size_t)le->lp->layer->in * (size_t)le->lp->col_tiles * e->p->cols;
    if (e->gcache_of == le)
        return e->gcache;
    if (n > e->gcache_cap) {
        free(e->gcache);
        e->gcache_of = NULL;
        e->gcache_cap = 0;
        if (!(e->gcache = malloc(n * sizeof *e->gcache)))
            return NULL;
        e->gcache_cap = n;
    }
    for (size_t k = 0; k < n; k++)
        e->gcache[k] = e->level[le->code[k]];
    e->gcache_of = le;
    return e->gcache;
}

static int mvm(void *ctx, size_t li, const float *x, size_t rows, float *y, imc_err *err)
{
    imc_emul *e = ctx;
    const imc_placement *p = e->p;
    layer_emul *le = &e->layers[li];
    const imc_layer_place *lp = le->lp;
    size_t in = (size_t)lp->layer->in, out = (size_t)lp->layer->out;
    size_t width = (size_t)lp->col_tiles * p->cols;
    int32_t qmax = (1 << (e->in_bits - 1)) - 1, offset = 1 << (e->in_bits - 1);
    int diff = e->arch->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL;
    int cb = e->arch->mapping.cell_bits, cpw = p->cells_per_weight, ws = p->slices;
    double woffset = diff ? 0 : ldexp(1, e->arch->mapping.weight_bits - 1);

    float *sx = malloc(rows * sizeof *sx);
    int32_t *xu = malloc(rows * in * sizeof *xu);
    double *acc = calloc(rows * out, sizeof *acc), *xsum = calloc(rows, sizeof *xsum);
    if (!sx || !xu || !acc || !xsum) {
        free(sx), free(xu), free(acc), free(xsum);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    /* inputs: symmetric per vector, then offset to 0 .. 2^bits - 1 for the DACs */
    for (size_t i = 0; i < rows; i++) {
        float m = 0;
        for (size_t k = 0; k < in; k++)
            m = fmaxf(m, fabsf(x[i * in + k]));
        sx[i] = m > 0 ? m / (float)qmax : 1;
        for (size_t k = 0; k < in; k++) {
            long v = lrintf(x[i * in + k] / sx[i]);
            v = v > qmax ? qmax : v < -qmax ? -qmax : v;
            xu[i * in + k] = (int32_t)v + offset;
            xsum[i] += (double)v + offset;
        }
    }
    int rc = le->exact && e->force_full ? cells_ready(e, le, err) : 0;
    if (!rc && le->exact && !e->force_full) {
        /* exact: sum_i x_u w = x_q w + offset sum_i w, in double (integers < 2^53) */
        double *xd = malloc(rows * in * sizeof *xd);
        if (!xd)
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        for (size_t k = 0; xd && k < rows * in; k++)
            xd[k] = xu[k];
        if (xd)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)in, 1.0,
                        xd, (int)in, le->qd, (int)out, 0.0, acc, (int)out);
        free(xd);
    } else if (!rc) {
        /* One sgemm per (input slice, row tile) over all the layer's columns at once; then
         * every column value through the ADC and into the shift-add. */
        int R = p->rows, C = p->cols, dmask = (1 << e->dac_bits) - 1, wpr = p->weights_per_row;
        float *xs = malloc(rows * (size_t)R * sizeof *xs), *v = malloc(rows * width * sizeof *v);
        float cellw[64]; /* each cell column's weight within its weight: +-2^(slice x cell bits) */
        for (int c = 0; c < cpw && c < 64; c++)
            cellw[c] = (float)((diff && c >= ws ? -1 : 1) * ldexp(1, (c % ws) * cb));
        const float *g = layer_g(e, le);
        if (!xs || !v || !g)
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        double codes = ldexp(1, e->adc_bits) - 1;
        for (int s = 0; !rc && s < e->slices; s++) {
            double shift = ldexp(1, s * e->dac_bits);
            for (int rt = 0; rt < lp->row_tiles; rt++) {
                size_t r0 = (size_t)rt * R, nr = in - r0 < (size_t)R ? in - r0 : (size_t)R;
                for (size_t i = 0; i < rows; i++) /* this slice's DAC levels for the row tile */
                    for (size_t r = 0; r < nr; r++)
                        xs[i * nr + r] = e->dac_level[(xu[i * in + r0 + r] >> (s * e->dac_bits)) & dmask];
                double fs = (double)nr * e->dac_top * ((1 << cb) - 1);
                double step = fs > codes ? fs / codes : 1, inv = 1 / step;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)width, (int)nr,
                            1.0f, xs, (int)nr, g + r0 * width, (int)width, 0.0f, v, (int)width);
                for (size_t i = 0; i < rows; i++) {
                    float *vi = v + i * width;
                    double *ai = acc + i * out;
                    e->cell->type->cell->read(e->cell, vi, width, e->rng);
                    e->adc->type->adc->convert(e->adc, vi, width, (float)inv);
                    combine(vi, out, wpr, C, cpw, cellw, step * shift, ai);
                }
            }
        }
        free(xs);
        free(v);
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
    free(sx), free(xu), free(acc), free(xsum);
    return rc;
}

imc_mvm_ops imc_emul_ops(imc_emul *e)
{
    return (imc_mvm_ops){e, mvm};
}
