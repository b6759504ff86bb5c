/* roofline.c -- an op graph's kernels on a reference processor (see roofline.h). */
#define _XOPEN_SOURCE 700 /* strdup in older libcs' strict modes */
#include "sim/ref/roofline.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/model.h"
#include "sim/base/suggest.h"
#include "sim/base/units.h"
#include "sim/base/ytree.h"

/* ---- the processor file ------------------------------------------------------------------- */

typedef struct refkey {
    const char *name;
    int type;     /* 0 text, 1 quantity, 2 integer */
    imc_dim dim;
    double min, max;
    size_t offset;
    int required;
} refkey;

static const refkey keys[] = {
    {"reference", 2, IMC_DIM_NONE, 1, 1, 0, 1},
    {"name", 0, IMC_DIM_NONE, 0, 0, offsetof(imc_refproc, name), 1},
    {"doc", 0, IMC_DIM_NONE, 0, 0, offsetof(imc_refproc, doc), 0},
    {"peak_flops", 1, IMC_DIM_NONE, 1, 1e20, offsetof(imc_refproc, peak_flops), 1},
    {"operand_bits", 2, IMC_DIM_NONE, 1, 64, offsetof(imc_refproc, operand_bits), 1},
    {"dram_bandwidth", 1, IMC_DIM_DATARATE, 1, 1e18, offsetof(imc_refproc, dram_bps), 1},
    {"kernel_launch", 1, IMC_DIM_TIME, 0, 1, offsetof(imc_refproc, launch_s), 1},
    {"lstm_step_kernels", 2, IMC_DIM_NONE, 1, 1000, offsetof(imc_refproc, step_kernels), 0},
    {"flop_energy", 1, IMC_DIM_ENERGY, 0, 1e-6, offsetof(imc_refproc, flop_j), 1},
    {"dram_energy_per_bit", 1, IMC_DIM_ENERGY, 0, 1e-6, offsetof(imc_refproc, dram_bit_j), 1},
    {"power", 1, IMC_DIM_POWER, 0, 1e6, offsetof(imc_refproc, power_w), 1},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

void imc_refproc_free(imc_refproc *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->doc);
    free(p->file);
    free(p);
}

static int at(imc_err *err, imc_ymark m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int at(imc_err *err, imc_ymark m, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(err, IMC_EINPUT, m.file, m.line, m.col, "%s", msg);
}

int imc_refproc_load(imc_refproc **out, const char *path, imc_err *err)
{
    *out = NULL;
    imc_ytree *tree;
    int rc = imc_ytree_load_file(&tree, path, err);
    if (rc)
        return rc;
    imc_refproc *p = calloc(1, sizeof *p);
    if (p)
        p->step_kernels = 1;
    if (!p || !(p->file = strdup(path))) {
        free(p);
        imc_ytree_free(tree);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    imc_ynode *root = imc_ytree_root(tree);
    for (size_t i = 0; !rc && i < root->n; i++) {
        const imc_yentry *e = &root->entries[i];
        const refkey *k = NULL;
        for (size_t j = 0; j < N_KEYS && !k; j++)
            if (!strcmp(keys[j].name, e->key))
                k = &keys[j];
        if (!k) {
            const char *names[N_KEYS];
            for (size_t j = 0; j < N_KEYS; j++)
                names[j] = keys[j].name;
            const char *near = imc_suggest(e->key, names, N_KEYS);
            rc = near ? at(err, e->key_mark, "%s: unknown key (did you mean '%s'?)", e->key, near)
                      : at(err, e->key_mark, "%s: unknown key", e->key);
            break;
        }
        const imc_ynode *v = e->val;
        if (v->kind != IMC_Y_SCALAR || v->is_null) {
            rc = at(err, v->mark, "%s: expected a single value", e->key);
            break;
        }
        char *field = (char *)p + k->offset;
        if (k->type == 0) {
            char *copy = strdup(v->scalar);
            if (!copy) {
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
                break;
            }
            free(*(char **)field);
            *(char **)field = copy;
            continue;
        }
        double x;
        char why[256];
        if (k->type == 2) {
            char *end;
            long l = strtol(v->scalar, &end, 10);
            if (end == v->scalar || *end) {
                rc = at(err, v->mark, "%s: '%s' is not an integer", e->key, v->scalar);
                break;
            }
            x = (double)l;
        } else if (imc_quantity_parse(v->scalar, k->dim, &x, why, sizeof why)) {
            rc = at(err, v->mark, "%s: %s", e->key, why);
            break;
        }
        if (x < k->min || x > k->max) {
            rc = at(err, v->mark, "%s: out of its range %g .. %g", e->key, k->min, k->max);
            break;
        }
        if (k->type == 2 && k->offset)
            *(int *)field = (int)x;
        else if (k->type == 1)
            *(double *)field = x;
    }
    for (size_t j = 0; !rc && j < N_KEYS; j++)
        if (keys[j].required && !imc_ynode_find(root, keys[j].name))
            rc = at(err, root->mark, "missing required key '%s'", keys[j].name);
    imc_ytree_free(tree);
    if (rc) {
        imc_refproc_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int imc_refproc_open(imc_refproc **out, const char *name, imc_err *err)
{
    *out = NULL;
    struct stat st;
    if (strchr(name, '/') || stat(name, &st) == 0)
        return imc_refproc_load(out, name, err);
    const char *env = getenv("IMCSIM_DATADIR");
    const char *dirs[3] = {env && *env ? env : NULL, IMC_SRCDIR, IMC_DATADIR};
    char path[4096], looked[1024] = "";
    for (int d = 0; d < 3; d++) {
        if (!dirs[d])
            continue;
        for (int ext = 0; ext < 2; ext++) {
            snprintf(path, sizeof path, "%s/arch-configs/references/%s%s", dirs[d], name,
                     ext ? ".yaml" : "");
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return imc_refproc_load(out, path, err);
        }
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s/arch-configs/references",
                 used ? ", " : "", dirs[d]);
    }
    return imc_err_set(err, IMC_EINPUT,
                       "--reference %s: no such file, nor %s.yaml in %s (shipped: a100, orin, "
                       "xeon-core)", name, name, looked);
}

/* ---- kernels ------------------------------------------------------------------------------ */

/* FLOPs per element of each element-wise function, as LLMCompass counts them on a GPU (Zhang
 * et al., ISCA 2024: an exponential 35 FLOPs on an A100; softmax 3 exponentials + 7; GELU 10 + an
 * exponential; LayerNorm 7); sigmoid and tanh an exponential, an add and a divide. */
static double flops_per(unsigned f)
{
    switch (f) {
    case IMC_DIGITAL_EXP: return 35;
    case IMC_DIGITAL_SIGMOID:
    case IMC_DIGITAL_TANH: return 37;
    case IMC_DIGITAL_GELU: return 45;
    case IMC_DIGITAL_LAYERNORM: return 7;
    case IMC_DIGITAL_SOFTMAX: return 3 * 35 + 7;
    case IMC_DIGITAL_MAC: return 2;
    default: return 1;
    }
}

typedef struct kernel {
    uint64_t key;
    int cls;
    double flops, bits;
} kernel;

typedef struct kernels {
    kernel *k;
    size_t n, cap;
    uint64_t *slot; /* open addressing: index + 1 */
    size_t n_slot;
} kernels;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static kernel *kernel_of(kernels *ks, uint64_t key, int cls)
{
    if (2 * (ks->n + 1) > ks->n_slot) {
        size_t n = ks->n_slot ? 2 * ks->n_slot : 1024;
        uint64_t *slot = calloc(n, sizeof *slot);
        if (!slot)
            return NULL;
        for (size_t i = 0; i < ks->n; i++) {
            size_t s = mix(ks->k[i].key) & (n - 1);
            while (slot[s])
                s = (s + 1) & (n - 1);
            slot[s] = i + 1;
        }
        free(ks->slot);
        ks->slot = slot;
        ks->n_slot = n;
    }
    size_t s = mix(key) & (ks->n_slot - 1);
    for (; ks->slot[s]; s = (s + 1) & (ks->n_slot - 1))
        if (ks->k[ks->slot[s] - 1].key == key)
            return &ks->k[ks->slot[s] - 1];
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? 2 * ks->cap : 256;
        kernel *grown = realloc(ks->k, cap * sizeof *grown);
        if (!grown)
            return NULL;
        ks->k = grown;
        ks->cap = cap;
    }
    ks->k[ks->n] = (kernel){key, cls, 0, 0};
    ks->slot[s] = ++ks->n;
    return &ks->k[ks->n - 1];
}

/* Keys: a kind tag, then up to three fields. */
enum { K_GEMM = 1, K_LSTM_IN, K_STEP, K_MATMUL, K_VECTOR, K_OPERAND };
static uint64_t k4(int tag, uint64_t a, uint64_t b, uint64_t c)
{
    return (uint64_t)tag << 60 | (a & 0xfffff) << 40 | (b & 0xfffff) << 20 | (c & 0xfffff);
}

int imc_roofline_run(const imc_refproc *p, const imc_flow *g, imc_ref_result *res, imc_err *err)
{
    memset(res, 0, sizeof *res);
    kernels ks = {0};
    double ob = p->operand_bits, ab = g->act_bits > 0 ? g->act_bits : 8;
    int T = g->tokens > 0 ? g->tokens : 1;
    int failed = 0;
    for (size_t i = 0; i < g->n_ops && !failed; i++) {
        const imc_op *op = &g->ops[i];
        kernel *k = NULL;
        double flops = 0, bits = 0;
        if (op->kind == IMC_OP_MVM) {
            const imc_layer *l = &g->layers[op->layer];
            double in = l->in, out = l->out;
            if (l->kind == IMC_LAYER_FAR_LSTM) { /* [W_ih | W_hh]: split the two */
                double hid = out / 4, x = in - hid;
                int step = l->dir == IMC_DIR_FWD ? (int)op->token : T - 1 - (int)op->token;
                /* kernel_of may move the kernels: the marker first, then the kernel */
                kernel *first = kernel_of(&ks, k4(K_OPERAND, (uint64_t)op->layer, 0, 0), 0);
                int weights_read = first && first->flops == 0; /* the layer's weights, once */
                if (weights_read)
                    first->flops = 1;
                if (!first ||
                    !(k = kernel_of(&ks, k4(K_LSTM_IN, (uint64_t)l->block, 0, 0), IMC_CLS_MVM))) {
                    failed = 1;
                    break;
                }
                k->flops += 2 * x * out;
                k->bits += (x + out) * ob;
                if (weights_read)
                    k->bits += in * out * ob;
                if (!(k = kernel_of(&ks, k4(K_STEP, (uint64_t)l->block, (uint64_t)step, 0),
                                    IMC_CLS_LSTM_CELL))) {
                    failed = 1;
                    break;
                }
                flops = 2 * hid * out;
                bits = 0; /* the state and the weights stay on chip between steps */
            } else {
                /* the layers of one kind in a block (a FAR block's heads) run as one GEMM */
                if (!(k = kernel_of(&ks, k4(K_GEMM, (uint64_t)l->kind, (uint64_t)(l->block + 1), 0),
                                    IMC_CLS_MVM))) {
                    failed = 1;
                    break;
                }
                kernel *first = kernel_of(&ks, k4(K_OPERAND, (uint64_t)op->layer, 1, 0), 0);
                if (!first) {
                    failed = 1;
                    break;
                }
                if (first->flops == 0) { /* the layer's weights, read once */
                    first->flops = 1;
                    bits += in * out * ob;
                }
                flops = 2 * in * out;
                bits += (in + out) * ob;
            }
        } else if (op->kind == IMC_OP_MATMUL) {
            if (!(k = kernel_of(&ks, k4(K_MATMUL, op->name, op->cls, 0), op->cls))) {
                failed = 1;
                break;
            }
            kernel *operand = kernel_of(&ks, k4(K_OPERAND, op->name, op->cls, (uint64_t)op->head + 1), 0);
            if (!operand) {
                failed = 1;
                break;
            }
            flops = 2.0 * op->m * op->k * op->n;
            bits = ((double)op->m * op->k + (double)op->m * op->n) * ob;
            if (operand->flops == 0) { /* a head's K or V, once */
                operand->flops = 1;
                bits += (double)op->k * op->n * ob;
            }
        } else if (op->kind == IMC_OP_VECTOR) {
            for (int w = 0; w < op->n_work; w++)
                flops += op->work[w].count * flops_per(op->work[w].func);
            if (op->cls == IMC_CLS_LSTM_CELL && op->site >= 0) { /* fused into its step */
                const imc_layer *l = &g->layers[op->site];
                int step = l->dir == IMC_DIR_FWD ? (int)op->token : T - 1 - (int)op->token;
                k = kernel_of(&ks, k4(K_STEP, (uint64_t)l->block, (uint64_t)step, 0), IMC_CLS_LSTM_CELL);
            } else {
                k = kernel_of(&ks, k4(K_VECTOR, op->name, op->cls, 0), op->cls);
                bits = (double)(op->in_bits + op->out_bits) / ab * ob;
            }
            if (!k) {
                failed = 1;
                break;
            }
        } else {
            continue; /* stores and barriers are the chip's; input and output are the host's */
        }
        k->flops += flops;
        k->bits += bits;
    }
    if (failed) {
        free(ks.k);
        free(ks.slot);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ks.n; i++) {
        const kernel *k = &ks.k[i];
        if (k->key >> 60 == K_OPERAND)
            continue;
        double compute = k->flops / p->peak_flops, memory = k->bits / p->dram_bps;
        double n = k->key >> 60 == K_STEP ? p->step_kernels : 1, launch = n * p->launch_s;
        double t = compute > memory ? compute : memory;
        if (launch >= t) {
            t = launch;
            res->launch_bound += n;
        }
        res->kernels += n;
        res->latency_s += t;
        res->flops += k->flops;
        res->dram_bits += k->bits;
        res->time_s[k->cls] += t;
        res->flops_of[k->cls] += k->flops;
        res->kernels_of[k->cls] += n;
    }
    res->energy_j = p->power_w * res->latency_s;
    res->dynamic_j = res->flops * p->flop_j + res->dram_bits * p->dram_bit_j;
    free(ks.k);
    free(ks.slot);
    return 0;
}
