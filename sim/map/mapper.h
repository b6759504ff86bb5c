/* mapper.h -- weight-stationary placement of a network's weight matrices onto crossbars.
 *
 * Each layer (an `in` x `out` matrix, network.h) is quantized to mapping.weight_bits, each
 * weight sliced into cells of mapping.cell_bits (two column sets for a differential pair, one
 * with an offset encoding), tiled onto crossbars of rows x cols — inputs on rows, the cells of
 * one weight in adjacent columns of one crossbar — and placed layer by layer into whole PEs, so
 * a layer occupies a contiguous range of PEs and tiles. mapping.duplicate copies layers to
 * balance the pipeline. When the network does not fit, mapping.reprogram time-multiplexes the
 * crossbars in rounds and records the rows rewritten per inference; otherwise it is an error
 * naming needed and available crossbars. Knows nothing of time. */
#ifndef IMC_MAPPER_H
#define IMC_MAPPER_H

#include <stdint.h>
#include <stdio.h>

#include "sim/arch/arch.h"
#include "sim/net/network.h"

typedef struct imc_layer_place {
    const imc_layer *layer;
    int copies;            /* 1 + duplicates */
    int row_tiles;         /* crossbars along the inputs: ceil(in / rows) */
    int col_tiles;         /* along the outputs: ceil(out / weights_per_row) */
    int64_t xbars;         /* row_tiles x col_tiles x copies */
    int64_t first_pe, pes; /* chip-wide PE index of its first PE, and its PE count */
    int64_t first_tile, last_tile;
    int round;             /* reprogramming round (0 when the network fits) */
    int64_t cells_used;    /* in x out x cells_per_weight x copies */
    double cell_utilization; /* cells_used / cells of its crossbars */
    int64_t rows_written;  /* crossbar rows rewritten per inference (reprogramming only) */
} imc_layer_place;

typedef struct imc_placement {
    const imc_arch *arch;
    const imc_network *net;
    imc_layer_place *layers; /* one per net->layers entry, same order */
    size_t n_layers;
    int rows, cols;          /* of one crossbar */
    int slices;              /* cell slices per weight (per column set) */
    int cells_per_weight;    /* slices, x2 for a differential pair */
    int weights_per_row;     /* floor(cols / cells_per_weight) */
    int64_t xbars_used, xbars_available;
    int64_t pes_used, pes_available, tiles_used;
    int rounds;              /* 1 when it fits */
    int64_t rows_written;    /* per inference, all layers */
    double cell_utilization; /* of the crossbars in use */
} imc_placement;

/* Place NET on ARCH (both must outlive the placement). */
int imc_mapper_place(imc_placement **out, const imc_arch *arch, const imc_network *net,
                     imc_err *err);

void imc_placement_free(imc_placement *p);

/* The mapping summary (per layer and chip totals). */
void imc_placement_print(const imc_placement *p, FILE *out);

/* Long-format CSV, one row per layer plus a `total` row. */
void imc_placement_csv(const imc_placement *p, FILE *out);

/* Quantize W ([in][out] floats) symmetrically to mapping.weight_bits: q = round(w / scale),
 * |q| <= 2^(bits-1) - 1, scale = max|w| / (2^(bits-1) - 1) (1 when W is all zero). */
float imc_mapper_quantize(const imc_placement *p, const imc_layer_place *lp, const float *w,
                          int32_t *q);

/* The cell levels (0 .. 2^cell_bits - 1) of the crossbar at (XR, XC) of LP's tiling, from the
 * quantized weights Q: cells[r * cols + c], -1 where no weight is placed. Input i = XR x rows +
 * r; output o = XC x weights_per_row + j sits in columns j x cells_per_weight + s, its slice s
 * (least significant first); a differential pair puts the positive part's slices first. */
void imc_mapper_cells(const imc_placement *p, const imc_layer_place *lp, int xr, int xc,
                      const int32_t *q, int16_t *cells);

#endif
