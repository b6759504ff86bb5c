/* report.c -- the summary and the stats YAML of simulation runs (see report.h).
 *
 * Everything here is read from the engine results, their ledgers and the placements; nothing
 * is recomputed from the models, so the summary, the stats and the energy CSV agree: the
 * "total" energy is imc_ledger_total_pj itself, never a sum of the rounded lines above it.
 * Energy and traffic are per inference (the ledger's unit); time is integer picoseconds
 * converted only when printed. A run's graph may be NULL (it only names an unlabelled run);
 * so may its placement (the mapping lines are then left out) and its ledger (no energy). */
#include "sim/report/report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/flow/dataflow.h"
#include "sim/report/hwreport.h"
#include "sim/report/yamlout.h"

enum {
    TOP_COMPONENTS = 6, /* components listed before "other" */
    LABEL_W = 28,       /* row labels of the side-by-side table */
    VALUE_W = 18,       /* one run's column; longer run labels are truncated */
    RATIO_W = 8,        /* a "x/first" column */
    /* entries rank() may order: components or op classes */
    RANK_MAX = (int)IMC_COMP_COUNT > (int)IMC_CLS_COUNT ? (int)IMC_COMP_COUNT : (int)IMC_CLS_COUNT
};

/* The ledger of one run, summed the ways the reports need. */
typedef struct totals {
    double total_pj;
    double comp_pj[IMC_COMP_COUNT], comp_leak_pj[IMC_COMP_COUNT];
    double cls_pj[IMC_CLS_COUNT];
    double traffic_bits[IMC_MEM_COUNT];
} totals;

static const imc_engine_result no_result;

static const imc_engine_result *result_of(const imc_run *r)
{
    return r->res ? r->res : &no_result;
}

static const char *label_of(const imc_run *r)
{
    if (r->label)
        return r->label;
    return r->graph && r->graph->model ? r->graph->model : "run";
}

static void gather(const imc_run *r, totals *t)
{
    memset(t, 0, sizeof *t);
    const imc_ledger *l = result_of(r)->ledger;
    if (!l)
        return;
    t->total_pj = imc_ledger_total_pj(l);
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        t->comp_pj[c] = imc_ledger_comp_pj(l, (imc_comp)c);
    for (int m = 0; m < IMC_MEM_COUNT; m++)
        t->traffic_bits[m] = imc_ledger_traffic_bits(l, (imc_mem_level)m);
    size_t n = imc_ledger_rows(l);
    for (size_t i = 0; i < n; i++) {
        imc_ledger_row row = imc_ledger_row_at(l, i);
        if (row.op_class >= 0 && row.op_class < IMC_CLS_COUNT)
            t->cls_pj[row.op_class] += row.energy_pj;
        if (row.action == IMC_LEDGER_LEAKAGE && row.comp < IMC_COMP_COUNT)
            t->comp_leak_pj[row.comp] += row.energy_pj;
    }
}

/* ---- derived quantities ------------------------------------------------------------------ */

static double cycles_of(const imc_arch *arch, uint64_t ps)
{
    return (double)ps * arch->clock_hz / 1e12;
}

/* The steady-state time between inferences; the latency when the engine gave none. */
static double interval_ps_of(const imc_engine_result *res)
{
    return res->interval_ps > 0 ? res->interval_ps : (double)res->latency_ps;
}

static double per_second(double ps)
{
    return ps > 0 ? 1e12 / ps : 0;
}

/* ---- number formatting ------------------------------------------------------------------- */

/* Four significant digits (%.4g), but whole numbers from 1e4 to 1e15 in full, not 1.235e+05. */
static const char *num(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (isfinite(v) && a >= 1e4 && a < 1e15)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.4g", v);
    return buf;
}

static const char *const byte_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};

/* The binary unit (index into byte_units) that shows BYTES with at most four integer digits. */
static int byte_unit(double bytes)
{
    int u = 0;
    while (u + 1 < (int)(sizeof byte_units / sizeof byte_units[0]) && bytes >= 1024) {
        bytes /= 1024;
        u++;
    }
    return u;
}

/* "0.50x": V relative to the first run's FIRST; "-" when that is zero or undefined. */
static const char *ratio_text(char *buf, size_t size, double v, double first)
{
    if (first == 0 || !isfinite(first) || !isfinite(v)) {
        snprintf(buf, size, "-");
        return buf;
    }
    double r = v / first;
    if (r == 0 || (fabs(r) >= 0.01 && fabs(r) < 100))
        snprintf(buf, size, "%.2fx", r);
    else
        snprintf(buf, size, "%.3gx", r);
    return buf;
}

/* Indices 0..N-1 of the non-zero entries of V, largest first (ties keep index order). */
static size_t rank(const double *v, size_t n, int *order)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == 0)
            continue;
        size_t j = k++;
        for (; j > 0 && v[order[j - 1]] < v[i]; j--)
            order[j] = order[j - 1];
        order[j] = (int)i;
    }
    return k;
}

/* A component's one name in every output: its slot path (chip.tile.pe.adc), as the hardware
 * report, the energy CSV, the stats and the critical path name it. */
static const char *comp_label(imc_comp c)
{
    return imc_comp_info_of(c)->path;
}

/* ---- what bounds a run ------------------------------------------------------------------- */

/* "chip.tile.sfu (gelu)": the component of a critical-path share, with its function. */
static const char *share_label(char *buf, size_t size, const imc_path_share *s)
{
    size_t n;
    const imc_action *act = imc_kind_actions(IMC_KIND_DIGITAL, &n);
    if (s->func >= 0 && (size_t)s->func < n)
        snprintf(buf, size, "%s (%s)", imc_comp_info_of(s->comp)->path, act[s->func].name);
    else
        snprintf(buf, size, "%s", imc_comp_info_of(s->comp)->path);
    return buf;
}

/* "latency: chip.tile.sfu (gelu) 85 %, chip.tile.pe.xbar 10 %, ...": the top N shares. */
static void path_line(char *buf, size_t size, const imc_engine_result *res, size_t top)
{
    double total = 0;
    for (size_t i = 0; i < res->n_path; i++)
        total += res->path[i].service_ps + res->path[i].wait_ps;
    buf[0] = '\0';
    for (size_t i = 0; i < res->n_path && i < top; i++) {
        char l[96];
        const imc_path_share *s = &res->path[i];
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s %.0f %%", i ? ", " : "",
                 share_label(l, sizeof l, s), total > 0 ? 100 * (s->service_ps + s->wait_ps) / total : 0);
    }
}

static void bounds_one(const imc_engine_result *res, FILE *out)
{
    if (!res->n_path)
        return;
    double total = 0;
    for (size_t i = 0; i < res->n_path; i++)
        total += res->path[i].service_ps + res->path[i].wait_ps;
    char l[96];
    fprintf(out, "\n  what bounds it\n    %-36s %9s %11s\n",
            "critical path of one inference", "share", "queueing");
    for (size_t i = 0; i < res->n_path; i++) {
        const imc_path_share *s = &res->path[i];
        double t = s->service_ps + s->wait_ps;
        if (i >= 8 && t < 0.005 * total)
            break;
        fprintf(out, "    %-36s %7.1f %% %9.1f %%\n", share_label(l, sizeof l, s),
                100 * t / total, 100 * s->wait_ps / total);
    }
    if (res->path_held_ps > 0)
        fprintf(out, "    %-36s %.3f us waiting for room in full buffers\n", "back-pressure",
                res->path_held_ps * 1e-6);
    if (res->buffer_overcommit_bits > 0)
        fprintf(out, "    %-36s up to %.1f KiB beyond a tile buffer's capacity: where every op "
                     "waited for room, the oldest waiting output went in anyway, as a spill "
                     "would\n",
                "buffer overcommit", res->buffer_overcommit_bits / 8 / 1024);
    if (res->bottleneck[0])
        fprintf(out, "    %-36s %s (%s): %.3f us busy per inference, at most %.1f inferences/s\n",
                "throughput bound", res->bottleneck, imc_comp_info_of(res->bottleneck_comp)->path,
                res->bottleneck_busy_ps * 1e-6, per_second(res->bottleneck_busy_ps));
    fprintf(out, "    %-36s %9s %11s\n", "utilisation by component", "busy", "queue");
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        if (res->util[c] > 0 || res->queue_ps[c] > 0) /* queue: ops waiting on average */
            fprintf(out, "    %-36s %7.1f %% %11.2f\n", imc_comp_info_of((imc_comp)c)->path,
                    100 * res->util[c],
                    res->latency_ps ? res->queue_ps[c] / (double)res->latency_ps : 0);
}

/* ---- one run ----------------------------------------------------------------------------- */

static void share_line(FILE *out, const char *name, double pj, double total_pj, double leak_pj,
                       int with_leak)
{
    char e[32], k[32];
    fprintf(out, "    %-28s %12s %7.1f %%", name, num(e, sizeof e, pj * 1e-6),
            total_pj > 0 ? 100 * pj / total_pj : 0.0);
    if (with_leak)
        fprintf(out, " %12s", num(k, sizeof k, leak_pj * 1e-6));
    fputc('\n', out);
}

static void summary_one(const imc_arch *arch, const imc_run *r, int batch, size_t top, FILE *out)
{
    const imc_engine_result *res = result_of(r);
    const imc_placement *p = r->place;
    totals t;
    gather(r, &t);
    char a[48], b[48];

    fprintf(out, "imcsim summary: %s\n", label_of(r));
    fprintf(out, "  %-22s %s\n", "architecture", arch->file ? arch->file : "-");
    fprintf(out, "  %-22s %d\n\n", "batch", batch);

    double interval_ps = interval_ps_of(res);
    fprintf(out, "  %-22s %.3f us = %.0f cycles of the %.4g GHz digital clock\n", "latency",
            (double)res->latency_ps * 1e-6, cycles_of(arch, res->latency_ps),
            arch->clock_hz * 1e-9);
    /* completions closer than the busiest resource's time per inference: the batch ended
     * before the pipeline reached its steady state */
    int steady = batch < 2 || interval_ps >= res->bottleneck_busy_ps;
    fprintf(out, "  %-22s %s inferences/s (one every %.3f us %s)\n", "throughput",
            num(a, sizeof a, per_second(interval_ps)), interval_ps * 1e-6,
            steady ? "in steady state" : "between completions");
    if (!steady)
        fprintf(out, "  %-22s no steady state: the busiest resource needs %.3f us per inference; "
                     "a larger --batch shows the steady state\n",
                "", res->bottleneck_busy_ps * 1e-6);
    if (batch > 1)
        fprintf(out, "  %-22s %.3f us for %d inferences\n", "makespan",
                (double)res->makespan_ps * 1e-6, batch);
    if (res->arrival_hz > 0)
        fprintf(out, "  %-22s %.3f us mean, %.3f us p95, %.3f us max (arriving at %s/s)\n",
                "latency under load", res->load_latency_mean_ps * 1e-6,
                res->load_latency_p95_ps * 1e-6, res->load_latency_max_ps * 1e-6,
                num(a, sizeof a, res->arrival_hz));
    if (res->ledger)
        fprintf(out, "  %-22s %s uJ per inference = %s inferences/J\n", "energy",
                num(a, sizeof a, t.total_pj * 1e-6), num(b, sizeof b, per_second(t.total_pj)));

    if (res->ledger) {
        int order[RANK_MAX];
        double leak = 0;
        for (int c = 0; c < IMC_COMP_COUNT; c++)
            leak += t.comp_leak_pj[c];
        fprintf(out, "\n  %-28s %14s %9s %12s\n", "energy by component", "uJ", "share",
                "leakage uJ");
        size_t k = rank(t.comp_pj, IMC_COMP_COUNT, order);
        double rest = 0, rest_leak = 0;
        for (size_t i = 0; i < k; i++) {
            if (i < top) {
                share_line(out, comp_label((imc_comp)order[i]), t.comp_pj[order[i]],
                           t.total_pj, t.comp_leak_pj[order[i]], 1);
            } else {
                rest += t.comp_pj[order[i]];
                rest_leak += t.comp_leak_pj[order[i]];
            }
        }
        if (k > top) {
            snprintf(a, sizeof a, "other (%zu)", k - top);
            share_line(out, a, rest, t.total_pj, rest_leak, 1);
        }
        share_line(out, "total", t.total_pj, t.total_pj, leak, 1);

        fprintf(out, "\n  %-28s %14s %9s\n", "energy by op class", "uJ", "share");
        k = rank(t.cls_pj, IMC_CLS_COUNT, order);
        for (size_t i = 0; i < k; i++)
            share_line(out, imc_op_class_name((imc_op_class)order[i]), t.cls_pj[order[i]],
                       t.total_pj, 0, 0);

        fprintf(out, "\n  traffic per inference\n");
        for (int m = 0; m < IMC_MEM_COUNT; m++) {
            double bytes = t.traffic_bits[m] / 8;
            int u = byte_unit(bytes);
            fprintf(out, "    %-24s %12s %s\n", imc_mem_level_name((imc_mem_level)m),
                    num(a, sizeof a, bytes / pow(1024, u)), byte_units[u]);
        }
    }

    fprintf(out, "\n  utilisation\n");
    fprintf(out, "    %-24s %.1f %%\n", "crossbars busy", 100 * res->xbar_busy);
    fprintf(out, "    %-24s %.1f %%\n", "MAC array busy", 100 * res->mac_busy);
    if (p) {
        fprintf(out, "    %-24s %" PRId64 " of %" PRId64 " (%.1f %%)", "crossbars mapped",
                p->xbars_used, p->xbars_available,
                p->xbars_available > 0 ? 100.0 * (double)p->xbars_used / (double)p->xbars_available
                                       : 0.0);
        if (p->rounds > 1)
            fprintf(out, " in %d reprogramming rounds", p->rounds);
        fputc('\n', out);
    }
    fprintf(out, "    %-24s %" PRIu64 " (%" PRIu64 " ops)\n", "events simulated", res->events,
            res->ops);
    bounds_one(res, out);
}

/* ---- several runs side by side ---------------------------------------------------------- */

typedef enum vfmt { V_NUM, V_US, V_INT, V_PCT } vfmt;

static const char *value_text(char *buf, size_t size, vfmt f, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else if (f == V_US)
        snprintf(buf, size, "%.3f", v);
    else if (f == V_INT)
        snprintf(buf, size, "%.0f", v);
    else if (f == V_PCT)
        snprintf(buf, size, "%.1f", v);
    else
        num(buf, size, v);
    return buf;
}

/* One row: LABEL, then each run's value, each after the first followed by its ratio. */
static void table_row(FILE *out, const char *label, const double *v, size_t n, vfmt f)
{
    char buf[48];
    fprintf(out, "  %-*s", LABEL_W, label);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, " %*s", VALUE_W, value_text(buf, sizeof buf, f, v[i]));
        if (i > 0)
            fprintf(out, " %*s", RATIO_W, ratio_text(buf, sizeof buf, v[i], v[0]));
    }
    fputc('\n', out);
}

static void table_section(FILE *out, const char *title)
{
    fprintf(out, "  %s\n", title);
}

static void summary_table(const imc_arch *arch, const imc_run *runs, size_t n, int batch,
                          size_t top, const totals *t, double *v, FILE *out)
{
    char name[64];
    int any_ledger = 0;
    for (size_t i = 0; i < n; i++)
        any_ledger |= result_of(&runs[i])->ledger != NULL;

    fprintf(out, "imcsim summary: %zu runs on %s, batch %d\n\n", n, arch->file ? arch->file : "-",
            batch);
    fprintf(out, "  %-*s", LABEL_W, "");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, " %*.*s", VALUE_W, VALUE_W, label_of(&runs[i]));
        if (i > 0)
            fprintf(out, " %*s", RATIO_W, "x/first");
    }
    fputc('\n', out);

#define ROW(LABEL, FMT, EXPR)                                                                  \
    do {                                                                                       \
        for (size_t i = 0; i < n; i++) {                                                       \
            const imc_engine_result *res = result_of(&runs[i]);                                \
            const imc_placement *p = runs[i].place;                                            \
            const totals *ti = &t[i];                                                          \
            (void)res, (void)p, (void)ti;                                                      \
            v[i] = (EXPR);                                                                     \
        }                                                                                      \
        table_row(out, (LABEL), v, n, (FMT));                                                  \
    } while (0)

    ROW("latency (us)", V_US, (double)res->latency_ps * 1e-6);
    ROW("latency (cycles)", V_INT, cycles_of(arch, res->latency_ps));
    if (batch > 1) {
        ROW("interval (us)", V_US, interval_ps_of(res) * 1e-6);
        ROW("makespan (us)", V_US, (double)res->makespan_ps * 1e-6);
    }
    ROW("inferences/s", V_NUM, per_second(interval_ps_of(res)));
    if (any_ledger) {
        ROW("energy (uJ)", V_NUM, res->ledger ? ti->total_pj * 1e-6 : NAN);
        ROW("inferences/J", V_NUM, res->ledger ? per_second(ti->total_pj) : NAN);

        /* Components and op classes ranked by their energy summed over the runs. */
        double sum[RANK_MAX];
        int order[RANK_MAX];
        for (int c = 0; c < IMC_COMP_COUNT; c++) {
            sum[c] = 0;
            for (size_t i = 0; i < n; i++)
                sum[c] += t[i].comp_pj[c];
        }
        table_section(out, "energy by component (uJ)");
        size_t k = rank(sum, IMC_COMP_COUNT, order);
        for (size_t j = 0; j < k && j < top; j++) {
            int c = order[j];
            snprintf(name, sizeof name, "  %s", comp_label((imc_comp)c));
            ROW(name, V_NUM, res->ledger ? ti->comp_pj[c] * 1e-6 : NAN);
        }
        if (k > top) {
            snprintf(name, sizeof name, "  other (%zu)", k - top);
            for (size_t i = 0; i < n; i++) {
                double rest = 0;
                for (size_t j = top; j < k; j++)
                    rest += t[i].comp_pj[order[j]];
                v[i] = result_of(&runs[i])->ledger ? rest * 1e-6 : NAN;
            }
            table_row(out, name, v, n, V_NUM);
        }

        for (int c = 0; c < IMC_CLS_COUNT; c++) {
            sum[c] = 0;
            for (size_t i = 0; i < n; i++)
                sum[c] += t[i].cls_pj[c];
        }
        table_section(out, "energy by op class (uJ)");
        k = rank(sum, IMC_CLS_COUNT, order);
        for (size_t j = 0; j < k; j++) {
            int c = order[j];
            snprintf(name, sizeof name, "  %s", imc_op_class_name((imc_op_class)c));
            ROW(name, V_NUM, res->ledger ? ti->cls_pj[c] * 1e-6 : NAN);
        }

        table_section(out, "traffic per inference");
        for (int m = 0; m < IMC_MEM_COUNT; m++) {
            double most = 0;
            for (size_t i = 0; i < n; i++)
                most = fmax(most, t[i].traffic_bits[m] / 8);
            int u = byte_unit(most);
            snprintf(name, sizeof name, "  %s (%s)", imc_mem_level_name((imc_mem_level)m),
                     byte_units[u]);
            ROW(name, V_NUM, res->ledger ? ti->traffic_bits[m] / 8 / pow(1024, u) : NAN);
        }
    }
    ROW("crossbars busy (%)", V_PCT, 100 * res->xbar_busy);
    ROW("MAC array busy (%)", V_PCT, 100 * res->mac_busy);
    ROW("crossbars mapped", V_INT, p ? (double)p->xbars_used : NAN);
    ROW("events simulated", V_INT, (double)res->events);
#undef ROW
    fprintf(out, "\n  what bounds each run\n");
    for (size_t i = 0; i < n; i++) {
        const imc_engine_result *res = result_of(&runs[i]);
        char line[512];
        path_line(line, sizeof line, res, 3);
        fprintf(out, "    %s\n      latency: %s\n", label_of(&runs[i]), line);
        if (res->bottleneck[0])
            fprintf(out, "      throughput: %s (%s), %.3f us busy per inference\n", res->bottleneck,
                    imc_comp_info_of(res->bottleneck_comp)->path, res->bottleneck_busy_ps * 1e-6);
    }
}

void imc_report_summary(const imc_arch *arch, const imc_run *runs, size_t n, int batch,
                        int all_components, FILE *out)
{
    size_t top = all_components ? IMC_COMP_COUNT : TOP_COMPONENTS;
    if (n == 0)
        return;
    totals *t = n > 1 ? calloc(n, sizeof *t) : NULL;
    double *v = n > 1 ? calloc(n, sizeof *v) : NULL;
    if (t && v) {
        for (size_t i = 0; i < n; i++)
            gather(&runs[i], &t[i]);
        summary_table(arch, runs, n, batch, top, t, v, out);
    } else {
        /* One run, or no memory for the table: a block per run needs none. */
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                fputc('\n', out);
            summary_one(arch, &runs[i], batch, top, out);
        }
    }
    free(t);
    free(v);
}

/* ---- stats YAML -------------------------------------------------------------------------- */

static void stats_mapping(const imc_placement *p, FILE *out)
{
    if (!p) {
        fputs("    mapping: {}\n", out);
        return;
    }
    fputs("    mapping:\n", out);
    imc_yaml_kv_int(out, 6, "xbars_used", p->xbars_used);
    imc_yaml_kv_int(out, 6, "xbars_available", p->xbars_available);
    imc_yaml_kv_int(out, 6, "pes_used", p->pes_used);
    imc_yaml_kv_int(out, 6, "pes_available", p->pes_available);
    imc_yaml_kv_int(out, 6, "tiles_used", p->tiles_used);
    imc_yaml_kv_int(out, 6, "rounds", p->rounds);
    imc_yaml_kv_int(out, 6, "rows_written", p->rows_written);
    imc_yaml_kv_double(out, 6, "cell_utilization", p->cell_utilization);
    if (!p->n_layers) {
        fputs("      layers: []\n", out);
        return;
    }
    fputs("      layers:\n", out);
    for (size_t i = 0; i < p->n_layers; i++) {
        const imc_layer_place *lp = &p->layers[i];
        fputs("        - {name: ", out);
        imc_yaml_scalar(out, lp->layer ? lp->layer->name : NULL);
        fprintf(out,
                ", copies: %d, xbars: %" PRId64 ", first_pe: %" PRId64 ", pes: %" PRId64
                ", first_tile: %" PRId64 ", last_tile: %" PRId64 ", round: %d, cells_used: %" PRId64
                ", cell_utilization: ",
                lp->copies, lp->xbars, lp->first_pe, lp->pes, lp->first_tile, lp->last_tile,
                lp->round, lp->cells_used);
        imc_yaml_double(out, lp->cell_utilization);
        fprintf(out, ", rows_written: %" PRId64 "}\n", lp->rows_written);
    }
}

static void stats_ledger(const imc_ledger *l, FILE *out)
{
    size_t n = l ? imc_ledger_rows(l) : 0;
    if (!n) {
        fputs("    ledger: []\n", out);
        return;
    }
    fputs("    ledger:\n", out);
    for (size_t i = 0; i < n; i++) {
        imc_ledger_row r = imc_ledger_row_at(l, i);
        fputs("      - {layer: ", out);
        imc_yaml_scalar(out, r.layer);
        fputs(", op: ", out);
        imc_yaml_scalar(out, imc_op_class_name((imc_op_class)r.op_class));
        fputs(", component: ", out);
        imc_yaml_scalar(out, comp_label(r.comp));
        fputs(", level: ", out);
        imc_yaml_scalar(out, imc_level_name(imc_comp_section(r.comp)));
        fputs(", action: ", out);
        imc_yaml_scalar(out, imc_comp_action_name(l, r.comp, r.action));
        fputs(", count: ", out);
        imc_yaml_double(out, r.count);
        fputs(", energy_pj: ", out);
        imc_yaml_double(out, r.energy_pj);
        fputs("}\n", out);
    }
}

/* When each ledger name's ops ran in the first inference (the per-layer latency). */
static void stats_spans(const imc_run *r, FILE *out)
{
    const imc_engine_result *res = result_of(r);
    size_t shown = 0;
    for (size_t i = 0; i < res->n_spans; i++)
        shown += res->spans[i].ops > 0;
    if (!shown || !r->graph) {
        fputs("    layer_times: []\n", out);
        return;
    }
    fputs("    layer_times:\n", out);
    for (size_t i = 0; i < res->n_spans && i < r->graph->n_names; i++) {
        const imc_span *s = &res->spans[i];
        if (!s->ops)
            continue;
        fputs("      - {layer: ", out);
        imc_yaml_scalar(out, r->graph->names[i]);
        fprintf(out, ", start_ps: %" PRIu64 ", end_ps: %" PRIu64 ", busy_ps: %" PRIu64
                     ", ops: %" PRIu64 "}\n", s->start_ps, s->end_ps, s->busy_ps, s->ops);
    }
}

static void stats_run(const imc_arch *arch, const imc_run *r, int batch, FILE *out)
{
    const imc_engine_result *res = result_of(r);
    totals t;
    gather(r, &t);
    char name[64];

    fputs("  - label: ", out);
    imc_yaml_scalar(out, label_of(r));
    fputc('\n', out);
    if (r->graph && r->graph->model)
        imc_yaml_kv_str(out, 4, "model", r->graph->model);
    imc_yaml_kv_str(out, 4, "arch_file", arch->file);
    imc_yaml_kv_int(out, 4, "batch", batch);
    imc_yaml_kv_uint(out, 4, "latency_ps", res->latency_ps);
    imc_yaml_kv_double(out, 4, "latency_cycles", cycles_of(arch, res->latency_ps));
    imc_yaml_kv_double(out, 4, "interval_ps", res->interval_ps);
    imc_yaml_kv_uint(out, 4, "makespan_ps", res->makespan_ps);
    imc_yaml_kv_double(out, 4, "inferences_per_s", per_second(interval_ps_of(res)));
    imc_yaml_kv_uint(out, 4, "events", res->events);
    imc_yaml_kv_uint(out, 4, "ops", res->ops);
    imc_yaml_kv_double(out, 4, "xbar_busy", res->xbar_busy);
    imc_yaml_kv_double(out, 4, "mac_busy", res->mac_busy);
    imc_yaml_kv_double(out, 4, "energy_pj_total", t.total_pj);
    imc_yaml_kv_double(out, 4, "energy_pj_leakage", t.cls_pj[IMC_CLS_LEAKAGE]);
    imc_yaml_kv_double(out, 4, "inferences_per_j", per_second(t.total_pj));
    fputs("    energy_pj_by_component:\n", out);
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        imc_yaml_kv_double(out, 6, comp_label((imc_comp)c), t.comp_pj[c]);
    fputs("    energy_pj_leakage_by_component:\n", out);
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        imc_yaml_kv_double(out, 6, comp_label((imc_comp)c), t.comp_leak_pj[c]);
    fputs("    energy_pj_by_op:\n", out);
    for (int c = 0; c < IMC_CLS_COUNT; c++)
        imc_yaml_kv_double(out, 6, imc_op_class_name((imc_op_class)c), t.cls_pj[c]);
    fputs("    traffic_bits:\n", out);
    for (int m = 0; m < IMC_MEM_COUNT; m++)
        imc_yaml_kv_double(out, 6, imc_mem_level_name((imc_mem_level)m), t.traffic_bits[m]);
    if (res->arrival_hz > 0) {
        imc_yaml_kv_double(out, 4, "arrival_hz", res->arrival_hz);
        imc_yaml_kv_double(out, 4, "load_latency_mean_ps", res->load_latency_mean_ps);
        imc_yaml_kv_double(out, 4, "load_latency_p95_ps", res->load_latency_p95_ps);
        imc_yaml_kv_double(out, 4, "load_latency_max_ps", res->load_latency_max_ps);
    }
    fputs("    bounds:\n      critical_path:\n", out);
    for (size_t i = 0; i < res->n_path; i++) {
        fputs("        - resource: ", out);
        imc_yaml_scalar(out, share_label(name, sizeof name, &res->path[i]));
        fputc('\n', out);
        imc_yaml_kv_double(out, 10, "service_ps", res->path[i].service_ps);
        imc_yaml_kv_double(out, 10, "queueing_ps", res->path[i].wait_ps);
    }
    imc_yaml_kv_double(out, 6, "back_pressure_ps", res->path_held_ps);
    imc_yaml_kv_double(out, 6, "buffer_overcommit_bits", res->buffer_overcommit_bits);
    imc_yaml_kv_str(out, 6, "throughput_bound", res->bottleneck[0] ? res->bottleneck : "-");
    imc_yaml_kv_str(out, 6, "throughput_bound_component", imc_comp_info_of(res->bottleneck_comp)->path);
    imc_yaml_kv_double(out, 6, "throughput_bound_busy_ps", res->bottleneck_busy_ps);
    fputs("      utilisation:\n", out);
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        imc_yaml_kv_double(out, 8, imc_comp_info_of((imc_comp)c)->path, res->util[c]);
    fputs("      queueing_ps_per_inference:\n", out);
    for (int c = 0; c < IMC_COMP_COUNT; c++)
        imc_yaml_kv_double(out, 8, imc_comp_info_of((imc_comp)c)->path, res->queue_ps[c]);
    stats_mapping(r->place, out);
    stats_spans(r, out);
    stats_ledger(res->ledger, out);
}

void imc_report_stats(const imc_arch *arch, const imc_run *runs, size_t n, int batch, FILE *out)
{
    fputs("# imcsim stats: every counter of every run. Energy and traffic are per inference;\n"
          "# units are in the key names (ps, pj, bits, hz); *_busy and *_utilization are\n"
          "# fractions. Ledger rows sum to energy_pj_total.\n",
          out);
    imc_yaml_kv_int(out, 0, "stats_version", 1);
    imc_yaml_kv_str(out, 0, "arch_file", arch->file);
    imc_yaml_kv_double(out, 0, "clock_hz", arch->clock_hz);
    imc_yaml_kv_int(out, 0, "batch", batch);
    imc_hw_report hw;
    imc_hwreport_build(arch, &hw);
    fputs("hardware:\n", out);
    imc_yaml_kv_double(out, 2, "area_mm2", hw.area_mm2[IMC_LEVEL_CHIP]);
    imc_yaml_kv_double(out, 2, "peak_power_w", hw.peak_power_mw[IMC_LEVEL_CHIP] * 1e-3);
    imc_yaml_kv_double(out, 2, "leakage_w", hw.leakage_mw[IMC_LEVEL_CHIP] * 1e-3);
    imc_yaml_kv_double(out, 2, "peak_ops_per_s", hw.peak_ops_per_s);
    if (n == 0) {
        fputs("runs: []\n", out);
        return;
    }
    fputs("runs:\n", out);
    for (size_t i = 0; i < n; i++)
        stats_run(arch, &runs[i], batch, out);
}
