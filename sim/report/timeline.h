/* timeline.h -- the Chrome/Perfetto trace-event JSON of a run (ui.perfetto.dev).
 *
 * The engine knows nothing of JSON: it reports every finished op through its on_op callback
 * (engine.h), and this writer turns each report into one complete ("X") event: one process
 * per run and inference, one thread per tile (0: the chip-level units). Reads only what the
 * engine hands it and the graph's names. */
#ifndef IMC_TIMELINE_H
#define IMC_TIMELINE_H

#include <stdio.h>

#include "sim/engine/engine.h"

typedef struct imc_timeline {
    FILE *out;
    const imc_graph *graph; /* of the run being written */
    int pid;                /* process id of the run's first inference */
} imc_timeline;

/* Start the JSON array on OUT. */
void imc_timeline_begin(imc_timeline *t, FILE *out);

/* Write the ops of a run of GRAPH as processes PID, PID + 1, ...: point the engine's on_op at
 * imc_timeline_on_op with T as its context. */
void imc_timeline_run(imc_timeline *t, const imc_graph *graph, int pid);
void imc_timeline_on_op(void *t, const imc_op_span *span);

/* Name process PID LABEL; LAST closes the array (call it for the last name). */
void imc_timeline_name(imc_timeline *t, int pid, const char *label, int last);

#endif
