/* sweep_run.h -- running a sweep: every (point, model) pair, a "run", is one or two imcsim
 * processes (the timing run, then --numerics when the spec asks), in parallel.
 *
 * Layout of the output folder DIR:
 *   DIR/manifest.txt          what defines the runs (a resumed sweep must match it)
 *   DIR/points/NNNN/LABEL/    one finished run: command.sh (reproduces it alone), arch.yaml
 *                             (--dump-config), stats.yaml, energy.csv, summary.txt,
 *                             numerics.csv/.txt, row.csv (its results row) or error.txt
 *   DIR/results.csv           every finished run's row, in point and model order
 * A run is written in a hidden temporary folder and renamed into place when complete; files
 * are replaced by rename; so a kill at any moment leaves only whole results, and the next
 * invocation runs exactly the runs that have no folder. */
#ifndef IMC_SWEEP_RUN_H
#define IMC_SWEEP_RUN_H

#include <stddef.h>

#include "sim/base/err.h"
#include "sim/base/notify.h"
#include "sim/sweep/spec.h"

typedef struct imc_sweep_opts {
    const char *outdir;
    const char *imcsim;   /* the imcsim executable */
    int jobs;             /* runs at once */
    int task, tasks;      /* run only runs r with r % tasks == task (Slurm array tasks) */
    int retry_failed;     /* run failed runs again */
    const imc_notifier *notify; /* a line per finished run, a worker's error; NULL: none */
} imc_sweep_opts;

typedef struct imc_sweep_summary {
    size_t runs;          /* runs of this task */
    size_t ran, skipped;  /* run now; already done before */
    size_t failed;        /* of all finished runs, failed ones */
    size_t finished;      /* runs of the whole sweep with a result (all tasks) */
    size_t total;         /* runs of the whole sweep */
} imc_sweep_summary;

/* Prepare DIR (create it, write or check manifest.txt, remove dead workers' temporaries). */
int imc_sweep_prepare(const imc_sweep_spec *s, const imc_sweep_opts *o, imc_err *err);

/* Run this task's missing runs, then write results.csv (under a lock, from all finished
 * runs). A failed imcsim run is a result (status "failed"), not an error; errors are the
 * sweep's own I/O failures. */
int imc_sweep_run(const imc_sweep_spec *s, const imc_sweep_opts *o, imc_sweep_summary *sum,
                  imc_err *err);

/* Write results.csv from the finished runs. */
int imc_sweep_collect(const imc_sweep_spec *s, const imc_sweep_opts *o, imc_sweep_summary *sum,
                      imc_err *err);

/* Write SCRIPT: an sbatch job array of O->tasks tasks, each running its share of the runs
 * with SWEEP (this program, absolute) and then collecting. SBATCH[0..n) are extra #SBATCH
 * lines. */
int imc_sweep_write_slurm(const imc_sweep_spec *s, const imc_sweep_opts *o, const char *sweep,
                          const char *script, const char *const *sbatch, size_t n_sbatch,
                          imc_err *err);

#endif
