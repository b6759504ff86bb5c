/* cacti_tables.h -- what buffer/sram and buffer/edram cost, from CACTI 7 runs at 32 nm, and the
 * least-squares power laws fitted to them.
 *
 * Source: CACTI 7.0 (Balasubramonian, Kahng, Muralimanohar, Shafiee, Srinivas, "CACTI 7: New
 * tools for interconnect exploration in innovative off-chip memories", ACM TACO 14(2), 2017;
 * github.com/HewlettPackard/cacti, commit 1ffd8df), run as a scratchpad with the settings of
 * its own sample cache.cfg except: `-cache type "ram"`, `-associativity 1`, `-UCA bank count 1`,
 * `-technology (u) 0.032`, `-block size (bytes)` = width / 8, `-output/input bus width` = width,
 * and the data-array cell type `itrs-hp` (SRAM) or `lp-dram` (CACTI's logic-process embedded
 * DRAM). Kept from cache.cfg: itrs-hp periphery, 360 K, one read-write port, design objective
 * 0:0:0:100:0 with deviation 20:100000:100000:100000:100000, ED^2, "Global_30" wires (the same
 * settings as the Accelergy/hwcomponents CACTI plug-in). Each row is one run: capacity, width,
 * "Total dynamic read energy per access", "... write energy per access", "Total leakage power
 * of a bank" and height x width of the array. CACTI refuses a RAM of fewer than ~64 rows (256 B
 * at 128 bit; 1 KB at 512 bit), so the small registers are extrapolated by the fits.
 *
 * Fit: for each column y, ln y = ln k + a ln(width bits) + b ln(bank capacity bits), least
 * squares over the rows (imc_cacti_fit). Exponent b near 1/2 for energies is the bitline and
 * wordline length growing as sqrt(bank size); near 1 for leakage and area. For the SRAM rows
 * (55): read 3.792e-4 w^0.734 C^0.537 pJ (rms error 23 %), write 5.337e-4 w^0.912 C^0.459 pJ
 * (10 %), leakage 1.389e-4 w^-0.007 C^0.964 mW (5 %: ~80 nW per bit), area 2.280e-7 w^0.197
 * C^0.936 mm2 (22 %). For the eDRAM rows (40): read 7.032e-4 w^0.765 C^0.476 pJ (13 %), leakage
 * 5.155e-4 w^-0.349 C^0.841 mW (17 %), area 1.827e-7 w^0.165 C^0.906 mm2 (21 %). CACTI 7's
 * lp-dram write energy in "ram" mode is 30-60x its read energy (0.81 nJ per 256-bit write of
 * 64 KB, against 24 pJ per read and ISAAC Table I's CACTI 6.5 figure of ~20 pJ per access for
 * the same eDRAM); it is listed below but not used: an eDRAM write costs the read fit. CACTI's
 * itrs-hp cells at 360 K leak: the 64 KB SRAM leaks 40 mW (its lstp cells: 4.4 mW); give
 * `leakage` for a low-leakage design. CACTI reports no refresh power for a "ram"; an eDRAM's
 * refresh is not in its leakage. */
#ifndef IMC_MODELS_BUFFER_CACTI_TABLES_H
#define IMC_MODELS_BUFFER_CACTI_TABLES_H

#include <math.h>
#include <stddef.h>

#include "models/powerlaw.h"

typedef struct imc_cacti_row {
    double bytes, width_bits;
    double read_pj, write_pj, leakage_mw, area_mm2;
} imc_cacti_row;

/* The columns of a row that are fitted. */
typedef enum imc_cacti_col {
    IMC_CACTI_READ,
    IMC_CACTI_WRITE,
    IMC_CACTI_LEAKAGE,
    IMC_CACTI_AREA
} imc_cacti_col;

/* y = k x width^a x capacity^b (width and capacity of one bank in bits; powerlaw.h). */
typedef imc_powerlaw imc_cacti_law;

/* SRAM (itrs-hp cells), 32 nm. */
static const imc_cacti_row imc_cacti_sram32[] = {
    /* bytes   width  read pJ  write pJ  leak mW  area mm2 */
    {   1024,  64,  0.8412,   1.729,  0.7152, 0.002042},
    {   2048,  64,   1.415,   2.093,   1.618, 0.004278},
    {   4096,  64,   1.809,    3.22,   3.197, 0.007628},
    {   8192,  64,   3.332,    3.92,   5.913,  0.01489},
    {  16384,  64,   6.357,   5.298,   10.94,  0.02885},
    {  32768,  64,   9.693,   7.675,   21.71,  0.05374},
    {  65536,  64,   12.04,   10.02,   43.42,   0.1184},
    { 131072,  64,   16.49,   12.14,   79.93,   0.2451},
    { 262144,  64,   21.64,   17.29,   159.9,   0.4973},
    { 524288,  64,   29.67,   25.32,   319.7,   0.9838},
    {1048576,  64,   43.74,   35.19,   635.4,    1.803},
    {2097152,  64,   59.09,   50.54,    1271,    3.556},
    {4194304,  64,   78.75,   70.13,    2539,    7.054},
    {8388608,  64,   109.5,   100.9,    5078,    13.95},
    {   1024, 128,   1.667,   2.508,  0.8468, 0.003095},
    {   2048, 128,   1.911,   3.687,   1.629, 0.004764},
    {   4096, 128,   2.305,    5.95,   3.207, 0.008114},
    {   8192, 128,   4.181,   7.002,   5.931,  0.01581},
    {  16384, 128,   5.901,   11.65,   11.73,  0.02871},
    {  32768, 128,   11.25,   13.74,   21.72,  0.05547},
    {  65536, 128,   15.69,   18.18,   43.44,   0.1319},
    { 131072, 128,   26.51,   22.48,   79.46,   0.2361},
    { 262144, 128,   35.35,   31.32,   158.9,   0.4944},
    { 524288, 128,   50.19,   46.15,   317.8,   0.9782},
    {1048576, 128,   68.15,   64.12,   635.6,    1.968},
    {2097152, 128,   96.21,   92.17,    1271,    3.834},
    {4194304, 128,     132,   127.9,    2543,    7.624},
    {8388608, 128,   190.4,   182.5,    5068,    13.96},
    {   1024, 256,   4.432,    5.18,  0.8525, 0.006396},
    {   2048, 256,   4.638,    6.32,    1.59, 0.008037},
    {   4096, 256,   5.084,   8.636,   3.047,  0.01128},
    {   8192, 256,   5.882,   13.17,   5.976,  0.01778},
    {  16384, 256,   7.602,   22.37,   11.77,  0.03068},
    {  32768, 256,   14.36,   25.86,   21.79,  0.05922},
    {  65536, 256,   27.84,   32.82,   39.84,   0.1144},
    { 131072, 256,   37.15,   42.12,   79.68,   0.2726},
    { 262144, 256,   54.99,   59.97,   159.4,   0.5897},
    { 524288, 256,   82.23,   74.15,   303.8,    1.036},
    {1048576, 256,   117.5,   109.4,   607.6,    2.118},
    {2097152, 256,   173.9,   184.2,    1269,     3.96},
    {4194304, 256,     250,   234.3,    2420,    7.566},
    {8388608, 256,     345,   355.3,    5075,    15.28},
    {   2048, 512,   14.38,   15.88,   1.703,  0.02014},
    {   4096, 512,   14.79,   18.15,   3.063,  0.02329},
    {   8192, 512,   15.64,   22.74,   5.764,  0.02954},
    {  16384, 512,   17.24,   31.82,   11.18,  0.04204},
    {  32768, 512,   20.58,   50.11,   21.95,  0.06693},
    {  65536, 512,   27.15,   86.58,   43.49,   0.1167},
    { 131072, 512,   52.74,   99.18,   79.58,   0.2251},
    { 262144, 512,   86.93,   133.4,   159.2,   0.6186},
    { 524288, 512,   138.2,   158.7,   303.5,    1.054},
    {1048576, 512,   205.4,   225.8,     607,    2.279},
    {2097152, 512,   322.8,   343.3,    1214,    4.495},
    {4194304, 512,   461.8,   482.2,    2428,    9.065},
    {8388608, 512,   673.5,   693.9,    4856,    17.28},
};
/* eDRAM (lp-dram cells), 32 nm; the write column is not used (see above). */
static const imc_cacti_row imc_cacti_edram32[] = {
    /* bytes   width  read pJ  write pJ  leak mW  area mm2 */
    {  16384,  64,    5.29,   218.8,   2.028,   0.0182},
    {  32768,  64,   7.918,   399.5,   3.723,  0.02517},
    {  65536,  64,   9.582,   401.2,   7.445,  0.05419},
    { 131072,  64,   12.44,     404,   14.89,   0.1022},
    { 262144,  64,   15.58,   407.2,   29.78,   0.2057},
    { 524288,  64,   24.55,   807.7,   46.57,   0.3498},
    {1048576,  64,   30.29,   813.5,   93.15,   0.6919},
    {2097152,  64,   39.98,   823.2,   186.3,    1.336},
    {4194304,  64,   59.23,    1626,     248,    2.414},
    {8388608,  64,    76.5,    1643,     496,    4.719},
    {  16384, 128,   7.537,   399.1,   1.876,   0.0172},
    {  32768, 128,   11.52,   438.5,   3.197,   0.0405},
    {  65536, 128,   16.41,   799.6,   5.771,  0.06008},
    { 131072, 128,   24.03,   878.1,   9.144,   0.1334},
    { 262144, 128,   34.28,    1601,   15.89,   0.1967},
    { 524288, 128,   43.83,    1610,   31.77,   0.3844},
    {1048576, 128,   55.45,    1622,   63.54,   0.7639},
    {2097152, 128,   71.99,    1638,   127.1,    1.455},
    {4194304, 128,   99.95,    3091,   235.6,     2.34},
    {8388608, 128,   130.7,    3122,   471.1,    4.497},
    {  16384, 256,   13.32,   796.5,   1.473,  0.01228},
    {  32768, 256,   16.87,     800,   2.946,  0.03972},
    {  65536, 256,   23.64,   806.8,   5.891,  0.09537},
    { 131072, 256,    37.2,    1604,   8.081,   0.1368},
    { 262144, 256,   50.35,    1617,   16.16,   0.2902},
    { 524288, 256,   76.75,    3209,   18.84,   0.4387},
    {1048576, 256,   102.6,    3235,   37.68,   0.8952},
    {2097152, 256,   135.6,    3268,   75.35,    1.728},
    {4194304, 256,   189.4,    6171,     131,      2.6},
    {8388608, 256,   245.5,    6227,     262,    4.936},
    {  16384, 512,   16.01,   799.2,   1.542,  0.01661},
    {  32768, 512,   23.28,    1519,   2.828,  0.02309},
    {  65536, 512,    41.4,    1608,   4.288,   0.1039},
    { 131072, 512,   59.25,    1626,   8.576,   0.2472},
    { 262144, 512,   90.58,    3223,   10.26,   0.3465},
    { 524288, 512,     129,    6111,   17.22,   0.4816},
    {1048576, 512,   176.3,    6158,   34.43,    1.024},
    {2097152, 512,   252.9,    6235,   68.87,    1.978},
    {4194304, 512,   388.1, 2.444e+04,     131,    3.218},
    {8388608, 512,   473.7, 1.215e+04,   252.5,    5.507},
};
#define IMC_CACTI_SRAM32_N (sizeof imc_cacti_sram32 / sizeof imc_cacti_sram32[0])
#define IMC_CACTI_EDRAM32_N (sizeof imc_cacti_edram32 / sizeof imc_cacti_edram32[0])
#define IMC_CACTI_NODE_M 32e-9

static inline double imc_cacti_value(const imc_cacti_row *r, imc_cacti_col col)
{
    switch (col) {
    case IMC_CACTI_READ:
        return r->read_pj;
    case IMC_CACTI_WRITE:
        return r->write_pj;
    case IMC_CACTI_LEAKAGE:
        return r->leakage_mw;
    case IMC_CACTI_AREA:
        break;
    }
    return r->area_mm2;
}

/* The least-squares fit of ln(COL) = ln k + a ln(width) + b ln(capacity bits) over the N ROWS. */
static inline imc_cacti_law imc_cacti_fit(const imc_cacti_row *rows, size_t n, imc_cacti_col col)
{
    imc_powerlaw_acc acc = {{{0}}, {0}};
    for (size_t i = 0; i < n; i++)
        imc_powerlaw_add(&acc, rows[i].width_bits, rows[i].bytes * 8, imc_cacti_value(&rows[i], col));
    return imc_powerlaw_solve(&acc);
}

/* The law at WIDTH bits per access and CAPACITY bits per bank. */
static inline double imc_cacti_eval(imc_cacti_law law, double width_bits, double capacity_bits)
{
    return imc_powerlaw_eval(law, width_bits, capacity_bits);
}

#endif
