/* model.h -- the plug-in interface of hardware component models.
 *
 * A model is a *type*: a const imc_model filled with designated initialisers (its kind, name,
 * documentation, parameter table, init, and for the kinds that touch the signal its numerics
 * hooks). The core allocates *instances* of type->instance_size bytes; every instance struct
 * starts with an imc_instance header, and the parameter table gives the offsets of the
 * parameter fields within it, so one generic loader fills any model from YAML (GSL's
 * type/instance split; SQLite's versioned plug-in structs). init derives what the core asks of
 * a component (each action's cost, area, leakage, peak power) into the header. Types are found
 * by name in the explicit registry, the model list of models/local.mk.
 *
 * Rules: models know nothing of networks, the mapper or the engine; they answer questions about
 * themselves, and the numerics reach a device only through its hooks (imc_cell_ops, ...), never
 * by a parameter's name. All values are SI doubles except where a name carries its unit
 * (energy_pj, area_um2, power_mw, period_ps). New slots are only ever appended to imc_model;
 * IMC_MODEL_ABI changes when its layout does, and the registry refuses a model of another ABI. */
#ifndef IMC_MODEL_H
#define IMC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/err.h"
#include "sim/base/normal.h"
#include "sim/base/units.h"

#define IMC_MODEL_ABI 5

typedef enum imc_kind {
    IMC_KIND_CELL,
    IMC_KIND_XBAR,
    IMC_KIND_DAC,
    IMC_KIND_ADC,
    IMC_KIND_SH,
    IMC_KIND_SHIFTADD,
    IMC_KIND_BUFFER,
    IMC_KIND_NOC,
    IMC_KIND_DRAM,
    IMC_KIND_DIGITAL,
    IMC_KIND_COUNT
} imc_kind;

/* Short name of a kind as used in model names ("adc" in "adc/sar"). */
const char *imc_kind_name(imc_kind kind);

/* ---- parameters ------------------------------------------------------------------------ */

typedef enum imc_ptype {
    IMC_PT_REAL, /* double, a quantity of dimension `dim` in SI */
    IMC_PT_INT,  /* int */
    IMC_PT_BOOL, /* int, 0 or 1 */
    IMC_PT_ENUM, /* int, index into `choices` */
    IMC_PT_STRING /* char *, owned (freed with its instance); NULL when unset */
} imc_ptype;

enum {
    IMC_PF_REQUIRED = 1u << 0, /* must be given; `def` is ignored */
    IMC_PF_OPTIONAL = 1u << 1, /* may be absent: REAL reads NAN, INT/ENUM read -1 */
    IMC_PF_PATH = 1u << 2,     /* STRING: a file name, relative to the YAML file that gives it;
                                  the loader stores it resolved */
    IMC_PF_NODE = 1u << 3,     /* REAL: a CMOS figure that follows the technology node by its
                                  dimension (energy, power, area, time, rate; techscale.h). The
                                  loader scales a default from the model's node_m, and a value a
                                  file gives from the node that file states, to the run's node */
    IMC_PF_SIZE = 1u << 4      /* a size the component's costs depend on (bits, rows, capacity):
                                  the loader refuses a cost a file gives explicitly when a later
                                  layer (a --set, a file over its base) changes a size */
};

typedef struct imc_param {
    const char *key;            /* YAML key, e.g. "bits" */
    imc_ptype type;
    imc_dim dim;                /* REAL only; IMC_DIM_NONE for a plain number */
    double def;                 /* default (SI); for ENUM the index */
    double min, max;            /* inclusive range (SI) */
    unsigned flags;             /* IMC_PF_* */
    size_t offset;              /* of the field in the instance (or config) struct */
    const char *const *choices; /* ENUM: NULL-terminated names */
    const char *doc;            /* one line, with its source where a number comes from a paper */
} imc_param;

/* ---- actions ----------------------------------------------------------------------------- */

/* Cost of one action: energy and latency in cycles of the instance's own clock. */
typedef struct imc_cost {
    double energy_pj;
    uint32_t cycles;
} imc_cost;

/* Per-kind action numbering: every model of a kind has exactly these actions (their names and
 * meanings: imc_kind_actions), so the engine asks for costs by constant, not by name. */
enum { IMC_CELL_READ, IMC_CELL_WRITE, IMC_CELL_N_ACTIONS };
enum { IMC_XBAR_READ, IMC_XBAR_WRITE_ROW, IMC_XBAR_N_ACTIONS };
enum { IMC_DAC_CONVERT, IMC_DAC_N_ACTIONS };
enum { IMC_ADC_CONVERT, IMC_ADC_N_ACTIONS };
enum { IMC_SH_SAMPLE, IMC_SH_N_ACTIONS };
enum { IMC_SHIFTADD_ADD, IMC_SHIFTADD_N_ACTIONS };
enum { IMC_BUFFER_READ, IMC_BUFFER_WRITE, IMC_BUFFER_N_ACTIONS };
enum { IMC_NOC_FLIT_HOP, IMC_NOC_N_ACTIONS };
enum { IMC_DRAM_READ_BITS, IMC_DRAM_WRITE_BITS, IMC_DRAM_N_ACTIONS };
enum {
    IMC_DIGITAL_ADD,
    IMC_DIGITAL_MUL,
    IMC_DIGITAL_EXP,
    IMC_DIGITAL_DIV,
    IMC_DIGITAL_SIGMOID,
    IMC_DIGITAL_TANH,
    IMC_DIGITAL_GELU,
    IMC_DIGITAL_LAYERNORM,
    IMC_DIGITAL_SOFTMAX,
    IMC_DIGITAL_MAX,
    IMC_DIGITAL_MAC,
    IMC_DIGITAL_N_ACTIONS
};
#define IMC_ACTIONS_MAX IMC_DIGITAL_N_ACTIONS /* the most actions a kind has */

typedef struct imc_action {
    const char *name; /* "convert", "read", "write_row", "read_bits" ... */
    const char *doc;
} imc_action;

/* The actions of KIND, in the order of its constants above; sets *n. */
const imc_action *imc_kind_actions(imc_kind kind, size_t *n);

/* ---- instances ----------------------------------------------------------------------------- */

struct imc_model;

/* Header at the start of every instance. The core sets `type` and `path`; the model's init
 * sets everything else: the period of the clock its action cycles count, the cost of each of
 * its kind's actions, and its area, leakage and peak power. The core reads only these (through
 * the typed accessors below), so a model is its parameters and an init. */
typedef struct imc_instance {
    const struct imc_model *type;
    const char *path;               /* config path, e.g. "chip.tile.pe.adc" */
    uint64_t period_ps;             /* > 0 after init */
    imc_cost cost[IMC_ACTIONS_MAX]; /* per action of the kind */
    double area_um2;                /* silicon area of one instance */
    double leakage_mw;              /* static power, drawn whenever the chip is powered */
    double peak_power_mw;           /* every action at its highest sustained rate, + leakage */
    char assumptions[320];          /* how init derived a cost from physics or a published fit,
                                       one line for the hardware report; "" when given */
} imc_instance;

/* What the core tells a model at init: the surroundings it may depend on. */
typedef struct imc_model_env {
    double clock_hz;          /* the chip's digital clock */
    double technology_m;      /* technology node, e.g. 32e-9 */
    const imc_instance *cell; /* for crossbars: the initialised cell instance, else NULL */
    double read_hz;           /* for DACs and S&H: crossbar reads per second, else 0 */
} imc_model_env;

/* ---- numerics hooks: how the kinds that touch the signal shape it -------------------------- */

/* A cell (kind cell). Levels are 0 .. 2^bits - 1; their nominal conductances increase. */
typedef struct imc_cell_ops {
    /* The nominal conductance of LEVEL, in siemens. */
    double (*level_g)(const imc_instance *self, int level);
    /* Program N cells (one crossbar row's used cells, in column order) to LEVEL[k] each: G[k]
     * is the conductance the cell ends up with, in siemens, with the model's own variation and
     * faults drawn from RNG (sim/base/normal.h), and nothing drawn when the model has none.
     * The caller seeds RNG per crossbar row from the run's seed, so the same row programs to
     * the same conductances every time: the IMC pass reprograms a layer's cells when it
     * multiplies by them instead of keeping a float per cell. */
    void (*program)(const imc_instance *self, const int *level, double *g, size_t n,
                    imc_normal_rng *rng);
    /* N column values read from one crossbar (each a sum of cells' conductances x inputs, in
     * units of the step between nominal levels; the IMC pass passes one input vector's reads
     * of the crossbar, slice after slice): perturb them as a read does (read noise), drawing
     * from a stream seeded by SEED (sim/base/normal.h). The pass derives SEED from the run's
     * seed and the reads' place, so reads may run in any order, on any thread, with the same
     * results. */
    void (*read)(const imc_instance *self, float *v, size_t n, uint64_t seed);
    /* 1 when program returns the nominal level and read changes nothing, for every setting
     * of this instance: the IMC pass may then compute exactly without drawing. */
    int (*exact)(const imc_instance *self);
} imc_cell_ops;

/* An ADC (kind adc): its transfer function. */
typedef struct imc_adc_ops {
    /* Convert N column values in place to codes 0 .. 2^bits - 1: V[k] x INV_STEP is the value
     * in LSBs. imc_adc_ideal_convert is the ideal uniform quantizer (round half up, clip). */
    void (*convert)(const imc_instance *self, float *v, size_t n, float inv_step);
    /* 1 when convert is the ideal quantizer for every setting of this instance. */
    int (*exact)(const imc_instance *self);
} imc_adc_ops;

/* A DAC (kind dac): the analog levels it drives. */
typedef struct imc_dac_ops {
    /* The value driven for each code 0 .. N - 1 (N = 2^bits), in units of one ideal LSB. */
    void (*levels)(const imc_instance *self, float *level, int n);
    /* 1 when level k is exactly k for every setting of this instance. */
    int (*exact)(const imc_instance *self);
} imc_dac_ops;

/* ---- the model type ------------------------------------------------------------------------- */

typedef struct imc_model {
    unsigned abi; /* IMC_MODEL_ABI */
    imc_kind kind;
    const char *name; /* "<kind>/<variant>", e.g. "adc/sar" */
    const char *doc;  /* one paragraph: what it models, where its defaults come from */
    size_t instance_size;
    const imc_param *params;
    size_t n_params;

    /* Derive the header's values (period, costs, area, leakage, peak power) and internal ones
     * once the parameters are filled; check cross-parameter constraints. Returns 0 or
     * IMC_EINPUT with a message naming the parameter. */
    int (*init)(imc_instance *self, const imc_model_env *env, imc_err *err);

    /* Numerics hooks: required for the kinds cell, adc and dac, NULL for the others. */
    const imc_cell_ops *cell;
    const imc_adc_ops *adc;
    const imc_dac_ops *dac;

    /* The technology node the model's built-in numbers are quoted at (ISAAC's 32 nm ...), from
     * which the loader scales its IMC_PF_NODE defaults and init scales its derived ones; 0 for
     * a model whose costs are not CMOS circuits (device physics, off-chip parts). */
    double node_m;
} imc_model;

/* Check that TYPE is a model this build can use: its ABI, name, kind, parameter table (the
 * kind's required parameters, defaults within range) and hooks. The registry runs it on every
 * model before an architecture is loaded. */
int imc_model_check(const imc_model *type, imc_err *err);

/* The ideal uniform quantizer of a BITS-bit ADC (see imc_adc_ops.convert). */
void imc_adc_ideal_convert(int bits, float *v, size_t n, float inv_step);

/* The hooks of an ADC that is the ideal quantizer of its bits, and of a DAC whose levels are
 * ideal: what a model without non-idealities points its .adc or .dac at. */
extern const imc_adc_ops imc_adc_ideal_ops;
extern const imc_dac_ops imc_dac_ideal_ops;

/* In a model's const imc_model: its parameter table and its length. */
#define IMC_PARAMS(table) .params = table, .n_params = sizeof table / sizeof table[0]

/* Convenience for parameter tables: offset of FIELD in the instance struct TYPE. */
#define IMC_OFF(TYPE, FIELD) offsetof(TYPE, FIELD)

/* Typed access used by the core: one action's cost, area, leakage and peak power. */
imc_cost imc_model_cost(const imc_instance *inst, unsigned action);
double imc_model_area_um2(const imc_instance *inst);
double imc_model_leakage_mw(const imc_instance *inst);
double imc_model_peak_power_mw(const imc_instance *inst);

/* The kind-required "bits" of a cell, DAC or ADC instance (levels = 2^bits). */
int imc_model_bits(const imc_instance *inst);

/* Latency of one action in picoseconds (cycles x the instance's period). */
uint64_t imc_model_latency_ps(const imc_instance *inst, unsigned action);

/* Parameters every model of KIND must declare (the core reads them by key, e.g. a crossbar's
 * "rows"); NULL-terminated. The conformance test checks them. */
const char *const *imc_kind_required_params(imc_kind kind);

/* The declared parameter KEY of TYPE, or NULL. */
const imc_param *imc_model_param(const imc_model *type, const char *key);

/* Read a parameter of an instance by key, as a double (INT/BOOL/ENUM are converted); NAN if
 * the model has no such parameter or an optional one is unset. */
double imc_instance_get(const imc_instance *inst, const char *key);

/* Allocate an instance of TYPE with every parameter at its default (optional ones unset) and
 * the header filled; PATH is copied. NULL when out of memory. Not yet initialised. */
imc_instance *imc_instance_new(const imc_model *type, const char *path);

/* Run the model's init (after parameters are set). */
int imc_instance_init(imc_instance *inst, const imc_model_env *env, imc_err *err);

void imc_instance_free(imc_instance *inst);

/* Helpers for models: the clock period for a frequency, rounded to the nearest ps (>= 1). */
uint64_t imc_period_ps(double hz);
/* Cycles of PERIOD_PS needed to cover SECONDS (rounded up, >= 1). */
uint32_t imc_cycles_for(double seconds, uint64_t period_ps);

#endif
