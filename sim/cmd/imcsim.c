/* imcsim.c -- the imcsim command line. The only place that prints errors and chooses exit
 * statuses: 0 success, 2 bad input or usage (one line on stderr), 1 an internal or I/O
 * failure. Everything else lives in the library (libimc.a). */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "sim/arch/arch.h"
#include "sim/arch/catalog.h"
#include "sim/cmd/cli.h"
#include "sim/report/hwreport.h"
#include "sim/numerics/numerics.h"
#include "sim/base/outfile.h"
#include "sim/cmd/simulate.h"

static const char usage[] =
    "usage: imcsim --arch FILE --model FILE... [options]\n"
    "       imcsim --arch FILE --trace FILE [options]\n"
    "       imcsim --arch FILE --hw-report [options]\n"
    "       imcsim --list-models | --describe MODEL | --list-keys | --help | --version\n"
    "\n"
    "imcsim simulates ReRAM in-memory-computing accelerators.\n"
    "\n"
    "architecture:\n"
    "  --arch FILE          architecture YAML (schema v1, see arch-configs/README.md). A bare\n"
    "                       name (no '/') is looked up in the current directory, then in\n"
    "                       $IMCSIM_DATADIR/arch-configs, the source tree's arch-configs and\n"
    "                       the installed ones (" IMC_DATADIR "/arch-configs)\n"
    "  --set PATH=VALUE     override one key of the architecture, e.g. --set chip.tiles=64 or\n"
    "                       --set chip.tile.pe.adc.bits=6; repeatable, applied in order, checked\n"
    "                       like the file. --set X.model=NAME switches a component's model;\n"
    "                       keys the new model lacks are dropped with a warning\n"
    "  --unset PATH         remove one key of the architecture, so its default applies\n"
    "                       (e.g. --unset chip.tile.pe.adc.energy), in order with --set\n"
    "  --dump-config FILE   write the fully resolved architecture (every default filled in) to\n"
    "                       FILE ('-' for stdout); loading it reproduces the run\n"
    "\n"
    "network:\n"
    "  --model FILE         a DeiT or FAR model file (safetensors, any extension; make one with\n"
    "                       imcsim-model gen); repeatable: several give one side-by-side table\n"
    "  --trace FILE         replay a dataflow trace (traces/README.md) instead of a model\n"
    "  --native             also simulate the first (DeiT or FAR) network with its token\n"
    "                       mixers removed: the MVM-only bound\n"
    "  --reference NAME     also run each network's ops on a reference processor (a roofline\n"
    "                       per kernel): a100, orin, xeon-core or a YAML file of one's own\n"
    "                       (arch-configs/references/README.md); repeatable\n"
    "\n"
    "simulation:\n"
    "  --kernel NAME        event kernel: native (default) or systemc; identical results\n"
    "  --batch N            N inferences, all in flight at once (default 1): the latency of\n"
    "                       the first, the makespan, and the steady-state interval measured\n"
    "                       over the middle half of the completions (throughput = 1 / it)\n"
    "  --arrival-rate R     with --batch N: an open stream, inference i arriving at i / R\n"
    "                       (R inferences per second): latency under load (mean, p95, max)\n"
    "\n"
    "reports:\n"
    "  (default)            with --model or --trace: latency, throughput, energy per inference\n"
    "                       by component and op, traffic per memory level, utilisation\n"
    "  --summary all        list every component in the summary's energy breakdown (by\n"
    "                       default the six largest and \"other\"); --summary top: the default\n"
    "  --mapping            instead: where each weight matrix sits (shape, crossbars, PEs,\n"
    "                       tiles, cell utilization) and chip totals\n"
    "  --stats FILE         every counter as YAML, or as JSON when FILE ends in .json\n"
    "  --timeline FILE      every op as Chrome/Perfetto trace-event JSON (ui.perfetto.dev)\n"
    "  --emit-trace FILE    write the (first) network's dataflow as a trace\n"
    "  --hw-report          count, area and peak power (and the leakage within it) of every\n"
    "                       component at every level (PE, tile, chip) and the peak throughput\n"
    "                       and efficiency\n"
    "  --csv FILE           also write the report as long-format CSV ('-' for stdout): the\n"
    "                       energy breakdown (model,layer,op,component,level,action,count,\n"
    "                       energy_pj), or with --mapping / --hw-report / --numerics theirs\n"
    "\n"
    "numerics (one --model):\n"
    "  --numerics           run the FP32 and the IMC forward pass (weights and inputs as mapped,\n"
    "                       the devices' non-idealities, the ADCs) and compare them: top-1\n"
    "                       accuracy (with labels), agreement, logit cosine, per-layer SQNR\n"
    "  --dataset PATH       images: an IDX directory or file (MNIST family, .gz too), or a\n"
    "                       safetensors file of images [N,C,H,W] and labels [N]; default:\n"
    "                       synthetic images\n"
    "  --images N           how many images (default: all of the dataset, 16 synthetic)\n"
    "  --seed S             seed of the devices' variation and faults and of synthetic images\n"
    "                       (default 1)\n"
    "  --logits FILE        write the FP32 and IMC logits (safetensors: fp32, imc, labels)\n"
    "  --threads N          BLAS threads and IMC emulation workers (default: the BLAS\n"
    "                       library's thread count); a seed draws the same at any N\n"
    "\n"
    "information:\n"
    "  --list-models        list the registered component models\n"
    "  --describe MODEL     parameters, actions and default costs of MODEL, e.g. adc/sar\n"
    "                       ('all': of every model)\n"
    "  --list-keys          every key of the architecture schema, tab-separated\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n"
    "\n"
    "Exit status: 0 on success, 2 on bad input (with one line FILE:LINE:COL: error: ... on\n"
    "stderr), 1 on an internal or I/O failure.\n";

enum {
    OPT_ARCH = 256,
    OPT_SET,
    OPT_UNSET,
    OPT_DUMP_CONFIG,
    OPT_HW_REPORT,
    OPT_CSV,
    OPT_LIST_MODELS,
    OPT_DESCRIBE,
    OPT_LIST_KEYS,
    OPT_MODEL,
    OPT_MAPPING,
    OPT_TRACE,
    OPT_NATIVE,
    OPT_KERNEL,
    OPT_BATCH,
    OPT_ARRIVAL,
    OPT_STATS,
    OPT_TIMELINE,
    OPT_EMIT_TRACE,
    OPT_NUMERICS,
    OPT_DATASET,
    OPT_IMAGES,
    OPT_SEED,
    OPT_LOGITS,
    OPT_THREADS,
    OPT_REFERENCE,
    OPT_SUMMARY,
};

static const struct option options[] = {
    {"arch", required_argument, NULL, OPT_ARCH},
    {"set", required_argument, NULL, OPT_SET},
    {"unset", required_argument, NULL, OPT_UNSET},
    {"dump-config", required_argument, NULL, OPT_DUMP_CONFIG},
    {"hw-report", no_argument, NULL, OPT_HW_REPORT},
    {"csv", required_argument, NULL, OPT_CSV},
    {"list-models", no_argument, NULL, OPT_LIST_MODELS},
    {"describe", required_argument, NULL, OPT_DESCRIBE},
    {"list-keys", no_argument, NULL, OPT_LIST_KEYS},
    {"model", required_argument, NULL, OPT_MODEL},
    {"mapping", no_argument, NULL, OPT_MAPPING},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"native", no_argument, NULL, OPT_NATIVE},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"arrival-rate", required_argument, NULL, OPT_ARRIVAL},
    {"stats", required_argument, NULL, OPT_STATS},
    {"timeline", required_argument, NULL, OPT_TIMELINE},
    {"emit-trace", required_argument, NULL, OPT_EMIT_TRACE},
    {"numerics", no_argument, NULL, OPT_NUMERICS},
    {"dataset", required_argument, NULL, OPT_DATASET},
    {"images", required_argument, NULL, OPT_IMAGES},
    {"seed", required_argument, NULL, OPT_SEED},
    {"logits", required_argument, NULL, OPT_LOGITS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct cli {
    const char *arch;
    const char **sets;
    size_t n_sets;
    const char *dump_config;
    int hw_report;
    const char *csv;
    int list_models, list_keys;
    const char *describe;
    const char **models;
    size_t n_models;
    const char **references;
    size_t n_references;
    int mapping;
    imc_sim_request sim;
    int numerics;
    imc_numerics_request num;
} cli;

static const char PROG[] = "imcsim";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "imcsim: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see imcsim --help)\n");
    va_end(ap);
    return IMC_EXIT_BAD_INPUT;
}

/* A whole number from MIN to MAX for option OPT, or a usage error. */
static int parse_count(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < min || v > max)
        return usage_error("%s: '%s' is not a whole number from %ld to %ld", opt, s, min, max);
    *out = v;
    return -1;
}

/* GSL must never abort the process: its errors are returned as status codes instead. */
static void gsl_quiet(const char *reason, const char *file, int line, int gsl_errno)
{
    (void)reason, (void)file, (void)line, (void)gsl_errno;
}

/* Write a report to PATH atomically through WRITE, after PROV as a comment line. */
static int write_output(const char *path, void (*write)(const void *, FILE *), const void *data,
                        const imc_provenance *prov, imc_err *err)
{
    imc_outfile of;
    int rc = imc_outfile_open(&of, path, err);
    if (rc)
        return rc;
    imc_provenance_csv(of.fp, prov); /* a '#' line: a comment in YAML and in CSV readers */
    write(data, of.fp);
    return imc_outfile_commit(&of, err);
}

static void write_dump(const void *arch, FILE *fp)
{
    imc_arch_dump(arch, fp);
}

static void write_hw_csv(const void *rep, FILE *fp)
{
    imc_hwreport_csv(rep, fp);
}

/* The inputs of this run, as its outputs record them: the resolved architecture (so an edited
 * base file or a --set shows, a moved one does not), every model, trace and dataset file by
 * content, and the options that change results. The files are hashed on a thread of their own,
 * started before the run (provenance_start) and joined where the provenance is first needed
 * (provenance_ready): a FAR-S model file is 95-200 MB, 0.08-0.17 s of SHA-256, as long as its
 * whole timing-only simulation, which the other core then hides. The same lines either way. */
typedef struct prov_item {
    const char *what, *path; /* a file to hash ("model", its path) */
    const char *builtin;     /* or a built-in reference processor, by name (no file) */
    char hex[65];
} prov_item;

typedef struct prov_job {
    const cli *o;
    const imc_arch *arch;
    imc_provenance *p;
    prov_item *items;
    size_t n;
    int rc;        /* the first failure (a file that could not be read), as ERR says */
    imc_err err;
    pthread_t tid;
    int started;   /* the thread runs (else the hashing ran at once) */
    int done;      /* provenance_ready ran */
} prov_job;

static void *hash_items(void *arg)
{
    prov_job *j = arg;
    for (size_t i = 0; !j->rc && i < j->n; i++)
        if (j->items[i].path)
            j->rc = imc_digest_path(j->items[i].path, j->items[i].hex, &j->err);
    return NULL;
}

/* Start hashing O's input files for the provenance of ARCH's run into P. */
static int provenance_start(prov_job *j, const cli *o, const imc_arch *arch, imc_provenance *p,
                            imc_err *err)
{
    *j = (prov_job){.o = o, .arch = arch, .p = p};
    imc_err_clear(&j->err);
    if (!(j->items = calloc(o->n_models + o->n_references + 2, sizeof *j->items)))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_models; i++)
        j->items[j->n++] = (prov_item){.what = "model", .path = o->models[i]};
    if (o->sim.trace)
        j->items[j->n++] = (prov_item){.what = "trace", .path = o->sim.trace};
    if (o->numerics && o->num.dataset)
        j->items[j->n++] = (prov_item){.what = "dataset", .path = o->num.dataset};
    for (size_t i = 0; i < o->n_references; i++) /* a built-in name, or a file */
        j->items[j->n++] = access(o->references[i], R_OK) == 0
                               ? (prov_item){.what = "reference", .path = o->references[i]}
                               : (prov_item){.builtin = o->references[i]};
    j->started = !pthread_create(&j->tid, NULL, hash_items, j);
    if (!j->started)
        hash_items(j);
    return 0;
}

/* Build J's provenance once its files are hashed (J's failure, if any, into ERR). */
static int provenance_build(prov_job *j)
{
    const cli *o = j->o;
    imc_provenance *p = j->p;
    imc_provenance_init(p, PACKAGE_VERSION);
    char *dump = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&dump, &len);
    if (!mem)
        return imc_err_set(&j->err, IMC_ENOMEM, "out of memory");
    imc_arch_dump(j->arch, mem);
    fclose(mem);
    const char *body = strchr(dump, '\n'); /* the first line names the file it came from */
    body = body ? body + 1 : dump;
    imc_provenance_text(p, "arch", body, len - (size_t)(body - dump));
    free(dump);
    for (size_t i = 0; i < j->n; i++)
        if (j->items[i].path)
            imc_provenance_hex(p, j->items[i].what, j->items[i].hex);
        else {
            char ref[160];
            snprintf(ref, sizeof ref, "reference=%.140s", j->items[i].builtin);
            imc_provenance_option(p, ref);
        }
    char opts[256];
    if (o->numerics)
        snprintf(opts, sizeof opts, "numerics images=%zu seed=%lu", o->num.images, o->num.seed);
    else
        snprintf(opts, sizeof opts, "batch=%d native=%d mapping=%d hw-report=%d",
                 o->sim.batch < 1 ? 1 : o->sim.batch, o->sim.native, o->mapping, o->hw_report);
    imc_provenance_option(p, opts);
    return imc_provenance_finish(p, &j->err);
}

/* The provenance, once the hashing is done: built by the first call; every call returns the
 * same status, and the same message in ERR when it failed. */
static int provenance_ready(void *arg, imc_err *err)
{
    prov_job *j = arg;
    if (!j->done) {
        j->done = 1;
        if (j->started)
            pthread_join(j->tid, NULL);
        j->started = 0;
        if (!j->rc)
            j->rc = provenance_build(j);
    }
    if (j->rc)
        *err = j->err;
    return j->rc;
}

/* Done with J: its thread joined whatever happened. */
static void provenance_end(prov_job *j)
{
    if (j->started)
        pthread_join(j->tid, NULL);
    free(j->items);
}

/* An output that is one of the inputs (or another output) would destroy it: refuse before
 * anything runs. */
static int refuse_clobbering(const cli *o, const imc_arch *arch, imc_err *err)
{
    imc_io_name out[] = {{"--dump-config", o->dump_config}, {"--csv", o->csv},
                         {"--stats", o->sim.stats},         {"--timeline", o->sim.timeline},
                         {"--emit-trace", o->sim.emit_trace}, {"--logits", o->num.logits}};
    size_t n_in = 0;
    imc_io_name *in = calloc(o->n_models + o->n_references + arch->n_sources + 2, sizeof *in);
    if (!in)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < arch->n_sources; i++) /* the file and the bases it builds on */
        in[n_in++] = (imc_io_name){"--arch", arch->sources[i]};
    for (size_t i = 0; i < o->n_models; i++)
        in[n_in++] = (imc_io_name){"--model", o->models[i]};
    for (size_t i = 0; i < o->n_references; i++) /* a name that is no file never clashes */
        in[n_in++] = (imc_io_name){"--reference", o->references[i]};
    if (o->sim.trace)
        in[n_in++] = (imc_io_name){"--trace", o->sim.trace};
    if (o->num.dataset)
        in[n_in++] = (imc_io_name){"--dataset", o->num.dataset};
    int rc = imc_outfile_check_distinct(out, sizeof out / sizeof out[0], in, n_in, err);
    free(in);
    return rc;
}

static int run(const cli *o)
{
    imc_err err;
    imc_err_clear(&err);
    if (o->list_models) {
        imc_catalog_list(stdout);
        return 0;
    }
    if (o->list_keys) {
        imc_arch_schema_print(stdout);
        return 0;
    }
    if (o->describe)
        return imc_catalog_describe(o->describe, stdout, &err) ? imc_cli_report(PROG, &err) : 0;
    if (!o->arch)
        return usage_error("no --arch FILE given");
    if (o->numerics) {
        if (o->n_models != 1 || o->sim.trace)
            return usage_error("--numerics needs exactly one --model FILE (a trace has no weights)");
        if (o->hw_report || o->mapping || o->sim.stats || o->sim.timeline || o->sim.emit_trace ||
            o->sim.native)
            return usage_error("--numerics is a report of its own: drop --hw-report, --mapping, "
                               "--stats, --timeline, --emit-trace and --native");
    } else if (o->num.dataset || o->num.logits || o->num.images || o->num.threads) {
        return usage_error("--dataset, --images, --logits and --threads need --numerics");
    }
    int network = o->n_models > 0 || o->sim.trace;
    if (o->n_models && o->sim.trace)
        return usage_error("give --model or --trace, not both");
    if (o->mapping && !network)
        return usage_error("--mapping needs a --model or --trace FILE");
    if (!o->hw_report && !network && !o->dump_config)
        return usage_error("nothing to do: give --model FILE, --trace FILE, --hw-report or "
                           "--dump-config FILE");
    if (o->csv && o->hw_report && network)
        return usage_error("--csv writes one report: --hw-report, or the run of --model, not both");
    if (!network && (o->sim.stats || o->sim.timeline || o->sim.emit_trace || o->sim.native))
        return usage_error("--stats, --timeline, --emit-trace and --native need a --model");
    if (o->n_references && (!network || o->mapping || o->numerics))
        return usage_error("--reference compares a simulation: it needs --model or --trace, "
                           "without --mapping or --numerics");

    char found[4096];
    const char *arch_path = imc_arch_find(o->arch, found, sizeof found);
    if (!strchr(o->arch, '/') && access(arch_path, F_OK) != 0) {
        char looked[2048];
        imc_arch_looked(looked, sizeof looked);
        imc_err_set(&err, IMC_EINPUT, "--arch %s: no such file (looked in %s)", o->arch, looked);
        return imc_cli_report(PROG, &err);
    }
    imc_arch *arch;
    if (imc_arch_load(&arch, arch_path, o->sets, o->n_sets, &err))
        return imc_cli_report(PROG, &err);
    if (refuse_clobbering(o, arch, &err)) { /* before anything is written */
        imc_arch_free(arch);
        return imc_cli_report(PROG, &err);
    }
    imc_cli_notify_state ns;
    imc_notifier notify = imc_cli_notifier(&ns, PROG, 0);
    for (size_t i = 0; i < arch->n_notes; i++)
        imc_notify(&notify, IMC_NOTE_WARNING, "%s", arch->notes[i]);
    imc_provenance prov = {0};
    prov_job pj = {0};
    int want = o->dump_config || o->csv || o->sim.stats || o->sim.timeline || o->num.logits;
    int rc = want ? provenance_start(&pj, o, arch, &prov, &err) : 0;
    /* a simulation reads it when it writes (imc_sim_request.prov_ready); the rest at once */
    if (!rc && want && (o->dump_config || o->hw_report || o->numerics || !network))
        rc = provenance_ready(&pj, &err);
    if (!rc && o->dump_config)
        rc = write_output(o->dump_config, write_dump, arch, &prov, &err);
    if (!rc && o->hw_report) {
        imc_hw_report rep;
        imc_hwreport_build(arch, &rep);
        if (o->csv && !network)
            rc = write_output(o->csv, write_hw_csv, &rep, &prov, &err);
        if (!rc)
            imc_hwreport_print(arch, &rep, stdout);
    }
    if (!rc && o->numerics) {
        imc_numerics_request nq = o->num;
        nq.model = o->models[0];
        nq.csv = o->csv;
        nq.notify = &notify;
        nq.prov = &prov;
        imc_numerics_result res;
        rc = imc_numerics_run(arch, &nq, stdout, &res, &err);
    } else if (!rc && network) {
        imc_sim_request rq = o->sim;
        rq.models = o->models;
        rq.n_models = o->n_models;
        rq.references = o->references;
        rq.n_references = o->n_references;
        rq.mapping_only = o->mapping;
        rq.csv = o->hw_report ? NULL : o->csv;
        rq.prov = want ? &prov : NULL;
        rq.prov_ready = want ? provenance_ready : NULL;
        rq.prov_ctx = &pj;
        if (rq.batch < 1)
            rq.batch = 1;
        rc = imc_simulate(arch, &rq, stdout, &err);
    }
    if (want)
        provenance_end(&pj);
    imc_provenance_free(&prov);
    imc_arch_free(arch);
    return rc ? imc_cli_report(PROG, &err) : 0;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler(gsl_quiet);
    imc_outfile_on_signals();
    cli o = {0};
    o.num.seed = 1;
    o.sets = calloc((size_t)argc, sizeof *o.sets);
    o.models = calloc((size_t)argc, sizeof *o.models);
    o.references = calloc((size_t)argc, sizeof *o.references);
    if (!o.sets || !o.models || !o.references) {
        free(o.sets);
        free(o.models);
        free(o.references);
        return EXIT_FAILURE;
    }
    int c, rc = -1;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
        switch (c) {
        case OPT_ARCH: o.arch = optarg; break;
        case OPT_SET:
            if (optarg[0] == '!') /* the loader's mark of an --unset */
                rc = imc_cli_bad(PROG, "--set: '%s' is not PATH=VALUE", optarg);
            o.sets[o.n_sets++] = optarg;
            break;
        case OPT_UNSET: { /* "!PATH" tells the loader to remove PATH */
            char *u = malloc(strlen(optarg) + 2);
            if (!u) {
                rc = EXIT_FAILURE;
                break;
            }
            u[0] = '!';
            strcpy(u + 1, optarg);
            o.sets[o.n_sets++] = u;
            break;
        }
        case OPT_DUMP_CONFIG: o.dump_config = optarg; break;
        case OPT_HW_REPORT: o.hw_report = 1; break;
        case OPT_CSV: o.csv = optarg; break;
        case OPT_LIST_MODELS: o.list_models = 1; break;
        case OPT_DESCRIBE: o.describe = optarg; break;
        case OPT_LIST_KEYS: o.list_keys = 1; break;
        case OPT_MODEL: o.models[o.n_models++] = optarg; break;
        case OPT_REFERENCE: o.references[o.n_references++] = optarg; break;
        case OPT_MAPPING: o.mapping = 1; break;
        case OPT_TRACE: o.sim.trace = optarg; break;
        case OPT_NATIVE: o.sim.native = 1; break;
        case OPT_SUMMARY:
            if (!strcmp(optarg, "all") || !strcmp(optarg, "top"))
                o.sim.all_components = !strcmp(optarg, "all");
            else
                rc = usage_error("--summary: '%s' is not all or top", optarg);
            break;
        case OPT_KERNEL: {
            int k = imc_kernel_backend_parse(optarg);
            if (k < 0)
                rc = usage_error("--kernel: '%s' is not native or systemc", optarg);
            else if (!imc_kernel_available((imc_kernel_backend)k))
                rc = usage_error("--kernel systemc: %s",
                                 imc_kernel_unavailable_why((imc_kernel_backend)k));
            else
                o.sim.kernel = (imc_kernel_backend)k;
            break;
        }
        case OPT_BATCH: {
            char *end;
            long b = strtol(optarg, &end, 10);
            if (end == optarg || *end || b < 1 || b > 100000)
                rc = usage_error("--batch: '%s' is not a number of inferences from 1 to 100000", optarg);
            o.sim.batch = (int)b;
            break;
        }
        case OPT_ARRIVAL: {
            char *end;
            double r = strtod(optarg, &end);
            if (end == optarg || *end || !(r > 0) || r > 1e12)
                rc = usage_error("--arrival-rate: '%s' is not a positive number of inferences per "
                                 "second", optarg);
            o.sim.arrival_hz = r;
            break;
        }
        case OPT_STATS: o.sim.stats = optarg; break;
        case OPT_TIMELINE: o.sim.timeline = optarg; break;
        case OPT_EMIT_TRACE: o.sim.emit_trace = optarg; break;
        case OPT_NUMERICS: o.numerics = 1; break;
        case OPT_DATASET: o.num.dataset = optarg; break;
        case OPT_LOGITS: o.num.logits = optarg; break;
        case OPT_IMAGES: {
            long v = 0;
            rc = parse_count("--images", optarg, 1, 100000000, &v);
            o.num.images = (size_t)v;
            break;
        }
        case OPT_SEED: {
            long v = 0;
            rc = parse_count("--seed", optarg, 0, 2147483647, &v);
            o.num.seed = (unsigned long)v;
            break;
        }
        case OPT_THREADS: {
            long v = 0;
            rc = parse_count("--threads", optarg, 1, 256, &v);
            o.num.threads = (int)v;
            break;
        }
        case 'h': fputs(usage, stdout); rc = 0; break;
        case 'V': printf("imcsim %s\n", PACKAGE_VERSION); rc = 0; break;
        case ':': rc = usage_error("option %s needs a value", argv[optind - 1]); break;
        default: rc = usage_error("unknown option '%s'", argv[optind - 1]); break;
        }
    }
    if (rc < 0 && optind < argc)
        rc = usage_error("unexpected argument '%s'", argv[optind]);
    if (rc < 0)
        rc = run(&o);
    for (size_t i = 0; i < o.n_sets; i++)
        if (o.sets[i][0] == '!')
            free((char *)o.sets[i]);
    free(o.sets);
    free(o.models);
    free(o.references);
    return imc_cli_finish(PROG, rc);
}
