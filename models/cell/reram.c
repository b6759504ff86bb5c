/* cell/reram.c -- one multi-level ReRAM cell: its conductance window, read and write costs,
 * and the non-idealities the reference numerics will draw from.
 *
 * A cell stores `bits` bits as 2^bits conductance levels spaced evenly in conductance between
 * 1/roff and 1/ron. A read applies read_voltage for read_pulse; its energy is V^2 x G_mean x t,
 * G_mean the mean of the levels (weights are taken as uniformly spread over the levels). A
 * write costs the explicit write_energy / write_latency. Defaults: DNN+NeuroSim V1.3 (22 nm:
 * Ron 6 kohm, Roff 900 kohm, 0.5 V / 10 ns read, 2 V write, 2 bits, crossbar cell 2F x 2F);
 * the write pulse and endurance are stated assumptions. Variation, read noise and stuck-at
 * fractions are carried for the numerics (shared/reference/components.md lists MNSIM 2.0's
 * 1 % variation and 0.1 %/0.1 % stuck-at as a realistic setting); they do not change costs.
 * A cell is non-volatile: no leakage. Action cycles count the chip's digital clock. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

typedef struct reram {
    imc_instance base;
    int bits;
    double ron_ohm, roff_ohm;
    double read_v, read_pulse_s;
    double write_energy_j, write_latency_s;
    double variation, read_noise;
    double stuck_at_0, stuck_at_1;
    double endurance;
    double area_m2; /* explicit; NAN = 4 F^2 */
    /* derived */
    double read_pj, write_pj, area_um2;
    uint32_t read_cycles, write_cycles;
} reram;

/* Mean of 2^bits conductances spaced evenly from gmin to gmax. */
static double mean_conductance(int bits, double gmin, double gmax)
{
    double levels = ldexp(1.0, bits), sum = 0;
    for (double i = 0; i < levels; i++)
        sum += gmin + (gmax - gmin) * i / (levels - 1);
    return sum / levels;
}

static int reram_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    reram *c = (reram *)self;
    char a[48], b[48];
    if (!(c->roff_ohm > c->ron_ohm))
        return imc_err_set(err, IMC_EINPUT, "%s: roff (%s) must exceed ron (%s)", self->path,
                           imc_models_fmt(c->roff_ohm, IMC_DIM_RESIST, a, sizeof a),
                           imc_models_fmt(c->ron_ohm, IMC_DIM_RESIST, b, sizeof b));
    if (c->stuck_at_0 + c->stuck_at_1 > 1)
        return imc_err_set(err, IMC_EINPUT,
                           "%s: stuck_at_0 + stuck_at_1 (%g) must not exceed 1 (all cells)",
                           self->path, c->stuck_at_0 + c->stuck_at_1);
    int rc = imc_models_period(self, env->clock_hz, "the chip clock (clock_hz)", err);
    if (rc)
        return rc;
    double g = mean_conductance(c->bits, 1 / c->roff_ohm, 1 / c->ron_ohm);
    c->read_pj = c->read_v * c->read_v * g * c->read_pulse_s * 1e12;
    c->write_pj = c->write_energy_j * 1e12;
    c->read_cycles = imc_cycles_for(c->read_pulse_s, self->period_ps);
    c->write_cycles = imc_cycles_for(c->write_latency_s, self->period_ps);
    if (!isnan(c->area_m2)) {
        c->area_um2 = c->area_m2 * 1e12;
    } else {
        if (!(env->technology_m > 0))
            return imc_err_set(err, IMC_EINPUT,
                               "%s: the technology node is needed for the 4 F^2 cell area "
                               "(or give area)",
                               self->path);
        double f_um = env->technology_m * 1e6;
        c->area_um2 = 4 * f_um * f_um;
    }
    return 0;
}

static imc_cost reram_cost(const imc_instance *self, unsigned action)
{
    const reram *c = (const reram *)self;
    if (action == IMC_CELL_WRITE)
        return (imc_cost){.energy_pj = c->write_pj, .cycles = c->write_cycles};
    return (imc_cost){.energy_pj = c->read_pj, .cycles = c->read_cycles};
}

static double reram_area(const imc_instance *self)
{
    return ((const reram *)self)->area_um2;
}

static double reram_leakage(const imc_instance *self)
{
    (void)self; /* non-volatile: nothing leaks while idle */
    return 0;
}

/* One cell does one thing at a time: the larger of read and write power. */
static double reram_peak(const imc_instance *self)
{
    const reram *c = (const reram *)self;
    double read_mw = c->read_pj * 1e-12 / c->read_pulse_s * 1e3;
    double write_mw = c->write_pj * 1e-12 / c->write_latency_s * 1e3;
    return fmax(read_mw, write_mw);
}

static const imc_param reram_params[] = {
    {"bits", IMC_PT_INT, IMC_DIM_NONE, 2, 1, 11, 0, IMC_OFF(reram, bits), NULL,
     "bits stored per cell (NeuroSim V1.3: 2; Rao et al. Nature 2023: up to 11)"},
    {"ron", IMC_PT_REAL, IMC_DIM_RESIST, 6e3, 1, 1e12, 0, IMC_OFF(reram, ron_ohm), NULL,
     "low-resistance (on) state at the read voltage (NeuroSim V1.3: 6 kohm)"},
    {"roff", IMC_PT_REAL, IMC_DIM_RESIST, 900e3, 1, 1e12, 0, IMC_OFF(reram, roff_ohm), NULL,
     "high-resistance (off) state at the read voltage (NeuroSim V1.3: 900 kohm); above ron"},
    {"read_voltage", IMC_PT_REAL, IMC_DIM_VOLTAGE, 0.5, 1e-3, 5, 0, IMC_OFF(reram, read_v),
     NULL, "read voltage across the cell (NeuroSim V1.3: 0.5 V)"},
    {"read_pulse", IMC_PT_REAL, IMC_DIM_TIME, 10e-9, 1e-12, 1e-3, 0,
     IMC_OFF(reram, read_pulse_s), NULL, "read pulse width (NeuroSim V1.3: 10 ns)"},
    {"write_energy", IMC_PT_REAL, IMC_DIM_ENERGY, 2.0 * 2.0 / 6e3 * 10e-9, 0, 1e-6, 0,
     IMC_OFF(reram, write_energy_j), NULL,
     "energy to program one cell (assumption: one 2 V NeuroSim pulse, 10 ns into 6 kohm)"},
    {"write_latency", IMC_PT_REAL, IMC_DIM_TIME, 10e-9, 1e-12, 1e-3, 0,
     IMC_OFF(reram, write_latency_s), NULL,
     "time to program one cell (assumption: one 10 ns pulse, no verify)"},
    {"variation", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(reram, variation), NULL,
     "relative sigma of the programmed conductance (MNSIM 2.0 uses 1 %)"},
    {"read_noise", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(reram, read_noise), NULL,
     "relative sigma of the conductance seen by each read"},
    {"stuck_at_0", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(reram, stuck_at_0), NULL,
     "fraction of cells stuck at the lowest conductance (MNSIM 2.0 uses 0.1 %)"},
    {"stuck_at_1", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(reram, stuck_at_1), NULL,
     "fraction of cells stuck at the highest conductance (MNSIM 2.0 uses 0.1 %)"},
    {"endurance", IMC_PT_REAL, IMC_DIM_NONE, 1e6, 1, 1e15, 0, IMC_OFF(reram, endurance), NULL,
     "write cycles a cell survives (assumption: 1e6, the low end of reported 1e6..1e12)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-6, IMC_PF_OPTIONAL, IMC_OFF(reram, area_m2),
     NULL, "area of one cell; default 4 F^2 at the node (NeuroSim crossbar cell 2F x 2F)"},
};

static const imc_action reram_actions[] = {
    {"read", "read one cell for one read pulse at the read voltage"},
    {"write", "program one cell to a level"},
};

const imc_model imc_model_cell_reram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_CELL,
    .name = "cell/reram",
    .doc = "Multi-level ReRAM cell: conductance levels evenly spaced between 1/roff and 1/ron, "
           "read energy V^2 G t, explicit write cost, non-idealities for the numerics; "
           "defaults from DNN+NeuroSim V1.3.",
    .instance_size = sizeof(reram),
    .params = reram_params,
    .n_params = sizeof reram_params / sizeof reram_params[0],
    .actions = reram_actions,
    .n_actions = sizeof reram_actions / sizeof reram_actions[0],
    .init = reram_init,
    .cost = reram_cost,
    .area_um2 = reram_area,
    .leakage_mw = reram_leakage,
    .peak_power_mw = reram_peak,
};
