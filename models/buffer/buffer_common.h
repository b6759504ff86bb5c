/* buffer_common.h -- what buffer/sram and buffer/edram share: the instance struct, the
 * parameter table (as a macro taking each technology's defaults) and the functions. Included
 * by exactly those two model files; each supplies its defaults and its const imc_model.
 *
 * A buffer of `capacity` bits in `banks` banks is accessed `width` bits at a time; a read or
 * write takes one cycle of its clock (`clock`, default the chip clock) and costs an explicit
 * per-access energy or energy_per_bit x width. Area is explicit or capacity x bit_area_f2 x F^2
 * at the technology node. Peak: every bank accessing every cycle at the dearer of read and
 * write, plus leakage. */
#ifndef IMC_MODELS_BUFFER_COMMON_H
#define IMC_MODELS_BUFFER_COMMON_H

#include <math.h>

#include "models/common.h"
#include "models/model.h"

typedef struct buffer {
    imc_instance base;
    double capacity_bits, width_bits;
    int banks;
    double bit_energy_j;
    double read_energy_j, write_energy_j; /* explicit per access; NAN = bit energy x width */
    double clock_hz;                      /* NAN = the chip clock */
    double bit_area_f2;
    double area_m2; /* explicit; NAN = capacity x bit_area_f2 x F^2 */
    double leakage_w;
    /* derived */
    double read_pj, write_pj, area_um2, clk_hz;
} buffer;

/* The parameter table; the defaults that differ between technologies are the arguments. */
#define IMC_BUFFER_PARAMS(BANKS, BANKS_DOC, BIT_J, BIT_J_DOC, BIT_F2, BIT_F2_DOC)               \
    {"capacity", IMC_PT_REAL, IMC_DIM_DATA, 64 * 1024 * 8.0, 1, 1099511627776.0, IMC_PF_SIZE,   \
     IMC_OFF(buffer, capacity_bits), NULL, "storage capacity (ISAAC tile buffer: 64 KB)"},       \
    {"width", IMC_PT_REAL, IMC_DIM_DATA, 256, 1, 65536, IMC_PF_SIZE, IMC_OFF(buffer, width_bits), \
     NULL, "bits per access (ISAAC tile buffer: 256-bit bus)"},                                  \
    {"banks", IMC_PT_INT, IMC_DIM_NONE, BANKS, 1, 1024, 0, IMC_OFF(buffer, banks), NULL,        \
     BANKS_DOC},                                                                                 \
    {"energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, BIT_J, 0, 1e-9, IMC_PF_NODE,                \
     IMC_OFF(buffer, bit_energy_j), NULL, BIT_J_DOC},                                            \
    {"read_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,   \
     IMC_OFF(buffer, read_energy_j), NULL,                                                       \
     "explicit energy per width-bit read; default energy_per_bit x width"},                      \
    {"write_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,  \
     IMC_OFF(buffer, write_energy_j), NULL,                                                      \
     "explicit energy per width-bit write; default energy_per_bit x width"},                     \
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL,                       \
     IMC_OFF(buffer, clock_hz), NULL, "access clock, one access per bank per cycle; default the " \
                                      "chip clock"},                                             \
    {"bit_area_f2", IMC_PT_REAL, IMC_DIM_NONE, BIT_F2, 1, 1e4, 0, IMC_OFF(buffer, bit_area_f2), \
     NULL, BIT_F2_DOC},                                                                          \
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-2, IMC_PF_OPTIONAL | IMC_PF_NODE,            \
     IMC_OFF(buffer, area_m2), NULL,                                                             \
     "explicit area of the buffer; default capacity x bit_area_f2 x F^2"},                       \
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 10, IMC_PF_NODE, IMC_OFF(buffer, leakage_w),  \
     NULL, "static power of the buffer (assumption: 0; give a CACTI figure for a real design)"}

static inline int imc_buffer_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    buffer *b = (buffer *)self;
    char w[48], c[48];
    double per_bank = b->capacity_bits / b->banks;
    if (b->width_bits > per_bank)
        return imc_err_set(err, IMC_EINPUT,
                           "%s: width (%s) exceeds the capacity of one bank (%s = capacity / banks)",
                           self->path, imc_models_fmt(b->width_bits, IMC_DIM_DATA, w, sizeof w),
                           imc_models_fmt(per_bank, IMC_DIM_DATA, c, sizeof c));
    b->clk_hz = isnan(b->clock_hz) ? env->clock_hz : b->clock_hz;
    int rc = imc_models_period(self, b->clk_hz,
                               isnan(b->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    double access_pj = b->bit_energy_j * b->width_bits * 1e12;
    b->read_pj = isnan(b->read_energy_j) ? access_pj : b->read_energy_j * 1e12;
    b->write_pj = isnan(b->write_energy_j) ? access_pj : b->write_energy_j * 1e12;
    if (!isnan(b->area_m2)) {
        b->area_um2 = b->area_m2 * 1e12;
    } else {
        if (!(env->technology_m > 0))
            return imc_err_set(err, IMC_EINPUT,
                               "%s: the technology node is needed to derive the area "
                               "(or give area)",
                               self->path);
        double f_um = env->technology_m * 1e6;
        b->area_um2 = b->capacity_bits * b->bit_area_f2 * f_um * f_um;
    }
    self->cost[IMC_BUFFER_READ] = (imc_cost){b->read_pj, 1};
    self->cost[IMC_BUFFER_WRITE] = (imc_cost){b->write_pj, 1};
    self->area_um2 = b->area_um2;
    self->leakage_mw = b->leakage_w * 1e3;
    self->peak_power_mw =
        b->banks * fmax(b->read_pj, b->write_pj) * 1e-12 * b->clk_hz * 1e3 + self->leakage_mw;
    return 0;
}

#endif
