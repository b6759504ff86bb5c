/* reference.h -- the runs of one command line on reference processors (imcsim --reference):
 * each run's op graph through the roofline of sim/ref, beside the chip's figures, in the
 * summary, the energy CSV and the stats. The chip's report is report.h's; this only adds the
 * rows a researcher compares it with. */
#ifndef IMC_REFERENCE_H
#define IMC_REFERENCE_H

#include <stdio.h>

#include "sim/ref/roofline.h"
#include "sim/report/report.h"

/* The roofline of every run on every processor: res[p * n_runs + r]. */
typedef struct imc_ref_table {
    imc_refproc *const *procs;
    size_t n_procs;
    const imc_run *runs;
    size_t n_runs;
    const imc_ref_result *res;
} imc_ref_table;

/* The summary's section: per processor, each run's latency and energy and their ratio to the
 * chip's (x/chip > 1: the processor takes longer or spends more). */
void imc_reference_summary(const imc_ref_table *t, FILE *out);

/* Energy CSV rows in imc_ledger_csv's columns: model "LABEL on NAME", component
 * "reference.NAME", level
 * "reference", one row per op class with its kernels as the count, action "busy" (the
 * processor's power over the class's time; the rows sum to the busy-power energy). */
void imc_reference_csv(const imc_ref_table *t, FILE *out);

/* The stats YAML's `references:` section (after report.h's runs): per processor its name, doc
 * and file, and per run the summary's figures in SI units (latency_s, energy_busy_j,
 * energy_flops_dram_j, flops, dram_bits, kernels, launch_bound_kernels, the ratios to the
 * chip's) and the time, FLOPs and kernels of each op class. Nothing when T has no processor. */
void imc_reference_stats(const imc_ref_table *t, FILE *out);

#endif
