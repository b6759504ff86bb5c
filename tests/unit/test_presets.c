/* test_presets.c -- the six shipped model sizes written by imcsim-model gen have the exact
 * parameter counts of the real networks. DeiT: docs/SOURCES.md (Touvron et al., ICML 2021; timm, exact counts).
 * FAR: the effective count per block from the same file, 2 D^2 + 16 D^2/N + 2 D^2/N + 19 D in
 * place of attention's 4 D^2 + 4 D; FAR-Ti 7.52 M, FAR-S 23.89 M, FAR-B 83.17 M.
 * Writes up to ~0.6 GB of temporary files, so CI runs it natively, not under valgrind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testdir.h"

static imc_network *generate(const char *preset, double prune, imc_netfile **nf)
{
    imc_modelgen_spec s;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_modelgen_preset(preset, &s, &err), 0);
    s.prune = prune;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.bin", test_dir, preset);
    CU_ASSERT_EQUAL_FATAL(imc_modelgen_write(&s, path, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(nf, path, &err), 0);
    imc_network *net = NULL;
    if (imc_network_load(&net, *nf, &err))
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    unlink(path); /* the mapping stays valid until closed */
    return net;
}

/* FAR effective parameters of a timm-sized model, from the per-block formula in docs/SOURCES.md (FAR). */
static long long far_effective(long long D, long long N, long long deit_total)
{
    long long attn = 4 * D * D + 4 * D;
    long long far = 2 * D * D + 16 * D * D / N + 2 * D * D / N + 19 * D;
    return deit_total + 12 * (far - attn);
}

static void check(const char *preset, long long total, long long effective)
{
    imc_netfile *nf;
    imc_network *net = generate(preset, 0, &nf);
    if (net->params_total != total || net->params_effective != effective)
        fprintf(stderr, "\n%s: total %lld (want %lld), effective %lld (want %lld)\n", preset,
                (long long)net->params_total, total, (long long)net->params_effective, effective);
    CU_ASSERT_EQUAL(net->params_total, total);
    CU_ASSERT_EQUAL(net->params_effective, effective);
    imc_network_free(net);
    imc_netfile_close(nf);
}

/* docs/SOURCES.md: DeiT-Ti 5,717,416; DeiT-S 22,050,664; DeiT-B 86,567,656 (exact). */
static void test_deit_ti(void) { check("deit-ti", 5717416, 5717416); }
static void test_deit_s(void) { check("deit-s", 22050664, 22050664); }
static void test_deit_b(void) { check("deit-b", 86567656, 86567656); }

/* docs/SOURCES.md: FAR-Ti 7.52 M, FAR-S 23.89 M, FAR-B 83.17 M effective. The masked LSTM tensors hold
 * 16 D^2 + 16 D weights per block (+ head_proj 2 D^2), so total exceeds effective. */
static void test_far(void)
{
    static const struct {
        const char *preset;
        long long D, N, deit, approx;
    } far[] = {{"far-ti", 192, 3, 5717416, 7520000},
               {"far-s", 384, 6, 22050664, 23890000},
               {"far-b", 768, 12, 86567656, 83170000}};
    for (int i = 0; i < 3; i++) {
        long long eff = far_effective(far[i].D, far[i].N, far[i].deit);
        long long D = far[i].D;
        long long total = far[i].deit + 12 * ((2 * D * D + 2 * D) + 2 * (8 * D * D + 8 * D) +
                                              (2 * D * D + D) - (4 * D * D + 4 * D));
        /* the formula agrees with the paper's rounded figures (+-0.01 M) */
        CU_ASSERT(llabs(eff - far[i].approx) <= 10000);
        check(far[i].preset, total, eff);
    }
}

/* Pruning half of the hidden units of FAR-S: k = 32 of 64 units per head and direction. */
static void test_far_s_pruned(void)
{
    imc_netfile *nf;
    imc_network *net = generate("far-s", 0.5, &nf);
    long long D = 384, N = 6, hd = 64, k = 32;
    long long lstm = 2 * N * (4 * k * hd + 4 * k * k + 8 * k), head_proj = N * hd * 2 * k + D;
    long long far_block = 2 * D * D + 2 * D + lstm + head_proj;
    long long want = 22050664 + 12 * (far_block - (4 * D * D + 4 * D));
    CU_ASSERT_EQUAL(net->params_effective, want);
    for (int b = 0; b < net->depth; b++)
        for (int i = 0; i < 2 * net->num_heads; i++)
            CU_ASSERT_EQUAL(net->blocks[b].far[i].hidden, k);
    imc_network_free(net);
    imc_netfile_close(nf);
}

static int setup(void)
{
    return test_dir_make("presets");
}

static CU_TestInfo tests[] = {
    {"DeiT-Ti parameters", test_deit_ti},
    {"DeiT-S parameters", test_deit_s},
    {"DeiT-B parameters", test_deit_b},
    {"FAR-Ti/S/B parameters", test_far},
    {"FAR-S pruned 50 %", test_far_s_pruned},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "presets"
#define SUITE_INIT setup
#define SUITE_CLEANUP test_dir_remove
#include "tests/unit/cunit_main.h"
