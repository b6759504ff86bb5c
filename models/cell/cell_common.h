/* cell_common.h -- what the cell models share: the instance fields every cell has (read and
 * write pulses, read noise, stuck-at faults, area), the costs derived from them, and the
 * numerics hooks, which work on a per-level table of nominal conductance and programming sigma
 * that each model fills its own way (cell/reram from Ron, Roff and a relative variation,
 * cell/table from a CSV of measured levels). Because both models program and read through the
 * same code, a table holding cell/reram's levels gives exactly its results.
 *
 * Included by the cell model files only. */
#ifndef IMC_MODELS_CELL_COMMON_H
#define IMC_MODELS_CELL_COMMON_H

#include <math.h>

#include "models/common.h"
#include "models/model.h"
#include "sim/base/normal.h"

#define IMC_CELL_MAX_BITS 11 /* Rao et al., Nature 615 (2023): 2048 levels */

typedef struct imc_cell_base {
    imc_instance base;
    int bits;
    double read_v, read_pulse_s;
    double write_energy_j, write_latency_s;
    double read_noise;
    double stuck_at_0, stuck_at_1;
    double endurance;
    double area_m2; /* explicit; NAN = 4 F^2 */
    /* filled by the model's init before imc_cell_finish */
    double level_g[1 << IMC_CELL_MAX_BITS];     /* nominal conductance of each level, S */
    double level_sigma[1 << IMC_CELL_MAX_BITS]; /* its programming spread (one sigma), S */
} imc_cell_base;

/* The parameters of imc_cell_base, split in two so each model can place its own between them
 * (the order of the YAML dump); TYPE is the model's struct, whose first member `c` is the
 * imc_cell_base. */
#define IMC_CELL_PULSE_PARAMS(TYPE)                                                               \
    {"read_voltage", IMC_PT_REAL, IMC_DIM_VOLTAGE, 0.5, 1e-3, 5, 0, IMC_OFF(TYPE, c.read_v),      \
     NULL, "read voltage across the cell (NeuroSim V1.3: 0.5 V)"},                                \
    {"read_pulse", IMC_PT_REAL, IMC_DIM_TIME, 10e-9, 1e-12, 1e-3, 0,                               \
     IMC_OFF(TYPE, c.read_pulse_s), NULL, "read pulse width (NeuroSim V1.3: 10 ns)"},             \
    {"write_energy", IMC_PT_REAL, IMC_DIM_ENERGY, 2.0 * 2.0 / 6e3 * 10e-9, 0, 1e-6, 0,             \
     IMC_OFF(TYPE, c.write_energy_j), NULL,                                                       \
     "energy to program one cell (assumption: one 2 V NeuroSim pulse, 10 ns into 6 kohm)"},       \
    {"write_latency", IMC_PT_REAL, IMC_DIM_TIME, 10e-9, 1e-12, 1e-3, 0,                            \
     IMC_OFF(TYPE, c.write_latency_s), NULL,                                                      \
     "time to program one cell (assumption: one 10 ns pulse, no verify)"}

#define IMC_CELL_FAULT_PARAMS(TYPE)                                                               \
    {"read_noise", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(TYPE, c.read_noise), NULL,      \
     "relative sigma of the column current each read sees"},                                      \
    {"stuck_at_0", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(TYPE, c.stuck_at_0), NULL,      \
     "fraction of cells stuck at the lowest conductance (MNSIM 2.0 uses 0.1 %)"},                 \
    {"stuck_at_1", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(TYPE, c.stuck_at_1), NULL,      \
     "fraction of cells stuck at the highest conductance (MNSIM 2.0 uses 0.1 %)"},                \
    {"endurance", IMC_PT_REAL, IMC_DIM_NONE, 1e6, 1, 1e15, 0, IMC_OFF(TYPE, c.endurance), NULL,   \
     "write cycles a cell survives (assumption: 1e6, the low end of reported 1e6..1e12)"},        \
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL, IMC_OFF(TYPE, c.area_m2), \
     NULL, "area of one cell; default 4 F^2 at the node (NeuroSim crossbar cell 2F x 2F)"}

/* Check the shared fields and derive the header (clock: the chip's; costs, area, no leakage)
 * once the model has set bits and its levels. MEAN_G is the conductance a read sees on
 * average (weights taken as uniformly spread over the levels): read energy V^2 x MEAN_G x t. */
static inline int imc_cell_finish(imc_instance *self, const imc_model_env *env, double mean_g,
                                  imc_err *err)
{
    imc_cell_base *c = (imc_cell_base *)self;
    if (c->stuck_at_0 + c->stuck_at_1 > 1)
        return imc_err_set(err, IMC_EINPUT,
                           "%s: stuck_at_0 + stuck_at_1 (%g) must not exceed 1 (all cells)",
                           self->path, c->stuck_at_0 + c->stuck_at_1);
    int rc = imc_models_period(self, env->clock_hz, "the chip clock (clock_hz)", err);
    if (rc)
        return rc;
    double read_pj = c->read_v * c->read_v * mean_g * c->read_pulse_s * 1e12;
    double write_pj = c->write_energy_j * 1e12;
    self->cost[IMC_CELL_READ] = (imc_cost){read_pj, imc_cycles_for(c->read_pulse_s, self->period_ps)};
    self->cost[IMC_CELL_WRITE] =
        (imc_cost){write_pj, imc_cycles_for(c->write_latency_s, self->period_ps)};
    if (!isnan(c->area_m2)) {
        self->area_um2 = c->area_m2 * 1e12;
    } else {
        if (!(env->technology_m > 0))
            return imc_err_set(err, IMC_EINPUT,
                               "%s: the technology node is needed for the 4 F^2 cell area "
                               "(or give area)",
                               self->path);
        double f_um = env->technology_m * 1e6;
        self->area_um2 = 4 * f_um * f_um;
    }
    /* No static power: a non-volatile cell keeps its state unpowered, and between reads every
     * line of the array is at 0 V (rows undriven, bitlines at the S&H's virtual ground), so no
     * cell carries current; a read's current is its read energy. PUMA's simulator
     * (constants.py: xbar_pow_leak = 0) and NeuroSim (no array-cell leakage; its leakage is the
     * periphery's) take 0 too. */
    self->leakage_mw = 0;
    /* one cell does one thing at a time: the larger of read and write power */
    self->peak_power_mw = fmax(read_pj * 1e-12 / c->read_pulse_s * 1e3,
                               write_pj * 1e-12 / c->write_latency_s * 1e3);
    return 0;
}

/* ---- the numerics hooks ------------------------------------------------------------------- */

static inline double imc_cell_level_g(const imc_instance *self, int level)
{
    return ((const imc_cell_base *)self)->level_g[level];
}

/* Per cell, a fault first (stuck at the lowest or highest level, one uniform drawn from RNG),
 * then the level's spread: one normal deviate from lanes seeded by RNG's first draw (the lanes
 * draw 32 at a time in vector code: about 0.7 ns a deviate against 4.4 for the scalar
 * ziggurat they replaced, most of a noisy DeiT-S image's programming). Nothing is drawn where
 * no level varies and no cell fails. */
static inline void imc_cell_program(const imc_instance *self, const int *level, double *g,
                                    size_t n, imc_normal_rng *rng)
{
    const imc_cell_base *c = (const imc_cell_base *)self;
    double sa0 = c->stuck_at_0, sa1 = c->stuck_at_1;
    int top = (1 << c->bits) - 1, varies = 0;
    for (int l = 0; l <= top; l++)
        varies |= c->level_sigma[l] > 0;
    imc_normal_lanes lanes;
    if (varies)
        imc_normal_lanes_from(&lanes, rng);
    enum { BATCH = 256 }; /* deviates drawn at once: a multiple of the lanes' 32 */
    float z[BATCH];
    for (size_t k0 = 0; k0 < n; k0 += BATCH) {
        size_t m = n - k0 < BATCH ? n - k0 : BATCH;
        if (varies)
            imc_normal_lanes_fill(&lanes, z, m);
        if (!(sa0 + sa1 > 0) && varies) { /* the common case, without branches: a level
                                                that does not vary adds 0 x z, exactly 0 */
            for (size_t k = 0; k < m; k++) {
                int l = level[k0 + k];
                g[k0 + k] = c->level_g[l] + c->level_sigma[l] * z[k];
            }
            continue;
        }
        for (size_t k = 0; k < m; k++) {
            int l = level[k0 + k];
            if (sa0 + sa1 > 0) {
                double u = imc_normal_uniform(rng);
                l = u < sa0 ? 0 : u < sa0 + sa1 ? top : l;
            }
            double sigma = c->level_sigma[l];
            g[k0 + k] = sigma > 0 ? c->level_g[l] + sigma * z[k] : c->level_g[l];
        }
    }
}

/* Every column value seen by the reads scaled by its own 1 + N(0, read_noise): the noise of the
 * column current as a whole, one independent deviate per column and read, from the reads' own
 * stream (sim/base/normal.h: N(0, 1) in distribution up to float resolution; a DeiT-S image
 * takes about 2.3 G of them). */
static inline void imc_cell_read(const imc_instance *self, float *v, size_t n, uint64_t seed)
{
    double sigma = ((const imc_cell_base *)self)->read_noise;
    if (!(sigma > 0))
        return;
    imc_normal_lanes nr;
    imc_normal_lanes_seed(&nr, seed);
    imc_normal_lanes_scale(&nr, v, n, sigma);
}

static inline int imc_cell_exact(const imc_instance *self)
{
    const imc_cell_base *c = (const imc_cell_base *)self;
    if (c->read_noise > 0 || c->stuck_at_0 > 0 || c->stuck_at_1 > 0)
        return 0;
    for (int l = 0; l < 1 << c->bits; l++)
        if (c->level_sigma[l] > 0)
            return 0;
    return 1;
}

static const imc_cell_ops imc_cell_common_ops = {imc_cell_level_g, imc_cell_program,
                                                 imc_cell_read, imc_cell_exact};

#endif
