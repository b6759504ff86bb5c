/* fuzz_arch_text.h -- the architecture the fuzz targets that map or simulate run on: the engine
 * tests' small chip (tests/unit/small_arch.h), time-multiplexed when a network does not fit,
 * with the attention products placed as the caller asks, so a fuzzed network reaches every
 * op's code. */
#ifndef IMC_FUZZ_ARCH_TEXT_H
#define IMC_FUZZ_ARCH_TEXT_H

#include <stdlib.h>

#include "sim/arch/arch.h"
#include "tests/unit/small_arch.h"

/* The architecture with mapping.matmul set to MATMUL (digital, rewrite or host), loaded once
 * per process; abort() if it does not load. */
static inline const imc_arch *fuzz_arch(int matmul)
{
    static imc_arch *archs[3];
    static const char *const sets[3][2] = {{"mapping.reprogram=true", "mapping.matmul=digital"},
                                           {"mapping.reprogram=true", "mapping.matmul=rewrite"},
                                           {"mapping.reprogram=true", "mapping.matmul=host"}};
    if (!archs[matmul]) {
        imc_err err;
        imc_err_clear(&err);
        if (imc_arch_load_string(&archs[matmul], small_arch_text, "fuzz-arch.yaml",
                                 sets[matmul], 2, &err))
            abort();
    }
    return archs[matmul];
}

#endif
