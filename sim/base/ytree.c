/* ytree.c -- load YAML into an imc_ynode tree from libyaml's event API; --set overrides.
 *
 * Events, not libyaml's document loader: the loader's cost grows with the square of the flow
 * nesting (an 80 KB file of nested flow sequences took seconds to load before any limit could
 * be checked), while here each event is handled as it arrives, so the depth limit stops such a
 * file after MAX_DEPTH levels and the node limit stops an alias bomb after MAX_NODES copies.
 * Duplicate keys and anchors are found through hash tables: linear in the number of keys.
 *
 * libyaml reports 0-based lines and columns; the tree stores them 1-based, as editors show
 * them. An alias is copied, so the tree is a true tree; only an anchor on a completed node can
 * be referred to. */
#include "sim/base/ytree.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sim/base/infile.h"
#include "sim/base/outfile.h"

#define MAX_DEPTH 64
#define MAX_NODES 100000

struct imc_ytree {
    imc_ynode *root;
    char **files; /* source names the marks point to; files[0] is the tree's own */
    int *layers;  /* per file: later layers override earlier ones (base files, the file, --set) */
    size_t n_files;
};

static int top_layer(const imc_ytree *t)
{
    int top = -1;
    for (size_t i = 0; i < t->n_files; i++)
        top = t->layers[i] > top ? t->layers[i] : top;
    return top;
}

/* NAME's interned copy; a new name becomes the topmost layer. */
static const char *intern_file(imc_ytree *t, const char *name)
{
    for (size_t i = 0; i < t->n_files; i++)
        if (strcmp(t->files[i], name) == 0)
            return t->files[i];
    char **grown = realloc(t->files, (t->n_files + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    t->files = grown;
    int *layers = realloc(t->layers, (t->n_files + 1) * sizeof *layers);
    if (!layers)
        return NULL;
    t->layers = layers;
    if (!(t->files[t->n_files] = strdup(name)))
        return NULL;
    t->layers[t->n_files] = top_layer(t) + 1;
    return t->files[t->n_files++];
}

static void node_free(imc_ynode *n)
{
    if (!n)
        return;
    free(n->scalar);
    for (size_t i = 0; n->kind == IMC_Y_MAP && i < n->n; i++) {
        free(n->entries[i].key);
        node_free(n->entries[i].val);
    }
    for (size_t i = 0; n->kind == IMC_Y_SEQ && i < n->n; i++)
        node_free(n->items[i]);
    free(n->entries);
    free(n->items);
    free(n);
}

void imc_ytree_free(imc_ytree *tree)
{
    if (!tree)
        return;
    node_free(tree->root);
    for (size_t i = 0; i < tree->n_files; i++)
        free(tree->files[i]);
    free(tree->files);
    free(tree->layers);
    free(tree);
}

const char *const *imc_ytree_files(const imc_ytree *tree, size_t *n)
{
    *n = tree->n_files;
    return (const char *const *)tree->files;
}

imc_ynode *imc_ytree_root(imc_ytree *tree)
{
    return tree->root;
}

const char *imc_ytree_file(const imc_ytree *tree)
{
    return tree->n_files ? tree->files[0] : "";
}

imc_yentry *imc_ynode_find(imc_ynode *node, const char *key)
{
    if (!node || node->kind != IMC_Y_MAP)
        return NULL;
    for (size_t i = 0; i < node->n; i++)
        if (strcmp(node->entries[i].key, key) == 0)
            return &node->entries[i];
    return NULL;
}

static imc_ynode *node_new(imc_ykind kind, imc_ymark mark)
{
    imc_ynode *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->mark = mark;
    }
    return n;
}

/* ---- a string-keyed hash table (duplicate keys of one mapping; anchors) ------------------- */

typedef struct slot {
    const char *key; /* NULL: empty */
    void *val;
} slot;

typedef struct table {
    slot *slots;
    size_t cap, n; /* cap: 0 or a power of two, at most half full */
} table;

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

static slot *table_slot(const table *t, const char *key)
{
    size_t i = hash(key) & (t->cap - 1);
    while (t->slots[i].key && strcmp(t->slots[i].key, key) != 0)
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

static void *table_get(const table *t, const char *key)
{
    return t->cap ? table_slot(t, key)->val : NULL;
}

/* Insert or replace KEY (not copied: it must outlive the table). 0, or -1 out of memory. */
static int table_put(table *t, const char *key, void *val)
{
    if (2 * (t->n + 1) > t->cap) {
        table bigger = {calloc(t->cap ? 2 * t->cap : 16, sizeof(slot)), t->cap ? 2 * t->cap : 16, 0};
        if (!bigger.slots)
            return -1;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].key) {
                *table_slot(&bigger, t->slots[i].key) = t->slots[i];
                bigger.n++;
            }
        free(t->slots);
        *t = bigger;
    }
    slot *s = table_slot(t, key);
    t->n += !s->key;
    *s = (slot){key, val};
    return 0;
}

/* ---- the loader --------------------------------------------------------------------------- */

typedef struct frame {
    imc_ynode *node;  /* a mapping or a sequence being filled */
    char *anchor;     /* its anchor, registered when it is complete */
    size_t cap;       /* entries or items allocated */
    char *key;        /* mapping: the key waiting for its value, or NULL */
    imc_ymark key_mark;
    table keys;       /* mapping: the keys so far */
} frame;

typedef struct loader {
    imc_ytree *t;
    const char *file;
    imc_err *err;
    frame stack[MAX_DEPTH + 1];
    int depth;        /* frames in use */
    table anchors;    /* name (owned by names) -> completed node */
    char **names;
    size_t n_names, cap_names;
    size_t n_nodes;
} loader;

static int oom(loader *ld)
{
    return imc_err_set(ld->err, IMC_ENOMEM, "out of memory reading %s", ld->file);
}

static imc_ymark mark_of(const loader *ld, yaml_mark_t m)
{
    return (imc_ymark){ld->file, (int)m.line + 1, (int)m.column + 1};
}

static int too_large(loader *ld, imc_ymark m)
{
    return imc_err_at(ld->err, IMC_EINPUT, ld->file, m.line, m.col,
                      "document too large (more than %d nodes; aliases?)", MAX_NODES);
}

/* A deep copy of N for an alias, counted against MAX_NODES; NULL with the error set. */
static imc_ynode *copy_node(loader *ld, const imc_ynode *n, imc_ymark at)
{
    if (++ld->n_nodes > MAX_NODES) {
        too_large(ld, at);
        return NULL;
    }
    imc_ynode *c = node_new(n->kind, n->mark);
    if (!c) {
        oom(ld);
        return NULL;
    }
    c->is_null = n->is_null;
    c->quoted = n->quoted;
    int ok = !n->scalar || (c->scalar = strdup(n->scalar));
    if (ok && n->kind == IMC_Y_MAP && n->n)
        ok = (c->entries = calloc(n->n, sizeof *c->entries)) != NULL;
    if (ok && n->kind == IMC_Y_SEQ && n->n)
        ok = (c->items = calloc(n->n, sizeof *c->items)) != NULL;
    for (size_t i = 0; ok && i < n->n; i++, c->n++) {
        if (n->kind == IMC_Y_MAP) {
            c->entries[i].key_mark = n->entries[i].key_mark;
            if (!(c->entries[i].key = strdup(n->entries[i].key))) {
                ok = 0;
                break;
            }
            if (!(c->entries[i].val = copy_node(ld, n->entries[i].val, at))) {
                c->n++; /* the key is freed with the copy */
                node_free(c);
                return NULL;
            }
        } else if (!(c->items[i] = copy_node(ld, n->items[i], at))) {
            node_free(c);
            return NULL;
        }
    }
    if (!ok) {
        node_free(c);
        oom(ld);
        return NULL;
    }
    return c;
}

static int remember_anchor(loader *ld, const yaml_char_t *anchor, imc_ynode *n)
{
    if (!anchor)
        return 0;
    if (ld->n_names == ld->cap_names) {
        size_t cap = ld->cap_names ? 2 * ld->cap_names : 16;
        char **grown = realloc(ld->names, cap * sizeof *grown);
        if (!grown)
            return oom(ld);
        ld->names = grown;
        ld->cap_names = cap;
    }
    if (!(ld->names[ld->n_names] = strdup((const char *)anchor)))
        return oom(ld);
    ld->n_names++;
    /* a redefined anchor refers to the newest node from here on, as YAML says */
    return table_put(&ld->anchors, ld->names[ld->n_names - 1], n) ? oom(ld) : 0;
}

/* Hand the complete node N (owned by the caller until it is placed) to the frame on top, or
 * make it the root. */
static int place(loader *ld, imc_ynode *n)
{
    if (ld->depth == 0) {
        ld->t->root = n;
        return 0;
    }
    frame *f = &ld->stack[ld->depth - 1];
    imc_ynode *p = f->node;
    if (p->kind == IMC_Y_SEQ) {
        if (p->n == f->cap) {
            size_t cap = f->cap ? 2 * f->cap : 4;
            imc_ynode **grown = realloc(p->items, cap * sizeof *grown);
            if (!grown) {
                node_free(n);
                return oom(ld);
            }
            p->items = grown;
            f->cap = cap;
        }
        p->items[p->n++] = n;
        return 0;
    }
    if (!f->key) { /* N is a key */
        imc_ymark km = n->mark;
        int scalar = n->kind == IMC_Y_SCALAR;
        char *key = scalar ? n->scalar : NULL;
        if (scalar)
            n->scalar = NULL;
        node_free(n);
        if (!scalar)
            return imc_err_at(ld->err, IMC_EINPUT, ld->file, km.line, km.col,
                              "mapping keys must be plain names");
        if (table_get(&f->keys, key)) {
            int rc = imc_err_at(ld->err, IMC_EINPUT, ld->file, km.line, km.col,
                                "duplicate key '%s'", key);
            free(key);
            return rc;
        }
        f->key = key;
        f->key_mark = km;
        return 0;
    }
    if (p->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 4;
        imc_yentry *grown = realloc(p->entries, cap * sizeof *grown);
        if (!grown) {
            node_free(n);
            return oom(ld);
        }
        p->entries = grown;
        f->cap = cap;
    }
    p->entries[p->n] = (imc_yentry){f->key, f->key_mark, n};
    f->key = NULL;
    if (table_put(&f->keys, p->entries[p->n].key, p)) { /* the entry is complete either way */
        p->n++;
        return oom(ld);
    }
    p->n++;
    return 0;
}

static int is_null_text(const char *v)
{
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* One event; 1 when the stream ended, 0 to go on, or a negative status. */
static int on_event(loader *ld, const yaml_event_t *ev, int *documents)
{
    imc_ymark mark = mark_of(ld, ev->start_mark);
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*documents > 1)
            return imc_err_at(ld->err, IMC_EINPUT, ld->file, mark.line, mark.col,
                              "only one YAML document is allowed per file");
        return 0;
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        break;
    default: /* stream start, document end */
        return 0;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT: {
        frame *f = &ld->stack[--ld->depth];
        imc_ynode *n = f->node;
        char *anchor = f->anchor;
        free(f->keys.slots);
        memset(f, 0, sizeof *f);
        int rc = remember_anchor(ld, (const yaml_char_t *)anchor, n);
        free(anchor);
        return rc ? (node_free(n), rc) : place(ld, n);
    }
    }
    if (ld->depth == 0 && ev->type != YAML_MAPPING_START_EVENT)
        return imc_err_at(ld->err, IMC_EINPUT, ld->file, mark.line, mark.col,
                          "the top level must be a mapping of keys (schema:, chip:, ...)");
    if (ev->type == YAML_ALIAS_EVENT) {
        const imc_ynode *target = table_get(&ld->anchors, (const char *)ev->data.alias.anchor);
        if (!target)
            return imc_err_at(ld->err, IMC_EINPUT, ld->file, mark.line, mark.col,
                              "alias '*%s' names no anchor before it",
                              (const char *)ev->data.alias.anchor);
        imc_ynode *c = copy_node(ld, target, mark);
        return c ? place(ld, c) : ld->err->status;
    }
    const frame *top = ld->depth ? &ld->stack[ld->depth - 1] : NULL;
    int is_key = top && top->node->kind == IMC_Y_MAP && !top->key; /* keys are not nodes */
    if (!is_key && ++ld->n_nodes > MAX_NODES)
        return too_large(ld, mark);
    if (is_key && ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) /* a key is text, not a
                                                                              node to refer to */
        return imc_err_at(ld->err, IMC_EINPUT, ld->file, mark.line, mark.col,
                          "an anchor on a mapping key (&%s) is not supported",
                          (const char *)ev->data.scalar.anchor);
    if (ev->type == YAML_SCALAR_EVENT) {
        imc_ynode *n = node_new(IMC_Y_SCALAR, mark);
        if (!n || !(n->scalar = strdup((const char *)ev->data.scalar.value))) {
            free(n);
            return oom(ld);
        }
        int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->is_null = plain && is_null_text(n->scalar);
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        int rc = remember_anchor(ld, ev->data.scalar.anchor, n);
        return rc ? (node_free(n), rc) : place(ld, n);
    }
    /* a mapping or a sequence starts: the depth limit holds before anything is read inside */
    if (ld->depth >= MAX_DEPTH)
        return imc_err_at(ld->err, IMC_EINPUT, ld->file, mark.line, mark.col,
                          "document too deeply nested (more than %d levels)", MAX_DEPTH);
    int map = ev->type == YAML_MAPPING_START_EVENT;
    const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor
                                    : ev->data.sequence_start.anchor;
    frame *f = &ld->stack[ld->depth];
    memset(f, 0, sizeof *f);
    if (!(f->node = node_new(map ? IMC_Y_MAP : IMC_Y_SEQ, mark)) ||
        (anchor && !(f->anchor = strdup((const char *)anchor)))) {
        free(f->node);
        f->node = NULL;
        return oom(ld);
    }
    ld->depth++;
    return 0;
}

static int parse_error(const yaml_parser_t *p, const char *file, imc_err *err)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
    if (p->error == YAML_MEMORY_ERROR)
        return imc_err_set(err, IMC_ENOMEM, "out of memory parsing %s", file);
    if (p->error == YAML_READER_ERROR)
        return imc_err_at(err, IMC_EINPUT, file, 1, 1, "YAML syntax: %s at byte %zu",
                          p->problem ? p->problem : "unreadable input", p->problem_offset);
    return imc_err_at(err, IMC_EINPUT, file, (int)m->line + 1, (int)m->column + 1,
                      "YAML syntax: %s%s%s", p->problem ? p->problem : "invalid document",
                      p->context ? " " : "", p->context ? p->context : "");
}

static int load(imc_ytree **out, yaml_parser_t *parser, const char *name, imc_err *err)
{
    *out = NULL;
    loader *ld = calloc(1, sizeof *ld);
    imc_ytree *t = calloc(1, sizeof *t);
    const char *file = t ? intern_file(t, name) : NULL;
    if (!ld || !file) {
        free(ld);
        imc_ytree_free(t);
        return imc_err_set(err, IMC_ENOMEM, "out of memory reading %s", name);
    }
    *ld = (loader){.t = t, .file = file, .err = err};
    int rc = 0, documents = 0;
    while (!rc) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            rc = parse_error(parser, file, err);
            break;
        }
        rc = on_event(ld, &ev, &documents);
        yaml_event_delete(&ev);
    }
    if (rc == 1 && !t->root)
        rc = imc_err_at(err, IMC_EINPUT, file, 1, 1, "the file is empty");
    while (ld->depth > 0) { /* an error inside: free the open nodes, innermost first */
        frame *f = &ld->stack[--ld->depth];
        free(f->key);
        free(f->anchor);
        free(f->keys.slots);
        node_free(f->node);
    }
    for (size_t i = 0; i < ld->n_names; i++)
        free(ld->names[i]);
    free(ld->names);
    free(ld->anchors.slots);
    free(ld);
    if (rc < 0) {
        imc_ytree_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int imc_ytree_load_file(imc_ytree **out, const char *path, imc_err *err)
{
    *out = NULL;
    FILE *f;
    int rc = imc_infile_open(&f, path, err);
    if (rc)
        return rc;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_file(&parser, f);
    rc = load(out, &parser, path, err);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

int imc_ytree_load_string(imc_ytree **out, const char *text, const char *name, imc_err *err)
{
    *out = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    int rc = load(out, &parser, name, err);
    yaml_parser_delete(&parser);
    return rc;
}

/* --- --set ----------------------------------------------------------------------------- */

static int set_error(imc_err *err, int index, int col, const char *what, const char *path)
{
    return imc_err_at(err, IMC_EINPUT, "--set", index, col, "%s: %s", path, what);
}

int imc_ytree_set(imc_ytree *tree, const char *assignment, int index, imc_err *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return set_error(err, index, 1, "expected PATH=VALUE, e.g. chip.tiles=64", assignment);
    /* A file's text is UTF-8 (libyaml checks it); an argument must be too, or a dump of the
     * result would not reload. */
    for (const char *p = assignment; *p;) {
        int n = imc_utf8_len(p);
        if (!n)
            return imc_err_at(err, IMC_EINPUT, "--set", index, (int)(p - assignment) + 1,
                              "byte 0x%02X is not UTF-8 text", (unsigned char)*p);
        p += n;
    }
    size_t path_len = (size_t)(eq - assignment);
    char *path = strndup(assignment, path_len);
    if (!path)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    if (path[0] == '.' || path[path_len - 1] == '.' || strstr(path, "..")) {
        int rc = set_error(err, index, 1, "empty key in the path", path);
        free(path);
        return rc;
    }
    const char *file = intern_file(tree, "--set");
    if (!file) {
        free(path);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    int rc = 0;
    imc_ynode *node = tree->root;
    char *save = NULL;
    for (char *seg = strtok_r(path, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        size_t seg_start = (size_t)(seg - path);
        int col = (int)seg_start + 1;
        if (node->kind != IMC_Y_MAP) { /* strtok_r cut PATH; name the value from the original */
            rc = imc_err_at(err, IMC_EINPUT, "--set", index, col,
                            "%.*s: is a single value, not a section", (int)seg_start - 1,
                            assignment);
            break;
        }
        int last = *save == '\0';
        imc_yentry *e = imc_ynode_find(node, seg);
        if (!e) {
            imc_yentry *grown = realloc(node->entries, (node->n + 1) * sizeof *grown);
            if (!grown) {
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
                break;
            }
            node->entries = grown;
            e = &node->entries[node->n];
            memset(e, 0, sizeof *e);
            e->key_mark = (imc_ymark){file, index, col};
            if (!(e->key = strdup(seg)) || !(e->val = node_new(IMC_Y_MAP, e->key_mark))) {
                free(e->key);
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
                break;
            }
            node->n++;
        }
        if (last) {
            imc_ynode *v = node_new(IMC_Y_SCALAR, (imc_ymark){file, index, (int)path_len + 2});
            if (!v || !(v->scalar = strdup(eq + 1))) {
                free(v);
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
                break;
            }
            v->is_null = v->scalar[0] == '\0';
            node_free(e->val);
            e->val = v;
            e->key_mark = (imc_ymark){file, index, col};
        }
        node = e->val;
    }
    free(path);
    return rc;
}

/* --- --unset ----------------------------------------------------------------------------- */

int imc_ytree_unset(imc_ytree *tree, const char *path, int index, imc_err *err)
{
    imc_ynode *node = tree->root;
    const char *seg = path;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        int col = (int)(seg - path) + 1;
        if (len == 0)
            return imc_err_at(err, IMC_EINPUT, "--unset", index, col, "%s: empty key in the path",
                              path);
        if (node->kind != IMC_Y_MAP)
            return imc_err_at(err, IMC_EINPUT, "--unset", index, col,
                              "%.*s: is a single value, not a section", col - 2, path);
        size_t i = 0;
        while (i < node->n && (strlen(node->entries[i].key) != len ||
                               strncmp(node->entries[i].key, seg, len)))
            i++;
        if (i == node->n)
            return imc_err_at(err, IMC_EINPUT, "--unset", index, col,
                              "%.*s: not in the configuration, nothing to unset",
                              (int)(seg - path) + (int)len, path);
        if (!dot) { /* remove entry i, keeping the others in order */
            free(node->entries[i].key);
            node_free(node->entries[i].val);
            memmove(&node->entries[i], &node->entries[i + 1],
                    (node->n - i - 1) * sizeof node->entries[0]);
            node->n--;
            return 0;
        }
        node = node->entries[i].val;
        seg = dot + 1;
    }
}

/* --- one file starting from another -------------------------------------------------------- */

int imc_ytree_layer(const imc_ytree *tree, const char *file)
{
    for (size_t i = 0; i < tree->n_files; i++)
        if (tree->files[i] == file || strcmp(tree->files[i], file) == 0)
            return tree->layers[i];
    return -1;
}

/* Lay the mapping OVER onto BASE: OVER's keys replace BASE's, except that two mappings merge
 * key by key. Consumes OVER's nodes. */
static int overlay(imc_ynode *base, imc_ynode *over)
{
    for (size_t i = 0; i < over->n; i++) {
        imc_yentry *o = &over->entries[i], *b = imc_ynode_find(base, o->key);
        if (b && b->val->kind == IMC_Y_MAP && o->val->kind == IMC_Y_MAP) {
            if (overlay(b->val, o->val))
                return -1;
            node_free(o->val);
            free(o->key);
        } else if (b) {
            node_free(b->val);
            free(o->key);
            b->val = o->val;
            b->key_mark = o->key_mark;
        } else {
            imc_yentry *grown = realloc(base->entries, (base->n + 1) * sizeof *grown);
            if (!grown)
                return -1;
            base->entries = grown;
            base->entries[base->n++] = *o;
        }
        o->key = NULL;
        o->val = NULL;
    }
    over->n = 0;
    return 0;
}

int imc_ytree_adopt(imc_ytree *tree, imc_ytree *base, imc_err *err)
{
    /* files: the tree's own first (imc_ytree_file), then the base's; layers: the base's below */
    size_t n = tree->n_files + base->n_files;
    char **files = realloc(tree->files, n * sizeof *files);
    if (files)
        tree->files = files;
    int *layers = files ? realloc(tree->layers, n * sizeof *layers) : NULL;
    if (!layers) {
        imc_ytree_free(base);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    tree->layers = layers;
    int shift = top_layer(base) + 1;
    for (size_t i = 0; i < tree->n_files; i++)
        tree->layers[i] += shift;
    for (size_t i = 0; i < base->n_files; i++) {
        tree->files[tree->n_files + i] = base->files[i];
        tree->layers[tree->n_files + i] = base->layers[i];
    }
    tree->n_files = n;
    base->n_files = 0;
    int rc = overlay(base->root, tree->root);
    node_free(tree->root);
    tree->root = base->root;
    base->root = NULL;
    imc_ytree_free(base);
    return rc ? imc_err_set(err, IMC_ENOMEM, "out of memory") : 0;
}
