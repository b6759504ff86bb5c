/* fuzz_common.c -- what every fuzz target shares (see fuzz.h). */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sim/base/err.h"

int imc_fuzz_accepted;

void imc_fuzz_check_refusal(int rc, const imc_err *err)
{
    if ((rc != IMC_EINPUT && rc != IMC_ENOMEM) || err->status != rc || !err->msg[0] ||
        strchr(err->msg, '\n'))
        abort();
}

char *imc_fuzz_cstring(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}
