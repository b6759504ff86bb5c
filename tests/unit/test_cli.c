/* test_cli.c -- the imcsim command as a user runs it: exit statuses, one-line errors on
 * stderr, no partial output files, arch lookup by bare name, --help vs the man page, and
 * --dump-config reproducing the same report. Runs the built ./imcsim in a child process. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "tests/unit/require.h"
#include <cjson/cJSON.h>

#include "sim/arch/arch.h"
#include "sim/cmd/simulate.h"

static char imcsim[4096], srcdir[4096], workdir[4096];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* Run PROG with ARGS (NULL-terminated) in directory CWD, without the environment variable
 * UNSET (NULL: none); capture stdout and stderr. */
static int run_prog(const char *prog, const char *cwd, const char *datadir, const char *unset,
                    char **out, char **err, const char *const *args)
{
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/cli.out", workdir);
    snprintf(err_path, sizeof err_path, "%s/cli.err", workdir);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        if (cwd && chdir(cwd) != 0)
            _exit(127);
        if (datadir)
            setenv("IMCSIM_DATADIR", datadir, 1);
        else
            unsetenv("IMCSIM_DATADIR");
        if (unset)
            unsetenv(unset);
        const char *argv[32] = {prog};
        for (int i = 0; args[i] && i < 30; i++)
            argv[i + 1] = args[i];
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    *out = slurp(out_path);
    *err = slurp(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run imcsim with ARGS (NULL-terminated) in directory CWD; capture stdout and stderr. */
static int run(const char *cwd, const char *datadir, char **out, char **err,
               const char *const *args)
{
    return run_prog(imcsim, cwd, datadir, NULL, out, err, args);
}

static void config_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/arch-configs/%s", srcdir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_bad_config_exit_2_one_line_no_output(void)
{
    char bad[4200], csv[4200];
    snprintf(bad, sizeof bad, "%s/bad.yaml", workdir);
    snprintf(csv, sizeof csv, "%s/never.csv", workdir);
    write_file(bad, "schema: 1\nchip:\n  tiles: 0\n");
    char *out, *err;
    const char *args[] = {"--arch", bad, "--hw-report", "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 2);
    char want[4400];
    snprintf(want, sizeof want, "imcsim: %s:3:10: error: chip.tiles: 0 is below the minimum 1\n", bad);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(access(csv, F_OK), -1); /* no partial output */
    free(out);
    free(err);
}

static void test_missing_file_and_usage_errors(void)
{
    char *out, *err;
    const char *missing[] = {"--arch", "/nonexistent/x.yaml", "--hw-report", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, missing), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: /nonexistent/x.yaml: error: cannot open: No such file or directory\n");
    free(out), free(err);

    const char *unknown[] = {"--frobnicate", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, unknown), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: unknown option '--frobnicate' (see imcsim --help)\n");
    free(out), free(err);

    const char *novalue[] = {"--arch", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, novalue), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: option --arch needs a value (see imcsim --help)\n");
    free(out), free(err);

    const char *describe[] = {"--describe", "adc/sr", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, describe), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: --describe: unknown model 'adc/sr' (did you mean 'adc/sar'?)\n");
    free(out), free(err);

    char isaac[4200];
    config_path(isaac, sizeof isaac, "isaac.yaml");
    const char *badset[] = {"--arch", isaac, "--set", "chip.tile.pe.adc.rate=fast", "--hw-report", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, badset), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: --set:1:23: error: chip.tile.pe.adc.rate: 'fast' is not a number "
                                "(expected a frequency, e.g. 1.2 GHz)\n");
    free(out), free(err);
}

/* --native removes a DeiT or FAR network's token mixers; an imported graph (here the VGG-8
 * reference of tests/data) has none imcsim knows, so it is refused rather than reported as its
 * own bound, with no output written. */
static void test_native_needs_deit_or_far(void)
{
    char reram[4200], model[4200], csv[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_vgg8.model.safetensors", srcdir);
    snprintf(csv, sizeof csv, "%s/native.csv", workdir);
    char *out, *err;
    const char *args[] = {"--arch", reram, "--model", model, "--native", "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ": the native bound (--native) removes a DeiT or FAR "
                                       "network's token mixers; an imported graph has none it knows\n"));
    CU_ASSERT_EQUAL(count_lines(err), 1);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(access(csv, F_OK), -1);
    free(out), free(err);
}

static void test_arch_found_by_bare_name(void)
{
    char *out, *err;
    const char *args[] = {"--arch", "isaac.yaml", "--hw-report", NULL};
    /* From an unrelated directory, found through IMCSIM_DATADIR. */
    CU_ASSERT_EQUAL(run(workdir, srcdir, &out, &err, args), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "imcsim hardware report: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/arch-configs/isaac.yaml"));
    free(out), free(err);
    /* From an unrelated directory without IMCSIM_DATADIR: the source tree it was built from. */
    CU_ASSERT_EQUAL(run(workdir, NULL, &out, &err, args), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, IMC_SRCDIR "/arch-configs/isaac.yaml"));
    free(out), free(err);
    /* Not found anywhere: a clear error that says where it looked. */
    const char *nope[] = {"--arch", "nope.yaml", "--hw-report", NULL};
    CU_ASSERT_EQUAL(run(workdir, "/nonexistent", &out, &err, nope), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: --arch nope.yaml: no such file (looked in the "
                                "current folder, /nonexistent/arch-configs, " IMC_SRCDIR
                                "/arch-configs, " IMC_DATADIR "/arch-configs)\n");
    free(out), free(err);
}

static void test_help_matches_man_page(void)
{
    char *out, *err;
    const char *args[] = {"--help", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    char man_path[4200];
    snprintf(man_path, sizeof man_path, "%s/docs/imcsim.1", srcdir);
    char *man = slurp(man_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    /* Every long option in --help appears in the man page (with groff's escaped dashes). */
    int options = 0;
    for (const char *p = strstr(out, "--"); p; p = strstr(p + 2, "--")) {
        char name[64];
        if (sscanf(p + 2, "%63[a-z-]", name) != 1)
            continue;
        char escaped[160] = "\\-\\-";
        size_t k = strlen(escaped);
        for (const char *c = name; *c && k < sizeof escaped - 3; c++) {
            if (*c == '-')
                escaped[k++] = '\\';
            escaped[k++] = *c;
        }
        escaped[k] = '\0';
        if (!strstr(man, escaped))
            fprintf(stderr, "\n--%s is not in docs/imcsim.1\n", name);
        CU_ASSERT_PTR_NOT_NULL(strstr(man, escaped));
        options++;
    }
    CU_ASSERT(options >= 9);
    free(man), free(out), free(err);
}

static void test_dump_config_reproduces_report(void)
{
    char isaac[4200], dumped[4200], csv1[4200], csv2[4200];
    config_path(isaac, sizeof isaac, "isaac.yaml");
    snprintf(dumped, sizeof dumped, "%s/resolved.yaml", workdir);
    snprintf(csv1, sizeof csv1, "%s/a.csv", workdir);
    snprintf(csv2, sizeof csv2, "%s/b.csv", workdir);
    char *out, *err;
    const char *first[] = {"--arch", isaac, "--set", "chip.tiles=100", "--dump-config", dumped,
                           "--hw-report", "--csv", csv1, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, first), 0);
    free(out), free(err);
    const char *second[] = {"--arch", dumped, "--hw-report", "--csv", csv2, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, second), 0);
    free(out), free(err);
    char *a = slurp(csv1), *b = slurp(csv2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT(count_lines(a) > 20);
    char *resolved = slurp(dumped);
    CU_ASSERT_PTR_NOT_NULL(strstr(resolved, "  tiles: 100\n"));
    free(a), free(b), free(resolved);
}

static void test_list_and_describe(void)
{
    char *out, *err;
    const char *list[] = {"--list-models", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, list), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "adc/sar"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "xbar/reram"));
    free(out), free(err);
    const char *describe[] = {"--describe", "adc/sar", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, describe), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "convert"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "bits\tan integer\t8\t1 .. 16"));
    free(out), free(err);
    /* --describe all: every registered model, the reference a new model joins by itself */
    char *all;
    const char *every[] = {"--describe", "all", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &all, &err, every), 0);
    free(err);
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, list), 0);
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(strchr(out, '\n') + 1, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), n++) {
        char name[64], head[80];
        CU_ASSERT_FATAL(sscanf(line, "%63s", name) == 1);
        snprintf(head, sizeof head, "%s (", name);
        CU_ASSERT_PTR_NOT_NULL(strstr(all, head));
    }
    CU_ASSERT(n >= 14);
    free(out), free(err), free(all);
}

/* The quick start's main job: the mapping of far_deit_s.bin (built by make) on reram.yaml. */
static void test_model_mapping(void)
{
    char reram[4200], model[4200], csv[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/far_deit_s.bin", getenv("IMCSIM_BUILDDIR") ? getenv("IMCSIM_BUILDDIR") : ".");
    snprintf(csv, sizeof csv, "%s/map.csv", workdir);
    char *out, *err;
    const char *args[] = {"--arch", reram, "--model", model, "--mapping", "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    /* 12 blocks x (pre 72 + 12 LSTM x 16 + 6 head_proj x 4 + post 72 + fc1 288 + fc2 288)
     * + patch_embed 144 + head 189 crossbars of 128 x 128 at 8 cells per weight. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "chip: 11565 of 16384 crossbars used"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "blocks.11.attn.lstm.h5.bwd"));
    char *c = slurp(csv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(strncmp(c, "# imcsim " PACKAGE_VERSION ", inputs sha256 ", 17 + strlen(PACKAGE_VERSION)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "\nmodel,layer,kind,in,out,copies,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "\nfar_deit_s,blocks.11.attn.lstm.h5.bwd,far_lstm,128,256,1,1,16,16,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "\nfar_deit_s,total,,,,,,,11565,"));
    free(c), free(out), free(err);

    /* One tile cannot hold it: a clear error, exit 2, no CSV left behind. */
    unlink(csv);
    const char *small[] = {"--arch", reram, "--set", "chip.tiles=1", "--model", model, "--mapping", "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, small), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: far_deit_s does not fit: it needs 11565 crossbars in "
                                "1482 PEs of 8, the chip has 128 crossbars in 16 PEs (set "
                                "mapping.reprogram: true to time-multiplex, or add tiles)\n");
    CU_ASSERT_EQUAL(access(csv, F_OK), -1);
    free(out), free(err);
}

/* ---- outputs never clobber ------------------------------------------------------------- */

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Names in the work folder that hold ".tmp." (left-over temporaries). */
static int temporaries(void)
{
    DIR *d = opendir(workdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* An output that is an input, or another output, is refused with exit 2 before anything runs;
 * the input is untouched. */
static void test_output_over_input_refused(void)
{
    char reram[4200], model[4200], arch[4200], trace[4200], csv[4200], want[9000];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(arch, sizeof arch, "%s/a.yaml", workdir);
    snprintf(trace, sizeof trace, "%s/in.trace", workdir);
    snprintf(csv, sizeof csv, "%s/o.csv", workdir);
    char *text = slurp(reram);
    write_file(arch, text);
    free(text);
    char *out, *err;
    const char *emit[] = {"--arch", arch, "--model", model, "--emit-trace", trace, NULL};
    CU_ASSERT_EQUAL_FATAL(run(NULL, NULL, &out, &err, emit), 0);
    free(out), free(err);
    off_t model_size = file_size(model), arch_size = file_size(arch), trace_size = file_size(trace);
    static const struct { const char *opt, *what; int numerics; } cases[] = {
        {"--csv", "model", 0}, {"--logits", "model", 1}, {"--stats", "arch", 0},
        {"--dump-config", "arch", 0}, {"--emit-trace", "trace", 0}, {"--timeline", "trace", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *victim = !strcmp(cases[i].what, "model") ? model
                             : !strcmp(cases[i].what, "arch") ? arch : trace;
        const char *args[12] = {"--arch", arch};
        int n = 2;
        if (!strcmp(cases[i].what, "trace")) {
            args[n++] = "--trace";
            args[n++] = trace;
        } else {
            args[n++] = "--model";
            args[n++] = model;
        }
        if (cases[i].numerics)
            args[n++] = "--numerics";
        args[n++] = cases[i].opt;
        args[n++] = victim;
        CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 2);
        snprintf(want, sizeof want, "imcsim: %s: error: %s would overwrite the input of --%s %s; "
                 "nothing was run\n", victim, cases[i].opt, cases[i].what, victim);
        CU_ASSERT_STRING_EQUAL(err, want);
        CU_ASSERT_STRING_EQUAL(out, "");
        free(out), free(err);
    }
    CU_ASSERT_EQUAL(file_size(model), model_size);
    CU_ASSERT_EQUAL(file_size(arch), arch_size);
    CU_ASSERT_EQUAL(file_size(trace), trace_size);

    /* a base file the architecture builds on is an input too */
    char top[4200];
    snprintf(top, sizeof top, "%s/top.yaml", workdir);
    write_file(top, "base: a.yaml\nchip: {tiles: 64}\n");
    const char *over_base[] = {"--arch", top, "--hw-report", "--dump-config", arch, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, over_base), 2);
    snprintf(want, sizeof want, "imcsim: %s: error: --dump-config would overwrite the input of "
             "--arch %s; nothing was run\n", arch, arch);
    CU_ASSERT_STRING_EQUAL(err, want);
    free(out), free(err);
    CU_ASSERT_EQUAL(file_size(arch), arch_size);
    unlink(top);

    /* the same file by another name (a hard link) is the same input */
    char alias[4200];
    snprintf(alias, sizeof alias, "%s/alias.yaml", workdir);
    CU_ASSERT_EQUAL_FATAL(link(arch, alias), 0);
    const char *linked[] = {"--arch", arch, "--model", model, "--stats", alias, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, linked), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--stats would overwrite the input of --arch"));
    free(out), free(err);
    const char *twice[] = {"--arch", arch, "--model", model, "--csv", csv, "--stats", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, twice), 2);
    snprintf(want, sizeof want, "imcsim: %s: error: --csv and --stats name the same file; "
             "nothing was run\n", csv);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(access(csv, F_OK), -1);
    free(out), free(err);
    unlink(alias), unlink(arch), unlink(trace);
}

/* What the output path is decides how it is written: a symlink is followed, mode and hard
 * links are kept, a device or FIFO is written directly, a failed write is exit 1. */
static void test_outputs_kept_and_followed(void)
{
    char reram[4200], model[4200], target[4200], link_[4200], hard[4200], twin[4200], fifo[4200],
        got[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(target, sizeof target, "%s/target.csv", workdir);
    snprintf(link_, sizeof link_, "%s/link.csv", workdir);
    snprintf(hard, sizeof hard, "%s/hard.csv", workdir);
    snprintf(twin, sizeof twin, "%s/twin.csv", workdir);
    snprintf(fifo, sizeof fifo, "%s/fifo.csv", workdir);
    snprintf(got, sizeof got, "%s/from-fifo.csv", workdir);
    char *out, *err;

    CU_ASSERT_EQUAL_FATAL(symlink("target.csv", link_), 0); /* relative, and dangling */
    const char *via_link[] = {"--arch", reram, "--model", model, "--csv", link_, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, via_link), 0);
    free(out), free(err);
    struct stat st;
    CU_ASSERT(lstat(link_, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT(file_size(target) > 100);

    write_file(hard, "old\n");
    CU_ASSERT_EQUAL_FATAL(chmod(hard, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(link(hard, twin), 0);
    const char *linked[] = {"--arch", reram, "--model", model, "--csv", hard, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, linked), 0);
    free(out), free(err);
    CU_ASSERT(stat(twin, &st) == 0 && st.st_nlink == 2 && (st.st_mode & 0777) == 0600);
    CU_ASSERT_EQUAL(file_size(twin), file_size(target));

    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    pid_t reader = fork();
    if (reader == 0) { /* cat FIFO > GOT */
        int in = open(fifo, O_RDONLY), o = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char buf[4096];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(o, buf, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    const char *piped[] = {"--arch", reram, "--model", model, "--csv", fifo, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, piped), 0);
    free(out), free(err);
    int status;
    waitpid(reader, &status, 0);
    CU_ASSERT(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    CU_ASSERT_EQUAL(file_size(got), file_size(target));

    if (access("/dev/full", W_OK) != 0)
        IMC_UNAVAILABLE("no writable /dev/full");
    else {
        const char *full[] = {"--arch", reram, "--model", model, "--stats", "/dev/full", NULL};
        CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, full), 1);
        CU_ASSERT_STRING_EQUAL(err, "imcsim: /dev/full: error: cannot write: No space left on "
                                    "device\n");
        free(out), free(err);
        CU_ASSERT(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    }
    CU_ASSERT_EQUAL(temporaries(), 0);
    unlink(link_), unlink(target), unlink(hard), unlink(twin), unlink(fifo), unlink(got);
}

/* The report on stdout is checked like a file: a full disk is exit 1, not silent success. */
static void test_stdout_checked(void)
{
    if (access("/dev/full", W_OK) != 0) {
        IMC_UNAVAILABLE("no writable /dev/full");
        return;
    }
    char reram[4200], model[4200], err_path[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(err_path, sizeof err_path, "%s/full.err", workdir);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open("/dev/full", O_WRONLY), fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        execl(imcsim, imcsim, "--arch", reram, "--model", model, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    char *err = slurp(err_path);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: writing to stdout: No space left on device\n");
    free(err);
    unlink(err_path);
}

/* SIGTERM, SIGINT and SIGHUP remove the temporaries; one a SIGKILL left is removed by the
 * next run in the folder, while a live process's is not. The run is held deterministically:
 * its --stats FIFO has no reader, so it waits in open() with the --csv temporary made. */
static void test_temporaries_removed(void)
{
    char reram[4200], model[4200], csv[4200], fifo[4200], host[256] = "", stale[4400], live_[4400];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(csv, sizeof csv, "%s/sig.csv", workdir);
    snprintf(fifo, sizeof fifo, "%s/sig.fifo", workdir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            /* imcsim leaves an ignored signal ignored (nohup's SIGHUP): start from the default */
            signal(sigs[i], SIG_DFL);
            execl(imcsim, imcsim, "--arch", reram, "--model", model, "--csv", csv, "--stats", fifo,
                  (char *)NULL);
            _exit(127);
        }
        while (temporaries() == 0) /* the --csv temporary exists: imcsim waits on the FIFO */
            nanosleep(&(struct timespec){0, 10000000}, NULL);
        kill(pid, sigs[i]);
        int status;
        waitpid(pid, &status, 0);
        CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i]);
        CU_ASSERT_EQUAL(temporaries(), 0);
    }
    unlink(fifo);

    gethostname(host, sizeof host - 1);
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    snprintf(stale, sizeof stale, "%s/other.csv.tmp.%s.%ld.AbC123", workdir, host, (long)dead);
    snprintf(live_, sizeof live_, "%s/other.csv.tmp.%s.%ld.AbC123", workdir, host, (long)getpid());
    write_file(stale, "left by a SIGKILL\n");
    write_file(live_, "being written\n");
    char *out, *err;
    const char *args[] = {"--arch", reram, "--model", model, "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    free(out), free(err);
    CU_ASSERT_EQUAL(access(stale, F_OK), -1);
    CU_ASSERT_EQUAL(access(live_, F_OK), 0);
    unlink(live_), unlink(csv);
}

/* A FIFO named as an input is refused at once (it once blocked the run forever). */
static void test_fifo_inputs_refused(void)
{
    char reram[4200], model[4200], fifo[4200], want[9000];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(fifo, sizeof fifo, "%s/in.fifo", workdir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    const char *as_model[] = {"--arch", reram, "--model", fifo, NULL};
    const char *as_trace[] = {"--arch", reram, "--trace", fifo, NULL};
    const char *as_arch[] = {"--arch", fifo, "--hw-report", NULL};
    const char *as_data[] = {"--arch", reram, "--model", model, "--numerics", "--dataset", fifo,
                             NULL};
    const char *const *cases[] = {as_model, as_trace, as_arch, as_data};
    snprintf(want, sizeof want, "imcsim: %s: error: ", fifo);
    for (size_t i = 0; i < 4; i++) {
        char *out, *err;
        CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, cases[i]), 2);
        CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open: not a regular file (a FIFO or a device "
                                           "cannot be an input)\n"));
        free(out), free(err);
    }
    unlink(fifo);
}

/* A trace whose sizes no simulated clock can hold (a store of 6.4e18 bits: 1e17 accesses of
 * the global buffer, 1 ns each) is refused with exit 2 and one line naming the op, and leaves
 * no output; it once converted 3.1e19 ps to a 64-bit integer, which C leaves undefined (the
 * fuzzer's find). */
static void test_time_out_of_range(void)
{
    char reram[4200], trace[4200], csv[4200], text[4096];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(trace, sizeof trace, "%s/huge.trace", workdir);
    snprintf(csv, sizeof csv, "%s/huge.csv", workdir);
    snprintf(text, sizeof text, "%s",
             "imcsim-trace 1\n"
             "model toy tokens=2 dim=4 heads=1 act_bits=8\n"
             "layer 0 patch_embed patch_embed in=48 out=4 vectors=1 bias=1\n"
             "layer 1 blocks.0.attn.qkv qkv block=0 in=4 out=12 vectors=2 bias=1\n"
             "name 0 input\nname 1 patch_embed\nname 2 blocks.0.attn\n"
             "op input out=384\n"
             "op mvm layer=0 name=1 tok=1 deps=-1\n"
             "op mvm layer=1 name=2 tok=1 deps=-1\n"
             "op store site=1 name=2 tok=1 out=6411111111111111111 deps=-1\n"
             "op output name=0 in=64 deps=-1\n"
             "end ops=5\n");
    write_file(trace, text);
    const char *args[] = {"--arch", reram, "--trace", trace, "--csv", csv, NULL};
    char *out, *err;
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: a stage would take 1e+17 x 1000 ps, past the "
                                "2^62 ps (53 days) one stage may take: sizes or rates out of "
                                "range (op store of blocks.0.attn)\n");
    CU_ASSERT_EQUAL(access(csv, F_OK), -1);
    free(out), free(err);
}

static int setup(void)
{
    /* Absolute paths: the tests run imcsim from other directories. */
    char here[3072];
    if (!getcwd(here, sizeof here))
        return -1;
    const char *b = getenv("IMCSIM_BUILDDIR"), *s = getenv("IMCSIM_SRCDIR");
    snprintf(imcsim, sizeof imcsim, "%s/imcsim", b ? b : here);
    snprintf(srcdir, sizeof srcdir, "%s", s ? s : here);
    snprintf(workdir, sizeof workdir, "%s/imcsim-cli-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(workdir) ? 0 : -1;
}

/* The simulation's files: the timeline is valid trace-event JSON with one track per resource,
 * named, whose service slices never overlap, and the waits as slices of their own; a failing run
 * leaves none of the files behind. */
static void test_simulation_outputs(void)
{
    char reram[4200], model[4200], tl[4200], st[4200], csv[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/deit_s.bin", getenv("IMCSIM_BUILDDIR") ? getenv("IMCSIM_BUILDDIR") : ".");
    snprintf(tl, sizeof tl, "%s/t.json", workdir);
    snprintf(st, sizeof st, "%s/s.yaml", workdir);
    snprintf(csv, sizeof csv, "%s/e.csv", workdir);
    char *out, *err;
    const char *args[] = {"--arch", reram, "--model", model, "--batch", "2", "--timeline", tl,
                          "--stats", st, "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "batch                  2"));
    free(out), free(err);
    char *json = slurp(tl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    cJSON *top = cJSON_Parse(json), *root = cJSON_GetObjectItem(top, "traceEvents");
    CU_ASSERT_FATAL(cJSON_IsArray(root));
    /* the timeline records which imcsim made it, from which inputs, as the stats do */
    const cJSON *other = cJSON_GetObjectItem(top, "otherData");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(other, "imcsim")), PACKAGE_VERSION);
    const char *digest = cJSON_GetStringValue(cJSON_GetObjectItem(other, "inputs_sha256"));
    CU_ASSERT_FATAL(digest && strlen(digest) == 64);
    /* one track (tid) per resource, each named; its service slices never overlap; every wait
     * is a begin/end pair of its own */
    enum { MAX_TID = 1 << 16 };
    double *free_at = calloc(MAX_TID, sizeof *free_at);
    char *named = calloc(MAX_TID, 1), *used = calloc(MAX_TID, 1);
    CU_ASSERT_FATAL(free_at && named && used);
    int complete = 0, processes = 0, overlaps = 0, waits_open = 0, waits = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, root)
    {
        const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "ph"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "name"));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
        const cJSON *tidj = cJSON_GetObjectItem(ev, "tid");
        int tid = tidj ? (int)tidj->valuedouble : -1;
        CU_ASSERT_FATAL(tid < MAX_TID);
        if (!strcmp(ph, "X")) {
            complete++;
            double ts = cJSON_GetObjectItem(ev, "ts")->valuedouble;
            double dur = cJSON_GetObjectItem(ev, "dur")->valuedouble;
            CU_ASSERT(dur > 0 && ts >= 0 && tid > 0);
            overlaps += ts < free_at[tid] - 1e-6; /* a track's slices come in the order taken */
            free_at[tid] = ts + dur;
            used[tid] = 1;
        } else if (!strcmp(ph, "M")) {
            if (!strcmp(name, "process_name"))
                processes++;
            else if (!strcmp(name, "thread_name") && tid > 0)
                named[tid] = 1;
        } else if (!strcmp(ph, "b")) {
            waits_open++;
            waits++;
        } else if (!strcmp(ph, "e")) {
            waits_open--;
        }
    }
    int unnamed = 0, tracks = 0;
    for (int t = 0; t < MAX_TID; t++) {
        tracks += used[t];
        unnamed += used[t] && !named[t];
    }
    CU_ASSERT(complete > 66601); /* DeiT-S: 66,601 ops, most taking several resources */
    CU_ASSERT(tracks > 100);     /* tiles' units, crossbar groups, links, chip units */
    CU_ASSERT_EQUAL(overlaps, 0);
    CU_ASSERT_EQUAL(unnamed, 0);
    CU_ASSERT_EQUAL(processes, 1);
    CU_ASSERT(waits > 0);
    CU_ASSERT_EQUAL(waits_open, 0);
    free(free_at), free(named), free(used);
    char want[200];
    snprintf(want, sizeof want, "provenance:\n  imcsim: \"%s\"\n  inputs_sha256: %s\n",
             PACKAGE_VERSION, digest);
    char *stats = slurp(st);
    CU_ASSERT_PTR_NOT_NULL(strstr(stats, "batch: 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(stats, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(stats, "    - \"option batch=2 native=0 mapping=0 hw-report=0\"\n"));
    free(stats);
    snprintf(want, sizeof want, "# imcsim %s, inputs sha256 %s\nmodel,layer,", PACKAGE_VERSION,
             digest);
    char *energy = slurp(csv);
    CU_ASSERT_EQUAL(strncmp(energy, want, strlen(want)), 0);
    free(energy);
    cJSON_Delete(top);
    free(json);

    /* a bad --set after the outputs were named: exit 2, no file left */
    unlink(tl), unlink(st), unlink(csv);
    const char *bad[] = {"--arch", reram, "--set", "mapping.matmul=gpu", "--model", model,
                         "--timeline", tl, "--stats", st, "--csv", csv, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, bad), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: --set:1:16: error: mapping.matmul: 'gpu' is not one of "
                                "digital, rewrite, host\n");
    CU_ASSERT_EQUAL(access(tl, F_OK) + access(st, F_OK) + access(csv, F_OK), -3);
    free(out), free(err);
}

/* A Python user's path: --stats FILE.json holds the YAML's figures as JSON numbers; and
 * --summary all lists every component by its slot path, the energy CSV's component. */
static void test_stats_json_summary_all(void)
{
    char reram[4200], model[4200], sy[4200], sj[4200], csv[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/deit_s.bin", getenv("IMCSIM_BUILDDIR") ? getenv("IMCSIM_BUILDDIR") : ".");
    snprintf(sy, sizeof sy, "%s/s.yaml", workdir);
    snprintf(sj, sizeof sj, "%s/s.JSON", workdir);
    snprintf(csv, sizeof csv, "%s/e.csv", workdir);
    char *out, *err;
    const char *yaml_args[] = {"--arch", reram, "--model", model, "--stats", sy, NULL};
    CU_ASSERT_EQUAL_FATAL(run(NULL, NULL, &out, &err, yaml_args), 0);
    free(out), free(err);
    const char *json_args[] = {"--arch", reram, "--model", model, "--stats", sj, "--csv", csv,
                               "--summary", "all", NULL};
    CU_ASSERT_EQUAL_FATAL(run(NULL, NULL, &out, &err, json_args), 0);

    /* the same latency and ADC energy as the YAML's, as numbers */
    char *yaml = slurp(sy), *json = slurp(sj);
    CU_ASSERT_FATAL(yaml && json);
    cJSON *top = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(top);
    const cJSON *run0 = cJSON_GetArrayItem(cJSON_GetObjectItem(top, "runs"), 0);
    const cJSON *lat = cJSON_GetObjectItem(run0, "latency_ps");
    const cJSON *adc = cJSON_GetObjectItem(cJSON_GetObjectItem(run0, "energy_pj_by_component"),
                                           "chip.tile.pe.adc");
    CU_ASSERT_FATAL(cJSON_IsNumber(lat) && cJSON_IsNumber(adc));
    char want[128];
    snprintf(want, sizeof want, "\n    latency_ps: %.0f\n", lat->valuedouble);
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, want));
    snprintf(want, sizeof want, "\n      chip.tile.pe.adc: %.17g\n", adc->valuedouble);
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, want));
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
                               cJSON_GetObjectItem(run0, "ledger"), 0), "component")),
                           "chip.dram");
    cJSON_Delete(top);
    free(yaml), free(json);

    /* every component the CSV charges has its line in the summary; no "other" */
    CU_ASSERT_PTR_NULL(strstr(out, "other ("));
    char *energy = slurp(csv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(energy);
    int rows = 0;
    for (char *line = strtok(energy, "\n"); line; line = strtok(NULL, "\n")) {
        char comp[64], needle[80];
        if (line[0] == '#' || !strncmp(line, "model,", 6) ||
            sscanf(line, "%*[^,],%*[^,],%*[^,],%63[^,],", comp) != 1)
            continue;
        snprintf(needle, sizeof needle, "\n    %s ", comp);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
        rows++;
    }
    CU_ASSERT(rows > 100);
    free(energy);
    free(out), free(err);

    const char *bad[] = {"--arch", reram, "--model", model, "--summary", "some", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, bad), 2);
    CU_ASSERT_STRING_EQUAL(err,
                           "imcsim: error: --summary: 'some' is not all or top (see imcsim --help)\n");
    free(out), free(err);
}

/* --numerics on a reference model with its labelled images: FP32 gets every label right (they
 * are PyTorch's argmax), the lossless IMC pass agrees; files are written; bad input is one
 * line and exit 2. */
static void test_numerics(void)
{
    char reram[4200], model[4200], data[4200], csv[4200], lg[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(data, sizeof data, "%s/tests/data/ref_deit.inputs.safetensors", srcdir);
    snprintf(csv, sizeof csv, "%s/n.csv", workdir);
    snprintf(lg, sizeof lg, "%s/logits.bin", workdir);
    char *out, *err;
    const char *args[] = {"--arch", reram, "--model", model, "--numerics", "--dataset", data,
                          "--csv", csv, "--logits", lg, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "top-1 accuracy       FP32 100.00 %"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "top-1 agreement      100.00 %"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "exact integer path"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "blocks.1.mlp.fc2"));
    free(out), free(err);
    char *c = slurp(csv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "\nmodel,metric,layer,value\n"));
    CU_ASSERT_EQUAL(strncmp(c, "# imcsim ", 9), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(c, ",top1_fp32,,1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, ",sqnr_db,blocks.0.attn.qkv,"));
    free(c);
    CU_ASSERT_EQUAL(access(lg, F_OK), 0);

    const char *missing[] = {"--arch", reram, "--model", model, "--numerics", "--dataset",
                             "/nonexistent/data", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, missing), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: /nonexistent/data: error: cannot open: No such file or directory\n");
    free(out), free(err);
    const char *two[] = {"--arch", reram, "--model", model, "--model", model, "--numerics", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, two), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: --numerics needs exactly one --model FILE (a trace "
                                "has no weights) (see imcsim --help)\n");
    free(out), free(err);
}

/* --reference: the summary's section and the CSV's rows, whose busy energy sums to the
 * processor's power times its latency; a processor that cannot be found, and one asked for
 * without a simulation, are usage errors. */
static void test_reference(void)
{
    char reram[4200], model[4200], csv[4200], stats[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    snprintf(csv, sizeof csv, "%s/ref.csv", workdir);
    snprintf(stats, sizeof stats, "%s/ref.yaml", workdir);
    char *out, *err;
    const char *args[] = {"--arch", reram, "--model", model, "--reference", "a100", "--csv", csv,
                          "--stats", stats, NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    const char *sec = strstr(out, "\n  a100: NVIDIA A100");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
    double latency_us = 0, energy_uj = 0;
    const char *lat = strstr(sec, "latency (us)"), *en = strstr(sec, "energy, busy power (uJ)");
    CU_ASSERT_FATAL(lat && en);
    CU_ASSERT_EQUAL(sscanf(lat + strlen("latency (us)"), "%lf", &latency_us), 1);
    CU_ASSERT_EQUAL(sscanf(en + strlen("energy, busy power (uJ)"), "%lf", &energy_uj), 1);
    CU_ASSERT_DOUBLE_EQUAL(energy_uj, 400 * latency_us, 1e-3 * energy_uj); /* a100.yaml: 400 W */
    free(out), free(err);
    char *c = slurp(csv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    double sum_pj = 0;
    int rows = 0;
    for (char *line = strtok(c, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, " on a100,,"))
            continue;
        CU_ASSERT_PTR_NOT_NULL(strstr(line, ",reference.a100,reference,busy,"));
        sum_pj += atof(strrchr(line, ',') + 1);
        rows++;
    }
    CU_ASSERT(rows >= 6); /* mvm, embed, layernorm, gelu, residual, qk, softmax, sv */
    CU_ASSERT_DOUBLE_EQUAL(sum_pj * 1e-6, energy_uj, 1e-3 * energy_uj);
    free(c);

    /* the stats carry the same figures, in seconds and joules */
    char *y = slurp(stats);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const char *ref = strstr(y, "\nreferences:\n  - name: a100\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    double latency_s = 0, busy_j = 0;
    const char *ls = strstr(ref, "latency_s: "), *bj = strstr(ref, "energy_busy_j: ");
    CU_ASSERT_FATAL(ls && bj);
    CU_ASSERT_EQUAL(sscanf(ls + strlen("latency_s: "), "%lf", &latency_s), 1);
    CU_ASSERT_EQUAL(sscanf(bj + strlen("energy_busy_j: "), "%lf", &busy_j), 1);
    CU_ASSERT_DOUBLE_EQUAL(latency_s * 1e6, latency_us, 1e-3); /* the summary prints 3 decimals */
    CU_ASSERT_DOUBLE_EQUAL(busy_j * 1e6, energy_uj, 1e-3 * energy_uj);
    free(y);

    const char *nope[] = {"--arch", reram, "--model", model, "--reference", "nope", NULL};
    CU_ASSERT_EQUAL(run(NULL, "/nonexistent", &out, &err, nope), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "imcsim: error: --reference nope: no such file, nor "
                                       "nope.yaml in /nonexistent/arch-configs/references, "));
    free(out), free(err);
    const char *mapping[] = {"--arch", reram, "--model", model, "--reference", "a100", "--mapping",
                             NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, mapping), 2);
    CU_ASSERT_STRING_EQUAL(err, "imcsim: error: --reference compares a simulation: it needs "
                                "--model or --trace, without --mapping or --numerics (see imcsim "
                                "--help)\n");
    free(out), free(err);
}

/* A batch whose tile buffers fill with data that waits on work that itself waits for room
 * (once a deadlock: "ops never ran") completes: the oldest waiting output is let in, and the
 * summary says how far beyond the capacity a buffer went, the same on both kernels (the
 * SystemC one is run again after each deadlock). One inference with the same buffers needs no
 * such escape. */
static void test_batch_never_deadlocks(void)
{
    char reram[4200], model[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    const char *batch4[] = {"--arch", reram, "--model", model, "--batch", "4",
                            "--set", "chip.tile.buffer.capacity=4 Kibit", NULL};
    char *out, *err;
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, batch4), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "makespan "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "    buffer overcommit                    up to "));
    const char *batch4_sc[] = {"--arch", reram, "--model", model, "--batch", "4",
                               "--set", "chip.tile.buffer.capacity=4 Kibit", "--kernel", "systemc",
                               NULL};
    char *out_sc, *err_sc;
    CU_ASSERT_EQUAL(run(NULL, NULL, &out_sc, &err_sc, batch4_sc), 0);
    const char *a = strstr(out, "\n  latency"), *b = strstr(out_sc, "\n  latency");
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_STRING_EQUAL(a, b); /* everything after the header line naming the kernel */
    free(out_sc), free(err_sc);
    free(out), free(err);
    const char *batch1[] = {"--arch", reram, "--model", model,
                            "--set", "chip.tile.buffer.capacity=4 Kibit", NULL};
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, batch1), 0);
    CU_ASSERT_PTR_NULL(strstr(out, "buffer overcommit"));
    free(out), free(err);
}

/* Two inferences whose completions come closer than the busiest resource allows (one-lane SFUs:
 * 65.28 us per inference) have not reached a steady state, and the summary says so instead of
 * calling their gap one. */
static void test_batch_too_small_for_steady_state(void)
{
    char reram[4200], model[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/tests/data/ref_deit.model.safetensors", srcdir);
    const char *args[] = {"--arch", reram, "--model", model, "--batch", "2",
                          "--set", "chip.tile.sfu.lanes=1", NULL};
    char *out, *err;
    CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, args), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " us between completions)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no steady state: the busiest resource needs 65.280 us per "
                                       "inference; a larger --batch shows the steady state\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "in steady state"));
    free(out), free(err);
}

/* arch-configs/README.md documents every schema key (tools/arch-doc); models document
 * themselves (--describe all), so a new model needs no edit of the README. */
static void test_schema_documented(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/arch-configs/README.md", srcdir);
    char *doc = slurp(path), *out, *err;
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const char *keys[] = {"--list-keys", NULL};
    const char *const *lists[] = {keys};
    for (int l = 0; l < 1; l++) {
        CU_ASSERT_EQUAL(run(NULL, NULL, &out, &err, lists[l]), 0);
        int n = 0;
        char *save = NULL;
        for (char *line = strtok_r(strchr(out, '\n') + 1, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save), n++) {
            char name[160], quoted[200];
            if (sscanf(line, "%159[^\t ]", name) != 1)
                continue;
            snprintf(quoted, sizeof quoted, "| `%s` |", name);
            if (!strstr(doc, quoted))
                fprintf(stderr, "\n%s is not in arch-configs/README.md (run tools/arch-doc)\n", name);
            CU_ASSERT_PTR_NOT_NULL(strstr(doc, quoted));
        }
        CU_ASSERT(n > 10);
        free(out), free(err);
    }
    free(doc);
}

/* Remove the (flat) work directory. */
static int cleanup(void)
{
    DIR *d = opendir(workdir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", workdir, e->d_name);
            unlink(path);
        }
    closedir(d);
    return rmdir(workdir);
}

/* The provenance of a simulation made while it runs (imcsim hashes the input files on another
 * thread, imc_sim_request.prov_ready): asked for once, after the run and before anything is
 * written; when it cannot be made, the run fails with its error and leaves no output, not
 * even the report on stdout. Then, made, it heads the CSV as it did when made first. */
typedef struct late_prov {
    imc_provenance *p;
    FILE *out;      /* the report's stream: still empty when the provenance is asked for */
    int calls, fail;
} late_prov;

static int late_prov_ready(void *ctx, imc_err *err)
{
    late_prov *lp = ctx;
    lp->calls++;
    CU_ASSERT_EQUAL(ftell(lp->out), 0);
    if (lp->fail)
        return imc_err_set(err, IMC_EIO, "model.bin: read failed");
    imc_provenance_init(lp->p, PACKAGE_VERSION);
    imc_provenance_hex(lp->p, "model", "0123");
    return imc_provenance_finish(lp->p, err);
}

static void test_provenance_made_late(void)
{
    char reram[4200], model[4200], csv[4200], st[4200];
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/deit_s.bin", getenv("IMCSIM_BUILDDIR") ? getenv("IMCSIM_BUILDDIR") : ".");
    snprintf(csv, sizeof csv, "%s/late.csv", workdir);
    snprintf(st, sizeof st, "%s/late.yaml", workdir);
    imc_err err;
    imc_err_clear(&err);
    imc_arch *arch;
    CU_ASSERT_EQUAL_FATAL(imc_arch_load(&arch, reram, NULL, 0, &err), 0);
    const char *models[] = {model};
    for (int fail = 1; fail >= 0; fail--) {
        imc_provenance prov = {0};
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(out);
        late_prov lp = {&prov, out, 0, fail};
        imc_sim_request rq = {.models = models, .n_models = 1, .batch = 1, .csv = csv,
                              .stats = st, .prov = &prov, .prov_ready = late_prov_ready,
                              .prov_ctx = &lp};
        imc_err_clear(&err);
        int rc = imc_simulate(arch, &rq, out, &err);
        fclose(out);
        CU_ASSERT_EQUAL(lp.calls, 1);
        if (fail) {
            CU_ASSERT_EQUAL(rc, IMC_EIO);
            CU_ASSERT_STRING_EQUAL(err.msg, "model.bin: read failed");
            CU_ASSERT_EQUAL(len, 0);
            CU_ASSERT_EQUAL(access(csv, F_OK) + access(st, F_OK), -2);
        } else {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT(len > 0);
            char want[200], *energy = slurp(csv);
            snprintf(want, sizeof want, "# imcsim %s, inputs sha256 %s\nmodel,layer,",
                     PACKAGE_VERSION, prov.digest);
            CU_ASSERT_PTR_NOT_NULL_FATAL(energy);
            CU_ASSERT_EQUAL(strncmp(energy, want, strlen(want)), 0);
            free(energy);
            unlink(csv), unlink(st);
        }
        imc_provenance_free(&prov);
        free(text);
    }
    imc_arch_free(arch);
}

/* The SystemC kernel is a module loaded only for --kernel systemc: a copy of imcsim with no
 * module beside it, no IMCSIM_BUILDDIR and none installed says so in one line (exit 2), and
 * still runs the native kernel. With a module installed in pkglibdir, the copy finds it there
 * and runs. */
static void test_systemc_module_loaded_when_asked(void)
{
#ifdef HAVE_SYSTEMC
    char dir[4200], copy[4300], reram[4200], model[4200], module[4200];
    snprintf(dir, sizeof dir, "%s/alone", workdir);
    snprintf(copy, sizeof copy, "%s/imcsim", dir);
    config_path(reram, sizeof reram, "reram.yaml");
    snprintf(model, sizeof model, "%s/deit_s.bin", getenv("IMCSIM_BUILDDIR") ? getenv("IMCSIM_BUILDDIR") : ".");
    snprintf(module, sizeof module, "%s/imcsim-systemc.so", IMC_PKGLIBDIR);
    mkdir(dir, 0755);
    FILE *in = fopen(imcsim, "rb"), *out = fopen(copy, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in && out ? in : NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        CU_ASSERT_EQUAL_FATAL(fwrite(buf, 1, n, out), n);
    fclose(in), fclose(out);
    chmod(copy, 0755);
    int installed = access(module, F_OK) == 0;
    for (int k = 0; k < 2; k++) {
        const char *args[] = {"--arch",   reram, "--model", model,
                              "--kernel", k ? "systemc" : "native", NULL};
        char *o, *e;
        int status = run_prog(copy, NULL, NULL, "IMCSIM_BUILDDIR", &o, &e, args);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o && e ? o : NULL);
        if (k && !installed) {
            char want[4600];
            snprintf(want, sizeof want,
                     "imcsim: error: --kernel systemc: the systemc kernel's module cannot be "
                     "loaded: imcsim-systemc.so not found beside the program or in %s (see "
                     "imcsim --help)\n",
                     IMC_PKGLIBDIR);
            CU_ASSERT_EQUAL(status, 2);
            CU_ASSERT_STRING_EQUAL(e, want);
            CU_ASSERT_STRING_EQUAL(o, "");
        } else {
            CU_ASSERT_EQUAL(status, 0);
            CU_ASSERT(strstr(o, "imcsim summary: deit_s\n") == o);
        }
        free(o), free(e);
    }
    unlink(copy);
    rmdir(dir); /* the work directory stays flat (cleanup) */
#endif
}

static CU_TestInfo tests[] = {
    {"bad config: exit 2, one line, no output file", test_bad_config_exit_2_one_line_no_output},
    {"missing file and usage errors", test_missing_file_and_usage_errors},
    {"--native on an imported graph: exit 2, one line", test_native_needs_deit_or_far},
    {"--arch bare name lookup", test_arch_found_by_bare_name},
    {"--help options are in the man page", test_help_matches_man_page},
    {"--dump-config reproduces the report", test_dump_config_reproduces_report},
    {"--list-models and --describe", test_list_and_describe},
    {"--model: mapping summary and CSV", test_model_mapping},
    {"arch-configs/README.md documents every key", test_schema_documented},
    {"simulation outputs: timeline JSON, stats, batch; none on failure", test_simulation_outputs},
    {"a provenance made during the run: asked once, after it; its failure writes nothing", test_provenance_made_late},
    {"--stats FILE.json and --summary all", test_stats_json_summary_all},
    {"--numerics on a reference model and its images", test_numerics},
    {"--reference: a processor beside the chip, in the summary, the CSV and the stats", test_reference},
    {"a batch behind small buffers completes", test_batch_never_deadlocks},
    {"a batch too small for a steady state says so", test_batch_too_small_for_steady_state},
    {"an output over an input is refused", test_output_over_input_refused},
    {"outputs: links followed, mode and links kept, FIFOs and devices", test_outputs_kept_and_followed},
    {"stdout is checked", test_stdout_checked},
    {"a FIFO input is refused", test_fifo_inputs_refused},
    {"sizes past what simulated time holds: exit 2, one line", test_time_out_of_range},
    {"temporaries removed on signals and after a SIGKILL", test_temporaries_removed},
    {"the SystemC kernel's module: loaded only when asked for; missing, one line",
     test_systemc_module_loaded_when_asked},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "cli"
#define SUITE_INIT setup
#define SUITE_CLEANUP cleanup
#include "tests/unit/cunit_main.h"
