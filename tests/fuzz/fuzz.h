/* fuzz.h -- the libFuzzer entry point, declared once for the fuzz targets (fuzz_*.c) and for
 * replay.c, the main() that runs a target over saved inputs without libFuzzer.
 *
 * A target must not leak, must return 0, and calls abort() when it finds one of its invariants
 * broken. It also sets imc_fuzz_accepted: 1 when the input was accepted (it loaded), 0 when it
 * was refused with a clean error, so that replay.c can hold each committed input to the
 * outcome its name promises (valid-*: accepted, bad-*: refused). */
#ifndef IMC_FUZZ_H
#define IMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set by the target on every input. Defined in fuzz_common.c. */
extern int imc_fuzz_accepted;

/* Abort unless ERR holds a clean refusal: status IMC_EINPUT or IMC_ENOMEM, a non-empty message
 * of one line. Every target checks its failures with it. */
struct imc_err;
void imc_fuzz_check_refusal(int rc, const struct imc_err *err);

/* A NUL-terminated copy of the input (malloc'd), or NULL when out of memory. */
char *imc_fuzz_cstring(const uint8_t *data, size_t size);

#endif
