/* sweep_spec.c -- reading and expanding sweep specs (see sweep_spec.h). Every check points at
 * the spec's line and column; the expansion is deterministic (grid order: the last axis
 * varies fastest), so a point's number names the same design on every run of the spec. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "sim/sweep/spec.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/arch/arch.h"
#include "sim/base/suggest.h"
#include "sim/base/ytree.h"

#define MAX_POINTS ((size_t)1000000) /* grid points before constraints */
#define MAX_CHOICES ((size_t)4000000) /* points x axes: 32 MB of choices */

typedef struct loader {
    imc_sweep_spec *s;
    const char *file;
    char *dir;          /* the spec's directory, with a trailing '/', or "" */
    imc_err *err;
} loader;

static int at(loader *ld, const imc_ymark *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int at(loader *ld, const imc_ymark *m, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(ld->err, IMC_EINPUT, ld->file, m->line, m->col, "%s", msg);
}

static int oom(loader *ld)
{
    return imc_err_set(ld->err, IMC_ENOMEM, "out of memory");
}

/* KEY's value as a non-empty scalar string (copied). */
static int scalar(loader *ld, const imc_yentry *e, const char *key, char **out)
{
    if (e->val->kind != IMC_Y_SCALAR || e->val->is_null || !e->val->scalar[0])
        return at(ld, &e->val->mark, "%s: expected a value", key);
    if (!(*out = strdup(e->val->scalar)))
        return oom(ld);
    return 0;
}

static int integer(loader *ld, const imc_yentry *e, const char *key, long min, long max,
                   long *out)
{
    char *end;
    if (e->val->kind != IMC_Y_SCALAR || e->val->is_null)
        return at(ld, &e->val->mark, "%s: expected an integer", key);
    errno = 0;
    long v = strtol(e->val->scalar, &end, 10);
    if (errno || end == e->val->scalar || *end)
        return at(ld, &e->val->mark, "%s: '%s' is not an integer", key, e->val->scalar);
    if (v < min)
        return at(ld, &e->val->mark, "%s: must be at least %ld", key, min);
    if (v > max)
        return at(ld, &e->val->mark, "%s: must be at most %ld", key, max);
    *out = v;
    return 0;
}

/* NAME resolved against the spec's directory and made absolute when the file exists (imcsim
 * runs in each run's own folder, and the manifest must not depend on the working directory);
 * absolute names stay. */
static int resolve(loader *ld, const char *name, char **out)
{
    size_t n = strlen(ld->dir) + strlen(name) + 1;
    char *joined = malloc(n);
    if (!joined)
        return oom(ld);
    snprintf(joined, n, "%s%s", name[0] == '/' ? "" : ld->dir, name);
    char *abs = realpath(joined, NULL);
    if (abs) {
        free(joined);
        joined = abs;
    }
    *out = joined;
    return 0;
}

static int file_key(loader *ld, const imc_yentry *e, const char *key, char **out)
{
    char *name = NULL; /* scalar() leaves it untouched when the value is not a string */
    int rc = scalar(ld, e, key, &name);
    if (!rc)
        rc = resolve(ld, name, out);
    free(name);
    return rc;
}

/* arch: a file relative to the spec, or a bare name that is not one, looked up in imcsim's
 * data directories as `imcsim --arch reram.yaml` does (imc_arch_find). */
static int load_arch(loader *ld, const imc_yentry *e)
{
    imc_sweep_spec *s = ld->s;
    int rc = file_key(ld, e, "arch", &s->arch);
    if (!rc && access(s->arch, R_OK) != 0 && !strchr(e->val->scalar, '/')) {
        char buf[4096];
        const char *found = imc_arch_find(e->val->scalar, buf, sizeof buf);
        char *abs = realpath(found, NULL);
        free(s->arch);
        if (!(s->arch = abs ? abs : strdup(found)))
            rc = oom(ld);
    }
    return rc;
}

/* The label of a model file: its base name without the extension. */
static char *default_label(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    return strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

static int label_ok(const char *l)
{
    if (!l[0] || l[0] == '.' || strlen(l) > 100)
        return 0;
    for (const char *p = l; *p; p++)
        if (*p == '/' || *p == ',' || *p == '"' || *p == '\n')
            return 0;
    return 1;
}

static int load_models(loader *ld, const imc_yentry *e)
{
    imc_sweep_spec *s = ld->s;
    const imc_ynode *v = e->val;
    if (v->kind != IMC_Y_SEQ || v->n == 0)
        return at(ld, &v->mark, "models: expected a list of model files");
    if (!(s->models = calloc(v->n, sizeof *s->models)))
        return oom(ld);
    s->n_models = v->n; /* the entries fill in below; a half-read spec frees them all */
    for (size_t i = 0; i < v->n; i++) {
        const imc_ynode *it = v->items[i];
        imc_sweep_model *m = &s->models[i];
        m->line = it->mark.line;
        m->col = it->mark.col;
        imc_yentry fake = {.key = "models", .key_mark = it->mark, .val = (imc_ynode *)it};
        int rc = 0;
        if (it->kind == IMC_Y_MAP) {
            for (size_t k = 0; !rc && k < it->n; k++) {
                const imc_yentry *f = &it->entries[k];
                if (strcmp(f->key, "file") == 0)
                    rc = file_key(ld, f, "models.file", &m->file);
                else if (strcmp(f->key, "label") == 0)
                    rc = scalar(ld, f, "models.label", &m->label);
                else
                    rc = at(ld, &f->key_mark, "models: unknown key '%s' (expected file, label)", f->key);
            }
            if (!rc && !m->file)
                rc = at(ld, &it->mark, "models: an entry needs a 'file'");
        } else {
            rc = file_key(ld, &fake, "models", &m->file);
        }
        if (!rc && !m->label && !(m->label = default_label(m->file)))
            rc = oom(ld);
        if (!rc && !label_ok(m->label))
            rc = at(ld, &it->mark, "models: label '%.100s' cannot name a folder (at most 100 "
                    "characters, no '/', ',', '\"', line break or leading '.')", m->label);
        for (size_t j = 0; !rc && j < i; j++)
            if (strcmp(s->models[j].label, m->label) == 0)
                rc = at(ld, &it->mark, "models: label '%s' is used twice; give one a 'label'", m->label);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_set(loader *ld, const imc_yentry *e)
{
    imc_sweep_spec *s = ld->s;
    const imc_ynode *v = e->val;
    if (v->kind != IMC_Y_MAP)
        return at(ld, &v->mark, "set: expected a mapping of key paths to values");
    if (!(s->set = calloc(v->n ? v->n : 1, sizeof *s->set)) ||
        !(s->set_line = calloc(v->n ? v->n : 1, sizeof *s->set_line)) ||
        !(s->set_col = calloc(v->n ? v->n : 1, sizeof *s->set_col)))
        return oom(ld);
    for (size_t i = 0; i < v->n; i++, s->n_set++) { /* n_set: the complete entries */
        const imc_yentry *f = &v->entries[i];
        s->set_line[i] = f->key_mark.line;
        s->set_col[i] = f->key_mark.col;
        char *val;
        int rc = scalar(ld, f, f->key, &val);
        if (rc)
            return rc;
        size_t n = strlen(f->key) + strlen(val) + 2;
        if ((s->set[i] = malloc(n)))
            snprintf(s->set[i], n, "%s=%s", f->key, val);
        free(val);
        if (!s->set[i])
            return oom(ld);
    }
    return 0;
}

static int load_axes(loader *ld, const imc_yentry *e)
{
    imc_sweep_spec *s = ld->s;
    const imc_ynode *v = e->val;
    if (v->kind != IMC_Y_MAP || v->n == 0)
        return at(ld, &v->mark, "axes: expected a mapping of key paths to lists of values");
    if (!(s->axes = calloc(v->n, sizeof *s->axes)))
        return oom(ld);
    s->n_axes = v->n;
    for (size_t i = 0; i < v->n; i++) {
        const imc_yentry *f = &v->entries[i];
        imc_sweep_axis *a = &s->axes[i];
        if (!(a->key = strdup(f->key)))
            return oom(ld);
        a->line = f->key_mark.line;
        a->col = f->key_mark.col;
        for (size_t j = 0; j < ld->s->n_set; j++) {
            size_t kl = strlen(f->key);
            if (strncmp(s->set[j], f->key, kl) == 0 && s->set[j][kl] == '=')
                return at(ld, &f->key_mark, "axes: %s is also in 'set'", f->key);
        }
        const imc_ynode *l = f->val;
        if (l->kind != IMC_Y_SEQ || l->n == 0)
            return at(ld, &l->mark, "axes: %s: expected a non-empty list of values", f->key);
        if (!(a->values = calloc(l->n, sizeof *a->values)))
            return oom(ld);
        a->n_values = l->n;
        for (size_t j = 0; j < l->n; j++) {
            imc_yentry item = {.key = f->key, .key_mark = l->items[j]->mark, .val = l->items[j]};
            int rc = scalar(ld, &item, f->key, &a->values[j]);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int load_numerics(loader *ld, const imc_yentry *e)
{
    imc_sweep_spec *s = ld->s;
    const imc_ynode *v = e->val;
    s->numerics = 1;
    if (v->kind == IMC_Y_SCALAR && v->is_null)
        return 0;
    if (v->kind != IMC_Y_MAP)
        return at(ld, &v->mark, "numerics: expected a mapping (dataset, images, seed)");
    for (size_t i = 0; i < v->n; i++) {
        const imc_yentry *f = &v->entries[i];
        int rc;
        if (strcmp(f->key, "dataset") == 0)
            rc = file_key(ld, f, "numerics.dataset", &s->dataset);
        else if (strcmp(f->key, "images") == 0)
            rc = integer(ld, f, "numerics.images", 1, 100000000, &s->images); /* imcsim's bounds */
        else if (strcmp(f->key, "seed") == 0)
            rc = integer(ld, f, "numerics.seed", 0, 2147483647, &s->seed);
        else
            rc = at(ld, &f->key_mark, "numerics: unknown key '%s' (expected dataset, images, seed)", f->key);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_constraints(loader *ld, const imc_yentry *e, const char *const *keys,
                            size_t n_keys)
{
    imc_sweep_spec *s = ld->s;
    const imc_ynode *v = e->val;
    if (v->kind != IMC_Y_SEQ)
        return at(ld, &v->mark, "constraints: expected a list of conditions");
    if (!(s->constraints = calloc(v->n ? v->n : 1, sizeof *s->constraints)) ||
        !(s->constraint_line = calloc(v->n ? v->n : 1, sizeof *s->constraint_line)))
        return oom(ld);
    for (size_t i = 0; i < v->n; i++, s->n_constraints++) {
        const imc_ynode *c = v->items[i];
        if (c->kind != IMC_Y_SCALAR || c->is_null)
            return at(ld, &c->mark, "constraints: expected a condition as a string");
        s->constraint_line[i] = c->mark.line;
        int rc = imc_expr_parse(&s->constraints[i], c->scalar, keys, n_keys, ld->file,
                                c->mark.line, c->mark.col + c->quoted, ld->err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The values of the keys constraints may name (the axes', then set's) at the point CHOICE. */
static void point_values(const imc_sweep_spec *s, const size_t *choice, const char **vals)
{
    for (size_t a = 0; a < s->n_axes; a++)
        vals[a] = s->axes[a].values[choice[a]];
    for (size_t j = 0; j < s->n_set; j++)
        vals[s->n_axes + j] = strchr(s->set[j], '=') + 1;
}

static int link_groups(loader *ld, const imc_yentry *e, char *grouped);

/* Link the axes named in "linked: [[KEY, KEY, ...], ...]" (or all of them for zip). */
static int link_axes(loader *ld, const imc_yentry *e)
{
    imc_sweep_spec *s = ld->s;
    for (size_t a = 0; a < s->n_axes; a++)
        s->axes[a].leader = s->zip ? 0 : a;
    if (!e)
        return 0;
    char *grouped = calloc(s->n_axes, 1); /* in a group already */
    if (!grouped)
        return oom(ld);
    int rc = link_groups(ld, e, grouped);
    free(grouped);
    return rc;
}

static int link_groups(loader *ld, const imc_yentry *e, char *grouped)
{
    imc_sweep_spec *s = ld->s;
    const imc_ynode *v = e->val;
    if (v->kind != IMC_Y_SEQ)
        return at(ld, &v->mark, "linked: expected a list of lists of axis keys");
    for (size_t g = 0; g < v->n; g++) {
        const imc_ynode *grp = v->items[g];
        if (grp->kind != IMC_Y_SEQ || grp->n < 2)
            return at(ld, &grp->mark, "linked: expected a list of two or more axis keys");
        size_t lead = s->n_axes;
        for (size_t i = 0; i < grp->n; i++) {
            const imc_ynode *k = grp->items[i];
            size_t a = 0;
            while (k->kind == IMC_Y_SCALAR && a < s->n_axes && strcmp(s->axes[a].key, k->scalar))
                a++;
            if (k->kind != IMC_Y_SCALAR || a == s->n_axes)
                return at(ld, &k->mark, "linked: '%s' is not an axis",
                          k->kind == IMC_Y_SCALAR ? k->scalar : "?");
            if (grouped[a])
                return at(ld, &k->mark, "linked: %s is already linked", k->scalar);
            grouped[a] = 1;
            if (lead == s->n_axes)
                lead = a;
            else
                s->axes[a].leader = lead;
        }
    }
    return 0;
}

static int expand(loader *ld)
{
    imc_sweep_spec *s = ld->s;
    size_t total = 1, na = s->n_axes;
    for (size_t a = 0; a < na; a++) {
        const imc_sweep_axis *x = &s->axes[a], *l = &s->axes[x->leader];
        if (x->leader != a) {
            if (x->n_values != l->n_values)
                return imc_err_at(ld->err, IMC_EINPUT, ld->file, x->line, x->col,
                                  "axes: %s has %zu values, but %s has %zu and they advance "
                                  "together (%s)", x->key, x->n_values, l->key, l->n_values,
                                  s->zip ? "combine: zip" : "linked");
            continue;
        }
        if (total > MAX_POINTS / x->n_values)
            return imc_err_at(ld->err, IMC_EINPUT, ld->file, x->line, x->col,
                              "axes: the grid has more than %zu points", MAX_POINTS);
        total *= x->n_values;
    }
    /* The expansion holds one choice per point and axis: bound that before allocating it, so
     * that a few kilobytes of spec cannot ask for gigabytes. */
    if (na && total > MAX_CHOICES / na)
        return imc_err_at(ld->err, IMC_EINPUT, ld->file, s->axes[0].line, s->axes[0].col,
                          "axes: %zu points of %zu axes are more than %zu values to expand",
                          total, na, MAX_CHOICES);
    size_t *cur = calloc(na, sizeof *cur);
    const char **vals = calloc(na + s->n_set + 1, sizeof *vals);
    s->choice = calloc(total * na, sizeof *s->choice);
    if (!cur || !vals || !s->choice) {
        free(cur);
        free(vals);
        return oom(ld);
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < total; i++) {
        size_t rest = i;
        for (size_t a = na; a-- > 0;)
            if (s->axes[a].leader == a) {
                cur[a] = rest % s->axes[a].n_values;
                rest /= s->axes[a].n_values;
            }
        for (size_t a = 0; a < na; a++)
            cur[a] = cur[s->axes[a].leader];
        point_values(s, cur, vals);
        int keep = 1;
        for (size_t c = 0; !rc && keep && c < s->n_constraints; c++) {
            imc_err e;
            imc_err_clear(&e);
            rc = imc_expr_eval(s->constraints[c], vals, &keep, &e);
            if (rc)
                rc = imc_err_at(ld->err, IMC_EINPUT, ld->file, s->constraint_line[c], 1,
                                "%s (grid point %zu)", e.msg, i);
        }
        if (keep) {
            memcpy(&s->choice[s->n_points * na], cur, na * sizeof *cur);
            s->n_points++;
        } else {
            s->n_skipped++;
        }
    }
    free(cur);
    free(vals);
    return rc;
}

static int load(loader *ld, imc_ynode *root)
{
    static const char *const known[] = {"sweep_version", "arch", "models", "set", "axes",
                                        "combine", "constraints", "batch", "kernel", "numerics",
                                        "linked"};
    const size_t n_known = sizeof known / sizeof known[0];
    imc_sweep_spec *s = ld->s;
    const imc_yentry *by[sizeof known / sizeof known[0]] = {0};
    for (size_t i = 0; i < root->n; i++) {
        const imc_yentry *e = &root->entries[i];
        size_t k = 0;
        while (k < n_known && strcmp(e->key, known[k]) != 0)
            k++;
        if (k == n_known) {
            const char *near = imc_suggest(e->key, known, n_known);
            char hint[96] = "";
            if (near)
                snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
            return at(ld, &e->key_mark, "unknown key '%s'%s", e->key, hint);
        }
        by[k] = e;
    }
    int rc = 0;
    long v;
    if (by[0] && !(rc = integer(ld, by[0], "sweep_version", 1, INT_MAX, &v)) && v != 1)
        rc = at(ld, &by[0]->val->mark, "sweep_version: %s is not supported (this imcsim reads 1)", by[0]->val->scalar);
    if (rc)
        return rc;
    static const size_t required[] = {1, 2, 4}; /* arch, models, axes */
    for (size_t r = 0; r < 3; r++)
        if (!by[required[r]])
            return imc_err_at(ld->err, IMC_EINPUT, ld->file, root->mark.line, root->mark.col,
                              "missing required key '%s'", known[required[r]]);
    if ((rc = load_arch(ld, by[1])) || (rc = load_models(ld, by[2])))
        return rc;
    if (by[3] && (rc = load_set(ld, by[3])))
        return rc;
    if ((rc = load_axes(ld, by[4])))
        return rc;
    if (by[5]) {
        char *mode;
        if ((rc = scalar(ld, by[5], "combine", &mode)))
            return rc;
        s->zip = strcmp(mode, "zip") == 0;
        if (!s->zip && strcmp(mode, "grid") != 0)
            rc = at(ld, &by[5]->val->mark, "combine: '%s' is neither grid nor zip", mode);
        free(mode);
        if (rc)
            return rc;
    }
    if (by[10] && s->zip)
        return at(ld, &by[10]->key_mark, "linked: with 'combine: zip' every axis is linked");
    if ((rc = link_axes(ld, by[10])))
        return rc;
    if (by[7] && (rc = integer(ld, by[7], "batch", 1, 100000, &v))) /* imcsim --batch's */
        return rc;
    s->batch = by[7] ? (int)v : 0;
    if (by[8] && (rc = scalar(ld, by[8], "kernel", &s->kernel)))
        return rc;
    if (s->kernel && strcmp(s->kernel, "native") && strcmp(s->kernel, "systemc"))
        return at(ld, &by[8]->val->mark, "kernel: '%s' is neither native nor systemc", s->kernel);
    if (by[9] && (rc = load_numerics(ld, by[9])))
        return rc;
    if (by[6]) {
        size_t n_keys = s->n_axes + s->n_set;
        char **keys = calloc(n_keys + 1, sizeof *keys);
        if (!keys)
            return oom(ld);
        for (size_t a = 0; a < s->n_axes; a++)
            keys[a] = s->axes[a].key;
        for (size_t j = 0; !rc && j < s->n_set; j++)
            if (!(keys[s->n_axes + j] = strndup(s->set[j], strcspn(s->set[j], "="))))
                rc = oom(ld);
        if (!rc)
            rc = load_constraints(ld, by[6], (const char *const *)keys, n_keys);
        for (size_t j = 0; j < s->n_set; j++)
            free(keys[s->n_axes + j]);
        free(keys);
        if (rc)
            return rc;
    }
    return expand(ld);
}

int imc_sweep_spec_load(imc_sweep_spec **out, const char *path, imc_err *err)
{
    *out = NULL;
    imc_ytree *tree;
    int rc = imc_ytree_load_file(&tree, path, err);
    if (rc)
        return rc;
    imc_sweep_spec *s = calloc(1, sizeof *s);
    loader ld = {s, imc_ytree_file(tree), NULL, err};
    const char *slash = strrchr(path, '/');
    ld.dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup("");
    if (!s || !ld.dir || !(s->path = strdup(path)))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    if (!rc)
        rc = load(&ld, imc_ytree_root(tree));
    free(ld.dir);
    imc_ytree_free(tree);
    if (rc) {
        imc_sweep_spec_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Load the base architecture with SETS; 0, or the error in ERR. */
static int try_arch(const imc_sweep_spec *s, const char **sets, size_t n, imc_err *err)
{
    imc_arch *a = NULL;
    int rc = imc_arch_load(&a, s->arch, sets, n, err);
    imc_arch_free(a);
    return rc;
}

int imc_sweep_spec_check(const imc_sweep_spec *s, imc_err *err)
{
    for (size_t m = 0; m < s->n_models; m++)
        if (access(s->models[m].file, R_OK) != 0)
            return imc_err_at(err, IMC_EINPUT, s->path, s->models[m].line, s->models[m].col,
                              "models: %s: %s", s->models[m].file, strerror(errno));
    if (s->dataset && access(s->dataset, R_OK) != 0)
        return imc_err_set(err, IMC_EINPUT, "%s: numerics.dataset: %s: %s", s->path, s->dataset,
                           strerror(errno));
    const char **sets = calloc(s->n_set + 1, sizeof *sets);
    if (!sets)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n_set; i++)
        sets[i] = s->set[i];
    imc_err e;
    imc_err_clear(&e);
    int rc = try_arch(s, sets, s->n_set, &e);
    if (rc && strcmp(e.file, "--set") == 0 && e.line >= 1 && (size_t)e.line <= s->n_set) {
        /* an override every point applies: a mistake of the spec's */
        size_t i = (size_t)e.line - 1;
        rc = imc_err_at(err, IMC_EINPUT, s->path, s->set_line[i], s->set_col[i], "set: %s",
                        e.msg);
    } else if (rc) {
        *err = e;
    }
    for (size_t a = 0; !rc && a < s->n_axes; a++) {
        /* the first value: only whether the key exists matters here */
        size_t n = strlen(s->axes[a].key) + strlen(s->axes[a].values[0]) + 2;
        char *assign = malloc(n);
        if (!assign) {
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
            break;
        }
        snprintf(assign, n, "%s=%s", s->axes[a].key, s->axes[a].values[0]);
        sets[s->n_set] = assign;
        imc_err_clear(&e);
        /* --set errors point at column COL of the assignment: within the key, the key is
         * wrong (unknown, or runs through a value); past it, the value is (a failed point) */
        if (try_arch(s, sets, s->n_set + 1, &e) && strcmp(e.file, "--set") == 0 &&
            (size_t)e.line == s->n_set + 1 && (size_t)e.col <= strlen(s->axes[a].key))
            rc = imc_err_at(err, IMC_EINPUT, s->path, s->axes[a].line, s->axes[a].col,
                            "axes: %s", e.msg);
        free(assign);
    }
    free(sets);
    return rc;
}

const char *imc_sweep_value(const imc_sweep_spec *s, size_t p, size_t a)
{
    return s->axes[a].values[s->choice[p * s->n_axes + a]];
}

void imc_sweep_spec_free(imc_sweep_spec *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->arch);
    for (size_t i = 0; i < s->n_models; i++) {
        free(s->models[i].file);
        free(s->models[i].label);
    }
    free(s->models);
    for (size_t i = 0; i < s->n_set; i++)
        free(s->set[i]);
    free(s->set);
    free(s->set_line);
    free(s->set_col);
    for (size_t a = 0; a < s->n_axes; a++) {
        free(s->axes[a].key);
        for (size_t j = 0; j < s->axes[a].n_values; j++)
            free(s->axes[a].values[j]);
        free(s->axes[a].values);
    }
    free(s->axes);
    for (size_t c = 0; c < s->n_constraints; c++)
        imc_expr_free(s->constraints[c]);
    free(s->constraints);
    free(s->constraint_line);
    free(s->kernel);
    free(s->dataset);
    free(s->choice);
    free(s);
}
