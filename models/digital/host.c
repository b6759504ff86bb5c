/* digital/host.c -- a host processor core that computes what the chip hands it (attention under
 * mapping.matmul: host): a roofline of a SIMD core, `fma_per_cycle` multiply-accumulates and
 * `lanes` element operations per cycle, drawing `power` while it works.
 *
 * Defaults: one core of an Intel Xeon Platinum 8480+ (Sapphire Rapids; Intel ARK): 2.0 GHz base
 * clock; two AVX-512 FMA units, so 32 FP32 FMAs (64 FLOP) and 16 FP32 element operations per
 * cycle; the socket's 350 W TDP over its 56 cores, 6.25 W per core. Energy per cycle is power /
 * clock (3.125 nJ): a MAC costs that over fma_per_cycle (97.7 pJ), an element operation that
 * over lanes (195 pJ) times its lane operations, which follow the same published
 * decompositions as digital/vector's (exp 3, GELU 3, softmax 7, LayerNorm 7 lane operations per
 * element; add, multiply, divide, compare, sigmoid and tanh 1). The host is not on the chip:
 * it has no area, and its power counts only while it computes: its leakage is 0, since the
 * TDP share it is charged per busy cycle already includes the core's static power, and an idle
 * host core's power is the host system's, not the accelerator's. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

typedef struct host {
    imc_instance base;
    int lanes;
    int fma_per_cycle;
    double clock_hz;
    double power_w;
} host;

/* Lane operations per element of each function (digital/vector's decompositions). */
static const int lane_ops[IMC_DIGITAL_MAC] = {
    [IMC_DIGITAL_ADD] = 1,     [IMC_DIGITAL_MUL] = 1,     [IMC_DIGITAL_EXP] = 3,
    [IMC_DIGITAL_DIV] = 1,     [IMC_DIGITAL_SIGMOID] = 1, [IMC_DIGITAL_TANH] = 1,
    [IMC_DIGITAL_GELU] = 3,    [IMC_DIGITAL_LAYERNORM] = 7, [IMC_DIGITAL_SOFTMAX] = 7,
    [IMC_DIGITAL_MAX] = 1,
};

static int host_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    host *h = (host *)self;
    (void)env;
    int rc = imc_models_period(self, h->clock_hz, "clock", err);
    if (rc)
        return rc;
    double cycle_pj = h->power_w / h->clock_hz * 1e12;
    for (int f = 0; f < IMC_DIGITAL_MAC; f++)
        self->cost[f] = (imc_cost){cycle_pj / h->lanes * lane_ops[f], (uint32_t)lane_ops[f]};
    self->cost[IMC_DIGITAL_MAC] = (imc_cost){cycle_pj / h->fma_per_cycle, 1};
    self->area_um2 = 0;   /* off the chip */
    self->leakage_mw = 0; /* the TDP per busy cycle includes it; idle, it is the host's */
    self->peak_power_mw = h->power_w * 1e3;
    return 0;
}

static const imc_param host_params[] = {
    {"lanes", IMC_PT_INT, IMC_DIM_NONE, 16, 1, 65536, 0, IMC_OFF(host, lanes), NULL,
     "element operations per cycle (Xeon 8480+: AVX-512, 16 FP32 lanes)"},
    {"mac_units", IMC_PT_INT, IMC_DIM_NONE, 32, 1, 1 << 20, 0, IMC_OFF(host, fma_per_cycle), NULL,
     "multiply-accumulates per cycle (Xeon 8480+: two AVX-512 FMA units, 32 FP32 FMAs)"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, 2.0e9, 1e6, 1e11, 0, IMC_OFF(host, clock_hz), NULL,
     "core clock (Xeon 8480+ base: 2.0 GHz, Intel ARK)"},
    {"power", IMC_PT_REAL, IMC_DIM_POWER, 350.0 / 56, 1e-3, 1e4, 0, IMC_OFF(host, power_w), NULL,
     "power while computing (Xeon 8480+: 350 W TDP / 56 cores = 6.25 W per core)"},
};

const imc_model imc_model_digital_host = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_DIGITAL,
    .name = "digital/host",
    .doc = "A host processor core (roofline: MACs and element operations per cycle, power while "
           "busy) for attention under mapping.matmul: host; defaults one Xeon 8480+ core.",
    .instance_size = sizeof(host),
    IMC_PARAMS(host_params),
    .init = host_init,
};
