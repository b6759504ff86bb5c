/* techscale.c -- the technology-scaling tables of Stillmaker and Baas (Integration 58, 2017),
 * evaluated at each node's nominal supply.
 *
 * The paper fits HSPICE results on the PTM and ITRS models (a FO4-loaded circuit set) with
 * polynomials in the supply voltage V, one row of coefficients per node:
 *   delay  = d3 V^3 + d2 V^2 + d1 V + d0
 *   energy = e2 V^2 + e1 V + e0       (its Table 5; the authors' corrigendum works its example
 *                                       with the 32 nm HP row at 0.9 V, 0.4571, and the 65 nm
 *                                       row at 1.3 V, 2.604, which this table reproduces)
 *   power  = p2 V^2 + p1 V + p0
 * and tabulates layout-area factors between nodes. The rows below are the paper's for bulk
 * 180-65 nm and for the high-performance (HP) PTM models from 45 nm down (PTM HP bulk 45/32 nm,
 * PTM-MG HP FinFET 20-7 nm); this file uses the HP rows throughout since the designs modelled
 * (ISAAC, PUMA, the reram.yaml chip) are high-performance logic. The coefficients were taken
 * from the paper's tables as transcribed in UCLA NanoCAD's nodeScale tool (W. Romaszkan, 2021,
 * MIT licence; its table checked against the corrigendum's two worked values above); only the
 * numbers are used. Nominal supplies are the paper's per node (1.8, 1.3, 1.2, 1.1, 1.0, 0.9,
 * 0.9, 0.85, 0.8, 0.75, 0.7 V). The area factor of a node is the paper's area factor from
 * 45 nm to it (area at the node / area at 45 nm).
 *
 * What the fits say, at nominal supply, relative to 32 nm: energy 65 nm x3.68, 22 nm x0.52;
 * delay 65 nm x2.29, 22 nm x1.10 (the 20 nm FinFET row at 0.9 V is slower than 32 nm HP bulk
 * at 0.9 V; the paper's fits, not a choice here); area 65 nm x3.26, 22 nm x0.54. */
#include "models/techscale.h"

#include <math.h>
#include <stdio.h>

typedef struct node_row {
    double nm, vdd;
    double d[4]; /* delay: d3, d2, d1, d0 */
    double e[3]; /* energy: e2, e1, e0 */
    double p[3]; /* power: p2, p1, p0 */
    double area; /* area relative to 45 nm */
} node_row;

static const node_row rows[] = {
    {180, 1.8, {0, 97.09, -356.7, 406.5}, {0, 24.64, -17.98}, {0, 101000, -79720}, 19},
    {130, 1.3, {-76.65, 334.9, -493.4, 275.8}, {7.171, -6.709, 2.904}, {27020, -15450, 5630}, 6.4},
    {90, 1.2, {-60.34, 262.5, -384.2, 210.9}, {4.762, -4.781, 2.092}, {17320, -11230, 4328}, 2.8},
    {65, 1.1, {-53.3, 230.4, -333.9, 178.6}, {3.755, -4.398, 1.975}, {12890, -10510, 4362}, 1.5},
    {45, 1.0, {-501.6, 1567, -1619, 566.1}, {1.018, -0.3107, 0.1539}, {5462, -1760, 522.4}, 1},
    {32, 0.9, {-1047, 2982, -2797, 873.5}, {0.8367, -0.4341, 0.1701}, {4001, -1733, 533.6}, 0.46},
    {20, 0.9, {0, 34.63, -66.37, 41.15}, {0.373, -0.1582, 0.04104}, {2922, -1286, 299.9}, 0.21},
    {16, 0.85, {0, 24.8, -47.52, 28.87}, {0.2958, -0.1241, 0.03024}, {2133, -882.6, 197.7}, 0.19},
    {14, 0.8, {-40.66, 109.2, -100.6, 35.92}, {0.2363, -0.09675, 0.02239}, {1675, -711, 159}, 0.17},
    {10, 0.75, {-34.95, 93.65, -85.99, 30.4}, {0.2068, -0.09311, 0.02375}, {1456, -621.6, 143.8}, 0.1},
    {7, 0.7, {-28.58, 76.6, -70.26, 24.69}, {0.1776, -0.09097, 0.02447}, {1179, -515.7, 123.4}, 0.059},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static double row_value(const node_row *r, imc_tech_metric metric)
{
    double v = r->vdd;
    switch (metric) {
    case IMC_TECH_ENERGY:
        return (r->e[0] * v + r->e[1]) * v + r->e[2];
    case IMC_TECH_DELAY:
        return ((r->d[0] * v + r->d[1]) * v + r->d[2]) * v + r->d[3];
    case IMC_TECH_POWER:
        return (r->p[0] * v + r->p[1]) * v + r->p[2];
    case IMC_TECH_AREA:
        break;
    }
    return r->area;
}

int imc_tech_check(double node_m, char *why, size_t size)
{
    if (node_m >= IMC_TECH_MIN_M * (1 - 1e-9) && node_m <= IMC_TECH_MAX_M * (1 + 1e-9))
        return 0;
    snprintf(why, size,
             "technology %g nm is outside the 7-180 nm that the scaling fits of Stillmaker and "
             "Baas (Integration 58, 2017) cover",
             node_m * 1e9);
    return -1;
}

double imc_tech_value(imc_tech_metric metric, double node_m)
{
    double nm = node_m * 1e9;
    if (nm >= rows[0].nm)
        return row_value(&rows[0], metric);
    for (size_t i = 1; i < N_ROWS; i++) {
        if (nm >= rows[i].nm) {
            double hi = row_value(&rows[i - 1], metric), lo = row_value(&rows[i], metric);
            double t = log(nm / rows[i].nm) / log(rows[i - 1].nm / rows[i].nm);
            return lo * pow(hi / lo, t);
        }
    }
    return row_value(&rows[N_ROWS - 1], metric);
}

double imc_tech_factor(imc_tech_metric metric, double from_m, double to_m)
{
    if (from_m == to_m)
        return 1;
    return imc_tech_value(metric, to_m) / imc_tech_value(metric, from_m);
}
