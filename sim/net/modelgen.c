/* modelgen.c -- write synthetic DeiT / FAR model files (see modelgen.h).
 *
 * Weights are drawn from one GSL random stream seeded by spec->seed, in tensor order, so the
 * same spec always gives the same bytes. Linear weights, biases, tokens and positions follow
 * timm's init (normal, std 0.02); LSTM weights PyTorch's (uniform +-1/sqrt(hidden)). Pruned
 * FAR units are removed in every gate at once (FAR's Group-HS rule): zero rows in W_ih and
 * W_hh, zero biases, zero W_hh column and zero head_proj columns in the masked form; simply
 * absent in the split form. */
#include "sim/net/modelgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/net/netfile.h"

static const struct {
    const char *name;
    int dim, heads, far;
} presets[] = {
    {"deit-ti", 192, 3, 0}, {"deit-s", 384, 6, 0}, {"deit-b", 768, 12, 0},
    {"far-ti", 192, 3, 1},  {"far-s", 384, 6, 1},  {"far-b", 768, 12, 1},
};

int imc_modelgen_preset(const char *preset, imc_modelgen_spec *s, imc_err *err)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(presets[i].name, preset) != 0)
            continue;
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", preset);
        s->embed_dim = presets[i].dim;
        s->num_heads = presets[i].heads;
        s->depth = 12;
        s->mlp_hidden = 4 * presets[i].dim;
        s->img_size = 224;
        s->patch_size = 16;
        s->in_chans = 3;
        s->num_classes = 1000;
        s->far_blocks = presets[i].far ? ~0ULL : 0;
        s->seed = 1;
        return 0;
    }
    return imc_err_set(err, IMC_EINPUT,
                       "unknown model '%s' (one of deit-ti, deit-s, deit-b, far-ti, far-s, far-b)",
                       preset);
}

int imc_modelgen_is_far(const imc_modelgen_spec *s, int b)
{
    return (int)((s->far_blocks >> (b < 63 ? b : 63)) & 1);
}

int imc_modelgen_check(const imc_modelgen_spec *s, imc_err *err)
{
    const struct {
        const char *what;
        int v, max;
    } dims[] = {{"embed dim", s->embed_dim, 16384}, {"depth", s->depth, 1024},
                {"heads", s->num_heads, 1024},      {"mlp hidden", s->mlp_hidden, 65536},
                {"image size", s->img_size, 8192},  {"patch size", s->patch_size, 1024},
                {"channels", s->in_chans, 64},      {"classes", s->num_classes, 1 << 20}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i].v < 1 || dims[i].v > dims[i].max)
            return imc_err_set(err, IMC_EINPUT, "%s %d is outside 1..%d", dims[i].what, dims[i].v,
                               dims[i].max);
    if (s->embed_dim % s->num_heads)
        return imc_err_set(err, IMC_EINPUT, "embed dim %d is not divisible by %d heads",
                           s->embed_dim, s->num_heads);
    if (s->img_size % s->patch_size)
        return imc_err_set(err, IMC_EINPUT, "image size %d is not divisible by patch size %d",
                           s->img_size, s->patch_size);
    if (!(s->prune >= 0 && s->prune < 1))
        return imc_err_set(err, IMC_EINPUT, "prune fraction %g is outside [0, 1)", s->prune);
    return 0;
}

/* ---- building the tensors ----------------------------------------------------------------- */

typedef struct gen {
    imc_netwriter *w;
    gsl_rng *rng;
    float **owned; /* every array handed to the writer, freed after writing */
    size_t n_owned, cap_owned;
    imc_err *err;
} gen;

static float *alloc_tensor(gen *g, int64_t n)
{
    if (g->n_owned == g->cap_owned) {
        size_t cap = g->cap_owned ? 2 * g->cap_owned : 256;
        float **grown = realloc(g->owned, cap * sizeof *grown);
        if (!grown)
            return NULL;
        g->owned = grown;
        g->cap_owned = cap;
    }
    float *p = calloc((size_t)(n ? n : 1), sizeof *p);
    if (p)
        g->owned[g->n_owned++] = p;
    return p;
}

enum fill { ZERO, ONE_ISH, NORMAL, UNIFORM };

/* Add tensor NAME of the given dims; FILL it (UNIFORM uses +-BOUND). Returns the data. */
static float *add(gen *g, const char *name, enum fill fill, double bound, int ndim, int64_t d0,
                  int64_t d1, int64_t d2, int64_t d3)
{
    int64_t shape[4] = {d0, d1, d2, d3}, n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *p = alloc_tensor(g, n);
    if (!p) {
        imc_err_set(g->err, IMC_ENOMEM, "out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        switch (fill) {
        case ZERO: break;
        case ONE_ISH: p[i] = (float)(1.0 + gsl_ran_gaussian(g->rng, 0.02)); break;
        case NORMAL: p[i] = (float)gsl_ran_gaussian(g->rng, 0.02); break;
        case UNIFORM: p[i] = (float)((2 * gsl_rng_uniform(g->rng) - 1) * bound); break;
        }
    }
    if (imc_netwriter_add(g->w, name, IMC_DT_F32, ndim, shape, p, g->err))
        return NULL;
    return p;
}

#define ADD1(g, name, fill, a) add(g, name, fill, 0, 1, a, 0, 0, 0)
#define ADD2(g, name, fill, a, b) add(g, name, fill, 0, 2, a, b, 0, 0)

static int linear(gen *g, const char *prefix, int out, int in)
{
    char name[160];
    snprintf(name, sizeof name, "%s.weight", prefix);
    if (!ADD2(g, name, NORMAL, out, in))
        return -1;
    snprintf(name, sizeof name, "%s.bias", prefix);
    return ADD1(g, name, NORMAL, out) ? 0 : -1;
}

/* Kept-unit flags for each head and direction of one block: keep[(h*2+dir)*hd + u]. */
static unsigned char *choose_kept(gen *g, const imc_modelgen_spec *s)
{
    int hd = s->embed_dim / s->num_heads, n = s->num_heads * 2;
    unsigned char *keep = malloc((size_t)n * hd);
    int *all = malloc((size_t)hd * sizeof *all), *drop = malloc((size_t)hd * sizeof *drop);
    if (!keep || !all || !drop) {
        free(keep), free(all), free(drop);
        return NULL;
    }
    int k = (int)lround(s->prune * hd);
    for (int u = 0; u < hd; u++)
        all[u] = u;
    for (int i = 0; i < n; i++) {
        memset(keep + (size_t)i * hd, 1, (size_t)hd);
        if (k > 0) {
            gsl_ran_choose(g->rng, drop, (size_t)k, all, (size_t)hd, sizeof *all);
            for (int j = 0; j < k; j++)
                keep[(size_t)i * hd + drop[j]] = 0;
        }
    }
    free(all);
    free(drop);
    return keep;
}

static int far_masked(gen *g, const imc_modelgen_spec *s, int b, const unsigned char *keep)
{
    int D = s->embed_dim, hd = D / s->num_heads, rc = 0;
    double bound = 1.0 / sqrt(hd);
    char name[160];
    static const char *const sfx[2] = {"", "_reverse"};
    for (int dir = 0; dir < 2 && !rc; dir++) {
        float *t[4];
        static const char *const kinds[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
        for (int k = 0; k < 4 && !rc; k++) {
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%s_l0%s", b, kinds[k], sfx[dir]);
            t[k] = k < 2 ? ADD2(g, name, ZERO, 4 * D, D) : ADD1(g, name, ZERO, 4 * D);
            rc = t[k] ? 0 : -1;
        }
        for (int r = 0; r < 4 * D && !rc; r++) { /* block-diagonal, pruned units zero */
            int h = (r % D) / hd, u = (r % D) % hd;
            const unsigned char *kp = keep + (size_t)(h * 2 + dir) * hd;
            if (!kp[u])
                continue;
            for (int col = h * hd; col < (h + 1) * hd; col++) {
                t[0][(size_t)r * D + col] = (float)((2 * gsl_rng_uniform(g->rng) - 1) * bound);
                if (kp[col - h * hd])
                    t[1][(size_t)r * D + col] = (float)((2 * gsl_rng_uniform(g->rng) - 1) * bound);
            }
            t[2][r] = (float)((2 * gsl_rng_uniform(g->rng) - 1) * bound);
            t[3][r] = (float)((2 * gsl_rng_uniform(g->rng) - 1) * bound);
        }
    }
    if (rc)
        return rc;
    snprintf(name, sizeof name, "blocks.%d.attn.head_proj.weight", b);
    float *hp = ADD2(g, name, ZERO, D, 2 * D);
    if (!hp)
        return -1;
    for (int r = 0; r < D; r++) {
        int h = r / hd;
        for (int dir = 0; dir < 2; dir++)
            for (int u = 0; u < hd; u++)
                if (keep[(size_t)(h * 2 + dir) * hd + u])
                    hp[(size_t)r * 2 * D + (size_t)(dir * D + h * hd + u)] =
                        (float)gsl_ran_gaussian(g->rng, 0.02);
    }
    snprintf(name, sizeof name, "blocks.%d.attn.head_proj.bias", b);
    return ADD1(g, name, NORMAL, D) ? 0 : -1;
}

static int far_split(gen *g, const imc_modelgen_spec *s, int b, const unsigned char *keep)
{
    int hd = s->embed_dim / s->num_heads;
    double bound = 1.0 / sqrt(hd);
    char name[160];
    static const char *const sfx[2] = {"", "_reverse"};
    for (int h = 0; h < s->num_heads; h++) {
        int kept[2] = {0, 0};
        for (int dir = 0; dir < 2; dir++) {
            for (int u = 0; u < hd; u++)
                kept[dir] += keep[(size_t)(h * 2 + dir) * hd + u];
            int k = kept[dir];
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.weight_ih_l0%s", b, h, sfx[dir]);
            if (!add(g, name, UNIFORM, bound, 2, 4 * k, hd, 0, 0))
                return -1;
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.weight_hh_l0%s", b, h, sfx[dir]);
            if (!add(g, name, UNIFORM, bound, 2, 4 * k, k, 0, 0))
                return -1;
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.bias_ih_l0%s", b, h, sfx[dir]);
            if (!add(g, name, UNIFORM, bound, 1, 4 * k, 0, 0, 0))
                return -1;
            snprintf(name, sizeof name, "blocks.%d.attn.lstm.%d.bias_hh_l0%s", b, h, sfx[dir]);
            if (!add(g, name, UNIFORM, bound, 1, 4 * k, 0, 0, 0))
                return -1;
        }
        snprintf(name, sizeof name, "blocks.%d.attn.head_proj.%d", b, h);
        if (linear(g, name, hd, kept[0] + kept[1]))
            return -1;
    }
    return 0;
}

static int build(gen *g, const imc_modelgen_spec *s)
{
    int D = s->embed_dim, p = s->patch_size, grid = s->img_size / p;
    char name[160];
    if (!add(g, "cls_token", NORMAL, 0, 3, 1, 1, D, 0) ||
        !add(g, "pos_embed", NORMAL, 0, 3, 1, (int64_t)grid * grid + 1, D, 0) ||
        !add(g, "patch_embed.proj.weight", NORMAL, 0, 4, D, s->in_chans, p, p) ||
        !ADD1(g, "patch_embed.proj.bias", NORMAL, D))
        return -1;
    for (int b = 0; b < s->depth; b++) {
        snprintf(name, sizeof name, "blocks.%d.norm1.weight", b);
        if (!ADD1(g, name, ONE_ISH, D))
            return -1;
        snprintf(name, sizeof name, "blocks.%d.norm1.bias", b);
        if (!ADD1(g, name, NORMAL, D))
            return -1;
        if (imc_modelgen_is_far(s, b)) {
            snprintf(name, sizeof name, "blocks.%d.attn.pre_proj", b);
            if (linear(g, name, D, D))
                return -1;
            unsigned char *keep = choose_kept(g, s);
            if (!keep)
                return imc_err_set(g->err, IMC_ENOMEM, "out of memory");
            int rc = s->split ? far_split(g, s, b, keep) : far_masked(g, s, b, keep);
            free(keep);
            if (rc)
                return rc;
            snprintf(name, sizeof name, "blocks.%d.attn.post_proj", b);
            if (linear(g, name, D, D))
                return -1;
        } else {
            snprintf(name, sizeof name, "blocks.%d.attn.qkv", b);
            if (linear(g, name, 3 * D, D))
                return -1;
            snprintf(name, sizeof name, "blocks.%d.attn.proj", b);
            if (linear(g, name, D, D))
                return -1;
        }
        snprintf(name, sizeof name, "blocks.%d.norm2.weight", b);
        if (!ADD1(g, name, ONE_ISH, D))
            return -1;
        snprintf(name, sizeof name, "blocks.%d.norm2.bias", b);
        if (!ADD1(g, name, NORMAL, D))
            return -1;
        snprintf(name, sizeof name, "blocks.%d.mlp.fc1", b);
        if (linear(g, name, s->mlp_hidden, D))
            return -1;
        snprintf(name, sizeof name, "blocks.%d.mlp.fc2", b);
        if (linear(g, name, D, s->mlp_hidden))
            return -1;
    }
    if (!ADD1(g, "norm.weight", ONE_ISH, D) || !ADD1(g, "norm.bias", NORMAL, D))
        return -1;
    return linear(g, "head", s->num_classes, D);
}

static int metadata(gen *g, const imc_modelgen_spec *s)
{
    char far[8192] = "", buf[64];
    size_t n = 0;
    for (int b = 0; b < s->depth && n + 8 < sizeof far; b++)
        if (imc_modelgen_is_far(s, b))
            n += (size_t)snprintf(far + n, sizeof far - n, "%s%d", n ? "," : "", b);
    const struct {
        const char *key;
        int value;
    } ints[] = {{"num_heads", s->num_heads},   {"img_size", s->img_size},
                {"patch_size", s->patch_size}, {"in_chans", s->in_chans},
                {"num_classes", s->num_classes}, {"depth", s->depth},
                {"embed_dim", s->embed_dim}};
    int rc = imc_netwriter_meta(g->w, "format", "imcsim-model", g->err) ||
             imc_netwriter_meta(g->w, "format_version", "1", g->err) ||
             imc_netwriter_meta(g->w, "model_name", s->name, g->err) ||
             imc_netwriter_meta(g->w, "source", "imcsim-model gen (synthetic weights)", g->err) ||
             imc_netwriter_meta(g->w, "far_blocks", far, g->err) ||
             imc_netwriter_meta(g->w, "far_form", s->split ? "split" : "masked", g->err);
    for (size_t i = 0; !rc && i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(buf, sizeof buf, "%d", ints[i].value);
        rc = imc_netwriter_meta(g->w, ints[i].key, buf, g->err);
    }
    snprintf(buf, sizeof buf, "%g", s->prune);
    rc = rc || imc_netwriter_meta(g->w, "prune", buf, g->err);
    snprintf(buf, sizeof buf, "%lu", s->seed);
    rc = rc || imc_netwriter_meta(g->w, "seed", buf, g->err);
    return rc ? -1 : 0;
}

int imc_modelgen_write(const imc_modelgen_spec *s, const char *path, imc_err *err)
{
    int rc = imc_modelgen_check(s, err);
    if (rc)
        return rc;
    gen g = {imc_netwriter_new(), gsl_rng_alloc(gsl_rng_mt19937), NULL, 0, 0, err};
    if (!g.w || !g.rng) {
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    } else {
        gsl_rng_set(g.rng, s->seed);
        rc = build(&g, s) || metadata(&g, s) ? (err->status ? err->status : IMC_EINTERNAL) : 0;
        if (!rc)
            rc = imc_netwriter_write(g.w, path, err);
    }
    for (size_t i = 0; i < g.n_owned; i++)
        free(g.owned[i]);
    free(g.owned);
    imc_netwriter_free(g.w);
    gsl_rng_free(g.rng);
    return rc;
}
