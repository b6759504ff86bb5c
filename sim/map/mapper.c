/* mapper.c -- weight-stationary placement and weight slicing (see mapper.h). */
#include "sim/map/mapper.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct dup_ctx {
    imc_placement *p;
    char bad_pattern[128]; /* a copy: the parser's buffer is freed when it returns */
} dup_ctx;

static int apply_duplicate(const char *pattern, int copies, void *data)
{
    dup_ctx *d = data;
    int matched = 0;
    for (size_t i = 0; i < d->p->n_layers; i++)
        if (fnmatch(pattern, d->p->layers[i].layer->name, 0) == 0) {
            d->p->layers[i].copies = copies;
            matched = 1;
        }
    if (!matched) {
        snprintf(d->bad_pattern, sizeof d->bad_pattern, "%s", pattern);
        return 1;
    }
    return 0;
}

/* PEs a layer takes with COPIES copies (copies share PEs: crossbars are packed). */
static int64_t layer_pes(const imc_layer_place *lp, int copies, int per_pe)
{
    return ((int64_t)lp->row_tiles * lp->col_tiles * copies + per_pe - 1) / per_pe;
}

/* Time one copy of layer LP spends per inference: its vectors, each S input slices of one
 * pipeline stage max(crossbar read, the conversions of the columns one ADC shares), as the
 * engine runs them. */
static double copy_time(const imc_placement *p, const imc_layer_place *lp)
{
    const imc_arch *a = p->arch;
    const imc_pe *pe = &a->chip.tile.pe;
    double R = (double)imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    double used = (double)lp->layer->out * p->cells_per_weight;
    used = used < p->cols ? used : p->cols;
    double per_adc = used < pe->columns_per_adc ? used : pe->columns_per_adc;
    double A = per_adc * (double)imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    return (double)lp->layer->vectors * imc_arch_input_slices(a) * (R > A ? R : A) / lp->copies;
}

/* mapping.replicate: auto. Spare PEs go to the layers that bound the token pipeline, as ISAAC
 * balances its pipeline (Shafiee et al., ISCA 2016, section VI): while every layer tied for the
 * longest time per inference can get one more copy, all of them do (a copy for only some of
 * them would not shorten the pipeline). An LSTM's steps wait for each other, so copies of it
 * would idle: it is left alone, as are layers of one vector. */
static int replicable(const imc_layer_place *lp)
{
    return lp->layer->kind != IMC_LAYER_FAR_LSTM && lp->layer->vectors > 1;
}

static void replicate_auto(imc_placement *p, int per_pe)
{
    int64_t used = 0;
    for (size_t i = 0; i < p->n_layers; i++)
        used += layer_pes(&p->layers[i], p->layers[i].copies, per_pe);
    for (;;) {
        double worst = 0;
        for (size_t i = 0; i < p->n_layers; i++)
            if (replicable(&p->layers[i]))
                worst = fmax(worst, copy_time(p, &p->layers[i]));
        if (worst <= 0)
            return;
        int64_t cost = 0;
        for (size_t i = 0; i < p->n_layers; i++) {
            const imc_layer_place *lp = &p->layers[i];
            if (replicable(lp) && copy_time(p, lp) >= worst * (1 - 1e-9))
                cost += layer_pes(lp, lp->copies + 1, per_pe) - layer_pes(lp, lp->copies, per_pe);
        }
        if (used + cost > p->pes_available)
            return;
        for (size_t i = 0; i < p->n_layers; i++) {
            imc_layer_place *lp = &p->layers[i];
            if (replicable(lp) && copy_time(p, lp) >= worst * (1 - 1e-9))
                lp->copies++;
        }
        used += cost;
    }
}

/* *OUT = A x B x C; 1 when that overflows int64 (or a factor is negative). */
static int mul_overflows(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    int64_t ab;
    return a < 0 || b < 0 || c < 0 || __builtin_mul_overflow(a, b, &ab) ||
           __builtin_mul_overflow(ab, c, out);
}

/* The error for layer L, whose products overflow; frees P. */
static int too_large(imc_placement *p, const imc_layer *l, imc_err *err)
{
    int rc = imc_err_set(err, IMC_EINPUT, "layer %s: %d x %d weights are too many to place",
                         l->name, l->in, l->out);
    imc_placement_free(p);
    return rc;
}

int imc_mapper_place(imc_placement **out, const imc_arch *a, const imc_network *net, imc_err *err)
{
    *out = NULL;
    imc_placement *p = calloc(1, sizeof *p);
    if (!p || !(p->layers = calloc(net->n_layers ? net->n_layers : 1, sizeof *p->layers))) {
        free(p);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    p->arch = a;
    p->net = net;
    p->n_layers = net->n_layers;
    p->rows = imc_arch_xbar_rows(a);
    p->cols = imc_arch_xbar_cols(a);
    p->slices = imc_arch_weight_slices(a);
    p->cells_per_weight = imc_arch_cells_per_weight(a);
    p->weights_per_row = p->cols / p->cells_per_weight;
    int per_pe = a->chip.tile.pe.xbars, pes_per_tile = a->chip.tile.pes;
    p->pes_available = (int64_t)a->chip.tiles * pes_per_tile;
    p->xbars_available = p->pes_available * per_pe;

    for (size_t i = 0; i < p->n_layers; i++) {
        p->layers[i].layer = &net->layers[i];
        p->layers[i].copies = 1;
    }
    dup_ctx d = {p, ""};
    char pattern[256];
    if (imc_arch_each_duplicate(a, apply_duplicate, &d, pattern, sizeof pattern) == IMC_ENOMEM) {
        imc_placement_free(p);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    if (d.bad_pattern[0]) {
        int rc = imc_err_set(err, IMC_EINPUT, "mapping.duplicate: '%s' matches no layer of %s",
                             d.bad_pattern, net->name);
        imc_placement_free(p);
        return rc;
    }

    for (size_t i = 0; i < p->n_layers; i++) {
        imc_layer_place *lp = &p->layers[i];
        const imc_layer *l = lp->layer;
        /* A layer's shape comes from a file (a trace, a model): every product is checked, so
         * that an absurd shape is an error and not a wrapped, negative count. */
        if (l->in < 1 || l->out < 1) { /* it would sit on no PE, past the chip's last one */
            int rc = imc_err_set(err, IMC_EINPUT, "layer %s: %d x %d weights, nothing to place",
                                 l->name, l->in, l->out);
            imc_placement_free(p);
            return rc;
        }
        int64_t row_tiles = ((int64_t)l->in + p->rows - 1) / p->rows;
        int64_t col_tiles = ((int64_t)l->out + p->weights_per_row - 1) / p->weights_per_row;
        int64_t most; /* its crossbars with the most copies mapping.duplicate allows */
        if (row_tiles > INT_MAX || col_tiles > INT_MAX ||
            mul_overflows(row_tiles, col_tiles, 4096, &most) ||
            mul_overflows(l->in, l->out, (int64_t)p->cells_per_weight * 4096, &most))
            return too_large(p, l, err);
        lp->row_tiles = (int)row_tiles;
        lp->col_tiles = (int)col_tiles;
    }
    if (a->mapping.replicate == IMC_REPLICATE_AUTO)
        replicate_auto(p, per_pe);

    int64_t pes_needed = 0, cells_used = 0;
    for (size_t i = 0; i < p->n_layers; i++) {
        imc_layer_place *lp = &p->layers[i];
        const imc_layer *l = lp->layer;
        if (mul_overflows(lp->row_tiles, lp->col_tiles, lp->copies, &lp->xbars) ||
            mul_overflows(l->in, l->out, (int64_t)p->cells_per_weight * lp->copies,
                          &lp->cells_used) ||
            __builtin_add_overflow(p->xbars_used, lp->xbars, &p->xbars_used) ||
            __builtin_add_overflow(cells_used, lp->cells_used, &cells_used))
            return too_large(p, l, err);
        lp->pes = layer_pes(lp, lp->copies, per_pe);
        lp->cell_utilization = (double)lp->cells_used / ((double)lp->xbars * p->rows * p->cols);
        pes_needed += lp->pes;
    }
    if (pes_needed > p->pes_available && !a->mapping.reprogram) {
        int rc = imc_err_set(err, IMC_EINPUT,
                             "%s does not fit: it needs %lld crossbars in %lld PEs of %d, the chip "
                             "has %lld crossbars in %lld PEs (set mapping.reprogram: true to "
                             "time-multiplex, or add tiles)", net->name, (long long)p->xbars_used,
                             (long long)pes_needed, per_pe, (long long)p->xbars_available,
                             (long long)p->pes_available);
        imc_placement_free(p);
        return rc;
    }
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        const imc_layer *l = lp->layer;
        if (lp->pes > p->pes_available) {
            int rc = imc_err_set(err, IMC_EINPUT,
                                 "layer %s alone needs %lld crossbars (%lld PEs) but the chip has "
                                 "%lld (%lld PEs), even when reprogrammed", l->name, (long long)lp->xbars,
                                 (long long)lp->pes, (long long)p->xbars_available,
                                 (long long)p->pes_available);
            imc_placement_free(p);
            return rc;
        }
    }

    /* Layer-contiguous placement in whole PEs; a new round when the chip is full. */
    int64_t next_pe = 0;
    p->rounds = 1;
    for (size_t i = 0; i < p->n_layers; i++) {
        imc_layer_place *lp = &p->layers[i];
        if (next_pe + lp->pes > p->pes_available) {
            p->rounds++;
            next_pe = 0;
        }
        lp->round = p->rounds - 1;
        lp->first_pe = next_pe;
        next_pe += lp->pes;
        lp->first_tile = lp->first_pe / pes_per_tile;
        lp->last_tile = (lp->first_pe + lp->pes - 1) / pes_per_tile;
        if (p->rounds == 1 && next_pe > p->pes_used)
            p->pes_used = next_pe;
    }
    if (p->rounds > 1) { /* every layer is rewritten once per inference */
        p->pes_used = p->pes_available;
        for (size_t i = 0; i < p->n_layers; i++) {
            imc_layer_place *lp = &p->layers[i];
            lp->rows_written = (int64_t)lp->layer->in * lp->col_tiles * lp->copies;
            p->rows_written += lp->rows_written;
        }
    }
    p->tiles_used = (p->pes_used + pes_per_tile - 1) / pes_per_tile;
    p->cell_utilization = (double)cells_used / ((double)p->xbars_used * p->rows * p->cols);
    *out = p;
    return 0;
}

void imc_placement_free(imc_placement *p)
{
    if (!p)
        return;
    free(p->layers);
    free(p);
}

void imc_placement_print(const imc_placement *p, FILE *out)
{
    const imc_arch *a = p->arch;
    fprintf(out, "mapping of %s onto %s\n", p->net->name, a->file);
    fprintf(out,
            "  %d-bit weights in %d slice%s of %d-bit cells (%s): %d cells per weight, %d weights "
            "per %d-column crossbar row\n",
            a->mapping.weight_bits, p->slices, p->slices == 1 ? "" : "s", a->mapping.cell_bits,
            a->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL ? "differential pairs"
                                                                : "offset encoding",
            p->cells_per_weight, p->weights_per_row, p->cols);
    fprintf(out, "  %-30s %11s %6s %6s %8s %8s %12s %7s\n", "layer", "in x out", "copies",
            "xbars", "PEs", "tiles", "utilization", "round");
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        char shape[32], tiles[32];
        snprintf(shape, sizeof shape, "%dx%d", lp->layer->in, lp->layer->out);
        if (lp->first_tile == lp->last_tile)
            snprintf(tiles, sizeof tiles, "%lld", (long long)lp->first_tile);
        else
            snprintf(tiles, sizeof tiles, "%lld-%lld", (long long)lp->first_tile,
                     (long long)lp->last_tile);
        fprintf(out, "  %-30s %11s %6d %6lld %8lld %8s %11.1f%% %7d\n", lp->layer->name, shape,
                lp->copies, (long long)lp->xbars, (long long)lp->pes, tiles,
                100 * lp->cell_utilization, lp->round);
    }
    if (p->rounds > 1)
        fprintf(out,
                "  chip: %lld crossbars mapped in %d rounds onto %lld crossbars; cell "
                "utilization of mapped crossbars %.1f %%\n",
                (long long)p->xbars_used, p->rounds, (long long)p->xbars_available,
                100 * p->cell_utilization);
    else
        fprintf(out,
                "  chip: %lld of %lld crossbars used (%.1f %%), %lld of %lld PEs, %lld of %d "
                "tiles; cell utilization of used crossbars %.1f %%\n",
                (long long)p->xbars_used, (long long)p->xbars_available,
                100.0 * (double)p->xbars_used / (double)p->xbars_available,
                (long long)p->pes_used, (long long)p->pes_available, (long long)p->tiles_used,
                a->chip.tiles, 100 * p->cell_utilization);
    if (p->rounds > 1)
        fprintf(out, "  reprogrammed: %d rounds per inference, %lld crossbar rows written per inference\n",
                p->rounds, (long long)p->rows_written);
}

void imc_placement_csv(const imc_placement *p, FILE *out)
{
    fprintf(out, "model,layer,kind,in,out,copies,row_tiles,col_tiles,xbars,first_pe,pes,"
                 "first_tile,last_tile,cell_utilization,round,rows_written_per_inference\n");
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        fprintf(out, "%s,%s,%s,%d,%d,%d,%d,%d,%lld,%lld,%lld,%lld,%lld,%.6f,%d,%lld\n", p->net->name,
                lp->layer->name, imc_layer_kind_name(lp->layer->kind), lp->layer->in,
                lp->layer->out, lp->copies, lp->row_tiles, lp->col_tiles, (long long)lp->xbars,
                (long long)lp->first_pe, (long long)lp->pes, (long long)lp->first_tile,
                (long long)lp->last_tile, lp->cell_utilization, lp->round,
                (long long)lp->rows_written);
    }
    fprintf(out, "%s,total,,,,,,,%lld,0,%lld,0,%lld,%.6f,%d,%lld\n", p->net->name,
            (long long)p->xbars_used, (long long)p->pes_used,
            (long long)(p->tiles_used ? p->tiles_used - 1 : 0), p->cell_utilization, p->rounds - 1,
            (long long)p->rows_written);
}

/* ---- quantization and slicing ------------------------------------------------------------ */

float imc_mapper_quantize(const imc_placement *p, const imc_layer_place *lp, const float *w,
                          int32_t *q)
{
    int64_t n = (int64_t)lp->layer->in * lp->layer->out;
    int32_t qmax = (int32_t)((1u << (p->arch->mapping.weight_bits - 1)) - 1);
    float amax = 0;
    for (int64_t i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(w[i]));
    float scale = amax > 0 ? amax / (float)(qmax ? qmax : 1) : 1;
    for (int64_t i = 0; i < n; i++) {
        long v = lrintf(w[i] / scale);
        q[i] = (int32_t)(v > qmax ? qmax : v < -qmax ? -qmax : v);
    }
    return scale;
}

void imc_mapper_cells(const imc_placement *p, const imc_layer_place *lp, int xr, int xc,
                      const int32_t *q, int16_t *cells)
{
    const imc_layer *l = lp->layer;
    int cb = p->arch->mapping.cell_bits, mask = (1 << cb) - 1;
    int diff = p->arch->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL;
    int64_t offset = diff ? 0 : (int64_t)1 << (p->arch->mapping.weight_bits - 1);
    for (int i = 0; i < p->rows * p->cols; i++)
        cells[i] = -1;
    for (int r = 0; r < p->rows; r++) {
        int in = xr * p->rows + r;
        if (in >= l->in)
            break;
        for (int j = 0; j < p->weights_per_row; j++) {
            int o = xc * p->weights_per_row + j;
            if (o >= l->out)
                break;
            int64_t v = q[(size_t)in * l->out + o];
            int16_t *c = cells + (size_t)r * p->cols + (size_t)j * p->cells_per_weight;
            if (diff) {
                uint64_t pos = v > 0 ? (uint64_t)v : 0, neg = v < 0 ? (uint64_t)-v : 0;
                for (int s = 0; s < p->slices; s++) {
                    c[s] = (int16_t)((pos >> (s * cb)) & (uint64_t)mask);
                    c[p->slices + s] = (int16_t)((neg >> (s * cb)) & (uint64_t)mask);
                }
            } else {
                uint64_t u = (uint64_t)(v + offset);
                for (int s = 0; s < p->slices; s++)
                    c[s] = (int16_t)((u >> (s * cb)) & (uint64_t)mask);
            }
        }
    }
}
