/* hwreport.c -- per-level component counts, area, peak power and peak throughput.
 *
 * Peak throughput follows ISAAC (Shafiee et al., ISCA 2016, sections IV-V): every crossbar
 * computes rows x (data columns / cells per weight) MACs per input vector, and an input
 * vector takes input_slices pipeline stages of max(crossbar read, shared-ADC conversions).
 * Peak power prices the crossbar, its DACs, S&Hs and ADCs at that pace, the slowest stage's,
 * and every other part at its own highest rate. */
#include "sim/report/hwreport.h"

#include <math.h>
#include <string.h>

/* The fraction of its own highest rate at which COMP works when an input slice takes
 * REP->slice_ps: the crossbar, its DACs and S&Hs act once per read, an ADC columns_per_adc
 * times; everything else at its own peak. */
static double duty(const imc_arch *a, const imc_hw_report *rep, imc_comp comp)
{
    const imc_pe *pe = &a->chip.tile.pe;
    double busy;
    switch (comp) {
    case IMC_COMP_XBAR:
    case IMC_COMP_DAC:
    case IMC_COMP_SH:
        busy = (double)imc_model_latency_ps(pe->xbar, IMC_XBAR_READ);
        break;
    case IMC_COMP_ADC:
        busy = pe->columns_per_adc * (double)imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
        break;
    default:
        return 1;
    }
    return busy / rep->slice_ps;
}

void imc_hwreport_build(const imc_arch *a, imc_hw_report *rep)
{
    memset(rep, 0, sizeof *rep);
    const imc_pe *pe = &a->chip.tile.pe;
    rep->slice_ps = (double)imc_arch_slice_ps(a);
    double convs = pe->columns_per_adc * (double)imc_model_latency_ps(pe->adc, IMC_ADC_CONVERT);
    rep->pace = convs > (double)imc_model_latency_ps(pe->xbar, IMC_XBAR_READ) ? IMC_COMP_ADC
                                                                             : IMC_COMP_XBAR;
    for (int level = 0; level < IMC_LEVEL_COUNT; level++) {
        rep->units[level] = imc_arch_units(a, (imc_level)level);
        for (int c = 0; c < IMC_COMP_COUNT; c++) {
            double count = imc_arch_comp_count(a, (imc_comp)c, (imc_level)level);
            if (count <= 0 || rep->n_rows >= sizeof rep->rows / sizeof rep->rows[0])
                continue;
            const imc_instance *inst = imc_comp_instance(a, (imc_comp)c);
            imc_hw_row *r = &rep->rows[rep->n_rows++];
            r->level = level;
            r->comp = (imc_comp)c;
            r->inst = inst;
            r->count = count;
            r->area_mm2 = count * imc_model_area_um2(inst) * 1e-6;
            /* the dynamic part at the pace of the slowest stage, leakage always */
            double leak = imc_model_leakage_mw(inst);
            double dynamic = imc_model_peak_power_mw(inst) - leak;
            r->peak_power_mw = count * (dynamic * duty(a, rep, (imc_comp)c) + leak);
            r->leakage_mw = count * leak;
            rep->area_mm2[level] += r->area_mm2;
            rep->peak_power_mw[level] += r->peak_power_mw;
            rep->leakage_mw[level] += r->leakage_mw;
        }
    }

    double rows = imc_arch_xbar_rows(a), cols = imc_arch_xbar_cols(a);
    double weights_per_row = floor(cols / imc_arch_cells_per_weight(a));
    double macs_per_vector = rows * weights_per_row;
    double vector_s = imc_arch_input_slices(a) * rep->slice_ps * 1e-12;
    double chip_xbars = imc_arch_comp_count(a, IMC_COMP_XBAR, IMC_LEVEL_CHIP);
    rep->peak_ops_per_s = 2.0 * chip_xbars * macs_per_vector / vector_s;
}

void imc_hwreport_print(const imc_arch *a, const imc_hw_report *rep, FILE *out)
{
    const imc_mapping *m = &a->mapping;
    fprintf(out, "imcsim hardware report: %s\n", a->file);
    fprintf(out,
            "precision: %d-bit weights (%d bits/cell, %s), %d-bit inputs (%d bit%s per DAC "
            "slice); digital clock %.4g GHz\n",
            m->weight_bits, m->cell_bits,
            m->signed_scheme == IMC_SIGNED_DIFFERENTIAL ? "differential pairs" : "offset column",
            m->input_bits, imc_arch_dac_bits(a), imc_arch_dac_bits(a) == 1 ? "" : "s",
            a->clock_hz * 1e-9);
    for (int level = 0; level < IMC_LEVEL_COUNT; level++) {
        fprintf(out, "\n%s (one of %.0f)\n", imc_level_name((imc_level)level), rep->units[level]);
        fprintf(out, "  %-30s %-16s %12s %12s %14s %14s\n", "component", "model", "count",
                "area mm2", "peak power mW", "of it leakage");
        for (size_t i = 0; i < rep->n_rows; i++) {
            const imc_hw_row *r = &rep->rows[i];
            if (r->level != level)
                continue;
            /* whole counts in full (2097152, not 2.09715e+06) */
            fprintf(out,
                    r->count == floor(r->count) ? "  %-30s %-16s %12.0f %12.6f %14.4f %14.4f\n"
                                                : "  %-30s %-16s %12.6g %12.6f %14.4f %14.4f\n",
                    r->inst->path, r->inst->type->name, r->count, r->area_mm2, r->peak_power_mw,
                    r->leakage_mw);
        }
        fprintf(out, "  %-30s %-16s %12s %12.6f %14.4f %14.4f\n", "total", "", "",
                rep->area_mm2[level], rep->peak_power_mw[level], rep->leakage_mw[level]);
    }
    double area = rep->area_mm2[IMC_LEVEL_CHIP], watts = rep->peak_power_mw[IMC_LEVEL_CHIP] * 1e-3;
    double gops = rep->peak_ops_per_s * 1e-9;
    fprintf(out,
            "\npeak throughput: %.2f TOPS at %d-bit weights and inputs (1 MAC = 2 ops)\n"
            "  area efficiency:  %.2f GOPS/s/mm2\n"
            "  power efficiency: %.2f GOPS/W\n",
            gops * 1e-3, m->weight_bits, gops / area, gops / watts);
    const imc_instance *pace = imc_comp_instance(a, rep->pace);
    fprintf(out,
            "  peak power at the pace of the slowest stage, %s: %.4g ns per input slice (the "
            "crossbar, DACs and S&Hs busy %.1f %%, the ADCs %.1f %%)\n",
            pace->path, rep->slice_ps * 1e-3, 100 * duty(a, rep, IMC_COMP_XBAR),
            100 * duty(a, rep, IMC_COMP_ADC));
    /* how each derived cost came about (a model's own line; explicit values have none) */
    int header = 0;
    for (int c = 0; c < IMC_COMP_COUNT; c++) {
        const imc_instance *inst = imc_comp_instance(a, (imc_comp)c);
        if (!inst || !inst->assumptions[0])
            continue;
        if (!header++)
            fputs("\nassumptions behind derived costs:\n", out);
        fprintf(out, "  %s: %s\n", inst->path, inst->assumptions);
    }
}

void imc_hwreport_csv(const imc_hw_report *rep, FILE *out)
{
    fprintf(out, "level,component,model,count,area_mm2,peak_power_mw,leakage_mw\n");
    for (int level = 0; level < IMC_LEVEL_COUNT; level++) {
        for (size_t i = 0; i < rep->n_rows; i++) {
            const imc_hw_row *r = &rep->rows[i];
            if (r->level == level)
                fprintf(out, "%s,%s,%s,%.12g,%.12g,%.12g,%.12g\n",
                        imc_level_name((imc_level)level), r->inst->path, r->inst->type->name,
                        r->count, r->area_mm2, r->peak_power_mw, r->leakage_mw);
        }
        fprintf(out, "%s,total,,,%.12g,%.12g,%.12g\n", imc_level_name((imc_level)level),
                rep->area_mm2[level], rep->peak_power_mw[level], rep->leakage_mw[level]);
    }
}
