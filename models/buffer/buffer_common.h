/* buffer_common.h -- what buffer/sram and buffer/edram share: the instance struct, the
 * parameter table (as a macro taking each technology's defaults) and the functions. Included
 * by exactly those two model files; each supplies its CACTI table (cacti_tables.h) and its
 * const imc_model.
 *
 * A buffer of `capacity` bits in `banks` banks is accessed `width` bits at a time; a read or
 * write takes one cycle of its clock (`clock`, default the chip clock). Its costs come, in order
 * of precedence, from an explicit read_energy / write_energy; an explicit energy_per_bit x
 * width; or the power laws fitted to CACTI 7 runs at 32 nm (cacti_tables.h) at the width and
 * the capacity of ONE bank (an access drives one bank's bitlines and wordlines, whose length
 * grows as the square root of the bank), scaled to the run's node by Stillmaker and Baas's
 * energy fit (techscale.h). Leakage: explicit, else the fit for one bank x banks, by their
 * power fit. Area: explicit; else capacity x bit_area_f2 x F^2 when bit_area_f2 is given; else
 * the fit for one bank x banks, by their area factors. Peak: every bank accessing every cycle
 * at the dearer of read and write, plus leakage. Whatever was derived is printed in the
 * hardware report (the instance's assumptions line). */
#ifndef IMC_MODELS_BUFFER_COMMON_H
#define IMC_MODELS_BUFFER_COMMON_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/buffer/cacti_tables.h"
#include "models/common.h"
#include "models/model.h"

typedef struct buffer {
    imc_instance base;
    double capacity_bits, width_bits;
    int banks;
    double bit_energy_j;                  /* explicit per bit; NAN = the CACTI fit */
    double read_energy_j, write_energy_j; /* explicit per access; NAN = see above */
    double clock_hz;                      /* NAN = the chip clock */
    double bit_area_f2;                   /* explicit; NAN = the CACTI fit */
    double area_m2;                       /* explicit; NAN = see above */
    double leakage_w;                     /* explicit; NAN = the CACTI fit */
    /* derived */
    double read_pj, write_pj, area_um2, clk_hz;
} buffer;

/* One memory technology's CACTI table. */
typedef struct imc_buffer_tech {
    const char *name; /* "SRAM", "eDRAM" in the report */
    const imc_cacti_row *rows;
    size_t n_rows;
    int write_from_read; /* the table's write column is not used: a write costs a read */
} imc_buffer_tech;

/* The parameter table; the defaults that differ between technologies are the arguments. */
#define IMC_BUFFER_PARAMS(BANKS, BANKS_DOC, TECH)                                                 \
    {"capacity", IMC_PT_REAL, IMC_DIM_DATA, 64 * 1024 * 8.0, 1, 1099511627776.0, IMC_PF_SIZE,   \
     IMC_OFF(buffer, capacity_bits), NULL, "storage capacity (ISAAC tile buffer: 64 KB)"},       \
    {"width", IMC_PT_REAL, IMC_DIM_DATA, 256, 1, 65536, IMC_PF_SIZE, IMC_OFF(buffer, width_bits), \
     NULL, "bits per access (ISAAC tile buffer: 256-bit bus)"},                                  \
    {"banks", IMC_PT_INT, IMC_DIM_NONE, BANKS, 1, 1024, IMC_PF_SIZE, IMC_OFF(buffer, banks),    \
     NULL, BANKS_DOC},                                                                           \
    {"energy_per_bit", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9,                               \
     IMC_PF_OPTIONAL | IMC_PF_NODE, IMC_OFF(buffer, bit_energy_j), NULL,                         \
     "explicit energy per bit read or written; default the CACTI 7 " TECH                        \
     " fit (32 nm) at width and capacity / banks, node-scaled"},                                 \
    {"read_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,   \
     IMC_OFF(buffer, read_energy_j), NULL,                                                       \
     "explicit energy per width-bit read; default energy_per_bit x width or the CACTI fit"},     \
    {"write_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-6, IMC_PF_OPTIONAL | IMC_PF_NODE,  \
     IMC_OFF(buffer, write_energy_j), NULL,                                                      \
     "explicit energy per width-bit write; default energy_per_bit x width or the CACTI fit"},    \
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL,                       \
     IMC_OFF(buffer, clock_hz), NULL, "access clock, one access per bank per cycle; default the " \
                                      "chip clock"},                                             \
    {"bit_area_f2", IMC_PT_REAL, IMC_DIM_NONE, NAN, 1, 1e4, IMC_PF_OPTIONAL,                    \
     IMC_OFF(buffer, bit_area_f2), NULL,                                                         \
     "explicit area per bit in F^2 (area = capacity x bit_area_f2 x F^2); default the CACTI "    \
     "fit"},                                                                                     \
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-2, IMC_PF_OPTIONAL | IMC_PF_NODE,            \
     IMC_OFF(buffer, area_m2), NULL,                                                             \
     "explicit area of the buffer; default bit_area_f2 or the CACTI 7 " TECH                     \
     " fit per bank x banks, node-scaled"},                                                      \
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, NAN, 0, 10, IMC_PF_OPTIONAL | IMC_PF_NODE,          \
     IMC_OFF(buffer, leakage_w), NULL,                                                           \
     "explicit static power of the buffer; default the CACTI 7 " TECH                            \
     " fit per bank x banks (32 nm, 360 K), node-scaled by the power fit"}

/* The node factor for METRIC, asked only when a figure must be derived. */
static inline int buffer_scale(imc_instance *self, const imc_model_env *env,
                               imc_tech_metric metric, double *scale, imc_err *err)
{
    return imc_models_tech(self, env, metric, IMC_CACTI_NODE_M, scale, err);
}

static inline int imc_buffer_init(imc_instance *self, const imc_model_env *env,
                                  const imc_buffer_tech *tech, imc_err *err)
{
    buffer *b = (buffer *)self;
    char w[48], c[48], line[sizeof self->assumptions] = "";
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
    double scale;
    /* energies: explicit per access, explicit per bit, or the fit at one bank's size */
    int fit_read = isnan(b->read_energy_j) && isnan(b->bit_energy_j);
    int fit_write = isnan(b->write_energy_j) && isnan(b->bit_energy_j);
    double fit_read_pj = NAN, fit_write_pj = NAN;
    if (fit_read || fit_write) {
        if ((rc = buffer_scale(self, env, IMC_TECH_ENERGY, &scale, err)))
            return rc;
        imc_cacti_law r = imc_cacti_fit(tech->rows, tech->n_rows, IMC_CACTI_READ);
        imc_cacti_law wr = tech->write_from_read
                               ? r
                               : imc_cacti_fit(tech->rows, tech->n_rows, IMC_CACTI_WRITE);
        fit_read_pj = imc_cacti_eval(r, b->width_bits, per_bank) * scale;
        fit_write_pj = imc_cacti_eval(wr, b->width_bits, per_bank) * scale;
        if (fit_read && fit_write)
            snprintf(line, sizeof line,
                     "read %.4g pJ, write %.4g pJ = CACTI 7 %s fits %.3g w^%.3f C^%.3f, %.3g "
                     "w^%.3f C^%.3f (w %g, C %g bit per bank) x %.3g",
                     fit_read_pj, fit_write_pj, tech->name, r.k, r.a, r.b, wr.k, wr.a, wr.b,
                     b->width_bits, per_bank, scale);
        else
            snprintf(line, sizeof line,
                     "%s %.4g pJ = CACTI 7 %s fit %.3g w^%.3f C^%.3f (w %g, C %g bit per bank) "
                     "x %.3g",
                     fit_read ? "read" : "write", fit_read ? fit_read_pj : fit_write_pj,
                     tech->name, fit_read ? r.k : wr.k, fit_read ? r.a : wr.a,
                     fit_read ? r.b : wr.b, b->width_bits, per_bank, scale);
    }
    double bit_pj = b->bit_energy_j * b->width_bits * 1e12;
    b->read_pj = !isnan(b->read_energy_j) ? b->read_energy_j * 1e12
                 : !isnan(b->bit_energy_j) ? bit_pj
                                           : fit_read_pj;
    b->write_pj = !isnan(b->write_energy_j) ? b->write_energy_j * 1e12
                  : !isnan(b->bit_energy_j) ? bit_pj
                                            : fit_write_pj;
    /* leakage: explicit, or the fit for one bank x banks */
    if (!isnan(b->leakage_w)) {
        self->leakage_mw = b->leakage_w * 1e3;
    } else {
        if ((rc = buffer_scale(self, env, IMC_TECH_POWER, &scale, err)))
            return rc;
        imc_cacti_law l = imc_cacti_fit(tech->rows, tech->n_rows, IMC_CACTI_LEAKAGE);
        self->leakage_mw = imc_cacti_eval(l, b->width_bits, per_bank) * b->banks * scale;
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, "%sleakage %.4g mW = %d x %.3g w^%.3f C^%.3f x %.3g",
                 len ? "; " : "", self->leakage_mw, b->banks, l.k, l.a, l.b, scale);
    }
    /* area: explicit, per F^2, or the fit for one bank x banks */
    if (!isnan(b->area_m2)) {
        b->area_um2 = b->area_m2 * 1e12;
    } else if (!isnan(b->bit_area_f2)) {
        if (!(env->technology_m > 0))
            return imc_err_set(err, IMC_EINPUT,
                               "%s: the technology node is needed to derive the area "
                               "(or give area)",
                               self->path);
        double f_um = env->technology_m * 1e6;
        b->area_um2 = b->capacity_bits * b->bit_area_f2 * f_um * f_um;
    } else {
        if ((rc = buffer_scale(self, env, IMC_TECH_AREA, &scale, err)))
            return rc;
        imc_cacti_law a = imc_cacti_fit(tech->rows, tech->n_rows, IMC_CACTI_AREA);
        b->area_um2 = imc_cacti_eval(a, b->width_bits, per_bank) * 1e6 * b->banks * scale;
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, "%sarea %.4g um2 = %d x %.3g w^%.3f C^%.3f mm2 x %.3g",
                 len ? "; " : "", b->area_um2, b->banks, a.k, a.a, a.b, scale);
    }
    snprintf(self->assumptions, sizeof self->assumptions, "%s", line);
    self->cost[IMC_BUFFER_READ] = (imc_cost){b->read_pj, 1};
    self->cost[IMC_BUFFER_WRITE] = (imc_cost){b->write_pj, 1};
    self->area_um2 = b->area_um2;
    self->peak_power_mw =
        b->banks * fmax(b->read_pj, b->write_pj) * 1e-12 * b->clk_hz * 1e3 + self->leakage_mw;
    return 0;
}

#endif
