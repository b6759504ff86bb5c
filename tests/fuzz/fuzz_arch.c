/* fuzz_arch.c -- libFuzzer target for the architecture loader (sim/base/ytree.c, sim/arch/arch.c)
 * with --set overrides.
 *
 * An input is the YAML text, optionally followed by a line "--set" and then one override
 * PATH=VALUE per line (at most 8). Whatever the bytes, the load either succeeds or fails
 * cleanly (imc_fuzz_check_refusal). When it succeeds, the dump must reload (without the
 * overrides: they are in it) to the very same dump, comments aside, as --dump-config
 * promises. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/arch/arch.h"

#define MAX_SETS 8

static char *dump(const imc_arch *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    imc_arch_dump(a, f);
    if (fclose(f) != 0)
        abort();
    return buf;
}

/* Remove the lines of TEXT that start with '#', in place. */
static void strip_comments(char *text)
{
    char *out = text;
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        n += line[n] == '\n';
        if (line[0] != '#') {
            memmove(out, line, n);
            out += n;
        }
        line += n;
    }
    *out = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = imc_fuzz_cstring(data, size);
    if (!text)
        return 0;
    const char *sets[MAX_SETS];
    size_t n_sets = 0;
    char *marker = strstr(text, "\n--set\n");
    if (marker) {
        *marker = '\0';
        for (char *line = marker + 7; *line && n_sets < MAX_SETS;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            sets[n_sets++] = line;
            line = nl ? nl + 1 : line + strlen(line);
        }
    }
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_arch_load_string(&a, text, "fuzz.yaml", sets, n_sets, &err);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (a)
            abort();
        free(text);
        return 0;
    }
    char *first = dump(a);
    imc_arch *b = NULL;
    imc_err_clear(&err);
    if (imc_arch_load_string(&b, first, "dump.yaml", NULL, 0, &err) != 0)
        abort(); /* a dump that does not reload */
    char *second = dump(b);
    /* the same configuration: identical but for the comments (the header names the source;
     * notes say what the first load dropped, which the dump no longer holds) */
    strip_comments(first);
    strip_comments(second);
    if (strcmp(first, second) != 0)
        abort();
    free(first);
    free(second);
    imc_arch_free(a);
    imc_arch_free(b);
    free(text);
    return 0;
}
