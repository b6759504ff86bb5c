/* model.h -- the plug-in interface of hardware component models.
 *
 * A model is a *type*: a const imc_model filled with designated initialisers (its kind, name,
 * documentation, parameter table, action table and functions). The core allocates *instances*
 * of type->instance_size bytes; every instance struct starts with an imc_instance header, and
 * the parameter table gives the offsets of the parameter fields within it, so one generic
 * loader fills any model from YAML (GSL's type/instance split; SQLite's versioned plug-in
 * structs). Types are found by name in the explicit registry built from models/models.def.
 *
 * Rules: models know nothing of networks, the mapper or the engine; they answer questions about
 * themselves (cost of an action, area, leakage, peak power). All values are SI doubles except
 * where a name carries its unit (energy_pj, area_um2, power_mw, period_ps). New slots are only
 * ever appended to imc_model; IMC_MODEL_ABI changes when its layout does. */
#ifndef IMC_MODEL_H
#define IMC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/err.h"
#include "sim/base/units.h"

#define IMC_MODEL_ABI 1

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
    IMC_PT_STRING /* char *, owned; architecture sections only, never model parameters */
} imc_ptype;

enum {
    IMC_PF_REQUIRED = 1u << 0, /* must be given; `def` is ignored */
    IMC_PF_OPTIONAL = 1u << 1  /* may be absent: REAL reads NAN, INT/ENUM read -1 */
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

typedef struct imc_action {
    const char *name; /* "convert", "read", "write_row", "read_bits" ... */
    const char *doc;
} imc_action;

/* Cost of one action: energy and latency in cycles of the instance's own clock. */
typedef struct imc_cost {
    double energy_pj;
    uint32_t cycles;
} imc_cost;

/* Per-kind action numbering. A model of a kind lists exactly these actions, in this order
 * (the conformance test checks it), so the engine asks for costs by constant, not by name. */
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

/* The action names every model of KIND must declare, in order; sets *n. */
const char *const *imc_kind_actions(imc_kind kind, size_t *n);

/* ---- instances ----------------------------------------------------------------------------- */

struct imc_model;

/* Header at the start of every instance. The core sets `type` and `path`; init sets
 * `period_ps`, the period of the clock the instance's action cycles count. */
typedef struct imc_instance {
    const struct imc_model *type;
    const char *path;   /* config path, e.g. "chip.tile.pe.adc" */
    uint64_t period_ps; /* > 0 after init */
} imc_instance;

/* What the core tells a model at init: the surroundings it may depend on. */
typedef struct imc_model_env {
    double clock_hz;          /* the chip's digital clock */
    double technology_m;      /* technology node, e.g. 32e-9 */
    const imc_instance *cell; /* for crossbars: the initialised cell instance, else NULL */
    double read_hz;           /* for DACs and S&H: crossbar reads per second, else 0 */
} imc_model_env;

typedef struct imc_model {
    unsigned abi; /* IMC_MODEL_ABI */
    imc_kind kind;
    const char *name; /* "<kind>/<variant>", e.g. "adc/sar" */
    const char *doc;  /* one paragraph: what it models, where its defaults come from */
    size_t instance_size;
    const imc_param *params;
    size_t n_params;
    const imc_action *actions;
    size_t n_actions;

    /* Derive internal values and check cross-parameter constraints once the parameters are
     * filled. Returns 0 or IMC_EINPUT with a message naming the parameter. */
    int (*init)(imc_instance *self, const imc_model_env *env, imc_err *err);
    /* Cost of one ACTION (an index into `actions`). */
    imc_cost (*cost)(const imc_instance *self, unsigned action);
    /* Silicon area of one instance. */
    double (*area_um2)(const imc_instance *self);
    /* Static (leakage) power of one instance. */
    double (*leakage_mw)(const imc_instance *self);
    /* Peak power of one instance: every action at its highest rate, plus leakage. */
    double (*peak_power_mw)(const imc_instance *self);
} imc_model;

/* Convenience for parameter tables: offset of FIELD in the instance struct TYPE. */
#define IMC_OFF(TYPE, FIELD) offsetof(TYPE, FIELD)

/* Typed access used by the core: one action's cost, area, leakage and peak power. */
imc_cost imc_model_cost(const imc_instance *inst, unsigned action);
double imc_model_area_um2(const imc_instance *inst);
double imc_model_leakage_mw(const imc_instance *inst);
double imc_model_peak_power_mw(const imc_instance *inst);

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
