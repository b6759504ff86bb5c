/* test_config.c -- units, the YAML tree, and the architecture loader: good configs load,
 * every class of bad config fails with its exact one-line message, --set overrides follow the
 * same checks, and --dump-config output reloads to an identical architecture. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/registry.h"
#include "sim/arch/arch.h"
#include "sim/base/units.h"
#include "sim/base/ytree.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testdir.h"

/* The smallest complete architecture: every required key, nothing else. */
static const char minimal[] = "schema: 1\n"
                              "chip:\n"
                              "  tiles: 4\n"
                              "  noc: {model: noc/mesh}\n"
                              "  dram: {model: dram/simple}\n"
                              "  tile:\n"
                              "    pes: 2\n"
                              "    buffer: {model: buffer/edram}\n"
                              "    pe:\n"
                              "      xbars: 4\n"
                              "      xbar:\n"
                              "        model: xbar/reram\n"
                              "        cell: {model: cell/reram}\n"
                              "      dac: {model: dac/simple}\n"
                              "      sh: {model: sh/simple}\n"
                              "      adc: {model: adc/sar}\n"
                              "      shiftadd: {model: shiftadd/simple}\n";

/* ---- units ---------------------------------------------------------------------------- */

static void test_units_parse(void)
{
    static const struct {
        const char *text;
        imc_dim dim;
        double si;
    } good[] = {
        {"100 ns", IMC_DIM_TIME, 100e-9},     {"1.2 GHz", IMC_DIM_FREQ, 1.2e9},
        {"1.28 GS/s", IMC_DIM_FREQ, 1.28e9},  {"64 KiB", IMC_DIM_DATA, 64 * 1024 * 8.0},
        {"256 bit", IMC_DIM_DATA, 256},       {"2 mW", IMC_DIM_POWER, 2e-3},
        {"1200 um2", IMC_DIM_AREA, 1200e-12}, {"0.083 mm2", IMC_DIM_AREA, 0.083e-6},
        {"1.67 pJ", IMC_DIM_ENERGY, 1.67e-12}, {"6 kohm", IMC_DIM_RESIST, 6e3},
        {"0.5 V", IMC_DIM_VOLTAGE, 0.5},      {"25.6 GB/s", IMC_DIM_DATARATE, 25.6e9 * 8},
        {"32nm", IMC_DIM_LENGTH, 32e-9},      {"5 %", IMC_DIM_NONE, 0.05},
        {"-3", IMC_DIM_NONE, -3},             {"1e-3 s", IMC_DIM_TIME, 1e-3},
        {"1e-320 m", IMC_DIM_LENGTH, 1e-320}, /* a subnormal is a number (strtod's ERANGE) */
        {".5 V", IMC_DIM_VOLTAGE, 0.5},       {"0e-999 s", IMC_DIM_TIME, 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v = 0;
        char why[256] = "";
        CU_ASSERT_EQUAL_FATAL(imc_quantity_parse(good[i].text, good[i].dim, &v, why, sizeof why), 0);
        CU_ASSERT_DOUBLE_EQUAL(v, good[i].si, fabs(good[i].si) * 1e-12);
    }
}

static void test_units_errors(void)
{
    static const struct {
        const char *text;
        imc_dim dim;
        const char *why;
    } bad[] = {
        {"100", IMC_DIM_TIME, "'100' is missing its unit (expected a time, e.g. 100 ns)"},
        {"100 nz", IMC_DIM_TIME, "unknown unit 'nz' (expected a time, e.g. 100 ns)"},
        {"100 ns", IMC_DIM_FREQ, "'100 ns' is a time but a frequency is expected (e.g. 1.2 GHz)"},
        {"64 KB", IMC_DIM_DATA, "unit 'KB' is ambiguous: write KiB (1024 B) or kB (1000 B)"},
        {"fast", IMC_DIM_FREQ, "'fast' is not a number (expected a frequency, e.g. 1.2 GHz)"},
        {"nan GHz", IMC_DIM_FREQ, "'nan GHz' is not a number (expected a frequency, e.g. 1.2 GHz)"},
        {"4 bit", IMC_DIM_NONE, "'4 bit' has a unit but this value is a plain number"},
        /* hex, inf and out-of-range magnitudes are not quantities (0x10 was once 16 GHz) */
        {"0x10 GHz", IMC_DIM_FREQ, "'0x10 GHz' is not a number (expected a frequency, e.g. 1.2 GHz)"},
        {"0X1p3 GHz", IMC_DIM_FREQ, "'0X1p3 GHz' is not a number (expected a frequency, e.g. 1.2 GHz)"},
        {"inf GHz", IMC_DIM_FREQ, "'inf GHz' is not a number (expected a frequency, e.g. 1.2 GHz)"},
        {"-infinity", IMC_DIM_NONE, "'-infinity' is not a number (expected a plain number, e.g. 4)"},
        {"1e400 s", IMC_DIM_TIME, "'1e400 s' is out of range (a number's magnitude must be within "
                                  "1e-308 .. 1e308)"},
        {"1e-400 s", IMC_DIM_TIME, "'1e-400 s' is out of range (a number's magnitude must be "
                                   "within 1e-308 .. 1e308)"},
        {"1e GHz", IMC_DIM_FREQ, "unknown unit 'e GHz' (expected a frequency, e.g. 1.2 GHz)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        char why[256] = "";
        CU_ASSERT(imc_quantity_parse(bad[i].text, bad[i].dim, &v, why, sizeof why) < 0);
        CU_ASSERT_STRING_EQUAL(why, bad[i].why);
    }
}

static void test_units_format_round_trip(void)
{
    static const struct {
        double si;
        imc_dim dim;
        const char *text;
    } cases[] = {
        {100e-9, IMC_DIM_TIME, "100 ns"},     {1.2e9, IMC_DIM_FREQ, "1.2 GHz"},
        {524288, IMC_DIM_DATA, "64 KiB"},     {256, IMC_DIM_DATA, "32 B"},
        {12, IMC_DIM_DATA, "12 bit"},         {1.67e-12, IMC_DIM_ENERGY, "1.67 pJ"},
        {0, IMC_DIM_POWER, "0 W"},            {0.083e-6, IMC_DIM_AREA, "83000 um2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64], why[64];
        double back;
        imc_quantity_format(cases[i].si, cases[i].dim, buf, sizeof buf);
        CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
        CU_ASSERT_EQUAL(imc_quantity_parse(buf, cases[i].dim, &back, why, sizeof why), 0);
        CU_ASSERT_EQUAL(back, cases[i].si);
    }
    /* Awkward values still round-trip exactly. */
    const double awkward[] = {1.0 / 3.0, 0.1 + 0.2, 7.77e-15, 123456789.123};
    for (size_t i = 0; i < 4; i++) {
        char buf[64], why[64];
        double back;
        imc_quantity_format(awkward[i], IMC_DIM_ENERGY, buf, sizeof buf);
        CU_ASSERT_EQUAL(imc_quantity_parse(buf, IMC_DIM_ENERGY, &back, why, sizeof why), 0);
        CU_ASSERT_EQUAL(back, awkward[i]);
    }
}

/* ---- loader: good input --------------------------------------------------------------- */

static imc_arch *load_ok(const char *text, const char *const *sets, size_t n)
{
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_arch_load_string(&a, text, "t.yaml", sets, n, &err);
    if (rc)
        fprintf(stderr, "\nunexpected error: %s:%d:%d: %s\n", err.file, err.line, err.col, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return a;
}

static void test_minimal_defaults(void)
{
    imc_arch *a = load_ok(minimal, NULL, 0);
    CU_ASSERT_EQUAL(a->schema, 1);
    CU_ASSERT_EQUAL(a->chip.tiles, 4);
    CU_ASSERT_EQUAL(a->chip.tile.pes, 2);
    CU_ASSERT_EQUAL(a->chip.tile.pe.xbars, 4);
    CU_ASSERT_EQUAL(a->mapping.weight_bits, 8);
    CU_ASSERT_EQUAL(a->mapping.cell_bits, (int)imc_instance_get(a->chip.tile.pe.cell, "bits"));
    CU_ASSERT_EQUAL(a->chip.tile.pe.columns_per_adc, imc_arch_xbar_cols(a));
    CU_ASSERT_PTR_NULL(a->chip.global_buffer);
    CU_ASSERT_DOUBLE_EQUAL(a->clock_hz, 1e9, 0);
    CU_ASSERT_STRING_EQUAL(a->chip.tile.pe.adc->path, "chip.tile.pe.adc");
    imc_arch_free(a);
}

static void test_set_overrides(void)
{
    const char *sets[] = {"chip.tiles=64", "chip.tile.pe.adc.bits=6", "clock.digital=2 GHz",
                          "chip.tile.pe.adc.model=adc/flash", "mapping.signed=offset"};
    imc_arch *a = load_ok(minimal, sets, 5);
    CU_ASSERT_EQUAL(a->chip.tiles, 64);
    CU_ASSERT_STRING_EQUAL(a->chip.tile.pe.adc->type->name, "adc/flash");
    CU_ASSERT_EQUAL((int)imc_instance_get(a->chip.tile.pe.adc, "bits"), 6);
    CU_ASSERT_DOUBLE_EQUAL(a->clock_hz, 2e9, 0);
    CU_ASSERT_EQUAL(a->mapping.signed_scheme, IMC_SIGNED_OFFSET);
    imc_arch_free(a);
}

static char *dump_to_string(const imc_arch *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    imc_arch_dump(a, f);
    fclose(f);
    return buf;
}

static void test_dump_reloads_identically(void)
{
    const char *sets[] = {"chip.tile.pe.adc.energy=1.5625 pJ", "chip.tile.pe.xbar.read_latency=37 ns"};
    imc_arch *a = load_ok(minimal, sets, 2);
    char *first = dump_to_string(a);
    imc_arch *b = load_ok(first, NULL, 0);
    char *second = dump_to_string(b);
    /* Identical apart from the header line naming the source file. */
    CU_ASSERT_STRING_EQUAL(strchr(first, '\n'), strchr(second, '\n'));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "energy: 1.5625 pJ"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "weight_bits: 8"));
    CU_ASSERT_EQUAL(imc_arch_slice_ps(a), imc_arch_slice_ps(b));
    free(first);
    free(second);
    imc_arch_free(a);
    imc_arch_free(b);
}

/* A text value holding quotes, backslashes and control characters dumps escaped and reloads
 * to the same dump (it was once written raw in single quotes, which does not reload). */
static void test_dump_escapes_text(void)
{
    const char *sets[] = {"mapping.duplicate=a\"b\\c'd\x01" "e\tf*=2"};
    imc_arch *a = load_ok(minimal, sets, 1);
    char *first = dump_to_string(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "duplicate: \"a\\\"b\\\\c'd\\x01e\\x09f*=2\"\n"));
    imc_arch *b = load_ok(first, NULL, 0);
    char *second = dump_to_string(b);
    CU_ASSERT_STRING_EQUAL(strchr(first, '\n'), strchr(second, '\n'));
    CU_ASSERT_STRING_EQUAL(b->mapping.duplicate, a->mapping.duplicate);
    free(first);
    free(second);
    imc_arch_free(a);
    imc_arch_free(b);
}

/* ---- the YAML reader's limits: each enforced as the events arrive ---------------------- */

/* Load TEXT and return the formatted error ("" when it loads). */
static const char *yaml_error(const char *text)
{
    static char line[1024];
    imc_ytree *t = NULL;
    imc_err err;
    imc_err_clear(&err);
    line[0] = '\0';
    if (imc_ytree_load_string(&t, text, "y.yaml", &err))
        imc_err_format(&err, line, sizeof line);
    imc_ytree_free(t);
    return line;
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static void test_yaml_limits(void)
{
    /* 80 KB of nested flow sequences: libyaml's document loader once took seconds on it
     * before the depth was checked; now the 64th level stops the read */
    char *deep = repeat("a: ", "[", 40000, "");
    CU_ASSERT_STRING_EQUAL(yaml_error(deep),
                           "y.yaml:1:67: error: document too deeply nested (more than 64 levels)");
    free(deep);
    char *open_ = repeat("a: ", "[", 63, ""), *ok_deep = repeat(open_, "]", 63, "\n");
    CU_ASSERT_STRING_EQUAL(yaml_error(ok_deep), "");
    free(open_);
    free(ok_deep);

    /* 50,000 keys and a duplicate at the end: found in linear time (once quadratic) */
    size_t n = 50000;
    char *keys = malloc(n * 16 + 16), *p = keys;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "k%zu: %zu\n", i, i);
    CU_ASSERT_STRING_EQUAL(yaml_error(keys), "");
    strcpy(p, "k0: again\n");
    CU_ASSERT_STRING_EQUAL(yaml_error(keys), "y.yaml:50001:1: error: duplicate key 'k0'");
    free(keys);

    /* aliases: copies count against the node limit; an unknown one is named */
    CU_ASSERT_STRING_EQUAL(
        yaml_error("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"),
        "y.yaml:5:36: error: document too large (more than 100000 nodes; aliases?)");
    CU_ASSERT_STRING_EQUAL(yaml_error("a: &x {k: 1}\nb: *x\nc: *y\n"),
                           "y.yaml:3:4: error: alias '*y' names no anchor before it");
    CU_ASSERT_STRING_EQUAL(yaml_error("a: &x [1, *x]\n"),
                           "y.yaml:1:11: error: alias '*x' names no anchor before it");
    imc_ytree *t = NULL;
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_ytree_load_string(&t, "a: &x {k: [1, '2']}\nb: *x\n", "y.yaml", &err), 0);
    imc_ynode *b = imc_ynode_find(imc_ytree_root(t), "b")->val;
    CU_ASSERT_EQUAL(b->kind, IMC_Y_MAP);
    CU_ASSERT_STRING_EQUAL(imc_ynode_find(b, "k")->val->items[1]->scalar, "2");
    CU_ASSERT_EQUAL(imc_ynode_find(b, "k")->val->items[1]->quoted, 1);
    imc_ytree_free(t);

    /* an anchored key, then an alias to it (found by fuzzing: once a use after free) */
    CU_ASSERT_STRING_EQUAL(yaml_error("&k a: 1\nb: *k\n"),
                           "y.yaml:1:1: error: an anchor on a mapping key (&k) is not supported");
    CU_ASSERT_STRING_EQUAL(yaml_error("? [a]\n: 1\n"),
                           "y.yaml:1:3: error: mapping keys must be plain names");
    CU_ASSERT_STRING_EQUAL(yaml_error("a: 1\n---\nb: 2\n"),
                           "y.yaml:2:1: error: only one YAML document is allowed per file");
    CU_ASSERT_STRING_EQUAL(yaml_error("- a\n"),
                           "y.yaml:1:1: error: the top level must be a mapping of keys (schema:, "
                           "chip:, ...)");
    CU_ASSERT_STRING_EQUAL(yaml_error("# nothing\n"), "y.yaml:1:1: error: the file is empty");

    /* an argument is not checked by libyaml: --set must be UTF-8 itself */
    CU_ASSERT_EQUAL_FATAL(imc_ytree_load_string(&t, "a: 1\n", "y.yaml", &err), 0);
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_ytree_set(t, "mapping.duplicate=x\xff", 1, &err), IMC_EINPUT);
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "--set:1:20: error: byte 0xFF is not UTF-8 text");
    imc_ytree_free(t);
}

/* An input that is a FIFO is refused at once, never waited on. */
static void test_fifo_input_refused(void)
{
    char dir[] = "/tmp/imcsim-fifo-XXXXXX", path[64], want[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/arch.yaml", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_arch_load(&a, path, NULL, 0, &err), IMC_EINPUT);
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s: error: cannot open: not a regular file (a FIFO or a device "
             "cannot be an input)", path);
    CU_ASSERT_STRING_EQUAL(line, want);
    unlink(path);
    rmdir(dir);
}

/* ---- loader: every class of bad input, with its exact message -------------------------- */

typedef struct bad_case {
    const char *what;
    const char *find, *replace; /* edit of `minimal` (NULL: use `text`) */
    const char *text;
    const char *set;            /* one --set, or NULL */
    const char *message;        /* FILE:LINE:COL: error: ... as imcsim prints it; {adc} or
                                   {dac} stands for the registry's models of that kind, so
                                   adding a model changes no test */
} bad_case;

static const bad_case bad_cases[] = {
    {"YAML syntax", "  tiles: 4\n", "  tiles: [4\n", NULL, NULL,
     "t.yaml:4:6: error: YAML syntax: did not find expected ',' or ']' while parsing a flow "
     "sequence"},
    {"unknown key, suggested", "  tiles: 4\n", "  tiles: 4\n  tilez: 3\n", NULL, NULL,
     "t.yaml:4:3: error: chip.tilez: unknown key (did you mean 'tiles'?)"},
    {"unknown key in a model", "{model: adc/sar}", "{model: adc/sar, bitz: 3}", NULL, NULL,
     "t.yaml:16:29: error: chip.tile.pe.adc.bitz: unknown key (did you mean 'bits'?)"},
    {"wrong type: text for an integer", "  tiles: 4\n", "  tiles: four\n", NULL, NULL,
     "t.yaml:3:10: error: chip.tiles: 'four' is not an integer"},
    {"wrong type: mapping for a value", "  tiles: 4\n", "  tiles: {n: 4}\n", NULL, NULL,
     "t.yaml:3:10: error: chip.tiles: expected a single value, found a mapping"},
    {"wrong type: value for a component", "      dac: {model: dac/simple}\n", "      dac: 1\n",
     NULL, NULL,
     "t.yaml:14:12: error: chip.tile.pe.dac: expected a component (a mapping with 'model:'), "
     "found a value"},
    {"missing unit", "{model: adc/sar}", "{model: adc/sar, rate: 1.28}", NULL, NULL,
     "t.yaml:16:35: error: chip.tile.pe.adc.rate: '1.28' is missing its unit (expected a "
     "frequency, e.g. 1.2 GHz)"},
    {"unknown unit", "{model: adc/sar}", "{model: adc/sar, rate: 1.28 GHZ}", NULL, NULL,
     "t.yaml:16:35: error: chip.tile.pe.adc.rate: unknown unit 'GHZ' (expected a frequency, "
     "e.g. 1.2 GHz)"},
    {"wrong unit", "{model: adc/sar}", "{model: adc/sar, rate: 5 ns}", NULL, NULL,
     "t.yaml:16:35: error: chip.tile.pe.adc.rate: '5 ns' is a time but a frequency is "
     "expected (e.g. 1.2 GHz)"},
    {"out of range", "{model: adc/sar}", "{model: adc/sar, bits: 0}", NULL, NULL,
     "t.yaml:16:35: error: chip.tile.pe.adc.bits: 0 is below the minimum 1"},
    {"missing required key", "  tiles: 4\n", "", NULL, NULL,
     "t.yaml:3:3: error: chip: missing required key 'tiles'"},
    {"missing model", "{model: dac/simple}", "{bits: 1}", NULL, NULL,
     "t.yaml:14:12: error: chip.tile.pe.dac: missing required key 'model' (one of: {dac})"},
    {"unknown model, suggested", "{model: adc/sar}", "{model: adc/sra}", NULL, NULL,
     "t.yaml:16:20: error: chip.tile.pe.adc.model: unknown model 'adc/sra' (did you mean "
     "'adc/sar'?)"},
    {"model of the wrong kind", "{model: adc/sar}", "{model: dac/simple}", NULL, NULL,
     "t.yaml:16:20: error: chip.tile.pe.adc.model: 'dac/simple' is a dac model, but "
     "chip.tile.pe.adc needs an adc model ({adc})"},
    {"duplicate key", "  tiles: 4\n", "  tiles: 4\n  tiles: 5\n", NULL, NULL,
     "t.yaml:4:3: error: duplicate key 'tiles'"},
    {"wrong schema version", "schema: 1\n", "schema: 2\n", NULL, NULL,
     "t.yaml:1:9: error: schema: 2 is above the maximum 1"},
    {"not a mapping", NULL, NULL, "- 1\n- 2\n", NULL,
     "t.yaml:1:1: error: the top level must be a mapping of keys (schema:, chip:, ...)"},
    {"empty file", NULL, NULL, "", NULL, "t.yaml:1:1: error: the file is empty"},
    {"bad enum, suggested", "schema: 1\n", "schema: 1\nmapping: {signed: diferential}\n", NULL,
     NULL,
     "t.yaml:2:19: error: mapping.signed: 'diferential' is not one of differential, offset "
     "(did you mean 'differential'?)"},
    {"cross-check: cell bits", "schema: 1\n", "schema: 1\nmapping: {cell_bits: 9}\n", NULL,
     NULL,
     "t.yaml:2:22: error: mapping.cell_bits: 9 exceeds the 2 bits per cell of "
     "chip.tile.pe.xbar.cell"},
    {"a model refuses its configuration", "{model: noc/mesh}",
     "{model: noc/mesh, ports: 12}", NULL, NULL,
     "t.yaml:4:3: error: chip.noc.ports: 12 is outside the DSENT runs the default router "
     "costs are fitted to (3-8 ports); give router_energy, leakage and area"},
    {"--set: unknown key", NULL, NULL, NULL, "chip.tilez=3",
     "--set:1:6: error: chip.tilez: unknown key (did you mean 'tiles'?)"},
    {"--set: bad value", NULL, NULL, NULL, "chip.tiles=many",
     "--set:1:12: error: chip.tiles: 'many' is not an integer"},
    {"--set: no '='", NULL, NULL, NULL, "chip.tiles",
     "--set:1:1: error: chip.tiles: expected PATH=VALUE, e.g. chip.tiles=64"},
    {"--set: empty path segment", NULL, NULL, NULL, "chip..tiles=3",
     "--set:1:1: error: chip..tiles: empty key in the path"},
    {"--set: through a value", NULL, NULL, NULL, "chip.tiles.x=3",
     "--set:1:12: error: chip.tiles: is a single value, not a section"},
    {"--set: unknown model", NULL, NULL, NULL, "chip.tile.pe.adc.model=adc/foo",
     "--set:1:24: error: chip.tile.pe.adc.model: unknown model 'adc/foo' (one of: {adc})"},
};

static char *edit(const char *text, const char *find, const char *replace)
{
    const char *at = strstr(text, find);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    size_t n = strlen(text) - strlen(find) + strlen(replace) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, replace, at + strlen(find));
    return out;
}

/* MESSAGE with {adc} / {dac} replaced by the registered models of that kind, as the loader
 * lists them ("adc/sar, adc/flash"). */
static void expand(const char *message, char *out, size_t size)
{
    out[0] = '\0';
    for (const char *p = message; *p;) {
        const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
        if (!close) {
            snprintf(out + strlen(out), size - strlen(out), "%s", p);
            break;
        }
        snprintf(out + strlen(out), size - strlen(out), "%.*s", (int)(open - p), p);
        int first = 1;
        for (size_t i = 0; i < imc_registry_count(); i++) {
            const imc_model *m = imc_registry_at(i);
            const char *kind = imc_kind_name(m->kind);
            if (strlen(kind) == (size_t)(close - open - 1) && !strncmp(kind, open + 1, strlen(kind))) {
                snprintf(out + strlen(out), size - strlen(out), "%s%s", first ? "" : ", ", m->name);
                first = 0;
            }
        }
        p = close + 1;
    }
}

static void test_bad_input_messages(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        char *text = bc->find ? edit(minimal, bc->find, bc->replace) : NULL;
        const char *src = text ? text : bc->text ? bc->text : minimal;
        imc_arch *a = NULL;
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_arch_load_string(&a, src, "t.yaml", &bc->set, bc->set ? 1 : 0, &err);
        char line[1024], want[1024];
        imc_err_format(&err, line, sizeof line);
        expand(bc->message, want, sizeof want);
        if (rc != IMC_EINPUT || strcmp(line, want) != 0)
            fprintf(stderr, "\ncase '%s':\n  got:  %s\n  want: %s\n", bc->what, line, want);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_PTR_NULL(a);
        CU_ASSERT_STRING_EQUAL(line, want);
        free(text);
    }
}

/* ---- configurations that compose ----------------------------------------------------------- */

/* Write TEXT to NAME in the scratch folder; its path in BUF. */
static const char *scratch(char *buf, size_t size, const char *name, const char *text)
{
    test_dir_path(buf, size, name);
    FILE *f = fopen(buf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return buf;
}

static imc_arch *load_or_say(const char *path, const char *const *sets, size_t n, imc_err *err)
{
    imc_arch *a = NULL;
    imc_err_clear(err);
    if (imc_arch_load(&a, path, sets, n, err)) {
        char line[1024];
        imc_err_format(err, line, sizeof line);
        fprintf(stderr, "\n%s\n", line);
    }
    return a;
}

/* A file that starts from another and states only what differs is the other file with those
 * keys set: the same resolved configuration. */
static void test_base_file(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("config"), 0);
    char base[4200], small[4200], deeper[4200];
    scratch(base, sizeof base, "base.yaml", minimal);
    scratch(small, sizeof small, "small.yaml",
            "base: base.yaml\nchip:\n  tiles: 16\n  tile:\n    pe:\n      adc: {bits: 6}\n");
    scratch(deeper, sizeof deeper, "deeper.yaml", "base: small.yaml\nmapping: {weight_bits: 4}\n");
    imc_err err;
    const char *sets[] = {"chip.tiles=16", "chip.tile.pe.adc.bits=6", "mapping.weight_bits=4"};
    imc_arch *a = load_or_say(deeper, NULL, 0, &err), *b = load_or_say(base, sets, 3, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->chip.tiles, 16);
    CU_ASSERT_STRING_EQUAL(a->file, deeper);
    char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    FILE *fa = open_memstream(&da, &la), *fb = open_memstream(&db, &lb);
    imc_arch_dump(a, fa);
    imc_arch_dump(b, fb);
    fclose(fa);
    fclose(fb); /* the same past the first line, which names the file */
    CU_ASSERT_STRING_EQUAL(strchr(da, '\n'), strchr(db, '\n'));
    free(da), free(db);
    imc_arch_free(a);
    imc_arch_free(b);
    test_dir_remove();
}

/* Mistakes point at the file, line and column they are in, base or not. */
static void test_base_errors(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("config"), 0);
    char base[4200], top[4200], loop[4200], want[8500], line[1024];
    imc_err err;
    scratch(base, sizeof base, "base.yaml", "schema: 1\nchip:\n  tilez: 3\n");
    scratch(top, sizeof top, "top.yaml", "base: base.yaml\n");
    CU_ASSERT_PTR_NULL(load_or_say(top, NULL, 0, &err));
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s:3:3: error: chip.tilez: unknown key (did you mean 'tiles'?)", base);
    CU_ASSERT_STRING_EQUAL(line, want);

    scratch(base, sizeof base, "base.yaml", minimal);
    scratch(top, sizeof top, "top.yaml", "base: base.yaml\nchip: {tiles: many}\n");
    CU_ASSERT_PTR_NULL(load_or_say(top, NULL, 0, &err));
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s:2:15: error: chip.tiles: 'many' is not an integer", top);
    CU_ASSERT_STRING_EQUAL(line, want);

    scratch(top, sizeof top, "top.yaml", "base: loop.yaml\n");
    scratch(loop, sizeof loop, "loop.yaml", "base: top.yaml\n");
    CU_ASSERT_PTR_NULL(load_or_say(top, NULL, 0, &err));
    imc_err_format(&err, line, sizeof line);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "base: more than 8 files deep (do two files name each other?)"));

    scratch(top, sizeof top, "top.yaml", "base: nowhere.yaml\n");
    CU_ASSERT_PTR_NULL(load_or_say(top, NULL, 0, &err));
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s:1:7: error: base: no architecture file 'nowhere.yaml' (looked in %s/nowhere.yaml,", top, test_dir);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, want));

    scratch(top, sizeof top, "top.yaml", "base: [a, b]\n");
    CU_ASSERT_PTR_NULL(load_or_say(top, NULL, 0, &err));
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s:1:7: error: base: expected the name of an architecture file", top);
    CU_ASSERT_STRING_EQUAL(line, want);
    test_dir_remove();
}

/* --set X.model=NAME switches the model: the keys the new one lacks are dropped with a note
 * (also in the dump), the ones it shares are kept; a key the user gives with the switch is
 * still checked. A file over its base switching a model does the same. */
static void test_model_switch(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("config"), 0);
    char base[4200], top[4200];
    scratch(base, sizeof base, "base.yaml",
            "schema: 1\nchip:\n  tiles: 4\n  noc: {model: noc/mesh}\n  dram: {model: dram/simple}\n"
            "  tile:\n    pes: 2\n    buffer: {model: buffer/edram}\n    pe:\n      xbars: 4\n"
            "      xbar:\n        model: xbar/reram\n        cell: {model: cell/reram}\n"
            "      dac: {model: dac/simple}\n      sh: {model: sh/simple}\n"
            "      adc: {model: adc/sar, bits: 6, inl: 1.5}\n      shiftadd: {model: shiftadd/simple}\n");
    imc_err err;
    const char *sets[] = {"chip.tile.pe.adc.model=adc/flash"};
    imc_arch *a = load_or_say(base, sets, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(a->chip.tile.pe.adc->type->name, "adc/flash");
    CU_ASSERT_EQUAL(imc_model_bits(a->chip.tile.pe.adc), 6); /* shared key kept */
    CU_ASSERT_EQUAL_FATAL(a->n_notes, 1);
    char want[8500];
    snprintf(want, sizeof want,
             "chip.tile.pe.adc.inl (%s:16:38) dropped: adc/flash, chosen at --set:1:24, has no "
             "such key",
             base);
    CU_ASSERT_STRING_EQUAL(a->notes[0], want);
    char *d = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&d, &len);
    imc_arch_dump(a, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "# note: chip.tile.pe.adc.inl ("));
    free(d);
    imc_arch_free(a);

    /* a key given with the switch, unknown to the new model, is an error */
    const char *bad[] = {"chip.tile.pe.adc.model=adc/flash", "chip.tile.pe.adc.offset=1"};
    CU_ASSERT_PTR_NULL(load_or_say(base, bad, 2, &err));
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "--set:2:18: error: chip.tile.pe.adc.offset: unknown key");

    /* the same switch from a file over the base */
    scratch(top, sizeof top, "top.yaml", "base: base.yaml\nchip: {tile: {pe: {adc: {model: adc/flash}}}}\n");
    a = load_or_say(top, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->n_notes, 1);
    CU_ASSERT_STRING_EQUAL(a->chip.tile.pe.adc->type->name, "adc/flash");
    imc_arch_free(a);
    test_dir_remove();
}

/* --unset removes a key, so its default applies; a key that is not there is an error. */
static void test_unset(void)
{
    const char *sets[] = {"chip.tile.pe.adc.bits=5", "!chip.tile.pe.adc.bits"};
    imc_arch *a = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_arch_load_string(&a, minimal, "t.yaml", sets, 2, &err), 0);
    CU_ASSERT_EQUAL(imc_model_bits(a->chip.tile.pe.adc), 8); /* adc/sar's default */
    imc_arch_free(a);
    const char *bad[] = {"!chip.tile.pe.adc.bits"};
    CU_ASSERT_EQUAL(imc_arch_load_string(&a, minimal, "t.yaml", bad, 1, &err), IMC_EINPUT);
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "--unset:1:18: error: chip.tile.pe.adc.bits: not in the "
                                 "configuration, nothing to unset");
    const char *through[] = {"!chip.tiles.x"};
    CU_ASSERT_EQUAL(imc_arch_load_string(&a, minimal, "t.yaml", through, 1, &err), IMC_EINPUT);
    imc_err_format(&err, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "--unset:1:12: error: chip.tiles: is a single value, not a section");
}

static CU_TestInfo tests[] = {
    {"units parse", test_units_parse},
    {"units errors", test_units_errors},
    {"units format round trip", test_units_format_round_trip},
    {"minimal config and defaults", test_minimal_defaults},
    {"--set overrides", test_set_overrides},
    {"--dump-config reloads identically", test_dump_reloads_identically},
    {"--dump-config escapes text values", test_dump_escapes_text},
    {"YAML limits: depth, keys, aliases, documents", test_yaml_limits},
    {"a FIFO input is refused", test_fifo_input_refused},
    {"bad input messages", test_bad_input_messages},
    {"base: a file over another is the other plus its keys", test_base_file},
    {"base: errors name the right file, line and column", test_base_errors},
    {"--set X.model switches models, dropping what the new lacks", test_model_switch},
    {"--unset removes a key", test_unset},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "config"
#include "tests/unit/cunit_main.h"
