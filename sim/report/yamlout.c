/* yamlout.c -- the stats YAML's scalars and key-value lines (see yamlout.h). */
#include "sim/report/yamlout.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* Whether S can be written as a plain scalar in block and flow context alike and reads back
 * as the same string (not a number, boolean or null in YAML 1.1 or 1.2). */
static int plain_ok(const char *s)
{
    static const char *const reserved[] = {"y", "n", "yes", "no", "true", "false",
                                           "on", "off", "null"};
    size_t len = strlen(s);
    if (len == 0 || s[len - 1] == ' ')
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' ||
          s[0] == '/'))
        return 0;
    for (const char *c = s; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+() ",
                    *c))
            return 0;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(s, reserved[i]) == 0)
            return 0;
    return 1;
}

/* Write S as a YAML scalar: plain when that is safe, else single-quoted, else (control
 * characters, which single quotes cannot carry) double-quoted with escapes. */
void imc_yaml_scalar(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    if (plain_ok(s)) {
        fputs(s, out);
        return;
    }
    int control = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        control |= *c < 0x20 || *c == 0x7f;
    if (!control) {
        fputc('\'', out);
        for (const char *c = s; *c; c++) {
            if (*c == '\'')
                fputc('\'', out);
            fputc(*c, out);
        }
        fputc('\'', out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c == '\t')
            fputs("\\t", out);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(out, "\\x%02x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

/* A double that reads back bit for bit; YAML's spellings for the non-finite ones. */
void imc_yaml_double(FILE *out, double v)
{
    if (isnan(v))
        fputs(".nan", out);
    else if (isinf(v))
        fputs(v > 0 ? ".inf" : "-.inf", out);
    else
        fprintf(out, "%.17g", v);
}

void imc_yaml_key(FILE *out, int indent, const char *k)
{
    fprintf(out, "%*s", indent, "");
    imc_yaml_scalar(out, k);
    fputs(":", out);
}

void imc_yaml_kv_str(FILE *out, int indent, const char *k, const char *v)
{
    imc_yaml_key(out, indent, k);
    fputc(' ', out);
    imc_yaml_scalar(out, v);
    fputc('\n', out);
}

void imc_yaml_kv_double(FILE *out, int indent, const char *k, double v)
{
    imc_yaml_key(out, indent, k);
    fputc(' ', out);
    imc_yaml_double(out, v);
    fputc('\n', out);
}

void imc_yaml_kv_int(FILE *out, int indent, const char *k, int64_t v)
{
    imc_yaml_key(out, indent, k);
    fprintf(out, " %" PRId64 "\n", v);
}

void imc_yaml_kv_uint(FILE *out, int indent, const char *k, uint64_t v)
{
    imc_yaml_key(out, indent, k);
    fprintf(out, " %" PRIu64 "\n", v);
}
