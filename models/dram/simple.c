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
 *   ddr4    8.99 pJ/bit read, 8.24 written, derived (ddr4_bit_energy below) for a DDR4-2400 x64
 *           channel of eight x8 devices from the datasheet currents of Micron's 8 Gbit
 *           MT40A1G8 (VDD 1.2 V; IDD0 48, IDD2N 34, IDD3N 43, IDD4R 135, IDD4W 123 mA; tRAS
 *           32 ns, tRP 14.16 ns, BL8 in 3.332 ns; as tabulated in gem5's DDR4_2400_8x8) by
 *           Micron's method (TN-40-07, "Calculating Memory Power for DDR4 SDRAM"): a burst's
 *           core energy (IDD4R or IDD4W - IDD3N) x VDD x tBURST over its 64 bits, 5.75 and
 *           5.00 pJ/bit; a row activation and precharge VDD x (IDD0 tRC - IDD3N tRAS - IDD2N
 *           tRP) = 0.430 nJ over the 8192 bits of the device's 1 KB row, 0.052 pJ/bit
 *           (assumption: tensors stream, so every bit of an opened row is used); and the POD12
 *           data lines (JESD79-4), which draw current only while driving a 0: VDDQ^2 /
 *           (34 ohm driver + 60 ohm termination) x 0.4167 ns per bit x half the bits 0 =
 *           3.19 pJ/bit (assumptions: 60 ohm ODT, random data, no DBI; the lines'
 *           capacitance left out). 2400 MT/s x 8 B = 19.2 GB/s; latency 50 ns (assumption:
 *           tRCD + CL = 28.3 ns plus controller and PHY).
 * The figures are the
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
    double read_bit_j, write_bit_j, bandwidth_bps, latency_s;
} dram_type;

/* DDR4-2400, Micron MT40A1G8 (8 Gbit, x8) datasheet currents and timings, as in the header. */
#define DDR4_VDD 1.2
#define DDR4_IDD0 48e-3
#define DDR4_IDD2N 34e-3
#define DDR4_IDD3N 43e-3
#define DDR4_IDD4R 135e-3
#define DDR4_IDD4W 123e-3
#define DDR4_TRAS 32e-9
#define DDR4_TRP 14.16e-9
#define DDR4_TBURST 3.332e-9 /* BL8: 8 beats of 8 DQ, 64 bits per device */
#define DDR4_ROW_BITS 8192.0 /* a 1 KB page per x8 device */
#define DDR4_BIT_S (1 / 2.4e9)
/* POD12 data line: driver and on-die termination (JESD79-4 values; the 60 ohm ODT assumed). */
#define DDR4_RON 34.0
#define DDR4_RTT 60.0

/* DDR4's energy per bit moved, Micron's TN-40-07 method: burst core + activation share + I/O. */
static double ddr4_bit_energy(double idd4)
{
    double burst = (idd4 - DDR4_IDD3N) * DDR4_VDD * DDR4_TBURST / 64;
    double act = DDR4_VDD *
                 (DDR4_IDD0 * (DDR4_TRAS + DDR4_TRP) - DDR4_IDD3N * DDR4_TRAS -
                  DDR4_IDD2N * DDR4_TRP) /
                 DDR4_ROW_BITS;
    double io = 0.5 * DDR4_VDD * DDR4_VDD / (DDR4_RON + DDR4_RTT) * DDR4_BIT_S;
    return burst + act + io;
}

static const char *const type_names[] = {"lpddr4", "hbm2", "gddr5", "ddr4", NULL};
static dram_type type_defaults(int type)
{
    switch (type) {
    case 1: /* one HBM2 stack; O'Connor et al. MICRO 2017 */
        return (dram_type){3.97e-12, 3.97e-12, 256e9 * 8, 100e-9};
    case 2: /* one x32 GDDR5 at 7 Gbit/s; O'Connor et al. MICRO 2017 */
        return (dram_type){14e-12, 14e-12, 28e9 * 8, 50e-9};
    case 3: /* a DDR4-2400 x64 channel; Micron MT40A1G8 by TN-40-07 */
        return (dram_type){ddr4_bit_energy(DDR4_IDD4R), ddr4_bit_energy(DDR4_IDD4W),
                           19.2e9 * 8, 50e-9};
    default: /* LPDDR4-3200 x64; Accelergy tables */
        return (dram_type){8e-12, 8e-12, 25.6e9 * 8, 50e-9};
    }
}

static int dram_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    dram *d = (dram *)self;
    dram_type t = type_defaults(d->type);
    double hz = isnan(d->clock_hz) ? env->clock_hz : d->clock_hz;
    int rc = imc_models_period(self, hz,
                               isnan(d->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    int derived = isnan(d->read_bit_j) || isnan(d->write_bit_j); /* a cost from the type */
    if (isnan(d->read_bit_j))
        d->read_bit_j = t.read_bit_j;
    if (isnan(d->write_bit_j))
        d->write_bit_j = t.write_bit_j;
    if (isnan(d->bandwidth_bps))
        d->bandwidth_bps = t.bandwidth_bps;
    if (isnan(d->latency_s))
        d->latency_s = t.latency_s;
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
    {"type", IMC_PT_ENUM, IMC_DIM_NONE, 0, 0, 3, 0, IMC_OFF(dram, type), type_names,
     "DRAM standard setting the energy, bandwidth and latency defaults: lpddr4 (8 pJ/bit, "
     "Accelergy tables; 25.6 GB/s), hbm2 (3.97 pJ/bit, O'Connor et al. MICRO 2017; 256 GB/s), "
     "gddr5 (14 pJ/bit, O'Connor et al.; 28 GB/s), ddr4 (8.99 pJ/bit read, 8.24 written, from "
     "Micron MT40A1G8's currents by its TN-40-07 plus POD12 I/O; DDR4-2400 x64, 19.2 GB/s)"},
    {"bandwidth", IMC_PT_REAL, IMC_DIM_DATARATE, NAN, 1e6, 1e16, IMC_PF_OPTIONAL,
     IMC_OFF(dram, bandwidth_bps), NULL,
     "peak bandwidth; default the type's (LPDDR4-3200 x64 25.6 GB/s, one HBM2 stack 256 GB/s, "
     "one x32 GDDR5 at 7 Gbit/s 28 GB/s, DDR4-2400 x64 19.2 GB/s)"},
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
           "area; `type` (lpddr4 by default, hbm2, gddr5, ddr4) sets cited defaults for the first "
           "three.",
    .instance_size = sizeof(dram),
    IMC_PARAMS(dram_params),
    .init = dram_init,
};
