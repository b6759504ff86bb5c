/* cell/reram.c -- one multi-level ReRAM cell: its conductance window, read and write costs,
 * and the non-idealities the reference numerics draw from.
 *
 * A cell stores `bits` bits as 2^bits conductance levels spaced evenly in conductance between
 * 1/roff and 1/ron; a programmed cell lands on its level with a relative spread `variation`
 * (one sigma), or is stuck at the lowest or highest level. A read applies read_voltage for
 * read_pulse; its energy is V^2 x G_mean x t, G_mean the mean of the levels (weights are taken as
 * uniformly spread over the levels). A write costs the explicit write_energy / write_latency.
 * Defaults: DNN+NeuroSim V1.3 (22 nm: Ron 6 kohm, Roff 900 kohm, 0.5 V / 10 ns read, 2 V write,
 * 2 bits, crossbar cell 2F x 2F); the write pulse and endurance are stated assumptions. MNSIM
 * 2.0 (Zhu et al., TCAD 2023) uses 1 % variation and 0.1 %/0.1 % stuck-at as a realistic
 * setting; the non-idealities do not change costs. The shared behaviour, including the
 * numerics hooks, is cell_common.h's. */
#include "models/cell/cell_common.h"

typedef struct reram {
    imc_cell_base c; /* first */
    double ron_ohm, roff_ohm;
    double variation;
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
    reram *r = (reram *)self;
    char a[48], b[48];
    if (!(r->roff_ohm > r->ron_ohm))
        return imc_err_set(err, IMC_EINPUT, "%s: roff (%s) must exceed ron (%s)", self->path,
                           imc_models_fmt(r->roff_ohm, IMC_DIM_RESIST, a, sizeof a),
                           imc_models_fmt(r->ron_ohm, IMC_DIM_RESIST, b, sizeof b));
    int top = (1 << r->c.bits) - 1;
    double gmin = 1 / r->roff_ohm, step = (1 / r->ron_ohm - gmin) / top;
    for (int l = 0; l <= top; l++) {
        r->c.level_g[l] = gmin + l * step;
        r->c.level_sigma[l] = r->variation * r->c.level_g[l];
    }
    return imc_cell_finish(self, env, mean_conductance(r->c.bits, gmin, 1 / r->ron_ohm), err);
}

static const imc_param reram_params[] = {
    {"bits", IMC_PT_INT, IMC_DIM_NONE, 2, 1, IMC_CELL_MAX_BITS, 0, IMC_OFF(reram, c.bits), NULL,
     "bits stored per cell (NeuroSim V1.3: 2; Rao et al. Nature 2023: up to 11)"},
    {"ron", IMC_PT_REAL, IMC_DIM_RESIST, 6e3, 1, 1e12, 0, IMC_OFF(reram, ron_ohm), NULL,
     "low-resistance (on) state at the read voltage (NeuroSim V1.3: 6 kohm)"},
    {"roff", IMC_PT_REAL, IMC_DIM_RESIST, 900e3, 1, 1e12, 0, IMC_OFF(reram, roff_ohm), NULL,
     "high-resistance (off) state at the read voltage (NeuroSim V1.3: 900 kohm); above ron"},
    IMC_CELL_PULSE_PARAMS(reram),
    {"variation", IMC_PT_REAL, IMC_DIM_NONE, 0, 0, 1, 0, IMC_OFF(reram, variation), NULL,
     "relative sigma of the programmed conductance (MNSIM 2.0 uses 1 %)"},
    IMC_CELL_FAULT_PARAMS(reram),
};

const imc_model imc_model_cell_reram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_CELL,
    .name = "cell/reram",
    .doc = "Multi-level ReRAM cell: conductance levels evenly spaced between 1/roff and 1/ron, "
           "read energy V^2 G t, explicit write cost, non-idealities for the numerics; "
           "defaults from DNN+NeuroSim V1.3.",
    .instance_size = sizeof(reram),
    IMC_PARAMS(reram_params),
    .init = reram_init,
    .cell = &imc_cell_common_ops,
};
