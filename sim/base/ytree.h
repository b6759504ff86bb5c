/* ytree.h -- a YAML document as a small tree of maps, sequences and scalars that remembers
 * where every key and value came from (file, line, column), so the schema checks in
 * arch.c can report `FILE:LINE:COL: error: PATH: what`.
 *
 * libyaml parses; this module builds the tree from its events, which the rest of imcsim can
 * edit (--set overrides) and walk. Limits: 64 levels of nesting, 100000 nodes (aliases
 * counted as copies), one document. It knows nothing of the architecture schema. */
#ifndef IMC_YTREE_H
#define IMC_YTREE_H

#include <stddef.h>

#include "sim/base/err.h"

typedef enum imc_ykind { IMC_Y_SCALAR, IMC_Y_MAP, IMC_Y_SEQ } imc_ykind;

typedef struct imc_ymark {
    const char *file; /* owned by the tree */
    int line, col;    /* 1-based */
} imc_ymark;

struct imc_ynode;

typedef struct imc_yentry {
    char *key;
    imc_ymark key_mark;
    struct imc_ynode *val;
} imc_yentry;

typedef struct imc_ynode {
    imc_ykind kind;
    imc_ymark mark;
    char *scalar;        /* IMC_Y_SCALAR: the text */
    int is_null;         /* IMC_Y_SCALAR: plain empty / ~ / null */
    int quoted;          /* IMC_Y_SCALAR: written in quotes (its text starts a column later) */
    imc_yentry *entries; /* IMC_Y_MAP, in document order */
    struct imc_ynode **items; /* IMC_Y_SEQ */
    size_t n;
} imc_ynode;

typedef struct imc_ytree imc_ytree;

/* Parse the YAML file PATH (a regular file: a FIFO or device is refused before any read). The
 * root must be a mapping; keys must be unique scalars. */
int imc_ytree_load_file(imc_ytree **out, const char *path, imc_err *err);

/* Parse YAML from a string; NAME is used in messages. */
int imc_ytree_load_string(imc_ytree **out, const char *text, const char *name, imc_err *err);

imc_ynode *imc_ytree_root(imc_ytree *tree);

/* The source name the tree was loaded from. */
const char *imc_ytree_file(const imc_ytree *tree);

/* Every source its marks point to (the file, its bases, "--set"), N of them. */
const char *const *imc_ytree_files(const imc_ytree *tree, size_t *n);

/* Apply one --set override "PATH=VALUE" (the INDEX-th, 1-based, used as the line number in
 * messages): walk the dotted PATH through mappings, creating missing ones, and set the last
 * key to the scalar VALUE. Fails when PATH is malformed, runs through a scalar, or the
 * assignment is not UTF-8. */
int imc_ytree_set(imc_ytree *tree, const char *assignment, int index, imc_err *err);

/* Apply one --unset: remove the key at the dotted PATH (the INDEX-th override), so its
 * default applies. Fails when PATH is malformed or not in the tree. */
int imc_ytree_unset(imc_ytree *tree, const char *path, int index, imc_err *err);

/* Make TREE start from BASE (an architecture file's `base:`): every key of TREE replaces
 * BASE's, mappings merging key by key, and the marks keep their files. BASE is consumed. */
int imc_ytree_adopt(imc_ytree *tree, imc_ytree *base, imc_err *err);

/* The layer FILE (a mark's file) belongs to: a base file's is below the file that names it,
 * which is below --set. -1 for a file the tree does not know. */
int imc_ytree_layer(const imc_ytree *tree, const char *file);

/* Find KEY in the mapping NODE; NULL if absent or NODE is not a mapping. */
imc_yentry *imc_ynode_find(imc_ynode *node, const char *key);

void imc_ytree_free(imc_ytree *tree);

#endif
