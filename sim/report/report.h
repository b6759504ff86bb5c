/* report.h -- what a simulation run prints and writes, read only from engine results and
 * their ledgers: the summary on stdout (one model, or several side by side with ratios to the
 * first), and the stats YAML of every counter. (The energy CSV is imc_ledger_csv; the
 * timeline is timeline.h's.) */
#ifndef IMC_REPORT_H
#define IMC_REPORT_H

#include <stdio.h>

#include "sim/arch/arch.h"
#include "sim/engine/engine.h"
#include "sim/map/mapper.h"

typedef struct imc_run {
    const char *label;            /* the model name, or "NAME (native)" */
    const imc_placement *place;
    const imc_flow *graph;
    const imc_engine_result *res;
} imc_run;

/* The summary of N runs on ARCH: for one run, latency (cycles of the digital clock and us),
 * inferences/s, energy per inference with the top components (every component when
 * ALL_COMPONENTS, else six and "other"), traffic per memory level and utilisation; for
 * several, one table with a column per run and ratios to the first. */
void imc_report_summary(const imc_arch *arch, const imc_run *runs, size_t n, int batch,
                        int all_components, FILE *out);

/* Every counter of every run as YAML (units in the key names). */
void imc_report_stats(const imc_arch *arch, const imc_run *runs, size_t n, int batch, FILE *out);

#endif
