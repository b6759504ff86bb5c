/* test_kernel.c -- the event kernel: (tick, sequence) order with same-tick FIFO, events
 * scheduled from handlers, a handler's continuation taken at once (imc_kernel_advance) in the
 * same order, errors, and byte-identical dispatch logs on the native and SystemC backends (the
 * latter when built). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine/kernel.h"

#include <CUnit/CUnit.h>

#include "tests/unit/require.h"

typedef struct log {
    imc_tick tick[4096];
    uint64_t id[4096];
    size_t n;
    uint64_t next_id;
    uint32_t rng;
    int advance;       /* continuations through imc_kernel_advance where it allows */
    size_t advanced;   /* how many it allowed */
} log_t;

static uint32_t next_rand(log_t *l)
{
    l->rng = l->rng * 1664525u + 1013904223u; /* a fixed LCG: the same workload on both */
    return l->rng >> 8;
}

/* Each event logs itself and, while the budget lasts, schedules 0-2 more (some at the same
 * tick: FIFO must hold; some later), then maybe a continuation of itself, later, as its last
 * act: as a new event, or (l->advance) at once where imc_kernel_advance allows, which must
 * give the same log. */
static int handler(imc_kernel *k, void *ctx, uint64_t id)
{
    log_t *l = ctx;
    for (;;) {
        if (l->n < 4096) {
            l->tick[l->n] = imc_kernel_now(k);
            l->id[l->n++] = id;
        }
        int children = (int)(next_rand(l) % 3);
        for (int c = 0; c < children && l->next_id < 3000; c++) {
            imc_tick delay = next_rand(l) % 4 == 0 ? 0 : next_rand(l) % 5000;
            if (imc_kernel_schedule(k, imc_kernel_now(k) + delay, handler, l, l->next_id++))
                return IMC_EINTERNAL;
        }
        if (l->next_id >= 3000 || next_rand(l) % 2)
            return 0;
        /* soon: often before every queued event, sometimes on one's tick or past it */
        imc_tick at = imc_kernel_now(k) + 1 + next_rand(l) % 16;
        id = l->next_id++;
        if (!l->advance || !imc_kernel_advance(k, at))
            return imc_kernel_schedule(k, at, handler, l, id);
        l->advanced++;
    }
}

static void run_workload(imc_kernel_backend backend, log_t *l, int advance)
{
    memset(l, 0, sizeof *l);
    l->rng = 12345;
    l->advance = advance;
    imc_kernel *k;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, backend, &err), 0);
    for (int i = 0; i < 50; i++)
        CU_ASSERT_EQUAL(imc_kernel_schedule(k, (imc_tick)(next_rand(l) % 1000) * 7, handler, l,
                                            l->next_id++), 0);
    CU_ASSERT_EQUAL(imc_kernel_run(k, &err), 0);
    CU_ASSERT_EQUAL(imc_kernel_events(k), l->next_id);
    CU_ASSERT_EQUAL(imc_kernel_now(k), l->tick[l->n - 1]);
    imc_kernel_free(k);
}

static int nothing(imc_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)ctx, (void)arg;
    return 0;
}

static void test_order(void)
{
    static log_t l;
    run_workload(IMC_KERNEL_NATIVE, &l, 0);
    CU_ASSERT(l.n > 1000);
    for (size_t i = 1; i < l.n; i++) {
        CU_ASSERT(l.tick[i] >= l.tick[i - 1]);
        /* ids grow with scheduling order: same tick means first scheduled first */
        if (l.tick[i] == l.tick[i - 1])
            CU_ASSERT(l.id[i] > l.id[i - 1]);
    }
}

/* Continuations taken at once where imc_kernel_advance allows run in the order, at the ticks
 * and in the number they would have as events. Fails when it lets one through with an event
 * queued at its tick (checked by hand: `<=` made `<`), or ahead of one at now. */
static void test_advance_keeps_order(void)
{
    static log_t scheduled, advanced;
    run_workload(IMC_KERNEL_NATIVE, &scheduled, 0);
    run_workload(IMC_KERNEL_NATIVE, &advanced, 1);
    CU_ASSERT(advanced.advanced > 100); /* the path was taken, and refused too: */
    CU_ASSERT(advanced.advanced < advanced.n / 2);
    CU_ASSERT_EQUAL(scheduled.advanced, 0);
    CU_ASSERT_EQUAL(advanced.n, scheduled.n);
    CU_ASSERT_EQUAL(memcmp(advanced.tick, scheduled.tick, sizeof advanced.tick), 0);
    CU_ASSERT_EQUAL(memcmp(advanced.id, scheduled.id, sizeof advanced.id), 0);

    /* refused: at or before now, with an event due at now, or one queued at or before AT */
    imc_kernel *k;
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, IMC_KERNEL_NATIVE, &err), 0);
    CU_ASSERT_EQUAL(imc_kernel_advance(k, 0), 0);
    CU_ASSERT_EQUAL(imc_kernel_schedule(k, 0, nothing, NULL, 0), 0);
    CU_ASSERT_EQUAL(imc_kernel_advance(k, 5), 0); /* one due at now */
    CU_ASSERT_EQUAL(imc_kernel_run(k, &err), 0);
    CU_ASSERT_EQUAL(imc_kernel_schedule(k, 10, nothing, NULL, 0), 0);
    CU_ASSERT_EQUAL(imc_kernel_advance(k, 10), 0);
    CU_ASSERT_EQUAL(imc_kernel_advance(k, 11), 0);
    CU_ASSERT_EQUAL(imc_kernel_advance(k, 9), 1);
    CU_ASSERT_EQUAL(imc_kernel_now(k), 9);
    CU_ASSERT_EQUAL(imc_kernel_events(k), 2);
    CU_ASSERT_EQUAL(imc_kernel_advance(k, IMC_KERNEL_HORIZON), 0);
    imc_kernel_free(k);
}

static int same_tick_child(imc_kernel *k, void *ctx, uint64_t id)
{
    log_t *l = ctx;
    l->id[l->n++] = id;
    if (id == 1) /* scheduled now, after event 2 which was already queued for now */
        return imc_kernel_schedule(k, imc_kernel_now(k), same_tick_child, l, 3);
    return 0;
}

static void test_same_tick_fifo(void)
{
    static log_t l;
    memset(&l, 0, sizeof l);
    imc_kernel *k;
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, IMC_KERNEL_NATIVE, &err), 0);
    imc_kernel_schedule(k, 100, same_tick_child, &l, 1);
    imc_kernel_schedule(k, 100, same_tick_child, &l, 2);
    imc_kernel_schedule(k, 50, same_tick_child, &l, 0);
    CU_ASSERT_EQUAL(imc_kernel_run(k, &err), 0);
    CU_ASSERT_EQUAL(l.n, 4);
    uint64_t want[] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(l.id[i], want[i]);
    imc_kernel_free(k);
}

static int failing(imc_kernel *k, void *ctx, uint64_t arg)
{
    (void)ctx, (void)arg;
    return imc_kernel_fail(k, IMC_EINPUT, "handler says no");
}

static int in_the_past(imc_kernel *k, void *ctx, uint64_t arg)
{
    (void)ctx, (void)arg;
    return imc_kernel_schedule(k, imc_kernel_now(k) - 1, failing, NULL, 0);
}

static void test_errors(void)
{
    for (int b = 0; b < 2; b++) {
        if (!imc_kernel_available((imc_kernel_backend)b))
            continue;
        imc_kernel *k;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, (imc_kernel_backend)b, &err), 0);
        imc_kernel_schedule(k, 10, failing, NULL, 0);
        imc_kernel_schedule(k, 20, failing, NULL, 0);
        CU_ASSERT_EQUAL(imc_kernel_run(k, &err), IMC_EINPUT);
        CU_ASSERT_STRING_EQUAL(err.msg, "handler says no");
        CU_ASSERT_EQUAL(imc_kernel_events(k), 1); /* stopped at the first failure */
        imc_kernel_free(k);

        CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, (imc_kernel_backend)b, &err), 0);
        imc_kernel_schedule(k, 10, in_the_past, NULL, 0);
        CU_ASSERT_EQUAL(imc_kernel_run(k, &err), IMC_EINTERNAL);
        CU_ASSERT_STRING_EQUAL(err.msg, "an event was scheduled in the past");
        imc_kernel_free(k);

        /* the horizon: the last tick before 2^63 ps is fine, 2^63 is refused */
        CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, (imc_kernel_backend)b, &err), 0);
        CU_ASSERT_EQUAL(imc_kernel_schedule(k, IMC_KERNEL_HORIZON - 1, failing, NULL, 0), 0);
        CU_ASSERT_EQUAL(imc_kernel_schedule(k, IMC_KERNEL_HORIZON, failing, NULL, 0), IMC_EINPUT);
        CU_ASSERT_EQUAL(imc_kernel_run(k, &err), IMC_EINPUT);
        CU_ASSERT_STRING_EQUAL(err.msg, "simulated time would pass 2^63 ps (106 days): sizes or "
                                        "rates out of range");
        imc_kernel_free(k);
    }
}

static void test_backends_identical(void)
{
    static log_t native, sysc;
    if (!imc_kernel_available(IMC_KERNEL_SYSTEMC)) {
        IMC_UNAVAILABLE("the SystemC backend is not built");
        imc_kernel *k;
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_kernel_new(&k, IMC_KERNEL_SYSTEMC, &err), IMC_EINPUT);
        CU_ASSERT_STRING_EQUAL(err.msg, "the systemc kernel is not built in (configure found no SystemC)");
        return;
    }
    run_workload(IMC_KERNEL_NATIVE, &native, 1);
    run_workload(IMC_KERNEL_SYSTEMC, &sysc, 1);
    CU_ASSERT_EQUAL(sysc.advanced, 0); /* SystemC advances time itself */
    CU_ASSERT_EQUAL(native.n, sysc.n);
    CU_ASSERT_EQUAL(memcmp(native.tick, sysc.tick, sizeof native.tick), 0);
    CU_ASSERT_EQUAL(memcmp(native.id, sysc.id, sizeof native.id), 0);
    /* A second SystemC kernel in the same process starts at tick 0 again. */
    run_workload(IMC_KERNEL_SYSTEMC, &sysc, 1);
    CU_ASSERT_EQUAL(memcmp(native.tick, sysc.tick, sizeof native.tick), 0);
}

/* The SystemC backend lets SystemC advance time: at every dispatch SystemC's clock stands at
 * the run's start plus the event's tick, and after the run it has moved by the last tick. A
 * backend that ran the queue in a C loop (SystemC bypassed) fails here, though its dispatch
 * order would match. */
typedef struct seen {
    uint64_t start_ps;
    int n, wrong;
} seen;

static int check_systemc_time(imc_kernel *k, void *ctx, uint64_t arg)
{
    seen *s = ctx;
    s->n++;
    s->wrong += imc_kernel_systemc_time_ps() != s->start_ps + imc_kernel_now(k);
    return arg ? imc_kernel_schedule(k, imc_kernel_now(k) + arg, check_systemc_time, s, arg - 1)
               : 0;
}

static void test_systemc_advances_time(void)
{
    if (!imc_kernel_available(IMC_KERNEL_SYSTEMC)) {
        IMC_UNAVAILABLE("the SystemC backend is not built");
        return;
    }
    imc_kernel *k;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_kernel_new(&k, IMC_KERNEL_SYSTEMC, &err), 0);
    seen s = {imc_kernel_systemc_time_ps(), 0, 0};
    CU_ASSERT_EQUAL(imc_kernel_schedule(k, 1000, check_systemc_time, &s, 3), 0);
    CU_ASSERT_EQUAL(imc_kernel_schedule(k, 250, check_systemc_time, &s, 0), 0);
    CU_ASSERT_EQUAL_FATAL(imc_kernel_run(k, &err), 0);
    CU_ASSERT_EQUAL(s.n, 5);
    CU_ASSERT_EQUAL(s.wrong, 0);
    /* ticks 250, 1000, 1003, 1005, 1006 */
    CU_ASSERT_EQUAL(imc_kernel_now(k), 1006);
    CU_ASSERT_EQUAL(imc_kernel_systemc_time_ps() - s.start_ps, 1006);
    imc_kernel_free(k);
}

static CU_TestInfo tests[] = {
    {"(tick, sequence) order", test_order},
    {"same-tick FIFO incl. events scheduled now", test_same_tick_fifo},
    {"continuations taken at once keep the order", test_advance_keeps_order},
    {"handler errors and scheduling in the past", test_errors},
    {"native and SystemC dispatch identically", test_backends_identical},
    {"SystemC advances time itself", test_systemc_advances_time},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "kernel"
#include "tests/unit/cunit_main.h"
