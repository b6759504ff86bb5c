/* arch.h -- the architecture: a tree of component-model instances built from a YAML file.
 *
 * The structs mirror the YAML tree (schema v1, documented key by key in arch-configs/README.md):
 * chip -> tile -> pe -> crossbar and its periphery, plus the chip's NoC, DRAM, global buffer
 * and digital units, the digital clock, the technology node and the mapping policy. Every
 * component slot holds an initialised instance of the model its node names, or NULL for an
 * optional component that the file leaves out. Counts are per parent (xbars per PE, PEs per
 * tile, tiles per chip). This module knows nothing of networks, mapping or time. */
#ifndef IMC_ARCH_H
#define IMC_ARCH_H

#include <stdio.h>

#include "models/model.h"
#include "sim/base/err.h"

enum { IMC_SIGNED_DIFFERENTIAL, IMC_SIGNED_OFFSET };

/* mapping.replicate: copies only as mapping.duplicate says, or spare crossbars balance. */
enum { IMC_REPLICATE_NONE, IMC_REPLICATE_AUTO };

/* Where activation x activation products (attention's Q K^T and S V) run. */
enum { IMC_MATMUL_DIGITAL, IMC_MATMUL_REWRITE, IMC_MATMUL_HOST };

typedef struct imc_mapping {
    int weight_bits;   /* bits of a quantized weight */
    int input_bits;    /* bits of a quantized input activation */
    int cell_bits;     /* bits stored per cell (<= the cell's levels); resolved at load */
    int signed_scheme; /* IMC_SIGNED_*: differential pair of columns or an offset column */
    int reprogram;     /* time-multiplex crossbars when the network does not fit */
    char *duplicate;   /* "LAYER=N,..." (LAYER may use * and ?); NULL for none */
    int replicate;     /* IMC_REPLICATE_*: auto adds copies to balance the token pipeline */
    int matmul;        /* IMC_MATMUL_*: chip.digital's MAC array, rewritten crossbars, host */
    int query_tile;    /* attention queries per Q K^T / S V op */
} imc_mapping;

typedef struct imc_pe {
    int xbars;           /* crossbars per PE */
    int columns_per_adc; /* crossbar columns sharing one ADC; resolved at load */
    int shiftadds;       /* shift-and-add units per PE */
    imc_instance *xbar, *cell, *dac, *sh, *adc, *shiftadd, *input_register, *output_register;
} imc_pe;

typedef struct imc_tile {
    int pes; /* PEs per tile */
    imc_instance *buffer, *bus, *sfu, *vector, *shiftadd, *output_register;
    imc_pe pe;
} imc_tile;

typedef struct imc_chip {
    int tiles; /* tiles per chip */
    imc_instance *noc, *dram, *global_buffer, *digital, *host;
    imc_tile tile;
} imc_chip;

typedef struct imc_arch {
    char *file;          /* the YAML it was loaded from */
    int schema;          /* schema version of the file (1) */
    double technology_m; /* technology node */
    double clock_hz;     /* digital clock */
    imc_mapping mapping;
    imc_chip chip;
    char **notes;        /* what the configuration did not do as written, though not an error
                            (a key dropped when a later layer switched its model), one line each */
    size_t n_notes;
    char **sources;      /* the files it was read from: the file, then its bases (an output
                            must not overwrite one) */
    size_t n_sources;
} imc_arch;

/* ---- component slots (declared once, in sim/arch/components.def) ------------------------ */

/* The levels of the hierarchy: one PE, one tile, the chip. */
typedef enum imc_level { IMC_LEVEL_PE, IMC_LEVEL_TILE, IMC_LEVEL_CHIP, IMC_LEVEL_COUNT } imc_level;

typedef enum imc_comp {
#define IMC_COMPONENT(ID, ...) IMC_COMP_##ID,
#include "sim/arch/components.def"
#undef IMC_COMPONENT
    IMC_COMP_COUNT
} imc_comp;

typedef struct imc_comp_info {
    const char *path; /* its YAML path and its one name in every output: "chip.tile.pe.adc" */
    imc_kind kind;    /* of the model it takes */
    int required;
    size_t offset;    /* of its imc_instance * within imc_arch */
    imc_level home;   /* the level its instance count is per */
    const char *doc;
} imc_comp_info;

const imc_comp_info *imc_comp_info_of(imc_comp comp);
/* The last part of its path ("adc") and the level of the section it sits in (PE for
 * everything under chip.tile.pe). */
const char *imc_comp_key(imc_comp comp);
imc_level imc_comp_section(imc_comp comp);
/* The instance in COMP's slot, NULL when the architecture leaves the component out. */
const imc_instance *imc_comp_instance(const imc_arch *arch, imc_comp comp);
/* Instances of COMP within one unit of LEVEL (a PE, a tile, the chip): 0 when it is absent,
 * not a separate piece of silicon, or LEVEL is below its home. */
double imc_arch_comp_count(const imc_arch *arch, imc_comp comp, imc_level level);
/* Units of LEVEL on the chip: PEs, tiles, 1. */
double imc_arch_units(const imc_arch *arch, imc_level level);
/* "pe", "tile", "chip". */
const char *imc_level_name(imc_level level);

/* Where `--arch NAME` points: NAME itself when it holds a '/' or is a file here; else the
 * first arch-configs/NAME that exists (in BUF) under $IMCSIM_DATADIR, the source tree imcsim
 * was built from and the installed data; else NAME (loading it then reports it missing). */
const char *imc_arch_find(const char *name, char *buf, size_t size);
/* The places imc_arch_find looks, as a list for an error message. */
void imc_arch_looked(char *buf, size_t size);

/* Load and check the architecture file PATH, applying N_SETS overrides in order: "PATH=VALUE"
 * sets a key (--set), "!PATH" removes one so its default applies (--unset). The file may start
 * from another (`base: NAME`, followed up to 8 files deep) and state only what differs. A key of
 * a component whose model a later layer (a file over its base, or a --set) switched is dropped
 * when the new model has no such key, with a note in arch->notes. On error *out is NULL and ERR
 * carries `FILE:LINE:COL` and `KEY.PATH: what`. */
int imc_arch_load(imc_arch **out, const char *path, const char *const *sets, size_t n_sets,
                  imc_err *err);

/* Same from YAML text; NAME is used in messages. */
int imc_arch_load_string(imc_arch **out, const char *text, const char *name,
                         const char *const *sets, size_t n_sets, imc_err *err);

/* Write the fully resolved configuration (every default filled in) as YAML. Loading the
 * output gives an identical architecture. */
void imc_arch_dump(const imc_arch *arch, FILE *out);

void imc_arch_free(imc_arch *arch);

/* Derived quantities the rest of imcsim shares. */
int imc_arch_xbar_rows(const imc_arch *arch);
int imc_arch_xbar_cols(const imc_arch *arch);
int imc_arch_dac_bits(const imc_arch *arch);
/* DAC input slices per input vector: ceil(input_bits / dac bits). */
int imc_arch_input_slices(const imc_arch *arch);
/* Cell slices of one weight: ceil(magnitude bits / cell_bits); the magnitude has
 * weight_bits - 1 bits in a differential pair, weight_bits with an offset encoding. */
int imc_arch_weight_slices(const imc_arch *arch);
/* Cells (columns) one weight occupies: its slices, doubled for a differential pair. */
int imc_arch_cells_per_weight(const imc_arch *arch);
/* Tiles one NoC router serves (the mesh's concentration; 1 for a model without one). */
double imc_arch_noc_concentration(const imc_arch *arch);
/* ADCs per crossbar: ceil(cols / columns_per_adc). */
int imc_arch_adcs_per_xbar(const imc_arch *arch);
/* Time of one input slice through one crossbar in steady state (the ISAAC pipeline stage):
 * max(crossbar read, the ADC conversions of the columns sharing one ADC), in ps. */
uint64_t imc_arch_slice_ps(const imc_arch *arch);

/* One tab-separated line documenting parameter P at PATH: key, type/unit, default, range, doc. */
void imc_param_print(FILE *out, const char *path, const imc_param *p);

/* Parse mapping.duplicate: call FN for each "PATTERN=COPIES" entry; stops at FN's non-zero
 * return. Returns -1 (and a reason in WHY) on a syntax error. */
int imc_arch_each_duplicate(const imc_arch *arch, int (*fn)(const char *pattern, int copies,
                                                             void *data),
                            void *data, char *why, size_t why_size);

/* Write one line per schema key (path, type/unit, default, range, doc) for documentation. */
void imc_arch_schema_print(FILE *out);

#endif
