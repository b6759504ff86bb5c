/* bounds.c -- what bounded a run (see engine_impl.h): the critical path of the first inference
 * by resource class, the resource that bounds throughput, and utilisation per class.
 *
 * The critical path starts at the first inference's last op and walks back: through each op's
 * stages (each stage's time is its queueing for one resource plus its service), then to the
 * input that arrived last (the gap between that input's producer ending and its arrival is the
 * transfer, on the NoC or from a store), and so on to the input image. Time an op spent waiting
 * for room in a full buffer is reported as the path's back-pressure. The busiest resource per
 * inference bounds the steady-state throughput of a stream of inferences. */
#include "sim/engine/engine_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct acc {
    double service[IMC_COMP_COUNT][IMC_DIGITAL_N_ACTIONS + 1]; /* [comp][func + 1] */
    double wait[IMC_COMP_COUNT][IMC_DIGITAL_N_ACTIONS + 1];
} acc;

static void add(acc *a, imc_comp comp, int func, double service, double wait)
{
    int f = func >= 0 && func < IMC_DIGITAL_N_ACTIONS ? func + 1 : 0;
    a->service[comp][f] += service;
    a->wait[comp][f] += wait;
}

int imc_engine_bounds(engine *e, imc_engine_result *res)
{
    const imc_flow *g = e->g;
    acc *a = calloc(1, sizeof *a);
    if (!a)
        return IMC_ENOMEM;

    /* the last op of the first inference */
    uint32_t op = UINT32_MAX;
    uint64_t last = 0;
    for (size_t i = 0; i < g->n_ops; i++)
        if (e->rec[i].end_ps >= last) {
            last = e->rec[i].end_ps;
            op = (uint32_t)i;
        }
    double held = 0;
    for (size_t steps = 0; op != UINT32_MAX && steps <= g->n_ops; steps++) {
        const op_record *r = &e->rec[op];
        for (uint32_t k = 0; k < r->n_segs; k++) {
            const segment *s = &e->segs[r->first_seg + k];
            imc_comp c = s->res < e->n_res ? e->res[s->res].comp : IMC_COMP_NOC;
            add(a, c, s->func == 0xff ? -1 : s->func, (double)s->service_ps, (double)s->wait_ps);
        }
        held += (double)r->held_ps;
        if (r->crit_pred == UINT32_MAX)
            break;
        const op_record *p = &e->rec[r->crit_pred];
        /* the input's way here: on the NoC, or read from a store */
        if (r->arrive_ps > p->end_ps)
            add(a, IMC_COMP_NOC, -1, (double)(r->arrive_ps - p->end_ps), 0);
        op = r->crit_pred;
    }
    size_t n = 0;
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        for (int f = 0; f <= IMC_DIGITAL_N_ACTIONS; f++)
            n += a->service[c][f] + a->wait[c][f] > 0;
    res->path = calloc(n ? n : 1, sizeof *res->path);
    if (!res->path) {
        free(a);
        return IMC_ENOMEM;
    }
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        for (int f = 0; f <= IMC_DIGITAL_N_ACTIONS; f++) {
            double t = a->service[c][f] + a->wait[c][f];
            if (t <= 0)
                continue;
            size_t j = res->n_path++;
            for (; j > 0 && res->path[j - 1].service_ps + res->path[j - 1].wait_ps < t; j--)
                res->path[j] = res->path[j - 1];
            res->path[j] = (imc_path_share){(imc_comp)c, f - 1, a->service[c][f], a->wait[c][f]};
        }
    res->path_held_ps = held;
    free(a);

    /* throughput: the busiest resource per inference; utilisation and queueing per class */
    double busy[IMC_COMP_COUNT] = {0}, count[IMC_COMP_COUNT] = {0};
    uint32_t top = NO_RES;
    for (size_t r = 0; r < e->n_res; r++) {
        const resource *x = &e->res[r];
        busy[x->comp] += (double)x->busy_ps;
        res->queue_ps[x->comp] += (double)x->wait_ps / e->batch;
        count[x->comp] += 1;
        if (x->busy_ps && (top == NO_RES || x->busy_ps > e->res[top].busy_ps))
            top = (uint32_t)r;
    }
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        res->util[c] = count[c] && e->last_done ? busy[c] / (count[c] * (double)e->last_done) : 0;
    if (top != NO_RES) {
        snprintf(res->bottleneck, sizeof res->bottleneck, "%s", imc_engine_res_label(e, top));
        res->bottleneck_comp = e->res[top].comp;
        res->bottleneck_busy_ps = (double)e->res[top].busy_ps / e->batch;
    }
    return 0;
}
