/* timeline.c -- trace-event JSON from the engine's resource slices (see timeline.h). Names come
 * from files (a trace, a model's metadata) and are escaped: any name gives JSON that parses. */
#include "sim/report/timeline.h"

#include <stdlib.h>
#include <string.h>

#include "sim/base/outfile.h"

void imc_timeline_begin(imc_timeline *t, FILE *out, const imc_provenance *prov)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{", out);
    if (prov)
        fprintf(out, "\"imcsim\":\"%s\",\"inputs_sha256\":\"%s\"", prov->version, prov->digest);
    fputs("},\n\"traceEvents\":[\n", out);
}

void imc_timeline_run(imc_timeline *t, const imc_flow *graph, int pid)
{
    t->graph = graph;
    t->pid = pid;
    if (t->named)
        memset(t->named, 0, t->n_named);
}

void imc_timeline_on_slice(void *ctx, const imc_slice *s)
{
    imc_timeline *t = ctx;
    uint32_t tid = s->resource + 1; /* 0 is not a thread Perfetto shows */
    if (s->resource >= t->n_named) { /* a resource seen for the first time: room for its name */
        size_t n = t->n_named ? t->n_named : 64;
        while (n <= s->resource)
            n *= 2;
        uint8_t *grown = realloc(t->named, n);
        if (grown) {
            memset(grown + t->n_named, 0, n - t->n_named);
            t->named = grown;
            t->n_named = n;
        } else {
            t->failed = 1;
        }
    }
    if (s->resource < t->n_named && !t->named[s->resource]) {
        t->named[s->resource] = 1;
        fprintf(t->out, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%u,\"args\":{\"name\":\"",
                t->pid, tid);
        imc_json_text(t->out, s->label);
        fputs("\"}},\n", t->out);
    }
    const imc_op *op = s->op;
    const char *name = t->graph->names[op->name];
    /* ts and dur in microseconds */
    if (s->end_ps > s->start_ps) {
        fputs("{\"name\":\"", t->out);
        imc_json_text(t->out, name);
        fprintf(t->out,
                "\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.6f,\"dur\":%.6f,\"pid\":%d,\"tid\":%u,"
                "\"args\":{\"inference\":%d,\"token\":%u,\"head\":%d,\"kind\":\"%s\"}},\n",
                imc_op_class_name((imc_op_class)op->cls), (double)s->start_ps * 1e-6,
                (double)(s->end_ps - s->start_ps) * 1e-6, t->pid, tid, s->inference, op->token,
                (int)op->head, imc_op_kind_name((imc_op_kind)op->kind));
    }
    if (s->start_ps > s->request_ps) { /* queued: an async slice of its own */
        uint64_t id = ++t->waits;
        for (int e = 0; e < 2; e++) {
            fputs("{\"name\":\"waits for ", t->out);
            imc_json_text(t->out, s->label);
            fprintf(t->out, "\",\"cat\":\"wait\",\"ph\":\"%c\",\"id\":%llu,\"ts\":%.6f,\"pid\":%d,"
                            "\"tid\":%u,\"args\":{\"op\":\"",
                    e ? 'e' : 'b', (unsigned long long)id,
                    (double)(e ? s->start_ps : s->request_ps) * 1e-6, t->pid, tid);
            imc_json_text(t->out, name);
            fprintf(t->out, "\",\"inference\":%d,\"token\":%u}},\n", s->inference, op->token);
        }
    }
}

void imc_timeline_name(imc_timeline *t, int pid, const char *label, int last)
{
    fprintf(t->out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":\"", pid);
    imc_json_text(t->out, label);
    fprintf(t->out, "\"}}%s\n", last ? "" : ",");
    if (last)
        fputs("]}\n", t->out);
}

void imc_timeline_end(imc_timeline *t)
{
    free(t->named);
    t->named = NULL;
    t->n_named = 0;
}
