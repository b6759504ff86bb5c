/* dram/simple.c -- an off-chip DRAM channel seen from the chip: energy per bit moved, a fixed
 * access latency and a peak bandwidth, plus the static power and area of the on-chip PHY.
 *
 * The actions are per BIT: read_bits / write_bits cost the energy per bit each. Their cycles are
 * the access latency (time to the first bit) in cycles of `clock` (default the chip clock); the
 * engine adds the streaming time, bits / bandwidth, itself (bandwidth is a kind-required key it
 * reads by name; init fills it in from the type when the file leaves it out).
 *
 * `type` sets the defaults of energy per bit, bandwidth and latency; each explicit key
 * overrides its own. The types, as published and as converted:
 *   lpddr4  8 pJ/bit (Accelergy's energy tables, Wu, Emer and Sze, ICCAD 2019); an LPDDR4-3200
 *           x64 channel, 3200 MT/s x 8 B = 25.6 GB/s (JEDEC JESD209-4); latency 50 ns
 *           (assumption: tRCD + CL of about 36 ns plus controller and PHY).
 *   hbm2    3.97 pJ/bit (O'Connor et al., "Fine-Grained DRAM", MICRO 2017: HBM2 row
 *           activation 1.21 + on-die data movement 2.54 + I/O 0.22 pJ/bit; NeuroSim V2.1's DRAM
 *           model rounds it to 3.9); one stack, 1024 bit x 2 Gbit/s = 256 GB/s (JEDEC JESD235A);
 *           latency 100 ns (assumption: row miss + controller).
 *   gddr5   14 pJ/bit (O'Connor et al., MICRO 2017, the GDDR5 figure beside HBM2's); one 32-bit
 *           device at 7 Gbit/s per pin = 28 GB/s; latency 50 ns (assumption, as LPDDR4).
 * (DDR4 is not offered: no published per-bit figure was at hand to cite.) The figures are the
 * DRAM's own access energies at their interface; they do not follow the chip's node. The DRAM
 * device's background and refresh power are off the chip and not charged: leakage defaults to
 * 0 for every type. The PHY defaults to 0 W / 0 mm2; ISAAC's HyperTransport interface is 10.4 W
 * and 22.88 mm2. */
#include "models/model.h"

#include <math.h>
#include <stdio.h>

#include "models/common.h"

typedef struct dram {
    imc_instance base;
    int type;
    double bandwidth_bps;           /* NAN = the type's */
    double latency_s;               /* NAN = the type's */
    double read_bit_j, write_bit_j; /* NAN = the type's */
    double phy_power_w, phy_area_m2;
    double leakage_w;
    double clock_hz; /* NAN = the chip clock */
    /* derived */
    uint32_t latency_cycles;
} dram;

/* The types, in the order of their names below. */
typedef struct dram_type {
    double bit_j, bandwidth_bps, latency_s;
} dram_type;

static const char *const type_names[] = {"lpddr4", "hbm2", "gddr5", NULL};
static const dram_type types[] = {
    {8e-12, 25.6e9 * 8, 50e-9},    /* LPDDR4-3200 x64; Accelergy tables */
    {3.97e-12, 256e9 * 8, 100e-9}, /* one HBM2 stack; O'Connor et al. MICRO 2017 */
    {14e-12, 28e9 * 8, 50e-9},     /* one x32 GDDR5 at 7 Gbit/s; O'Connor et al. MICRO 2017 */
};

static int dram_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    dram *d = (dram *)self;
    const dram_type *t = &types[d->type];
    double hz = isnan(d->clock_hz) ? env->clock_hz : d->clock_hz;
    int rc = imc_models_period(self, hz,
                               isnan(d->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    int derived = isnan(d->read_bit_j) || isnan(d->write_bit_j); /* a cost from the type */
    if (isnan(d->read_bit_j))
        d->read_bit_j = t->bit_j;
    if (isnan(d->write_bit_j))
        d->write_bit_j = t->bit_j;
    if (isnan(d->bandwidth_bps))
        d->bandwidth_bps = t->bandwidth_bps;
    if (isnan(d->latency_s))
        d->latency_s = t->latency_s;
    if (derived)
        snprintf(self->assumptions, sizeof self->assumptions,
                 "%s: read %g pJ/bit, write %g pJ/bit, %g GB/s, latency %g ns (the type's "
                 "defaults where the file gives none; dram/simple cites each)",
                 type_names[d->type], d->read_bit_j * 1e12, d->write_bit_j * 1e12,
                 d->bandwidth_bps / 8e9, d->latency_s * 1e9);
    d->latency_cycles = imc_cycles_for(d->latency_s, self->period_ps);
    self->cost[IMC_DRAM_READ_BITS] = (imc_cost){d->read_bit_j * 1e12, d->latency_cycles};
    self->cost[IMC_DRAM_WRITE_BITS] = (imc_cost){d->write_bit_j * 1e12, d->latency_cycles};
    self->area_um2 = d->phy_area_m2 * 1e12;
    self->leakage_mw = (d->phy_power_w + d->leakage_w) * 1e3;
    self->peak_power_mw =
        d->bandwidth_bps * fmax(d->read_bit_j, d->write_bit_j) * 1e3 + self->leakage_mw;
    return 0;
}

/* The PHY burns its power whether or not data moves. */
static const imc_param dram_params[] = {
    {"type", IMC_PT_ENUM, IMC_DIM_NONE, 0, 0, 2, 0, IMC_OFF(dram, type), type_names,
     "DRAM standard setting the energy, bandwidth and latency defaults: lpddr4 (8 pJ/bit, "
     "Accelergy tables; 25.6 GB/s), hbm2 (3.97 pJ/bit, O'Connor et al. MICRO 2017; 256 GB/s), "
     "gddr5 (14 pJ/bit, O'Connor et al.; 28 GB/s)"},
    {"bandwidth", IMC_PT_REAL, IMC_DIM_DATARATE, NAN, 1e6, 1e16, IMC_PF_OPTIONAL,
     IMC_OFF(dram, bandwidth_bps), NULL,
     "peak bandwidth; default the type's (LPDDR4-3200 x64 25.6 GB/s, one HBM2 stack 256 GB/s, "
     "one x32 GDDR5 at 7 Gbit/s 28 GB/s)"},
    {"latency", IMC_PT_REAL, IMC_DIM_TIME, NAN, 1e-12, 1e-3, IMC_PF_OPTIONAL,
     IMC_OFF(dram, latency_s), NULL,
     "access latency to the first bit; default the type's (assumptions: 50 ns, HBM2 100 ns)"},
    {"read_energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL,
     IMC_OFF(dram, read_bit_j), NULL, "energy per bit read; default the type's"},
    {"write_energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL,
     IMC_OFF(dram, write_bit_j), NULL, "energy per bit written; default the type's"},
    {"phy_power", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 100, 0, IMC_OFF(dram, phy_power_w), NULL,
     "constant power of the on-chip interface (ISAAC HyperTransport: 10.4 W)"},
    {"phy_area", IMC_PT_REAL, IMC_DIM_AREA, 0, 0, 1e-3, 0, IMC_OFF(dram, phy_area_m2), NULL,
     "on-chip area of the interface (ISAAC HyperTransport: 22.88 mm2)"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 100, 0, IMC_OFF(dram, leakage_w), NULL,
     "other static power charged to the chip, besides phy_power (default 0: the DRAM's own "
     "background and refresh power are off the chip)"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL, IMC_OFF(dram, clock_hz),
     NULL, "clock the latency is counted in; default the chip clock"},
};

const imc_model imc_model_dram_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DRAM,
    .name = "dram/simple",
    .doc = "Off-chip DRAM channel: energy per bit, access latency, peak bandwidth, PHY power and "
           "area; `type` (lpddr4 by default, hbm2, gddr5) sets cited defaults for the first three.",
    .instance_size = sizeof(dram),
    IMC_PARAMS(dram_params),
    .init = dram_init,
};
