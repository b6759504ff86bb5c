/* timeline.c -- trace-event JSON from the engine's op reports (see timeline.h). */
#include "sim/report/timeline.h"

void imc_timeline_begin(imc_timeline *t, FILE *out)
{
    t->out = out;
    t->graph = NULL;
    t->pid = 0;
    fputs("[\n", out);
}

void imc_timeline_run(imc_timeline *t, const imc_graph *graph, int pid)
{
    t->graph = graph;
    t->pid = pid;
}

void imc_timeline_on_op(void *ctx, const imc_op_span *s)
{
    const imc_timeline *t = ctx;
    const imc_op *op = s->op;
    /* ts and dur in microseconds; one thread per tile (0: chip-level units) */
    fprintf(t->out,
            "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.6f,\"dur\":%.6f,"
            "\"pid\":%d,\"tid\":%lld,\"args\":{\"token\":%u,\"kind\":\"%s\"}},\n",
            t->graph->names[op->name], imc_op_class_name((imc_op_class)op->cls),
            (double)s->start_ps * 1e-6, (double)(s->end_ps - s->start_ps) * 1e-6,
            t->pid + s->inference, (long long)(s->tile + 1), op->token,
            imc_op_kind_name((imc_op_kind)op->kind));
}

void imc_timeline_name(imc_timeline *t, int pid, const char *label, int last)
{
    fprintf(t->out,
            "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":\"%s\"}}%s\n",
            pid, label, last ? "" : ",");
    if (last)
        fputs("]\n", t->out);
}
