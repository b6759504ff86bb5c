/* testmodels.h -- tiny generated models for the CUnit suites that read model files.
 *
 * print_err() shows an unexpected error before the assertion that fails on it; tiny_spec() is
 * the tiny DeiT (D 48, 3 heads, depth 2, MLP 96, 32 px images in 8 px patches, 3 channels,
 * 10 classes, seed 7) with FAR blocks, pruning and the split form as asked; gen_file() writes a
 * spec into the suite's test_dir (testdir.h; the suite makes and removes it) and opens it,
 * unlinking the file at once (the mapping outlives the name); gen_model() loads it as a
 * network too. Header only: include it once per suite. */
#ifndef IMC_TESTMODELS_H
#define IMC_TESTMODELS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testdir.h"

static inline void print_err(const imc_err *err)
{
    char line[1024];
    imc_err_format(err, line, sizeof line);
    fprintf(stderr, "\n  unexpected error: %s\n", line);
}

/* The tiny DeiT: FAR_BLOCKS, PRUNE and SPLIT vary. */
static inline imc_modelgen_spec tiny_spec(uint64_t far_blocks, double prune, int split)
{
    imc_modelgen_spec s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "tiny");
    s.embed_dim = 48;
    s.num_heads = 3;
    s.depth = 2;
    s.mlp_hidden = 96;
    s.img_size = 32;
    s.patch_size = 8;
    s.in_chans = 3;
    s.num_classes = 10;
    s.far_blocks = far_blocks;
    s.prune = prune;
    s.split = split;
    s.seed = 7;
    return s;
}

/* test_dir/TAG.safetensors */
static inline void test_model_path(char *buf, size_t size, const char *tag)
{
    snprintf(buf, size, "%s/%s.safetensors", test_dir, tag);
}

/* Open PATH and unlink it at once (the mapping outlives the name). */
static inline imc_netfile *open_and_unlink(const char *path)
{
    imc_netfile *nf = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_netfile_open(&nf, path, &err))
        print_err(&err);
    unlink(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nf);
    return nf;
}

/* Generate SPEC as TAG and open it (not yet loaded as a network). */
static inline imc_netfile *gen_file(const imc_modelgen_spec *spec, const char *tag)
{
    char path[4200];
    test_model_path(path, sizeof path, tag);
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_modelgen_write(spec, path, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return open_and_unlink(path);
}

typedef struct model {
    imc_netfile *nf;
    imc_network *net;
} model;

/* Generate SPEC as TAG, open it and load the network. */
static inline model gen_model(const imc_modelgen_spec *spec, const char *tag)
{
    model m = {gen_file(spec, tag), NULL};
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_network_load(&m.net, m.nf, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m.net);
    return m;
}

static inline void free_model(model *m)
{
    imc_network_free(m->net);
    imc_netfile_close(m->nf);
}

#endif
