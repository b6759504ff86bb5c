/* fuzz_expr.c -- libFuzzer target for sweep constraint expressions (sim/sweep/expr.c).
 *
 * An input is one constraint's text, over the keys a.bits, c and m.model. Whatever the text,
 * the parse either succeeds or fails cleanly; an accepted expression evaluates, at two points
 * (numbers, and strings where numbers were), to a truth value or a clean error, and the same
 * point always gives the same answer. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sim/sweep/expr.h"

static const char *const keys[] = {"a.bits", "c", "m.model"};
static const char *const points[2][3] = {{"6", "1e-3", "adc/sar"}, {"x", "0x10", "-2.5"}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = imc_fuzz_cstring(data, size);
    if (!text)
        return 0;
    imc_expr *e = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_expr_parse(&e, text, keys, 3, "fuzz.yaml", 1, 1, &err);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (e)
            abort();
        free(text);
        return 0;
    }
    for (int p = 0; p < 2; p++) {
        int holds[2] = {-1, -1}, rcs[2];
        for (int twice = 0; twice < 2; twice++) {
            imc_err_clear(&err);
            rcs[twice] = imc_expr_eval(e, points[p], &holds[twice], &err);
            if (rcs[twice])
                imc_fuzz_check_refusal(rcs[twice], &err);
            else if (holds[twice] != 0 && holds[twice] != 1)
                abort();
        }
        if (rcs[0] != rcs[1] || (!rcs[0] && holds[0] != holds[1]))
            abort();
    }
    imc_expr_free(e);
    free(text);
    return 0;
}
