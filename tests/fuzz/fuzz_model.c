/* fuzz_model.c -- libFuzzer target for a model file's way through imcsim: the safetensors
 * reader (sim/net/netfile.c), the network builder (sim/net/network.c), the mapper
 * (sim/map/mapper.c) and, for small networks, the dataflow builder and the engine.
 *
 * Whatever the bytes, each stage either succeeds or refuses cleanly. An accepted network (the
 * outcome replay checks) must be self-consistent: a name, layers of non-negative shape, heads
 * dividing the embedding; its placement must add up (the chip's crossbars are the layers'). A
 * network of at most MAX_TOKENS tokens and MAX_DEPTH blocks is also turned into its op graph and
 * simulated, to bound the time per input. A model given as a generic graph (__metadata__
 * imcsim_graph, sim/net/generic.c) goes through the graph's JSON reader and checks instead of
 * the DeiT/FAR inference, and must come out with an input node first; one of at most
 * MAX_GRAPH_ELEMENTS elements over all its nodes is also timed (sim/flow/graphflow.c). */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sim/engine/engine.h"
#include "sim/flow/dataflow.h"
#include "sim/map/mapper.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"
#include "tests/fuzz/fuzz_arch_text.h"

#define MAX_TOKENS 64
#define MAX_DEPTH 4
#define MAX_GRAPH_ELEMENTS 4096

/* Small enough to simulate per input: DeiT/FAR by tokens and depth; an imported graph by the
 * elements its nodes produce (each row of them an op or more). */
static int small(const imc_network *net)
{
    if (!imc_network_is_generic(net))
        return net->tokens <= MAX_TOKENS && net->depth <= MAX_DEPTH;
    int64_t elements = 0;
    for (int i = 0; i < net->graph.n_nodes; i++) {
        int64_t k = 1;
        for (int d = 0; d < net->graph.nodes[i].ndim; d++)
            k *= net->graph.nodes[i].shape[d];
        elements += k;
        if (elements > MAX_GRAPH_ELEMENTS)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imc_netfile *nf = NULL;
    imc_network *net = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_netfile_open_memory(&nf, "fuzz.bin", data, size, &err);
    if (!rc)
        rc = imc_network_load(&net, nf, &err);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (net)
            abort();
        imc_netfile_close(nf);
        return 0;
    }
    if (!net->name || (!imc_network_is_generic(net) &&
                       (net->num_heads < 1 || net->embed_dim % net->num_heads)))
        abort();
    if (imc_network_is_generic(net) && (net->graph.n_nodes < 2 || net->graph.nodes[0].op != IMC_NODE_INPUT))
        abort();
    for (size_t i = 0; i < net->n_layers; i++)
        if (net->layers[i].in < 0 || net->layers[i].out < 0)
            abort();
    const imc_arch *a = fuzz_arch((int)(size % 3));
    imc_placement *p = NULL;
    imc_err_clear(&err);
    rc = imc_mapper_place(&p, a, net, &err);
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
    } else {
        int64_t xbars = 0;
        for (size_t i = 0; i < p->n_layers; i++)
            xbars += p->layers[i].xbars;
        if (xbars != p->xbars_used || p->n_layers != net->n_layers)
            abort();
    }
    if (!rc && small(net)) {
        imc_flow *g = NULL;
        imc_dataflow_opts o = {.act_bits = 8, .drop_mixer = (int)(size % 2)};
        rc = imc_dataflow_build(&g, net, &o, &err);
        if (!rc) {
            imc_engine_opts eo = {.kernel = IMC_KERNEL_NATIVE, .batch = 1};
            imc_engine_result res;
            rc = imc_engine_run(a, p, g, &eo, &res, &err);
            if (!rc)
                imc_engine_result_free(&res);
        }
        if (rc)
            imc_fuzz_check_refusal(rc, &err);
        imc_flow_free(g);
    }
    imc_placement_free(p);
    imc_network_free(net);
    imc_netfile_close(nf);
    return 0;
}
