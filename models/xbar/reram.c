/* xbar/reram.c -- a ReRAM crossbar array of rows x cols cells of the configured cell model.
 *
 * One `read` is one analog MVM step: every row driven for one read cycle and every column
 * current settled for the S&H (ISAAC: 100 ns). Its energy is explicit (`read_energy`) or
 * rows x cols x the cell's read energy, asked of env->cell through the typed interface, so any
 * cell model works. `write_row` programs one row: explicit, or cols x the cell's write energy
 * in the cell's write latency (cells of a row are programmed in parallel). Area: explicit or
 * rows x cols x the cell's area (no periphery; DACs, S&H and ADCs are their own components).
 * The crossbar's own clock is its read cycle (read = 1 cycle), so an ISAAC 100 ns read stays
 * exactly 100 ns instead of being rounded up to whole cycles of a 1.2 GHz clock whose period
 * is not an integer number of picoseconds; a row write takes whole read cycles. Peak power is the read power: programming is
 * a separate phase, not part of the compute peak that ISAAC's Table I reports. */
#include "models/model.h"

#include <math.h>

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
    /* derived */
    double read_pj, write_pj, area_um2;
    uint32_t read_cycles, write_cycles;
} xbar;

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

    x->read_pj = !isnan(x->read_energy_j) ? x->read_energy_j * 1e12 : cells * cell_read.energy_pj;
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
     "energy of one full-array read; default rows x cols x the cell's read energy"},
    {"write_row_latency", IMC_PT_REAL, IMC_DIM_TIME, NAN, 1e-12, 1, IMC_PF_OPTIONAL,
     IMC_OFF(xbar, write_row_latency_s), NULL,
     "time to program one row; default the cell's write latency (cells in parallel)"},
    {"write_row_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-3, IMC_PF_OPTIONAL,
     IMC_OFF(xbar, write_row_energy_j), NULL,
     "energy to program one row; default cols x the cell's write energy"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-3, IMC_PF_OPTIONAL, IMC_OFF(xbar, area_m2),
     NULL, "area of the array; default rows x cols x the cell's area"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 1, 0, IMC_OFF(xbar, leakage_w), NULL,
     "static power of the array (assumption: 0, non-volatile cells)"},
};

const imc_model imc_model_xbar_reram = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_XBAR,
    .name = "xbar/reram",
    .doc = "ReRAM crossbar of rows x cols cells; read and write costs from the cell model unless "
           "given explicitly; ISAAC's 128 x 128 array with a 100 ns read cycle by default.",
    .instance_size = sizeof(xbar),
    IMC_PARAMS(xbar_params),
    .init = xbar_init,
};
