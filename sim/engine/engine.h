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

/* One resource serving one op instance, for a timeline (sim/report/timeline.h): the op asked
 * for the resource at REQUEST_PS, waited until START_PS (queueing) and was served until
 * END_PS. Slices of one resource never overlap. */
typedef struct imc_slice {
    const imc_op *op;
    int inference;
    uint32_t resource;     /* an index: one track per resource */
    const char *label;     /* the resource, e.g. "tile 12 sfu" (valid during the run) */
    imc_comp comp;         /* the component it is */
    uint64_t request_ps, start_ps, end_ps;
} imc_slice;

typedef struct imc_engine_opts {
    imc_kernel_backend kernel;
    int batch;             /* inferences (>= 1) */
    double arrival_hz;     /* > 0: inference i arrives at i / arrival_hz (an open stream);
                              0: all at once (a closed batch) */
    /* if set: called for every resource an op takes, as it takes it */
    void (*on_slice)(void *ctx, const imc_slice *slice);
    void *on_slice_ctx;
} imc_engine_opts;

/* Where the ops of one ledger name (a layer or block part, e.g. "blocks.3.attn") ran in the
 * first inference. Ops of one name overlap (tokens are pipelined), so busy_ps can exceed
 * end_ps - start_ps. */
typedef struct imc_span {
    uint64_t start_ps;     /* the first op's start */
    uint64_t end_ps;       /* the last op's end */
    uint64_t busy_ps;      /* the service its ops received, queueing left out */
    uint64_t ops;          /* 0: the name has no op (never ran) */
} imc_span;

/* One resource class's part of the critical path: service (and the digital function, on an
 * SFU or vector unit) and queueing, in ps. */
typedef struct imc_path_share {
    imc_comp comp;
    int func;              /* IMC_DIGITAL_* on digital units, else -1 */
    double service_ps, wait_ps;
} imc_path_share;

typedef struct imc_engine_result {
    uint64_t latency_ps;   /* of the first inference: from its input arriving to its last op
                              ending (the logits can leave earlier: the head reads only the
                              class token while the other tokens finish the last block) */
    uint64_t makespan_ps;  /* of the whole batch, from 0 */
    double interval_ps;    /* steady-state time between completions: over the middle half of
                              the batch (the latency for one inference) */
    double arrival_hz;     /* the open stream's rate, 0 for a closed batch */
    double load_latency_mean_ps, load_latency_p95_ps, load_latency_max_ps; /* open stream */
    /* what bounds the result */
    imc_path_share *path;  /* the first inference's critical path by resource class, largest
                              first; owned by the result */
    size_t n_path;
    double path_held_ps;   /* of which ops waited for room in a full buffer */
    double buffer_overcommit_bits; /* the most a tile buffer held beyond its capacity: when
                              every op waits for room (a deadlock), the oldest waiting output
                              is let in, as a spill would; 0 when that never happened */
    char bottleneck[96];   /* the resource busiest per inference: it bounds throughput */
    imc_comp bottleneck_comp;
    double bottleneck_busy_ps; /* its service per inference */
    double util[IMC_COMP_COUNT];  /* service / (instances x makespan), per component class */
    double queue_ps[IMC_COMP_COUNT]; /* queueing per inference, per component class */
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
int imc_engine_run(const imc_arch *arch, const imc_placement *p, const imc_flow *graph,
                   const imc_engine_opts *opts, imc_engine_result *res, imc_err *err);

void imc_engine_result_free(imc_engine_result *res);

#endif
