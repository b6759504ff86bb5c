/* kernel.c -- the shared event queue and the native backend (see kernel.h). */
#include "sim/engine/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sim/engine/kernel_shim.h"

/* What an event does: FN(k, CTX, ARG). */
typedef struct payload {
    imc_event_fn fn;
    void *ctx;
    uint64_t arg;
} payload;

/* The queue keeps events at later ticks in a binary heap of 16-byte keys, ordered by (tick,
 * order); order is the event's sequence number over SLOT_BITS and the slot of its payload
 * under them, so comparing orders compares sequence numbers. Events scheduled at the tick being
 * dispatched (about a fifth of them) skip the heap: a FIFO runs them after the heap's events of
 * that tick, which were all scheduled before it (so the (tick, sequence) order holds). */
#define SLOT_BITS 24
#define MAX_SLOTS ((size_t)1 << SLOT_BITS)  /* events pending at once in the heap */
#define MAX_SEQ ((uint64_t)1 << (64 - SLOT_BITS)) /* events through the heap in one kernel */

typedef struct key {
    imc_tick tick;
    uint64_t order; /* sequence << SLOT_BITS | payload slot */
} key;

struct imc_kernel {
    imc_kernel_backend backend;
    key *heap;
    size_t n, cap;
    payload *slots;     /* the heap's payloads; cap of them */
    uint32_t *free;     /* free slots, a stack */
    size_t n_free;
    payload *now_q;     /* the FIFO of events at the tick being dispatched: a ring */
    size_t q_head, q_n, q_cap;
    uint64_t next_seq;
    imc_tick now;
    uint64_t dispatched;
    int status;     /* first failure */
    char msg[512];
};

static int before(const key *a, const key *b)
{
    /* (tick, order) compared as one 128-bit number: no branch to mispredict (a heap's
     * comparisons go either way at random; 6 % faster than two compares, measured) */
    return ((unsigned __int128)a->tick << 64 | a->order) <
           ((unsigned __int128)b->tick << 64 | b->order);
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
    free(k->slots);
    free(k->free);
    free(k->now_q);
    free(k);
}

static int schedule_now(imc_kernel *k, payload p)
{
    if (k->q_n == k->q_cap) {
        size_t cap = k->q_cap ? 2 * k->q_cap : 256;
        payload *grown = malloc(cap * sizeof *grown);
        if (!grown)
            return imc_kernel_fail(k, IMC_ENOMEM, "out of memory scheduling an event");
        for (size_t i = 0; i < k->q_n; i++) /* unwrap the ring */
            grown[i] = k->now_q[(k->q_head + i) % k->q_cap];
        free(k->now_q);
        k->now_q = grown;
        k->q_head = 0;
        k->q_cap = cap;
    }
    k->now_q[(k->q_head + k->q_n++) % k->q_cap] = p;
    return 0;
}

int imc_kernel_schedule(imc_kernel *k, imc_tick at, imc_event_fn fn, void *ctx, uint64_t arg)
{
    if (at < k->now)
        return imc_kernel_fail(k, IMC_EINTERNAL, "an event was scheduled in the past");
    if (at >= IMC_KERNEL_HORIZON) /* before any sum of ticks could wrap */
        return imc_kernel_fail(k, IMC_EINPUT, "simulated time would pass 2^63 ps (106 days): "
                                              "sizes or rates out of range");
    payload p = {fn, ctx, arg};
    if (at == k->now)
        return schedule_now(k, p);
    if (k->n == k->cap) {
        if (k->cap == MAX_SLOTS)
            return imc_kernel_fail(k, IMC_EINPUT, "more than 16,777,216 events pending at once");
        size_t cap = k->cap ? 2 * k->cap : 1024;
        key *heap = realloc(k->heap, cap * sizeof *heap);
        if (heap)
            k->heap = heap;
        payload *slots = heap ? realloc(k->slots, cap * sizeof *slots) : NULL;
        if (slots)
            k->slots = slots;
        uint32_t *fr = slots ? realloc(k->free, cap * sizeof *fr) : NULL;
        if (!fr)
            return imc_kernel_fail(k, IMC_ENOMEM, "out of memory scheduling an event");
        k->free = fr;
        for (size_t s = cap; s-- > k->cap;) /* the new slots, lowest on top */
            k->free[k->n_free++] = (uint32_t)s;
        k->cap = cap;
    }
    if (k->next_seq == MAX_SEQ)
        return imc_kernel_fail(k, IMC_EINPUT, "more than 2^40 events through one kernel");
    uint32_t slot = k->free[--k->n_free];
    k->slots[slot] = p;
    key e = {at, k->next_seq++ << SLOT_BITS | slot};
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

/* The heap's first event, taken out (its slot freed). */
static payload pop(imc_kernel *k)
{
    key top = k->heap[0], last = k->heap[--k->n];
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
    uint32_t slot = (uint32_t)(top.order & (MAX_SLOTS - 1));
    k->free[k->n_free++] = slot;
    return k->slots[slot];
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
    if (k->status)
        return UINT64_MAX;
    return k->q_n ? k->now : k->n ? k->heap[0].tick : UINT64_MAX;
}

static void run_event(imc_kernel *k, payload p)
{
    k->dispatched++;
    int rc = p.fn(k, p.ctx, p.arg);
    if (rc)
        imc_kernel_fail(k, rc, "an event handler failed");
}

/* Dispatch every event due at tick NOW (including those they schedule at NOW): the heap's,
 * scheduled before NOW came, then the FIFO's, scheduled at NOW. */
int imc_kernel_shim_dispatch(imc_kernel *k, imc_tick now)
{
    k->now = now;
    while (k->n && !k->status && k->heap[0].tick == now)
        run_event(k, pop(k));
    while (k->q_n && !k->status) {
        payload p = k->now_q[k->q_head];
        k->q_head = (k->q_head + 1) % k->q_cap;
        k->q_n--;
        run_event(k, p);
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
