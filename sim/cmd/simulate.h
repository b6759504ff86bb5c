/* simulate.h -- one imcsim job from the command line: load each model (or a trace), map it,
 * build its op graph, replay it on the engine, and write the reports. Owns the order of the
 * steps and the output files (written atomically); imcsim.c only parses options. */
#ifndef IMC_SIMULATE_H
#define IMC_SIMULATE_H

#include <stdio.h>

#include "sim/base/digest.h"
#include "sim/arch/arch.h"
#include "sim/engine/engine.h"

typedef struct imc_sim_request {
    const char *const *models; /* model files */
    size_t n_models;
    const char *trace;         /* a trace to replay instead of models, or NULL */
    int mapping_only;          /* print the mappings, do not simulate */
    int native;                /* add the first network without its token mixers */
    int all_components;        /* the summary lists every component, not six and "other" */
    imc_kernel_backend kernel;
    int batch;
    double arrival_hz;         /* > 0: an open stream of `batch` inferences at this rate */
    const char *csv;           /* mapping CSV (mapping_only) or energy CSV */
    const char *stats;         /* stats YAML */
    const char *timeline;      /* Perfetto / Chrome trace-event JSON */
    const char *emit_trace;    /* write the (first) op graph as a trace */
    const char *const *references; /* reference processors (names or YAML files) to compare */
    size_t n_references;
    const imc_provenance *prov; /* recorded in the CSV, stats and timeline; NULL: none */
    /* Non-NULL: PROV is made while the run works (its input files hashed on another thread);
     * called before PROV is first read, it returns once PROV is made, nonzero with ERR set
     * when it could not be (then nothing is written). */
    int (*prov_ready)(void *ctx, imc_err *err);
    void *prov_ctx;
} imc_sim_request;

int imc_simulate(const imc_arch *arch, const imc_sim_request *rq, FILE *out, imc_err *err);

#endif
