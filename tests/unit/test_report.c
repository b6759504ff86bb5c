/* test_report.c -- the summary and the stats YAML, from hand-built results.
 *
 * The inputs are made here, not by the engine: a small architecture, a ledger whose
 * component energies are planned (count = planned pJ / the model's energy per action, so the
 * ranking is known whatever the model defaults are), an engine result with round numbers and
 * a placement filled in by hand. The summary is checked line by line where the format is the
 * contract (latency, ranking, ratios); the stats are parsed back with libyaml. */
#define _GNU_SOURCE /* open_memstream on older glibc */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "sim/arch/arch.h"
#include "sim/flow/dataflow.h"
#include "sim/engine/engine.h"
#include "sim/engine/ledger.h"
#include "sim/report/report.h"
#include "sim/report/timeline.h"
#include "sim/report/yaml2json.h"
#include "sim/base/digest.h"
#include "sim/base/ytree.h"

#include <CUnit/CUnit.h>

/* The `minimal` configuration of test_config.c plus a digital unit, a 1 GHz clock and ADCs
 * that leak (so the leakage column has something to show). */
static const char arch_yaml[] = "schema: 1\n"
                                "clock: {digital: 1 GHz}\n"
                                "chip:\n"
                                "  tiles: 4\n"
                                "  noc: {model: noc/mesh}\n"
                                "  dram: {model: dram/simple}\n"
                                "  digital: {model: digital/vector, mac_units: 16}\n"
                                "  tile:\n"
                                "    pes: 2\n"
                                "    buffer: {model: buffer/edram}\n"
                                "    pe:\n"
                                "      xbars: 4\n"
                                "      xbar:\n"
                                "        model: xbar/reram\n"
                                "        cell: {model: cell/reram}\n"
                                "      dac: {model: dac/simple}\n"
                                "      sh: {model: sh/simple}\n"
                                "      adc: {model: adc/sar, leakage: 0.1 mW}\n"
                                "      shiftadd: {model: shiftadd/simple}\n";

static const char *const names[] = {"blocks.0.attn.qkv", "blocks.0.attn", "head"};

/* The planned dynamic energy of one inference, largest first (the ADC also leaks). */
static const struct {
    imc_comp comp;
    unsigned action;
    uint32_t name;
    int cls;
    double pj;
} plan[] = {
    {IMC_COMP_ADC, IMC_ADC_CONVERT, 0, IMC_CLS_MVM, 4e6},
    {IMC_COMP_XBAR, IMC_XBAR_READ, 0, IMC_CLS_MVM, 2e6},
    {IMC_COMP_DAC, IMC_DAC_CONVERT, 0, IMC_CLS_MVM, 1e6},
    {IMC_COMP_SH, IMC_SH_SAMPLE, 0, IMC_CLS_MVM, 5e5},
    {IMC_COMP_TILE_BUFFER, IMC_BUFFER_READ, 0, IMC_CLS_TRANSFER, 2.5e5},
    {IMC_COMP_NOC, IMC_NOC_FLIT_HOP, 2, IMC_CLS_TRANSFER, 1.25e5},
    {IMC_COMP_DIGITAL, IMC_DIGITAL_MAC, 1, IMC_CLS_QK, 6e4},
    {IMC_COMP_DRAM, IMC_DRAM_READ_BITS, 2, IMC_CLS_IO, 3e4},
};
#define N_PLAN (sizeof plan / sizeof plan[0])

#define LATENCY_PS UINT64_C(1234567000) /* 1234.567 us = 1234567 cycles at 1 GHz */

static imc_arch *arch;

static int setup(void)
{
    imc_err err;
    imc_err_clear(&err);
    if (imc_arch_load_string(&arch, arch_yaml, "report.yaml", NULL, 0, &err)) {
        fprintf(stderr, "\n%s:%d:%d: %s\n", err.file, err.line, err.col, err.msg);
        return 1;
    }
    return 0;
}

static int teardown(void)
{
    imc_arch_free(arch);
    return 0;
}

/* A ledger of the plan, every count times SCALE, leakage over SIM_PS; ODD_BITS more DRAM
 * reads make the total a number that 15 significant digits do not carry. */
static imc_ledger *planned_ledger(double scale, uint64_t sim_ps, double odd_bits)
{
    imc_ledger *l = imc_ledger_new(arch, names, sizeof names / sizeof names[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    for (size_t i = 0; i < N_PLAN; i++) {
        const imc_instance *inst = imc_comp_instance(arch, plan[i].comp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(inst);
        double each = imc_model_cost(inst, plan[i].action).energy_pj;
        CU_ASSERT_FATAL(each > 0);
        CU_ASSERT_EQUAL(imc_ledger_add(l, plan[i].name, plan[i].cls, plan[i].comp,
                                       plan[i].action, scale * plan[i].pj / each),
                        0);
    }
    CU_ASSERT_EQUAL(imc_ledger_add(l, 2, IMC_CLS_IO, IMC_COMP_DRAM, IMC_DRAM_READ_BITS, odd_bits),
                    0);
    imc_ledger_traffic(l, IMC_MEM_NOC, scale * 3 * 8 * 1024 * 1024);  /* 3 MiB */
    imc_ledger_traffic(l, IMC_MEM_TILE_BUFFER, scale * 8 * 1536);      /* 1.5 KiB */
    double instances[IMC_COMP_COUNT] = {0};
    instances[IMC_COMP_ADC] = 10;
    CU_ASSERT_EQUAL(imc_ledger_close(l, sim_ps, instances), 0);
    return l;
}

static imc_placement placement(void)
{
    return (imc_placement){.arch = arch, .xbars_used = 24, .xbars_available = 32,
                           .pes_used = 6, .pes_available = 8, .tiles_used = 3, .rounds = 1,
                           .cell_utilization = 0.75};
}

static imc_engine_result result(uint64_t latency_ps, imc_ledger *l)
{
    return (imc_engine_result){.latency_ps = latency_ps, .makespan_ps = latency_ps,
                               .interval_ps = (double)latency_ps, .events = 123456,
                               .ops = 2345, .xbar_busy = 0.451, .mac_busy = 0.032, .ledger = l};
}

/* What the report functions write, as a string the caller frees. */
/* The summary as the command line prints it by default (six components and "other"), and with
 * --summary all. */
static void summary_top(const imc_arch *a, const imc_run *runs, size_t n, int batch, FILE *out)
{
    imc_report_summary(a, runs, n, batch, 0, out);
}

static void summary_all(const imc_arch *a, const imc_run *runs, size_t n, int batch, FILE *out)
{
    imc_report_summary(a, runs, n, batch, 1, out);
}

static char *capture(void (*fn)(const imc_arch *, const imc_run *, size_t, int, FILE *),
                     const imc_run *runs, size_t n, int batch)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fn(arch, runs, n, batch, f);
    fclose(f);
    return text;
}

/* The line of TEXT that starts with PREFIX, copied into LINE; its offset, or -1. */
static long find_line(const char *text, const char *prefix, char *line, size_t size)
{
    size_t len = strlen(prefix);
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) >= len && memcmp(p, prefix, len) == 0) {
            snprintf(line, size, "%.*s", (int)(end - p), p);
            return p - text;
        }
        p = *end ? end + 1 : end;
    }
    fprintf(stderr, "\n  no line starting with '%s' in:\n%s", prefix, text);
    return -1;
}

static int has_line(const char *text, const char *want)
{
    char line[512];
    if (find_line(text, want, line, sizeof line) < 0)
        return 0;
    if (strcmp(line, want) != 0) {
        fprintf(stderr, "\n  got  '%s'\n  want '%s'\n", line, want);
        return 0;
    }
    return 1;
}

/* ---- the summary of one run ---------------------------------------------------------------- */

static void test_summary_one_run(void)
{
    imc_ledger *l = planned_ledger(1, LATENCY_PS, 0);
    imc_placement p = placement();
    imc_engine_result res = result(LATENCY_PS, l);
    imc_run run = {.label = "deit-test", .place = &p, .graph = NULL, .res = &res};
    char *s = capture(summary_top, &run, 1, 1);

    CU_ASSERT(has_line(s, "imcsim summary: deit-test"));
    CU_ASSERT(has_line(s, "  architecture           report.yaml"));
    CU_ASSERT(has_line(s, "  batch                  1"));
    CU_ASSERT(has_line(s, "  latency                1234.567 us = 1234567 cycles of the 1 GHz digital "
                          "clock"));
    CU_ASSERT(has_line(s, "  throughput             810 inferences/s (one every 1234.567 us in "
                          "steady state)"));

    /* The ADC: 4 uJ converting plus 10 x 0.1 mW x 1234.567 us = 1.234567 uJ leaking. */
    double total_uj = imc_ledger_total_pj(l) * 1e-6;
    CU_ASSERT_DOUBLE_EQUAL(total_uj, 4 + 2 + 1 + 0.5 + 0.25 + 0.125 + 0.06 + 0.03 + 1.234567,
                           1e-9);
    CU_ASSERT(has_line(s, "  energy                 9.2 uJ per inference = 108701 "
                          "inferences/J"));
    CU_ASSERT(has_line(s, "    chip.tile.pe.adc                    5.235    56.9 %        1.235"));
    CU_ASSERT(has_line(s, "    total                                 9.2   100.0 %        1.235"));

    /* The top six in order of energy, then the last two folded into "other". */
    static const char *const top[] = {"    chip.tile.pe.adc ", "    chip.tile.pe.xbar ",
                                      "    chip.tile.pe.dac ", "    chip.tile.pe.sh ",
                                      "    chip.tile.buffer ", "    chip.noc ",
                                      "    other (2) ",        "    total "};
    char line[512];
    long last = -1;
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        long at = find_line(s, top[i], line, sizeof line);
        CU_ASSERT(at > last);
        last = at;
    }
    CU_ASSERT(has_line(s, "    other (2)                            0.09     1.0 %            0"));
    CU_ASSERT_PTR_NULL(strstr(s, "chip.digital"));
    CU_ASSERT_PTR_NULL(strstr(s, "chip.dram"));
    free(s);

    /* --summary all: "other" expanded into its two components, 0.06 + 0.03 uJ. */
    s = capture(summary_all, &run, 1, 1);
    CU_ASSERT_PTR_NULL(strstr(s, "other ("));
    CU_ASSERT(has_line(s, "    chip.digital                         0.06     0.7 %            0"));
    CU_ASSERT(has_line(s, "    chip.dram                            0.03     0.3 %            0"));
    CU_ASSERT(find_line(s, "    chip.noc ", line, sizeof line) <
              find_line(s, "    chip.digital ", line, sizeof line));

    /* Op classes ranked, leakage among them. */
    CU_ASSERT(find_line(s, "    mvm ", line, sizeof line) <
              find_line(s, "    leakage ", line, sizeof line));
    CU_ASSERT(find_line(s, "    leakage ", line, sizeof line) <
              find_line(s, "    transfer ", line, sizeof line));
    CU_ASSERT(has_line(s, "    mvm                                   7.5    81.5 %"));

    CU_ASSERT(has_line(s, "    noc                                 3 MiB"));
    CU_ASSERT(has_line(s, "    tile_buffer                       1.5 KiB"));
    CU_ASSERT(has_line(s, "    dram                                0 B"));
    CU_ASSERT(has_line(s, "    crossbars busy           45.1 %"));
    CU_ASSERT(has_line(s, "    MAC array busy           3.2 %"));
    CU_ASSERT(has_line(s, "    crossbars mapped         24 of 32 (75.0 %)"));
    CU_ASSERT(has_line(s, "    events simulated         123456 (2345 ops)"));
    free(s);

    /* Reprogramming rounds are named when there are several. */
    p.rounds = 3;
    s = capture(summary_top, &run, 1, 1);
    CU_ASSERT(has_line(s, "    crossbars mapped         24 of 32 (75.0 %) in 3 reprogramming "
                          "rounds"));
    free(s);
    imc_ledger_free(l);
}

/* Without a label, graph, placement or ledger the summary still prints what it has. */
static void test_summary_missing_parts(void)
{
    imc_engine_result res = result(LATENCY_PS, NULL);
    imc_run run = {.label = NULL, .place = NULL, .graph = NULL, .res = &res};
    char *s = capture(summary_top, &run, 1, 1);
    CU_ASSERT(has_line(s, "imcsim summary: run"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "  latency                1234.567 us"));
    CU_ASSERT_PTR_NULL(strstr(s, "energy"));
    CU_ASSERT_PTR_NULL(strstr(s, "crossbars mapped"));
    free(s);

    s = capture(imc_report_stats, &run, 1, 1);
    imc_ytree *t = NULL;
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_ytree_load_string(&t, s, "stats", &err), 0);
    imc_ytree_free(t);
    free(s);
}

/* Batch > 1: the throughput comes from the steady-state interval, not the latency. */
static void test_summary_batch(void)
{
    imc_engine_result res = result(LATENCY_PS, NULL);
    res.interval_ps = 500e6; /* 500 us between completions: 2000 inferences/s */
    res.makespan_ps = LATENCY_PS + 3 * UINT64_C(500000000);
    imc_run run = {.label = "deit-test", .res = &res};
    char *s = capture(summary_top, &run, 1, 4);
    CU_ASSERT(has_line(s, "  throughput             2000 inferences/s (one every 500.000 us in "
                          "steady state)"));
    CU_ASSERT(has_line(s, "  makespan               2734.567 us for 4 inferences"));
    free(s);
}

/* ---- several runs side by side ------------------------------------------------------------ */

static void test_summary_side_by_side(void)
{
    imc_ledger *l1 = planned_ledger(1, LATENCY_PS, 0);
    imc_ledger *l2 = planned_ledger(0.5, LATENCY_PS / 2, 0);
    imc_placement p = placement();
    imc_engine_result r1 = result(LATENCY_PS, l1), r2 = result(LATENCY_PS / 2, l2);
    r2.events = 61728;
    imc_run runs[] = {
        {.label = "deit-test", .place = &p, .res = &r1},
        {.label = "deit-test-without-attention (native)", .place = &p, .res = &r2},
    };
    char *s = capture(summary_top, runs, 2, 1);

    CU_ASSERT(has_line(s, "imcsim summary: 2 runs on report.yaml, batch 1"));
    /* Labels right-aligned over their columns, cut to 18 characters. */
    CU_ASSERT(has_line(s, "                                        deit-test deit-test-without-  "
                          "x/first"));
    CU_ASSERT(has_line(s, "  latency (us)                           1234.567            617.284  "
                          "  0.50x"));
    CU_ASSERT(has_line(s, "  latency (cycles)                        1234567             617284  "
                          "  0.50x"));
    CU_ASSERT(has_line(s, "  inferences/s                                810               1620  "
                          "  2.00x"));
    /* ADC leakage scales with the time too, so all of the energy halves. */
    CU_ASSERT(has_line(s, "  energy (uJ)                                 9.2                4.6  "
                          "  0.50x"));
    CU_ASSERT(has_line(s, "    chip.tile.pe.adc                        5.235              2.617  "
                          "  0.50x"));
    CU_ASSERT(has_line(s, "    other (2)                                0.09              0.045  "
                          "  0.50x"));
    CU_ASSERT(has_line(s, "    noc (MiB)                                   3                1.5  "
                          "  0.50x"));
    CU_ASSERT(has_line(s, "    dram (B)                                    0                  0  "
                          "      -"));
    CU_ASSERT(has_line(s, "  crossbars mapped                             24                 24  "
                          "  1.00x"));
    CU_ASSERT(has_line(s, "  events simulated                         123456              61728  "
                          "  0.50x"));
    CU_ASSERT(find_line(s, "    chip.tile.pe.xbar ", (char[512]){0}, 512) <
              find_line(s, "    chip.tile.pe.dac ", (char[512]){0}, 512));

    /* Three runs: a ratio column after every run but the first, all aligned. */
    imc_run three[] = {runs[0], runs[1], runs[1]};
    free(s);
    s = capture(summary_top, three, 3, 1);
    CU_ASSERT(has_line(s, "  latency (us)                           1234.567            617.284  "
                          "  0.50x            617.284    0.50x"));
    size_t width = 0;
    for (const char *line = s; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = (size_t)(end - line);
        if (strncmp(line, "  latency", 9) == 0 || strncmp(line, "    chip.tile.pe.", 17) == 0) {
            if (!width)
                width = len;
            CU_ASSERT_EQUAL(len, width);
        }
        line = end + 1;
    }
    free(s);
    imc_ledger_free(l1);
    imc_ledger_free(l2);
}

/* ---- stats YAML --------------------------------------------------------------------------- */

/* Parse TEXT with libyaml's event parser to its end; the number of documents, -1 on error. */
static int yaml_documents(const char *text)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int docs = 0, done = 0;
    CU_ASSERT_FATAL(yaml_parser_initialize(&parser));
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            fprintf(stderr, "\n  YAML error at %zu:%zu: %s\n", parser.problem_mark.line + 1,
                    parser.problem_mark.column + 1, parser.problem ? parser.problem : "?");
            docs = -1;
            break;
        }
        docs += ev.type == YAML_DOCUMENT_START_EVENT;
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return docs;
}

static imc_ynode *get(imc_ynode *map, const char *key)
{
    imc_yentry *e = imc_ynode_find(map, key);
    if (!e)
        fprintf(stderr, "\n  no key '%s'\n", key);
    return e ? e->val : NULL;
}

static const char *scalar(imc_ynode *map, const char *key)
{
    imc_ynode *n = get(map, key);
    return n && n->kind == IMC_Y_SCALAR ? n->scalar : "";
}

static void test_stats_yaml(void)
{
    imc_ledger *l1 = planned_ledger(1, LATENCY_PS, 1.0 / 3);
    imc_ledger *l2 = planned_ledger(0.5, LATENCY_PS / 2, 1.0 / 7);
    imc_placement p = placement();
    imc_layer layer = {.name = "blocks.0.attn.qkv", .in = 192, .out = 576, .vectors = 197};
    imc_layer_place lp = {.layer = &layer, .copies = 2, .row_tiles = 2, .col_tiles = 9,
                          .xbars = 36, .first_pe = 0, .pes = 9, .first_tile = 0, .last_tile = 2,
                          .cells_used = 1769472, .cell_utilization = 0.75};
    p.layers = &lp;
    p.n_layers = 1;
    imc_engine_result r1 = result(LATENCY_PS, l1), r2 = result(LATENCY_PS / 2, l2);
    imc_run runs[] = {{.label = "deit-test", .place = &p, .res = &r1},
                      {.label = "deit-test (native)", .place = &p, .res = &r2}};
    char *s = capture(imc_report_stats, runs, 2, 1);

    CU_ASSERT_EQUAL(yaml_documents(s), 1);
    /* ytree also rejects duplicate keys (pe.shiftadd and tile.shiftadd must differ). */
    imc_ytree *t = NULL;
    imc_err err;
    imc_err_clear(&err);
    if (imc_ytree_load_string(&t, s, "stats", &err))
        fprintf(stderr, "\n%s:%d:%d: %s\n%s", err.file, err.line, err.col, err.msg, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    imc_ynode *root = imc_ytree_root(t);
    CU_ASSERT_STRING_EQUAL(scalar(root, "arch_file"), "report.yaml");
    CU_ASSERT_STRING_EQUAL(scalar(root, "clock_hz"), "1000000000");
    /* the hardware's static power beside its peak: here the ADC's given 0.1 mW and the default
     * DAC, S&H and shift-and-add leakage (PUMA's 10 % of ISAAC's figures) */
    double leak_w = strtod(scalar(get(root, "hardware"), "leakage_w"), NULL);
    CU_ASSERT(leak_w > 0 && leak_w < strtod(scalar(get(root, "hardware"), "peak_power_w"), NULL));
    imc_ynode *list = get(root, "runs");
    CU_ASSERT_FATAL(list && list->kind == IMC_Y_SEQ && list->n == 2);

    const imc_ledger *ledgers[] = {l1, l2};
    for (size_t i = 0; i < 2; i++) {
        imc_ynode *run = list->items[i];
        char want[64];
        CU_ASSERT_STRING_EQUAL(scalar(run, "label"), runs[i].label);
        snprintf(want, sizeof want, "%.17g", imc_ledger_total_pj(ledgers[i]));
        CU_ASSERT_STRING_EQUAL(scalar(run, "energy_pj_total"), want);
        CU_ASSERT_EQUAL(strtod(scalar(run, "energy_pj_total"), NULL),
                        imc_ledger_total_pj(ledgers[i]));
        /* leakage apart from the total: the ADCs' 10 x 0.1 mW over the run, 1234.567 us for the
         * first (1.234567 uJ) and half that for the second; the by-component rows sum to it */
        double leak_pj = strtod(scalar(run, "energy_pj_leakage"), NULL);
        CU_ASSERT_DOUBLE_EQUAL(leak_pj, (i ? 0.5 : 1) * 1.234567e6, 1e-3);
        imc_ynode *by = get(run, "energy_pj_leakage_by_component");
        CU_ASSERT_FATAL(by && by->kind == IMC_Y_MAP);
        CU_ASSERT_DOUBLE_EQUAL(strtod(scalar(by, "chip.tile.pe.adc"), NULL), leak_pj, 1e-9 * leak_pj);
        snprintf(want, sizeof want, "%llu", (unsigned long long)runs[i].res->latency_ps);
        CU_ASSERT_STRING_EQUAL(scalar(run, "latency_ps"), want);
        CU_ASSERT_STRING_EQUAL(scalar(run, "events"), "123456");
        CU_ASSERT_STRING_EQUAL(scalar(get(run, "mapping"), "xbars_used"), "24");
        CU_ASSERT_STRING_EQUAL(scalar(get(run, "mapping"), "xbars_available"), "32");
        imc_ynode *layers = get(get(run, "mapping"), "layers");
        CU_ASSERT_FATAL(layers && layers->kind == IMC_Y_SEQ && layers->n == 1);
        CU_ASSERT_STRING_EQUAL(scalar(layers->items[0], "name"), "blocks.0.attn.qkv");
        CU_ASSERT_STRING_EQUAL(scalar(layers->items[0], "copies"), "2");
        CU_ASSERT_STRING_EQUAL(scalar(layers->items[0], "xbars"), "36");
        CU_ASSERT_STRING_EQUAL(scalar(layers->items[0], "cell_utilization"), "0.75");
        CU_ASSERT_STRING_EQUAL(scalar(get(run, "traffic_bits"), "noc"),
                               i ? "12582912" : "25165824");

        imc_ynode *by_comp = get(run, "energy_pj_by_component");
        CU_ASSERT_FATAL(by_comp && by_comp->kind == IMC_Y_MAP);
        CU_ASSERT_EQUAL(by_comp->n, IMC_COMP_COUNT);
        snprintf(want, sizeof want, "%.17g", imc_ledger_comp_pj(ledgers[i], IMC_COMP_ADC));
        CU_ASSERT_STRING_EQUAL(scalar(by_comp, "chip.tile.pe.adc"), want);
        CU_ASSERT_EQUAL(get(run, "energy_pj_by_op")->n, IMC_CLS_COUNT);

        /* Every ledger row, and their energies sum (in row order) to the total exactly. */
        imc_ynode *rows = get(run, "ledger");
        CU_ASSERT_FATAL(rows && rows->kind == IMC_Y_SEQ);
        CU_ASSERT_EQUAL_FATAL(rows->n, imc_ledger_rows(ledgers[i]));
        double sum = 0;
        for (size_t r = 0; r < rows->n; r++)
            sum += strtod(scalar(rows->items[r], "energy_pj"), NULL);
        CU_ASSERT_EQUAL(sum, imc_ledger_total_pj(ledgers[i]));
        imc_ynode *first = rows->items[0];
        CU_ASSERT_STRING_EQUAL(scalar(first, "layer"), "blocks.0.attn.qkv");
        CU_ASSERT_STRING_EQUAL(scalar(first, "op"), "mvm");
        CU_ASSERT_STRING_EQUAL(scalar(first, "component"), "chip.tile.pe.adc");
        CU_ASSERT_STRING_EQUAL(scalar(first, "level"), "pe");
        CU_ASSERT_STRING_EQUAL(scalar(first, "action"), "convert");
        imc_ynode *leak = rows->items[rows->n - 1];
        CU_ASSERT_STRING_EQUAL(scalar(leak, "layer"), "chip");
        CU_ASSERT_STRING_EQUAL(scalar(leak, "action"), "leakage");
    }
    imc_ytree_free(t);
    free(s);
    imc_ledger_free(l1);
    imc_ledger_free(l2);
}

/* Labels and layer names that YAML would misread unquoted come back unchanged. */
static void test_stats_quoting(void)
{
    static const char *const labels[] = {
        "deit-tiny (native)", "yes", "No", "null", "~", "", "3.14", ".inf", "-leading dash",
        "a: colon", "hash # comment", "it's", "[flow]", "{x}", "a, b", "trailing ",
        " leading", "tab\there", "new\nline", "back\\slash \"q\"", "*alias", "&anchor",
        "!tag", "%directive", "@at", "`tick`", "|block", ">fold", "?key", "ünïcode",
    };
    const char *layer_names[] = {"it's: a {layer}"};
    imc_ledger *l = imc_ledger_new(arch, layer_names, 1);
    CU_ASSERT_EQUAL(imc_ledger_add(l, 0, IMC_CLS_MVM, IMC_COMP_ADC, IMC_ADC_CONVERT, 10), 0);
    imc_engine_result res = result(LATENCY_PS, l);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        imc_run run = {.label = labels[i], .res = &res};
        char *s = capture(imc_report_stats, &run, 1, 1);
        imc_ytree *t = NULL;
        imc_err err;
        imc_err_clear(&err);
        if (imc_ytree_load_string(&t, s, "stats", &err))
            fprintf(stderr, "\n  label '%s': %d:%d: %s\n", labels[i], err.line, err.col,
                    err.msg);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_EQUAL(yaml_documents(s), 1);
        imc_ynode *run0 = get(imc_ytree_root(t), "runs")->items[0];
        imc_ynode *lab = get(run0, "label");
        CU_ASSERT_STRING_EQUAL(lab->scalar, labels[i]);
        CU_ASSERT_FALSE(lab->is_null);
        CU_ASSERT_STRING_EQUAL(scalar(get(run0, "ledger")->items[0], "layer"), layer_names[0]);
        imc_ytree_free(t);
        free(s);
    }
    imc_ledger_free(l);
}

/* A model name with a comma or a quote stays one CSV field. */
static void test_energy_csv_quoting(void)
{
    imc_ledger *l = planned_ledger(1, LATENCY_PS, 1.0 / 3);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    imc_ledger_csv(l, "deit \"s\", v2", f, 1);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, "\n\"deit \"\"s\"\", v2\",blocks.0.attn.qkv,mvm,chip.tile.pe.adc,pe,convert,"));
    free(buf);
    imc_ledger_free(l);
}

/* Names from files reach the timeline escaped: a quote, a backslash, a control byte or a byte
 * that is not UTF-8 (in a trace's op name or a model's name) still gives JSON that parses, and
 * the names read back as written (the bad byte as U+FFFD). */
static void test_timeline_escapes_names(void)
{
    char *op_names[] = {"a\"b\\c\x01" "d\xff"};
    imc_op op = {.kind = IMC_OP_VECTOR, .cls = IMC_CLS_IO, .name = 0, .head = -1};
    imc_flow g = {.model = "m", .names = op_names, .n_names = 1, .ops = &op, .n_ops = 1};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    imc_timeline tl;
    imc_provenance prov;
    imc_provenance_init(&prov, "9.9");
    imc_provenance_option(&prov, "batch=1");
    CU_ASSERT_EQUAL_FATAL(imc_provenance_finish(&prov, NULL), 0);
    imc_timeline_begin(&tl, f, &prov);
    imc_timeline_run(&tl, &g, 0);
    imc_slice slice = {.op = &op, .resource = 0, .label = "tile \x7f\xc3", .start_ps = 0,
                       .end_ps = 1000};
    imc_timeline_on_slice(&tl, &slice);
    imc_timeline_name(&tl, 0, "model \"x\" \\ y", 1);
    imc_timeline_end(&tl);
    fclose(f);
    cJSON *top = cJSON_Parse(buf), *root = cJSON_GetObjectItem(top, "traceEvents");
    CU_ASSERT_FATAL(cJSON_IsArray(root));
    const cJSON *other = cJSON_GetObjectItem(top, "otherData");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(other, "imcsim")), "9.9");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(other, "inputs_sha256")),
                           prov.digest);
    imc_provenance_free(&prov);
    const char *thread = NULL, *opname = NULL, *process = NULL;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, root)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "name"));
        const char *arg = cJSON_GetStringValue(
            cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "args"), "name"));
        if (name && !strcmp(name, "thread_name"))
            thread = arg;
        else if (name && !strcmp(name, "process_name"))
            process = arg;
        else
            opname = name;
    }
    CU_ASSERT_STRING_EQUAL(opname, "a\"b\\c\x01" "d\xef\xbf\xbd");
    CU_ASSERT_STRING_EQUAL(thread, "tile \x7f\xef\xbf\xbd");
    CU_ASSERT_STRING_EQUAL(process, "model \"x\" \\ y");
    cJSON_Delete(top);
    free(buf);
}

/* ---- --stats FILE.json ----------------------------------------------------------------------- */

static char *to_json(const char *yaml, int *rc, imc_err *err)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    *rc = imc_yaml_to_json(yaml, strlen(yaml), "s.yaml", f, err);
    fclose(f);
    return buf;
}

/* Every kind of scalar the stats hold, translated by hand: numbers (plain and matching JSON's
 * grammar) stay numbers; a quoted number, a plain word and a YAML 1.1 number JSON would not
 * take (+1, .5, 1e5 is fine, 0x1f) are strings; true/false/null/~/empty; .nan and .inf, which
 * JSON lacks, are null; escapes survive; empty containers and flow mappings. */
static void test_stats_json(void)
{
    static const char yaml[] = "a: 12\n"
                               "b: -0.5e-3\n"
                               "c: '12'\n"
                               "d: word with spaces\n"
                               "e: +1\n"
                               "f: .5\n"
                               "g: 0x1f\n"
                               "h: [true, false, null, ~, .nan, .inf, -.inf]\n"
                               "i:\n"
                               "j: \"q\\\"b\\\\s\\nl\\x01\"\n"
                               "k: {}\n"
                               "l: []\n"
                               "m:\n"
                               "  - {x: 1, y: 'it''s'}\n"
                               "  - 2\n";
    static const char want[] = "{\n"
                               " \"a\": 12,\n"
                               " \"b\": -0.5e-3,\n"
                               " \"c\": \"12\",\n"
                               " \"d\": \"word with spaces\",\n"
                               " \"e\": \"+1\",\n"
                               " \"f\": \".5\",\n"
                               " \"g\": \"0x1f\",\n"
                               " \"h\": [\n"
                               "  true,\n  false,\n  null,\n  null,\n  null,\n  null,\n  null\n"
                               " ],\n"
                               " \"i\": null,\n"
                               " \"j\": \"q\\\"b\\\\s\\nl\\u0001\",\n"
                               " \"k\": {},\n"
                               " \"l\": [],\n"
                               " \"m\": [\n"
                               "  {\n   \"x\": 1,\n   \"y\": \"it's\"\n  },\n"
                               "  2\n"
                               " ]\n"
                               "}\n";
    imc_err err = {0};
    int rc;
    char *got = to_json(yaml, &rc, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(got, want);
    cJSON *doc = cJSON_Parse(got);
    CU_ASSERT_PTR_NOT_NULL(doc);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "j")), "q\"b\\s\nl\x01");
    cJSON_Delete(doc);
    free(got);

    /* What has no JSON form is an error that says where. */
    static const struct {
        const char *yaml, *msg;
    } bad[] = {
        {"a: &x 1\nb: *x\n", "s.yaml:2:4: error: an alias has no JSON form"},
        {"? [1, 2]\n: 3\n", "s.yaml:1:3: error: a key that is not a scalar"},
        {"a: 1\n---\nb: 2\n", "s.yaml:2:1: error: a second document"},
        {"a: [1\n", "s.yaml:2:1: error: did not find expected ',' or ']'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (imc_err){0};
        free(to_json(bad[i].yaml, &rc, &err));
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_STRING_EQUAL(err.msg, bad[i].msg);
    }
}

/* Every charge lands in its key's row, whichever way find_row takes to it (the direct index
 * for names, classes, components and actions it covers, the hash for the rest), over 20,000
 * charges on 8 names x 3 classes x 4 (component, action) keys, interleaved, and leakage rows
 * (action 0xffff) on the names too. */
static void test_ledger_rows_by_key(void)
{
    static const char *const layer_names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    enum { N_NAMES = 8 };
    static const int classes[] = {IMC_CLS_MVM, IMC_CLS_TRANSFER, IMC_CLS_LSTM_CELL};
    static const struct {
        imc_comp comp;
        unsigned action;
    } kinds[] = {{IMC_COMP_ADC, IMC_ADC_CONVERT},
                 {IMC_COMP_DRAM, IMC_DRAM_WRITE_BITS},
                 {IMC_COMP_NOC, IMC_NOC_FLIT_HOP},
                 {IMC_COMP_ADC, IMC_LEDGER_LEAKAGE}};
    double want[N_NAMES][3][4] = {{{0}}};
    imc_ledger *l = imc_ledger_new(arch, layer_names, N_NAMES);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        unsigned name = (unsigned)(x >> 61), c = (unsigned)(x >> 40) % 3;
        unsigned k = (unsigned)(x >> 20) % 4;
        double count = (double)(1 + (x >> 8) % 1000);
        CU_ASSERT_EQUAL_FATAL(
            imc_ledger_add(l, name, classes[c], kinds[k].comp, kinds[k].action, count), 0);
        want[name][c][k] += count;
    }
    size_t keys = 0;
    for (unsigned n = 0; n < N_NAMES; n++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 4; k++)
                keys += want[n][c][k] > 0;
    CU_ASSERT_EQUAL(imc_ledger_rows(l), keys);
    for (size_t i = 0; i < imc_ledger_rows(l); i++) {
        imc_ledger_row r = imc_ledger_row_at(l, i);
        unsigned n = (unsigned)(r.layer[0] - 'a');
        int c = 0, k = 0;
        while (c < 3 && classes[c] != r.op_class)
            c++;
        while (k < 4 && !(kinds[k].comp == r.comp && kinds[k].action == r.action))
            k++;
        CU_ASSERT_FATAL(n < N_NAMES && c < 3 && k < 4);
        CU_ASSERT_EQUAL(r.count, want[n][c][k]); /* whole numbers: exact */
    }
    imc_ledger_free(l);
}

/* The provenance digest is SHA-256: FIPS 180-2's test vectors (appendix B.1 and B.2), the
 * empty text, and a file hashed as its bytes (a million 'a's, appendix B.3, across many reads). */
static void test_sha256_vectors(void)
{
    char hex[65];
    CU_ASSERT_EQUAL(imc_digest_text("abc", 3, hex, NULL), 0); /* libcrypto loaded */
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    imc_digest_text(two, strlen(two), hex, NULL);
    CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    imc_digest_text("", 0, hex, NULL);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    char path[] = "/tmp/imcsim-sha256-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 1000000; i++)
        fputc('a', f);
    fclose(f);
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_digest_path(path, hex, &err), 0);
    CU_ASSERT_STRING_EQUAL(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* a digest handed down by a parent (IMC_DIGEST_ENV) is taken for that very file only: a
     * stand-in is believed while the file is unchanged, and not once it has changed */
    const char *stand_in = "00000000000000000000000000000000000000000000000000000000000000aa";
    CU_ASSERT_EQUAL(imc_digest_export(path, stand_in, &err), 0);
    CU_ASSERT_EQUAL(imc_digest_path(path, hex, &err), 0);
    CU_ASSERT_STRING_EQUAL(hex, stand_in);
    f = fopen(path, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("bc", f); /* now a million 'a's and "bc" */
    fclose(f);
    CU_ASSERT_EQUAL(imc_digest_path(path, hex, &err), 0);
    CU_ASSERT_STRING_NOT_EQUAL(hex, stand_in);
    CU_ASSERT_STRING_NOT_EQUAL(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    unsetenv(IMC_DIGEST_ENV);
    remove(path);
    CU_ASSERT_EQUAL(imc_digest_path(path, hex, &err), IMC_EINPUT);
}

static CU_TestInfo tests[] = {
    {"SHA-256 of texts and files: the FIPS test vectors", test_sha256_vectors},
    {"ledger: every charge in its key's row", test_ledger_rows_by_key},
    {"timeline names are escaped", test_timeline_escapes_names},
    {"summary of one run", test_summary_one_run},
    {"summary without label, placement or ledger", test_summary_missing_parts},
    {"summary of a batch", test_summary_batch},
    {"several runs side by side with ratios", test_summary_side_by_side},
    {"stats YAML parses and holds every counter", test_stats_yaml},
    {"stats YAML quotes what needs it", test_stats_quoting},
    {"energy CSV quotes what needs it", test_energy_csv_quoting},
    {"stats as JSON: every kind of scalar, and what has no JSON form", test_stats_json},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "report"
#define SUITE_INIT setup
#define SUITE_CLEANUP teardown
#include "cunit_main.h"
