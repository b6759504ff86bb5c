/* digital/vector.c -- a digital vector unit: `lanes` element-wise lanes for the non-linear and
 * normalisation work around the crossbars (softmax, layernorm, GELU, the LSTM gates ...), plus
 * an optional array of `mac_units` MAC units for activation x activation products (attention's
 * Q K^T and S V when the config puts them there).
 *
 * A lane is PUMA's vector functional unit (Ankit et al., ASPLOS 2019, Table 3; its simulator's
 * include/constants.py): a 16-bit fixed-point ALU of one add, multiply or divide per cycle
 * (0.265, 0.565 and 1.08 pJ; 0.0040 mm2; 0.19 mW leakage) beside a lookup-table unit for
 * sigmoid and tanh (ISAAC's sigmoid unit as PUMA takes it: 0.234 pJ, 1 cycle, 0.0003 mm2,
 * 0.026 mW). PUMA's figures are 45 nm synthesis scaled by 32/45 to 32 nm, so every default here
 * is quoted at 32 nm. The other functions are costed as the lane operations of their published
 * integer or piecewise-linear forms, one lane operation per cycle: exp as I-BERT's range
 * reduction (a multiply and an add) and a table lookup (Kim et al., ICML 2021); GELU as a
 * 16-entry piecewise-linear table (a compare-select lookup, a multiply, an add: NN-LUT, Yu et
 * al., DAC 2022); softmax per element as max, subtract, exp, sum and scale (plus one divide per
 * row, which the dataflow counts); LayerNorm per element as 4 adds and 3 multiplies (mean,
 * variance, normalise, scale, shift; plus one reciprocal square root per row, counted as a
 * divide). MAC: an 8-bit multiply with a 32-bit accumulate, Horowitz ISSCC 2014 at 45 nm
 * (0.2 + 0.1 pJ; 282 + 137 um2) scaled to 32 nm by Stillmaker and Baas (Integration 58, 2017:
 * energy x0.65 at 0.9 V; area x(32/45)^2); other precisions scale it by (mac_bits / 8)^2, the
 * multiplier's quadratic growth (Horowitz: 8-bit 0.2 pJ, 32-bit 3.1 pJ). Area: explicit, or
 * lanes x (ALU + lookup unit) + mac_units x MAC, scaled from 32 nm by the area factors of
 * Stillmaker and Baas (techscale.h); its energies by their energy fit. Leakage: PUMA's, per
 * lane 0.19 mW for the ALU and 0.026 mW for the lookup unit (constants.py: alu_pow_leak
 * 0.27 x 32/45 mW; act_pow_leak 0.026 mW, 10 % of ISAAC's 0.26 mW sigmoid unit); a MAC unit,
 * for which Horowitz gives energy only, leaks at the PUMA ALU's leakage per area (0.19 mW in
 * its 4000 um2, 47.5 nW per um2, the same 16-bit synthesis) times its own area (212 um2 for
 * int8 at 32 nm: 10.1 uW); all follow the node by Stillmaker and Baas's power fit. The lane
 * energies are PUMA's dynamic figures, so nothing is counted twice. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* PUMA VFU lane at 32 nm (constants.py: 45 nm synthesis x 32/45) and ISAAC's lookup unit. */
#define P_ADD 0.265e-12
#define P_MUL 0.565e-12
#define P_DIV 1.08e-12
#define P_LUT 0.234e-12
#define P_LANE_UM2 (4000.0 + 300.0)
#define P_LANE_LEAK_W (0.19e-3 + 0.026e-3)
#define P_ALU_LEAK_W_UM2 (0.19e-3 / 4000.0) /* PUMA ALU leakage per um2, for the MAC units */
/* int8 MAC at 32 nm: Horowitz 45 nm 8b mult + 32b add, x0.65 (Stillmaker-Baas, 45 -> 32 nm) */
#define H_MAC8 ((0.2e-12 + 0.1e-12) * 0.65)
#define H_MAC8_UM2 ((282.0 + 137.0) * (32.0 / 45) * (32.0 / 45))

#define N_ELEM_OPS IMC_DIGITAL_MAC /* every action but mac is an element op of a lane */

typedef struct vec {
    imc_instance base;
    int lanes;
    double energy_j[N_ELEM_OPS];
    int cycles[N_ELEM_OPS];
    int mac_units;
    int mac_bits;
    double mac_energy_j; /* explicit; NAN = the int8 MAC scaled to mac_bits */
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
    double mac_scale = (double)v->mac_bits / 8 * v->mac_bits / 8;
    double e_scale, p_scale;
    if ((rc = imc_models_tech(self, env, IMC_TECH_ENERGY, 32e-9, &e_scale, err)) ||
        (rc = imc_models_tech(self, env, IMC_TECH_POWER, 32e-9, &p_scale, err)))
        return rc;
    double mac_j = !isnan(v->mac_energy_j) ? v->mac_energy_j : H_MAC8 * mac_scale * e_scale;
    if (!isnan(v->area_m2)) {
        v->area_um2 = v->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        v->area_um2 = (v->lanes * P_LANE_UM2 + v->mac_units * H_MAC8_UM2 * mac_scale) * scale;
    }
    for (int i = 0; i < N_ELEM_OPS; i++)
        self->cost[i] = (imc_cost){v->energy_j[i] * 1e12, (uint32_t)v->cycles[i]};
    self->cost[IMC_DIGITAL_MAC] = (imc_cost){mac_j * 1e12, 1}; /* pipelined */
    self->area_um2 = v->area_um2;
    double mac_leak_w = v->mac_units * H_MAC8_UM2 * mac_scale * P_ALU_LEAK_W_UM2;
    self->leakage_mw =
        (isnan(v->leakage_w) ? (v->lanes * P_LANE_LEAK_W + mac_leak_w) * p_scale : v->leakage_w) *
        1e3;
    double lane_j = 0;
    for (int i = 0; i < N_ELEM_OPS; i++)
        lane_j = fmax(lane_j, v->energy_j[i] / v->cycles[i]);
    self->peak_power_mw =
        (v->lanes * lane_j + v->mac_units * mac_j) * v->clk_hz * 1e3 + self->leakage_mw;
    return 0;
}

/* Two parameters per element operation: its energy and its lane cycles. */
#define OP(IDX, KEY, J, CYC, WHY)                                                                \
    {KEY "_energy", IMC_PT_REAL, IMC_DIM_ENERGY, J, 0, 1e-6, IMC_PF_NODE,                       \
     IMC_OFF(vec, energy_j[IDX]), NULL, "energy per element of " KEY " at 32 nm (" WHY ")"},     \
    {KEY "_cycles", IMC_PT_INT, IMC_DIM_NONE, CYC, 1, 4096, 0, IMC_OFF(vec, cycles[IDX]), NULL,  \
     "lane cycles per element of " KEY " (" WHY ")"}

static const imc_param vec_params[] = {
    {"lanes", IMC_PT_INT, IMC_DIM_NONE, 16, 1, 65536, IMC_PF_SIZE, IMC_OFF(vec, lanes), NULL,
     "element-wise lanes, each a PUMA VFU ALU with a lookup unit (a design choice: 16)"},
    OP(IMC_DIGITAL_ADD, "add", P_ADD, 1, "PUMA VFU add: 0.265 pJ, 1 cycle"),
    OP(IMC_DIGITAL_MUL, "mul", P_MUL, 1, "PUMA VFU multiply: 0.565 pJ, 1 cycle"),
    OP(IMC_DIGITAL_EXP, "exp", P_MUL + P_ADD + P_LUT, 3,
       "I-BERT range reduction, mul + add, then a lookup: 3 lane ops"),
    OP(IMC_DIGITAL_DIV, "div", P_DIV, 1, "PUMA VFU divide: 1.08 pJ, 1 cycle"),
    OP(IMC_DIGITAL_SIGMOID, "sigmoid", P_LUT, 1, "ISAAC/PUMA lookup unit: 0.234 pJ, 1 cycle"),
    OP(IMC_DIGITAL_TANH, "tanh", P_LUT, 1, "ISAAC/PUMA lookup unit: 0.234 pJ, 1 cycle"),
    OP(IMC_DIGITAL_GELU, "gelu", P_LUT + P_MUL + P_ADD, 3,
       "NN-LUT 16-entry piecewise linear: lookup + mul + add"),
    OP(IMC_DIGITAL_LAYERNORM, "layernorm", 4 * P_ADD + 3 * P_MUL, 7,
       "mean, variance, normalise, scale, shift: 4 add + 3 mul"),
    OP(IMC_DIGITAL_SOFTMAX, "softmax", 3 * P_ADD + P_MUL + P_MUL + P_ADD + P_LUT, 7,
       "max, subtract, exp, sum, scale: 3 add + mul + exp"),
    OP(IMC_DIGITAL_MAX, "max", P_ADD, 1, "a compare costs a PUMA VFU add"),
    {"mac_units", IMC_PT_INT, IMC_DIM_NONE, 0, 0, 1 << 20, IMC_PF_SIZE,
     IMC_OFF(vec, mac_units), NULL,
     "MAC units for activation x activation products, one MAC each per cycle (0 = none)"},
    {"mac_bits", IMC_PT_INT, IMC_DIM_NONE, 8, 1, 32, IMC_PF_SIZE, IMC_OFF(vec, mac_bits), NULL,
     "operand bits of a MAC (int8 by default, as the activations)"},
    {"mac_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(vec, mac_energy_j), NULL,
     "energy per MAC; default Horowitz 45 nm int8 mult + 32-bit add, 0.3 pJ, x0.65 to 32 nm "
     "(Stillmaker-Baas) = 0.195 pJ, x(mac_bits / 8)^2"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-3, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(vec, area_m2),
     NULL, "explicit area; default lanes x 4300 um2 (PUMA VFU + lookup) + mac_units x MAC, "
           "node-scaled from 32 nm"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, NAN, 0, 10, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(vec, leakage_w),
     NULL, "static power; default lanes x 0.216 mW (PUMA VFU 0.19 + lookup 0.026 mW at 32 nm) "
           "+ mac_units x MAC area x 47.5 nW/um2 (PUMA ALU leakage per area), node-scaled"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL, IMC_OFF(vec, clock_hz),
     NULL, "unit clock; default the chip clock"},
};

#undef OP

const imc_model imc_model_digital_vector = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DIGITAL,
    .name = "digital/vector",
    .doc = "Digital vector unit: PUMA VFU lanes with an ISAAC lookup unit for special functions "
           "and norms (costs at 32 nm), plus an optional int8 MAC array (Horowitz, scaled).",
    .instance_size = sizeof(vec),
    IMC_PARAMS(vec_params),
    .init = vec_init,
    .node_m = 32e-9, /* PUMA's VFU and ISAAC's lookup unit, quoted at 32 nm */
};
