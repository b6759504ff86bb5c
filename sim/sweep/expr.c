/* sweep_expr.c -- constraint expressions of sweep specs (see sweep_expr.h): a recursive-descent
 * parser into a small tree, and its evaluator. */
#include "sim/sweep/expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/units.h"

enum {
    MAX_TEXT = 4096, /* characters of one constraint */
    MAX_DEPTH = 64   /* nested parentheses and unary operators */
};

enum node_kind { N_NUM, N_STR, N_KEY, N_NEG, N_NOT, N_BIN };

/* binary operators, also the token codes */
enum { OP_OR = 256, OP_AND, OP_EQ, OP_NE, OP_LE, OP_GE };

struct imc_expr {
    enum node_kind kind;
    int op;            /* N_BIN: '+', '<', OP_AND, ... */
    double num;        /* N_NUM */
    char *str;         /* N_STR */
    size_t key;        /* N_KEY */
    int at;            /* offset in the text, for messages */
    struct imc_expr *a, *b;
};

typedef struct parser {
    const char *text, *p;
    const char *const *keys;
    size_t n_keys;
    const char *file;
    int line, col;
    imc_err *err;
    int failed;
    int depth;          /* of parse_primary's recursion */
} parser;

static imc_expr *fail(parser *ps, const char *where, const char *what)
{
    if (!ps->failed)
        imc_err_at(ps->err, IMC_EINPUT, ps->file, ps->line, ps->col + (int)(where - ps->text),
                   "constraint: %s", what);
    ps->failed = 1;
    return NULL;
}

static imc_expr *node(parser *ps, enum node_kind kind, const char *at)
{
    imc_expr *e = calloc(1, sizeof *e);
    if (!e) {
        imc_err_set(ps->err, IMC_ENOMEM, "out of memory");
        ps->failed = 1;
        return NULL;
    }
    e->kind = kind;
    e->at = (int)(at - ps->text);
    return e;
}

static void skip_space(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* The next operator token at ps->p (without consuming it), and its length. */
static int peek_op(parser *ps, int *len)
{
    skip_space(ps);
    static const struct { const char *s; int op; } two[] = {
        {"||", OP_OR}, {"&&", OP_AND}, {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}};
    for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
        if (strncmp(ps->p, two[i].s, 2) == 0) {
            *len = 2;
            return two[i].op;
        }
    *len = 1;
    return *ps->p && strchr("+-*/%<>()!", *ps->p) ? *ps->p : 0;
}

static imc_expr *parse_or(parser *ps);

static int is_key_char(int c)
{
    return isalnum(c) || c == '_' || c == '.';
}

static imc_expr *parse_primary_at(parser *ps);

static imc_expr *parse_primary(parser *ps)
{
    if (++ps->depth > MAX_DEPTH)
        return fail(ps, ps->p, "nested too deeply");
    imc_expr *e = parse_primary_at(ps);
    ps->depth--;
    return e;
}

static imc_expr *parse_primary_at(parser *ps)
{
    skip_space(ps);
    const char *at = ps->p;
    int len, op = peek_op(ps, &len);
    if (op == '(') {
        ps->p++;
        imc_expr *e = parse_or(ps);
        if (!e)
            return NULL;
        if (peek_op(ps, &len) != ')') {
            imc_expr_free(e);
            return fail(ps, ps->p, "expected ')'");
        }
        ps->p++;
        return e;
    }
    if (op == '-' || op == '!') {
        ps->p++;
        imc_expr *a = parse_primary(ps);
        if (!a)
            return NULL;
        imc_expr *e = node(ps, op == '-' ? N_NEG : N_NOT, at);
        if (!e) {
            imc_expr_free(a);
            return NULL;
        }
        e->a = a;
        return e;
    }
    if (*at == '\'' || *at == '"') {
        const char *end = strchr(at + 1, *at);
        if (!end)
            return fail(ps, at, "unterminated string");
        imc_expr *e = node(ps, N_STR, at);
        if (e && !(e->str = strndup(at + 1, (size_t)(end - at - 1)))) {
            free(e);
            if (!ps->failed)
                imc_err_set(ps->err, IMC_ENOMEM, "out of memory");
            ps->failed = 1;
            return NULL;
        }
        ps->p = end + 1;
        return e;
    }
    if (isdigit((unsigned char)*at) || (*at == '.' && isdigit((unsigned char)at[1]))) {
        const char *end;
        double v;
        int st = imc_decimal_parse(at, &v, &end);
        if (st == IMC_DECIMAL_RANGE)
            return fail(ps, at, "number out of range (magnitude beyond 1e308 or below 1e-308)");
        if (st || is_key_char((unsigned char)*end))
            return fail(ps, at, "malformed number");
        imc_expr *e = node(ps, N_NUM, at);
        if (e)
            e->num = v;
        ps->p = end;
        return e;
    }
    if (isalpha((unsigned char)*at) || *at == '_') {
        const char *end = at;
        while (is_key_char((unsigned char)*end))
            end++;
        size_t n = (size_t)(end - at);
        for (size_t k = 0; k < ps->n_keys; k++)
            if (strlen(ps->keys[k]) == n && strncmp(ps->keys[k], at, n) == 0) {
                imc_expr *e = node(ps, N_KEY, at);
                if (e)
                    e->key = k;
                ps->p = end;
                return e;
            }
        char msg[400];
        snprintf(msg, sizeof msg, "'%.*s' is not a swept or set key", (int)(n > 200 ? 200 : n), at);
        return fail(ps, at, msg);
    }
    return fail(ps, at, *at ? "expected a number, a string, a key or '('" : "unexpected end");
}

/* Binary levels, lowest binding first; each entry lists its operators (0-terminated). */
static const int levels[][7] = {
    {OP_OR, 0},
    {OP_AND, 0},
    {OP_EQ, OP_NE, '<', OP_LE, '>', OP_GE, 0},
    {'+', '-', 0},
    {'*', '/', '%', 0},
};
enum { N_LEVELS = sizeof levels / sizeof levels[0] };

static int in_level(int level, int op)
{
    for (const int *o = levels[level]; *o; o++)
        if (*o == op)
            return 1;
    return 0;
}

static imc_expr *parse_level(parser *ps, int level)
{
    if (level == N_LEVELS)
        return parse_primary(ps);
    imc_expr *a = parse_level(ps, level + 1);
    int len, op;
    while (a && (op = peek_op(ps, &len)) && in_level(level, op)) {
        const char *at = ps->p;
        ps->p += len;
        imc_expr *b = parse_level(ps, level + 1);
        imc_expr *e = b ? node(ps, N_BIN, at) : NULL;
        if (!e) {
            imc_expr_free(a);
            imc_expr_free(b);
            return NULL;
        }
        e->op = op;
        e->a = a;
        e->b = b;
        a = e;
        if (level == 2 && (op = peek_op(ps, &len)) && in_level(2, op)) {
            imc_expr_free(a);
            return fail(ps, ps->p, "comparisons do not chain: use &&");
        }
    }
    return a;
}

static imc_expr *parse_or(parser *ps)
{
    return parse_level(ps, 0);
}

int imc_expr_parse(imc_expr **out, const char *text, const char *const *keys, size_t n_keys,
                   const char *file, int line, int col, imc_err *err)
{
    parser ps = {text, text, keys, n_keys, file, line, col, err, 0, 0};
    *out = NULL;
    if (strlen(text) > MAX_TEXT)
        return imc_err_at(err, IMC_EINPUT, file, line, col,
                          "constraint: longer than %d characters", MAX_TEXT);
    imc_expr *e = parse_or(&ps);
    if (e) {
        skip_space(&ps);
        if (*ps.p) {
            imc_expr_free(e);
            e = fail(&ps, ps.p, "unexpected text after the expression");
        }
    }
    if (!e)
        return err->status ? err->status : IMC_EINPUT;
    *out = e;
    return 0;
}

/* ---- evaluation --------------------------------------------------------------------------- */

typedef struct value {
    int is_str;
    double num;
    const char *str;
} value;

/* A value's text is a number when it is a whole decimal number (no hex, inf or nan). */
static value of_text(const char *s)
{
    double v;
    const char *end;
    if (imc_decimal_parse(s, &v, &end) == 0 && !*end)
        return (value){0, v, NULL};
    return (value){1, 0, s};
}

static int type_error(const imc_expr *e, imc_err *err, const char *what)
{
    return imc_err_set(err, IMC_EINPUT, "constraint at offset %d: %s", e->at + 1, what);
}

static int eval(const imc_expr *e, const char *const *values, value *v, imc_err *err)
{
    value a, b;
    int rc;
    switch (e->kind) {
    case N_NUM: *v = (value){0, e->num, NULL}; return 0;
    case N_STR: *v = (value){1, 0, e->str}; return 0;
    case N_KEY: *v = of_text(values[e->key]); return 0;
    case N_NEG:
    case N_NOT:
        if ((rc = eval(e->a, values, &a, err)))
            return rc;
        if (a.is_str)
            return type_error(e, err, e->kind == N_NEG ? "'-' of a string" : "'!' of a string");
        *v = (value){0, e->kind == N_NEG ? -a.num : (double)(a.num == 0), NULL};
        return 0;
    case N_BIN: break;
    }
    if ((rc = eval(e->a, values, &a, err)))
        return rc;
    if (e->op == OP_AND || e->op == OP_OR) { /* short-circuit */
        if (a.is_str)
            return type_error(e, err, "'&&' or '||' of a string");
        if ((e->op == OP_AND) == (a.num == 0)) {
            *v = (value){0, e->op == OP_OR, NULL};
            return 0;
        }
        if ((rc = eval(e->b, values, &b, err)))
            return rc;
        if (b.is_str)
            return type_error(e, err, "'&&' or '||' of a string");
        *v = (value){0, b.num != 0, NULL};
        return 0;
    }
    if ((rc = eval(e->b, values, &b, err)))
        return rc;
    int cmp_op = e->op == OP_EQ || e->op == OP_NE || e->op == '<' || e->op == OP_LE ||
                 e->op == '>' || e->op == OP_GE;
    if (cmp_op) {
        double c;
        if (a.is_str != b.is_str) {
            if (e->op != OP_EQ && e->op != OP_NE)
                return type_error(e, err, "ordering a string against a number");
            c = 1; /* never equal */
        } else {
            c = a.is_str ? strcmp(a.str, b.str) : (a.num > b.num) - (a.num < b.num);
        }
        int r = e->op == OP_EQ ? c == 0 : e->op == OP_NE ? c != 0 : e->op == '<' ? c < 0
              : e->op == OP_LE ? c <= 0 : e->op == '>' ? c > 0 : c >= 0;
        *v = (value){0, r, NULL};
        return 0;
    }
    if (a.is_str || b.is_str)
        return type_error(e, err, "arithmetic on a string");
    if ((e->op == '/' || e->op == '%') && b.num == 0)
        return type_error(e, err, e->op == '/' ? "division by zero" : "'%' by zero");
    double r = e->op == '+' ? a.num + b.num : e->op == '-' ? a.num - b.num
             : e->op == '*' ? a.num * b.num : e->op == '/' ? a.num / b.num
             : fmod(a.num, b.num);
    if (!isfinite(r))
        return type_error(e, err, "the arithmetic overflows");
    *v = (value){0, r, NULL};
    return 0;
}

int imc_expr_eval(const imc_expr *e, const char *const *values, int *holds, imc_err *err)
{
    value v;
    int rc = eval(e, values, &v, err);
    if (rc)
        return rc;
    if (v.is_str)
        return type_error(e, err, "the constraint is a string, not a condition");
    *holds = v.num != 0;
    return 0;
}

void imc_expr_free(imc_expr *e)
{
    if (!e)
        return;
    imc_expr_free(e->a);
    imc_expr_free(e->b);
    free(e->str);
    free(e);
}
