/* engine_impl.h -- the engine's state, shared by engine.c (events and the work of each op) and
 * bounds.c (what bounded the run: critical path, bottleneck, utilisation). Nothing outside
 * sim/engine includes it.
 *
 * Every piece of hardware that serves one thing at a time is a resource with a timeline: the
 * tick until which it is taken, its service time and its queueing time. A resource stands for
 * one component instance (or a group that works as one: a layer copy's crossbars and their
 * ADCs, a NoC link), and knows which component of the table (components.def) it is, so every
 * report names it by that component. */
#ifndef IMC_ENGINE_IMPL_H
#define IMC_ENGINE_IMPL_H

#include "sim/engine/engine.h"

typedef struct resource {
    uint64_t free_ps;    /* taken until */
    uint64_t busy_ps;    /* service, all inferences */
    uint64_t wait_ps;    /* what ops spent queueing for it, all inferences */
    imc_comp comp;       /* the component it is */
    uint32_t name;       /* offset of its label in the engine's label text */
} resource;

/* One stage of one op of the first inference, for the critical path: it waited WAIT_PS for
 * resource RES, then took SERVICE_PS (its service, plus any fixed latency after it). */
typedef struct segment {
    uint32_t res;
    uint8_t func;        /* the digital function (IMC_DIGITAL_*) on SFUs and vector units, else
                            0xff */
    uint64_t wait_ps, service_ps;
} segment;

/* What the first inference's op instances did, for the critical path. */
typedef struct op_record {
    uint64_t ready_ps, end_ps;
    uint32_t crit_pred;  /* the dependency whose output arrived last, UINT32_MAX for none */
    uint64_t arrive_ps;  /* when that output arrived (after its transfer) */
    uint32_t first_seg, n_segs;
    uint64_t held_ps;    /* how long it waited for room in a full buffer */
} op_record;

/* A tile buffer's room for outputs waiting for their consumers (back-pressure; see
 * reserve_room). */
typedef struct room {
    double capacity_bits, used_bits;
    uint64_t *wait_ops;  /* ops (inference << 32 | op) waiting for room, in order */
    size_t n_wait, cap_wait;
} room;

/* The charges of an MVM's fetch stage (mvm_stage), in the order they are made. */
#define MVM_CHARGES 13

/* What an MVM of a layer costs that depends on its data sizes only (the same for nearly all of
 * a layer's MVMs): worked out once per (in, out), not once per op (mvm_cost_of). */
typedef struct mvm_cost {
    uint64_t in_bits, out_bits;   /* the sizes it is for; in_bits UINT64_MAX: none yet */
    uint64_t read_ps, bus_ps;     /* the input's tile buffer read and bus transfer */
    uint64_t write_ps;            /* the output's tile buffer write */
    double count[MVM_CHARGES];    /* the fetch's charges, in mvm_charges' order */
} mvm_cost;

typedef struct layer_rt {
    int copies;
    int64_t *tile;       /* [copy]: the home tile, where inputs arrive and outputs leave */
    int n_tiles;         /* tiles one copy spans */
    int *xbars_in_tile;  /* [copy * n_tiles + k]: crossbars of the copy in its k-th tile */
    uint32_t *pipe;      /* [copy]: resource of the copy's crossbar + ADC pipeline */
    uint64_t stage_ps;   /* max(R, A) */
    uint64_t first_ps;   /* R + A: the first slice */
    int xbars;           /* crossbars of one copy */
    double dac_conv;     /* per vector, per slice */
    double cols_used;    /* converted columns of one copy, per slice */
    imc_ledger_memo memo[MVM_CHARGES]; /* the ledger rows of mvm_stage's charges */
    mvm_cost cost;
} layer_rt;

typedef struct tile_rt {
    uint32_t buffer, bus, sfu, vector; /* resources */
} tile_rt;

/* What the engine reads of a component on every op, looked up once (by name, a string compare
 * per key) when the run starts. */
typedef struct unit_rt {
    const imc_instance *inst; /* NULL: the architecture has none */
    double width;             /* a buffer's port, or a bus's flit, in bits (>= 1) */
    double banks;             /* a buffer's banks (>= 1) */
    double lanes;             /* a digital unit's lanes (>= 1) */
} unit_rt;

/* A tile an output went to, and when it arrived there (window_send). */
typedef struct served_at {
    int64_t tile;
    uint64_t at;
} served_at;

typedef struct engine {
    const imc_arch *arch;
    unit_rt units[IMC_COMP_COUNT];
    const imc_placement *place;
    const imc_flow *g;
    const imc_engine_opts *opts;
    imc_ledger *ledger;
    served_at *served;  /* the tiles the finishing op's output went to for sliding windows */
    size_t n_served, cap_served;
    imc_kernel *kernel;
    imc_err *err;
    int batch;
    int slices;
    double psum_bits;    /* a partial sum leaving a crossbar's shift-add */
    layer_rt *layers;
    tile_rt *tiles;
    int64_t n_tiles;
    room *rooms;         /* [tile]: its buffer's room for waiting data; NULL: unbounded */
    /* resources */
    resource *res;
    size_t n_res, cap_res;
    char *labels;        /* "tile 3 sfu\0layer blocks.0.mlp.fc1 copy 0\0..." */
    size_t n_labels, cap_labels;
    /* NoC: routers on a mesh, 4 links each (E, W, N, S) */
    int mesh_w, mesh_h;
    struct noc_place { int router, x, y; } *noc_at; /* [tile + 1]: its router and the router's
                                                       column and row; [0]: the chip level's */
    uint32_t first_link;
    uint64_t hop_ps, flit_ps;
    double flit_bits;
    /* chip level */
    uint32_t gbuf, mac, digital, dram, host, first_scratch; /* scratch: per head, rewrite mode */
    double store_bits;      /* the store's data in the global buffer now */
    double store_capacity;  /* global buffer capacity in bits, 0 without one */
    /* op state: [inference * n_ops + op] */
    uint32_t *remaining;    /* dependencies not yet arrived */
    uint64_t *ready;
    uint64_t *begin;        /* when the op instance started */
    uint8_t *stage;         /* its next stage */
    uint32_t *cons_first, *cons; /* consumers (CSR) */
    uint32_t *readers;      /* STORE: ops still to read it (through barriers too); BARRIER:
                               unused */
    float *spilled;         /* STORE and BARRIER: share of its data that went to DRAM */
    double *held_bits;      /* its output's room in its tile's buffer, until all have read it */
    uint32_t *unread;       /* consumers yet to read that output */
    uint64_t *hold_since;   /* when it began waiting for room (0: not waiting) */
    void *op_block;         /* the arrays above, the consumers' and rec: one allocation */
    size_t op_block_size;   /* (for imc_hugepages_free) */
    /* reprogramming (placement rounds > 1): round r's weights are written before its MVMs */
    int rounds;
    uint32_t reprogram_name; /* the ledger name of reprogramming: "reprogram" */
    const char **names;      /* the graph's names + "reprogram" */
    uint32_t *round_mvms;   /* [r]: MVM ops of the graph in round r */
    uint32_t *round_left;   /* [inf * rounds + r]: of those, not done yet */
    uint64_t *gate;         /* [inf * rounds + r]: when round r's weights are in, or UINT64_MAX */
    uint32_t **parked;      /* [inf * rounds + r]: ops waiting for that gate */
    size_t *n_parked, *cap_parked;
    uint64_t last_done;
    uint64_t *arrival;      /* [inference]: when its input arrives */
    uint64_t *inference_done;
    size_t ops_done;
    uint64_t forced;        /* the waiting op (inference << 32 | op) let through beyond the
                               capacity to end a deadlock (see force_one), or UINT64_MAX */
    uint64_t forced_count;  /* how many were */
    double overcommit_bits; /* the most a tile buffer held beyond its capacity (see reserve_room) */
    imc_span *spans;        /* [name]: first inference only */
    /* the first inference's records, for the critical path */
    op_record *rec;
    segment *segs;
    size_t n_segs, cap_segs;
    /* the stage being run: its waits, and the resource its end waited on */
    uint64_t stage_wait;
    uint64_t stage_first;   /* when the stage's first resource started serving it */
    int stage_again;        /* the stage took nothing yet: run it again at the time it returned */
    uint32_t stage_res;
    uint8_t stage_func;
    int status;
    const imc_op *current; /* the op whose event runs (for span_ps's message), or NULL */
} engine;

#define NO_RES UINT32_MAX

/* ---- bounds.c ---------------------------------------------------------------------------- */

/* Fill RES's critical path, bottleneck and utilisation from E's records. 0 or IMC_ENOMEM. */
int imc_engine_bounds(engine *e, imc_engine_result *res);

/* The label of resource R. */
const char *imc_engine_res_label(const engine *e, uint32_t r);

#endif
