/* numerics.h -- `imcsim --numerics`: run the FP32 and the IMC forward pass of a model over a
 * set of images and compare them: top-1 accuracy of each (when the images have labels), top-1
 * agreement of IMC with FP32, mean cosine similarity of their logits, and per-layer SQNR of
 * the IMC outputs against the FP32 outputs (errors accumulate through the network, as they
 * would on the chip). */
#ifndef IMC_NUMERICS_H
#define IMC_NUMERICS_H

#include <stdio.h>

#include "sim/base/digest.h"
#include "sim/arch/arch.h"
#include "sim/base/err.h"
#include "sim/base/notify.h"

typedef struct imc_numerics_request {
    const char *model;
    const char *dataset;  /* NULL: synthetic images */
    size_t images;        /* how many (0 with a dataset: all; synthetic default 16) */
    unsigned long seed;   /* devices and synthetic images */
    int threads;          /* BLAS threads and emulation workers, 0 = BLAS's default */
    int batch;            /* images per forward pass */
    const char *csv;      /* metrics as long-format CSV */
    const char *logits;   /* FP32 and IMC logits as safetensors */
    const imc_notifier *notify; /* progress in images; NULL: none */
    const imc_provenance *prov; /* recorded in the CSV and the logits file; NULL: none */
} imc_numerics_request;

typedef struct imc_numerics_result {
    size_t n, labelled;
    double top1_fp32, top1_imc; /* fractions, when labelled */
    double agreement;           /* fraction of images whose IMC top-1 equals FP32's */
    double cosine_mean, cosine_min;
    double fp32_s, imc_s;       /* wall seconds per image */
    int exact;                  /* the IMC pass took the exact fast path */
} imc_numerics_result;

int imc_numerics_run(const imc_arch *arch, const imc_numerics_request *rq, FILE *out,
                     imc_numerics_result *res, imc_err *err);

#endif
