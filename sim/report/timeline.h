/* timeline.h -- the Chrome/Perfetto trace-event JSON of a run (ui.perfetto.dev).
 *
 * The engine knows nothing of JSON: it reports every resource an op takes through its on_slice
 * callback (engine.h), and this writer turns each into events: one process per run, one thread
 * (track) per resource instance, named after it ("tile 12 sfu", "blocks.0.mlp.fc1 copy 0
 * crossbars", "NoC link 5 E"); the service as a complete event ("X") named after the op, which
 * never overlaps another on its track; and the time the op queued for the resource, when it
 * did, as an async slice of its own (category "wait"), so queueing is visible apart from
 * service. */
#ifndef IMC_TIMELINE_H
#define IMC_TIMELINE_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/digest.h"
#include "sim/engine/engine.h"

typedef struct imc_timeline {
    FILE *out;
    const imc_flow *graph; /* of the run being written */
    int pid;                /* process id of the run */
    uint8_t *named;         /* [resource]: its thread is named in this process */
    size_t n_named;
    uint64_t waits;         /* ids of the async wait slices */
    int failed;             /* out of memory: thread names may be missing */
} imc_timeline;

/* Start the trace on OUT: the JSON object form {"otherData": {...}, "traceEvents": [...]},
 * whose otherData records PROV (the imcsim version and the inputs' digest) when given. */
void imc_timeline_begin(imc_timeline *t, FILE *out, const imc_provenance *prov);

/* Write the resources taken by a run of GRAPH as process PID: point the engine's on_slice at
 * imc_timeline_on_slice with T as its context. */
void imc_timeline_run(imc_timeline *t, const imc_flow *graph, int pid);
void imc_timeline_on_slice(void *t, const imc_slice *slice);

/* Name process PID LABEL; LAST closes the events and the object (call it for the last name). */
void imc_timeline_name(imc_timeline *t, int pid, const char *label, int last);

/* Free what the writer holds. */
void imc_timeline_end(imc_timeline *t);

#endif
