/* yamlout.h -- the stats YAML's scalars and key-value lines (report.c's runs, reference.c's
 * processors): strings plain when they read back as the same string, else quoted; doubles
 * that read back bit for bit. */
#ifndef IMC_YAMLOUT_H
#define IMC_YAMLOUT_H

#include <stdint.h>
#include <stdio.h>

void imc_yaml_scalar(FILE *out, const char *s); /* NULL: null */
void imc_yaml_double(FILE *out, double v);      /* .nan, .inf, -.inf when not finite */
void imc_yaml_key(FILE *out, int indent, const char *k); /* INDENT spaces, K, ':' */
void imc_yaml_kv_str(FILE *out, int indent, const char *k, const char *v);
void imc_yaml_kv_double(FILE *out, int indent, const char *k, double v);
void imc_yaml_kv_int(FILE *out, int indent, const char *k, int64_t v);
void imc_yaml_kv_uint(FILE *out, int indent, const char *k, uint64_t v);

#endif
