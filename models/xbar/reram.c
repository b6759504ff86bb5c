/* xbar/reram.c -- a ReRAM crossbar array of rows x cols cells of the configured cell model.
 *
 * One `read` is one analog MVM step on one input bit slice: the rows whose input bit is 1 are
 * driven at the read voltage for the cell's read pulse, every column current settles for the
 * S&H (ISAAC: 100 ns). Its energy is explicit (`read_energy`) or derived from the physics:
 *   cells: rows x input_density x cols x V^2 x G_mean x t_pulse -- the cell's read energy,
 *          asked of env->cell through the typed interface (V^2 G_mean t, G_mean the mean of the
 *          programmed levels, the cell's level mix when no data is read), for the driven rows
 *          only: a row whose input bit is 0 is held at 0 V and draws nothing;
 *   wordlines: rows x input_density x C_wl x V^2, C_wl = cols x cell pitch x wire_cap, the
 *          pitch the side of the cell's area (2F for NeuroSim's 4F^2 crossbar cell);
 * bitlines are held at virtual ground by the S&H, so they do not swing. input_density is the
 * fraction of rows driven, 0.5 by default: an input uniform over its codes has each bit 1 half
 * the time (an assumption; give the measured density of a workload). Wire capacitance 0.2 fF
 * per um is NeuroSim's (SubArray.cpp, wordlines and bitlines); wire resistance per um is
 * rho / (w^2 x AR) with NeuroSim V2.1's table of resistivity and aspect ratio by wire width
 * (Param.cpp: 14 nm 7.43e-8 ohm m, AR 2.1; 22 nm 5.41e-8, 2.0; 32 nm 4.51e-8, 1.9; 40 nm 4.03e-8,
 * 1.9; 50 nm 3.91e-8, 2.34; 100 nm 2.73e-8, 2.3; 200 nm 2.42e-8, 2.1), w = F, geometric between
 * rows; it gives the wordline's and bitline's RC (Elmore, R C / 2), which the hardware report
 * prints with the rest of the derivation and which a read pulse shorter than 2.2 RC is refused
 * for. `write_row` programs one row: explicit, or cols x the cell's write energy
 * in the cell's write latency (cells of a row are programmed in parallel). Area: explicit or
 * rows x cols x the cell's area (no periphery; DACs, S&H and ADCs are their own components).
 * The crossbar's own clock is its read cycle (read = 1 cycle), so an ISAAC 100 ns read stays
 * exactly 100 ns instead of being rounded up to whole cycles of a 1.2 GHz clock whose period
 * is not an integer number of picoseconds; a row write takes whole read cycles. Peak power is the read power: programming is
 * a separate phase, not part of the compute peak that ISAAC's Table I reports. Leakage is 0 by
 * default, from the physics: between reads every row is undriven and every bitline at the
 * S&H's virtual ground, so no cell of the array (non-volatile, 1T1R or 0T1R) has a voltage
 * across it and none conducts; the read current is the read energy above, and the drivers and
 * converters that do leak are components of their own. PUMA's simulator (include/constants.py:
 * xbar_pow_leak = 0) and NeuroSim (no cell leakage; the periphery's is its leakage) agree. */
#include "models/model.h"

#include <math.h>
#include <stdio.h>

#include "models/common.h"

typedef struct xbar {
    imc_instance base;
    int rows, cols;
    double read_latency_s;
    double read_energy_j;      /* explicit; NAN = from the cell */
    double write_row_latency_s; /* explicit; NAN = from the cell */
    double write_row_energy_j;  /* explicit; NAN = from the cell */
    double area_m2;             /* explicit; NAN = from the cell */
    double leakage_w;
    double input_density;   /* fraction of rows driven per read */
    double wire_cap_ff_um;  /* wire capacitance per length */
    double wire_res_ohm_um; /* NAN = NeuroSim's table at the node */
    /* derived */
    double read_pj, write_pj, area_um2;
    uint32_t read_cycles, write_cycles;
} xbar;

/* NeuroSim V2.1 Param.cpp: wire width (nm), aspect ratio, resistivity (ohm m). */
static const double wire_nm[] = {14, 22, 32, 40, 50, 100, 200};
static const double wire_ar[] = {2.10, 2.00, 1.90, 1.90, 2.34, 2.30, 2.10};
static const double wire_rho[] = {7.43e-8, 5.41e-8, 4.51e-8, 4.03e-8, 3.91e-8, 2.73e-8, 2.42e-8};
#define WIRE_N 7

/* Resistance per um of a wire of width W_M (= F), geometric between the table's rows, held
 * beyond its ends. */
static double wire_res_ohm_um(double w_m)
{
    double nm = w_m * 1e9, r[WIRE_N];
    for (int i = 0; i < WIRE_N; i++)
        r[i] = wire_rho[i] / (wire_nm[i] * 1e-9 * wire_nm[i] * 1e-9 * wire_ar[i]) * 1e-6;
    if (nm <= wire_nm[0])
        return r[0];
    for (int i = 1; i < WIRE_N; i++)
        if (nm <= wire_nm[i]) {
            double t = log(nm / wire_nm[i - 1]) / log(wire_nm[i] / wire_nm[i - 1]);
            return r[i - 1] * pow(r[i] / r[i - 1], t);
        }
    return r[WIRE_N - 1];
}

/* The read energy from the physics (see the top of the file), and its derivation for the
 * hardware report. */
static int physics(xbar *x, const imc_model_env *env, double cell_pj, imc_err *err)
{
    imc_instance *self = &x->base;
    const imc_instance *cell = env->cell;
    if (!(env->technology_m > 0))
        return imc_err_set(err, IMC_EINPUT,
                           "%s: the technology node is needed for the wire capacitance (or give "
                           "read_energy)",
                           self->path);
    double v = imc_instance_get(cell, "read_voltage"), pulse = imc_instance_get(cell, "read_pulse");
    double pitch_um = sqrt(imc_model_area_um2(cell));
    double r_um =
        !isnan(x->wire_res_ohm_um) ? x->wire_res_ohm_um : wire_res_ohm_um(env->technology_m);
    double c_wl = x->cols * pitch_um * x->wire_cap_ff_um * 1e-15;
    double c_bl = x->rows * pitch_um * x->wire_cap_ff_um * 1e-15;
    double r_wl = x->cols * pitch_um * r_um, r_bl = x->rows * pitch_um * r_um;
    double tau_wl = 0.5 * r_wl * c_wl, tau_bl = 0.5 * r_bl * c_bl;
    double driven = x->rows * x->input_density;
    double cells_pj = driven * x->cols * cell_pj;
    double wl_pj = isnan(v) ? 0 : driven * c_wl * v * v * 1e12;
    x->read_pj = cells_pj + wl_pj;
    if (!isnan(pulse) && pulse < 2.2 * fmax(tau_wl, tau_bl))
        return imc_err_set(err, IMC_EINPUT,
                           "%s: the cell's read pulse (%g ps) is shorter than 2.2 x the wire RC "
                           "(%g ps): the lines would not settle",
                           self->path, pulse * 1e12, 2.2 * fmax(tau_wl, tau_bl) * 1e12);
    snprintf(self->assumptions, sizeof self->assumptions,
             "read %.4g pJ = %d rows x %g input density x %d cols x %.4g fJ per cell "
             "(cell: V^2 G_mean t) + wordlines %.4g fF each (%.3g um pitch x %g fF/um) x V^2; "
             "wire RC wordline %.3g ps, bitline %.3g ps (%.3g ohm/um)",
             x->read_pj, x->rows, x->input_density, x->cols, cell_pj * 1e3, c_wl * 1e15,
             pitch_um, x->wire_cap_ff_um, tau_wl * 1e12, tau_bl * 1e12, r_um);
    return 0;
}

static int xbar_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    xbar *x = (xbar *)self;
    const imc_instance *cell = env->cell;
    if (!cell)
        return imc_err_set(err, IMC_EINPUT,
                           "%s: a crossbar needs a cell model (e.g. cell: {model: cell/reram})",
                           self->path);
    if (cell->type->kind != IMC_KIND_CELL)
        return imc_err_set(err, IMC_EINPUT, "%s: the cell model %s is not of kind cell",
                           self->path, cell->type->name);
    if (cell->period_ps == 0)
        return imc_err_set(err, IMC_EINTERNAL, "%s: its cell %s is not initialised", self->path,
                           cell->path);
    int rc = imc_models_period(self, 1.0 / x->read_latency_s, "1 / read_latency", err);
    if (rc)
        return rc;
    double cells = (double)x->rows * x->cols;
    imc_cost cell_read = imc_model_cost(cell, IMC_CELL_READ);
    imc_cost cell_write = imc_model_cost(cell, IMC_CELL_WRITE);

    if (!isnan(x->read_energy_j)) {
        x->read_pj = x->read_energy_j * 1e12;
        self->assumptions[0] = '\0';
    } else if ((rc = physics(x, env, cell_read.energy_pj, err))) {
        return rc;
    }
    x->read_cycles = imc_cycles_for(x->read_latency_s, self->period_ps);
    x->write_pj = !isnan(x->write_row_energy_j) ? x->write_row_energy_j * 1e12
                                                : x->cols * cell_write.energy_pj;
    double write_s = !isnan(x->write_row_latency_s)
                         ? x->write_row_latency_s
                         : (double)imc_model_latency_ps(cell, IMC_CELL_WRITE) * 1e-12;
    x->write_cycles = imc_cycles_for(write_s, self->period_ps);
    x->area_um2 = !isnan(x->area_m2) ? x->area_m2 * 1e12 : cells * imc_model_area_um2(cell);
    self->cost[IMC_XBAR_READ] = (imc_cost){x->read_pj, x->read_cycles};
    self->cost[IMC_XBAR_WRITE_ROW] = (imc_cost){x->write_pj, x->write_cycles};
    self->area_um2 = x->area_um2;
    self->leakage_mw = x->leakage_w * 1e3;
    self->peak_power_mw = x->read_pj * 1e-12 / x->read_latency_s * 1e3 + self->leakage_mw;
    return 0;
}

static const imc_param xbar_params[] = {
    {"rows", IMC_PT_INT, IMC_DIM_NONE, 128, 1, 65536, 0, IMC_OFF(xbar, rows), NULL,
     "wordlines (ISAAC: 128)"},
    {"cols", IMC_PT_INT, IMC_DIM_NONE, 128, 1, 65536, 0, IMC_OFF(xbar, cols), NULL,
     "bitlines (ISAAC: 128, plus one unit column the mapper may add)"},
    {"read_latency", IMC_PT_REAL, IMC_DIM_TIME, 100e-9, 1e-12, 1e-3, 0,
     IMC_OFF(xbar, read_latency_s), NULL, "one crossbar read cycle (ISAAC: 100 ns)"},
    {"read_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-3, IMC_PF_OPTIONAL,
     IMC_OFF(xbar, read_energy_j), NULL,
     "energy of one read; default from the physics: driven rows x cols x the cell's read "
     "energy + wordline charge"},
    {"write_row_latency", IMC_PT_REAL, IMC_DIM_TIME, NAN, 1e-12, 1, IMC_PF_OPTIONAL,
     IMC_OFF(xbar, write_row_latency_s), NULL,
     "time to program one row; default the cell's write latency (cells in parallel)"},
    {"write_row_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-3, IMC_PF_OPTIONAL,
     IMC_OFF(xbar, write_row_energy_j), NULL,
     "energy to program one row; default cols x the cell's write energy"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-3, IMC_PF_OPTIONAL, IMC_OFF(xbar, area_m2),
     NULL, "area of the array; default rows x cols x the cell's area"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 1, 0, IMC_OFF(xbar, leakage_w), NULL,
     "static power of the array (0: at rest every line is at 0 V and no cell conducts; PUMA "
     "xbar_pow_leak = 0)"},
    {"input_density", IMC_PT_REAL, IMC_DIM_NONE, 0.5, 0, 1, 0, IMC_OFF(xbar, input_density),
     NULL, "fraction of rows driven per read (assumption: inputs uniform over their codes, "
           "each bit 1 half the time)"},
    {"wire_cap_ff_per_um", IMC_PT_REAL, IMC_DIM_NONE, 0.2, 0, 100, 0,
     IMC_OFF(xbar, wire_cap_ff_um), NULL,
     "wordline and bitline capacitance per um (NeuroSim SubArray.cpp: 0.2 fF/um)"},
    {"wire_res_ohm_per_um", IMC_PT_REAL, IMC_DIM_NONE, NAN, 0, 1e6, IMC_PF_OPTIONAL,
     IMC_OFF(xbar, wire_res_ohm_um), NULL,
     "wire resistance per um; default rho / (F^2 x AR), NeuroSim V2.1's table by wire width"},
};

const imc_model imc_model_xbar_reram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_XBAR,
    .name = "xbar/reram",
    .doc = "ReRAM crossbar of rows x cols cells; read energy from the physics (driven rows x "
           "cols x V^2 G t + wordline charge) unless given; ISAAC's 128 x 128, 100 ns cycle.",
    .instance_size = sizeof(xbar),
    IMC_PARAMS(xbar_params),
    .init = xbar_init,
};
