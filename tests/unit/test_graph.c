/* test_graph.c -- the network graph of generic ops (sim/net/graph.h) and its DeiT/FAR producer.
 *
 * The producer: for tiny DeiT, FAR (masked and split, unpruned, pruned, every unit of some
 * heads pruned) and mixed models, the graph's weight-layer matrices are the network's layers
 * one for one (by name: rows, columns, vectors), the output is the class logits, and the JSON
 * form reads back to the same JSON. (That the graph computes what the network did is
 * test_forward's: it runs on the graph.) The ops: output shapes of convolutions (stride,
 * padding, dilation, groups), pooling, recurrent layers and broadcasting, hand-computed; the
 * matrices of a grouped convolution, a stacked bidirectional LSTM and a GRU; which batchnorms
 * fold into the layer before them. Bad graphs: every
 * class of error with its exact one-line message naming the node and the op. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/net/graph.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testmodels.h"

static int suite_init(void)
{
    return test_dir_make("graph");
}
#define SUITE_INIT suite_init
#define SUITE_CLEANUP test_dir_remove

/* ---- the DeiT/FAR producer ---------------------------------------------------------------- */

static void check_producer(const imc_modelgen_spec *s, const char *tag)
{
    model m = gen_model(s, tag);
    const imc_graph *g = &m.net->graph;
    imc_matrix *mat;
    size_t n;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_graph_matrices(g, &mat, &n, &err), 0);
    CU_ASSERT_EQUAL(n, m.net->n_layers);
    int *seen = calloc(m.net->n_layers, sizeof *seen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
    for (size_t i = 0; i < n; i++) { /* each matrix is the layer of its node's name */
        int li = imc_network_layer_of(m.net, mat[i].node, mat[i].part);
        CU_ASSERT_FATAL(li >= 0);
        const imc_layer *l = &m.net->layers[li];
        CU_ASSERT_EQUAL(mat[i].part, 0);
        CU_ASSERT_EQUAL(mat[i].in, l->in);
        CU_ASSERT_EQUAL(mat[i].out, l->out);
        CU_ASSERT_EQUAL(mat[i].vectors, l->vectors);
        seen[li]++;
    }
    for (size_t i = 0; i < m.net->n_layers; i++)
        CU_ASSERT_EQUAL(seen[i], 1);
    free(seen);
    free(mat);
    const imc_node *out = &g->nodes[g->n_nodes - 1];
    CU_ASSERT_EQUAL(out->op, IMC_NODE_OUTPUT);
    CU_ASSERT_EQUAL(out->ndim, 1);
    CU_ASSERT_EQUAL(out->shape[0], s->num_classes);
    CU_ASSERT_EQUAL(g->nodes[0].op, IMC_NODE_INPUT);

    char *json = imc_graph_to_json(g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    imc_graph back;
    int rc = imc_graph_from_json(&back, json, "round-trip", &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(back.n_nodes, g->n_nodes);
    char *again = imc_graph_to_json(&back);
    CU_ASSERT_PTR_NOT_NULL_FATAL(again);
    CU_ASSERT_STRING_EQUAL(again, json);
    free(again);
    free(json);
    imc_graph_free(&back);
    free_model(&m);
}

static void test_producer_deit(void)
{
    imc_modelgen_spec s = tiny_spec(0, 0, 0);
    check_producer(&s, "deit");
    model m = gen_model(&s, "deit2");
    /* the attention of block 0, op for op */
    const imc_graph *g = &m.net->graph;
    static const char *const ops[] = {"layernorm", "linear", "reshape", "transpose", "slice",
                                      "reshape", "slice", "reshape", "slice", "reshape", "transpose",
                                      "matmul", "scale", "softmax", "matmul", "transpose", "reshape",
                                      "linear", "add"};
    int first = 8; /* after image, conv, flatten, cls, transpose, concat, pos_embed, add */
    for (int i = 0; i < (int)(sizeof ops / sizeof *ops); i++)
        CU_ASSERT_STRING_EQUAL(imc_node_op_name(g->nodes[first + i].op), ops[i]);
    const imc_node *qk = &g->nodes[first + 11];
    CU_ASSERT_EQUAL(qk->ndim, 3);
    CU_ASSERT_EQUAL(qk->shape[0], 3);
    CU_ASSERT_EQUAL(qk->shape[1], 17);
    CU_ASSERT_EQUAL(qk->shape[2], 17);
    CU_ASSERT_DOUBLE_EQUAL(g->nodes[first + 12].value, 0.25, 1e-15); /* 1 / sqrt(16) */
    free_model(&m);
}

static void test_producer_far(void)
{
    imc_modelgen_spec masked = tiny_spec(~0ULL, 0, 0), pruned = tiny_spec(~0ULL, 0.25, 0),
                      split = tiny_spec(~0ULL, 0.25, 1), mixed = tiny_spec(1, 0.5, 1);
    check_producer(&masked, "far");
    check_producer(&pruned, "far_pruned");
    check_producer(&split, "far_split");
    check_producer(&mixed, "mixed");
}

/* Every unit pruned: no LSTM or head_proj layers, the heads output head_proj's bias. */
static void test_producer_all_pruned(void)
{
    for (int split = 0; split < 2; split++) {
        imc_modelgen_spec s = tiny_spec(~0ULL, 0.99, split); /* lround(0.99 x 16): all 16 units */
        check_producer(&s, split ? "far_none_split" : "far_none");
        model m = gen_model(&s, "far_none2");
        const imc_graph *g = &m.net->graph;
        int expands = 0;
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].op == IMC_NODE_EXPAND) {
                expands++;
                CU_ASSERT_EQUAL(g->nodes[i].shape[0], 17);
                CU_ASSERT_EQUAL(g->nodes[i].shape[1], 16);
            }
        CU_ASSERT_EQUAL(expands, 2 * 3); /* 2 blocks x 3 heads */
        free_model(&m);
    }
}

/* ---- ops ------------------------------------------------------------------------------------ */

static int add(imc_graph *g, const char *name, imc_node_op op, int in, const int64_t *attr,
               int n_attr, double value, const char *weight)
{
    imc_err err;
    imc_err_clear(&err);
    const char *t[IMC_GRAPH_MAX_TENSORS] = {weight};
    int id = imc_graph_add(g, name, op, &in, in >= 0, attr, n_attr, value, t, &err);
    if (id < 0)
        print_err(&err);
    CU_ASSERT_FATAL(id >= 0);
    return id;
}

static void assert_shape(const imc_node *n, int ndim, int64_t a, int64_t b, int64_t c)
{
    CU_ASSERT_EQUAL(n->ndim, ndim);
    int64_t want[3] = {a, b, c};
    for (int i = 0; i < ndim && i < 3; i++)
        CU_ASSERT_EQUAL(n->shape[i], want[i]);
}

static void test_shapes_and_matrices(void)
{
    imc_graph g;
    imc_graph_init(&g);
    int x = add(&g, "x", IMC_NODE_INPUT, -1, (int64_t[]){3, 4, 33, 32}, 4, 0, NULL);
    /* 3x3, stride 2, padding 1, 2 groups: (33 + 2 - 3) / 2 + 1 = 17, (32 + 2 - 3) / 2 + 1 = 16 */
    int c1 = add(&g, "conv1", IMC_NODE_CONV2D, x, (int64_t[]){4, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2}, 11,
                 0, "conv1.weight");
    assert_shape(&g.nodes[c1], 3, 6, 17, 16);
    /* dilation 2: span 5; (17 - 5) / 1 + 1 = 13, (16 - 5) + 1 = 12 */
    int c2 = add(&g, "conv2", IMC_NODE_CONV2D, c1, (int64_t[]){6, 8, 3, 3, 1, 1, 0, 0, 2, 2, 1}, 11,
                 0, "conv2.weight");
    assert_shape(&g.nodes[c2], 3, 8, 13, 12);
    int mp = add(&g, "pool", IMC_NODE_MAXPOOL, c2, (int64_t[]){2, 2, 2, 2, 0, 0}, 6, 0, NULL);
    assert_shape(&g.nodes[mp], 3, 8, 6, 6);
    int ap = add(&g, "avg", IMC_NODE_AVGPOOL, mp, (int64_t[]){3, 3, 1, 1, 1, 1}, 6, 0, NULL);
    assert_shape(&g.nodes[ap], 3, 8, 6, 6);
    int seq = add(&g, "seq", IMC_NODE_RESHAPE, ap, (int64_t[]){2, -1, 36}, 3, 0, NULL);
    assert_shape(&g.nodes[seq], 2, 8, 36, 0);
    int lstm = add(&g, "lstm", IMC_NODE_LSTM, seq, (int64_t[]){36, 20, 2, 1, 0}, 5, 0, "lstm");
    assert_shape(&g.nodes[lstm], 2, 8, 40, 0);
    int gru = add(&g, "gru", IMC_NODE_GRU, lstm, (int64_t[]){40, 10, 1, 0, 1}, 5, 0, "gru");
    assert_shape(&g.nodes[gru], 2, 8, 10, 0);
    int gamma = add(&g, "gamma", IMC_NODE_PARAM, -1, (int64_t[]){1, 10}, 2, 0, "gamma");
    imc_err err;
    imc_err_clear(&err);
    int mul = imc_graph_add(&g, "ls", IMC_NODE_MUL, (int[]){gru, gamma}, 2, NULL, 0, 0, NULL, &err);
    CU_ASSERT_FATAL(mul >= 0);
    assert_shape(&g.nodes[mul], 2, 8, 10, 0);
    int mean = add(&g, "mean", IMC_NODE_MEAN, mul, (int64_t[]){0}, 1, 0, NULL);
    assert_shape(&g.nodes[mean], 1, 10, 0, 0);
    int emb = add(&g, "emb", IMC_NODE_EMBEDDING, mean, (int64_t[]){100, 3}, 2, 0, "emb.weight");
    assert_shape(&g.nodes[emb], 2, 10, 3, 0); /* each of the 10 values a row of 3 */
    int fc = add(&g, "fc", IMC_NODE_LINEAR, mean, (int64_t[]){10, 5}, 2, 0, "fc.weight");
    add(&g, "out", IMC_NODE_OUTPUT, fc, NULL, 0, 0, NULL);

    imc_matrix *m;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(imc_graph_matrices(&g, &m, &n, &err), 0);
    /* conv1: 2 groups of 2 x 3 x 3 rows by 3 columns, 17 x 16 positions; conv2: 6 x 9 by 8,
       13 x 12; lstm: layer 0 both directions (36 + 20) x 80, layer 1 (40 + 20) x 80, 8 steps;
       gru (reverse, 1 layer): W_ih 40 x 30 and W_hh 10 x 30; fc 10 x 5, one vector */
    const int64_t want[][4] = {{c1, 18, 3, 272},  {c1, 18, 3, 272},  {c2, 54, 8, 156},
                               {lstm, 56, 80, 8}, {lstm, 56, 80, 8}, {lstm, 60, 80, 8},
                               {lstm, 60, 80, 8}, {gru, 40, 30, 8},  {gru, 10, 30, 8},
                               {fc, 10, 5, 1}};
    CU_ASSERT_EQUAL_FATAL(n, sizeof want / sizeof *want);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(m[i].node, want[i][0]);
        CU_ASSERT_EQUAL(m[i].in, want[i][1]);
        CU_ASSERT_EQUAL(m[i].out, want[i][2]);
        CU_ASSERT_EQUAL(m[i].vectors, want[i][3]);
    }
    CU_ASSERT_EQUAL(m[1].part, 1);
    CU_ASSERT_EQUAL(m[6].part, 3);
    CU_ASSERT_EQUAL(m[8].part, 1);
    free(m);
    imc_graph_free(&g);
}

/* Which batchnorms fold into the weight layer before them (imc_graph_fold): after a convolution
 * or a linear layer giving one vector, read by nothing else; not after a layer read twice, an
 * add, or a linear layer over rows (its dimension 0 is not its outputs). */
static void test_fold_batchnorm(void)
{
    imc_graph g;
    imc_graph_init(&g);
    int x = add(&g, "x", IMC_NODE_INPUT, -1, (int64_t[]){3, 4, 8, 8}, 4, 0, NULL);
    int a = add(&g, "a", IMC_NODE_CONV2D, x, (int64_t[]){4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1}, 11, 0, "a.w");
    int bn1 = add(&g, "bn1", IMC_NODE_BATCHNORM, a, (int64_t[]){6}, 1, 1e-5, "bn1.w");
    int r = add(&g, "r", IMC_NODE_RELU, bn1, NULL, 0, 0, NULL);
    int b = add(&g, "b", IMC_NODE_CONV2D, r, (int64_t[]){6, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1}, 11, 0, "b.w");
    int bn2 = add(&g, "bn2", IMC_NODE_BATCHNORM, b, (int64_t[]){6}, 1, 1e-5, "bn2.w");
    imc_err err;
    imc_err_clear(&err);
    int s = imc_graph_add(&g, "s", IMC_NODE_ADD, (int[]){bn2, b}, 2, NULL, 0, 0, NULL, &err);
    CU_ASSERT_FATAL(s >= 0);
    int bn3 = add(&g, "bn3", IMC_NODE_BATCHNORM, s, (int64_t[]){6}, 1, 1e-5, "bn3.w");
    int p = add(&g, "p", IMC_NODE_AVGPOOL, bn3, (int64_t[]){8, 8, 8, 8, 0, 0}, 6, 0, NULL);
    int v = add(&g, "v", IMC_NODE_RESHAPE, p, (int64_t[]){1, 6}, 2, 0, NULL);
    int fc = add(&g, "fc", IMC_NODE_LINEAR, v, (int64_t[]){6, 4}, 2, 0, "fc.w");
    int bn4 = add(&g, "bn4", IMC_NODE_BATCHNORM, fc, (int64_t[]){4}, 1, 1e-5, "bn4.w");
    int t = add(&g, "t", IMC_NODE_RESHAPE, bn4, (int64_t[]){2, 2, 2}, 3, 0, NULL);
    int fc2 = add(&g, "fc2", IMC_NODE_LINEAR, t, (int64_t[]){2, 3}, 2, 0, "fc2.w");
    int bn5 = add(&g, "bn5", IMC_NODE_BATCHNORM, fc2, (int64_t[]){2}, 1, 1e-5, "bn5.w");
    int m = add(&g, "m", IMC_NODE_MEAN, bn5, (int64_t[]){0}, 1, 0, NULL);
    add(&g, "out", IMC_NODE_OUTPUT, m, NULL, 0, 0, NULL);

    CU_ASSERT_EQUAL(imc_graph_fold(&g), 2);
    CU_ASSERT_EQUAL(g.nodes[bn1].fold, a);
    CU_ASSERT_EQUAL(g.nodes[a].fold, bn1);
    CU_ASSERT_EQUAL(g.nodes[bn4].fold, fc);
    CU_ASSERT_EQUAL(g.nodes[fc].fold, bn4);
    const int apart[] = {b, bn2, s, bn3, fc2, bn5, r, x};
    for (size_t i = 0; i < sizeof apart / sizeof *apart; i++)
        CU_ASSERT_EQUAL(g.nodes[apart[i]].fold, -1);
    CU_ASSERT_EQUAL(imc_graph_fold(&g), 0); /* once */
    imc_graph_free(&g);
}

/* ---- bad graphs ------------------------------------------------------------------------------ */

#define HEAD "{\"imcsim_graph\": 1, \"nodes\": [{\"name\": \"x\", \"op\": \"input\", \"shape\": [4, 8]}, "

static void expect_error(const char *json, const char *want)
{
    imc_graph g;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_graph_from_json(&g, json, "m.bin", &err);
    CU_ASSERT_EQUAL(rc, IMC_EINPUT);
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    if (strcmp(line, want))
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", line, want);
    CU_ASSERT_STRING_EQUAL(line, want);
    CU_ASSERT_EQUAL(g.n_nodes, 0);
}

static void test_bad_graphs(void)
{
    expect_error("{\"nodes\": [", "m.bin: error: the graph is not valid JSON");
    expect_error("{\"nodes\": []}", "m.bin: error: the graph needs \"imcsim_graph\": 1");
    expect_error(HEAD "{\"name\": \"y\", \"op\": \"einsum\", \"inputs\": [\"x\"]}]}",
                 "m.bin: error: y: unsupported op 'einsum'");
    /* a cycle: a node's input that comes later (or is itself) */
    expect_error(HEAD "{\"name\": \"a\", \"op\": \"add\", \"inputs\": [\"x\", \"b\"]}, "
                 "{\"name\": \"b\", \"op\": \"relu\", \"inputs\": [\"a\"]}]}",
                 "m.bin: error: a: input 'b' is not an earlier node (nodes must be in an order "
                 "where inputs come first; a cycle has none)");
    expect_error(HEAD "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"x\"], \"in_features\": "
                 "7, \"out_features\": 2, \"weight\": \"fc.weight\"}]}",
                 "m.bin: error: fc (linear): in_features 7 but its input 'x' is [4, 8]");
    expect_error(HEAD "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"x\"], \"in_features\": "
                 "8, \"weight\": \"fc.weight\"}]}",
                 "m.bin: error: fc (linear): missing \"out_features\"");
    expect_error(HEAD "{\"name\": \"fc\", \"op\": \"linear\", \"inputs\": [\"x\"], \"in_features\": "
                 "8, \"out_features\": 2}]}",
                 "m.bin: error: fc (linear): missing \"weight\"");
    expect_error(HEAD "{\"name\": \"e\", \"op\": \"embedding\", \"inputs\": [\"x\"], "
                 "\"num_embeddings\": 0, \"embedding_dim\": 4, \"weight\": \"e.weight\"}]}",
                 "m.bin: error: e (embedding): num_embeddings = 0 (must be 1 .. 2^31)");
    expect_error(HEAD "{\"name\": \"r\", \"op\": \"relu\", \"inputs\": [\"x\"], \"inplace\": 1}]}",
                 "m.bin: error: r (relu): unknown field \"inplace\"");
    expect_error(HEAD "{\"name\": \"x\", \"op\": \"relu\", \"inputs\": [\"x\"]}]}",
                 "m.bin: error: x (relu): a second node of that name");
    expect_error(HEAD "{\"name\": \"r\", \"op\": \"reshape\", \"inputs\": [\"x\"], \"shape\": [3, -1]}]}",
                 "m.bin: error: r (reshape): cannot reshape 'x' [4, 8] to [3, -1]");
    expect_error(HEAD "{\"name\": \"c\", \"op\": \"conv2d\", \"inputs\": [\"x\"], \"in_channels\": 4, "
                 "\"out_channels\": 2, \"kernel_h\": 3, \"kernel_w\": 3, \"stride_h\": 1, \"stride_w\": "
                 "1, \"pad_h\": 0, \"pad_w\": 0, \"dilation_h\": 1, \"dilation_w\": 1, \"groups\": 1, "
                 "\"weight\": \"c.weight\"}]}",
                 "m.bin: error: c (conv2d): takes [4][H][W] but its input 'x' is [4, 8]");
    /* bounded so that no graph expands to millions of crossbar matrices */
    expect_error("{\"imcsim_graph\": 1, \"nodes\": [{\"name\": \"x\", \"op\": \"input\", \"shape\": "
                 "[131072, 1, 1]}, {\"name\": \"dw\", \"op\": \"conv2d\", \"inputs\": [\"x\"], "
                 "\"in_channels\": 131072, \"out_channels\": 131072, \"kernel_h\": 1, \"kernel_w\": 1, "
                 "\"stride_h\": 1, \"stride_w\": 1, \"pad_h\": 0, \"pad_w\": 0, \"dilation_h\": 1, "
                 "\"dilation_w\": 1, \"groups\": 131072, \"weight\": \"dw.weight\"}]}",
                 "m.bin: error: dw (conv2d): 131072 groups (at most 65536)");
    expect_error(HEAD "{\"name\": \"m\", \"op\": \"matmul\", \"inputs\": [\"x\", \"x\"]}]}",
                 "m.bin: error: m (matmul): cannot multiply 'x' [4, 8] by 'x' [4, 8]");
    expect_error(HEAD "{\"name\": \"s\", \"op\": \"softmax\", \"inputs\": [\"x\"], \"dim\": 2}]}",
                 "m.bin: error: s (softmax): dim 2 outside its input 'x' [4, 8]");
    expect_error(HEAD "{\"name\": \"r\", \"op\": \"relu\", \"inputs\": [\"x\"]}]}",
                 "m.bin: error: the graph must start with its input and end with its one output "
                 "(it has 0)");
    expect_error(HEAD "{\"name\": \"o\", \"op\": \"output\", \"inputs\": [\"x\"]}, "
                 "{\"name\": \"r\", \"op\": \"relu\", \"inputs\": [\"x\"]}]}",
                 "m.bin: error: the graph must start with its input and end with its one output "
                 "(it has 1)");
    expect_error(HEAD "{\"name\": \"r\", \"op\": \"relu\", \"inputs\": [\"x\"], \"inputs\": [\"x\"]}]}",
                 "m.bin: error: r: field \"inputs\" given twice");
}

static CU_TestInfo tests[] = {
    {"DeiT as generic ops: matrices are its layers, JSON round trip", test_producer_deit},
    {"FAR masked, pruned, split, mixed as generic ops", test_producer_far},
    {"FAR heads with every unit pruned output their bias", test_producer_all_pruned},
    {"shapes of conv, pool, LSTM, GRU, broadcast; matrices", test_shapes_and_matrices},
    {"batchnorm folds into the conv or linear layer before it, only there", test_fold_batchnorm},
    {"bad graphs: one line naming node and op", test_bad_graphs},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "graph"
#include "tests/unit/cunit_main.h"
