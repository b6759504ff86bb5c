/* engine.h -- cycle-level replay of an op graph on a mapped architecture.
 *
 * Every resource keeps its own timeline on its own clock: each mapped layer's crossbar group
 * (reads in DAC-bit input slices, sample-and-hold, shared-ADC conversions and shift-add,
 * pipelined as in ISAAC), tile buffer ports, tile buses, the digital units, every directional
 * NoC link (mesh, XY routing), the global buffer, the MAC array and the DRAM channel. An op
 * starts when its dependencies' outputs have arrived and takes its resources for whole cycles;
 * contention delays it. Events go through the kernel (native or SystemC), so the order of
 * every decision is deterministic. Costs come from the component models through their typed
 * interfaces and are counted in a ledger. */
#ifndef IMC_ENGINE_H
#define IMC_ENGINE_H

#include <stdint.h>
#include <stdio.h>

#include "sim/arch/arch.h"
#include "sim/flow/dataflow.h"
#include "sim/engine/kernel.h"
#include "sim/engine/ledger.h"
#include "sim/map/mapper.h"

/* One op instance as it ran, for a timeline (sim/report/timeline.h). */
typedef struct imc_op_span {
    const imc_op *op;
    int inference;
    int64_t tile;          /* where it ran: the tile, or -1 for the chip-level units */
    uint64_t start_ps, end_ps;
} imc_op_span;

typedef struct imc_engine_opts {
    imc_kernel_backend kernel;
    int batch;             /* inferences in flight (>= 1) */
    /* if set: called once for every op instance when it ends, in the order they end */
    void (*on_op)(void *ctx, const imc_op_span *span);
    void *on_op_ctx;
} imc_engine_opts;

/* Where the ops of one ledger name (a layer or block part, e.g. "blocks.3.attn") ran in the
 * first inference. Ops of one name overlap (tokens are pipelined), so busy_ps can exceed
 * end_ps - start_ps. */
typedef struct imc_span {
    uint64_t start_ps;     /* the first op's start */
    uint64_t end_ps;       /* the last op's end */
    uint64_t busy_ps;      /* the sum of its ops' durations */
    uint64_t ops;          /* 0: the name has no op (never ran) */
} imc_span;

typedef struct imc_engine_result {
    uint64_t latency_ps;   /* of the first inference: from the input arriving at 0 to its last
                              op ending (the logits can leave earlier: the head reads only the
                              class token while the other tokens finish the last block) */
    uint64_t makespan_ps;  /* of the whole batch */
    double interval_ps;    /* steady-state time between inference completions */
    uint64_t events;       /* kernel events dispatched */
    uint64_t ops;          /* ops executed (all inferences) */
    double xbar_busy;      /* mean fraction of the run the mapped crossbar groups were busy */
    double mac_busy;       /* fraction the MAC array was busy */
    imc_ledger *ledger;    /* per inference; owned by the result */
    imc_span *spans;       /* [graph name]: when the first inference ran that name's ops;
                              owned by the result */
    size_t n_spans;
} imc_engine_result;

/* Run GRAPH (batch copies) on ARCH with placement P. */
int imc_engine_run(const imc_arch *arch, const imc_placement *p, const imc_graph *graph,
                   const imc_engine_opts *opts, imc_engine_result *res, imc_err *err);

void imc_engine_result_free(imc_engine_result *res);

#endif
