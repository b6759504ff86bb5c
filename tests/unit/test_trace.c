/* test_trace.c -- op-graph traces (sim/flow/trace.c, format traces/README.md).
 *
 * A hand-built graph with every op kind, a VECTOR op with all four work entries, MATMUL sizes,
 * ops depending on several earlier ops, a barrier joining many, non-default sites and heads,
 * and names that need escapes: written, read back and compared field by field; written again
 * byte-identical; its text pinned exactly. A trace written by hand (absolute dependencies,
 * comments, tabs, CRLF) and the example in traces/README.md read as documented, defaults
 * included. Every class of malformed trace fails with its exact PATH:LINE:COL message, and
 * the writer refuses a graph the reader would refuse. The network of a graph carries its
 * layers. Generated tiny DeiT and FAR graphs round-trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/model.h"
#include "sim/flow/trace.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testmodels.h"

/* ---- scratch files ------------------------------------------------------------------------ */

static int suite_init(void)
{
    return test_dir_make("trace");
}
#define SUITE_INIT suite_init
#define SUITE_CLEANUP test_dir_remove

static char *tmp_path(const char *name)
{
    static char path[4200];
    test_dir_path(path, sizeof path, name);
    return path;
}

static void put_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, n, f), n);
    fclose(f);
}

/* The whole file as a string (caller frees). */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    size_t got;
    while ((got = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0)
            s = realloc(s, cap *= 2);
    }
    fclose(f);
    s[len] = '\0';
    if (n)
        *n = len;
    return s;
}

static void write_ok(const imc_flow *g, const char *path)
{
    imc_err err;
    imc_err_clear(&err);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int rc = imc_trace_write(g, f, &err);
    fclose(f);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static imc_flow *read_ok(const char *path)
{
    imc_flow *g = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_trace_read(&g, path, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    return g;
}

/* ---- a hand-built graph ------------------------------------------------------------------- */

/* Builds a graph the way dataflow.c does: every member its own malloc, so imc_flow_free
 * frees it; dependencies appended in op order. */
typedef struct gb {
    imc_flow *g;
} gb;

static void gb_layer(gb *b, const char *name, imc_layer_kind kind, int block, int head, int dir,
                     int in, int out, int64_t vectors, int bias)
{
    imc_flow *g = b->g;
    g->layers = realloc(g->layers, (g->n_layers + 1) * sizeof *g->layers);
    imc_layer *l = &g->layers[g->n_layers++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->kind = kind;
    l->block = block;
    l->head = head;
    l->dir = dir;
    l->in = in;
    l->out = out;
    l->vectors = vectors;
    l->has_bias = bias;
}

static void gb_name(gb *b, const char *name)
{
    imc_flow *g = b->g;
    g->names = realloc(g->names, (g->n_names + 1) * sizeof *g->names);
    g->names[g->n_names++] = strdup(name);
}

/* Append OP with N dependencies given as op ids. */
static uint32_t gb_op(gb *b, imc_op op, const uint32_t *deps, uint32_t n)
{
    imc_flow *g = b->g;
    g->ops = realloc(g->ops, (g->n_ops + 1) * sizeof *g->ops);
    g->deps = realloc(g->deps, (g->n_deps + n + 1) * sizeof *g->deps);
    op.first_dep = (uint32_t)g->n_deps;
    op.n_deps = n;
    for (uint32_t i = 0; i < n; i++)
        g->deps[g->n_deps++] = deps[i];
    g->ops[g->n_ops] = op;
    return (uint32_t)g->n_ops++;
}

static imc_op op0(imc_op_kind kind, imc_op_class cls, uint32_t name, uint32_t token)
{
    imc_op o;
    memset(&o, 0, sizeof o);
    o.kind = (uint8_t)kind;
    o.cls = (uint8_t)cls;
    o.layer = o.site = o.head = -1;
    o.name = name;
    o.token = token;
    return o;
}

/* Two tokens through a patch embedding, one attention block's QKV, stores, a barrier, Q K^T,
 * softmax, S V, one FAR LSTM step with its cell update, and out. */
static imc_flow *hand_graph(void)
{
    gb b = {calloc(1, sizeof(imc_flow))};
    imc_flow *g = b.g;
    g->model = strdup("hand made#1"); /* a space and a '#': escaped in the text */
    g->tokens = 2;
    g->embed_dim = 8;
    g->num_heads = 2;
    g->act_bits = 8;
    gb_layer(&b, "patch_embed.proj", IMC_LAYER_PATCH_EMBED, -1, -1, -1, 48, 8, 1, 1);
    gb_layer(&b, "blocks.0.attn.qkv", IMC_LAYER_QKV, 0, -1, -1, 8, 24, 2, 1);
    gb_layer(&b, "blocks.1.attn.lstm.h1.bwd", IMC_LAYER_FAR_LSTM, 1, 1, IMC_DIR_BWD, 12, 16, 2, 0);
    gb_layer(&b, "head", IMC_LAYER_HEAD, -1, -1, -1, 8, 10, 0, 0); /* zero fields: omitted */
    gb_name(&b, "input");
    gb_name(&b, "patch_embed");
    gb_name(&b, "blocks.0.attn");
    gb_name(&b, "blocks.1.attn.lstm.h1.bwd");
    gb_name(&b, "100% odd\tname"); /* escapes: '%', a tab, a space */

    imc_op o = op0(IMC_OP_INPUT, IMC_CLS_IO, 0, 0);
    o.out_bits = 3 * 48 * 8;
    uint32_t in = gb_op(&b, o, NULL, 0);

    uint32_t x[2], qkv[2], st[2];
    for (uint32_t t = 0; t < 2; t++) {
        o = op0(IMC_OP_MVM, IMC_CLS_MVM, 1, t);
        o.layer = o.site = 0;
        o.in_bits = 48 * 8;
        o.out_bits = 64;
        uint32_t pe = gb_op(&b, o, &in, 1);
        o = op0(IMC_OP_VECTOR, IMC_CLS_EMBED, 1, t);
        o.site = 0;
        o.n_work = 1;
        o.work[0] = (imc_work){IMC_DIGITAL_ADD, 8};
        o.in_bits = o.out_bits = 64;
        x[t] = gb_op(&b, o, &pe, 1);
        o = op0(IMC_OP_MVM, IMC_CLS_MVM, 2, t);
        o.layer = o.site = 1;
        o.in_bits = 64;
        o.out_bits = 192;
        qkv[t] = gb_op(&b, o, &x[t], 1);
        o = op0(IMC_OP_STORE, IMC_CLS_STORE, 2, t);
        o.site = 1;
        o.in_bits = o.out_bits = 128;
        st[t] = gb_op(&b, o, &qkv[t], 1);
    }
    /* A barrier joining many ops (some twice: the format keeps duplicates). */
    uint32_t many[] = {st[0], st[1], qkv[0], qkv[1], x[0], x[1], in, st[1]};
    uint32_t bar = gb_op(&b, op0(IMC_OP_BARRIER, IMC_CLS_SYNC, 2, 0), many, 8);

    o = op0(IMC_OP_MATMUL, IMC_CLS_QK, 2, 1);
    o.head = 1;
    o.in_bits = 32;
    o.out_bits = 16;
    o.m = 1;
    o.k = 4;
    o.n = 2;
    uint32_t deps[3] = {qkv[1], bar};
    uint32_t qk = gb_op(&b, o, deps, 2);
    o = op0(IMC_OP_VECTOR, IMC_CLS_SOFTMAX, 2, 1);
    o.head = 1;
    o.n_work = 1;
    o.work[0] = (imc_work){IMC_DIGITAL_SOFTMAX, 2};
    uint32_t sm = gb_op(&b, o, &qk, 1);
    o = op0(IMC_OP_MATMUL, IMC_CLS_SV, 2, 1);
    o.head = 1;
    o.m = 1;
    o.k = 2;
    o.n = 4;
    o.in_bits = UINT64_MAX; /* the extremes of each field survive */
    uint32_t sv = gb_op(&b, o, &sm, 1);

    /* An LSTM step (head from its layer), its cell update (four work entries). */
    o = op0(IMC_OP_MVM, IMC_CLS_MVM, 3, UINT32_MAX);
    o.layer = o.site = 2;
    o.head = 1;
    deps[0] = sv;
    deps[1] = x[1];
    deps[2] = qkv[0];
    uint32_t step = gb_op(&b, o, deps, 3);
    o = op0(IMC_OP_VECTOR, IMC_CLS_LSTM_CELL, 3, 1);
    o.site = 2;
    o.head = 1;
    o.n_work = 4;
    o.work[0] = (imc_work){IMC_DIGITAL_SIGMOID, 12};
    o.work[1] = (imc_work){IMC_DIGITAL_TANH, 8};
    o.work[2] = (imc_work){IMC_DIGITAL_MUL, 12};
    o.work[3] = (imc_work){IMC_DIGITAL_MAX, 0};
    uint32_t cell = gb_op(&b, o, &step, 1);
    /* An MVM hosted away from its layer and with a head that is not its layer's. */
    o = op0(IMC_OP_MVM, IMC_CLS_MVM, 4, 0);
    o.layer = 3;
    o.site = -1;
    o.head = 0;
    uint32_t h = gb_op(&b, o, &cell, 1);
    /* A store of another class. */
    o = op0(IMC_OP_STORE, IMC_CLS_TRANSFER, 4, 0);
    o.out_bits = 1;
    uint32_t tr = gb_op(&b, o, &h, 1);
    o = op0(IMC_OP_OUTPUT, IMC_CLS_IO, 4, 0);
    o.in_bits = 80;
    deps[0] = tr;
    deps[1] = h;
    gb_op(&b, o, deps, 2);
    return g;
}

static void assert_same_graph(const imc_flow *a, const imc_flow *b)
{
    CU_ASSERT_STRING_EQUAL(a->model, b->model);
    CU_ASSERT_EQUAL(a->tokens, b->tokens);
    CU_ASSERT_EQUAL(a->embed_dim, b->embed_dim);
    CU_ASSERT_EQUAL(a->num_heads, b->num_heads);
    CU_ASSERT_EQUAL(a->act_bits, b->act_bits);
    CU_ASSERT_EQUAL_FATAL(a->n_layers, b->n_layers);
    for (size_t i = 0; i < a->n_layers; i++) {
        const imc_layer *x = &a->layers[i], *y = &b->layers[i];
        CU_ASSERT_STRING_EQUAL(x->name, y->name);
        CU_ASSERT_EQUAL(x->kind, y->kind);
        CU_ASSERT_EQUAL(x->block, y->block);
        CU_ASSERT_EQUAL(x->head, y->head);
        CU_ASSERT_EQUAL(x->dir, y->dir);
        CU_ASSERT_EQUAL(x->in, y->in);
        CU_ASSERT_EQUAL(x->out, y->out);
        CU_ASSERT_EQUAL(x->vectors, y->vectors);
        CU_ASSERT_EQUAL(x->has_bias, y->has_bias);
    }
    CU_ASSERT_EQUAL_FATAL(a->n_names, b->n_names);
    for (size_t i = 0; i < a->n_names; i++)
        CU_ASSERT_STRING_EQUAL(a->names[i], b->names[i]);
    CU_ASSERT_EQUAL_FATAL(a->n_ops, b->n_ops);
    CU_ASSERT_EQUAL_FATAL(a->n_deps, b->n_deps);
    size_t bad_ops = 0;
    for (size_t i = 0; i < a->n_ops; i++) {
        const imc_op *x = &a->ops[i], *y = &b->ops[i];
        int same = x->kind == y->kind && x->cls == y->cls && x->n_work == y->n_work &&
                   x->layer == y->layer && x->site == y->site && x->name == y->name &&
                   x->token == y->token && x->head == y->head && x->in_bits == y->in_bits &&
                   x->out_bits == y->out_bits && x->m == y->m && x->k == y->k && x->n == y->n &&
                   x->take_bits == y->take_bits &&
                   x->first_dep == y->first_dep && x->n_deps == y->n_deps;
        for (int w = 0; w < IMC_OP_MAX_WORK; w++) /* past n_work: zero on both sides */
            same = same && x->work[w].func == y->work[w].func &&
                   x->work[w].count == y->work[w].count;
        if (!same && bad_ops++ < 3)
            fprintf(stderr, "\n  op %zu differs\n", i);
    }
    CU_ASSERT_EQUAL(bad_ops, 0);
    CU_ASSERT(a->n_deps == 0 || !memcmp(a->deps, b->deps, a->n_deps * sizeof *a->deps));
}

/* The text of hand_graph(), exactly: the format by example (traces/README.md shows it). */
static const char hand_text[] =
    "imcsim-trace 1\n"
    "# the op graph of one inference (format: traces/README.md)\n"
    "model hand%20made%231 tokens=2 dim=8 heads=2 act_bits=8\n"
    "# layer INDEX NAME KIND [block= head= dir= in= out= vectors= bias=]\n"
    "layer 0 patch_embed.proj patch_embed in=48 out=8 vectors=1 bias=1\n"
    "layer 1 blocks.0.attn.qkv qkv block=0 in=8 out=24 vectors=2 bias=1\n"
    "layer 2 blocks.1.attn.lstm.h1.bwd far_lstm block=1 head=1 dir=bwd in=12 out=16 vectors=2\n"
    "layer 3 head head in=8 out=10\n"
    "# name INDEX NAME\n"
    "name 0 input\n"
    "name 1 patch_embed\n"
    "name 2 blocks.0.attn\n"
    "name 3 blocks.1.attn.lstm.h1.bwd\n"
    "name 4 100%25%20odd%09name\n"
    "# op KIND [CLASS] [layer= site= head= name= tok= in= out= mkn= work= deps=], numbered from 0\n"
    "# op 0\n"
    "op input out=1152\n"
    "op mvm layer=0 name=1 deps=-1\n"
    "op vector embed site=0 name=1 out=64 work=add:8 deps=-1\n"
    "op mvm layer=1 name=2 deps=-1\n"
    "op store site=1 name=2 out=128 deps=-1\n"
    "op mvm layer=0 name=1 tok=1 deps=-5\n"
    "op vector embed site=0 name=1 tok=1 out=64 work=add:8 deps=-1\n"
    "op mvm layer=1 name=2 tok=1 deps=-1\n"
    "op store site=1 name=2 tok=1 out=128 deps=-1\n"
    "op barrier name=2 deps=-5,-1,-6,-2,-7,-3,-9,-1\n"
    "op matmul qk head=1 name=2 tok=1 in=32 out=16 mkn=1x4x2 deps=-3,-1\n"
    "op vector softmax head=1 name=2 tok=1 work=softmax:2 deps=-1\n"
    "op matmul sv head=1 name=2 tok=1 in=18446744073709551615 mkn=1x2x4 deps=-1\n"
    "op mvm layer=2 name=3 tok=4294967295 in=0 out=0 deps=-1,-7,-10\n"
    "op vector lstm_cell site=2 name=3 tok=1 work=sigmoid:12,tanh:8,mul:12,max:0 deps=-1\n"
    "op mvm layer=3 site=-1 head=0 name=4 in=0 out=0 deps=-1\n"
    "op store transfer name=4 in=0 out=1 deps=-1\n"
    "op output name=4 in=80 deps=-1,-2\n"
    "end ops=18\n";

/* ---- round trips -------------------------------------------------------------------------- */

static void test_text(void)
{
    imc_flow *g = hand_graph();
    char *path = tmp_path("hand.trace");
    write_ok(g, path);
    char *text = slurp(path, NULL);
    CU_ASSERT_STRING_EQUAL(text, hand_text);
    if (strcmp(text, hand_text))
        fprintf(stderr, "\n--- written:\n%s---\n", text);
    free(text);
    imc_flow_free(g);
}

static void test_round_trip(void)
{
    imc_flow *g = hand_graph();
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s", tmp_path("a.trace"));
    snprintf(b, sizeof b, "%s", tmp_path("b.trace"));
    write_ok(g, a);
    imc_flow *back = read_ok(a);
    assert_same_graph(g, back);
    write_ok(back, b);
    size_t na, nb;
    char *ta = slurp(a, &na), *tb = slurp(b, &nb);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT(na == nb && !memcmp(ta, tb, na));
    free(ta);
    free(tb);
    imc_flow_free(back);
    imc_flow_free(g);
}

/* Version 2: a convolution's sliding-window MVMs (take=) and a receive (a vector op without
 * work) read and write back to the same text; a graph without take= is still written as
 * version 1 (test_text). */
static const char conv_text[] =
    "imcsim-trace 2\n"
    "# the op graph of one inference (format: traces/README.md)\n"
    "model conv tokens=0 dim=0 heads=0 act_bits=8\n"
    "# layer INDEX NAME KIND [block= head= dir= in= out= vectors= bias=]\n"
    "layer 0 c conv2d in=9 out=2 vectors=2\n"
    "# name INDEX NAME\n"
    "name 0 x\n"
    "name 1 c\n"
    "# op KIND [CLASS] [layer= site= head= name= tok= in= out= mkn= take= work= deps=], numbered from 0\n"
    "# op 0\n"
    "op input out=128\n"
    "op vector transfer site=0 name=1 out=128 deps=-1\n"
    "op barrier name=1 deps=-1\n"
    "op mvm layer=0 name=1 take=8 deps=-1\n"
    "op mvm layer=0 name=1 tok=1 take=8 deps=-2\n"
    "op output name=1 in=16 deps=-1,-2\n"
    "end ops=6\n";

static void test_version2_take(void)
{
    char *path = tmp_path("conv.trace");
    put_file(path, conv_text, strlen(conv_text));
    imc_flow *g = read_ok(path);
    CU_ASSERT_EQUAL_FATAL(g->n_ops, 6);
    CU_ASSERT_EQUAL(g->ops[1].n_work, 0);
    CU_ASSERT_EQUAL(g->ops[1].in_bits, 128);
    CU_ASSERT_EQUAL(g->ops[3].take_bits, 8);
    CU_ASSERT_EQUAL(g->ops[4].take_bits, 8);
    CU_ASSERT_EQUAL(g->ops[5].take_bits, 0);
    write_ok(g, path);
    char *text = slurp(path, NULL);
    CU_ASSERT_STRING_EQUAL(text, conv_text);
    free(text);
    imc_flow_free(g);
}

/* An empty graph (no layers, names or ops) round-trips too. */
static void test_empty_graph(void)
{
    imc_flow *g = calloc(1, sizeof *g);
    g->model = strdup("nothing");
    char *path = tmp_path("empty.trace");
    write_ok(g, path);
    char *text = slurp(path, NULL);
    CU_ASSERT_STRING_EQUAL(text, "imcsim-trace 1\n"
                                 "# the op graph of one inference (format: traces/README.md)\n"
                                 "model nothing tokens=0 dim=0 heads=0 act_bits=0\n"
                                 "# layer INDEX NAME KIND [block= head= dir= in= out= vectors= bias=]\n"
                                 "# name INDEX NAME\n"
                                 "# op KIND [CLASS] [layer= site= head= name= tok= in= out= mkn= "
                                 "work= deps=], numbered from 0\n"
                                 "end ops=0\n");
    free(text);
    imc_flow *back = read_ok(path);
    assert_same_graph(g, back);
    imc_flow_free(back);
    imc_flow_free(g);
}

/* What a script might write: absolute dependencies, fields in any order, comments at the ends
 * of lines, tabs, CRLF line ends, blank lines, lower-case escapes, no final newline. */
static void test_hand_written(void)
{
    static const char text[] =
        "imcsim-trace 1\r\n"
        "# written by a script\r\n"
        "\r\n"
        "model  tiny%2dnet act_bits=4 heads=1 dim=4 tokens=1   # any field order\r\n"
        "layer 0 fc1_%2a mlp_fc1 in=4 out=4 vectors=1 dir=fwd\r\n"
        "layer 1 x mlp_fc2 out=2 in=4\r\n"
        "name 0 all\r\n"
        "\top\tinput\tout=32\r\n"
        "op mvm deps=0 tok=0 layer=0 head=7\r\n"
        "op mvm layer=1 deps=1,0,-2 site=0\r\n"
        "op barrier deps=-1 # joins\r\n"
        "op output in=32 deps=3\r\n"
        "end ops=5";
    char *path = tmp_path("script.trace");
    put_file(path, text, sizeof text - 1);
    imc_flow *g = read_ok(path);
    CU_ASSERT_STRING_EQUAL(g->model, "tiny-net");
    CU_ASSERT_EQUAL(g->tokens, 1);
    CU_ASSERT_EQUAL(g->embed_dim, 4);
    CU_ASSERT_EQUAL(g->num_heads, 1);
    CU_ASSERT_EQUAL(g->act_bits, 4);
    CU_ASSERT_EQUAL_FATAL(g->n_layers, 2);
    CU_ASSERT_STRING_EQUAL(g->layers[0].name, "fc1_*");
    CU_ASSERT_EQUAL(g->layers[0].kind, IMC_LAYER_FC1);
    CU_ASSERT_EQUAL(g->layers[0].dir, IMC_DIR_FWD);
    CU_ASSERT_EQUAL(g->layers[0].block, -1);
    CU_ASSERT_EQUAL(g->layers[0].head, -1);
    CU_ASSERT_EQUAL(g->layers[0].has_bias, 0);
    CU_ASSERT_EQUAL(g->layers[1].in, 4);
    CU_ASSERT_EQUAL(g->layers[1].out, 2);
    CU_ASSERT_EQUAL(g->ops[2].out_bits, 8); /* out= of its layer at act_bits */
    CU_ASSERT_EQUAL_FATAL(g->n_ops, 5);
    CU_ASSERT_EQUAL(g->ops[0].kind, IMC_OP_INPUT);
    CU_ASSERT_EQUAL(g->ops[0].cls, IMC_CLS_IO);
    CU_ASSERT_EQUAL(g->ops[0].site, -1);
    CU_ASSERT_EQUAL(g->ops[0].head, -1);
    CU_ASSERT_EQUAL(g->ops[1].cls, IMC_CLS_MVM);
    CU_ASSERT_EQUAL(g->ops[1].site, 0);
    CU_ASSERT_EQUAL(g->ops[1].head, 7);
    CU_ASSERT_EQUAL(g->ops[2].site, 0);
    CU_ASSERT_EQUAL(g->ops[2].layer, 1);
    CU_ASSERT_EQUAL(g->ops[2].head, -1); /* layer 1's head */
    CU_ASSERT_EQUAL(g->ops[3].cls, IMC_CLS_SYNC);
    CU_ASSERT_EQUAL(g->ops[4].in_bits, 32);
    CU_ASSERT_EQUAL_FATAL(g->n_deps, 6);
    const uint32_t deps[] = {0, 1, 0, 0, 2, 3};
    CU_ASSERT(!memcmp(g->deps, deps, sizeof deps));
    CU_ASSERT_EQUAL(g->ops[2].first_dep, 1);
    CU_ASSERT_EQUAL(g->ops[2].n_deps, 3);
    CU_ASSERT_EQUAL(g->ops[4].first_dep, 5);
    imc_flow_free(g);
}

/* The example in traces/README.md reads, and means what its comments say. */
static void test_readme_example(void)
{
    const char *src = getenv("IMCSIM_SRCDIR");
    char readme[4200];
    snprintf(readme, sizeof readme, "%s/traces/README.md", src && *src ? src : ".");
    FILE *f = fopen(readme, "r");
    if (!f)
        fprintf(stderr, "\n  cannot open %s (set IMCSIM_SRCDIR)\n", readme);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    char *doc = slurp(readme, NULL);
    char *begin = strstr(doc, "```text\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(begin);
    begin += strlen("```text\n");
    char *end = strstr(begin, "```");
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    char *path = tmp_path("readme.trace");
    put_file(path, begin, (size_t)(end - begin));
    free(doc);
    imc_flow *g = read_ok(path);
    CU_ASSERT_STRING_EQUAL(g->model, "toy");
    CU_ASSERT_EQUAL(g->n_layers, 4);
    CU_ASSERT_EQUAL(g->n_names, 6);
    CU_ASSERT_EQUAL_FATAL(g->n_ops, 23);
    const imc_op *o = g->ops;
    CU_ASSERT_EQUAL(o[2].in_bits, 48 * 8); /* the patch: defaults from the layer */
    CU_ASSERT_EQUAL(o[2].out_bits, 4 * 8);
    CU_ASSERT_EQUAL(o[7].in_bits, 96);     /* a store: in defaults to out */
    CU_ASSERT_EQUAL(o[7].cls, IMC_CLS_STORE);
    CU_ASSERT_EQUAL(o[7].head, 0);
    CU_ASSERT_EQUAL(o[8].site, 1);
    CU_ASSERT_EQUAL(g->deps[o[8].first_dep], 3);
    CU_ASSERT_EQUAL_FATAL(o[12].n_deps, 2);
    CU_ASSERT_EQUAL(g->deps[o[12].first_dep], 7);
    CU_ASSERT_EQUAL(g->deps[o[12].first_dep + 1], 11);
    CU_ASSERT_EQUAL(g->deps[o[13].first_dep], 12);
    CU_ASSERT_EQUAL(o[13].m, 2);
    CU_ASSERT_EQUAL(o[13].k, 4);
    CU_ASSERT_EQUAL(g->deps[o[15].first_dep + 1], 12);
    CU_ASSERT_EQUAL(g->deps[o[17].first_dep + 1], 5);
    CU_ASSERT_EQUAL(o[22].kind, IMC_OP_OUTPUT);
    imc_flow_free(g);
}

/* ---- malformed traces --------------------------------------------------------------------- */

#define HDR "imcsim-trace 1\nmodel m tokens=1 dim=2 heads=1 act_bits=8\n"
#define L1 "layer 0 l qkv in=2 out=6\n"
#define N1 "name 0 n\n"

static void test_malformed(void)
{
    static const struct {
        const char *text;
        const char *where_what; /* "LINE:COL: error: MESSAGE" (after "PATH:") */
    } bad[] = {
        {"", "1:1: error: not an imcsim trace: the first line must be 'imcsim-trace 2'"},
        {"# comment\nimcsim-trace 1\n",
         "1:1: error: not an imcsim trace: the first line must be 'imcsim-trace 2'"},
        {"imcsim-trace\n", "1:13: error: missing the version after 'imcsim-trace'"},
        {"imcsim-trace one\n", "1:14: error: bad version 'one' (expected a positive integer)"},
        {"imcsim-trace 0\n", "1:14: error: bad version '0' (expected a positive integer)"},
        {"imcsim-trace 3\n", "1:14: error: trace version 3 is newer than this imcsim reads (2)"},
        {"imcsim-trace 1 x\n", "1:16: error: unexpected 'x' at the end of the line"},
        {"imcsim-trace 1\n", "2:1: error: missing header: no 'model NAME tokens=T dim=D heads=H "
                             "act_bits=B' line"},
        {HDR, "3:1: error: missing 'end ops=N' line (is the trace cut short?)"},
        {HDR N1 "op barrier\n", "5:1: error: missing 'end ops=N' line (is the trace cut short?)"},
        {"imcsim-trace 1\nlayer 0 l qkv\n",
         "2:1: error: missing header: 'model NAME tokens=T dim=D heads=H act_bits=B' must come "
         "before the first layer line"},
        {HDR "model m tokens=1 dim=2 heads=1 act_bits=8\n",
         "3:1: error: duplicate model line (the first is line 2)"},
        {HDR "imcsim-trace 1\n",
         "3:1: error: duplicate 'imcsim-trace' line (it is the first line only)"},
        {HDR "lyer 0 l qkv\n", "3:1: error: unknown keyword 'lyer' (did you mean 'layer'?)"},
        {HDR "frobnicate\n",
         "3:1: error: unknown keyword 'frobnicate' (one of model, layer, name, op, end)"},
        {"imcsim-trace 1\nmodel\n", "2:6: error: model: missing the model name"},
        {"imcsim-trace 1\nmodel m tokens=1 dim=2 heads=1\n",
         "2:31: error: model: missing 'act_bits='"},
        {"imcsim-trace 1\nmodel m tokens=1 tokens=2\n",
         "2:18: error: model: duplicate field 'tokens'"},
        {"imcsim-trace 1\nmodel m tokens=-1\n",
         "2:16: error: tokens: '-1' is not an integer in 0 .. 1048576"},
        {"imcsim-trace 1\nmodel m tokens=99999999999\n",
         "2:16: error: tokens: '99999999999' is not an integer in 0 .. 1048576"},
        /* bounds that keep the mapper's and the engine's products from overflowing */
        {"imcsim-trace 1\nmodel m tokens=2147483647\n",
         "2:16: error: tokens: '2147483647' is not an integer in 0 .. 1048576"},
        {"imcsim-trace 1\nmodel m tokens=1 dim=2147483647\n",
         "2:22: error: dim: '2147483647' is not an integer in 0 .. 16777216"},
        {"imcsim-trace 1\nmodel m tokens=1 dim=4 heads=200000000\n",
         "2:30: error: heads: '200000000' is not an integer in 0 .. 65536"},
        {"imcsim-trace 1\nmodel m tokens=1 dim=4 heads=1 act_bits=65\n",
         "2:41: error: act_bits: '65' is not an integer in 0 .. 64"},
        {"imcsim-trace 1\nmodel m tokens=1 dim=4 heads=8 act_bits=8\n",
         "2:30: error: heads: 8 heads do not divide dim=4 into equal heads"},
        {"imcsim-trace 1\nmodel m tokens=1 dim=6 heads=4 act_bits=8\n",
         "2:30: error: heads: 4 heads do not divide dim=6 into equal heads"},
        {HDR "layer 0 l qkv in=2147483647\n",
         "3:18: error: in: '2147483647' is not an integer in 0 .. 16777216"},
        {HDR "layer 0 l qkv in=1 out=16777217\n",
         "3:24: error: out: '16777217' is not an integer in 0 .. 16777216"},
        {"imcsim-trace 1\nmodel m token=1\n",
         "2:9: error: model: unknown field 'token' (did you mean 'tokens'?)"},
        {"imcsim-trace 1\nmodel m 197\n",
         "2:9: error: model: unexpected '197' (fields are KEY=VALUE)"},
        {"imcsim-trace 1\nmodel m%zz\n",
         "2:8: error: model name: bad escape in 'm%zz' (write %XX: two hex digits, not 00)"},
        {"imcsim-trace 1\nmodel m%00\n",
         "2:8: error: model name: bad escape in 'm%00' (write %XX: two hex digits, not 00)"},
        {"imcsim-trace 1\nmodel m%4\n",
         "2:8: error: model name: bad escape in 'm%4' (write %XX: two hex digits, not 00)"},
        {HDR "layer 1 l qkv\n",
         "3:7: error: layer: index '1' out of order (expected 0: layers are numbered from 0 in "
         "order)"},
        {HDR "layer\n", "3:6: error: layer: missing its index"},
        {HDR "layer 0\n", "3:8: error: layer: missing its name"},
        {HDR "layer 0 l\n", "3:10: error: layer: missing its kind"},
        {HDR "layer 0 l qkb\n", "3:11: error: unknown layer kind 'qkb' (did you mean 'qkv'?)"},
        {HDR "layer 0 "
             "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"
             "efghijabcdefgh qkv\n",
         "3:9: error: layer name "
         "'abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij...' is longer than 95 "
         "bytes"},
        {HDR "layer 0 l qkv dir=up\n", "3:19: error: dir: 'up' is not fwd or bwd"},
        {HDR "layer 0 l qkv bias=2\n", "3:20: error: bias: '2' is not an integer in 0 .. 1"},
        {HDR "layer 0 l qkv block=-2\n",
         "3:21: error: block: '-2' is not an integer in -1 .. 1000000"},
        {HDR "layer 0 l qkv in=4 in=4\n", "3:20: error: layer: duplicate field 'in'"},
        {HDR "layer 0 l qkv out=6\n",
         "3:9: error: layer l: in must be at least 1 (a layer with no weights maps to nothing; "
         "leave it out)"},
        {HDR "layer 0 l qkv in=2 out=0\n",
         "3:24: error: layer l: out must be at least 1 (a layer with no weights maps to nothing; "
         "leave it out)"},
        {HDR "layer 0 l qkv rows=4\n",
         "3:15: error: layer: unknown field 'rows' (expected one of block, head, dir, in, out, "
         "vectors, bias)"},
        {HDR "name 0\n", "3:7: error: name: missing the name"},
        {HDR "name 0 a b\n", "3:10: error: unexpected 'b' at the end of the line"},
        {HDR "name 1 a\n",
         "3:6: error: name: index '1' out of order (expected 0: names are numbered from 0 in "
         "order)"},
        {HDR N1 "op\n", "4:3: error: op: missing its kind"},
        {HDR N1 "op mvn\n", "4:4: error: unknown op kind 'mvn' (did you mean 'mvm'?)"},
        {HDR N1 "op matmul\n", "4:10: error: op matmul: missing its class (e.g. 'op matmul qk')"},
        {HDR N1 "op vector tok=1\n",
         "4:10: error: op vector: missing its class (e.g. 'op vector layernorm')"},
        {HDR N1 "op vector softmx\n",
         "4:11: error: unknown op class 'softmx' (did you mean 'softmax'?)"},
        {HDR N1 "op barrier sync extra\n",
         "4:17: error: op: unexpected 'extra' (fields are KEY=VALUE)"},
        {HDR N1 "op barrier token=1\n",
         "4:12: error: op: unknown field 'token' (did you mean 'tok'?)"},
        {HDR N1 "op barrier tok=1 tok=2\n", "4:18: error: op: duplicate field 'tok'"},
        {HDR N1 "op barrier tok=-1\n",
         "4:16: error: tok: '-1' is not an integer in 0 .. 4294967295"},
        {HDR N1 "op barrier tok=1e3\n",
         "4:16: error: tok: '1e3' is not an integer in 0 .. 4294967295"},
        {HDR N1 "op barrier in=18446744073709551616\n",
         "4:15: error: in: '18446744073709551616' is not an integer in 0 .. "
         "18446744073709551615"},
        {HDR N1 "op barrier out=\n",
         "4:16: error: out: '' is not an integer in 0 .. 18446744073709551615"},
        {HDR N1 "op mvm tok=1\n",
         "4:4: error: op mvm: missing 'layer=' (the mapped layer it multiplies by)"},
        {HDR N1 "op vector activation take=8\n",
         "4:4: error: op vector: 'take=' is for mvm ops (a convolution's window)"},
        {HDR L1 N1 "op mvm layer=0 take=4294967296\n",
         "5:21: error: take: '4294967296' is not an integer in 0 .. 4294967295"},
        {HDR L1 N1 "op mvm layer=1\n",
         "5:14: error: layer 1 out of range: the trace has 1 layer"},
        {HDR N1 "op vector gelu site=0\n",
         "4:21: error: site 0 out of range: the trace has 0 layers"},
        {HDR N1 "op barrier name=1\n", "4:17: error: name 1 out of range: the trace has 1 name"},
        {HDR "op barrier\n", "3:4: error: op: name 0 out of range: the trace has no name lines"},
        {HDR N1 "op barrier head=-2\n",
         "4:17: error: head: '-2' is not an integer in -1 .. 2147483647"},
        {HDR N1 "op matmul qk mkn=1x2\n",
         "4:18: error: mkn: '1x2' is not MxKxN (three integers 0 .. 4294967295, e.g. 1x64x197)"},
        {HDR N1 "op matmul qk mkn=1x2x3x4\n",
         "4:18: error: mkn: '1x2x3x4' is not MxKxN (three integers 0 .. 4294967295, e.g. "
         "1x64x197)"},
        {HDR N1 "op vector gelu work=gelu\n",
         "4:21: error: work: 'gelu' is not FUNCTION:COUNT (e.g. add:384)"},
        {HDR N1 "op vector gelu work=sqrt:4\n",
         "4:21: error: unknown work function 'sqrt' (one of add, mul, exp, div, sigmoid, tanh, "
         "gelu, layernorm, softmax, max)"},
        {HDR N1 "op vector gelu work=mac:4\n",
         "4:21: error: unknown work function 'mac' (did you mean 'max'?)"},
        {HDR N1 "op vector gelu work=gelu:x\n",
         "4:26: error: work count: 'x' is not an integer in 0 .. 4294967295"},
        {HDR N1 "op vector gelu work=add:1,mul:1,exp:1,div:1,max:1\n",
         "4:45: error: work: more than 4 entries"},
        {HDR N1 "op barrier deps=-1\n",
         "4:17: error: deps: '-1' is before the first op (this is op 0)"},
        {HDR N1 "op input\nop barrier deps=-1,-0\n",
         "5:20: error: deps: '-0' is not before this op (op 1): ops must be in a topological "
         "order"},
        {HDR N1 "op input\nop barrier deps=1\n",
         "5:17: error: deps: '1' is not before this op (op 1): ops must be in a topological "
         "order"},
        {HDR N1 "op input\nop barrier deps=0,,0\n",
         "5:19: error: deps: '' is not an op (-N: N ops back; N: op N)"},
        {HDR N1 "op input\nop barrier deps=+0\n",
         "5:17: error: deps: '+0' is not an op (-N: N ops back; N: op N)"},
        {HDR N1 "op input\nlayer 0 l qkv\n", "5:1: error: layer lines must come before the ops"},
        {HDR N1 "op input\nname 1 n\n", "5:1: error: name lines must come before the ops"},
        {HDR "end\n", "3:4: error: end: missing 'ops=' (the number of ops)"},
        {HDR "end op=0\n", "3:5: error: end: unknown field 'op' (did you mean 'ops'?)"},
        {HDR N1 "op input\nend ops=2\n", "5:9: error: end: says 2 ops but the trace has 1"},
        {HDR "end ops=0 x\n", "3:11: error: unexpected 'x' at the end of the line"},
        {HDR "end ops=0\nop input\n", "4:1: error: text after the end line (line 3)"},
        {HDR "end ops=0\n# a comment after the end is fine\n\nend ops=0\n",
         "6:1: error: text after the end line (line 3)"},
    };
    char *path = tmp_path("bad.trace");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_file(path, bad[i].text, strlen(bad[i].text));
        imc_flow *g = (imc_flow *)&path; /* must be reset to NULL on failure */
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_trace_read(&g, path, &err);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_PTR_NULL(g);
        char got[1024], want[1024];
        imc_err_format(&err, got, sizeof got);
        snprintf(want, sizeof want, "%s:%s", path, bad[i].where_what);
        CU_ASSERT_STRING_EQUAL(got, want);
        if (strcmp(got, want))
            fprintf(stderr, "\n  case %zu:\n    got  %s\n    want %s\n", i, got, want);
        if (!rc)
            imc_flow_free(g);
    }
}

/* Bytes a text file should not hold, and a line beyond any sensible length. */
static void test_malformed_bytes(void)
{
    char *path = tmp_path("bytes.trace");
    static const char nul[] = "imcsim-trace 1\nmodel m\0x tokens=1\n";
    put_file(path, nul, sizeof nul - 1);
    imc_flow *g = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_trace_read(&g, path, &err), IMC_EINPUT);
    char got[1024], want[5000];
    imc_err_format(&err, got, sizeof got);
    snprintf(want, sizeof want, "%s:2:8: error: NUL byte (a trace is text)", path);
    CU_ASSERT_STRING_EQUAL(got, want);

    /* 64 MiB of one line: refused, not read into memory whole. */
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("imcsim-trace 1\n# ", f);
    static char chunk[1 << 16];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 1024 + 1; i++)
        fwrite(chunk, 1, sizeof chunk, f);
    fclose(f);
    CU_ASSERT_EQUAL(imc_trace_read(&g, path, &err), IMC_EINPUT);
    imc_err_format(&err, got, sizeof got);
    snprintf(want, sizeof want, "%s:2:1: error: line longer than 67108864 bytes", path);
    CU_ASSERT_STRING_EQUAL(got, want);
    unlink(path);

    CU_ASSERT_EQUAL(imc_trace_read(&g, tmp_path("missing.trace"), &err), IMC_EINPUT);
    imc_err_format(&err, got, sizeof got);
    snprintf(want, sizeof want, "%s: error: cannot open: No such file or directory",
             tmp_path("missing.trace"));
    CU_ASSERT_STRING_EQUAL(got, want);
}

/* The writer refuses what the reader would refuse, rather than write an unreadable trace. */
static void test_write_refuses(void)
{
    static const char *const why[] = {
        "cannot write the trace: op 5 depends on op 7, which is not before it",
        "cannot write the trace: op 1: name 9 out of range (5 names)",
        "cannot write the trace: op 1: an mvm op without a layer",
        "cannot write the trace: op 2: 5 work entries (at most 4)",
        "cannot write the trace: op 2: work function 10 out of range",
        "cannot write the trace: name 4 is empty",
        ("cannot write the trace: layer 2 (blocks.1.attn.lstm.h1.bwd): block, head, dir, in, "
         "out, vectors or has_bias out of range"),
        "cannot write the trace: op 3: dependencies not laid out in op order",
    };
    for (int c = 0; c < 8; c++) {
        imc_flow *g = hand_graph();
        switch (c) {
        case 0: g->deps[g->ops[5].first_dep] = 7; break;
        case 1: g->ops[1].name = 9; break;
        case 2: g->ops[1].layer = -1; break;
        case 3: g->ops[2].n_work = 5; break;
        case 4: g->ops[2].work[0].func = IMC_DIGITAL_MAC; break;
        case 5: g->names[4][0] = '\0'; break;
        case 6: g->layers[2].dir = 2; break;
        default: g->ops[3].first_dep = 0; break;
        }
        imc_err err;
        imc_err_clear(&err);
        FILE *f = fopen(tmp_path("refused.trace"), "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(imc_trace_write(g, f, &err), IMC_EINTERNAL);
        fclose(f);
        CU_ASSERT_STRING_EQUAL(err.msg, why[c]);
        imc_flow_free(g);
    }
}

/* ---- the network of a graph --------------------------------------------------------------- */

static void test_graph_network(void)
{
    imc_flow *g = hand_graph();
    imc_network *net = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(imc_flow_network(g, &net, &err), 0);
    CU_ASSERT_STRING_EQUAL(net->name, g->model);
    CU_ASSERT_PTR_NULL(net->file);
    CU_ASSERT_PTR_NULL(net->blocks);
    CU_ASSERT_EQUAL(net->embed_dim, 8);
    CU_ASSERT_EQUAL(net->num_heads, 2);
    CU_ASSERT_EQUAL(net->head_dim, 4);
    CU_ASSERT_EQUAL(net->tokens, 2);
    CU_ASSERT_EQUAL(net->depth, 2); /* blocks 0 and 1 */
    CU_ASSERT_EQUAL_FATAL(net->n_layers, g->n_layers);
    CU_ASSERT_PTR_NOT_EQUAL(net->layers, g->layers);
    CU_ASSERT(!memcmp(net->layers, g->layers, g->n_layers * sizeof *g->layers));
    /* 48x8+8, 8x24+24, 12x16, 8x10 */
    CU_ASSERT_EQUAL(net->params_total, 392 + 216 + 192 + 80);
    imc_flow_free(g); /* the network owns its own copy */
    CU_ASSERT_STRING_EQUAL(net->layers[2].name, "blocks.1.attn.lstm.h1.bwd");
    imc_network_free(net);
}

/* ---- generated networks ------------------------------------------------------------------- */

/* A tiny DeiT (FAR_BLOCKS 0) or FAR network, built into a graph, round-trips exactly. */
static void round_trip_generated(uint64_t far_blocks, const char *tag)
{
    imc_modelgen_spec s = tiny_spec(far_blocks, far_blocks ? 0.25 : 0, 0);
    snprintf(s.name, sizeof s.name, "tiny-%s", tag);
    model m = gen_model(&s, tag);
    imc_network *net = m.net;
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/%s-a.trace", test_dir, tag);
    snprintf(b, sizeof b, "%s/%s-b.trace", test_dir, tag);
    imc_err err;
    imc_err_clear(&err);
    imc_flow *g = NULL;
    imc_dataflow_opts opts = {.act_bits = 8};
    int rc = imc_dataflow_build(&g, net, &opts, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT(g->n_ops > 100);

    write_ok(g, a);
    imc_flow *back = read_ok(a);
    assert_same_graph(g, back);
    write_ok(back, b);
    size_t na, nb;
    char *ta = slurp(a, &na), *tb = slurp(b, &nb);
    CU_ASSERT(na == nb && !memcmp(ta, tb, na));
    /* Compact: a short line per op (about 65 bytes here; 72 for DeiT-S and FAR-S). */
    CU_ASSERT(na < 80 * g->n_ops);
    free(ta);
    free(tb);

    imc_network *tn = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_flow_network(back, &tn, &err), 0);
    CU_ASSERT_EQUAL(tn->depth, net->depth);
    CU_ASSERT_EQUAL(tn->head_dim, net->head_dim);
    CU_ASSERT_EQUAL_FATAL(tn->n_layers, net->n_layers);
    for (size_t i = 0; i < net->n_layers; i++) {
        CU_ASSERT_STRING_EQUAL(tn->layers[i].name, net->layers[i].name);
        CU_ASSERT_EQUAL(tn->layers[i].in, net->layers[i].in);
        CU_ASSERT_EQUAL(tn->layers[i].out, net->layers[i].out);
        CU_ASSERT_EQUAL(tn->layers[i].vectors, net->layers[i].vectors);
    }
    imc_network_free(tn);
    imc_flow_free(back);
    imc_flow_free(g);
    free_model(&m);
}

static void test_generated_deit(void)
{
    round_trip_generated(0, "deit");
}

static void test_generated_far(void)
{
    round_trip_generated(3, "far"); /* both blocks FAR */
}

static CU_TestInfo tests[] = {
    {"text of a hand-built graph", test_text},
    {"write, read, compare every field, write again", test_round_trip},
    {"version 2: sliding-window take= and a receive round-trip", test_version2_take},
    {"empty graph", test_empty_graph},
    {"a trace written by a script", test_hand_written},
    {"the example in traces/README.md", test_readme_example},
    {"malformed traces: exact messages", test_malformed},
    {"NUL bytes, overlong lines, missing file", test_malformed_bytes},
    {"writer refuses an unreadable graph", test_write_refuses},
    {"network of a graph", test_graph_network},
    {"generated DeiT round trip", test_generated_deit},
    {"generated FAR round trip", test_generated_far},
    CU_TEST_INFO_NULL,
};
#define SUITE_NAME "trace"
#include "cunit_main.h"
