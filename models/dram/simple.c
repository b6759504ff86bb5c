/* dram/simple.c -- an off-chip DRAM channel seen from the chip: energy per bit moved, a fixed
 * access latency and a peak bandwidth, plus the static power and area of the on-chip PHY.
 *
 * The actions are per BIT: read_bits / write_bits cost energy_per_bit each. Their cycles are
 * the access latency (time to the first bit) in cycles of `clock` (default the chip clock); the
 * engine adds the streaming time, bits / bandwidth, itself (bandwidth is a kind-required key it
 * reads by name). Defaults: an LPDDR4-3200 x64 channel, 25.6 GB/s, about 8 pJ per bit
 * (Accelergy tables, docs/SOURCES.md; NeuroSim V2.1 gives HBM2 3.9, GDDR5 14);
 * latency 50 ns (assumption: LPDDR4 tRCD + CL of about 36 ns plus controller and PHY). The PHY
 * defaults to 0 W / 0 mm2; ISAAC's HyperTransport interface is 10.4 W and 22.88 mm2. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

typedef struct dram {
    imc_instance base;
    double bandwidth_bps;
    double latency_s;
    double read_bit_j, write_bit_j;
    double phy_power_w, phy_area_m2;
    double leakage_w;
    double clock_hz; /* NAN = the chip clock */
    /* derived */
    uint32_t latency_cycles;
} dram;

static int dram_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    dram *d = (dram *)self;
    double hz = isnan(d->clock_hz) ? env->clock_hz : d->clock_hz;
    int rc = imc_models_period(self, hz,
                               isnan(d->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
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
    {"bandwidth", IMC_PT_REAL, IMC_DIM_DATARATE, 25.6e9 * 8, 1e6, 1e16, 0,
     IMC_OFF(dram, bandwidth_bps), NULL, "peak bandwidth (LPDDR4-3200 x64: 25.6 GB/s)"},
    {"latency", IMC_PT_REAL, IMC_DIM_TIME, 50e-9, 1e-12, 1e-3, 0, IMC_OFF(dram, latency_s), NULL,
     "access latency to the first bit (assumption: 50 ns, LPDDR4 tRCD + CL + controller)"},
    {"read_energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, 8e-12, 0, 1e-9, 0,
     IMC_OFF(dram, read_bit_j), NULL, "energy per bit read (LPDDR4, Accelergy tables: ~8 pJ)"},
    {"write_energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, 8e-12, 0, 1e-9, 0,
     IMC_OFF(dram, write_bit_j), NULL, "energy per bit written (LPDDR4, Accelergy tables: ~8 pJ)"},
    {"phy_power", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 100, 0, IMC_OFF(dram, phy_power_w), NULL,
     "constant power of the on-chip interface (ISAAC HyperTransport: 10.4 W)"},
    {"phy_area", IMC_PT_REAL, IMC_DIM_AREA, 0, 0, 1e-3, 0, IMC_OFF(dram, phy_area_m2), NULL,
     "on-chip area of the interface (ISAAC HyperTransport: 22.88 mm2)"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 100, 0, IMC_OFF(dram, leakage_w), NULL,
     "other static power charged to the chip (e.g. refresh), besides phy_power"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL, IMC_OFF(dram, clock_hz),
     NULL, "clock the latency is counted in; default the chip clock"},
};

const imc_model imc_model_dram_simple = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DRAM,
    .name = "dram/simple",
    .doc = "Off-chip DRAM channel: energy per bit, access latency, peak bandwidth, PHY power and "
           "area; LPDDR4 (25.6 GB/s, 8 pJ/bit) by default.",
    .instance_size = sizeof(dram),
    IMC_PARAMS(dram_params),
    .init = dram_init,
};
