/* modelgen.h -- synthetic DeiT and FAR model files with the exact shapes, names and metadata of
 * real ones (timm VisionTransformer; FAR reference code), filled with seeded random weights.
 * They show what a network costs, not how accurate it is. Used by `imcsim-model gen`. */
#ifndef IMC_MODELGEN_H
#define IMC_MODELGEN_H

#include <stdint.h>

#include "sim/base/err.h"

typedef struct imc_modelgen_spec {
    char name[64];    /* model_name written to __metadata__ */
    int embed_dim, depth, num_heads, mlp_hidden;
    int img_size, patch_size, in_chans, num_classes;
    uint64_t far_blocks; /* bit b set: block b is FAR (blocks >= 64 follow bit 63) */
    double prune;     /* fraction of hidden units removed per FAR head and direction */
    int split;        /* FAR blocks in per-head split form (else the masked single LSTM) */
    unsigned long seed;
} imc_modelgen_spec;

/* Fill SPEC with a preset: deit-ti, deit-s, deit-b, far-ti, far-s, far-b (timm sizes, 224 px
 * images, 16 px patches, 3 channels, 1000 classes; FAR: every block replaced). */
int imc_modelgen_preset(const char *preset, imc_modelgen_spec *spec, imc_err *err);

/* Check a spec (dims divisible by heads, image by patch, ...). */
int imc_modelgen_check(const imc_modelgen_spec *spec, imc_err *err);

/* Write the model file PATH (atomically). */
int imc_modelgen_write(const imc_modelgen_spec *spec, const char *path, imc_err *err);

/* Is block B of SPEC a FAR block? */
int imc_modelgen_is_far(const imc_modelgen_spec *spec, int b);

#endif
