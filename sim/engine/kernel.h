/* kernel.h -- the discrete-event kernel: integer picosecond time, events dispatched in
 * (tick, sequence) order, so events at the same tick run first-scheduled first and every run is
 * deterministic.
 *
 * Two backends share one event queue (a binary heap for later ticks, a FIFO for the tick being
 * dispatched) and differ in who advances time: `native` drains the queue in a C loop; `systemc`
 * lets SystemC's scheduler advance simulated time (one timed sc_event notification per distinct
 * tick, sc_start) and runs the events due at each tick from a SystemC method, through the
 * C-callable shim in kernel_systemc.cc (a module loaded when first asked for: kernel_shim.h).
 * Because the order is the queue's in both, both give identical results (the native backend also
 * lets a handler take its own continuation at once when it would be the very next event:
 * imc_kernel_advance, the same order without the heap). SystemC can elaborate only once per
 * process, so the shim keeps one module for the process and each kernel counts time from where
 * SystemC stood when it started. */
#ifndef IMC_KERNEL_H
#define IMC_KERNEL_H

#include <stdint.h>

#include "sim/base/err.h"

typedef uint64_t imc_tick; /* picoseconds */

/* No event is scheduled at or past this tick (2^63 ps, 106 days of simulated time): a run that
 * would goes out with an error, long before a sum of ticks could wrap. */
#define IMC_KERNEL_HORIZON ((imc_tick)1 << 63)

typedef enum imc_kernel_backend { IMC_KERNEL_NATIVE, IMC_KERNEL_SYSTEMC } imc_kernel_backend;

typedef struct imc_kernel imc_kernel;

/* An event handler: called at its tick with the context and argument it was scheduled with.
 * It may schedule further events at now or later. A non-zero return stops the run with that
 * status (the handler fills the kernel's error via imc_kernel_fail). */
typedef int (*imc_event_fn)(imc_kernel *k, void *ctx, uint64_t arg);

/* Can BACKEND run? (systemc: when configure found SystemC and its module, kernel_shim.h,
 * loads; the first call for it loads it.) */
int imc_kernel_available(imc_kernel_backend backend);

/* Why BACKEND cannot run (one line), or NULL when it can. */
const char *imc_kernel_unavailable_why(imc_kernel_backend backend);

/* Name of a backend ("native", "systemc"); parse one (-1 when unknown). */
const char *imc_kernel_backend_name(imc_kernel_backend backend);
int imc_kernel_backend_parse(const char *name);

int imc_kernel_new(imc_kernel **out, imc_kernel_backend backend, imc_err *err);
void imc_kernel_free(imc_kernel *k);

/* Schedule FN(k, CTX, ARG) at absolute tick AT (>= now). */
int imc_kernel_schedule(imc_kernel *k, imc_tick at, imc_event_fn fn, void *ctx, uint64_t arg);

/* For a handler about to end by scheduling its own continuation at AT (> now): when that
 * event would be the next one dispatched -- none left to run at now, none in the queue at or
 * before AT -- time moves to AT at once, the continuation counts as a dispatched event, and
 * the result is 1: the handler goes on as that event would have (same order, same results,
 * without its trip through the heap). Otherwise 0: schedule it. Native backend only (under
 * SystemC, SystemC advances time: always 0). */
int imc_kernel_advance(imc_kernel *k, imc_tick at);

/* Run until no event is left. Returns 0, or the first failing handler's status (with ERR).
 * Events scheduled after it returns are run by the next call, from where time stood. */
int imc_kernel_run(imc_kernel *k, imc_err *err);

/* Current tick (the tick of the event being dispatched, or of the last one). */
imc_tick imc_kernel_now(const imc_kernel *k);

/* Events dispatched so far. */
uint64_t imc_kernel_events(const imc_kernel *k);

/* SystemC's own simulated time (sc_time_stamp) in ps; 0 without SystemC. Tests read it to prove
 * that the systemc backend really lets SystemC advance time: a kernel that dispatched its
 * queue in a C loop would leave it where it was. */
uint64_t imc_kernel_systemc_time_ps(void);

/* For handlers: record an error to be returned by imc_kernel_run; returns STATUS. */
int imc_kernel_fail(imc_kernel *k, int status, const char *msg);

#endif
