/* fuzz_netfile.c -- libFuzzer target for the model-file reader (sim/net/netfile.c).
 *
 * Each input is a whole file, opened from memory. Whatever the bytes, open must either succeed
 * or fail cleanly: IMC_EINPUT (or IMC_ENOMEM) with a non-empty one-line message and no netfile.
 * When it succeeds, the guarantees the rest of imcsim relies on are checked: every tensor is
 * found by its own name, its byte range holds exactly numel * dtype size bytes, every element
 * converts to float (tensors over MAX_ELEMS elements are skipped to bound the time per input),
 * and every metadata key looks up. A broken invariant calls abort(); the sanitizers catch the
 * rest (out-of-bounds reads past the input, undefined behaviour, leaks). */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sim/net/netfile.h"

#define MAX_ELEMS (1 << 20)

static float elems[MAX_ELEMS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imc_netfile *nf = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_netfile_open_memory(&nf, "fuzz", data, size, &err);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (nf || strcmp(err.file, "fuzz") != 0)
            abort();
        return 0;
    }
    for (size_t i = 0; i < imc_netfile_count(nf); i++) {
        const imc_tensor *t = imc_netfile_at(nf, i);
        if (imc_netfile_find(nf, t->name) != t)
            abort();
        int64_t n = imc_tensor_numel(t);
        if (n < 0 || t->ndim < 0 || t->ndim > IMC_TENSOR_MAX_DIMS ||
            (uint64_t)n * imc_dtype_size(t->dtype) != t->end - t->begin)
            abort();
        if (n <= MAX_ELEMS && imc_netfile_read_f32(nf, t, elems, &err) != 0)
            abort();
    }
    if (imc_netfile_at(nf, imc_netfile_count(nf)) != NULL)
        abort();
    for (size_t i = 0; i < imc_netfile_meta_count(nf); i++)
        if (!imc_netfile_meta(nf, imc_netfile_meta_key(nf, i)))
            abort();
    imc_netfile_close(nf);
    return 0;
}
