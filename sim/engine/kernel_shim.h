/* kernel_shim.h -- the boundary between the C kernel (kernel.c) and its SystemC backend
 * (kernel_systemc.cc), which is built as a module of its own (imcsim-systemc.so) and loaded
 * only when a run asks for the systemc kernel: a native run neither loads libsystemc nor pays
 * its start-up (3 ms and 6 MB: its static constructors zero 3 MB, and ld.so resolves its C++
 * symbols). C linkage both ways; no C++ type or exception crosses it; the module reaches the
 * kernel only through the functions it is handed. */
#ifndef IMC_KERNEL_SHIM_H
#define IMC_KERNEL_SHIM_H

#include <stddef.h>

#include "sim/engine/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Provided by kernel.c: the next event's tick (UINT64_MAX: none); the dispatch of every event
 * due at NOW; the kernel's current tick (a run may continue a kernel that an earlier run
 * left). */
typedef struct imc_kernel_shim_ops {
    imc_tick (*next)(imc_kernel *k);
    int (*dispatch)(imc_kernel *k, imc_tick now);
    imc_tick (*now)(imc_kernel *k);
} imc_kernel_shim_ops;

/* Provided by the module, found by these names: run K's queue to exhaustion with SystemC
 * advancing time, through OPS. Returns 0, or non-zero with a message in MSG (every C++
 * exception is caught and reported there). */
#define IMC_KERNEL_SHIM_RUN "imc_kernel_shim_run_systemc"
typedef int imc_kernel_shim_run_fn(imc_kernel *k, const imc_kernel_shim_ops *ops, char *msg,
                                   size_t msg_size);

/* sc_time_stamp() in ps. */
#define IMC_KERNEL_SHIM_TIME "imc_kernel_shim_systemc_time_ps"
typedef uint64_t imc_kernel_shim_time_fn(void);

/* The module's file name: beside the running program (the build tree), in the package's
 * library directory (an installed imcsim), or in $IMCSIM_BUILDDIR (the tests). */
#define IMC_KERNEL_SHIM_MODULE "imcsim-systemc.so"

#ifdef __cplusplus
}
#endif

#endif
