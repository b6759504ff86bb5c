/* arch.c -- build an imc_arch from YAML: schema v1, checks, defaults, dump.
 *
 * The schema is data: a `section` lists its parameters (imc_param, the same table type the
 * component models use) and its child slots (nested sections or component nodes). One generic
 * walker fills the structs of arch.h from the ytree, so every key gets the same checks and the
 * same messages: `FILE:LINE:COL: error: PATH: what`. A component node names its model
 * (`model: adc/sar`); the model's own parameter table then says which keys the node accepts.
 * The dumper walks the same tables, so --dump-config can never drift from what is loaded. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "sim/arch/arch.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/registry.h"
#include "models/techscale.h"
#include "sim/base/outfile.h"
#include "sim/base/suggest.h"
#include "sim/base/ytree.h"

#define IMC_ARCH_SCHEMA 1

typedef struct section section;

/* A nested section (chip, tile, pe, mapping, clock) of an enclosing one. */
typedef struct slot {
    const char *key;
    int required;
    size_t offset; /* of the nested struct within the enclosing one */
    const section *sub;
    const char *doc;
} slot;

/* A section's own keys, its nested sections, and its components: the entries of
 * components.def directly under PATH (NULL for a section without components). */
struct section {
    const imc_param *params;
    size_t n_params;
    const slot *slots;
    size_t n_slots;
    const char *path;
};

#define N(a) (sizeof a / sizeof a[0])
#define REQ IMC_PF_REQUIRED
#define OPT IMC_PF_OPTIONAL

/* ---- the component table ------------------------------------------------------------------ */

/* "a" or "an" before a model kind, as it is spoken: "an adc", "an sh", "an xbar", "a dac". */
static const char *article(const char *kind)
{
    return kind && (!strcmp(kind, "adc") || !strcmp(kind, "sh") || !strcmp(kind, "xbar")) ? "an"
                                                                                          : "a";
}

static const imc_comp_info comp_table[IMC_COMP_COUNT] = {
#define IMC_COMPONENT(ID, PATH, KIND, REQUIRED, FIELD, HOME, COUNT, DOC)                         \
    [IMC_COMP_##ID] = {PATH, IMC_KIND_##KIND, REQUIRED, offsetof(imc_arch, FIELD), IMC_LEVEL_##HOME, \
                       DOC},
#include "sim/arch/components.def"
#undef IMC_COMPONENT
};

static const char *const level_paths[IMC_LEVEL_COUNT] = {"chip.tile.pe", "chip.tile", "chip"};
static const char *const level_names[IMC_LEVEL_COUNT] = {"pe", "tile", "chip"};

const imc_comp_info *imc_comp_info_of(imc_comp comp)
{
    return comp < IMC_COMP_COUNT ? &comp_table[comp] : NULL;
}

const char *imc_comp_key(imc_comp comp)
{
    if (comp >= IMC_COMP_COUNT)
        return "?";
    const char *dot = strrchr(comp_table[comp].path, '.');
    return dot ? dot + 1 : comp_table[comp].path;
}

/* Is PATH = PREFIX "." one-more-key? */
static int directly_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(path, prefix, n) && path[n] == '.' && !strchr(path + n + 1, '.');
}

imc_level imc_comp_section(imc_comp comp)
{
    for (int lv = 0; comp < IMC_COMP_COUNT && lv < IMC_LEVEL_COUNT; lv++) {
        size_t n = strlen(level_paths[lv]);
        if (!strncmp(comp_table[comp].path, level_paths[lv], n) && comp_table[comp].path[n] == '.')
            return (imc_level)lv;
    }
    return IMC_LEVEL_CHIP;
}

const char *imc_level_name(imc_level level)
{
    return level < IMC_LEVEL_COUNT ? level_names[level] : "?";
}

const imc_instance *imc_comp_instance(const imc_arch *a, imc_comp comp)
{
    if (comp >= IMC_COMP_COUNT)
        return NULL;
    return *(imc_instance *const *)((const char *)a + comp_table[comp].offset);
}

static imc_instance **comp_slot(imc_arch *a, imc_comp comp)
{
    return (imc_instance **)((char *)a + comp_table[comp].offset);
}

double imc_arch_units(const imc_arch *a, imc_level level)
{
    switch (level) {
    case IMC_LEVEL_PE: return (double)a->chip.tiles * a->chip.tile.pes;
    case IMC_LEVEL_TILE: return a->chip.tiles;
    default: return 1;
    }
}

double imc_arch_comp_count(const imc_arch *a, imc_comp comp, imc_level level)
{
    if (!imc_comp_instance(a, comp) || level < comp_table[comp].home || level >= IMC_LEVEL_COUNT)
        return 0;
    double home = 0;
    switch (comp) {
#define IMC_COMPONENT(ID, PATH, KIND, REQUIRED, FIELD, HOME, COUNT, DOC)                         \
    case IMC_COMP_##ID: home = (COUNT); break;
#include "sim/arch/components.def"
#undef IMC_COMPONENT
    default: break;
    }
    for (int lv = comp_table[comp].home + 1; lv <= (int)level; lv++) /* as many per unit above */
        home *= lv == IMC_LEVEL_TILE ? a->chip.tile.pes : a->chip.tiles;
    return home;
}

/* ---- schema v1 ------------------------------------------------------------------------- */

static const imc_param clock_params[] = {
    {"digital", IMC_PT_REAL, IMC_DIM_FREQ, 1e9, 1e6, 100e9, 0, offsetof(imc_arch, clock_hz),
     NULL, "clock of the digital logic: shift-add, buffers, NoC, vector units"},
};
static const section clock_section = {clock_params, N(clock_params), NULL, 0, NULL};

static const char *const signed_choices[] = {"differential", "offset", NULL};
static const char *const matmul_choices[] = {"digital", "rewrite", "host", NULL};
static const char *const replicate_choices[] = {"none", "auto", NULL};
static const imc_param mapping_params[] = {
    {"weight_bits", IMC_PT_INT, IMC_DIM_NONE, 8, 1, 32, 0, offsetof(imc_mapping, weight_bits),
     NULL, "bits of a quantized weight"},
    {"input_bits", IMC_PT_INT, IMC_DIM_NONE, 8, 1, 32, 0, offsetof(imc_mapping, input_bits),
     NULL, "bits of a quantized input activation, streamed through the DACs"},
    {"cell_bits", IMC_PT_INT, IMC_DIM_NONE, -1, 1, 16, OPT, offsetof(imc_mapping, cell_bits),
     NULL, "bits stored per cell when slicing weights; default and maximum: the cell's bits"},
    {"signed", IMC_PT_ENUM, IMC_DIM_NONE, IMC_SIGNED_DIFFERENTIAL, 0, 1, 0,
     offsetof(imc_mapping, signed_scheme), signed_choices,
     "signed weights: a differential pair of columns, or an offset (reference) column"},
    {"reprogram", IMC_PT_BOOL, IMC_DIM_NONE, 0, 0, 1, 0, offsetof(imc_mapping, reprogram), NULL,
     "time-multiplex crossbars (rewriting them) when the network does not fit"},
    {"matmul", IMC_PT_ENUM, IMC_DIM_NONE, IMC_MATMUL_DIGITAL, 0, 2, 0,
     offsetof(imc_mapping, matmul), matmul_choices,
     "where activation x activation products (attention's Q K^T, S V) run: digital (the MAC "
     "array of chip.digital), rewrite (crossbars rewritten per inference), host (over DRAM)"},
    {"query_tile", IMC_PT_INT, IMC_DIM_NONE, 32, 1, 1 << 20, 0, offsetof(imc_mapping, query_tile),
     NULL, "attention queries per Q K^T and S V step: K and V are read once per tile (query "
           "blocking as in FlashAttention, Dao et al. NeurIPS 2022, and X-Former's sequence "
           "blocking; 32 x 197 int8 scores = 6.3 KB)"},
    {"replicate", IMC_PT_ENUM, IMC_DIM_NONE, IMC_REPLICATE_NONE, 0, 1, 0,
     offsetof(imc_mapping, replicate), replicate_choices,
     "none: copies only as duplicate says; auto: spare crossbars copy the layers that bound the "
     "token pipeline, as ISAAC balances its pipeline"},
    {"duplicate", IMC_PT_STRING, IMC_DIM_NONE, 0, 0, 0, OPT, offsetof(imc_mapping, duplicate),
     NULL, "layers to duplicate to balance the pipeline: 'LAYER=N,...', LAYER may use * and ?"},
};
static const section mapping_section = {mapping_params, N(mapping_params), NULL, 0, NULL};

static const imc_param pe_params[] = {
    {"xbars", IMC_PT_INT, IMC_DIM_NONE, 0, 1, 1 << 20, REQ, offsetof(imc_pe, xbars), NULL,
     "crossbars per PE"},
    {"columns_per_adc", IMC_PT_INT, IMC_DIM_NONE, -1, 1, 1 << 20, OPT,
     offsetof(imc_pe, columns_per_adc), NULL,
     "crossbar columns sharing one ADC; default: all columns of a crossbar (one ADC each)"},
    {"shiftadds", IMC_PT_INT, IMC_DIM_NONE, 1, 0, 1 << 20, 0, offsetof(imc_pe, shiftadds), NULL,
     "shift-and-add units per PE"},
};
static const section pe_section = {pe_params, N(pe_params), NULL, 0, "chip.tile.pe"};

static const imc_param tile_params[] = {
    {"pes", IMC_PT_INT, IMC_DIM_NONE, 0, 1, 1 << 20, REQ, offsetof(imc_tile, pes), NULL,
     "PEs per tile"},
};
static const slot tile_slots[] = {
    {"pe", 1, offsetof(imc_tile, pe), &pe_section, "the processing element"},
};
static const section tile_section = {tile_params, N(tile_params), tile_slots, N(tile_slots),
                                     "chip.tile"};

static const imc_param chip_params[] = {
    {"tiles", IMC_PT_INT, IMC_DIM_NONE, 0, 1, 1 << 20, REQ, offsetof(imc_chip, tiles), NULL,
     "tiles per chip"},
};
static const slot chip_slots[] = {
    {"tile", 1, offsetof(imc_chip, tile), &tile_section, "the tile"},
};
static const section chip_section = {chip_params, N(chip_params), chip_slots, N(chip_slots),
                                     "chip"};

static const imc_param root_params[] = {
    {"schema", IMC_PT_INT, IMC_DIM_NONE, 0, 1, IMC_ARCH_SCHEMA, REQ, offsetof(imc_arch, schema),
     NULL, "schema version of this file: 1"},
    {"technology", IMC_PT_REAL, IMC_DIM_LENGTH, 32e-9, 1e-9, 1e-6, 0,
     offsetof(imc_arch, technology_m), NULL, "technology node, e.g. 32 nm"},
};
static const slot root_slots[] = {
    {"clock", 0, 0, &clock_section, "clocks"},
    {"mapping", 0, offsetof(imc_arch, mapping), &mapping_section, "weight mapping policy"},
    {"chip", 1, offsetof(imc_arch, chip), &chip_section, "the chip"},
};
static const section root_section = {root_params, N(root_params), root_slots, N(root_slots),
                                     NULL};

/* The next component directly under PATH after AFTER (-1 to start), or -1 when none. */
static int next_component(const char *path, int after)
{
    for (int c = after + 1; path && c < IMC_COMP_COUNT; c++)
        if (directly_under(comp_table[c].path, path))
            return c;
    return -1;
}

#define FOR_COMPONENTS(c, path) for (int c = next_component(path, -1); c >= 0; c = next_component(path, c))

/* ---- loading ------------------------------------------------------------------------------ */

typedef struct ctx {
    imc_err *err;
    imc_ytree *tree;
    imc_ynode *root;
    imc_arch *arch;
    double values_node_m; /* the node the files state, before any --set: their figures' node */
} ctx;

/* Keep a note for the user (imc_arch.notes): something the configuration did not do as
 * written, though it is not an error. */
static int note(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(ctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **grown = realloc(c->arch->notes, (c->arch->n_notes + 1) * sizeof *grown);
    if (!grown)
        return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
    c->arch->notes = grown;
    if (!(grown[c->arch->n_notes] = strdup(msg)))
        return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
    c->arch->n_notes++;
    return 0;
}

static int fail(ctx *c, imc_ymark m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ctx *c, imc_ymark m, const char *fmt, ...)
{
    char msg[sizeof c->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(c->err, IMC_EINPUT, m.file, m.line, m.col, "%s", msg);
}

static int oom(ctx *c)
{
    return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
}

/* OUT = PATH.KEY (or KEY at the top), truncated to SIZE. */
static void join(char *out, size_t size, const char *path, const char *key)
{
    size_t lp = strlen(path), lk = strlen(key), n = 0;
    if (lp && n + lp + 1 < size) {
        memcpy(out, path, lp);
        out[lp] = '.';
        n = lp + 1;
    }
    if (n + lk >= size)
        lk = size - n - 1;
    memcpy(out + n, key, lk);
    out[n + lk] = '\0';
}

static const char *kind_of_node(const imc_ynode *n)
{
    return n->kind == IMC_Y_MAP ? "a mapping" : n->kind == IMC_Y_SEQ ? "a list" : "a value";
}

static void set_defaults(const section *sec, char *base)
{
    for (size_t i = 0; i < sec->n_params; i++) {
        const imc_param *p = &sec->params[i];
        char *f = base + p->offset;
        if (p->type == IMC_PT_REAL)
            *(double *)f = (p->flags & (OPT | REQ)) ? NAN : p->def;
        else if (p->type == IMC_PT_STRING)
            *(char **)f = NULL;
        else
            *(int *)f = (p->flags & (OPT | REQ)) ? -1 : (int)p->def;
    }
    for (size_t i = 0; i < sec->n_slots; i++)
        set_defaults(sec->slots[i].sub, base + sec->slots[i].offset);
}

static int parse_int(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    if (end == s || *end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* A file named NAME in the YAML file FILE: relative names are relative to FILE's folder (to
 * the current one for --set values, whose FILE is not a file), and stored absolute when the
 * file exists, so a dumped configuration still finds it. NULL when out of memory. */
static char *resolve_path(const char *name, const char *file)
{
    struct stat st;
    const char *slash = file ? strrchr(file, '/') : NULL;
    char *joined;
    if (name[0] != '/' && slash && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
        size_t dir = (size_t)(slash - file) + 1, len = dir + strlen(name) + 1;
        if (!(joined = malloc(len)))
            return NULL;
        memcpy(joined, file, dir);
        strcpy(joined + dir, name);
    } else if (!(joined = strdup(name))) {
        return NULL;
    }
    char *real = realpath(joined, NULL);
    if (real) {
        free(joined);
        return real;
    }
    return joined;
}

static void format_value(const imc_param *p, double v, char *buf, size_t size)
{
    if (p->type == IMC_PT_REAL)
        imc_quantity_format(v, p->dim, buf, size);
    else
        snprintf(buf, size, "%.0f", v);
}

static int set_param(ctx *c, const imc_param *p, const imc_ynode *n, char *base, const char *path)
{
    if (n->kind != IMC_Y_SCALAR)
        return fail(c, n->mark, "%s: expected a single value, found %s", path, kind_of_node(n));
    if (n->is_null)
        return fail(c, n->mark, "%s: has no value", path);
    char *f = base + p->offset;
    double v = 0;
    char why[256];
    switch (p->type) {
    case IMC_PT_REAL:
        if (imc_quantity_parse(n->scalar, p->dim, &v, why, sizeof why))
            return fail(c, n->mark, "%s: %s", path, why);
        break;
    case IMC_PT_INT: {
        long l;
        if (parse_int(n->scalar, &l))
            return fail(c, n->mark, "%s: '%s' is not an integer", path, n->scalar);
        v = (double)l;
        break;
    }
    case IMC_PT_STRING: {
        char *copy = p->flags & IMC_PF_PATH ? resolve_path(n->scalar, n->mark.file)
                                            : strdup(n->scalar);
        if (!copy)
            return oom(c);
        free(*(char **)f);
        *(char **)f = copy;
        return 0;
    }
    case IMC_PT_BOOL: {
        static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
        v = -1;
        for (size_t i = 0; i < 3; i++) {
            if (!strcmp(n->scalar, yes[i]))
                v = 1;
            if (!strcmp(n->scalar, no[i]))
                v = 0;
        }
        if (v < 0)
            return fail(c, n->mark, "%s: '%s' is not true or false", path, n->scalar);
        *(int *)f = (int)v;
        return 0;
    }
    case IMC_PT_ENUM: {
        size_t k = 0;
        char list[256] = "";
        for (; p->choices[k]; k++) {
            if (!strcmp(n->scalar, p->choices[k])) {
                *(int *)f = (int)k;
                return 0;
            }
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                     p->choices[k]);
        }
        const char *near = imc_suggest(n->scalar, p->choices, k);
        if (near)
            return fail(c, n->mark, "%s: '%s' is not one of %s (did you mean '%s'?)", path,
                        n->scalar, list, near);
        return fail(c, n->mark, "%s: '%s' is not one of %s", path, n->scalar, list);
    }
    }
    if (v < p->min || v > p->max) {
        char got[64], lim[64];
        format_value(p, v, got, sizeof got);
        format_value(p, v < p->min ? p->min : p->max, lim, sizeof lim);
        return fail(c, n->mark, "%s: %s is %s the %s %s", path, got,
                    v < p->min ? "below" : "above", v < p->min ? "minimum" : "maximum", lim);
    }
    if (p->type == IMC_PT_REAL)
        *(double *)f = v;
    else
        *(int *)f = (int)v;
    return 0;
}

/* The keys a node accepts: its parameters, nested sections and components (those directly
 * under COMP_PATH), and 'model' for a component. */
typedef struct node_keys {
    const imc_param *params;
    size_t n_params;
    const slot *slots;
    size_t n_slots;
    const char *comp_path;
    int has_model;
} node_keys;

/* Unknown KEY at mark M under PATH: suggest the nearest of the valid keys. */
static int unknown_key(ctx *c, imc_ymark m, const char *path, const char *key, const node_keys *k)
{
    const char *cand[128];
    size_t n = 0;
    if (k->has_model)
        cand[n++] = "model";
    for (size_t i = 0; i < k->n_params && n < 128; i++)
        cand[n++] = k->params[i].key;
    for (size_t i = 0; i < k->n_slots && n < 128; i++)
        cand[n++] = k->slots[i].key;
    FOR_COMPONENTS(comp, k->comp_path)
        if (n < 128)
            cand[n++] = imc_comp_key((imc_comp)comp);
    const char *near = imc_suggest(key, cand, n);
    char full[256];
    join(full, sizeof full, path, key);
    if (near)
        return fail(c, m, "%s: unknown key (did you mean '%s'?)", full, near);
    return fail(c, m, "%s: unknown key", full);
}

static int check_missing(ctx *c, const imc_ynode *n, const char *path, const node_keys *k)
{
    const char *where = path[0] ? path : "(top)";
    for (size_t i = 0; i < k->n_params; i++)
        if ((k->params[i].flags & REQ) && !imc_ynode_find((imc_ynode *)n, k->params[i].key))
            return fail(c, n->mark, "%s: missing required key '%s'", where, k->params[i].key);
    for (size_t i = 0; i < k->n_slots; i++)
        if (k->slots[i].required && !imc_ynode_find((imc_ynode *)n, k->slots[i].key))
            return fail(c, n->mark, "%s: missing required key '%s'", where, k->slots[i].key);
    FOR_COMPONENTS(comp, k->comp_path)
        if (comp_table[comp].required && !imc_ynode_find((imc_ynode *)n, imc_comp_key((imc_comp)comp)))
            return fail(c, n->mark, "%s: missing required key '%s'", where,
                        imc_comp_key((imc_comp)comp));
    return 0;
}

/* The component directly under COMP_PATH whose key is KEY, or -1. */
static int find_component(const char *comp_path, const char *key)
{
    FOR_COMPONENTS(comp, comp_path)
        if (!strcmp(imc_comp_key((imc_comp)comp), key))
            return comp;
    return -1;
}

static int load_component(ctx *c, imc_comp comp, const imc_ynode *n, const char *path);

static int load_section(ctx *c, const section *sec, const imc_ynode *n, char *base,
                        const char *path)
{
    if (n->kind != IMC_Y_MAP)
        return fail(c, n->mark, "%s: expected a mapping of keys, found %s", path, kind_of_node(n));
    node_keys k = {sec->params, sec->n_params, sec->slots, sec->n_slots, sec->path, 0};
    for (size_t i = 0; i < n->n; i++) {
        const imc_yentry *e = &n->entries[i];
        char sub[256];
        join(sub, sizeof sub, path, e->key);
        const imc_param *p = NULL;
        const slot *s = NULL;
        for (size_t j = 0; j < sec->n_params && !p; j++)
            if (!strcmp(sec->params[j].key, e->key))
                p = &sec->params[j];
        for (size_t j = 0; j < sec->n_slots && !s; j++)
            if (!strcmp(sec->slots[j].key, e->key))
                s = &sec->slots[j];
        int comp = p || s ? -1 : find_component(sec->path, e->key);
        int rc = p           ? set_param(c, p, e->val, base, sub)
                 : s         ? load_section(c, s->sub, e->val, base + s->offset, sub)
                 : comp >= 0 ? load_component(c, (imc_comp)comp, e->val, sub)
                             : unknown_key(c, e->key_mark, path, e->key, &k);
        if (rc)
            return rc;
    }
    return check_missing(c, n, path, &k);
}

static int model_list(imc_kind kind, char *buf, size_t size, const char **names, size_t *count)
{
    buf[0] = '\0';
    *count = 0;
    for (size_t i = 0; i < imc_registry_count(); i++) {
        const imc_model *m = imc_registry_at(i);
        if (m->kind != kind)
            continue;
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", *count ? ", " : "", m->name);
        names[(*count)++] = m->name;
    }
    return 0;
}

static int load_component(ctx *c, imc_comp comp, const imc_ynode *n, const char *path)
{
    const imc_comp_info *info = &comp_table[comp];
    if (n->kind != IMC_Y_MAP)
        return fail(c, n->mark, "%s: expected a component (a mapping with 'model:'), found %s",
                    path, kind_of_node(n));
    const char *names[64];
    size_t count;
    char list[512];
    model_list(info->kind, list, sizeof list, names, &count);
    imc_yentry *me = imc_ynode_find((imc_ynode *)n, "model");
    if (!me)
        return fail(c, n->mark, "%s: missing required key 'model' (one of: %s)", path, list);
    char mpath[256];
    join(mpath, sizeof mpath, path, "model");
    if (me->val->kind != IMC_Y_SCALAR || me->val->is_null)
        return fail(c, me->val->mark, "%s: expected a model name (one of: %s)", mpath, list);
    const imc_model *type = imc_registry_find(me->val->scalar);
    if (!type) {
        const char *near = imc_suggest(me->val->scalar, names, count);
        if (near)
            return fail(c, me->val->mark, "%s: unknown model '%s' (did you mean '%s'?)", mpath,
                        me->val->scalar, near);
        return fail(c, me->val->mark, "%s: unknown model '%s' (one of: %s)", mpath,
                    me->val->scalar, list);
    }
    if (type->kind != info->kind)
        return fail(c, me->val->mark, "%s: '%s' is %s %s model, but %s needs %s %s model (%s)",
                    mpath, type->name, article(imc_kind_name(type->kind)),
                    imc_kind_name(type->kind), path, article(imc_kind_name(info->kind)),
                    imc_kind_name(info->kind), list);
    imc_instance **slotp = comp_slot(c->arch, comp);
    if (!(*slotp = imc_instance_new(type, path)))
        return oom(c);
    node_keys k = {type->params, type->n_params, NULL, 0, info->path, 1};
    int model_layer = imc_ytree_layer(c->tree, me->val->mark.file);
    for (size_t i = 0; i < n->n; i++) {
        const imc_yentry *e = &n->entries[i];
        if (!strcmp(e->key, "model"))
            continue;
        char sub[256];
        join(sub, sizeof sub, path, e->key);
        const imc_param *p = imc_model_param(type, e->key);
        int kid = p ? -1 : find_component(info->path, e->key);
        int rc;
        if (p)
            rc = set_param(c, p, e->val, (char *)*slotp, sub);
        else if (kid >= 0)
            rc = load_component(c, (imc_comp)kid, e->val, sub);
        else if (imc_ytree_layer(c->tree, e->key_mark.file) < model_layer)
            /* a key of the model an earlier layer chose: a later one switched models */
            rc = note(c, "%s (%s:%d:%d) dropped: %s, chosen at %s:%d:%d, has no such key", sub,
                      e->key_mark.file, e->key_mark.line, e->key_mark.col, type->name,
                      me->val->mark.file, me->val->mark.line, me->val->mark.col);
        else
            rc = unknown_key(c, e->key_mark, path, e->key, &k);
        if (rc)
            return rc;
    }
    return check_missing(c, n, path, &k);
}

/* ---- initialisation and cross-checks ---------------------------------------------------- */

/* The mark of the deepest node along PATH, for errors found after loading. */
static imc_ymark mark_at(ctx *c, const char *path)
{
    imc_ynode *n = c->root;
    imc_ymark m = n->mark;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        imc_yentry *e = imc_ynode_find(n, seg);
        if (!e)
            break;
        m = e->val->kind == IMC_Y_SCALAR ? e->val->mark : e->key_mark;
        n = e->val;
    }
    return m;
}

typedef void (*visit_fn)(imc_instance **slotp, void *data);

/* Call FN on every component slot of A, in the table's order. */
static void visit(imc_arch *a, visit_fn fn, void *data)
{
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        fn(comp_slot(a, (imc_comp)c), data);
}

typedef struct init_pass {
    ctx *c;
    imc_model_env env;
    int rc;
} init_pass;

static void init_one(imc_instance **slotp, void *data)
{
    init_pass *ip = data;
    imc_instance *inst = *slotp;
    if (!inst || ip->rc || inst->period_ps) /* absent, failed earlier, or already done */
        return;
    imc_err sub;
    imc_err_clear(&sub);
    if (inst->type->init(inst, &ip->env, &sub)) {
        /* Models name themselves in their messages; add the path only when one does not. */
        imc_ymark m = mark_at(ip->c, inst->path);
        size_t n = strlen(inst->path);
        if (!strncmp(sub.msg, inst->path, n) && (sub.msg[n] == ':' || sub.msg[n] == '.'))
            ip->rc = fail(ip->c, m, "%s", sub.msg);
        else
            ip->rc = fail(ip->c, m, "%s: %s", inst->path, sub.msg);
    } else if (inst->period_ps == 0) {
        imc_ymark m = mark_at(ip->c, inst->path);
        ip->rc = fail(ip->c, m, "%s: model %s set no clock period", inst->path, inst->type->name);
    }
}

static void free_one(imc_instance **slotp, void *data)
{
    (void)data;
    imc_instance_free(*slotp);
    *slotp = NULL;
}

/* The mapping node of the component at PATH, or NULL. */
static imc_ynode *node_at(ctx *c, const char *path)
{
    imc_ynode *n = c->root;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && n; seg = strtok_r(NULL, ".", &save)) {
        imc_yentry *e = n->kind == IMC_Y_MAP ? imc_ynode_find(n, seg) : NULL;
        n = e ? e->val : NULL;
    }
    return n && n->kind == IMC_Y_MAP ? n : NULL;
}

/* A figure measured for a design: an energy, power or area, or a rate or time that follows
 * the node (an ADC's rate depends on its bits as its energy does). */
static int is_cost(const imc_param *p)
{
    return p->type == IMC_PT_REAL &&
           (p->dim == IMC_DIM_ENERGY || p->dim == IMC_DIM_POWER || p->dim == IMC_DIM_AREA ||
            (p->flags & IMC_PF_NODE));
}

/* Before init, make every figure of INST hold at the run's node and refuse a stale one:
 *  - a cost a file gives explicitly was measured for the sizes that file states; when a later
 *    layer (a --set, a file over its base) changes a size (IMC_PF_SIZE), it is refused, at the
 *    cost's own file:line:col, never silently kept;
 *  - an IMC_PF_NODE figure follows the node (Stillmaker and Baas, techscale.h): a default from
 *    the model's node_m, a value a file gives from the node the files state (so `--set
 *    technology=...` scales isaac.yaml's explicit figures), a value a --set gives not at all. */
static int explicit_figures(ctx *c, imc_instance *inst)
{
    const imc_model *t = inst->type;
    imc_ynode *n = node_at(c, inst->path);
    char scaled[256] = "";
    /* energies, powers and areas first, then rates: the message names the dearest key */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->n_params; i++) {
            const imc_param *p = &t->params[i];
            imc_yentry *e = n ? imc_ynode_find(n, p->key) : NULL;
            int rate = p->dim == IMC_DIM_FREQ || p->dim == IMC_DIM_TIME;
            if (!e || !is_cost(p) || rate != pass)
                continue;
            int lc = imc_ytree_layer(c->tree, e->val->mark.file);
            for (size_t j = 0; j < t->n_params; j++) {
                const imc_param *q = &t->params[j];
                imc_yentry *f = q->flags & IMC_PF_SIZE ? imc_ynode_find(n, q->key) : NULL;
                if (f && imc_ytree_layer(c->tree, f->val->mark.file) > lc)
                    return fail(c, e->val->mark,
                                "%s.%s: %s was given for the %s that %s states, but %s:%d:%d "
                                "sets %s.%s to %s: give %s for that too, or remove it "
                                "(--unset %s.%s) to take %s's own figure",
                                inst->path, p->key, e->val->scalar, q->key, e->val->mark.file,
                                f->val->mark.file, f->val->mark.line, f->val->mark.col,
                                inst->path, q->key, f->val->scalar, p->key, inst->path, p->key,
                                t->name);
            }
        }
    for (size_t i = 0; i < t->n_params; i++) {
        const imc_param *p = &t->params[i];
        imc_yentry *e = n ? imc_ynode_find(n, p->key) : NULL;
        if (!(p->flags & IMC_PF_NODE) || p->type != IMC_PT_REAL)
            continue;
        double *v = (double *)((char *)inst + p->offset);
        int from_set = e && !strcmp(e->val->mark.file, "--set");
        double from = e ? (from_set ? c->arch->technology_m : c->values_node_m) : t->node_m;
        double to = c->arch->technology_m;
        if (!isfinite(*v) || !(from > 0) || from == to)
            continue;
        char why[200];
        if (imc_tech_check(from, why, sizeof why) || imc_tech_check(to, why, sizeof why))
            return fail(c, e ? e->val->mark : mark_at(c, "technology"), "%s.%s: %s", inst->path,
                        p->key, why);
        imc_tech_metric m = p->dim == IMC_DIM_ENERGY  ? IMC_TECH_ENERGY
                            : p->dim == IMC_DIM_POWER ? IMC_TECH_POWER
                            : p->dim == IMC_DIM_AREA  ? IMC_TECH_AREA
                                                      : IMC_TECH_DELAY;
        double k = imc_tech_factor(m, from, to);
        *v = p->dim == IMC_DIM_FREQ ? *v / k : *v * k;
        if (e)
            snprintf(scaled + strlen(scaled), sizeof scaled - strlen(scaled), "%s%s",
                     scaled[0] ? ", " : "", p->key);
    }
    if (scaled[0])
        return note(c, "%s: %s given at %g nm scaled to the run's %g nm (Stillmaker and Baas)",
                    inst->path, scaled, c->values_node_m * 1e9, c->arch->technology_m * 1e9);
    return 0;
}

static void explicit_one(imc_instance **slotp, void *data)
{
    init_pass *ip = data;
    if (*slotp && !ip->rc)
        ip->rc = explicit_figures(ip->c, *slotp);
}

static int resolve(ctx *c, imc_arch *a)
{
    imc_pe *pe = &a->chip.tile.pe;
    init_pass ip = {c, {a->clock_hz, a->technology_m, NULL, 0}, 0};
    visit(a, explicit_one, &ip);
    if (ip.rc)
        return ip.rc;
    init_one(&pe->cell, &ip); /* the cell first: the crossbar derives its costs from it */
    ip.env.cell = pe->cell;
    init_one(&pe->xbar, &ip);
    if (ip.rc)
        return ip.rc;
    ip.env.read_hz = 1e12 / (double)imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    visit(a, init_one, &ip);
    if (ip.rc)
        return ip.rc;

    int cell_levels_bits = (int)imc_instance_get(pe->cell, "bits");
    if (a->mapping.cell_bits < 0)
        a->mapping.cell_bits = cell_levels_bits;
    else if (a->mapping.cell_bits > cell_levels_bits)
        return fail(c, mark_at(c, "mapping.cell_bits"),
                    "mapping.cell_bits: %d exceeds the %d bits per cell of "
                    "chip.tile.pe.xbar.cell",
                    a->mapping.cell_bits, cell_levels_bits);
    int cols = imc_arch_xbar_cols(a);
    if (pe->columns_per_adc < 0)
        pe->columns_per_adc = cols;
    else if (pe->columns_per_adc > cols)
        return fail(c, mark_at(c, "chip.tile.pe.columns_per_adc"),
                    "chip.tile.pe.columns_per_adc: %d exceeds the %d columns of a crossbar",
                    pe->columns_per_adc, cols);
    char why[256];
    int dup = imc_arch_each_duplicate(a, NULL, NULL, why, sizeof why);
    if (dup == IMC_ENOMEM)
        return imc_err_set(c->err, IMC_ENOMEM, "out of memory");
    if (dup)
        return fail(c, mark_at(c, "mapping.duplicate"), "mapping.duplicate: %s", why);
    if (imc_arch_cells_per_weight(a) > cols)
        return fail(c, mark_at(c, "mapping.weight_bits"),
                    "mapping.weight_bits: one weight needs %d cells but a crossbar row has %d",
                    imc_arch_cells_per_weight(a), cols);
    return 0;
}

static int load_tree(imc_arch **out, imc_ytree *tree, const char *const *sets, size_t n_sets,
                     imc_err *err)
{
    *out = NULL;
    int rc = imc_registry_check(err); /* every model of this build fits its ABI and kind */
    if (rc)
        return rc;
    /* The node the files state, before the --sets: the one their explicit figures are at. */
    double values_node_m = 32e-9; /* the schema's default technology */
    imc_yentry *te = imc_ynode_find(imc_ytree_root(tree), "technology");
    char why[256];
    if (te && (te->val->kind != IMC_Y_SCALAR || te->val->is_null ||
               imc_quantity_parse(te->val->scalar, IMC_DIM_LENGTH, &values_node_m, why,
                                  sizeof why)))
        values_node_m = 0; /* malformed: the load below reports it; nothing is scaled */
    for (size_t i = 0; i < n_sets; i++) {
        rc = sets[i][0] == '!' ? imc_ytree_unset(tree, sets[i] + 1, (int)i + 1, err)
                               : imc_ytree_set(tree, sets[i], (int)i + 1, err);
        if (rc)
            return rc;
    }
    imc_arch *a = calloc(1, sizeof *a);
    if (!a || !(a->file = strdup(imc_ytree_file(tree)))) {
        free(a);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    ctx c = {err, tree, imc_ytree_root(tree), a, values_node_m};
    set_defaults(&root_section, (char *)a);
    rc = load_section(&c, &root_section, c.root, (char *)a, "");
    if (!rc)
        rc = resolve(&c, a);
    if (rc) {
        imc_arch_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

#define MAX_BASES 8

/* If TREE (loaded from FILE; NULL for a string) starts from another file (`base: NAME`),
 * load that one (and its own base, at most MAX_BASES deep) and lay TREE over it. NAME is
 * relative to FILE's folder; a bare name that is not there is looked up as --arch does. */
static int follow_base(imc_ytree *tree, const char *file, int depth, imc_err *err)
{
    imc_yentry *e = imc_ynode_find(imc_ytree_root(tree), "base");
    if (!e)
        return 0;
    imc_ymark m = e->val->mark;
    if (e->val->kind != IMC_Y_SCALAR || e->val->is_null)
        return imc_err_at(err, IMC_EINPUT, m.file, m.line, m.col,
                          "base: expected the name of an architecture file");
    if (depth >= MAX_BASES)
        return imc_err_at(err, IMC_EINPUT, m.file, m.line, m.col,
                          "base: more than %d files deep (do two files name each other?)",
                          MAX_BASES);
    char near[4096], found[4096];
    const char *name = e->val->scalar, *slash = file ? strrchr(file, '/') : NULL;
    if (name[0] != '/' && slash)
        snprintf(near, sizeof near, "%.*s/%s", (int)(slash - file), file, name);
    else
        snprintf(near, sizeof near, "%s", name);
    struct stat st;
    const char *path = stat(near, &st) == 0 ? near : imc_arch_find(name, found, sizeof found);
    if (stat(path, &st) != 0) {
        char looked[2048];
        imc_arch_looked(looked, sizeof looked);
        return imc_err_at(err, IMC_EINPUT, m.file, m.line, m.col,
                          "base: no architecture file '%s' (looked in %s, %s)", name, near,
                          looked);
    }
    imc_ytree *base;
    int rc = imc_ytree_load_file(&base, path, err);
    if (rc)
        return rc;
    if ((rc = follow_base(base, path, depth + 1, err))) {
        imc_ytree_free(base);
        return rc;
    }
    if ((rc = imc_ytree_unset(tree, "base", 0, err))) {
        imc_ytree_free(base);
        return rc;
    }
    return imc_ytree_adopt(tree, base, err);
}

int imc_arch_load(imc_arch **out, const char *path, const char *const *sets, size_t n_sets,
                  imc_err *err)
{
    imc_ytree *tree;
    *out = NULL;
    int rc = imc_ytree_load_file(&tree, path, err);
    if (!rc)
        rc = follow_base(tree, path, 0, err);
    if (rc) {
        imc_ytree_free(tree);
        return rc;
    }
    rc = load_tree(out, tree, sets, n_sets, err);
    size_t n;
    const char *const *files = imc_ytree_files(tree, &n);
    if (!rc && !((*out)->sources = calloc(n, sizeof *(*out)->sources)))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        if (strcmp(files[i], "--set") && strcmp(files[i], "--unset") &&
            !((*out)->sources[(*out)->n_sources++] = strdup(files[i])))
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    if (rc) {
        imc_arch_free(*out);
        *out = NULL;
    }
    imc_ytree_free(tree);
    return rc;
}

int imc_arch_load_string(imc_arch **out, const char *text, const char *name,
                         const char *const *sets, size_t n_sets, imc_err *err)
{
    imc_ytree *tree;
    *out = NULL;
    int rc = imc_ytree_load_string(&tree, text, name, err);
    if (!rc)
        rc = follow_base(tree, NULL, 0, err);
    if (rc) {
        imc_ytree_free(tree);
        return rc;
    }
    rc = load_tree(out, tree, sets, n_sets, err);
    imc_ytree_free(tree);
    return rc;
}

static void free_strings(const section *sec, char *base)
{
    for (size_t i = 0; i < sec->n_params; i++)
        if (sec->params[i].type == IMC_PT_STRING)
            free(*(char **)(base + sec->params[i].offset));
    for (size_t i = 0; i < sec->n_slots; i++)
        free_strings(sec->slots[i].sub, base + sec->slots[i].offset);
}

void imc_arch_free(imc_arch *a)
{
    if (!a)
        return;
    visit(a, free_one, NULL);
    free_strings(&root_section, (char *)a);
    for (size_t i = 0; i < a->n_notes; i++)
        free(a->notes[i]);
    free(a->notes);
    for (size_t i = 0; i < a->n_sources; i++)
        free(a->sources[i]);
    free(a->sources);
    free(a->file);
    free(a);
}

/* ---- dump ------------------------------------------------------------------------------ */

static void dump_params(FILE *out, int depth, const imc_param *params, size_t n, const char *base)
{
    for (size_t i = 0; i < n; i++) {
        const imc_param *p = &params[i];
        const char *f = base + p->offset;
        char buf[96];
        if (p->type == IMC_PT_STRING) {
            const char *v = *(char *const *)f;
            if (!v)
                continue;
            fprintf(out, "%*s%s: ", 2 * depth, "", p->key);
            imc_yaml_string(out, v); /* escaped: any value reloads as it is */
            fputc('\n', out);
            continue;
        }
        if (p->type == IMC_PT_REAL) {
            double v = *(const double *)f;
            if (isnan(v))
                continue; /* an optional value left unset */
            imc_quantity_format(v, p->dim, buf, sizeof buf);
        } else {
            int v = *(const int *)f;
            if (v < 0 && (p->flags & OPT))
                continue;
            if (p->type == IMC_PT_BOOL)
                snprintf(buf, sizeof buf, "%s", v ? "true" : "false");
            else if (p->type == IMC_PT_ENUM)
                snprintf(buf, sizeof buf, "%s", p->choices[v]);
            else
                snprintf(buf, sizeof buf, "%d", v);
        }
        fprintf(out, "%*s%s: %s\n", 2 * depth, "", p->key, buf);
    }
}

static void dump_component(FILE *out, int depth, const imc_arch *a, imc_comp comp)
{
    const imc_instance *inst = imc_comp_instance(a, comp);
    if (!inst)
        return;
    fprintf(out, "%*s%s:\n", 2 * depth, "", imc_comp_key(comp));
    fprintf(out, "%*smodel: %s\n", 2 * depth + 2, "", inst->type->name);
    dump_params(out, depth + 1, inst->type->params, inst->type->n_params, (const char *)inst);
    FOR_COMPONENTS(kid, comp_table[comp].path)
        dump_component(out, depth + 1, a, (imc_comp)kid);
}

static void dump_section(FILE *out, int depth, const imc_arch *a, const section *sec,
                         const char *base)
{
    dump_params(out, depth, sec->params, sec->n_params, base);
    for (size_t i = 0; i < sec->n_slots; i++) {
        fprintf(out, "%*s%s:\n", 2 * depth, "", sec->slots[i].key);
        dump_section(out, depth + 1, a, sec->slots[i].sub, base + sec->slots[i].offset);
    }
    FOR_COMPONENTS(comp, sec->path)
        dump_component(out, depth, a, (imc_comp)comp);
}

void imc_arch_dump(const imc_arch *a, FILE *out)
{
    fprintf(out, "# Fully resolved imcsim architecture (schema v%d), from ", IMC_ARCH_SCHEMA);
    imc_yaml_string(out, a->file); /* a line break in the name must not end the comment */
    fputs(".\n# Every default is written out; loading this file reproduces the run.\n", out);
    for (size_t i = 0; i < a->n_notes; i++)
        fprintf(out, "# note: %s\n", a->notes[i]);
    dump_section(out, 0, a, &root_section, (const char *)a);
}

/* ---- schema listing -------------------------------------------------------------------- */

void imc_param_print(FILE *out, const char *path, const imc_param *p)
{
    char def[64] = "", lo[64], hi[64];
    if (p->flags & REQ)
        snprintf(def, sizeof def, "required");
    else if (p->flags & OPT)
        snprintf(def, sizeof def, "optional");
    else if (p->type == IMC_PT_ENUM)
        snprintf(def, sizeof def, "%s", p->choices[(int)p->def]);
    else if (p->type == IMC_PT_BOOL)
        snprintf(def, sizeof def, "%s", p->def ? "true" : "false");
    else
        format_value(p, p->def, def, sizeof def);
    format_value(p, p->min, lo, sizeof lo);
    format_value(p, p->max, hi, sizeof hi);
    const char *type = p->type == IMC_PT_REAL    ? imc_dim_name(p->dim)
                       : p->type == IMC_PT_INT    ? "an integer"
                       : p->type == IMC_PT_BOOL   ? "true/false"
                       : p->type == IMC_PT_STRING ? "text"
                                                  : "a choice";
    /* the loader's two rules for explicit figures (explicit_figures) */
    const char *mark = p->flags & IMC_PF_NODE ? " [follows the node]"
                       : p->flags & IMC_PF_SIZE ? " [size]"
                                                : "";
    if (p->type == IMC_PT_BOOL || p->type == IMC_PT_ENUM || p->type == IMC_PT_STRING)
        fprintf(out, "%s\t%s\t%s\t-\t%s%s\n", path, type, def, p->doc, mark);
    else
        fprintf(out, "%s\t%s\t%s\t%s .. %s\t%s%s\n", path, type, def, lo, hi, p->doc, mark);
}

static void print_component(FILE *out, imc_comp comp)
{
    const imc_comp_info *info = &comp_table[comp];
    fprintf(out, "%s\t%s component\t%s\t-\t%s\n", info->path, imc_kind_name(info->kind),
            info->required ? "required" : "optional", info->doc);
    FOR_COMPONENTS(kid, info->path)
        print_component(out, (imc_comp)kid);
}

static void print_section(FILE *out, const section *sec, const char *path)
{
    char sub[256];
    for (size_t i = 0; i < sec->n_params; i++) {
        join(sub, sizeof sub, path, sec->params[i].key);
        imc_param_print(out, sub, &sec->params[i]);
    }
    for (size_t i = 0; i < sec->n_slots; i++) {
        join(sub, sizeof sub, path, sec->slots[i].key);
        print_section(out, sec->slots[i].sub, sub);
    }
    FOR_COMPONENTS(comp, sec->path)
        print_component(out, (imc_comp)comp);
}

void imc_arch_schema_print(FILE *out)
{
    fprintf(out, "key\ttype\tdefault\trange\tmeaning\n");
    print_section(out, &root_section, "");
}

/* ---- mapping.duplicate ------------------------------------------------------------------- */

int imc_arch_each_duplicate(const imc_arch *a, int (*fn)(const char *, int, void *), void *data,
                            char *why, size_t why_size)
{
    const char *s = a->mapping.duplicate;
    if (!s)
        return 0;
    char *copy = strdup(s), *save = NULL;
    if (!copy) {
        snprintf(why, why_size, "out of memory");
        return IMC_ENOMEM;
    }
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *eq = strrchr(tok, '='), *end;
        long n = eq ? strtol(eq + 1, &end, 10) : 0;
        if (!eq || eq == tok || end == eq + 1 || *end || n < 1 || n > 4096) {
            snprintf(why, why_size, "'%s' is not LAYER=COPIES with COPIES in 1..4096", tok);
            rc = -1;
            break;
        }
        *eq = '\0';
        if (fn && fn(tok, (int)n, data))
            break;
    }
    free(copy);
    return rc;
}

/* ---- derived quantities ---------------------------------------------------------------- */

int imc_arch_xbar_rows(const imc_arch *a)
{
    return (int)imc_instance_get(a->chip.tile.pe.xbar, "rows");
}

int imc_arch_xbar_cols(const imc_arch *a)
{
    return (int)imc_instance_get(a->chip.tile.pe.xbar, "cols");
}

int imc_arch_dac_bits(const imc_arch *a)
{
    return (int)imc_instance_get(a->chip.tile.pe.dac, "bits");
}

int imc_arch_input_slices(const imc_arch *a)
{
    int d = imc_arch_dac_bits(a);
    return (a->mapping.input_bits + d - 1) / d;
}

int imc_arch_weight_slices(const imc_arch *a)
{
    /* A differential pair stores the magnitude (weight_bits - 1 bits) in each column set; an
     * offset encoding stores weight + 2^(bits-1) in all weight_bits bits. */
    int bits = a->mapping.weight_bits - (a->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL);
    if (bits < 1)
        bits = 1;
    return (bits + a->mapping.cell_bits - 1) / a->mapping.cell_bits;
}

int imc_arch_cells_per_weight(const imc_arch *a)
{
    int c = imc_arch_weight_slices(a);
    return a->mapping.signed_scheme == IMC_SIGNED_DIFFERENTIAL ? 2 * c : c;
}

double imc_arch_noc_concentration(const imc_arch *a)
{
    double conc = imc_instance_get(a->chip.noc, "concentration");
    return isnan(conc) || conc < 1 ? 1 : conc;
}

int imc_arch_adcs_per_xbar(const imc_arch *a)
{
    int per = a->chip.tile.pe.columns_per_adc;
    return (imc_arch_xbar_cols(a) + per - 1) / per;
}

uint64_t imc_arch_slice_ps(const imc_arch *a)
{
    const imc_pe *pe = &a->chip.tile.pe;
    uint64_t read = imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
    uint64_t adc = (uint64_t)pe->columns_per_adc * imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    return read > adc ? read : adc;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folders a bare architecture name is looked up in, in order: $IMCSIM_DATADIR's (when
 * set), the source tree's this program was built from, the installed one. */
static int search_dirs(const char *dirs[3])
{
    const char *env = getenv("IMCSIM_DATADIR");
    int n = 0;
    if (env && *env)
        dirs[n++] = env;
    dirs[n++] = IMC_SRCDIR;
    dirs[n++] = IMC_DATADIR;
    return n;
}

const char *imc_arch_find(const char *name, char *buf, size_t size)
{
    if (strchr(name, '/') || is_file(name))
        return name;
    const char *dirs[3];
    for (int i = 0, n = search_dirs(dirs); i < n; i++) {
        snprintf(buf, size, "%s/arch-configs/%s", dirs[i], name);
        if (is_file(buf))
            return buf;
    }
    return name;
}

void imc_arch_looked(char *buf, size_t size)
{
    const char *dirs[3];
    int n = search_dirs(dirs);
    size_t used = (size_t)snprintf(buf, size, "the current folder");
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, ", %s/arch-configs", dirs[i]);
}
