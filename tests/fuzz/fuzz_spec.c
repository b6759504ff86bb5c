/* fuzz_spec.c -- libFuzzer target for sweep specs (sim/sweep/spec.c, over sim/base/ytree.c).
 *
 * Whatever the bytes, the spec either loads or fails cleanly. A loaded spec must be a sound
 * expansion: at most a million points, every point's choice of every axis within that axis's
 * values, linked axes advancing together, and points plus those skipped by constraints make
 * the whole grid. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sim/sweep/spec.h"
#include "tests/fuzz/fuzz_tmpfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmpfile(data, size, "spec.yaml");
    imc_sweep_spec *s = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_sweep_spec_load(&s, path, &err);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (s)
            abort();
        return 0;
    }
    size_t grid = 1;
    for (size_t a = 0; a < s->n_axes; a++) {
        const imc_sweep_axis *x = &s->axes[a];
        if (!x->n_values || x->leader > a || s->axes[x->leader].n_values != x->n_values)
            abort();
        if (x->leader == a)
            grid *= x->n_values;
    }
    if (s->n_points > 1000000 || s->n_points + s->n_skipped != grid || !s->n_models)
        abort();
    for (size_t p = 0; p < s->n_points; p++)
        for (size_t a = 0; a < s->n_axes; a++) {
            size_t c = s->choice[p * s->n_axes + a];
            if (c >= s->axes[a].n_values || c != s->choice[p * s->n_axes + s->axes[a].leader] ||
                !imc_sweep_value(s, p, a))
                abort();
        }
    for (size_t m = 0; m < s->n_models; m++)
        if (!s->models[m].file || !s->models[m].label || !s->models[m].label[0])
            abort();
    imc_sweep_spec_free(s);
    return 0;
}
