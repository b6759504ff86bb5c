/* main.c -- the imcsim command line. The only place that prints errors and chooses exit
 * statuses: 0 success, 2 bad input or usage (one line on stderr), 1 an internal or I/O
 * failure. Everything else lives in the library (libimc.a). */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>

#include "sim/arch.h"
#include "sim/catalog.h"
#include "sim/hwreport.h"
#include "sim/mapper.h"
#include "sim/netfile.h"
#include "sim/network.h"
#include "sim/outfile.h"

#define EXIT_BAD_INPUT 2

static const char usage[] =
    "usage: imcsim --arch FILE --model FILE... [options]\n"
    "       imcsim --arch FILE --hw-report [options]\n"
    "       imcsim --list-models | --describe MODEL | --list-keys | --help | --version\n"
    "\n"
    "imcsim simulates ReRAM in-memory-computing accelerators.\n"
    "\n"
    "architecture:\n"
    "  --arch FILE          architecture YAML (schema v1, see arch-configs/README.md). A bare\n"
    "                       name (no '/') is looked up in the current directory, then in\n"
    "                       $IMCSIM_DATADIR/arch-configs, then in the installed arch-configs\n"
    "                       (" IMC_DATADIR "/arch-configs)\n"
    "  --set PATH=VALUE     override one key of the architecture, e.g. --set chip.tiles=64 or\n"
    "                       --set chip.tile.pe.adc.bits=6; repeatable, applied in order, checked\n"
    "                       like the file\n"
    "  --dump-config FILE   write the fully resolved architecture (every default filled in) to\n"
    "                       FILE ('-' for stdout); loading it reproduces the run\n"
    "\n"
    "network:\n"
    "  --model FILE         a DeiT or FAR model file (safetensors, any extension; make one with\n"
    "                       imcsim-model gen); repeatable\n"
    "\n"
    "reports:\n"
    "  --mapping            where each weight matrix of each model sits: shape, slices,\n"
    "                       crossbars, PEs, tiles, cell utilization, chip totals (the default\n"
    "                       report for --model)\n"
    "  --hw-report          count, area and peak power of every component at every level (PE,\n"
    "                       tile, chip) and the peak throughput and efficiency\n"
    "  --csv FILE           also write the report (--mapping or --hw-report, one of them) as\n"
    "                       long-format CSV ('-' for stdout)\n"
    "\n"
    "information:\n"
    "  --list-models        list the registered component models\n"
    "  --describe MODEL     parameters, actions and default costs of MODEL, e.g. adc/sar\n"
    "  --list-keys          every key of the architecture schema, tab-separated\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n"
    "\n"
    "Exit status: 0 on success, 2 on bad input (with one line FILE:LINE:COL: error: ... on\n"
    "stderr), 1 on an internal or I/O failure.\n";

enum {
    OPT_ARCH = 256,
    OPT_SET,
    OPT_DUMP_CONFIG,
    OPT_HW_REPORT,
    OPT_CSV,
    OPT_LIST_MODELS,
    OPT_DESCRIBE,
    OPT_LIST_KEYS,
    OPT_MODEL,
    OPT_MAPPING,
};

static const struct option options[] = {
    {"arch", required_argument, NULL, OPT_ARCH},
    {"set", required_argument, NULL, OPT_SET},
    {"dump-config", required_argument, NULL, OPT_DUMP_CONFIG},
    {"hw-report", no_argument, NULL, OPT_HW_REPORT},
    {"csv", required_argument, NULL, OPT_CSV},
    {"list-models", no_argument, NULL, OPT_LIST_MODELS},
    {"describe", required_argument, NULL, OPT_DESCRIBE},
    {"list-keys", no_argument, NULL, OPT_LIST_KEYS},
    {"model", required_argument, NULL, OPT_MODEL},
    {"mapping", no_argument, NULL, OPT_MAPPING},
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
    int mapping;
} cli;

static int report(const imc_err *err)
{
    char line[1024];
    imc_err_format(err, line, sizeof line);
    fprintf(stderr, "imcsim: %s\n", line);
    return err->status == IMC_EINPUT ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "imcsim: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see imcsim --help)\n");
    va_end(ap);
    return EXIT_BAD_INPUT;
}

/* GSL must never abort the process: its errors are returned as status codes instead. */
static void gsl_quiet(const char *reason, const char *file, int line, int gsl_errno)
{
    (void)reason, (void)file, (void)line, (void)gsl_errno;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolve --arch: a path is used as given; a bare name is searched for. */
static const char *find_arch(const char *name, char *buf, size_t size)
{
    if (strchr(name, '/') || is_file(name))
        return name;
    const char *env = getenv("IMCSIM_DATADIR");
    if (env && *env) {
        snprintf(buf, size, "%s/arch-configs/%s", env, name);
        if (is_file(buf))
            return buf;
    }
    snprintf(buf, size, "%s/arch-configs/%s", IMC_DATADIR, name);
    if (is_file(buf))
        return buf;
    return name; /* not found: loading reports it */
}

/* Write a report to PATH atomically through WRITE. */
static int write_output(const char *path, void (*write)(const void *, FILE *), const void *data,
                        imc_err *err)
{
    imc_outfile of;
    int rc = imc_outfile_open(&of, path, err);
    if (rc)
        return rc;
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

typedef struct loaded {
    imc_netfile *file;
    imc_network *net;
    imc_placement *place;
} loaded;

static void write_mapping_csv(const void *data, FILE *fp)
{
    const loaded *m = data;
    for (size_t i = 0; m[i].place; i++) {
        /* one header for all models: skip the header line of every model after the first */
        if (i == 0) {
            imc_placement_csv(m[i].place, fp);
            continue;
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (!mem)
            continue;
        imc_placement_csv(m[i].place, mem);
        fclose(mem);
        const char *body = strchr(buf, '\n');
        fputs(body ? body + 1 : "", fp);
        free(buf);
    }
}

/* Load every --model, map it, print its mapping (and the CSV of all of them). */
static int run_models(const cli *o, const imc_arch *arch, imc_err *err)
{
    loaded *m = calloc(o->n_models + 1, sizeof *m);
    if (!m)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < o->n_models && !rc; i++) {
        rc = imc_netfile_open(&m[i].file, o->models[i], err);
        if (!rc)
            rc = imc_network_load(&m[i].net, m[i].file, err);
        if (!rc)
            rc = imc_mapper_place(&m[i].place, arch, m[i].net, err);
    }
    if (!rc && o->csv)
        rc = write_output(o->csv, write_mapping_csv, m, err);
    for (size_t i = 0; i < o->n_models && !rc; i++) {
        if (i)
            fputc('\n', stdout);
        imc_placement_print(m[i].place, stdout);
    }
    for (size_t i = 0; i < o->n_models; i++) {
        imc_placement_free(m[i].place);
        imc_network_free(m[i].net);
        imc_netfile_close(m[i].file);
    }
    free(m);
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
        return imc_catalog_describe(o->describe, stdout, &err) ? report(&err) : 0;
    if (!o->arch)
        return usage_error("no --arch FILE given");
    int mapping = o->mapping || (o->n_models > 0 && !o->hw_report);
    if (mapping && o->n_models == 0)
        return usage_error("--mapping needs a --model FILE");
    if (!o->hw_report && !mapping && !o->dump_config)
        return usage_error("nothing to do: give --model FILE, --hw-report or --dump-config FILE");
    if (o->csv && o->hw_report && mapping)
        return usage_error("--csv writes one report: give --hw-report or --mapping, not both");

    char found[4096];
    imc_arch *arch;
    if (imc_arch_load(&arch, find_arch(o->arch, found, sizeof found), o->sets, o->n_sets, &err))
        return report(&err);
    int rc = 0;
    if (o->dump_config)
        rc = write_output(o->dump_config, write_dump, arch, &err);
    if (!rc && o->hw_report) {
        imc_hw_report rep;
        imc_hwreport_build(arch, &rep);
        if (o->csv)
            rc = write_output(o->csv, write_hw_csv, &rep, &err);
        if (!rc)
            imc_hwreport_print(arch, &rep, stdout);
    }
    if (!rc && mapping)
        rc = run_models(o, arch, &err);
    imc_arch_free(arch);
    return rc ? report(&err) : 0;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler(gsl_quiet);
    cli o = {0};
    o.sets = calloc((size_t)argc, sizeof *o.sets);
    o.models = calloc((size_t)argc, sizeof *o.models);
    if (!o.sets || !o.models) {
        free(o.sets);
        return EXIT_FAILURE;
    }
    int c, rc = -1;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
        switch (c) {
        case OPT_ARCH: o.arch = optarg; break;
        case OPT_SET: o.sets[o.n_sets++] = optarg; break;
        case OPT_DUMP_CONFIG: o.dump_config = optarg; break;
        case OPT_HW_REPORT: o.hw_report = 1; break;
        case OPT_CSV: o.csv = optarg; break;
        case OPT_LIST_MODELS: o.list_models = 1; break;
        case OPT_DESCRIBE: o.describe = optarg; break;
        case OPT_LIST_KEYS: o.list_keys = 1; break;
        case OPT_MODEL: o.models[o.n_models++] = optarg; break;
        case OPT_MAPPING: o.mapping = 1; break;
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
    free(o.sets);
    free(o.models);
    return rc;
}
