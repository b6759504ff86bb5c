/* digital/vector.c -- a digital vector unit: `lanes` element-wise lanes for the non-linear and
 * normalisation work around the crossbars (softmax, layernorm, GELU, the LSTM gates ...), plus
 * an optional array of `mac_units` MAC units for activation x activation products (attention's
 * Q K^T and A V when the config puts them here).
 *
 * Each element operation has an energy per element and the cycles a lane is busy with it.
 * Defaults assume an FP16 datapath built from one adder and one multiplier per lane, with
 * Horowitz's 45 nm figures (ISSCC 2014: fp16 add 0.4 pJ / 1360 um2, fp16 mult 1.1 pJ /
 * 1640 um2); the special functions are costed as the add/mul sequences named in each doc
 * string (assumptions; energies are not node-scaled). MAC = fp16 mult + add. Area: explicit,
 * or (lanes + mac_units) x (adder + multiplier) scaled by (technology / 45 nm)^2. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* Horowitz, ISSCC 2014, 45 nm, fp16: energy and area of an adder and a multiplier. */
#define H_ADD 0.4e-12
#define H_MUL 1.1e-12
#define H_LANE_UM2 (1360.0 + 1640.0)
#define H_EXP (4 * H_MUL + 4 * H_ADD)
#define H_DIV (5 * H_MUL + 2 * H_ADD)
#define H_SIGMOID (H_EXP + H_ADD + H_DIV)

#define N_ELEM_OPS IMC_DIGITAL_MAC /* every action but mac is an element op of a lane */

typedef struct vec {
    imc_instance base;
    int lanes;
    double energy_j[N_ELEM_OPS];
    int cycles[N_ELEM_OPS];
    int mac_units;
    double mac_energy_j;
    double area_m2; /* explicit; NAN = Horowitz lanes, node-scaled */
    double leakage_w;
    double clock_hz; /* NAN = the chip clock */
    /* derived */
    double clk_hz, area_um2;
} vec;

static int vec_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    vec *v = (vec *)self;
    v->clk_hz = isnan(v->clock_hz) ? env->clock_hz : v->clock_hz;
    int rc = imc_models_period(self, v->clk_hz,
                               isnan(v->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    if (!isnan(v->area_m2)) {
        v->area_um2 = v->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 45e-9, &scale, err)))
            return rc;
        v->area_um2 = (double)(v->lanes + v->mac_units) * H_LANE_UM2 * scale;
    }
    for (int i = 0; i < N_ELEM_OPS; i++)
        self->cost[i] = (imc_cost){v->energy_j[i] * 1e12, (uint32_t)v->cycles[i]};
    self->cost[IMC_DIGITAL_MAC] = (imc_cost){v->mac_energy_j * 1e12, 1}; /* pipelined */
    self->area_um2 = v->area_um2;
    self->leakage_mw = v->leakage_w * 1e3;
    double lane_j = 0;
    for (int i = 0; i < N_ELEM_OPS; i++)
        lane_j = fmax(lane_j, v->energy_j[i] / v->cycles[i]);
    self->peak_power_mw =
        (v->lanes * lane_j + v->mac_units * v->mac_energy_j) * v->clk_hz * 1e3 + self->leakage_mw;
    return 0;
}

/* Every lane on its most power-hungry operation, every MAC unit busy, each cycle. */
/* Two parameters per element operation: its energy and its lane cycles. */
#define OP(IDX, KEY, J, CYC, WHY)                                                                \
    {KEY "_energy", IMC_PT_REAL, IMC_DIM_ENERGY, J, 0, 1e-6, 0, IMC_OFF(vec, energy_j[IDX]),      \
     NULL, "energy per element of " KEY " (" WHY ")"},                                           \
    {KEY "_cycles", IMC_PT_INT, IMC_DIM_NONE, CYC, 1, 4096, 0, IMC_OFF(vec, cycles[IDX]), NULL,  \
     "lane cycles per element of " KEY " (assumption)"}

static const imc_param vec_params[] = {
    {"lanes", IMC_PT_INT, IMC_DIM_NONE, 16, 1, 65536, 0, IMC_OFF(vec, lanes), NULL,
     "element-wise lanes, each one adder + one multiplier (assumption: 16)"},
    OP(IMC_DIGITAL_ADD, "add", H_ADD, 1, "Horowitz ISSCC 2014, 45 nm fp16 add: 0.4 pJ"),
    OP(IMC_DIGITAL_MUL, "mul", H_MUL, 1, "Horowitz ISSCC 2014, 45 nm fp16 mult: 1.1 pJ"),
    OP(IMC_DIGITAL_EXP, "exp", H_EXP, 4, "assumption: range reduction + cubic, 4 mul + 4 add"),
    OP(IMC_DIGITAL_DIV, "div", H_DIV, 5, "assumption: 2 Newton-Raphson steps + mul, 5 mul + 2 add"),
    OP(IMC_DIGITAL_SIGMOID, "sigmoid", H_SIGMOID, 10, "assumption: 1/(1+exp(-x)), exp + add + div"),
    OP(IMC_DIGITAL_TANH, "tanh", H_SIGMOID + H_MUL + H_ADD, 12,
       "assumption: 2 sigmoid(2x) - 1, sigmoid + mul + add"),
    OP(IMC_DIGITAL_GELU, "gelu", H_SIGMOID + 2 * H_MUL, 12,
       "assumption: x sigmoid(1.702 x), sigmoid + 2 mul"),
    OP(IMC_DIGITAL_LAYERNORM, "layernorm", 4 * H_ADD + 3 * H_MUL, 4,
       "assumption: mean, variance, normalise, scale, shift: 4 add + 3 mul"),
    OP(IMC_DIGITAL_SOFTMAX, "softmax", H_EXP + 3 * H_ADD + H_MUL, 7,
       "assumption: max, subtract, exp, sum, scale: exp + 3 add + mul"),
    OP(IMC_DIGITAL_MAX, "max", H_ADD, 1, "assumption: a compare costs an fp16 add"),
    {"mac_units", IMC_PT_INT, IMC_DIM_NONE, 0, 0, 1 << 20, 0, IMC_OFF(vec, mac_units), NULL,
     "MAC units for activation x activation products, one MAC each per cycle (0 = none)"},
    {"mac_energy", IMC_PT_REAL, IMC_DIM_ENERGY, H_MUL + H_ADD, 0, 1e-6, 0,
     IMC_OFF(vec, mac_energy_j), NULL, "energy per MAC (Horowitz 45 nm: fp16 mult + add, 1.5 pJ)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-3, IMC_PF_OPTIONAL, IMC_OFF(vec, area_m2),
     NULL, "explicit area; default (lanes + mac_units) x 3000 um2 (Horowitz 45 nm), node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 10, 0, IMC_OFF(vec, leakage_w), NULL,
     "static power of the unit (assumption: 0)"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL, IMC_OFF(vec, clock_hz),
     NULL, "unit clock; default the chip clock"},
};

#undef OP

const imc_model imc_model_digital_vector = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DIGITAL,
    .name = "digital/vector",
    .doc = "Digital vector unit (element-wise lanes for special functions and norms, plus an "
           "optional MAC array); FP16 costs from Horowitz ISSCC 2014 (45 nm), assumptions named.",
    .instance_size = sizeof(vec),
    IMC_PARAMS(vec_params),
    .init = vec_init,
};
