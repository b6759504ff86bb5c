/* alloc_fail.c -- allocation-failure testing in the manner of SQLite's: every loader and one
 * whole simulation are run once to count their allocations, then once more for every k with
 * the k-th allocation failing (and again with the k-th and every later one failing). Each run
 * must end in a clean error -- a non-zero status, IMC_ENOMEM, a one-line message -- or, when
 * the failure fell on an allocation whose loss the code may absorb, in success; and afterwards
 * every block allocated must have been freed.
 *
 * The program is linked with -Wl,--wrap for malloc, calloc, realloc, strdup, strndup and free,
 * so the allocations of imcsim's own code (libimc.a) come through here, cJSON's too (netfile.c
 * routes them through its hooks); those inside libyaml, zlib and libc are not failed. The
 * live-block table catches leaks of imcsim's allocations; valgrind and ASan (CI runs this
 * program under both) catch the rest. Exit status 0, or 1 naming the case, k and what went
 * wrong. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/arch/arch.h"
#include "sim/base/ytree.h"
#include "sim/engine/engine.h"
#include "sim/flow/dataflow.h"
#include "sim/flow/trace.h"
#include "sim/map/mapper.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"
#include "sim/numerics/dataset.h"
#include "sim/numerics/forward.h"
#include "sim/sweep/expr.h"
#include "sim/sweep/spec.h"

/* ---- the failing allocator ---------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

static long counted;   /* allocations since counting started */
static long fail_at;   /* fail this one (1-based); 0: none */
static int persistent; /* fail every one from fail_at on */
static int armed;      /* counting and failing are on */

#define LIVE_CAP (1u << 21)
static void *live[LIVE_CAP]; /* open addressing; (void *)1 marks a removed slot */
static long n_live;

static size_t slot_of(const void *p)
{
    return ((size_t)p >> 4) * 2654435761u & (LIVE_CAP - 1);
}

static void live_add(void *p)
{
    if (!p)
        return;
    size_t i = slot_of(p);
    while (live[i] && live[i] != (void *)1)
        i = (i + 1) & (LIVE_CAP - 1);
    live[i] = p;
    n_live++;
}

/* 1 when P was one of ours (and is now forgotten). */
static int live_remove(void *p)
{
    if (!p)
        return 0;
    for (size_t i = slot_of(p); live[i]; i = (i + 1) & (LIVE_CAP - 1))
        if (live[i] == p) {
            live[i] = (void *)1;
            n_live--;
            return 1;
        }
    return 0;
}

static int should_fail(void)
{
    if (!armed)
        return 0;
    counted++;
    return fail_at && (counted == fail_at || (persistent && counted > fail_at));
}

void *__wrap_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_malloc(n);
    live_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = __real_calloc(n, size);
    live_add(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL; /* P stays valid, as realloc promises */
    int ours = live_remove(p);
    void *q = __real_realloc(p, n);
    if (q || !ours)
        live_add(q);
    else
        live_add(p);
    return q;
}

char *__wrap_strdup(const char *s)
{
    if (should_fail())
        return NULL;
    char *p = __real_strdup(s);
    live_add(p);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (should_fail())
        return NULL;
    char *p = __real_strndup(s, n);
    live_add(p);
    return p;
}

void __wrap_free(void *p)
{
    live_remove(p);
    __real_free(p);
}

/* ---- the cases ---------------------------------------------------------------------------- */

static char dir[64];
static char reram_text[16384];
static char model_path[128], trace_path[128], spec_path[128], idx_path[128], graph_path[4200];

typedef int (*case_fn)(imc_err *err);

static int case_ytree(imc_err *err)
{
    imc_ytree *t = NULL;
    int rc = imc_ytree_load_string(&t, "a: &x {k: [1, '2', {z: ~}]}\nb: *x\nc: [d, e]\n", "y.yaml",
                                   err);
    if (!rc)
        rc = imc_ytree_set(t, "a.k2.deep=3", 1, err);
    imc_ytree_free(t);
    return rc;
}

static int case_arch(imc_err *err)
{
    const char *sets[] = {"chip.tiles=64", "chip.tile.pe.adc.model=adc/flash",
                          "mapping.duplicate=head=2"};
    imc_arch *a = NULL;
    int rc = imc_arch_load_string(&a, reram_text, "reram.yaml", sets, 3, err);
    imc_arch_free(a);
    return rc;
}

static int case_spec(imc_err *err)
{
    imc_sweep_spec *s = NULL;
    int rc = imc_sweep_spec_load(&s, spec_path, err);
    imc_sweep_spec_free(s);
    return rc;
}

static int case_expr(imc_err *err)
{
    static const char *const keys[] = {"a", "b"}, *const vals[] = {"6", "x"};
    imc_expr *e = NULL;
    int holds;
    int rc = imc_expr_parse(&e, "(a * 2 > 3 && b == 'x') || !(a % 4 == 1)", keys, 2, "s.yaml", 1,
                            1, err);
    if (!rc)
        rc = imc_expr_eval(e, vals, &holds, err);
    imc_expr_free(e);
    return rc;
}

static int case_trace(imc_err *err)
{
    imc_flow *g = NULL;
    imc_network *net = NULL;
    int rc = imc_trace_read(&g, trace_path, err);
    if (!rc)
        rc = imc_flow_network(g, &net, err);
    imc_network_free(net);
    imc_flow_free(g);
    return rc;
}

static int case_dataset(imc_err *err)
{
    imc_network net;
    memset(&net, 0, sizeof net);
    net.img_size = net.in_h = net.in_w = 4;
    net.in_chans = 1;
    net.num_classes = 10;
    imc_dataset *d = NULL;
    int rc = imc_dataset_load(&d, idx_path, 0, &net, err);
    imc_dataset_free(d);
    return rc;
}

/* Model file PATH through the network builder, the mapper, the dataflow and the engine (a batch
 * of BATCH), and with FORWARD set the forward pass on one zero input. */
static int simulate(const char *path, int batch, int forward, imc_err *err)
{
    imc_arch *a = NULL;
    imc_netfile *nf = NULL;
    imc_network *net = NULL;
    imc_placement *p = NULL;
    imc_flow *g = NULL;
    imc_forward *fwd = NULL;
    imc_engine_result res;
    memset(&res, 0, sizeof res);
    int rc = imc_arch_load_string(&a, reram_text, "reram.yaml", NULL, 0, err);
    if (!rc)
        rc = imc_netfile_open(&nf, path, err);
    if (!rc)
        rc = imc_network_load(&net, nf, err);
    if (!rc)
        rc = imc_mapper_place(&p, a, net, err);
    imc_dataflow_opts o = {.act_bits = 8, .query_tile = 4};
    if (!rc)
        rc = imc_dataflow_build(&g, net, &o, err);
    imc_engine_opts eo = {.kernel = IMC_KERNEL_NATIVE, .batch = batch};
    if (!rc)
        rc = imc_engine_run(a, p, g, &eo, &res, err);
    if (!rc)
        imc_engine_result_free(&res);
    static float image[4096], logits[1000];
    if (!rc && forward && (size_t)net->num_classes <= sizeof logits / sizeof *logits &&
        imc_node_numel(&net->graph.nodes[0]) <= sizeof image / sizeof *image) {
        rc = imc_forward_new(&fwd, net, err);
        if (!rc)
            rc = imc_forward_run(fwd, image, 1, logits, NULL, NULL, err);
    }
    imc_forward_free(fwd);
    imc_flow_free(g);
    imc_placement_free(p);
    imc_network_free(net);
    imc_netfile_close(nf);
    imc_arch_free(a);
    return rc;
}

/* The tiny DeiT/FAR model. */
static int case_simulation(imc_err *err)
{
    return simulate(model_path, 2, 0, err);
}

/* An imported model (a graph in the file's metadata, tests/data/ref_lstm_lm): the graph's JSON
 * reader and checks, the generic layers, the graph's dataflow, the engine and the forward
 * pass over the graph. */
static int case_graph(imc_err *err)
{
    return simulate(graph_path, 1, 1, err);
}

static const struct {
    const char *name;
    case_fn fn;
} cases[] = {
    {"ytree", case_ytree},     {"arch", case_arch},       {"spec", case_spec},
    {"expr", case_expr},       {"trace", case_trace},     {"dataset", case_dataset},
    {"simulation", case_simulation}, {"graph", case_graph},
};

/* Run case I with the k-th allocation failing; 0 when it behaved, else 1 (printed). */
static int run_one(size_t i, long k, int persist, long *allocs)
{
    imc_err err;
    imc_err_clear(&err);
    counted = 0;
    fail_at = k;
    persistent = persist;
    long before = n_live;
    armed = 1;
    int rc = cases[i].fn(&err);
    armed = 0;
    *allocs = counted;
    const char *what = NULL;
    if (!k && rc)
        what = "fails without any allocation failing";
    else if (rc && (rc != IMC_ENOMEM || err.status != IMC_ENOMEM))
        what = "an allocation failure is not reported as out of memory";
    else if (rc && (!err.msg[0] || strchr(err.msg, '\n')))
        what = "no one-line message";
    else if (n_live != before)
        what = "leaks";
    if (!what)
        return 0;
    fprintf(stderr, "alloc_fail: %s, allocation %ld failing%s: %s (status %d, %ld blocks left: "
            "%s)\n", cases[i].name, k, persist ? " and every later one" : "", what, rc,
            n_live - before, err.msg);
    return 1;
}

static int setup(void)
{
    const char *src = getenv("IMCSIM_SRCDIR");
    char path[4200];
    snprintf(path, sizeof path, "%s/arch-configs/reram.yaml", src && *src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f || fread(reram_text, 1, sizeof reram_text - 1, f) == 0) {
        fprintf(stderr, "alloc_fail: cannot read %s (set IMCSIM_SRCDIR)\n", path);
        return -1;
    }
    fclose(f);
    snprintf(dir, sizeof dir, "%s/imcsim-alloc-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(model_path, sizeof model_path, "%s/tiny.bin", dir);
    snprintf(graph_path, sizeof graph_path, "%s/tests/data/ref_lstm_lm.model.safetensors",
             src && *src ? src : ".");
    snprintf(trace_path, sizeof trace_path, "%s/tiny.trace", dir);
    snprintf(spec_path, sizeof spec_path, "%s/spec.yaml", dir);
    snprintf(idx_path, sizeof idx_path, "%s/images-idx3-ubyte", dir);
    /* the tiny DeiT of the unit tests with one FAR block: every layer kind */
    imc_modelgen_spec ms;
    memset(&ms, 0, sizeof ms);
    snprintf(ms.name, sizeof ms.name, "tiny");
    ms.embed_dim = 16, ms.num_heads = 2, ms.depth = 2, ms.mlp_hidden = 32, ms.img_size = 8;
    ms.patch_size = 4, ms.in_chans = 1, ms.num_classes = 10, ms.seed = 7, ms.far_blocks = 1;
    imc_err err;
    imc_err_clear(&err);
    imc_arch *a = NULL;
    imc_netfile *nf = NULL;
    imc_network *net = NULL;
    imc_flow *g = NULL;
    int rc = imc_modelgen_write(&ms, model_path, &err);
    if (!rc)
        rc = imc_arch_load_string(&a, reram_text, "reram.yaml", NULL, 0, &err);
    if (!rc)
        rc = imc_netfile_open(&nf, model_path, &err);
    if (!rc)
        rc = imc_network_load(&net, nf, &err);
    imc_dataflow_opts o = {.act_bits = 8, .drop_mixer = 0};
    if (!rc)
        rc = imc_dataflow_build(&g, net, &o, &err);
    FILE *tf = rc ? NULL : fopen(trace_path, "w");
    if (tf) {
        rc = imc_trace_write(g, tf, &err);
        fclose(tf);
    }
    imc_flow_free(g);
    imc_network_free(net);
    imc_netfile_close(nf);
    imc_arch_free(a);
    FILE *sf = fopen(spec_path, "w"), *xf = fopen(idx_path, "wb");
    if (rc || !sf || !xf) {
        fprintf(stderr, "alloc_fail: setup: %s\n", err.msg);
        return -1;
    }
    fprintf(sf, "arch: reram.yaml\nmodels: [tiny.bin, {file: other.bin, label: o}]\n"
                "set: {chip.tiles: 64}\naxes: {chip.tile.pe.adc.bits: [4, 6, 8], a.b: [x, y, z]}\n"
                "linked: [[chip.tile.pe.adc.bits, a.b]]\n"
                "constraints: [\"chip.tile.pe.adc.bits > 4 || a.b == 'x'\"]\nnumerics: {images: 2}\n");
    fclose(sf);
    unsigned char idx[16 + 3 * 16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4};
    fwrite(idx, 1, sizeof idx, xf);
    fclose(xf);
    return 0;
}

static void teardown(void)
{
    unlink(model_path);
    unlink(trace_path);
    unlink(spec_path);
    unlink(idx_path);
    rmdir(dir);
}

int main(void)
{
    if (setup() != 0) {
        teardown();
        return 99;
    }
    int bad = 0;
    long runs = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long total, got;
        bad += run_one(i, 0, 0, &total);
        for (long k = 1; k <= total; k++) {
            bad += run_one(i, k, 0, &got);
            bad += run_one(i, k, 1, &got);
            runs += 2;
        }
        printf("alloc_fail: %-10s %6ld allocations, each failed alone and with every later one\n",
               cases[i].name, total);
    }
    teardown();
    printf("alloc_fail: %ld runs, %d not clean\n", runs, bad);
    return bad ? 1 : 0;
}
