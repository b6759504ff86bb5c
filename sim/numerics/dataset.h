/* dataset.h -- images (and labels) for the reference numerics: the MNIST family's IDX files, a
 * safetensors file of `images` [N, C, H, W] and `labels` [N], or seeded synthetic images; and
 * the --logits output. Images are returned as floats ready for the model: IDX bytes scaled to
 * [0, 1], then normalised by the model's __metadata__ input_mean / input_std when it has them. */
#ifndef IMC_DATASET_H
#define IMC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/err.h"
#include "sim/base/digest.h"
#include "sim/net/network.h"

typedef struct imc_dataset {
    size_t n;
    int channels, height, width;
    float *images;   /* n x channels x height x width */
    int32_t *labels; /* n labels, or NULL when the source has none */
} imc_dataset;

/* Load up to MAX images (0: all) from PATH: a directory of IDX files
 * (PATH/t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], or PATH itself when it
 * names an images file), or a safetensors file with `images` and optionally `labels`. The
 * images must have NET's channels and size; they are normalised as NET's metadata says.
 * Errors name the file (and the tensor or IDX field). */
int imc_dataset_load(imc_dataset **out, const char *path, size_t max, const imc_network *net,
                     imc_err *err);

/* N synthetic images for NET from SEED: uniform in [0, 1), then normalised like real ones. */
int imc_dataset_synthetic(imc_dataset **out, size_t n, const imc_network *net, unsigned long seed,
                          imc_err *err);

void imc_dataset_free(imc_dataset *d);

/* Write the FP32 and IMC logits ([n][classes] each) as a safetensors file with tensors `fp32`
 * and `imc` (and `labels` when given), atomically. */
int imc_logits_write(const char *path, const float *fp32, const float *imc, const int32_t *labels,
                     size_t n, int classes, const imc_provenance *prov, imc_err *err);

#endif
