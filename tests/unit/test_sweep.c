/* test_sweep.c -- design-space sweeps (sim/sweep_expr, sweep_spec, sweep_run): constraint
 * expressions, every spec error's message, the expansion (grid order, linked axes, zip,
 * constraints), and whole sweeps of the tiny DeiT/FAR on reram.yaml through the built imcsim:
 * results rows, a failed point recorded, resume running only missing runs, and the Slurm
 * script. (tests/sweep/ kills a sweep mid-run and submits one to a real Slurm.) */
#define _XOPEN_SOURCE 700 /* realpath, setenv */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "sim/sweep/expr.h"
#include "sim/sweep/run.h"
#include "sim/sweep/spec.h"
#include "tests/unit/testmodels.h"

static char imcsim[4200], reram[4200];

static int suite_init(void)
{
    const char *b = getenv("IMCSIM_BUILDDIR"), *s = getenv("IMCSIM_SRCDIR");
    snprintf(imcsim, sizeof imcsim, "%s/imcsim", b ? b : ".");
    snprintf(reram, sizeof reram, "%s/arch-configs/reram.yaml", s ? s : ".");
    if (test_dir_make("sweep"))
        return -1;
    char path[4200];
    imc_err err;
    imc_err_clear(&err);
    imc_modelgen_spec deit = tiny_spec(0, 0, 0), far = tiny_spec(~0ull, 0, 0);
    test_model_path(path, sizeof path, "deit");
    if (imc_modelgen_write(&deit, path, &err))
        return -1;
    test_model_path(path, sizeof path, "far");
    return imc_modelgen_write(&far, path, &err) ? -1 : 0;
}

static int suite_cleanup(void)
{
    return test_dir_remove();
}

#define SUITE_INIT suite_init
#define SUITE_CLEANUP suite_cleanup

/* ---- expressions -------------------------------------------------------------------------- */

static const char *const expr_keys[] = {"a.bits", "b.rows", "m.model"};
static const char *const expr_vals[] = {"6", "128", "adc/flash"};

static void test_expr_values(void)
{
    static const struct { const char *text; int holds; } cases[] = {
        {"a.bits >= 6", 1},
        {"a.bits > 6", 0},
        {"a.bits * 2 + 1 == 13", 1},
        {"b.rows / a.bits < 22", 1},
        {"b.rows % 7 == 2", 1},
        {"-a.bits < 0 && !(a.bits == 7)", 1},
        {"a.bits == 7 || b.rows == 128", 1},
        {"a.bits == 7 || b.rows == 64", 0},
        {"m.model == 'adc/flash'", 1},
        {"m.model != \"adc/sar\"", 1},
        {"m.model == 6", 0},           /* a string never equals a number */
        {"(a.bits + 2) * 2 == 16", 1},
        {"1.5e1 > 15", 0},
        {"0 && m.model * 2", 0},       /* short-circuit: the type error is never evaluated */
        {"7.5 % 2 == 1.5", 1},         /* fmod */
        {"!a.bits == 0", 1},           /* ! binds tighter than == */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imc_expr *e;
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_expr_parse(&e, cases[i].text, expr_keys, 3, "s.yaml", 1, 1, &err);
        if (rc)
            print_err(&err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        int holds = -1;
        rc = imc_expr_eval(e, expr_vals, &holds, &err);
        CU_ASSERT_EQUAL(rc, 0);
        if (holds != cases[i].holds)
            fprintf(stderr, "\n  %s: %d, want %d\n", cases[i].text, holds, cases[i].holds);
        CU_ASSERT_EQUAL(holds, cases[i].holds);
        imc_expr_free(e);
    }
}

static void test_expr_errors(void)
{
    static const struct { const char *text; const char *msg; int eval; } cases[] = {
        {"a.bits >", "s.yaml:4:17: error: constraint: unexpected end", 0},
        {"a.bit >= 6", "s.yaml:4:9: error: constraint: 'a.bit' is not a swept or set key", 0},
        {"(a.bits >= 6", "s.yaml:4:21: error: constraint: expected ')'", 0},
        {"a.bits == 'x", "s.yaml:4:19: error: constraint: unterminated string", 0},
        {"a.bits 6", "s.yaml:4:16: error: constraint: unexpected text after the expression", 0},
        {"1 < a.bits < 9", "s.yaml:4:20: error: constraint: comparisons do not chain: use &&", 0},
        {"6x > 1", "s.yaml:4:9: error: constraint: malformed number", 0},
        {"0x10 > 1", "s.yaml:4:9: error: constraint: malformed number", 0},
        {"a.bits < 1e400", "s.yaml:4:18: error: constraint: number out of range (magnitude beyond "
                           "1e308 or below 1e-308)", 0},
        {"a.bits > 1e-400", "s.yaml:4:18: error: constraint: number out of range (magnitude "
                            "beyond 1e308 or below 1e-308)", 0},
        {"m.model * 2 > 1", "error: constraint at offset 9: arithmetic on a string", 1},
        {"m.model < 'b'", "", 1}, /* strings order fine */
        {"m.model < 2", "error: constraint at offset 9: ordering a string against a number", 1},
        {"m.model", "error: constraint at offset 1: the constraint is a string, not a condition", 1},
        {"a.bits % 0 == 1", "error: constraint at offset 8: '%' by zero", 1},
        {"((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))",
         "s.yaml:4:73: error: constraint: nested too deeply", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imc_expr *e = NULL;
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_expr_parse(&e, cases[i].text, expr_keys, 3, "s.yaml", 4, 9, &err);
        if (cases[i].eval) {
            CU_ASSERT_EQUAL_FATAL(rc, 0);
            int holds;
            rc = imc_expr_eval(e, expr_vals, &holds, &err);
            imc_expr_free(e);
            if (!cases[i].msg[0]) {
                CU_ASSERT_EQUAL(rc, 0);
                continue;
            }
        }
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        char line[1024];
        imc_err_format(&err, line, sizeof line);
        if (strcmp(line, cases[i].msg) != 0)
            fprintf(stderr, "\n  %s\n  got:  %s\n  want: %s\n", cases[i].text, line, cases[i].msg);
        CU_ASSERT_STRING_EQUAL(line, cases[i].msg);
    }
}

/* ---- specs -------------------------------------------------------------------------------- */

/* Write TEXT as test_dir/NAME; its path in PATH. */
static void write_file(const char *name, const char *text, char *path, size_t size)
{
    test_dir_path(path, size, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static imc_sweep_spec *load_spec(const char *text, imc_err *err)
{
    char path[4200];
    write_file("spec.yaml", text, path, sizeof path);
    imc_sweep_spec *s = NULL;
    imc_err_clear(err);
    imc_sweep_spec_load(&s, path, err);
    return s;
}

static void test_spec_errors(void)
{
    static const struct { const char *text, *msg; } cases[] = {
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nmodel: [z]\n",
         "4:1: error: unknown key 'model'; did you mean 'models'?"},
        {"models: [m.bin]\naxes: {x.y: [1]}\n", "1:1: error: missing required key 'arch'"},
        {"arch: a.yaml\naxes: {x.y: [1]}\n", "1:1: error: missing required key 'models'"},
        {"arch: a.yaml\nmodels: [m.bin]\n", "1:1: error: missing required key 'axes'"},
        {"sweep_version: 2\narch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\n",
         "1:16: error: sweep_version: 2 is not supported (this imcsim reads 1)"},
        {"arch: a.yaml\nmodels: m.bin\naxes: {x.y: [1]}\n",
         "2:9: error: models: expected a list of model files"},
        {"arch: a.yaml\nmodels: [m.bin, {file: x/m.bin}]\naxes: {x.y: [1]}\n",
         "2:17: error: models: label 'm' is used twice; give one a 'label'"},
        {"arch: a.yaml\nmodels: [{label: q}]\naxes: {x.y: [1]}\n",
         "2:10: error: models: an entry needs a 'file'"},
        {"arch: a.yaml\nmodels: [{file: m.bin, lable: q}]\naxes: {x.y: [1]}\n",
         "2:24: error: models: unknown key 'lable' (expected file, label)"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: []}\n",
         "3:13: error: axes: x.y: expected a non-empty list of values"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: [x.y]\n",
         "3:7: error: axes: expected a mapping of key paths to lists of values"},
        {"arch: a.yaml\nmodels: [m.bin]\nset: {x.y: 3}\naxes: {x.y: [1]}\n",
         "4:8: error: axes: x.y is also in 'set'"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1], z: [1, 2]}\ncombine: zip\n",
         "3:18: error: axes: z has 2 values, but x.y has 1 and they advance together (combine: zip)"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1], z: [1, 2]}\nlinked: [[x.y, z]]\n",
         "3:18: error: axes: z has 2 values, but x.y has 1 and they advance together (linked)"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1], z: [1]}\nlinked: [[x.y, w]]\n",
         "4:16: error: linked: 'w' is not an axis"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\ncombine: diagonal\n",
         "4:10: error: combine: 'diagonal' is neither grid nor zip"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nbatch: 0\n",
         "4:8: error: batch: must be at least 1"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nnumerics: {images: lots}\n",
         "4:20: error: numerics.images: 'lots' is not an integer"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nnumerics: {dataset: d, imgs: 3}\n",
         "4:24: error: numerics: unknown key 'imgs' (expected dataset, images, seed)"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nconstraints: [\"x.y >= 1 &&\"]\n",
         "4:27: error: constraint: unexpected end"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nconstraints:\n  - x.z > 1\n",
         "5:5: error: constraint: 'x.z' is not a swept or set key"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [a]}\nconstraints: [\"x.y * 2 > 1\"]\n",
         "4:1: error: constraint at offset 5: arithmetic on a string (grid point 0)"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]\n",
         "4:1: error: YAML syntax: did not find expected ',' or '}' while parsing a flow mapping"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x: [1], y: [1], z: [1]}\nlinked: [[y, x], [z, y]]\n",
         "4:22: error: linked: y is already linked"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nbatch: 4294967297\n",
         "4:8: error: batch: must be at most 100000"},
        /* every run would fail on imcsim's own bounds: a spec error instead */
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nbatch: 100001\n",
         "4:8: error: batch: must be at most 100000"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nnumerics: {images: 1000000000}\n",
         "4:20: error: numerics.images: must be at most 100000000"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nnumerics: {seed: 2147483648}\n",
         "4:18: error: numerics.seed: must be at most 2147483647"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nkernel: gem5\n",
         "4:9: error: kernel: 'gem5' is neither native nor systemc"},
        {"arch: a.yaml\nmodels: [{file: m.bin, label: .hidden}]\naxes: {x.y: [1]}\n",
         "2:10: error: models: label '.hidden' cannot name a folder (at most 100 characters, no "
         "'/', ',', '\"', line break or leading '.')"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1, 0]}\nconstraints: [\"1 / x.y > 0\"]\n",
         "4:1: error: constraint at offset 3: division by zero (grid point 1)"},
        /* a file name that is not a string: once a free() of an uninitialised pointer */
        {"arch:\nmodels: [m.bin]\naxes: {x.y: [1]}\n", "1:6: error: arch: expected a value"},
        {"arch: ~\nmodels: [m.bin]\naxes: {x.y: [1]}\n", "1:7: error: arch: expected a value"},
        {"arch: [a]\nmodels: [m.bin]\naxes: {x.y: [1]}\n", "1:7: error: arch: expected a value"},
        {"arch: {a: b}\nmodels: [m.bin]\naxes: {x.y: [1]}\n",
         "1:7: error: arch: expected a value"},
        {"arch: a.yaml\nmodels:\n  - \naxes: {x.y: [1]}\n",
         "3:4: error: models: expected a value"},
        {"arch: a.yaml\nmodels: [[m.bin]]\naxes: {x.y: [1]}\n",
         "2:10: error: models: expected a value"},
        {"arch: a.yaml\nmodels: [{file: ~}]\naxes: {x.y: [1]}\n",
         "2:17: error: models.file: expected a value"},
        {"arch: a.yaml\nmodels: [{file: {a: b}}]\naxes: {x.y: [1]}\n",
         "2:17: error: models.file: expected a value"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nnumerics: {dataset: ~}\n",
         "4:21: error: numerics.dataset: expected a value"},
        {"arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1]}\nnumerics: {dataset: [d]}\n",
         "4:21: error: numerics.dataset: expected a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imc_err err;
        imc_sweep_spec *s = load_spec(cases[i].text, &err);
        CU_ASSERT_PTR_NULL(s);
        imc_sweep_spec_free(s);
        char line[1024], want[8300];
        imc_err_format(&err, line, sizeof line);
        snprintf(want, sizeof want, "%s/spec.yaml:%s", test_dir, cases[i].msg);
        if (strcmp(line, want) != 0)
            fprintf(stderr, "\n  case %zu\n  got:  %s\n  want: %s\n", i, line, want);
        CU_ASSERT_STRING_EQUAL(line, want);
    }
}

/* Checked against imcsim's schema before anything runs: set entries and axis keys; an axis
 * value imcsim rejects is a failed point, not a spec error. */
static void test_spec_check(void)
{
    char dm[4200];
    test_model_path(dm, sizeof dm, "deit");
    const struct { const char *tail; const char *msg; } cases[] = {
        {"axes: {chip.tiles: [0, 8]}\n", ""},
        {"set: {chip.tilez: 8}\naxes: {chip.tiles: [8]}\n",
         "3:7: error: set: chip.tilez: unknown key (did you mean 'tiles'?)"},
        {"set: {chip.tiles: 0}\naxes: {mapping.input_bits: [8]}\n",
         "3:7: error: set: chip.tiles: 0 is below the minimum 1"},
        {"axes:\n  chip.tiles: [8]\n  chip.tile.pe.adc.bitz: [4, 5]\n",
         "5:3: error: axes: chip.tile.pe.adc.bitz: unknown key (did you mean 'bits'?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[16384];
        snprintf(text, sizeof text, "arch: %s\nmodels: [%s]\n%s", reram, dm, cases[i].tail);
        imc_err err;
        imc_sweep_spec *s = load_spec(text, &err);
        if (!s)
            print_err(&err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        imc_err_clear(&err);
        int rc = imc_sweep_spec_check(s, &err);
        char line[1024], want[8300] = "";
        imc_err_format(&err, line, sizeof line);
        if (cases[i].msg[0])
            snprintf(want, sizeof want, "%s/spec.yaml:%s", test_dir, cases[i].msg);
        CU_ASSERT_EQUAL(rc, cases[i].msg[0] ? IMC_EINPUT : 0);
        if (rc && strcmp(line, want) != 0)
            fprintf(stderr, "\n  case %zu\n  got:  %s\n  want: %s\n", i, line, want);
        if (rc)
            CU_ASSERT_STRING_EQUAL(line, want);
        imc_sweep_spec_free(s);
    }
    /* a model file that is not there */
    char text[16384];
    snprintf(text, sizeof text, "arch: %s\nmodels: [%s, gone.bin]\naxes: {chip.tiles: [8]}\n",
             reram, dm);
    imc_err err;
    imc_sweep_spec *s = load_spec(text, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(imc_sweep_spec_check(s, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gone.bin: No such file or directory"));
    CU_ASSERT_EQUAL(err.line, 2);
    imc_sweep_spec_free(s);
}

/* A bare arch name that is no file next to the spec is looked up as --arch looks it up
 * ($IMCSIM_DATADIR/arch-configs/), and every file name is made absolute. */
static void test_bare_arch_name(void)
{
    const char *src = getenv("IMCSIM_SRCDIR");
    char abs_src[4096], want[4200];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(src ? src : ".", abs_src));
    setenv("IMCSIM_DATADIR", abs_src, 1);
    imc_err err;
    imc_sweep_spec *s = load_spec("arch: reram.yaml\nmodels: [m.bin]\naxes: {chip.tiles: [8]}\n",
                                  &err);
    unsetenv("IMCSIM_DATADIR");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    snprintf(want, sizeof want, "%s/arch-configs/reram.yaml", abs_src);
    CU_ASSERT_STRING_EQUAL(s->arch, want);
    CU_ASSERT_EQUAL(s->models[0].file[0], '/');
    imc_sweep_spec_free(s);
}

/* The points of S as "v,v;v,v;..." */
static void points_text(const imc_sweep_spec *s, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t p = 0; p < s->n_points; p++)
        for (size_t a = 0; a < s->n_axes; a++)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", imc_sweep_value(s, p, a),
                                  a + 1 < s->n_axes ? "," : ";");
}

static void test_expand(void)
{
    static const struct { const char *axes; size_t points, skipped; const char *text; } cases[] = {
        {"axes: {a: [1, 2], b: [x, y, z]}\n", 6, 0, "1,x;1,y;1,z;2,x;2,y;2,z;"},
        {"axes: {a: [1, 2], b: [x, y]}\ncombine: zip\n", 2, 0, "1,x;2,y;"},
        {"axes: {a: [1, 2], b: [x, y], c: [5, 6]}\nlinked: [[a, c]]\n", 4, 0,
         "1,x,5;1,y,5;2,x,6;2,y,6;"},
        {"axes: {a: [1, 2, 3], b: [x, y]}\nconstraints: [\"a != 2\", \"a < 3 || b == 'y'\"]\n", 3,
         3, "1,x;1,y;3,y;"},
        {"set: {k: 4}\naxes: {a: [1, 2, 3]}\nconstraints: [\"a * k > 4\"]\n", 2, 1, "2;3;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], got[512];
        snprintf(text, sizeof text, "arch: a.yaml\nmodels: [m.bin]\n%s", cases[i].axes);
        imc_err err;
        imc_sweep_spec *s = load_spec(text, &err);
        if (!s)
            print_err(&err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(s->n_points, cases[i].points);
        CU_ASSERT_EQUAL(s->n_skipped, cases[i].skipped);
        points_text(s, got, sizeof got);
        if (strcmp(got, cases[i].text) != 0)
            fprintf(stderr, "\n  case %zu: %s, want %s\n", i, got, cases[i].text);
        CU_ASSERT_STRING_EQUAL(got, cases[i].text);
        CU_ASSERT_STRING_EQUAL(s->models[0].label, "m");
        imc_sweep_spec_free(s);
    }
}

/* ---- whole sweeps ------------------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* A 3-point sweep of the tiny DeiT and FAR: 2 tile counts that run and an ADC that cannot. */
static imc_sweep_spec *tiny_sweep(const char *extra)
{
    char text[16384], dm[4200], fm[4200];
    test_model_path(dm, sizeof dm, "deit");
    test_model_path(fm, sizeof fm, "far");
    snprintf(text, sizeof text,
             "arch: %s\nmodels: [%s, {file: %s, label: far}]\n"
             "axes:\n  chip.tiles: [8, 16, 16]\n  chip.tile.pe.adc.bits: [8, 8, 99]\n"
             "combine: zip\n%s",
             reram, dm, fm, extra);
    imc_err err;
    imc_sweep_spec *s = load_spec(text, &err);
    if (!s)
        print_err(&err);
    return s;
}

/* Prepare O's folder and run S there, as imcsim-sweep does; 0, or the error (printed). */
static int prepare_and_run(const imc_sweep_spec *s, const imc_sweep_opts *o,
                           imc_sweep_summary *sum)
{
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_sweep_prepare(s, o, &err);
    if (!rc)
        rc = imc_sweep_run(s, o, sum, &err);
    if (rc)
        print_err(&err);
    return rc;
}

static void test_run_and_resume(void)
{
    imc_sweep_spec *s = tiny_sweep("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char out[4200], path[4300];
    test_dir_path(out, sizeof out, "run");
    imc_sweep_opts o = {.outdir = out, .imcsim = imcsim, .jobs = 2, .tasks = 1};
    imc_sweep_summary sum;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.runs, 6);
    CU_ASSERT_EQUAL(sum.ran, 6);
    CU_ASSERT_EQUAL(sum.finished, 6);
    CU_ASSERT_EQUAL(sum.failed, 2); /* the 99-bit ADC, for both models */
    snprintf(path, sizeof path, "%s/results.csv", out);
    char *first = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_EQUAL(count_lines(first), 7);
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "point,chip.tiles,chip.tile.pe.adc.bits,model,status,"
                                         "latency_us,inferences_per_s,energy_uj,leakage_uj,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "\n0,8,8,deit,ok,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "\n1,16,8,far,ok,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "\n2,16,99,deit,failed,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "chip.tile.pe.adc.bits: 99 is above the maximum"));
    /* every finished run can be reproduced alone, and holds its resolved config */
    snprintf(path, sizeof path, "%s/points/0001/far/command.sh", out);
    char *cmd = slurp(path);
    CU_ASSERT_PTR_NOT_NULL(cmd && strstr(cmd, "--set chip.tiles=16 --set chip.tile.pe.adc.bits=8"));
    free(cmd);
    struct stat st;
    snprintf(path, sizeof path, "%s/points/0001/far/arch.yaml", out);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/points/0001/far/energy.csv", out);
    CU_ASSERT_EQUAL(stat(path, &st), 0);

    /* resume: nothing to do, the same results */
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.ran, 0);
    CU_ASSERT_EQUAL(sum.skipped, 6);
    /* remove one run (as if never run) and a leftover of a dead worker: only it runs again */
    snprintf(path, sizeof path, "%s/points/0001/deit", out);
    CU_ASSERT_EQUAL(test_dir_remove_tree(path), 0);
    snprintf(path, sizeof path, "%s/points/0001/.deit.tmp.nohost.1", out);
    CU_ASSERT_EQUAL(mkdir(path, 0777), 0);
    char lock[4400];
    snprintf(lock, sizeof lock, "%s/.worker.lock", path); /* nobody holds it */
    FILE *lf = fopen(lock, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lf);
    fclose(lf);
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.ran, 1);
    CU_ASSERT_EQUAL(sum.skipped, 5);
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0); /* the dead worker's folder is gone */
    snprintf(path, sizeof path, "%s/results.csv", out);
    char *second = slurp(path);
    CU_ASSERT_STRING_EQUAL(first, second);
    free(second);
    /* --retry-failed runs the two failures again (they fail again) */
    o.retry_failed = 1;
    CU_ASSERT_EQUAL_FATAL(imc_sweep_run(s, &o, &sum, &err), 0);
    CU_ASSERT_EQUAL(sum.ran, 2);
    CU_ASSERT_EQUAL(sum.failed, 2);
    /* a Slurm task runs only its share */
    o.retry_failed = 0;
    snprintf(path, sizeof path, "%s/points/0002", out);
    CU_ASSERT_EQUAL(test_dir_remove_tree(path), 0);
    o.tasks = 2;
    o.task = 1; /* runs 1, 3, 5: point 2's far run is run 5 */
    CU_ASSERT_EQUAL_FATAL(imc_sweep_run(s, &o, &sum, &err), 0);
    CU_ASSERT_EQUAL(sum.runs, 3);
    CU_ASSERT_EQUAL(sum.ran, 1);
    CU_ASSERT_EQUAL(sum.finished, 5);
    free(first);
    imc_sweep_spec_free(s);

    /* another spec in the same folder is refused */
    s = tiny_sweep("constraints: [\"chip.tiles > 8\"]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(imc_sweep_prepare(s, &o, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/manifest.txt: this folder holds a different sweep"));
    imc_sweep_spec_free(s);
}

/* With numerics: the metrics columns, from each run's numerics.csv (synthetic images have no
 * labels: no top-1). */
/* The notes a sweep gives, collected. */
static char notes[8192];

static void collect_note(void *ctx, imc_note_level level, const char *msg)
{
    (void)ctx, (void)level;
    size_t n = strlen(notes);
    snprintf(notes + n, sizeof notes - n, "%s\n", msg);
}

/* A resumed sweep whose base architecture was edited reruns every point and says why (it once
 * said "ran 0, 12 already done" and kept the old numbers); unchanged, it reruns nothing; each
 * row records the imcsim version and its inputs' digest. */
static void test_resume_after_an_edit(void)
{
    char base[4200], text[16384], dm[4200], out[4200], path[4300];
    char *reram_text = slurp(reram);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reram_text);
    write_file("base.yaml", reram_text, base, sizeof base);
    test_model_path(dm, sizeof dm, "deit");
    snprintf(text, sizeof text, "arch: base.yaml\nmodels: [%s]\naxes: {chip.tiles: [8, 16]}\n", dm);
    imc_err err;
    imc_sweep_spec *s = load_spec(text, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    test_dir_path(out, sizeof out, "edited");
    imc_notifier note = {NULL, collect_note, NULL};
    imc_sweep_opts o = {.outdir = out, .imcsim = imcsim, .jobs = 2, .tasks = 1, .notify = &note};
    imc_sweep_summary sum;
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.ran, 2);
    snprintf(path, sizeof path, "%s/results.csv", out);
    char *first = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_PTR_NOT_NULL(strstr(first, ",imcsim_version,inputs_sha256,error\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "," PACKAGE_VERSION ","));

    notes[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.ran, 0);
    CU_ASSERT_EQUAL(sum.skipped, 2);
    CU_ASSERT_PTR_NULL(strstr(notes, "inputs changed"));

    /* the digital clock of the base file, 1 GHz -> 2 GHz: every point is stale */
    char *edit = strstr(reram_text, "  digital: 1 GHz\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(edit);
    edit[11] = '2';
    write_file("base.yaml", reram_text, base, sizeof base);
    notes[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.ran, 2);
    CU_ASSERT_EQUAL(sum.skipped, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(notes, "point 0 deit: its inputs changed since it ran (arch): "
                                         "running it again\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(notes, "point 1 deit: its inputs changed since it ran (arch)"));
    char *second = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(second);
    CU_ASSERT_STRING_NOT_EQUAL(first, second); /* new digests, new numbers */
    free(first);
    free(second);
    free(reram_text);
    imc_sweep_spec_free(s);
}

static void test_numerics_columns(void)
{
    imc_sweep_spec *s = tiny_sweep("numerics: {images: 2, seed: 3}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char out[4200], path[4300];
    test_dir_path(out, sizeof out, "numerics");
    imc_sweep_opts o = {.outdir = out, .imcsim = imcsim, .jobs = 2, .tasks = 1};
    imc_sweep_summary sum;
    CU_ASSERT_EQUAL_FATAL(prepare_and_run(s, &o, &sum), 0);
    CU_ASSERT_EQUAL(sum.failed, 2);
    snprintf(path, sizeof path, "%s/results.csv", out);
    char *text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ",top1_fp32,top1_imc,agreement,cosine_mean,cosine_min,"
                                        "imcsim_version,inputs_sha256,error\n"));
    /* point 0, deit: ok, agreement and cosines filled in, no top-1 */
    char *row = strstr(text, "\n0,8,8,deit,ok,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(row);
    char *eol = strchr(row + 1, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(eol);
    *eol = 0;
    size_t commas = 0;
    for (char *p = row + 1; *p; p++)
        commas += *p == ',';
    CU_ASSERT_EQUAL(commas, 27); /* 28 columns */
    /* ...,energy_uj,leakage_uj,...,traffic_dram_bytes,top1_fp32,top1_imc,agreement,cosine_mean,
     * cosine_min,imcsim_version,inputs_sha256,error */
    char *f[28] = {0};
    size_t k = 0;
    for (char *p = row + 1; p && k < 28; k++) {
        f[k] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = 0;
    }
    CU_ASSERT_EQUAL_FATAL(k, 28);
    /* point,axes x2,model,status,latency,inferences/s: energy_uj is f[7], leakage_uj f[8], a
     * part of it */
    CU_ASSERT(strtod(f[8], NULL) > 0 && strtod(f[8], NULL) < strtod(f[7], NULL));
    CU_ASSERT_STRING_EQUAL(f[20], ""); /* no labels: no top-1 */
    CU_ASSERT_STRING_EQUAL(f[21], "");
    CU_ASSERT(strtod(f[22], NULL) >= 0 && strtod(f[22], NULL) <= 1); /* agreement */
    CU_ASSERT(strtod(f[23], NULL) > 0.9);                            /* cosine_mean */
    CU_ASSERT(strtod(f[24], NULL) > 0.9 && strtod(f[24], NULL) <= strtod(f[23], NULL));
    CU_ASSERT_STRING_EQUAL(f[25], PACKAGE_VERSION);
    CU_ASSERT_EQUAL(strlen(f[26]), 64);
    CU_ASSERT_STRING_EQUAL(f[27], "");
    snprintf(path, sizeof path, "%s/points/0000/deit/numerics.csv", out);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    free(text);
    imc_sweep_spec_free(s);
}

static void test_slurm_script(void)
{
    imc_sweep_spec *s = tiny_sweep("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char out[4200], script[4300];
    test_dir_path(out, sizeof out, "slurm");
    imc_sweep_opts o = {.outdir = out, .imcsim = imcsim, .jobs = 1, .tasks = 4};
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_sweep_prepare(s, &o, &err), 0);
    snprintf(script, sizeof script, "%s/sweep.sbatch", out);
    const char *extra[] = {"--time=00:10:00"};
    CU_ASSERT_EQUAL_FATAL(imc_sweep_write_slurm(s, &o, "/opt/bin/imcsim-sweep", script, extra, 1,
                                                &err), 0);
    char *text = slurp(script);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "#SBATCH --array=0-3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "#SBATCH --time=00:10:00\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "6 runs (3 points x 2 models) in 4 tasks"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "exec /opt/bin/imcsim-sweep "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, " --tasks 4 --task \"$SLURM_ARRAY_TASK_ID\" -j 1\n"));
    free(text);
    imc_sweep_spec_free(s);
}

/* Run tools/imcsim-sweep ARGS (NULL-terminated); its exit status, stderr in ERR. */
static int sweep_cli(char *err, size_t size, const char *const *args)
{
    char prog[4200], errpath[4300];
    const char *b = getenv("IMCSIM_BUILDDIR");
    snprintf(prog, sizeof prog, "%s/tools/imcsim-sweep", b ? b : ".");
    snprintf(errpath, sizeof errpath, "%s/cli.err", test_dir);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *e = freopen(errpath, "w", stderr);
        FILE *o = freopen("/dev/null", "w", stdout);
        (void)e;
        (void)o;
        const char *argv[16] = {prog};
        for (int i = 0; args[i] && i < 14; i++)
            argv[i + 1] = args[i];
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    char *text = slurp(errpath);
    snprintf(err, size, "%s", text ? text : "");
    free(text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_errors(void)
{
    char spec[4200], out[4200], bad[4200];
    char text[16384], dm[4200];
    test_model_path(dm, sizeof dm, "deit");
    snprintf(text, sizeof text, "arch: %s\nmodels: [%s]\naxes: {chip.tiles: [8, 16]}\n", reram, dm);
    write_file("cli.yaml", text, spec, sizeof spec);
    write_file("bad.yaml", "arch: a.yaml\nmodels: [m.bin]\naxes: {x.y: [1, 2]}\nbatch: x\n", bad,
               sizeof bad);
    test_dir_path(out, sizeof out, "cli-out");
    char msg[20000];
    static char want_bad[8300];
    snprintf(want_bad, sizeof want_bad, "imcsim-sweep: %s:4:8: error: batch: 'x' is not an integer\n",
             bad);
    const struct { const char *args[10]; const char *msg; } cases[] = {
        {{NULL}, "imcsim-sweep: error: no SPEC given (see --help)\n"},
        {{spec, NULL}, "imcsim-sweep: error: no output folder: give -o DIR\n"},
        {{spec, spec, "-o", out, NULL}, "imcsim-sweep: error: give exactly one SPEC\n"},
        {{spec, "-o", out, "-j", "0", NULL},
         "imcsim-sweep: error: -j: '0' is not an integer from 1 to 4096\n"},
        {{spec, "-o", out, "-j", "100000000", NULL},
         "imcsim-sweep: error: -j: '100000000' is not an integer from 1 to 4096\n"},
        {{spec, "-o", out, "--frobnicate", NULL},
         "imcsim-sweep: error: unknown option '--frobnicate' (see --help)\n"},
        {{spec, "-o", NULL}, "imcsim-sweep: error: -o needs a value\n"},
        {{spec, "-o", out, "--task", "2", "--tasks", "2", NULL},
         "imcsim-sweep: error: --task K needs --tasks N with K < N\n"},
        {{spec, "-o", out, "--slurm", "--task", "0", "--tasks", "2", NULL},
         "imcsim-sweep: error: --slurm writes the script; --task is what its array tasks run\n"},
        {{bad, "-o", out, NULL}, want_bad},
        {{spec, "-o", "", NULL}, "imcsim-sweep: error: no output folder: give -o DIR\n"},
        {{spec, "-o", out, "--imcsim", "./no-such-imcsim", NULL},
         "imcsim-sweep: error: cannot run './no-such-imcsim' (not an executable; give --imcsim "
         "PATH or set IMCSIM)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = sweep_cli(msg, sizeof msg, cases[i].args);
        CU_ASSERT_EQUAL(st, 2);
        if (strcmp(msg, cases[i].msg) != 0)
            fprintf(stderr, "\n  case %zu\n  got:  %s  want: %s", i, msg, cases[i].msg);
        CU_ASSERT_STRING_EQUAL(msg, cases[i].msg);
    }
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(out, &st), 0); /* nothing was written */
    const char *list[] = {spec, "--list", NULL};
    CU_ASSERT_EQUAL(sweep_cli(msg, sizeof msg, list), 0);
    CU_ASSERT_STRING_EQUAL(msg, "imcsim-sweep: 2 points x 1 models (0 points skipped by constraints)\n");
}

/* Every option of --help is in the man page. */
static void test_man_page(void)
{
    const char *s = getenv("IMCSIM_SRCDIR");
    char path[4200];
    snprintf(path, sizeof path, "%s/docs/imcsim-sweep.1", s ? s : ".");
    char *man = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    static const char *const opts[] = {"out", "jobs", "retry", "slurm", "tasks", "task", "sbatch",
                                       "imcsim", "list", "quiet", "help", "version"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "\\-\\-%s", opts[i]);
        if (!strstr(man, want))
            fprintf(stderr, "\n  imcsim-sweep.1 lacks --%s\n", opts[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(man, want));
    }
    free(man);
}

/* A small spec whose expansion would be huge is refused before anything is allocated for
 * it: 19 axes of two values and 10 of one are 524288 points of 29 axes. */
static void test_expansion_bounded(void)
{
    char text[4096] = "arch: a.yaml\nmodels: [m.bin]\naxes:\n";
    for (int a = 0; a < 29; a++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "  k%02d: [%s]\n", a,
                 a < 19 ? "1, 2" : "1");
    imc_err err;
    imc_sweep_spec *s = load_spec(text, &err);
    CU_ASSERT_PTR_NULL(s);
    imc_sweep_spec_free(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "axes: 524288 points of 29 axes are more than "
                                            "4000000 values to expand"));
    CU_ASSERT_EQUAL(err.line, 4);
    CU_ASSERT_EQUAL(err.col, 3);
}

static CU_TestInfo tests[] = {
    {"constraint expressions evaluate", test_expr_values},
    {"constraint errors say where", test_expr_errors},
    {"spec errors say where and what", test_spec_errors},
    {"grid, zip, linked axes, constraints", test_expand},
    {"a huge expansion is refused before allocation", test_expansion_bounded},
    {"specs are checked against the schema", test_spec_check},
    {"a bare arch name is looked up", test_bare_arch_name},
    {"a sweep runs, records failures, resumes", test_run_and_resume},
    {"a resumed sweep reruns points whose inputs changed", test_resume_after_an_edit},
    {"numerics columns", test_numerics_columns},
    {"the Slurm job array script", test_slurm_script},
    {"command-line errors: one line, exit 2", test_cli_errors},
    {"the man page documents every option", test_man_page},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "sweep"
#include "tests/unit/cunit_main.h"
