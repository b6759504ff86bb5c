/* trace.c -- op graphs as text traces: write one (imc_trace_write), read one back
 * (imc_trace_read), and give the mapper a network of its layers (imc_flow_network).
 * The format is specified in traces/README.md; this file is its only implementation.
 *
 * Invariants: what the writer writes the reader reads back to an identical graph, and the
 * writer's text for that graph is byte-identical to what it wrote (every field, the layer and
 * name tables, the graph header). The dependency array is laid out in op order (op i's
 * dependencies right after op i-1's): the one layout the text can express, and the one
 * dataflow.c builds. The writer refuses a graph the reader would refuse (an index out of
 * range, a dependency on a later op, ...), so a written trace always reads back.
 *
 * The reader is strict: every malformed line is one error PATH:LINE:COL naming the field and
 * what would be right; nothing is guessed. It holds one line at a time, bounds every count
 * (MAX_*) and every number, and never needs more memory than the graph it builds. Knows
 * nothing of hardware, of time, or of how a graph is built from a network. */
#include "sim/flow/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "sim/base/hugepages.h"
#include "sim/base/infile.h"
#include "sim/base/suggest.h"

#define MAX_LINE ((size_t)64 << 20)  /* bytes in one line (a barrier's deps) */
#define MAX_OPS 100000000u
#define MAX_DEPS 1000000000u         /* all dependencies; first_dep must fit uint32 */
#define MAX_LAYERS 1000000u
#define MAX_NAMES 10000000u
#define MAX_INDEX 1000000            /* a layer's block or head */
/* The model line and a layer's shape: far beyond any network (ViT-H has 257 tokens of 1280 in
 * 16 heads), small enough that no product the mapper and engine form of them overflows. */
#define MAX_TOKENS 1048576
#define MAX_WIDTH 16777216           /* dim, a layer's in and out */
#define MAX_HEADS 65536
#define MAX_ACT_BITS 64
#define MSG_TOK 60                   /* bytes of a bad token quoted in a message */

/* The digital functions a VECTOR op may name: IMC_DIGITAL_ADD .. IMC_DIGITAL_MAX (the digital
 * model's actions up to, not including, the MAC array's `mac`). */
#define N_FUNCS IMC_DIGITAL_MAC

/* The class an op of each kind has unless its line names another; -1: it must name one. */
_Static_assert(IMC_OP_KIND_COUNT == 7, "a new op kind needs its default class here and in "
                                       "traces/README.md");
static const int default_class[IMC_OP_KIND_COUNT] = {
    [IMC_OP_MVM] = IMC_CLS_MVM,     [IMC_OP_VECTOR] = -1,          [IMC_OP_MATMUL] = -1,
    [IMC_OP_STORE] = IMC_CLS_STORE, [IMC_OP_BARRIER] = IMC_CLS_SYNC, [IMC_OP_INPUT] = IMC_CLS_IO,
    [IMC_OP_OUTPUT] = IMC_CLS_IO,
};

static const char *func_name(unsigned f)
{
    size_t n;
    const imc_action *actions = imc_kind_actions(IMC_KIND_DIGITAL, &n);
    return f < n ? actions[f].name : "?";
}

/* ---- names in the text ----------------------------------------------------------------------
 * A name is one token: bytes <= ' ', '%', '#' and DEL are written %XX (two hex digits). */

static int needs_escape(unsigned char c)
{
    return c <= ' ' || c == '%' || c == '#' || c == 0x7f;
}

static void put_name(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (needs_escape(c))
            fprintf(out, "%%%02X", c);
        else
            putc(c, out);
    }
}

/* ---- writing ------------------------------------------------------------------------------ */

static int bad_graph(imc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad_graph(imc_err *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_set(err, IMC_EINTERNAL, "cannot write the trace: %s", msg);
}

/* Everything the reader would refuse, as one error. */
static int check_graph(const imc_flow *g, imc_err *err)
{
    if (!g->model || !g->model[0])
        return bad_graph(err, "the graph has no model name");
    if (g->tokens < 0 || g->tokens > MAX_TOKENS || g->embed_dim < 0 || g->embed_dim > MAX_WIDTH ||
        g->num_heads < 0 || g->num_heads > MAX_HEADS || g->act_bits < 0 ||
        g->act_bits > MAX_ACT_BITS)
        return bad_graph(err, "tokens, embed_dim, num_heads or act_bits out of range");
    if (g->num_heads > g->embed_dim || (g->num_heads && g->embed_dim % g->num_heads))
        return bad_graph(err, "%d heads do not divide dim=%d", g->num_heads, g->embed_dim);
    if (g->n_layers > MAX_LAYERS || g->n_names > MAX_NAMES || g->n_ops > MAX_OPS ||
        g->n_deps > MAX_DEPS)
        return bad_graph(err, "more than %u layers, %u names, %u ops or %u dependencies",
                         MAX_LAYERS, MAX_NAMES, MAX_OPS, MAX_DEPS);
    for (size_t i = 0; i < g->n_layers; i++) {
        const imc_layer *l = &g->layers[i];
        if (!memchr(l->name, '\0', sizeof l->name) || !l->name[0])
            return bad_graph(err, "layer %zu: empty or unterminated name", i);
        if ((unsigned)l->kind >= IMC_LAYER_KIND_COUNT)
            return bad_graph(err, "layer %zu (%s): kind %d out of range", i, l->name, (int)l->kind);
        if (l->block < -1 || l->block > MAX_INDEX || l->head < -1 || l->head > MAX_INDEX ||
            l->dir < -1 || l->dir > IMC_DIR_BWD || l->in < 1 || l->in > MAX_WIDTH || l->out < 1 ||
            l->out > MAX_WIDTH || l->vectors < 0 ||
            (l->has_bias != 0 && l->has_bias != 1))
            return bad_graph(err, "layer %zu (%s): block, head, dir, in, out, vectors or has_bias "
                                  "out of range", i, l->name);
    }
    for (size_t i = 0; i < g->n_names; i++)
        if (!g->names[i] || !g->names[i][0])
            return bad_graph(err, "name %zu is empty", i);
    uint64_t next_dep = 0;
    for (size_t i = 0; i < g->n_ops; i++) {
        const imc_op *o = &g->ops[i];
        if (o->kind >= IMC_OP_KIND_COUNT || o->cls >= IMC_CLS_COUNT)
            return bad_graph(err, "op %zu: kind %d or class %d out of range", i, o->kind, o->cls);
        if (o->layer < -1 || o->layer >= (int64_t)g->n_layers || o->site < -1 ||
            o->site >= (int64_t)g->n_layers)
            return bad_graph(err, "op %zu: layer %d or site %d out of range (%zu layers)", i,
                             (int)o->layer, (int)o->site, g->n_layers);
        if (o->kind == IMC_OP_MVM && o->layer < 0)
            return bad_graph(err, "op %zu: an mvm op without a layer", i);
        if (o->head < -1)
            return bad_graph(err, "op %zu: head %d out of range", i, (int)o->head);
        if (o->name >= g->n_names)
            return bad_graph(err, "op %zu: name %u out of range (%zu names)", i, o->name, g->n_names);
        if (o->n_work > IMC_OP_MAX_WORK)
            return bad_graph(err, "op %zu: %u work entries (at most %d)", i, o->n_work,
                             IMC_OP_MAX_WORK);
        for (unsigned w = 0; w < o->n_work; w++)
            if (o->work[w].func >= N_FUNCS)
                return bad_graph(err, "op %zu: work function %u out of range", i, o->work[w].func);
        if (o->first_dep != next_dep || (uint64_t)o->first_dep + o->n_deps > g->n_deps)
            return bad_graph(err, "op %zu: dependencies not laid out in op order", i);
        for (uint32_t d = 0; d < o->n_deps; d++)
            if (g->deps[o->first_dep + d] >= i)
                return bad_graph(err, "op %zu depends on op %u, which is not before it", i,
                                 g->deps[o->first_dep + d]);
        next_dep += o->n_deps;
    }
    if (next_dep != g->n_deps)
        return bad_graph(err, "%zu dependencies but the ops use %" PRIu64, g->n_deps, next_dep);
    return 0;
}

/* Defaults of fields an op line leaves out (traces/README.md): the head of its layer, else of
 * its site, else none; an MVM moves one vector of its layer's inputs in and one of its outputs
 * out, at act_bits each; element-wise work and stores give out what they take in. */
static int32_t default_head(const imc_flow *g, const imc_op *o)
{
    return o->layer >= 0 ? g->layers[o->layer].head : o->site >= 0 ? g->layers[o->site].head : -1;
}

static uint64_t default_out(const imc_flow *g, const imc_op *o)
{
    if (o->kind == IMC_OP_MVM && o->layer >= 0)
        return (uint64_t)g->layers[o->layer].out * (uint64_t)g->act_bits;
    return 0;
}

static uint64_t default_in(const imc_flow *g, const imc_op *o)
{
    if (o->kind == IMC_OP_MVM && o->layer >= 0)
        return (uint64_t)g->layers[o->layer].in * (uint64_t)g->act_bits;
    if (o->kind == IMC_OP_VECTOR || o->kind == IMC_OP_STORE)
        return o->out_bits;
    return 0;
}

static void write_op(const imc_flow *g, size_t i, FILE *out)
{
    const imc_op *o = &g->ops[i];
    fprintf(out, "op %s", imc_op_kind_name((imc_op_kind)o->kind));
    if (default_class[o->kind] != o->cls)
        fprintf(out, " %s", imc_op_class_name((imc_op_class)o->cls));
    if (o->layer != -1)
        fprintf(out, " layer=%d", (int)o->layer);
    if (o->site != o->layer)
        fprintf(out, " site=%d", (int)o->site);
    if (o->head != default_head(g, o))
        fprintf(out, " head=%d", (int)o->head);
    if (o->name)
        fprintf(out, " name=%u", o->name);
    if (o->token)
        fprintf(out, " tok=%u", o->token);
    if (o->in_bits != default_in(g, o))
        fprintf(out, " in=%" PRIu64, o->in_bits);
    if (o->out_bits != default_out(g, o))
        fprintf(out, " out=%" PRIu64, o->out_bits);
    if (o->m || o->k || o->n)
        fprintf(out, " mkn=%ux%ux%u", o->m, o->k, o->n);
    if (o->take_bits)
        fprintf(out, " take=%u", o->take_bits);
    for (unsigned w = 0; w < o->n_work; w++)
        fprintf(out, "%s%s:%u", w ? "," : " work=", func_name(o->work[w].func), o->work[w].count);
    for (uint32_t d = 0; d < o->n_deps; d++)
        fprintf(out, "%s-%zu", d ? "," : " deps=", i - g->deps[o->first_dep + d]);
    putc('\n', out);
}

int imc_trace_write(const imc_flow *g, FILE *out, imc_err *err)
{
    int rc = check_graph(g, err);
    if (rc)
        return rc;
    /* the oldest version that holds the graph: 2 only for sliding-window MVMs (take=) */
    int version = 1;
    for (size_t i = 0; i < g->n_ops && version < 2; i++)
        version = g->ops[i].take_bits ? 2 : 1;
    fprintf(out, "imcsim-trace %d\n", version);
    fprintf(out, "# the op graph of one inference (format: traces/README.md)\n");
    fprintf(out, "model ");
    put_name(out, g->model);
    fprintf(out, " tokens=%d dim=%d heads=%d act_bits=%d\n", g->tokens, g->embed_dim,
            g->num_heads, g->act_bits);

    fprintf(out, "# layer INDEX NAME KIND [block= head= dir= in= out= vectors= bias=]\n");
    for (size_t i = 0; i < g->n_layers; i++) {
        const imc_layer *l = &g->layers[i];
        fprintf(out, "layer %zu ", i);
        put_name(out, l->name);
        fprintf(out, " %s", imc_layer_kind_name(l->kind));
        if (l->block != -1)
            fprintf(out, " block=%d", l->block);
        if (l->head != -1)
            fprintf(out, " head=%d", l->head);
        if (l->dir != -1)
            fprintf(out, " dir=%s", l->dir == IMC_DIR_FWD ? "fwd" : "bwd");
        if (l->in)
            fprintf(out, " in=%d", l->in);
        if (l->out)
            fprintf(out, " out=%d", l->out);
        if (l->vectors)
            fprintf(out, " vectors=%" PRId64, l->vectors);
        if (l->has_bias)
            fprintf(out, " bias=1");
        putc('\n', out);
    }

    fprintf(out, "# name INDEX NAME\n");
    for (size_t i = 0; i < g->n_names; i++) {
        fprintf(out, "name %zu ", i);
        put_name(out, g->names[i]);
        putc('\n', out);
    }

    fprintf(out, "# op KIND [CLASS] [layer= site= head= name= tok= in= out= mkn= %swork= deps=], "
                 "numbered from 0\n", version > 1 ? "take= " : "");
    for (size_t i = 0; i < g->n_ops; i++) {
        if (i % 1000 == 0)
            fprintf(out, "# op %zu\n", i);
        write_op(g, i, out);
    }
    fprintf(out, "end ops=%zu\n", g->n_ops);
    if (fflush(out) || ferror(out))
        return imc_err_set(err, IMC_EIO, "cannot write the trace: %s", strerror(errno));
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct tok {
    const char *s;
    size_t n;
    int col; /* 1-based */
} tok;

typedef struct rd {
    const char *path;
    imc_err *err;
    FILE *fp;
    char *line;
    size_t cap, pos;
    int lineno;
    imc_flow *g;
    size_t cap_layers, cap_names, cap_ops, cap_deps;
    int model_line; /* where the model line was; 0 before it */
    int end_line;
} rd;

static int bad(rd *r, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(rd *r, int col, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imc_err_at(r->err, IMC_EINPUT, r->path, r->lineno, col, "%s", msg);
}

static int oom(rd *r)
{
    return imc_err_set(r->err, IMC_ENOMEM, "%s: out of memory", r->path);
}

/* A token quoted in a message, cut to MSG_TOK bytes. */
#define TOKF "'%.*s%s'"
#define TOKA(t) (int)((t).n > MSG_TOK ? MSG_TOK : (t).n), (t).s, ((t).n > MSG_TOK ? "..." : "")

static int tok_is(tok t, const char *word)
{
    return t.n == strlen(word) && !memcmp(t.s, word, t.n);
}

/* Grow *P (of *CAP elements of SIZE, N in use) to hold N + 1: the ops and dependencies the
 * engine runs, on huge pages once large, as the dataflow builder's (sim/base/hugepages.h). */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? imc_hugepages_next(*cap * size) / size : 16;
    void *q = imc_hugepages_grow(*p, n * size, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Read the next line into r->line (NUL-terminated, no newline): 1, 0 at the end, or < 0. */
static int read_line(rd *r)
{
    size_t len = 0;
    int c;
    r->lineno++;
    while ((c = getc_unlocked(r->fp)) != EOF && c != '\n') {
        if (c == '\0')
            return bad(r, (int)(len < INT_MAX ? len + 1 : INT_MAX), "NUL byte (a trace is text)");
        if (len + 1 >= r->cap) {
            if (r->cap >= MAX_LINE)
                return bad(r, 1, "line longer than %zu bytes", MAX_LINE);
            size_t c2 = r->cap ? r->cap * 2 : 256;
            char *q = realloc(r->line, c2);
            if (!q)
                return oom(r);
            r->line = q;
            r->cap = c2;
        }
        r->line[len++] = (char)c;
    }
    if (c == EOF && ferror(r->fp))
        return imc_err_at(r->err, IMC_EIO, r->path, 0, 0, "cannot read: %s", strerror(errno));
    if (c == EOF && len == 0)
        return 0;
    if (!r->line) { /* an empty first line */
        if (!(r->line = malloc(256)))
            return oom(r);
        r->cap = 256;
    }
    r->line[len] = '\0';
    r->pos = 0;
    return 1;
}

/* The next whitespace-separated token of the line; 0 at its end or at a '#' comment. */
static int next_tok(rd *r, tok *t)
{
    const char *s = r->line;
    size_t p = r->pos;
    while (s[p] == ' ' || s[p] == '\t' || s[p] == '\r')
        p++;
    t->col = p < INT_MAX ? (int)p + 1 : INT_MAX;
    if (!s[p] || s[p] == '#') {
        r->pos = p;
        t->s = s + p;
        t->n = 0;
        return 0;
    }
    size_t b = p;
    while (s[p] && s[p] != ' ' && s[p] != '\t' && s[p] != '\r')
        p++;
    t->s = s + b;
    t->n = p - b;
    r->pos = p;
    return 1;
}

/* Nothing may follow the last field. */
static int expect_end(rd *r)
{
    tok t;
    if (next_tok(r, &t))
        return bad(r, t.col, "unexpected " TOKF " at the end of the line", TOKA(t));
    return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (!n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* An integer in LO .. HI. */
static int get_int(rd *r, tok v, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
    uint64_t u;
    int neg = v.n && v.s[0] == '-';
    if (parse_u64(v.s + neg, v.n - (size_t)neg, &u) || u > (uint64_t)INT64_MAX ||
        (neg ? -(int64_t)u < lo : (int64_t)u > hi))
        return bad(r, v.col, "%s: " TOKF " is not an integer in %" PRId64 " .. %" PRId64, what,
                   TOKA(v), lo, hi);
    *out = neg ? -(int64_t)u : (int64_t)u;
    return 0;
}

static int get_u64(rd *r, tok v, const char *what, uint64_t *out)
{
    if (parse_u64(v.s, v.n, out))
        return bad(r, v.col, "%s: " TOKF " is not an integer in 0 .. %" PRIu64, what, TOKA(v),
                   UINT64_MAX);
    return 0;
}

/* Decode a name token into a new string (or into BUF of SIZE when BUF is given). */
static int get_name(rd *r, tok t, const char *what, char **out, char *buf, size_t size)
{
    char *s = buf ? buf : malloc(t.n + 1);
    if (!s)
        return oom(r);
    size_t n = 0;
    for (size_t i = 0; i < t.n; i++) {
        unsigned char c = (unsigned char)t.s[i];
        if (c == '%') {
            unsigned v = 0;
            size_t k;
            for (k = 1; k <= 2 && i + k < t.n; k++) {
                char h = t.s[i + k];
                unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                             : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                             : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                                    : 16;
                if (d == 16)
                    break;
                v = v * 16 + d;
            }
            if (k != 3 || v == 0) {
                if (!buf)
                    free(s);
                return bad(r, t.col + (int)i, "%s: bad escape in " TOKF " (write %%XX: two hex "
                           "digits, not 00)", what, TOKA(t));
            }
            c = (unsigned char)v;
            i += 2;
        }
        if (buf && n + 1 >= size) {
            return bad(r, t.col, "%s " TOKF " is longer than %zu bytes", what, TOKA(t), size - 1);
        }
        s[n++] = (char)c;
    }
    s[n] = '\0';
    if (out)
        *out = s;
    return 0;
}

/* Split KEY=VALUE; the key is looked up in KEYS (N of them). Returns its index or < 0. */
static int get_field(rd *r, tok t, const char *what, const char *const *keys, int n, tok *val)
{
    const char *eq = memchr(t.s, '=', t.n);
    if (!eq)
        return bad(r, t.col, "%s: unexpected " TOKF " (fields are KEY=VALUE)", what, TOKA(t));
    size_t kn = (size_t)(eq - t.s);
    for (int i = 0; i < n; i++)
        if (strlen(keys[i]) == kn && !memcmp(keys[i], t.s, kn)) {
            val->s = eq + 1;
            val->n = t.n - kn - 1;
            val->col = t.col + (int)kn + 1;
            return i;
        }
    char key[MSG_TOK + 1];
    snprintf(key, sizeof key, "%.*s", (int)(kn > MSG_TOK ? MSG_TOK : kn), t.s);
    const char *near = imc_suggest(key, keys, (size_t)n);
    char list[256] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", keys[i]);
    if (near)
        return bad(r, t.col, "%s: unknown field '%s' (did you mean '%s'?)", what, key, near);
    return bad(r, t.col, "%s: unknown field '%s' (expected one of %s)", what, key, list);
}

/* Look a word up in a table of N names; fails naming WHAT with a suggestion. */
static int lookup(rd *r, tok t, const char *what, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (tok_is(t, names[i])) {
            *out = i;
            return 0;
        }
    char word[MSG_TOK + 1];
    snprintf(word, sizeof word, "%.*s", (int)(t.n > MSG_TOK ? MSG_TOK : t.n), t.s);
    const char *near = imc_suggest(word, names, (size_t)n);
    if (near)
        return bad(r, t.col, "unknown %s '%s' (did you mean '%s'?)", what, word, near);
    char list[512] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    return bad(r, t.col, "unknown %s '%s' (one of %s)", what, word, list);
}

/* `imcsim-trace VERSION`, the first line. */
static int read_magic(rd *r)
{
    int rc = read_line(r);
    if (rc < 0)
        return rc;
    tok t = {"", 0, 1};
    if (rc == 0 || !next_tok(r, &t) || !tok_is(t, "imcsim-trace") || t.col != 1)
        return bad(r, t.col, "not an imcsim trace: the first line must be 'imcsim-trace %d'",
                   IMC_TRACE_VERSION);
    tok v;
    uint64_t ver;
    if (!next_tok(r, &v))
        return bad(r, v.col, "missing the version after 'imcsim-trace'");
    if (parse_u64(v.s, v.n, &ver) || ver == 0)
        return bad(r, v.col, "bad version " TOKF " (expected a positive integer)", TOKA(v));
    if (ver > IMC_TRACE_VERSION)
        return bad(r, v.col, "trace version %" PRIu64 " is newer than this imcsim reads (%d)", ver,
                   IMC_TRACE_VERSION);
    return expect_end(r);
}

/* model NAME tokens=T dim=D heads=H act_bits=B */
static int read_model(rd *r, tok kw)
{
    static const char *const keys[] = {"tokens", "dim", "heads", "act_bits"};
    imc_flow *g = r->g;
    if (r->model_line)
        return bad(r, kw.col, "duplicate model line (the first is line %d)", r->model_line);
    tok t;
    if (!next_tok(r, &t))
        return bad(r, t.col, "model: missing the model name");
    int rc = get_name(r, t, "model name", &g->model, NULL, 0);
    if (rc)
        return rc;
    int *dst[] = {&g->tokens, &g->embed_dim, &g->num_heads, &g->act_bits};
    static const int64_t max[] = {MAX_TOKENS, MAX_WIDTH, MAX_HEADS, MAX_ACT_BITS};
    int seen = 0, heads_col = 0;
    while (next_tok(r, &t)) {
        tok v;
        int k = get_field(r, t, "model", keys, 4, &v);
        if (k < 0)
            return k;
        if (seen & 1 << k)
            return bad(r, t.col, "model: duplicate field '%s'", keys[k]);
        seen |= 1 << k;
        int64_t x;
        if ((rc = get_int(r, v, keys[k], 0, max[k], &x)))
            return rc;
        *dst[k] = (int)x;
        if (k == 2)
            heads_col = v.col;
    }
    for (int k = 0; k < 4; k++)
        if (!(seen & 1 << k))
            return bad(r, t.col, "model: missing '%s='", keys[k]);
    if (g->num_heads > g->embed_dim || (g->num_heads && g->embed_dim % g->num_heads))
        return bad(r, heads_col, "heads: %d heads do not divide dim=%d into equal heads",
                   g->num_heads, g->embed_dim);
    r->model_line = r->lineno;
    return 0;
}

/* INDEX of a layer or name line: must be the next one. */
static int read_index(rd *r, const char *what, size_t expect)
{
    tok t;
    uint64_t v;
    if (!next_tok(r, &t))
        return bad(r, t.col, "%s: missing its index", what);
    if (parse_u64(t.s, t.n, &v) || v != expect)
        return bad(r, t.col, "%s: index " TOKF " out of order (expected %zu: %ss are numbered from "
                   "0 in order)", what, TOKA(t), expect, what);
    return 0;
}

/* layer INDEX NAME KIND [block= head= dir= in= out= vectors= bias=] */
static int read_layer(rd *r)
{
    static const char *const keys[] = {"block", "head", "dir", "in", "out", "vectors", "bias"};
    imc_flow *g = r->g;
    if (g->n_ops)
        return bad(r, 1, "layer lines must come before the ops");
    if (g->n_layers >= MAX_LAYERS)
        return bad(r, 1, "more than %u layers", MAX_LAYERS);
    int rc = read_index(r, "layer", g->n_layers);
    if (rc)
        return rc;
    if (grow((void **)&g->layers, &r->cap_layers, g->n_layers, sizeof *g->layers))
        return oom(r);
    imc_layer *l = &g->layers[g->n_layers];
    memset(l, 0, sizeof *l);
    l->block = l->head = l->dir = -1;
    l->node = l->part = -1; /* a trace has no graph */
    tok t;
    if (!next_tok(r, &t))
        return bad(r, t.col, "layer: missing its name");
    if ((rc = get_name(r, t, "layer name", NULL, l->name, sizeof l->name)))
        return rc;
    int name_col = t.col;
    if (!next_tok(r, &t))
        return bad(r, t.col, "layer: missing its kind");
    const char *kinds[IMC_LAYER_KIND_COUNT];
    for (int k = 0; k < IMC_LAYER_KIND_COUNT; k++)
        kinds[k] = imc_layer_kind_name((imc_layer_kind)k);
    int kind;
    if ((rc = lookup(r, t, "layer kind", kinds, IMC_LAYER_KIND_COUNT, &kind)))
        return rc;
    l->kind = (imc_layer_kind)kind;
    int seen = 0, width_col[2] = {0, 0};
    while (next_tok(r, &t)) {
        tok v;
        int k = get_field(r, t, "layer", keys, 7, &v);
        if (k < 0)
            return k;
        if (seen & 1 << k)
            return bad(r, t.col, "layer: duplicate field '%s'", keys[k]);
        seen |= 1 << k;
        int64_t x = 0;
        switch (k) {
        case 0:
        case 1:
            rc = get_int(r, v, keys[k], -1, MAX_INDEX, &x);
            *(k ? &l->head : &l->block) = (int)x;
            break;
        case 2:
            if (tok_is(v, "fwd"))
                l->dir = IMC_DIR_FWD;
            else if (tok_is(v, "bwd"))
                l->dir = IMC_DIR_BWD;
            else
                rc = bad(r, v.col, "dir: " TOKF " is not fwd or bwd", TOKA(v));
            break;
        case 3:
        case 4:
            rc = get_int(r, v, keys[k], 0, MAX_WIDTH, &x);
            *(k == 3 ? &l->in : &l->out) = (int)x;
            width_col[k - 3] = v.col;
            break;
        case 5:
            rc = get_int(r, v, keys[k], 0, INT64_MAX, &l->vectors);
            break;
        default:
            rc = get_int(r, v, keys[k], 0, 1, &x);
            l->has_bias = (int)x;
            break;
        }
        if (rc)
            return rc;
    }
    /* a layer is a weight matrix on crossbars: one without rows or columns has nowhere to sit
     * (the network builder never makes one; a pruned-away head is left out instead) */
    for (int k = 0; k < 2; k++)
        if ((k ? l->out : l->in) < 1)
            return bad(r, width_col[k] ? width_col[k] : name_col,
                       "layer %s: %s must be at least 1 (a layer with no weights maps to nothing; "
                       "leave it out)", l->name, keys[3 + k]);
    g->n_layers++;
    return 0;
}

/* name INDEX NAME */
static int read_name_line(rd *r)
{
    imc_flow *g = r->g;
    if (g->n_ops)
        return bad(r, 1, "name lines must come before the ops");
    if (g->n_names >= MAX_NAMES)
        return bad(r, 1, "more than %u names", MAX_NAMES);
    int rc = read_index(r, "name", g->n_names);
    if (rc)
        return rc;
    tok t;
    if (!next_tok(r, &t))
        return bad(r, t.col, "name: missing the name");
    if (grow((void **)&g->names, &r->cap_names, g->n_names, sizeof *g->names))
        return oom(r);
    if ((rc = get_name(r, t, "name", &g->names[g->n_names], NULL, 0)))
        return rc;
    g->n_names++;
    return expect_end(r);
}

static int read_work(rd *r, imc_op *o, tok v)
{
    size_t n;
    const imc_action *actions = imc_kind_actions(IMC_KIND_DIGITAL, &n);
    const char *funcs[IMC_DIGITAL_N_ACTIONS];
    for (size_t i = 0; i < n && i < IMC_DIGITAL_N_ACTIONS; i++)
        funcs[i] = actions[i].name;
    const char *p = v.s, *end = v.s + v.n;
    for (;;) {
        const char *q = memchr(p, ',', (size_t)(end - p));
        if (!q)
            q = end;
        tok e = {p, (size_t)(q - p), v.col + (int)(p - v.s)};
        if (o->n_work >= IMC_OP_MAX_WORK)
            return bad(r, e.col, "work: more than %d entries", IMC_OP_MAX_WORK);
        const char *colon = memchr(e.s, ':', e.n);
        if (!colon)
            return bad(r, e.col, "work: " TOKF " is not FUNCTION:COUNT (e.g. add:384)", TOKA(e));
        tok f = {e.s, (size_t)(colon - e.s), e.col};
        tok c = {colon + 1, e.n - f.n - 1, e.col + (int)f.n + 1};
        int func, rc;
        if ((rc = lookup(r, f, "work function", funcs, N_FUNCS, &func)))
            return rc;
        int64_t count;
        if ((rc = get_int(r, c, "work count", 0, UINT32_MAX, &count)))
            return rc;
        o->work[o->n_work].func = (uint8_t)func;
        o->work[o->n_work].count = (uint32_t)count;
        o->n_work++;
        if (q == end)
            return 0;
        p = q + 1;
    }
}

static int read_mkn(rd *r, imc_op *o, tok v)
{
    uint32_t *dst[] = {&o->m, &o->k, &o->n};
    const char *p = v.s, *end = v.s + v.n;
    for (int i = 0; i < 3; i++) {
        const char *q = i < 2 ? memchr(p, 'x', (size_t)(end - p)) : end;
        uint64_t x;
        if (!q || parse_u64(p, (size_t)(q - p), &x) || x > UINT32_MAX)
            return bad(r, v.col, "mkn: " TOKF " is not MxKxN (three integers 0 .. %u, e.g. "
                       "1x64x197)", TOKA(v), UINT32_MAX);
        *dst[i] = (uint32_t)x;
        p = q + 1;
    }
    return 0;
}

/* deps=D,D,...: -N is N ops back, N is op N; either must be before this op. */
static int read_deps(rd *r, imc_op *o, tok v)
{
    imc_flow *g = r->g;
    size_t self = g->n_ops;
    const char *p = v.s, *end = v.s + v.n;
    for (;;) {
        const char *q = memchr(p, ',', (size_t)(end - p));
        if (!q)
            q = end;
        tok e = {p, (size_t)(q - p), v.col + (int)(p - v.s)};
        int rel = e.n && e.s[0] == '-';
        uint64_t x;
        if (parse_u64(e.s + rel, e.n - (size_t)rel, &x))
            return bad(r, e.col, "deps: " TOKF " is not an op (-N: N ops back; N: op N)",
                       TOKA(e));
        if (rel && x > self)
            return bad(r, e.col, "deps: " TOKF " is before the first op (this is op %zu)",
                       TOKA(e), self);
        uint64_t target = rel ? self - x : x;
        if (target >= self)
            return bad(r, e.col, "deps: " TOKF " is not before this op (op %zu): ops must be in a "
                       "topological order", TOKA(e), self);
        if (g->n_deps >= MAX_DEPS)
            return bad(r, e.col, "more than %u dependencies", MAX_DEPS);
        if (grow((void **)&g->deps, &r->cap_deps, g->n_deps, sizeof *g->deps))
            return oom(r);
        g->deps[g->n_deps++] = (uint32_t)target;
        o->n_deps++;
        if (q == end)
            return 0;
        p = q + 1;
    }
}

/* op KIND [CLASS] [layer= site= head= name= tok= in= out= mkn= take= work= deps=] */
static int read_op(rd *r)
{
    static const char *const keys[] = {"layer", "site", "head", "name", "tok", "in",
                                       "out",   "mkn",  "take", "work", "deps"};
    enum { K_LAYER, K_SITE, K_HEAD, K_NAME, K_TOK, K_IN, K_OUT, K_MKN, K_TAKE, K_WORK, K_DEPS,
           N_KEYS };
    imc_flow *g = r->g;
    if (g->n_ops >= MAX_OPS)
        return bad(r, 1, "more than %u ops", MAX_OPS);
    if (grow((void **)&g->ops, &r->cap_ops, g->n_ops, sizeof *g->ops))
        return oom(r);
    imc_op *o = &g->ops[g->n_ops];
    memset(o, 0, sizeof *o);
    o->layer = -1;
    o->first_dep = (uint32_t)g->n_deps;

    tok t;
    if (!next_tok(r, &t))
        return bad(r, t.col, "op: missing its kind");
    const char *kinds[IMC_OP_KIND_COUNT], *classes[IMC_CLS_COUNT];
    for (int k = 0; k < IMC_OP_KIND_COUNT; k++)
        kinds[k] = imc_op_kind_name((imc_op_kind)k);
    for (int k = 0; k < IMC_CLS_COUNT; k++)
        classes[k] = imc_op_class_name((imc_op_class)k);
    int kind, cls = -1, rc;
    if ((rc = lookup(r, t, "op kind", kinds, IMC_OP_KIND_COUNT, &kind)))
        return rc;
    tok kt = t;
    int more = next_tok(r, &t);
    if (more && !memchr(t.s, '=', t.n)) {
        if ((rc = lookup(r, t, "op class", classes, IMC_CLS_COUNT, &cls)))
            return rc;
        more = next_tok(r, &t);
    }
    if (cls < 0 && (cls = default_class[kind]) < 0)
        return bad(r, kt.col + (int)kt.n, "op %s: missing its class (e.g. 'op %s %s')",
                   kinds[kind], kinds[kind], kind == IMC_OP_MATMUL ? "qk" : "layernorm");
    o->kind = (uint8_t)kind;
    o->cls = (uint8_t)cls;

    int seen = 0, site_set = 0, head_set = 0, in_set = 0, out_set = 0;
    for (; more; more = next_tok(r, &t)) {
        tok v;
        int k = get_field(r, t, "op", keys, N_KEYS, &v);
        if (k < 0)
            return k;
        if (seen & 1 << k)
            return bad(r, t.col, "op: duplicate field '%s'", keys[k]);
        seen |= 1 << k;
        int64_t x;
        switch (k) {
        case K_LAYER:
        case K_SITE:
            if ((rc = get_int(r, v, keys[k], -1, INT32_MAX, &x)))
                return rc;
            if (x >= (int64_t)g->n_layers)
                return bad(r, v.col, "%s %" PRId64 " out of range: the trace has %zu layer%s",
                           keys[k], x, g->n_layers, g->n_layers == 1 ? "" : "s");
            if (k == K_LAYER) {
                o->layer = (int32_t)x;
            } else {
                o->site = (int32_t)x;
                site_set = 1;
            }
            break;
        case K_HEAD:
            if ((rc = get_int(r, v, keys[k], -1, INT32_MAX, &x)))
                return rc;
            o->head = (int32_t)x;
            head_set = 1;
            break;
        case K_NAME:
            if ((rc = get_int(r, v, keys[k], 0, UINT32_MAX, &x)))
                return rc;
            if (x >= (int64_t)g->n_names)
                return bad(r, v.col, "name %" PRId64 " out of range: the trace has %zu name%s", x,
                           g->n_names, g->n_names == 1 ? "" : "s");
            o->name = (uint32_t)x;
            break;
        case K_TOK:
            if ((rc = get_int(r, v, keys[k], 0, UINT32_MAX, &x)))
                return rc;
            o->token = (uint32_t)x;
            break;
        case K_IN:
            rc = get_u64(r, v, keys[k], &o->in_bits);
            in_set = 1;
            break;
        case K_OUT:
            rc = get_u64(r, v, keys[k], &o->out_bits);
            out_set = 1;
            break;
        case K_MKN:
            rc = read_mkn(r, o, v);
            break;
        case K_TAKE:
            if ((rc = get_int(r, v, keys[k], 0, UINT32_MAX, &x)))
                return rc;
            o->take_bits = (uint32_t)x;
            break;
        case K_WORK:
            rc = read_work(r, o, v);
            break;
        default:
            rc = read_deps(r, o, v);
            break;
        }
        if (rc)
            return rc;
    }
    if (kind == IMC_OP_MVM && o->layer < 0)
        return bad(r, kt.col, "op mvm: missing 'layer=' (the mapped layer it multiplies by)");
    if (kind != IMC_OP_MVM && o->take_bits)
        return bad(r, kt.col, "op %s: 'take=' is for mvm ops (a convolution's window)", kinds[kind]);
    if (!site_set)
        o->site = o->layer;
    if (!head_set)
        o->head = default_head(g, o);
    if (!out_set) /* first: in may default to out */
        o->out_bits = default_out(g, o);
    if (!in_set)
        o->in_bits = default_in(g, o);
    if (!(seen & 1 << K_NAME) && g->n_names == 0)
        return bad(r, kt.col, "op: name 0 out of range: the trace has no name lines");
    g->n_ops++;
    return 0;
}

/* end ops=N */
static int read_end(rd *r)
{
    static const char *const keys[] = {"ops"};
    tok t, v;
    if (!next_tok(r, &t))
        return bad(r, t.col, "end: missing 'ops=' (the number of ops)");
    int rc = get_field(r, t, "end", keys, 1, &v);
    if (rc < 0)
        return rc;
    uint64_t n;
    if ((rc = get_u64(r, v, "ops", &n)))
        return rc;
    if (n != r->g->n_ops)
        return bad(r, v.col, "end: says %" PRIu64 " ops but the trace has %zu", n, r->g->n_ops);
    r->end_line = r->lineno;
    return expect_end(r);
}

static int read_body(rd *r)
{
    static const char *const keywords[] = {"model", "layer", "name", "op", "end"};
    int rc;
    if ((rc = read_magic(r)))
        return rc;
    while ((rc = read_line(r)) > 0) {
        tok kw;
        if (!next_tok(r, &kw))
            continue;
        if (r->end_line)
            return bad(r, kw.col, "text after the end line (line %d)", r->end_line);
        if (tok_is(kw, "imcsim-trace"))
            return bad(r, kw.col, "duplicate 'imcsim-trace' line (it is the first line only)");
        int k;
        if ((rc = lookup(r, kw, "keyword", keywords, 5, &k)))
            return rc;
        if (k != 0 && !r->model_line)
            return bad(r, kw.col, "missing header: 'model NAME tokens=T dim=D heads=H "
                       "act_bits=B' must come before the first %s line", keywords[k]);
        switch (k) {
        case 0:
            rc = read_model(r, kw);
            break;
        case 1:
            rc = read_layer(r);
            break;
        case 2:
            rc = read_name_line(r);
            break;
        case 3:
            rc = read_op(r);
            break;
        default:
            rc = read_end(r);
            break;
        }
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (!r->model_line)
        return bad(r, 1, "missing header: no 'model NAME tokens=T dim=D heads=H act_bits=B' "
                   "line");
    if (!r->end_line)
        return bad(r, 1, "missing 'end ops=N' line (is the trace cut short?)");
    return 0;
}

int imc_trace_read_stream(imc_flow **out, FILE *fp, const char *name, imc_err *err)
{
    *out = NULL;
    rd r;
    memset(&r, 0, sizeof r);
    r.path = name;
    r.err = err;
    r.fp = fp;
    if (!(r.g = calloc(1, sizeof *r.g)))
        return oom(&r);
    int rc = read_body(&r);
    free(r.line);
    if (rc) {
        imc_flow_free(r.g);
        return rc;
    }
    *out = r.g;
    return 0;
}

int imc_trace_read(imc_flow **out, const char *path, imc_err *err)
{
    *out = NULL;
    FILE *fp;
    int rc = imc_infile_open(&fp, path, err); /* a FIFO is refused, not waited on */
    if (rc)
        return rc;
    rc = imc_trace_read_stream(out, fp, path, err);
    fclose(fp);
    return rc;
}

/* ---- the network of a graph ------------------------------------------------------------- */

int imc_flow_network(const imc_flow *g, imc_network **out, imc_err *err)
{
    *out = NULL;
    imc_network *net = calloc(1, sizeof *net);
    if (!net)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    net->name = strdup(g->model ? g->model : "");
    net->layers = malloc((g->n_layers ? g->n_layers : 1) * sizeof *net->layers);
    if (!net->name || !net->layers) {
        imc_network_free(net);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    if (g->n_layers)
        memcpy(net->layers, g->layers, g->n_layers * sizeof *net->layers);
    net->n_layers = g->n_layers;
    net->embed_dim = g->embed_dim;
    net->num_heads = g->num_heads;
    net->head_dim = g->num_heads > 0 ? g->embed_dim / g->num_heads : 0;
    net->tokens = g->tokens;
    for (size_t i = 0; i < g->n_layers; i++) {
        const imc_layer *l = &g->layers[i];
        if (l->block + 1 > net->depth)
            net->depth = l->block + 1;
        int64_t p = (int64_t)l->in * l->out + (l->has_bias ? l->out : 0);
        net->params_total += p;
        net->params_effective += p;
    }
    *out = net;
    return 0;
}
