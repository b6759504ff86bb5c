/* fuzz_trace.c -- libFuzzer target for the trace reader (sim/flow/trace.c) and, through it, the
 * mapper and the engine.
 *
 * Whatever the bytes, the read either succeeds or fails cleanly. An accepted trace must write
 * back to text that reads to a graph which writes back byte-identically (the writer's output is
 * a fixed point), and its graph then runs through the mapper and the engine on a small chip
 * with the attention products placed digitally, in rewritten crossbars or on the host (the
 * input's length picks one): each either succeeds or refuses cleanly. Graphs of more than
 * MAX_OPS ops skip the engine, to bound the time per input. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine/engine.h"
#include "sim/flow/trace.h"
#include "sim/map/mapper.h"
#include "tests/fuzz/fuzz_arch_text.h"

#define MAX_OPS 4000

static char *write_text(const imc_flow *g, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    imc_err err;
    imc_err_clear(&err);
    if (!f || imc_trace_write(g, f, &err) != 0 || fclose(f) != 0)
        abort(); /* the writer refused a graph the reader accepted */
    return buf;
}

static imc_flow *read_text(const void *data, size_t size, imc_err *err, int *rc)
{
    imc_flow *g = NULL;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        abort();
    *rc = imc_trace_read_stream(&g, f, "fuzz.trace", err);
    fclose(f);
    return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imc_err err;
    imc_err_clear(&err);
    int rc;
    if (size == 0) { /* fmemopen wants a buffer; an empty trace is refused like any other */
        imc_fuzz_accepted = 0;
        return 0;
    }
    imc_flow *g = read_text(data, size, &err, &rc);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (g)
            abort();
        return 0;
    }
    size_t n1, n2;
    char *t1 = write_text(g, &n1);
    imc_flow *back = n1 ? read_text(t1, n1, &err, &rc) : NULL;
    if (!back)
        abort(); /* the writer's text does not read back */
    char *t2 = write_text(back, &n2);
    if (n1 != n2 || memcmp(t1, t2, n1) != 0)
        abort();
    free(t1);
    free(t2);
    imc_flow_free(back);

    if (g->n_ops <= MAX_OPS) {
        const imc_arch *a = fuzz_arch((int)(size % 3));
        imc_network *net = NULL;
        imc_placement *p = NULL;
        imc_err_clear(&err);
        rc = imc_flow_network(g, &net, &err);
        if (!rc)
            rc = imc_mapper_place(&p, a, net, &err);
        if (!rc) {
            imc_engine_opts o = {.kernel = IMC_KERNEL_NATIVE,
                                 .batch = 1 + (int)(size % 2)};
            imc_engine_result res;
            rc = imc_engine_run(a, p, g, &o, &res, &err);
            if (!rc)
                imc_engine_result_free(&res);
        }
        if (rc)
            imc_fuzz_check_refusal(rc, &err);
        imc_placement_free(p);
        imc_network_free(net);
    }
    imc_flow_free(g);
    return 0;
}
