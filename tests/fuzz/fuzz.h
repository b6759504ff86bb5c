/* fuzz.h -- the libFuzzer entry point, declared once for the fuzz targets (fuzz_*.c) and for
 * replay.c, the main() that runs a target over saved inputs without libFuzzer. A target must
 * not leak, must return 0, and calls abort() when it finds one of its invariants broken. */
#ifndef IMC_FUZZ_H
#define IMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
