/* imcsim_sweep.c -- the imcsim-sweep command: expand a sweep spec and run every point and
 * model as its own imcsim process, locally in parallel or as a Slurm job array, resumably.
 * Exit status: 0 every run ok, 3 the sweep finished but some runs failed (see results.csv;
 * an array task's --task run exits 0 then), 2 bad input (spec, options), 1 an I/O failure of
 * the sweep itself. */
#include "config.h"

#define _XOPEN_SOURCE 700 /* realpath with a NULL buffer */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cmd/cli.h"
#include "sim/base/outfile.h"
#include "sim/sweep/run.h"
#include "sim/sweep/spec.h"

#define EXIT_SOME_FAILED 3

static const char usage[] =
    "usage: imcsim-sweep SPEC -o DIR [-j N] [--retry-failed]     run the sweep here\n"
    "       imcsim-sweep SPEC -o DIR --slurm [--tasks N] [--sbatch OPT]...\n"
    "                                                  write DIR/sweep.sbatch, a job array\n"
    "       imcsim-sweep SPEC --list                   print the points and exit\n"
    "\n"
    "SPEC is a sweep spec (arch-configs/sweeps/README.md): a base architecture, models and axes\n"
    "of --set values. Every point and model runs as its own imcsim process; its files go to\n"
    "DIR/points/NNNN/MODEL/ (command.sh reproduces it alone) and DIR/results.csv gets one row\n"
    "per point and model. Running the same command again runs only what is missing.\n"
    "\n"
    "  -o, --out DIR       the output folder\n"
    "  -j, --jobs N        runs at once, 1 to 4096 (default: the number of online CPUs); each\n"
    "                      run gets CPUs / N BLAS threads (OPENBLAS_NUM_THREADS, unless set)\n"
    "  --retry-failed      run failed runs again (default: a failure is a result)\n"
    "  --slurm             write DIR/sweep.sbatch instead of running; submit it with sbatch\n"
    "  --tasks N           Slurm array tasks (default: min(runs, 64)); with --task K, run only\n"
    "  --task K            task K's share (what an array task runs)\n"
    "  --sbatch OPT        an extra #SBATCH line for the script, e.g. --sbatch --time=1:00:00\n"
    "  --imcsim PATH       the imcsim to run (default: $IMCSIM, else the one installed or built\n"
    "                      beside this program, else imcsim on PATH)\n"
    "  --list              check the spec, print its points (after constraints) as CSV\n"
    "  -q, --quiet         no progress lines\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n"
    "\n"
    "Exit status: 0 every run ok (with --task: its share done); 3 finished, some runs failed\n"
    "(status=failed in results.csv); 2 bad input (one line FILE:LINE:COL: error: ... on\n"
    "stderr); 1 an I/O failure.\n";

static const char PROG[] = "imcsim-sweep";

/* Runs at once: each is a process, and the parent scans its table of them per exit. */
#define MAX_JOBS 4096

static int parse_count(const char *opt, const char *s, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return max == INT_MAX ? imc_cli_bad(PROG, "%s: '%s' is not an integer >= %d", opt, s, min)
                              : imc_cli_bad(PROG, "%s: '%s' is not an integer from %d to %d", opt,
                                            s, min, max);
    *out = (int)v;
    return 0;
}

/* This program's own path (absolute), for the Slurm script and to find imcsim beside it. */
static char *self_path(const char *argv0)
{
    char *p = realpath("/proc/self/exe", NULL);
    return p ? p : realpath(argv0, NULL);
}

/* PROG (a path, or a bare name searched for on PATH) as an absolute path to an executable,
 * or NULL: imcsim runs in each run's folder, so a relative path would not be found there. */
static char *executable(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0 ? realpath(prog, NULL) : NULL;
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        char buf[PATH_MAX];
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", prog);
        if (access(buf, X_OK) == 0)
            return realpath(buf, NULL);
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* imcsim: --imcsim, $IMCSIM, beside this program (installed: the same bin directory; built:
 * tools/imcsim-sweep next to ./imcsim), else imcsim on PATH. *WANTED names what was asked. */
static char *find_imcsim(const char *given, const char *self, const char **wanted)
{
    const char *env = getenv("IMCSIM");
    *wanted = given ? given : env && *env ? env : "imcsim";
    if (given || (env && *env))
        return executable(*wanted);
    if (self) {
        char buf[PATH_MAX];
        const char *slash = strrchr(self, '/');
        int n = (int)(slash - self);
        const char *cand[] = {"/imcsim", "/../imcsim"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(buf, sizeof buf, "%.*s%s", n, self, cand[i]);
            if (access(buf, X_OK) == 0)
                return realpath(buf, NULL);
        }
    }
    return executable("imcsim");
}

static void list_points(const imc_sweep_spec *s)
{
    printf("point");
    for (size_t a = 0; a < s->n_axes; a++) {
        putchar(',');
        imc_csv_field(stdout, s->axes[a].key);
    }
    printf("\n");
    for (size_t p = 0; p < s->n_points; p++) {
        printf("%zu", p);
        for (size_t a = 0; a < s->n_axes; a++) {
            putchar(',');
            imc_csv_field(stdout, imc_sweep_value(s, p, a));
        }
        printf("\n");
    }
    fprintf(stderr, "imcsim-sweep: %zu points x %zu models (%zu points skipped by constraints)\n",
            s->n_points, s->n_models, s->n_skipped);
}

enum { OPT_RETRY = 256, OPT_SLURM, OPT_TASKS, OPT_TASK, OPT_SBATCH, OPT_IMCSIM, OPT_LIST };

static int sweep_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},     {"jobs", required_argument, NULL, 'j'},
        {"retry-failed", no_argument, NULL, OPT_RETRY}, {"slurm", no_argument, NULL, OPT_SLURM},
        {"tasks", required_argument, NULL, OPT_TASKS}, {"task", required_argument, NULL, OPT_TASK},
        {"sbatch", required_argument, NULL, OPT_SBATCH},
        {"imcsim", required_argument, NULL, OPT_IMCSIM}, {"list", no_argument, NULL, OPT_LIST},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0}};
    imc_sweep_opts o = {0};
    int quiet = 0;
    const char *imcsim = NULL;
    const char **sbatch = calloc((size_t)argc, sizeof *sbatch);
    size_t n_sbatch = 0;
    int slurm = 0, list = 0, task = -1, c, rc;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cpus > 0 ? (int)cpus : 1;
    if (!sbatch)
        return EXIT_FAILURE;
    opterr = 0;
    rc = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:j:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.outdir = optarg; break;
        case 'j': rc = parse_count("-j", optarg, 1, MAX_JOBS, &o.jobs); break;
        case OPT_RETRY: o.retry_failed = 1; break;
        case OPT_SLURM: slurm = 1; break;
        case OPT_TASKS: rc = parse_count("--tasks", optarg, 1, INT_MAX, &o.tasks); break;
        case OPT_TASK: rc = parse_count("--task", optarg, 0, INT_MAX, &task); break;
        case OPT_SBATCH: sbatch[n_sbatch++] = optarg; break;
        case OPT_IMCSIM: imcsim = optarg; break;
        case OPT_LIST: list = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); free(sbatch); return 0;
        case 'V': printf("imcsim-sweep %s\n", PACKAGE_VERSION); free(sbatch); return 0;
        case ':': rc = imc_cli_bad(PROG, "%s needs a value", argv[optind - 1]); break;
        default: rc = imc_cli_bad(PROG, "unknown option '%s' (see --help)", argv[optind - 1]); break;
        }
    }
    if (rc) {
        free(sbatch);
        return rc;
    }
    rc = 0;
    if (optind != argc - 1)
        rc = imc_cli_bad(PROG, optind == argc ? "no SPEC given (see --help)" : "give exactly one SPEC");
    else if (!list && (!o.outdir || !*o.outdir))
        rc = imc_cli_bad(PROG, "no output folder: give -o DIR");
    else if (task >= 0 && (!o.tasks || task >= o.tasks))
        rc = imc_cli_bad(PROG, "--task K needs --tasks N with K < N");
    else if (slurm && task >= 0)
        rc = imc_cli_bad(PROG, "--slurm writes the script; --task is what its array tasks run");
    if (rc) {
        free(sbatch);
        return rc;
    }
    /* The runs at once share the cores: each run's BLAS gets its share of them. An idle
     * OpenBLAS thread spins (sched_yield) for a while after the library loads, even in a
     * timing-only run that never multiplies: bench256 on 2 cores at -j 2, 57.2 -> 51.7 s. */
    if (!slurm && !getenv("OPENBLAS_NUM_THREADS")) {
        char share[24];
        snprintf(share, sizeof share, "%ld", cpus > o.jobs ? cpus / o.jobs : 1);
        if (setenv("OPENBLAS_NUM_THREADS", share, 1)) {
            free(sbatch);
            return EXIT_FAILURE;
        }
    }
    imc_err err;
    imc_err_clear(&err);
    imc_sweep_spec *s;
    if (imc_sweep_spec_load(&s, argv[optind], &err) || imc_sweep_spec_check(s, &err)) {
        imc_sweep_spec_free(s);
        free(sbatch);
        return imc_cli_report(PROG, &err);
    }
    if (list) {
        list_points(s);
        imc_sweep_spec_free(s);
        free(sbatch);
        return 0;
    }
    char *self = self_path(argv[0]);
    const char *wanted;
    char *exe = find_imcsim(imcsim, self, &wanted);
    o.imcsim = exe;
    size_t runs = s->n_points * s->n_models;
    if (!o.tasks || task < 0) {
        if (slurm && !o.tasks)
            o.tasks = (int)(runs < 64 ? (runs ? runs : 1) : 64);
        else if (!slurm)
            o.tasks = 1;
    }
    o.task = task < 0 ? 0 : task;
    if (!exe) {
        rc = imc_cli_bad(PROG, "cannot run '%s' (not an executable; give --imcsim PATH or set "
                         "IMCSIM)", wanted);
    } else if (imc_sweep_prepare(s, &o, &err)) {
        rc = imc_cli_report(PROG, &err);
    } else if (slurm) {
        char script[PATH_MAX];
        snprintf(script, sizeof script, "%s/sweep.sbatch", o.outdir);
        if (imc_sweep_write_slurm(s, &o, self ? self : argv[0], script, sbatch, n_sbatch, &err))
            rc = imc_cli_report(PROG, &err);
        else
            printf("imcsim-sweep: wrote %s: %zu runs in %d array tasks; submit with\n"
                   "  sbatch %s\n", script, runs, o.tasks, script);
    } else {
        imc_sweep_summary sum;
        imc_cli_notify_state ns;
        imc_notifier notify = imc_cli_notifier(&ns, PROG, quiet);
        o.notify = &notify;
        if (imc_sweep_run(s, &o, &sum, &err)) {
            rc = imc_cli_report(PROG, &err);
        } else {
            fprintf(stderr,
                    "imcsim-sweep: %zu points x %zu models: ran %zu, %zu already done; %zu of %zu "
                    "runs finished, %zu failed; %s/results.csv\n",
                    s->n_points, s->n_models, sum.ran, sum.skipped, sum.finished, sum.total,
                    sum.failed, o.outdir);
            /* an array task that did its share succeeded: failed runs are results, and Slurm
             * should only see the task fail when the sweep itself did */
            rc = sum.failed && task < 0 ? EXIT_SOME_FAILED : 0;
        }
    }
    free(self);
    free(exe);
    imc_sweep_spec_free(s);
    free(sbatch);
    return rc;
}

/* Every exit, stdout checked (imc_cli_finish), and no temporary outlives a SIGINT. */
int main(int argc, char **argv)
{
    imc_outfile_on_signals();
    return imc_cli_finish(PROG, sweep_main(argc, argv));
}
