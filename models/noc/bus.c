/* noc/bus.c -- a shared on-tile bus (ISAAC's eDRAM-to-IMA bus): one `flit_hop` moves one
 * flit_width-bit word from one end to the other.
 *
 * Defaults are ISAAC Table I at 32 nm and 1.2 GHz: 384 wires, 7 mW, 0.090 mm2. With one
 * transfer per cycle that is 7 mW / (384 bit x 1.2 GHz) = 15.2 fJ per bit moved. A transfer
 * takes `latency` cycles of the bus clock (assumption: 1); transfers are pipelined, one per
 * cycle. Area is ISAAC's bus scaled from 32 nm by the area factors of Stillmaker and Baas
 * (techscale.h); its energies by their energy fit, not with width. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: eDRAM-to-IMA bus, 384 wires, 7 mW at 1.2 GHz, 0.090 mm2. */
#define ISAAC_BUS_BIT_J (7e-3 / (384 * 1.2e9))
#define ISAAC_BUS_M2 0.090e-6

typedef struct bus {
    imc_instance base;
    double flit_bits;
    double bit_energy_j;
    int latency_cycles;
    double area_m2; /* explicit; NAN = ISAAC node-scaled */
    double leakage_w;
    double clock_hz; /* NAN = the chip clock */
    /* derived */
    double xfer_pj, area_um2, clk_hz;
} bus;

static int bus_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    bus *b = (bus *)self;
    b->clk_hz = isnan(b->clock_hz) ? env->clock_hz : b->clock_hz;
    int rc = imc_models_period(self, b->clk_hz,
                               isnan(b->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    b->xfer_pj = b->flit_bits * b->bit_energy_j * 1e12;
    if (!isnan(b->area_m2)) {
        b->area_um2 = b->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        b->area_um2 = ISAAC_BUS_M2 * 1e12 * scale;
    }
    self->cost[IMC_NOC_FLIT_HOP] = (imc_cost){b->xfer_pj, (uint32_t)b->latency_cycles};
    self->area_um2 = b->area_um2;
    self->leakage_mw = b->leakage_w * 1e3;
    self->peak_power_mw = b->xfer_pj * 1e-12 * b->clk_hz * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param bus_params[] = {
    {"flit_width", IMC_PT_REAL, IMC_DIM_DATA, 384, 1, 65536, IMC_PF_SIZE,
     IMC_OFF(bus, flit_bits), NULL,
     "bus width, bits per transfer (ISAAC eDRAM-to-IMA bus: 384 wires)"},
    {"energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, ISAAC_BUS_BIT_J, 0, 1e-9, IMC_PF_NODE,
     IMC_OFF(bus, bit_energy_j), NULL,
     "energy per bit moved (ISAAC Table I: 7 mW / (384 x 1.2 GHz) = 15.2 fJ)"},
    {"latency", IMC_PT_INT, IMC_DIM_NONE, 1, 1, 64, 0, IMC_OFF(bus, latency_cycles), NULL,
     "cycles per transfer (assumption: 1)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-4, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(bus, area_m2),
     NULL, "area of the bus; default ISAAC Table I 0.090 mm2 at 32 nm, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 10, IMC_PF_NODE, IMC_OFF(bus, leakage_w), NULL,
     "static power of the bus (ISAAC reports total power only: 0)"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL, IMC_OFF(bus, clock_hz),
     NULL, "bus clock; default the chip clock"},
};

const imc_model imc_model_noc_bus = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_NOC,
    .name = "noc/bus",
    .doc = "Shared on-tile bus, one flit_width-bit transfer per cycle; ISAAC's 384-wire "
           "eDRAM-to-IMA bus by default (15.2 fJ per bit, 0.090 mm2 at 32 nm).",
    .instance_size = sizeof(bus),
    IMC_PARAMS(bus_params),
    .init = bus_init,
    .node_m = 32e-9, /* ISAAC Table I */
};
