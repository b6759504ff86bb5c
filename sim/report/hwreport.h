/* hwreport.h -- the hardware report: count, area and peak power of every component at every
 * level (PE, tile, chip), and the chip's peak throughput and efficiency.
 *
 * Rows follow the component table (sim/arch/components.def) and its counts: per instance of
 * the level, so a tile's row for the ADCs counts the ADCs of all its PEs, and a router shared by
 * `concentration` tiles counts 1/concentration per tile. Peak power is
 * each model's own peak (every action at its highest rate, plus leakage), except that the
 * crossbar, its DACs, S&Hs and ADCs run at the pace of the slowest of them (the crossbar read
 * or the shared ADC's conversions), as the pipeline lets them. The leakage within each peak
 * (static power, drawn whether the part works or not) is reported beside it, never only folded
 * in. Reads only the arch. */
#ifndef IMC_HWREPORT_H
#define IMC_HWREPORT_H

#include <stdio.h>

#include "sim/arch/arch.h"

typedef struct imc_hw_row {
    int level;                 /* IMC_LEVEL_* */
    imc_comp comp;
    const imc_instance *inst;  /* the component (its path and model) */
    double count;              /* instances within one unit of the level */
    double area_mm2;           /* all of them */
    double peak_power_mw;      /* all of them */
    double leakage_mw;         /* all of them: the static part of peak_power_mw */
} imc_hw_row;

typedef struct imc_hw_report {
    imc_hw_row rows[64];
    size_t n_rows;
    double area_mm2[IMC_LEVEL_COUNT];      /* totals per unit of the level */
    double peak_power_mw[IMC_LEVEL_COUNT];
    double leakage_mw[IMC_LEVEL_COUNT];    /* the static part of peak_power_mw */
    double units[IMC_LEVEL_COUNT];         /* PEs, tiles, chips on the chip */
    double peak_ops_per_s;                 /* 1 MAC = 2 ops, at the mapping's precision */
    imc_comp pace;                         /* the slowest stage of an input slice: the crossbar
                                              read or its ADC's conversions */
    double slice_ps;                       /* one input slice at that pace */
} imc_hw_report;

/* Compute the report of ARCH. */
void imc_hwreport_build(const imc_arch *arch, imc_hw_report *rep);

/* Human-readable tables. */
void imc_hwreport_print(const imc_arch *arch, const imc_hw_report *rep, FILE *out);

/* Long-format CSV: level,component,model,count,area_mm2,peak_power_mw,leakage_mw (+ total
 * rows); leakage_mw is the static part of peak_power_mw. */
void imc_hwreport_csv(const imc_hw_report *rep, FILE *out);

#endif
