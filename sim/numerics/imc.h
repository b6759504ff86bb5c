/* imc.h -- the IMC forward pass: every weight layer multiplied the way the mapped crossbars
 * would, with the devices' non-idealities; everything else stays FP32 (forward.c).
 *
 * Per layer, as mapped (mapper.h): weights quantized to mapping.weight_bits and sliced into
 * cells; each cell programmed to its level's conductance (cell model: Ron, Roff, levels) with
 * programming variation and stuck-at faults drawn from a stream seeded per crossbar row by
 * the seed and the row's place, so the cells are rebuilt (identically) when their layer
 * multiplies, one layer at a time, instead of kept as a float per cell. Per input vector: the
 * inputs quantized to mapping.input_bits (symmetric, per vector) and offset to unsigned, then
 * streamed in DAC-bit slices; per slice and crossbar every column's current is read (with read
 * noise), converted by an ADC of the configured bits over the column's full scale (rows x
 * slice max x level max; values beyond it clip), shift-added over slices and cell columns,
 * summed over row tiles, corrected for the input offset and dequantized. With ideal devices
 * and an ADC of at least log2(full scale + 1) bits, the result is the integer-quantized GEMM
 * exactly; that case takes a fast path (one exact GEMM) that gives identical results. */
#ifndef IMC_IMC_H
#define IMC_IMC_H

#include "sim/arch/arch.h"
#include "sim/numerics/forward.h"
#include "sim/map/mapper.h"

typedef struct imc_emul imc_emul;

/* Prepare every layer of P (weights from F) for the pass, with devices drawn from SEED. */
int imc_emul_new(imc_emul **out, const imc_arch *arch, const imc_placement *p,
                 const imc_forward *f, unsigned long seed, imc_err *err);
void imc_emul_free(imc_emul *e);

/* The multiply to plug into imc_forward_run. */
imc_mvm_ops imc_emul_ops(imc_emul *e);

/* Does every layer take the exact fast path? */
int imc_emul_exact(const imc_emul *e);

/* For tests: ON = 0 makes the full emulation of nominal cells with integer levels read by a 1-bit
 * DAC sum conductances in float (column_sums) instead of counting bits (bit_sums), 1 (the
 * default) lets it count where the CPU can; returns whether it now counts. The same results
 * either way. */
int imc_emul_bitwise(imc_emul *e, int on);

/* Split each full emulation of at least MIN_SPLIT cell reads (0: 2^24, where a thread's start
 * costs little against the work), and the programming of a layer's cells likewise, over N
 * threads (default 1). Results do not depend on N: every input vector's sums run in the same
 * order, every crossbar row's programming and every read's noise have their own seed. */
void imc_emul_threads(imc_emul *e, int n, double min_split);

/* Force the full bit-slice emulation even where the fast path is exact (for tests). */
void imc_emul_force_full(imc_emul *e, int on);

#endif
