/* kernel.c -- the shared event queue and the native backend (see kernel.h). */
#include "sim/engine/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sim/engine/kernel_shim.h"

#ifdef HAVE_SYSTEMC
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>
#endif

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
    payload *now_q;     /* the FIFO of events at the tick being dispatched: a ring of a power
                           of two (indices masked, not divided) */
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

#ifdef HAVE_SYSTEMC
/* The SystemC module (kernel_shim.h), loaded once per process by the first run that asks for
 * it: its entry points, or why it could not be loaded. */
static struct {
    pthread_once_t once;
    imc_kernel_shim_run_fn *run;
    imc_kernel_shim_time_fn *time_ps;
    char why[1024];
} systemc = {PTHREAD_ONCE_INIT, NULL, NULL, ""};

/* Load the module at PATH: 1 when its entry points are found, else 0 with dlerror's words in
 * systemc.why. */
static int systemc_open(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        systemc.run = (imc_kernel_shim_run_fn *)dlsym(h, IMC_KERNEL_SHIM_RUN);
        systemc.time_ps = (imc_kernel_shim_time_fn *)dlsym(h, IMC_KERNEL_SHIM_TIME);
        if (systemc.run && systemc.time_ps)
            return 1;
        systemc.run = NULL, systemc.time_ps = NULL;
    }
    const char *e = dlerror();
    snprintf(systemc.why, sizeof systemc.why, "%s", e ? e : path);
    if (h)
        dlclose(h);
    return 0;
}

/* The module beside the running program (the build tree), in the package's library directory
 * (an installed imcsim), or in $IMCSIM_BUILDDIR (the tests, run from subdirectories). */
static void systemc_load(void)
{
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/%s", exe, IMC_KERNEL_SHIM_MODULE);
            if (access(path, F_OK) == 0 && systemc_open(path))
                return;
        }
    }
    snprintf(path, sizeof path, "%s/%s", IMC_PKGLIBDIR, IMC_KERNEL_SHIM_MODULE);
    if (access(path, F_OK) == 0 && systemc_open(path))
        return;
    const char *build = getenv("IMCSIM_BUILDDIR");
    if (build && *build) {
        snprintf(path, sizeof path, "%s/%s", build, IMC_KERNEL_SHIM_MODULE);
        if (access(path, F_OK) == 0 && systemc_open(path))
            return;
    }
    if (!systemc.why[0])
        snprintf(systemc.why, sizeof systemc.why, "%s not found beside the program or in %s",
                 IMC_KERNEL_SHIM_MODULE, IMC_PKGLIBDIR);
}
#endif

int imc_kernel_available(imc_kernel_backend backend)
{
    if (backend == IMC_KERNEL_NATIVE)
        return 1;
#ifdef HAVE_SYSTEMC
    pthread_once(&systemc.once, systemc_load);
    return backend == IMC_KERNEL_SYSTEMC && systemc.run;
#else
    return 0;
#endif
}

const char *imc_kernel_unavailable_why(imc_kernel_backend backend)
{
    if (imc_kernel_available(backend))
        return NULL;
#ifdef HAVE_SYSTEMC
    static char msg[sizeof systemc.why + 64];
    snprintf(msg, sizeof msg, "the systemc kernel's module cannot be loaded: %s", systemc.why);
    return msg;
#else
    return "the systemc kernel is not built in (configure found no SystemC)";
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
        return imc_err_set(err, IMC_EINPUT, "%s", imc_kernel_unavailable_why(backend));
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
            grown[i] = k->now_q[(k->q_head + i) & (k->q_cap - 1)];
        free(k->now_q);
        k->now_q = grown;
        k->q_head = 0;
        k->q_cap = cap;
    }
    k->now_q[(k->q_head + k->q_n++) & (k->q_cap - 1)] = p;
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

/* The heap's first event, taken out (its slot freed). The hole it leaves goes down to a leaf
 * along the earlier children, one comparison a level, and the heap's last key moves up into it
 * from there: it came from the bottom and seldom rises far (Floyd's order of the sift; a
 * third fewer of the kernel's instructions than comparing it with the children on the way
 * down, callgrind). */
static payload pop(imc_kernel *k)
{
    key top = k->heap[0], last = k->heap[--k->n];
    size_t i = 0, n = k->n;
    if (n) {
        for (size_t c; (c = 2 * i + 1) < n; i = c) {
            if (c + 1 < n && before(&k->heap[c + 1], &k->heap[c]))
                c++;
            k->heap[i] = k->heap[c];
        }
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            if (!before(&last, &k->heap[parent]))
                break;
            k->heap[i] = k->heap[parent];
            i = parent;
        }
        k->heap[i] = last;
    }
    uint32_t slot = (uint32_t)(top.order & (MAX_SLOTS - 1));
    k->free[k->n_free++] = slot;
    return k->slots[slot];
}

int imc_kernel_advance(imc_kernel *k, imc_tick at)
{
    if (k->backend != IMC_KERNEL_NATIVE || k->status || at <= k->now || k->q_n ||
        (k->n && k->heap[0].tick <= at) || at >= IMC_KERNEL_HORIZON)
        return 0;
    k->now = at;
    k->dispatched++;
    return 1;
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
static imc_tick shim_next(imc_kernel *k)
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
static int shim_dispatch(imc_kernel *k, imc_tick now)
{
    k->now = now;
    while (k->n && !k->status && k->heap[0].tick == now)
        run_event(k, pop(k));
    while (k->q_n && !k->status) {
        payload p = k->now_q[k->q_head];
        k->q_head = (k->q_head + 1) & (k->q_cap - 1);
        k->q_n--;
        run_event(k, p);
    }
    return k->status;
}

#ifdef HAVE_SYSTEMC
static imc_tick shim_now(imc_kernel *k)
{
    return k->now;
}
#endif

int imc_kernel_run(imc_kernel *k, imc_err *err)
{
    int rc = 0;
#ifdef HAVE_SYSTEMC
    if (k->backend == IMC_KERNEL_SYSTEMC) {
        char msg[512] = "";
        static const imc_kernel_shim_ops ops = {shim_next, shim_dispatch, shim_now};
        rc = systemc.run(k, &ops, msg, sizeof msg);
        if (rc && !k->status)
            imc_kernel_fail(k, rc, msg);
    } else
#endif
    {
        imc_tick t;
        while ((t = shim_next(k)) != UINT64_MAX)
            if (shim_dispatch(k, t))
                break;
    }
    if (k->status)
        return imc_err_set(err, k->status, "%s", k->msg);
    return rc;
}

uint64_t imc_kernel_systemc_time_ps(void)
{
#ifdef HAVE_SYSTEMC
    return imc_kernel_available(IMC_KERNEL_SYSTEMC) ? systemc.time_ps() : 0;
#else
    return 0;
#endif
}

imc_tick imc_kernel_now(const imc_kernel *k)
{
    return k->now;
}

uint64_t imc_kernel_events(const imc_kernel *k)
{
    return k->dispatched;
}
