/* yaml2json.c -- the stats YAML as JSON, translated event by event with libyaml's parser (no
 * tree, so no size limit beyond the text's): see yaml2json.h for the mapping of scalars. */
#include "sim/report/yaml2json.h"

#include <string.h>
#include <yaml.h>

enum { MAX_DEPTH = 64 };

typedef struct level {
    int is_map;
    size_t items; /* keys and values of a mapping, items of a sequence, so far */
} level;

static void json_string(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out); /* UTF-8 passes through: JSON text is UTF-8 */
    }
    fputc('"', out);
}

/* Is S (N bytes) a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

static int is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && !memcmp(s, word, n);
}

static void json_scalar(FILE *out, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        json_string(out, s, n);
    else if (json_number(s, n) || is(s, n, "true") || is(s, n, "false") || is(s, n, "null"))
        fwrite(s, 1, n, out);
    else if (n == 0 || is(s, n, "~") || is(s, n, ".nan") || is(s, n, ".inf") ||
             is(s, n, "-.inf"))
        fputs("null", out);
    else
        json_string(out, s, n);
}

static void indent(FILE *out, int depth)
{
    fputc('\n', out);
    for (int i = 0; i < depth; i++)
        fputc(' ', out);
}

int imc_yaml_to_json(const char *text, size_t len, const char *name, FILE *out, imc_err *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    level stack[MAX_DEPTH];
    int depth = 0, rc = 0, done = 0, documents = 0;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = imc_err_set(err, IMC_EINPUT, "%s:%zu:%zu: error: %s", name,
                             parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                             parser.problem ? parser.problem : "not YAML");
            break;
        }
        int starts = ev.type == YAML_SCALAR_EVENT || ev.type == YAML_MAPPING_START_EVENT ||
                     ev.type == YAML_SEQUENCE_START_EVENT;
        if (ev.type == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
            rc = imc_err_set(err, IMC_EINPUT, "%s:%zu:%zu: error: a second document",
                             name, ev.start_mark.line + 1, ev.start_mark.column + 1);
        } else if (ev.type == YAML_ALIAS_EVENT) {
            rc = imc_err_set(err, IMC_EINPUT, "%s:%zu:%zu: error: an alias has no JSON form",
                             name, ev.start_mark.line + 1, ev.start_mark.column + 1);
        } else if (starts && depth > 0) {
            level *top = &stack[depth - 1];
            int is_key = top->is_map && top->items % 2 == 0;
            if (is_key && ev.type != YAML_SCALAR_EVENT)
                rc = imc_err_set(err, IMC_EINPUT, "%s:%zu:%zu: error: a key that is not a scalar",
                                 name, ev.start_mark.line + 1, ev.start_mark.column + 1);
            else if (!top->is_map || is_key) {
                if (top->items)
                    fputc(',', out);
                indent(out, depth);
            }
            if (is_key && !rc) {
                json_string(out, (const char *)ev.data.scalar.value, ev.data.scalar.length);
                fputs(": ", out);
                top->items++;
                yaml_event_delete(&ev);
                continue;
            }
            top->items++;
        }
        if (rc) {
            yaml_event_delete(&ev);
            break;
        }
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
            json_scalar(out, &ev);
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth == MAX_DEPTH) {
                rc = imc_err_set(err, IMC_EINPUT, "%s:%zu:%zu: error: nested deeper than %d",
                                 name, ev.start_mark.line + 1, ev.start_mark.column + 1,
                                 MAX_DEPTH);
                break;
            }
            stack[depth++] = (level){ev.type == YAML_MAPPING_START_EVENT, 0};
            fputc(ev.type == YAML_MAPPING_START_EVENT ? '{' : '[', out);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (stack[--depth].items)
                indent(out, depth);
            fputc(ev.type == YAML_MAPPING_END_EVENT ? '}' : ']', out);
            break;
        case YAML_DOCUMENT_END_EVENT:
            fputc('\n', out);
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}
