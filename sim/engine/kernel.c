/* kernel.c -- the shared event queue and the native backend (see kernel.h). */
#include "sim/engine/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sim/engine/kernel_shim.h"

typedef struct event {
    imc_tick tick;
    uint64_t seq;
    imc_event_fn fn;
    void *ctx;
    uint64_t arg;
} event;

struct imc_kernel {
    imc_kernel_backend backend;
    event *heap;
    size_t n, cap;
    uint64_t next_seq;
    imc_tick now;
    uint64_t dispatched;
    int status;     /* first failure */
    char msg[512];
    int schedule_oom;
};

static int before(const event *a, const event *b)
{
    return a->tick < b->tick || (a->tick == b->tick && a->seq < b->seq);
}

int imc_kernel_available(imc_kernel_backend backend)
{
#ifdef HAVE_SYSTEMC
    return backend == IMC_KERNEL_NATIVE || backend == IMC_KERNEL_SYSTEMC;
#else
    return backend == IMC_KERNEL_NATIVE;
#endif
}

const char *imc_kernel_backend_name(imc_kernel_backend backend)
{
    return backend == IMC_KERNEL_SYSTEMC ? "systemc" : "native";
}

int imc_kernel_backend_parse(const char *name)
{
    if (!strcmp(name, "native"))
        return IMC_KERNEL_NATIVE;
    if (!strcmp(name, "systemc"))
        return IMC_KERNEL_SYSTEMC;
    return -1;
}

int imc_kernel_new(imc_kernel **out, imc_kernel_backend backend, imc_err *err)
{
    *out = NULL;
    if (!imc_kernel_available(backend))
        return imc_err_set(err, IMC_EINPUT,
                           "the %s kernel is not built in (configure found no SystemC)",
                           imc_kernel_backend_name(backend));
    imc_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    k->backend = backend;
    *out = k;
    return 0;
}

void imc_kernel_free(imc_kernel *k)
{
    if (!k)
        return;
    free(k->heap);
    free(k);
}

int imc_kernel_schedule(imc_kernel *k, imc_tick at, imc_event_fn fn, void *ctx, uint64_t arg)
{
    if (at < k->now)
        return imc_kernel_fail(k, IMC_EINTERNAL, "an event was scheduled in the past");
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 1024;
        event *grown = realloc(k->heap, cap * sizeof *grown);
        if (!grown)
            return imc_kernel_fail(k, IMC_ENOMEM, "out of memory scheduling an event");
        k->heap = grown;
        k->cap = cap;
    }
    event e = {at, k->next_seq++, fn, ctx, arg};
    size_t i = k->n++;
    while (i > 0) { /* sift up */
        size_t parent = (i - 1) / 2;
        if (!before(&e, &k->heap[parent]))
            break;
        k->heap[i] = k->heap[parent];
        i = parent;
    }
    k->heap[i] = e;
    return 0;
}

static event pop(imc_kernel *k)
{
    event top = k->heap[0], last = k->heap[--k->n];
    size_t i = 0;
    for (;;) { /* sift down */
        size_t c = 2 * i + 1;
        if (c >= k->n)
            break;
        if (c + 1 < k->n && before(&k->heap[c + 1], &k->heap[c]))
            c++;
        if (!before(&k->heap[c], &last))
            break;
        k->heap[i] = k->heap[c];
        i = c;
    }
    if (k->n)
        k->heap[i] = last;
    return top;
}

int imc_kernel_fail(imc_kernel *k, int status, const char *msg)
{
    if (!k->status) {
        k->status = status ? status : IMC_EINTERNAL;
        snprintf(k->msg, sizeof k->msg, "%s", msg);
    }
    return k->status;
}

/* Shared by both backends: the tick of the next event, or UINT64_MAX when none is left. */
imc_tick imc_kernel_shim_next(imc_kernel *k)
{
    return k->n && !k->status ? k->heap[0].tick : UINT64_MAX;
}

/* Dispatch every event due at tick NOW (including those they schedule at NOW). */
int imc_kernel_shim_dispatch(imc_kernel *k, imc_tick now)
{
    k->now = now;
    while (k->n && !k->status && k->heap[0].tick == now) {
        event e = pop(k);
        k->dispatched++;
        int rc = e.fn(k, e.ctx, e.arg);
        if (rc)
            imc_kernel_fail(k, rc, "an event handler failed");
    }
    return k->status;
}

int imc_kernel_run(imc_kernel *k, imc_err *err)
{
    int rc = 0;
#ifdef HAVE_SYSTEMC
    if (k->backend == IMC_KERNEL_SYSTEMC) {
        char msg[512] = "";
        rc = imc_kernel_shim_run_systemc(k, msg, sizeof msg);
        if (rc && !k->status)
            imc_kernel_fail(k, rc, msg);
    } else
#endif
    {
        imc_tick t;
        while ((t = imc_kernel_shim_next(k)) != UINT64_MAX)
            if (imc_kernel_shim_dispatch(k, t))
                break;
    }
    if (k->status)
        return imc_err_set(err, k->status, "%s", k->msg);
    return rc;
}

uint64_t imc_kernel_systemc_time_ps(void)
{
#ifdef HAVE_SYSTEMC
    return imc_kernel_shim_systemc_time_ps();
#else
    return 0;
#endif
}

imc_tick imc_kernel_shim_now(imc_kernel *k)
{
    return k->now;
}

imc_tick imc_kernel_now(const imc_kernel *k)
{
    return k->now;
}

uint64_t imc_kernel_events(const imc_kernel *k)
{
    return k->dispatched;
}
