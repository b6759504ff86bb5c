/* ledger.c -- counts of actions per (layer, op class, component, action); energy derived
 * (see ledger.h). Rows are found through a small open-addressing hash on the key, and the
 * engine's charges through a direct index in front of it (find_row). */
#include "sim/engine/ledger.h"

#include <stdlib.h>
#include <string.h>

#include "sim/base/mix64.h"
#include "sim/flow/dataflow.h"
#include "sim/base/outfile.h"

typedef struct row {
    uint32_t name;
    uint16_t cls;
    uint16_t comp;
    unsigned action;
    double count;
} row;

struct imc_ledger {
    const imc_arch *arch;
    const char **names; /* a copy of the array; the strings stay the caller's */
    size_t n_names;
    row *rows;
    size_t n, cap;
    uint32_t *slots; /* hash slots: row index + 1, 0 = empty */
    size_t n_slots;
    double traffic[IMC_MEM_COUNT];
    uint32_t chip_name; /* the pseudo-layer leakage is charged to */
    int closed;
    /* find_row's index: per (class, component, action), an array over the names of row index
     * + 1 (0: not looked up yet), made at the key's first charge */
    uint32_t **by_name;
};

/* Actions find_row indexes; a component kind has fewer (leakage's rows take the hash). */
#define INDEXED_ACTIONS 32
#define INDEXED_KEYS ((size_t)IMC_CLS_COUNT * IMC_COMP_COUNT * INDEXED_ACTIONS)

static const char *const mem_names[IMC_MEM_COUNT] = {
    [IMC_MEM_XBAR_WRITE] = "crossbar_writes", [IMC_MEM_PE_BUFFERS] = "pe_buffers",
    [IMC_MEM_TILE_BUFFER] = "tile_buffer",    [IMC_MEM_GLOBAL_BUFFER] = "global_buffer",
    [IMC_MEM_NOC] = "noc",                    [IMC_MEM_DRAM] = "dram",
};

const char *imc_mem_level_name(imc_mem_level level)
{
    return level < IMC_MEM_COUNT ? mem_names[level] : "?";
}

const char *imc_comp_action_name(const imc_ledger *l, imc_comp comp, unsigned action)
{
    if (action == IMC_LEDGER_LEAKAGE)
        return "leakage";
    const imc_instance *inst = imc_comp_instance(l->arch, comp);
    size_t n;
    const imc_action *actions = inst ? imc_kind_actions(inst->type->kind, &n) : NULL;
    return actions && action < n ? actions[action].name : "?";
}

imc_ledger *imc_ledger_new(const imc_arch *arch, const char *const *names, size_t n_names)
{
    imc_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->arch = arch;
    if (!(l->names = malloc((n_names ? n_names : 1) * sizeof *l->names))) {
        free(l);
        return NULL;
    }
    memcpy(l->names, names, n_names * sizeof *l->names);
    l->n_names = n_names;
    if (!(l->by_name = calloc(INDEXED_KEYS, sizeof *l->by_name))) {
        free(l->names);
        free(l);
        return NULL;
    }
    l->chip_name = UINT32_MAX;
    return l;
}

void imc_ledger_free(imc_ledger *l)
{
    if (!l)
        return;
    for (size_t k = 0; l->by_name && k < INDEXED_KEYS; k++)
        free(l->by_name[k]);
    free(l->by_name);
    free(l->rows);
    free(l->slots);
    free(l->names);
    free(l);
}

/* The key packed into 64 bits (name 32, class 8, component 8, action 16) through splitmix64's
 * finaliser, whose every output bit depends on every input bit: the slot is its low bits.
 * (Multiplying the fields apart left the low bits clustered: 3.5 probes per lookup at 41 %
 * load, against 1.3 expected.) */
static uint64_t hash_key(uint32_t name, unsigned cls, unsigned comp, unsigned action)
{
    uint64_t z = name | (uint64_t)(cls & 0xff) << 32 | (uint64_t)(comp & 0xff) << 40 |
                 (uint64_t)(action & 0xffff) << 48;
    return imc_mix64(z);
}

static int grow_slots(imc_ledger *l)
{
    size_t n = l->n_slots ? 2 * l->n_slots : 256;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        const row *r = &l->rows[i];
        size_t s = hash_key(r->name, r->cls, r->comp, r->action) & (n - 1);
        while (slots[s])
            s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(l->slots);
    l->slots = slots;
    l->n_slots = n;
    return 0;
}

/* The row of key (NAME, CLS, COMP, ACTION), added with a zero count if new: its index, or -1
 * when out of memory. */
static long row_of(imc_ledger *l, uint32_t name, int cls, imc_comp comp, unsigned action)
{
    if (2 * (l->n + 1) > l->n_slots && grow_slots(l))
        return -1;
    size_t s = hash_key(name, (unsigned)cls, comp, action) & (l->n_slots - 1);
    for (; l->slots[s]; s = (s + 1) & (l->n_slots - 1)) {
        const row *r = &l->rows[l->slots[s] - 1];
        if (r->name == name && r->cls == cls && r->comp == comp && r->action == action)
            return (long)l->slots[s] - 1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        row *rows = realloc(l->rows, cap * sizeof *rows);
        if (!rows)
            return -1;
        l->rows = rows;
        l->cap = cap;
    }
    l->rows[l->n] = (row){name, (uint16_t)cls, (uint16_t)comp, action, 0};
    l->slots[s] = (uint32_t)++l->n;
    return (long)l->n - 1;
}

/* row_of through the direct index: two loads for a key seen before, where the hash took some
 * 70 instructions (callgrind: row_of was 5 % of a timing-only FAR-S run's, the engine charges
 * some 370 K times). */
static long find_row(imc_ledger *l, uint32_t name, int cls, imc_comp comp, unsigned action)
{
    if (name >= l->n_names || cls < 0 || cls >= IMC_CLS_COUNT || comp >= IMC_COMP_COUNT ||
        action >= INDEXED_ACTIONS)
        return row_of(l, name, cls, comp, action);
    uint32_t **rows = &l->by_name[((size_t)cls * IMC_COMP_COUNT + comp) * INDEXED_ACTIONS + action];
    if (!*rows && !(*rows = calloc(l->n_names, sizeof **rows)))
        return -1;
    uint32_t *r = &(*rows)[name];
    if (!*r) {
        long i = row_of(l, name, cls, comp, action);
        if (i < 0)
            return -1;
        *r = (uint32_t)i + 1;
    }
    return (long)*r - 1;
}

int imc_ledger_add(imc_ledger *l, uint32_t name, int cls, imc_comp comp, unsigned action,
                   double count)
{
    if (count == 0)
        return 0;
    long i = find_row(l, name, cls, comp, action);
    if (i < 0)
        return IMC_ENOMEM;
    l->rows[i].count += count;
    return 0;
}

int imc_ledger_memo_switch(imc_ledger *l, imc_ledger_memo *m, uint32_t name, int cls,
                           imc_comp comp, unsigned action, double count)
{
    if (count == 0)
        return 0;
    imc_ledger_memo_flush(l, m);
    long i = find_row(l, name, cls, comp, action);
    if (i < 0)
        return IMC_ENOMEM;
    *m = (imc_ledger_memo){name, cls, (uint32_t)i + 1, count};
    return 0;
}

void imc_ledger_memo_flush(imc_ledger *l, imc_ledger_memo *m)
{
    if (m->row)
        l->rows[m->row - 1].count += m->pending;
    m->pending = 0;
}

void imc_ledger_traffic(imc_ledger *l, imc_mem_level level, double bits)
{
    if (level < IMC_MEM_COUNT)
        l->traffic[level] += bits;
}

int imc_ledger_close(imc_ledger *l, uint64_t sim_ps, const double instances[IMC_COMP_COUNT])
{
    if (l->closed)
        return 0;
    l->closed = 1;
    l->chip_name = (uint32_t)l->n_names; /* one past the names: printed as "chip" */
    for (int c = 0; c < IMC_COMP_COUNT; c++) {
        const imc_instance *inst = imc_comp_instance(l->arch, (imc_comp)c);
        if (!inst || instances[c] <= 0 || imc_model_leakage_mw(inst) <= 0)
            continue;
        /* count = instance-picoseconds; energy = count x leakage (mW x ps = 1e-3 pJ) */
        int rc = imc_ledger_add(l, l->chip_name, IMC_CLS_LEAKAGE, (imc_comp)c, IMC_LEDGER_LEAKAGE,
                                instances[c] * (double)sim_ps);
        if (rc)
            return rc;
    }
    return 0;
}

static double row_energy(const imc_ledger *l, const row *r)
{
    const imc_instance *inst = imc_comp_instance(l->arch, (imc_comp)r->comp);
    if (!inst)
        return 0;
    if (r->action == IMC_LEDGER_LEAKAGE)
        return r->count * imc_model_leakage_mw(inst) * 1e-3;
    return r->count * imc_model_cost(inst, r->action).energy_pj;
}

size_t imc_ledger_rows(const imc_ledger *l)
{
    return l->n;
}

imc_ledger_row imc_ledger_row_at(const imc_ledger *l, size_t i)
{
    const row *r = &l->rows[i];
    imc_ledger_row out = {
        .layer = r->name < l->n_names ? l->names[r->name] : "chip",
        .op_class = r->cls,
        .comp = (imc_comp)r->comp,
        .action = r->action,
        .count = r->count,
        .energy_pj = row_energy(l, r),
    };
    return out;
}

double imc_ledger_total_pj(const imc_ledger *l)
{
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
        sum += row_energy(l, &l->rows[i]);
    return sum;
}

double imc_ledger_comp_pj(const imc_ledger *l, imc_comp comp)
{
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->rows[i].comp == comp)
            sum += row_energy(l, &l->rows[i]);
    return sum;
}

double imc_ledger_traffic_bits(const imc_ledger *l, imc_mem_level level)
{
    return level < IMC_MEM_COUNT ? l->traffic[level] : 0;
}

void imc_ledger_csv(const imc_ledger *l, const char *model, FILE *out, int header)
{
    if (header)
        fprintf(out, "model,layer,op,component,level,action,count,energy_pj\n");
    for (size_t i = 0; i < l->n; i++) {
        imc_ledger_row r = imc_ledger_row_at(l, i);
        imc_csv_field(out, model);
        fputc(',', out);
        imc_csv_field(out, r.layer);
        fprintf(out, ",%s,%s,%s,%s,%.17g,%.17g\n",
                imc_op_class_name((imc_op_class)r.op_class), imc_comp_info_of(r.comp)->path,
                imc_level_name(imc_comp_section(r.comp)), imc_comp_action_name(l, r.comp, r.action), r.count,
                r.energy_pj);
    }
}
