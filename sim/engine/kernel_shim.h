/* kernel_shim.h -- the boundary between the C kernel (kernel.c) and its SystemC backend
 * (kernel_systemc.cc). C linkage both ways; no C++ type or exception crosses it. */
#ifndef IMC_KERNEL_SHIM_H
#define IMC_KERNEL_SHIM_H

#include <stddef.h>

#include "sim/engine/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Provided by kernel.c: the next event's tick (UINT64_MAX: none), and the dispatch of every
 * event due at NOW. */
imc_tick imc_kernel_shim_next(imc_kernel *k);
int imc_kernel_shim_dispatch(imc_kernel *k, imc_tick now);
/* The kernel's current tick (a run may continue a kernel that an earlier run left). */
imc_tick imc_kernel_shim_now(imc_kernel *k);

/* Provided by kernel_systemc.cc (only when built with SystemC): run K's queue to exhaustion
 * with SystemC advancing time. Returns 0, or non-zero with a message in MSG (every C++
 * exception is caught and reported there). */
int imc_kernel_shim_run_systemc(imc_kernel *k, char *msg, size_t msg_size);

/* Provided by kernel_systemc.cc: sc_time_stamp() in ps. */
uint64_t imc_kernel_shim_systemc_time_ps(void);

#ifdef __cplusplus
}
#endif

#endif
