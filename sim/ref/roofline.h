/* roofline.h -- what an op graph costs on a reference processor (a GPU or a CPU core), for the
 * comparison the FAR paper makes: a roofline per kernel of the same op graph the engine runs on
 * the IMC chip.
 *
 * A processor is a YAML file (arch-configs/references/: a100.yaml, orin.yaml, xeon-core.yaml,
 * or one's own; format in arch-configs/references/README.md): peak FLOP/s at its operand
 * precision, DRAM bandwidth, the cost of launching one kernel, the energy of a FLOP and of a
 * DRAM bit, and the power it draws while busy. The graph's ops are grouped into the kernels a
 * framework would launch at batch 1: one GEMM per weight layer over all its tokens, one per
 * attention product (all heads) and one per element-wise op of each layer; an LSTM's input
 * projection as one GEMM, then one kernel per time step for all heads and both directions with
 * the gate updates fused (as cuDNN runs a bidirectional layer), since step t needs step t - 1;
 * a processor whose framework launches more per step (PyTorch on a CPU: 24) says so.
 * A kernel takes max(launch, FLOPs / peak, DRAM bytes / bandwidth); kernels run one after
 * another; weights are read from DRAM once per inference (a recurrent layer's once, then from
 * cache). Energy is the power while busy x the time (an upper bound for a processor that is
 * not saturated), and, as the lower bound, FLOPs x the energy of one plus DRAM bits x the
 * energy of one. Knows nothing of the IMC chip. */
#ifndef IMC_ROOFLINE_H
#define IMC_ROOFLINE_H

#include "sim/base/err.h"
#include "sim/flow/dataflow.h"

typedef struct imc_refproc {
    char *name;          /* "a100" */
    char *doc;           /* one line: what it is and where its numbers come from */
    char *file;          /* the YAML it was loaded from */
    double peak_flops;   /* FLOP/s at operand_bits */
    int operand_bits;    /* bits of a weight or activation as the processor runs the network */
    double dram_bps;     /* DRAM bandwidth, bit/s */
    double launch_s;     /* the cost of one kernel launch */
    int step_kernels;    /* kernels launched per LSTM time step, both directions (default 1) */
    double flop_j;       /* energy of one FLOP */
    double dram_bit_j;   /* energy of one DRAM bit */
    double power_w;      /* power while busy */
} imc_refproc;

/* Load the processor described by the YAML file PATH; errors FILE:LINE:COL. */
int imc_refproc_load(imc_refproc **out, const char *path, imc_err *err);

/* Load what `--reference NAME` names: a file, or NAME[.yaml] in arch-configs/references/ of
 * $IMCSIM_DATADIR, the source tree or the installed data; not found, the error says where it
 * looked. */
int imc_refproc_open(imc_refproc **out, const char *name, imc_err *err);
void imc_refproc_free(imc_refproc *p);

typedef struct imc_ref_result {
    double latency_s;
    double kernels;                  /* launched (a step counts its step_kernels) */
    double launch_bound;             /* kernels whose time is their launch */
    double flops, dram_bits;
    double energy_j;                 /* power while busy x latency */
    double dynamic_j;                /* FLOPs and DRAM bits only: a lower bound */
    double time_s[IMC_CLS_COUNT];    /* latency by op class */
    double flops_of[IMC_CLS_COUNT];
    double kernels_of[IMC_CLS_COUNT];
} imc_ref_result;

/* The roofline of G on P. */
int imc_roofline_run(const imc_refproc *p, const imc_flow *g, imc_ref_result *res, imc_err *err);

#endif
