/* techscale.h -- how a CMOS circuit's energy, delay, power and area change with the technology
 * node: the published fits of Stillmaker and Baas, "Scaling equations for the accurate
 * prediction of CMOS device performance from 180 nm to 7 nm", Integration, the VLSI Journal 58
 * (2017) 74-81 (the coefficient tables are in techscale.c, with their provenance).
 *
 * A number quoted at node FROM is multiplied by the factor imc_tech_* (FROM, TO) to give it at
 * node TO; each factor is 1 when FROM == TO. Nodes between two of the paper's (180, 130, 90, 65,
 * 45, 32, 20, 16, 14, 10, 7 nm) are interpolated geometrically: the logarithm of the factor is
 * linear in the logarithm of the node (22 nm lies 79.7 % of the way from 32 to 20 nm). Nodes
 * outside 7-180 nm are refused: imc_tech_check says why. Device physics (a ReRAM cell's V^2 G t,
 * off-chip DRAM) does not follow these fits; component models decide what does. */
#ifndef IMC_MODELS_TECHSCALE_H
#define IMC_MODELS_TECHSCALE_H

#include <stddef.h>

typedef enum imc_tech_metric {
    IMC_TECH_ENERGY, /* energy per operation, the paper's energy fit at the nominal supply */
    IMC_TECH_DELAY,  /* gate delay: its delay fit */
    IMC_TECH_POWER,  /* power at a fixed activity: its power fit */
    IMC_TECH_AREA    /* layout area: its table of area factors */
} imc_tech_metric;

#define IMC_TECH_MIN_M 7e-9
#define IMC_TECH_MAX_M 180e-9

/* 0 when NODE_M (metres) is within the fits' 7-180 nm, else -1 with a message in WHY. */
int imc_tech_check(double node_m, char *why, size_t size);

/* The factor that takes a METRIC quoted at FROM_M to TO_M (both within the fits; a node outside
 * is clamped to the nearest end, so check first). */
double imc_tech_factor(imc_tech_metric metric, double from_m, double to_m);

/* The paper's value of METRIC at its nominal supply at NODE_M (interpolated), in the fit's own
 * units; for tests and the README table. */
double imc_tech_value(imc_tech_metric metric, double node_m);

#endif
