/* ytree.c -- load YAML (libyaml's document API) into an imc_ynode tree; --set overrides.
 *
 * libyaml reports 0-based lines and columns; the tree stores them 1-based, as editors show
 * them. Aliases are resolved by libyaml into shared nodes; we copy them, so the tree is a
 * true tree. A recursion limit guards against alias bombs and absurd nesting. */
#include "sim/base/ytree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 100000

struct imc_ytree {
    imc_ynode *root;
    char **files; /* source names the marks point to; files[0] is the tree's own */
    int *layers;  /* per file: later layers override earlier ones (base files, the file, --set) */
    size_t n_files;
    size_t n_nodes;
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

static imc_ymark mark_of(const char *file, yaml_mark_t m)
{
    return (imc_ymark){file, (int)m.line + 1, (int)m.column + 1};
}

static int is_null_scalar(const yaml_node_t *y)
{
    if (y->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)y->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

static int copy_node(imc_ytree *t, yaml_document_t *doc, yaml_node_t *y, const char *file,
                     int depth, imc_ynode **out, imc_err *err)
{
    imc_ymark mark = mark_of(file, y->start_mark);
    if (depth > MAX_DEPTH || ++t->n_nodes > MAX_NODES)
        return imc_err_at(err, IMC_EINPUT, file, mark.line, mark.col,
                          "document too deeply nested or too large (aliases?)");
    imc_ynode *n;
    switch (y->type) {
    case YAML_SCALAR_NODE:
        if (!(n = node_new(IMC_Y_SCALAR, mark)) ||
            !(n->scalar = strdup((const char *)y->data.scalar.value))) {
            free(n);
            return imc_err_set(err, IMC_ENOMEM, "out of memory reading %s", file);
        }
        n->is_null = is_null_scalar(y);
        break;
    case YAML_MAPPING_NODE: {
        size_t count = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
        if (!(n = node_new(IMC_Y_MAP, mark)) ||
            (count && !(n->entries = calloc(count, sizeof *n->entries)))) {
            free(n);
            return imc_err_set(err, IMC_ENOMEM, "out of memory reading %s", file);
        }
        for (size_t i = 0; i < count; i++) {
            yaml_node_pair_t *pair = &y->data.mapping.pairs.start[i];
            yaml_node_t *k = yaml_document_get_node(doc, pair->key);
            yaml_node_t *v = yaml_document_get_node(doc, pair->value);
            imc_ymark km = mark_of(file, k->start_mark);
            if (k->type != YAML_SCALAR_NODE) {
                node_free(n);
                return imc_err_at(err, IMC_EINPUT, file, km.line, km.col,
                                  "mapping keys must be plain names");
            }
            const char *key = (const char *)k->data.scalar.value;
            if (imc_ynode_find(n, key)) {
                node_free(n);
                return imc_err_at(err, IMC_EINPUT, file, km.line, km.col,
                                  "duplicate key '%s'", key);
            }
            imc_yentry *e = &n->entries[n->n];
            if (!(e->key = strdup(key))) {
                node_free(n);
                return imc_err_set(err, IMC_ENOMEM, "out of memory reading %s", file);
            }
            e->key_mark = km;
            n->n++;
            int rc = copy_node(t, doc, v, file, depth + 1, &e->val, err);
            if (rc) {
                node_free(n);
                return rc;
            }
        }
        break;
    }
    case YAML_SEQUENCE_NODE: {
        size_t count = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        if (!(n = node_new(IMC_Y_SEQ, mark)) ||
            (count && !(n->items = calloc(count, sizeof *n->items)))) {
            free(n);
            return imc_err_set(err, IMC_ENOMEM, "out of memory reading %s", file);
        }
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *v = yaml_document_get_node(doc, y->data.sequence.items.start[i]);
            int rc = copy_node(t, doc, v, file, depth + 1, &n->items[i], err);
            if (rc) {
                node_free(n);
                return rc;
            }
            n->n++;
        }
        break;
    }
    default:
        return imc_err_at(err, IMC_EINPUT, file, mark.line, mark.col, "empty YAML node");
    }
    *out = n;
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
    imc_ytree *t = calloc(1, sizeof *t);
    const char *file = t ? intern_file(t, name) : NULL;
    if (!file) {
        imc_ytree_free(t);
        return imc_err_set(err, IMC_ENOMEM, "out of memory reading %s", name);
    }
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc)) {
        int rc = parse_error(parser, file, err);
        imc_ytree_free(t);
        return rc;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = imc_err_at(err, IMC_EINPUT, file, 1, 1, "the file is empty");
    else if (root->type != YAML_MAPPING_NODE)
        rc = imc_err_at(err, IMC_EINPUT, file, (int)root->start_mark.line + 1,
                        (int)root->start_mark.column + 1,
                        "the top level must be a mapping of keys (schema:, chip:, ...)");
    else
        rc = copy_node(t, &doc, root, file, 0, &t->root, err);
    yaml_document_delete(&doc);
    if (!rc) { /* a second document is a mistake, not something to ignore */
        yaml_document_t extra;
        if (!yaml_parser_load(parser, &extra))
            rc = parse_error(parser, file, err);
        else {
            if (yaml_document_get_root_node(&extra))
                rc = imc_err_at(err, IMC_EINPUT, file, (int)extra.start_mark.line + 1,
                                (int)extra.start_mark.column + 1,
                                "only one YAML document is allowed per file");
            yaml_document_delete(&extra);
        }
    }
    if (rc) {
        imc_ytree_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int imc_ytree_load_file(imc_ytree **out, const char *path, imc_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot open: %s", strerror(errno));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_file(&parser, f);
    int rc = load(out, &parser, path, err);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

int imc_ytree_load_string(imc_ytree **out, const char *text, const char *name, imc_err *err)
{
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
