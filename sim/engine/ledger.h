/* ledger.h -- the one account of a simulation: how many times each action of each component
 * ran, for which layer and op class, plus bits moved per memory level and simulated time.
 *
 * Only counts are stored. Energy is always count x the component's per-action energy
 * (leakage: instances x leakage power x simulated time), computed when read, so every report
 * that sums the ledger (summary, CSV, stats) gives exactly the same total. Reports read only
 * the ledger; the engine only adds to it. */
#ifndef IMC_LEDGER_H
#define IMC_LEDGER_H

#include <stdint.h>
#include <stdio.h>

#include "sim/arch/arch.h"
#include "sim/base/err.h"

/* Memory levels whose traffic is reported. */
typedef enum imc_mem_level {
    IMC_MEM_XBAR_WRITE,   /* bits programmed into crossbars */
    IMC_MEM_PE_BUFFERS,   /* PE input and output registers */
    IMC_MEM_TILE_BUFFER,
    IMC_MEM_GLOBAL_BUFFER,
    IMC_MEM_NOC,          /* bits injected into the network */
    IMC_MEM_DRAM,
    IMC_MEM_COUNT
} imc_mem_level;

typedef struct imc_ledger imc_ledger;

typedef struct imc_ledger_row {
    const char *layer;     /* ledger name */
    int op_class;          /* imc_op_class */
    imc_comp comp;
    unsigned action;       /* the component kind's action, or IMC_LEDGER_LEAKAGE */
    double count;
    double energy_pj;
} imc_ledger_row;

#define IMC_LEDGER_LEAKAGE 0xffffu

/* A ledger over ARCH; NAMES (N_NAMES) are the layer names rows refer to (the array is copied,
 * the strings are borrowed and must outlive the ledger). */
imc_ledger *imc_ledger_new(const imc_arch *arch, const char *const *names, size_t n_names);
void imc_ledger_free(imc_ledger *l);

/* Add COUNT actions of COMP for layer NAME (an index into names) and op class CLS. */
int imc_ledger_add(imc_ledger *l, uint32_t name, int cls, imc_comp comp, unsigned action,
                   double count);

/* A call site's remembered row, for the engine's hottest charges (a crossbar read's thirteen):
 * imc_ledger_add_memo looks its key up once, then adds to PENDING for as long as the site's NAME
 * and CLS stay those remembered (its COMP and ACTION never change), and hands the sum to the row
 * when they change or imc_ledger_memo_flush is called, which must come before the ledger is
 * read. Only for whole-number counts: their sums are exact in any order, so the ledger holds
 * what imc_ledger_add would have given. The row itself is made at the first charge, keeping
 * the rows' order. Zero-initialise; ROW is the row's index + 1. */
typedef struct imc_ledger_memo {
    uint32_t name;
    int cls;
    uint32_t row;
    double pending;
} imc_ledger_memo;

/* imc_ledger_add_memo's slow path: another key (or the first). */
int imc_ledger_memo_switch(imc_ledger *l, imc_ledger_memo *m, uint32_t name, int cls,
                           imc_comp comp, unsigned action, double count);

static inline int imc_ledger_add_memo(imc_ledger *l, imc_ledger_memo *m, uint32_t name, int cls,
                                      imc_comp comp, unsigned action, double count)
{
    if (m->row && m->name == name && m->cls == cls) {
        m->pending += count;
        return 0;
    }
    return imc_ledger_memo_switch(l, m, name, cls, comp, action, count);
}

/* Hand M's pending sum to its row. */
void imc_ledger_memo_flush(imc_ledger *l, imc_ledger_memo *m);

/* Add BITS of traffic at memory level LEVEL. */
void imc_ledger_traffic(imc_ledger *l, imc_mem_level level, double bits);

/* Close the account: charge every instance's leakage over SIM_PS of simulated time (per
 * inference), against the pseudo-layer "chip". Call once. */
int imc_ledger_close(imc_ledger *l, uint64_t sim_ps, const double instances[IMC_COMP_COUNT]);

/* Rows, in the order first charged; energy filled in. */
size_t imc_ledger_rows(const imc_ledger *l);
imc_ledger_row imc_ledger_row_at(const imc_ledger *l, size_t i);

double imc_ledger_total_pj(const imc_ledger *l);
double imc_ledger_comp_pj(const imc_ledger *l, imc_comp comp);
double imc_ledger_traffic_bits(const imc_ledger *l, imc_mem_level level);

const char *imc_mem_level_name(imc_mem_level level);
/* The action's name for COMP ("read", "convert", "leakage"). */
const char *imc_comp_action_name(const imc_ledger *l, imc_comp comp, unsigned action);

/* Long-format CSV: model,layer,op,component,level,action,count,energy_pj. MODEL names the
 * rows. Its energy column sums to imc_ledger_total_pj. */
void imc_ledger_csv(const imc_ledger *l, const char *model, FILE *out, int header);

#endif
