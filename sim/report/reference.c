/* reference.c -- reference processors beside the chip in the summary and the CSV (see
 * reference.h). */
#include "sim/report/reference.h"

#include <math.h>
#include <string.h>

#include "sim/base/outfile.h"
#include "sim/engine/ledger.h"
#include "sim/report/yamlout.h"

enum { LABEL_W = 28, VALUE_W = 18 }; /* as report.c's side-by-side table */

static double chip_latency_s(const imc_run *r)
{
    return r->res ? (double)r->res->latency_ps * 1e-12 : NAN;
}

static double chip_energy_j(const imc_run *r)
{
    return r->res && r->res->ledger ? imc_ledger_total_pj(r->res->ledger) * 1e-12 : NAN;
}

typedef enum rfmt { R_US, R_RATIO, R_NUM, R_INT } rfmt;

static void row(FILE *out, const char *label, const double *v, size_t n, rfmt f)
{
    char buf[48];
    fprintf(out, "  %-*s", LABEL_W, label);
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i]) && f == R_US)
            snprintf(buf, sizeof buf, "%.3f", v[i]);
        else if (isfinite(v[i]) && f == R_RATIO)
            snprintf(buf, sizeof buf, "%.3gx", v[i]);
        else if (isfinite(v[i]) && f == R_NUM && fabs(v[i]) >= 1e4) /* 296000, not 2.96e+05 */
            snprintf(buf, sizeof buf, "%.0f", v[i]);
        else if (isfinite(v[i]) && f == R_NUM)
            snprintf(buf, sizeof buf, "%.4g", v[i]);
        else if (isfinite(v[i]))
            snprintf(buf, sizeof buf, "%.0f", v[i]);
        else
            snprintf(buf, sizeof buf, "-");
        fprintf(out, " %*s", VALUE_W, buf);
    }
    fputc('\n', out);
}

void imc_reference_summary(const imc_ref_table *t, FILE *out)
{
    size_t n = t->n_runs;
    double v[64];
    if (n > sizeof v / sizeof v[0])
        n = sizeof v / sizeof v[0];
    fprintf(out, "\nreference processors: the same ops as kernels at batch 1, each max(launch,\n"
                 "FLOPs / peak, DRAM bytes / bandwidth), one after another\n");
    fprintf(out, "  %-*s", LABEL_W, "");
    for (size_t r = 0; r < n; r++) {
        const imc_run *run = &t->runs[r];
        fprintf(out, " %*.*s", VALUE_W, VALUE_W, run->label ? run->label : "run");
    }
    fputc('\n', out);
    for (size_t p = 0; p < t->n_procs; p++) {
        const imc_refproc *proc = t->procs[p];
        const imc_ref_result *res = &t->res[p * t->n_runs];
        fprintf(out, "  %s: %s\n", proc->name, proc->doc ? proc->doc : proc->file);
#define ROW(LABEL, FMT, EXPR)                                                                  \
    do {                                                                                       \
        for (size_t r = 0; r < n; r++)                                                         \
            v[r] = (EXPR);                                                                     \
        row(out, LABEL, v, n, FMT);                                                            \
    } while (0)
        ROW("  latency (us)", R_US, res[r].latency_s * 1e6);
        ROW("  x the chip's latency", R_RATIO, res[r].latency_s / chip_latency_s(&t->runs[r]));
        ROW("  energy, busy power (uJ)", R_NUM, res[r].energy_j * 1e6);
        ROW("  x the chip's energy", R_RATIO, res[r].energy_j / chip_energy_j(&t->runs[r]));
        ROW("  energy, FLOPs+DRAM (uJ)", R_NUM, res[r].dynamic_j * 1e6);
        ROW("  GFLOP", R_NUM, res[r].flops * 1e-9);
        ROW("  DRAM (MiB)", R_NUM, res[r].dram_bits / 8 / 1048576);
        ROW("  kernels", R_INT, res[r].kernels);
        ROW("  launch-bound kernels", R_INT, res[r].launch_bound);
#undef ROW
    }
}

void imc_reference_csv(const imc_ref_table *t, FILE *out)
{
    for (size_t p = 0; p < t->n_procs; p++) {
        const imc_refproc *proc = t->procs[p];
        for (size_t r = 0; r < t->n_runs; r++) {
            const imc_ref_result *res = &t->res[p * t->n_runs + r];
            const char *label = t->runs[r].label ? t->runs[r].label : "run";
            char model[256];
            snprintf(model, sizeof model, "%s on %s", label, proc->name);
            for (int c = 0; c < IMC_CLS_COUNT; c++) {
                if (res->kernels_of[c] == 0)
                    continue;
                imc_csv_field(out, model);
                fputs(",,", out);
                fputs(imc_op_class_name((imc_op_class)c), out);
                fputs(",reference.", out);
                imc_csv_field(out, proc->name);
                fprintf(out, ",reference,busy,%.17g,%.17g\n", res->kernels_of[c],
                        res->time_s[c] * proc->power_w * 1e12);
            }
        }
    }
}

void imc_reference_stats(const imc_ref_table *t, FILE *out)
{
    if (t->n_procs == 0)
        return;
    fputs("references:\n", out);
    for (size_t p = 0; p < t->n_procs; p++) {
        const imc_refproc *proc = t->procs[p];
        fputs("  - ", out);
        imc_yaml_kv_str(out, 0, "name", proc->name);
        imc_yaml_kv_str(out, 4, "doc", proc->doc);
        imc_yaml_kv_str(out, 4, "file", proc->file);
        fputs("    runs:\n", out);
        for (size_t r = 0; r < t->n_runs; r++) {
            const imc_ref_result *res = &t->res[p * t->n_runs + r];
            const imc_run *run = &t->runs[r];
            fputs("      - ", out);
            imc_yaml_kv_str(out, 0, "label", run->label ? run->label : "run");
            imc_yaml_kv_double(out, 8, "latency_s", res->latency_s);
            imc_yaml_kv_double(out, 8, "latency_x_chip", res->latency_s / chip_latency_s(run));
            imc_yaml_kv_double(out, 8, "energy_busy_j", res->energy_j);
            imc_yaml_kv_double(out, 8, "energy_busy_x_chip", res->energy_j / chip_energy_j(run));
            imc_yaml_kv_double(out, 8, "energy_flops_dram_j", res->dynamic_j);
            imc_yaml_kv_double(out, 8, "flops", res->flops);
            imc_yaml_kv_double(out, 8, "dram_bits", res->dram_bits);
            imc_yaml_kv_double(out, 8, "kernels", res->kernels);
            imc_yaml_kv_double(out, 8, "launch_bound_kernels", res->launch_bound);
            fputs("        by_op_class:\n", out);
            for (int c = 0; c < IMC_CLS_COUNT; c++) {
                if (res->kernels_of[c] == 0)
                    continue;
                imc_yaml_key(out, 10, imc_op_class_name((imc_op_class)c));
                fputc('\n', out);
                imc_yaml_kv_double(out, 12, "time_s", res->time_s[c]);
                imc_yaml_kv_double(out, 12, "flops", res->flops_of[c]);
                imc_yaml_kv_double(out, 12, "kernels", res->kernels_of[c]);
            }
        }
    }
}
