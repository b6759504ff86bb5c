/* simulate.c -- run the models of one command line and report (see simulate.h).
 *
 * Every output file is opened before the first simulation and committed only when all of them
 * succeeded, so a failure leaves no file behind. */
#include "sim/cmd/simulate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/flow/trace.h"
#include "sim/map/mapper.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"
#include "sim/base/outfile.h"
#include "sim/report/reference.h"
#include "sim/report/report.h"
#include "sim/report/timeline.h"
#include "sim/report/yaml2json.h"

typedef struct job {
    imc_netfile *file;
    imc_network *net;
    imc_placement *place;
    imc_flow *graph;
    imc_engine_result res;
    char label[160];
} job;

static int load_job(const imc_arch *arch, const char *model, const char *trace, job *j, imc_err *err)
{
    int rc;
    if (trace) {
        if ((rc = imc_trace_read(&j->graph, trace, err)) || (rc = imc_flow_network(j->graph, &j->net, err)))
            return rc;
    } else if ((rc = imc_netfile_open(&j->file, model, err)) ||
               (rc = imc_network_load(&j->net, j->file, err))) {
        return rc;
    }
    snprintf(j->label, sizeof j->label, "%s", j->net->name);
    return imc_mapper_place(&j->place, arch, j->net, err);
}

static int build_graph(const imc_arch *arch, job *j, int native, imc_err *err)
{
    if (j->graph)
        return 0;
    imc_dataflow_opts o = {.act_bits = arch->mapping.input_bits,
                           .query_tile = arch->mapping.query_tile,
                           .drop_mixer = native};
    return imc_dataflow_build(&j->graph, j->net, &o, err);
}

static void free_job(job *j)
{
    imc_engine_result_free(&j->res);
    imc_flow_free(j->graph);
    imc_placement_free(j->place);
    imc_network_free(j->net);
    imc_netfile_close(j->file);
}

static void mapping_csv(job *jobs, size_t n, FILE *fp)
{
    for (size_t i = 0; i < n; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (!mem)
            continue;
        imc_placement_csv(jobs[i].place, mem);
        fclose(mem);
        const char *body = i ? strchr(buf, '\n') : NULL; /* one header for all models */
        fputs(i ? (body ? body + 1 : "") : buf, fp);
        free(buf);
    }
}

typedef struct outputs {
    imc_outfile csv, stats, timeline, trace;
} outputs;

static int open_outputs(const imc_sim_request *rq, outputs *o, imc_err *err)
{
    memset(o, 0, sizeof *o);
    const char *paths[4] = {rq->csv, rq->stats, rq->timeline, rq->emit_trace};
    imc_outfile *files[4] = {&o->csv, &o->stats, &o->timeline, &o->trace};
    for (int i = 0; i < 4; i++)
        if (paths[i] && imc_outfile_open(files[i], paths[i], err))
            return IMC_EINPUT;
    return 0;
}

static void abort_outputs(outputs *o)
{
    imc_outfile_abort(&o->csv);
    imc_outfile_abort(&o->stats);
    imc_outfile_abort(&o->timeline);
    imc_outfile_abort(&o->trace);
}

static int commit_outputs(outputs *o, imc_err *err)
{
    imc_outfile *files[4] = {&o->csv, &o->stats, &o->timeline, &o->trace};
    for (int i = 0; i < 4; i++)
        if (files[i]->fp && imc_outfile_commit(files[i], err)) {
            abort_outputs(o);
            return IMC_EIO;
        }
    return 0;
}

/* The roofline of every run on every reference processor of the request, beside them. */
typedef struct references {
    imc_refproc **procs;
    imc_ref_result *res;
    imc_ref_table table; /* once they have run */
} references;

static int load_references(const imc_sim_request *rq, references *rf, imc_err *err)
{
    memset(rf, 0, sizeof *rf);
    if (!rq->n_references)
        return 0;
    if (!(rf->procs = calloc(rq->n_references, sizeof *rf->procs)))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < rq->n_references; i++) {
        int rc = imc_refproc_open(&rf->procs[i], rq->references[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

static int run_references(const imc_sim_request *rq, references *rf, const imc_run *runs, size_t n,
                          FILE *out, FILE *csv, imc_err *err)
{
    if (!rq->n_references)
        return 0;
    if (!(rf->res = calloc(rq->n_references * n, sizeof *rf->res)))
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t p = 0; p < rq->n_references; p++)
        for (size_t r = 0; r < n; r++) {
            int rc = imc_roofline_run(rf->procs[p], runs[r].graph, &rf->res[p * n + r], err);
            if (rc)
                return rc;
        }
    rf->table = (imc_ref_table){rf->procs, rq->n_references, runs, n, rf->res};
    imc_reference_summary(&rf->table, out);
    if (csv)
        imc_reference_csv(&rf->table, csv);
    return 0;
}

/* Is PATH's name FILE.json (any case)? */
static int ends_in_json(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && !strcasecmp(path + n - 5, ".json");
}

/* The stats (provenance, runs, reference processors) into FP: YAML, or JSON when the path is
 * FILE.json, translated from the same YAML so that the two never differ in content. */
static int write_stats(const imc_sim_request *rq, const imc_arch *arch, const imc_run *runs,
                       size_t n, const imc_ref_table *refs, FILE *fp, imc_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = ends_in_json(rq->stats) ? open_memstream(&buf, &len) : fp;
    if (!out)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    if (rq->prov)
        imc_provenance_yaml(out, rq->prov);
    imc_report_stats(arch, runs, n, rq->batch, out);
    imc_reference_stats(refs, out);
    if (out == fp)
        return 0;
    int rc = fclose(out) ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                         : imc_yaml_to_json(buf, len, rq->stats, fp, err);
    free(buf);
    return rc;
}

static void free_references(const imc_sim_request *rq, references *rf)
{
    for (size_t i = 0; rf->procs && i < rq->n_references; i++)
        imc_refproc_free(rf->procs[i]);
    free(rf->procs);
    free(rf->res);
}

/* RQ's provenance, once it is made (imc_sim_request.prov_ready). */
static int provenance_ready(const imc_sim_request *rq, imc_err *err)
{
    return rq->prov && rq->prov_ready ? rq->prov_ready(rq->prov_ctx, err) : 0;
}

int imc_simulate(const imc_arch *arch, const imc_sim_request *rq, FILE *out, imc_err *err)
{
    size_t n_models = rq->trace ? 1 : rq->n_models;
    size_t n = n_models + (rq->native && !rq->mapping_only ? 1 : 0);
    job *jobs = calloc(n ? n : 1, sizeof *jobs);
    imc_run *runs = calloc(n ? n : 1, sizeof *runs);
    outputs o = {0};
    int rc = !jobs || !runs ? imc_err_set(err, IMC_ENOMEM, "out of memory") : 0;
    references rf = {0};
    if (!rc)
        rc = load_references(rq, &rf, err);
    if (!rc)
        rc = open_outputs(rq, &o, err);
    imc_timeline tl = {0};
    if (!rc && o.timeline.fp && !(rc = provenance_ready(rq, err))) /* its events follow */
        imc_timeline_begin(&tl, o.timeline.fp, rq->prov);
    for (size_t i = 0; !rc && i < n_models; i++)
        rc = load_job(arch, rq->trace ? NULL : rq->models[i], rq->trace, &jobs[i], err);
    if (!rc && rq->mapping_only && !(rc = provenance_ready(rq, err))) {
        if (o.csv.fp && rq->prov)
            imc_provenance_csv(o.csv.fp, rq->prov);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputc('\n', out);
            imc_placement_print(jobs[i].place, out);
        }
        if (o.csv.fp)
            mapping_csv(jobs, n, o.csv.fp);
    } else if (!rc) {
        if (rq->native) { /* the first network, same placement, no token mixers */
            job *nj = &jobs[n - 1];
            nj->place = NULL;
            char base[140];
            snprintf(base, sizeof base, "%.139s", jobs[0].label);
            snprintf(nj->label, sizeof nj->label, "%s (native)", base);
            rc = build_graph(arch, &jobs[0], 0, err);
            imc_dataflow_opts no = {.act_bits = arch->mapping.input_bits,
                                    .query_tile = arch->mapping.query_tile, .drop_mixer = 1};
            if (!rc && jobs[0].net)
                rc = imc_dataflow_build(&nj->graph, jobs[0].net, &no, err);
        }
        for (size_t i = 0; !rc && i < n; i++) {
            job *j = &jobs[i];
            if ((rc = build_graph(arch, j, 0, err)))
                break;
            if (i == 0 && o.trace.fp && (rc = imc_trace_write(j->graph, o.trace.fp, err)))
                break;
            const imc_placement *place = j->place ? j->place : jobs[0].place;
            imc_engine_opts eo = {rq->kernel, rq->batch, rq->arrival_hz, NULL, NULL};
            if (o.timeline.fp) {
                imc_timeline_run(&tl, j->graph, (int)(i * 1000));
                eo.on_slice = imc_timeline_on_slice;
                eo.on_slice_ctx = &tl;
            }
            rc = imc_engine_run(arch, place, j->graph, &eo, &j->res, err);
            runs[i] = (imc_run){j->label, place, j->graph, &j->res};
        }
        if (!rc) /* nothing is written before the provenance is made */
            rc = provenance_ready(rq, err);
        if (!rc && o.csv.fp && rq->prov)
            imc_provenance_csv(o.csv.fp, rq->prov);
        if (!rc) {
            imc_report_summary(arch, runs, n, rq->batch, rq->all_components, out);
            for (size_t i = 0; o.csv.fp && i < n; i++)
                imc_ledger_csv(jobs[i].res.ledger, runs[i].label, o.csv.fp, i == 0);
            rc = run_references(rq, &rf, runs, n, out, o.csv.fp, err);
        }
        if (!rc && o.stats.fp)
            rc = write_stats(rq, arch, runs, n, &rf.table, o.stats.fp, err);
        if (!rc) {
            for (size_t i = 0; o.timeline.fp && i < n; i++) /* the last name closes it */
                imc_timeline_name(&tl, (int)(i * 1000), runs[i].label, i + 1 == n);
        }
    }
    imc_timeline_end(&tl);
    if (!rc && jobs)
        rc = commit_outputs(&o, err);
    else if (jobs && runs)
        abort_outputs(&o);
    free_references(rq, &rf);
    for (size_t i = 0; jobs && i < n; i++)
        free_job(&jobs[i]);
    free(jobs);
    free(runs);
    return rc;
}
