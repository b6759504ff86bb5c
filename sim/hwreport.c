/* hwreport.c -- per-level component counts, area, peak power and peak throughput.
 *
 * Peak throughput follows ISAAC (Shafiee et al., ISCA 2016, sections IV-V): every crossbar
 * computes rows x (data columns / cells per weight) MACs per input vector, and an input
 * vector takes input_slices pipeline stages of max(crossbar read, shared-ADC conversions). */
#include "sim/hwreport.h"

#include <math.h>
#include <string.h>

static const char *const level_names[IMC_LEVEL_COUNT] = {"pe", "tile", "chip"};

const char *imc_level_name(int level)
{
    return level >= 0 && level < IMC_LEVEL_COUNT ? level_names[level] : "?";
}

static void add(imc_hw_report *rep, int level, const imc_instance *inst, double count)
{
    if (!inst || count <= 0 || rep->n_rows >= sizeof rep->rows / sizeof rep->rows[0])
        return;
    imc_hw_row *r = &rep->rows[rep->n_rows++];
    r->level = level;
    r->inst = inst;
    r->count = count;
    r->area_mm2 = count * imc_model_area_um2(inst) * 1e-6;
    r->peak_power_mw = count * imc_model_peak_power_mw(inst);
    rep->area_mm2[level] += r->area_mm2;
    rep->peak_power_mw[level] += r->peak_power_mw;
}

/* Repeat every row of level FROM at level TO, times FACTOR. */
static void lift(imc_hw_report *rep, int from, int to, double factor)
{
    size_t n = rep->n_rows;
    for (size_t i = 0; i < n; i++)
        if (rep->rows[i].level == from)
            add(rep, to, rep->rows[i].inst, rep->rows[i].count * factor);
}

void imc_hwreport_build(const imc_arch *a, imc_hw_report *rep)
{
    memset(rep, 0, sizeof *rep);
    const imc_chip *chip = &a->chip;
    const imc_tile *tile = &chip->tile;
    const imc_pe *pe = &tile->pe;
    double xbars = pe->xbars, rows = imc_arch_xbar_rows(a), cols = imc_arch_xbar_cols(a);

    add(rep, IMC_LEVEL_PE, pe->xbar, xbars);
    add(rep, IMC_LEVEL_PE, pe->dac, xbars * rows);
    add(rep, IMC_LEVEL_PE, pe->sh, xbars * cols);
    add(rep, IMC_LEVEL_PE, pe->adc, xbars * imc_arch_adcs_per_xbar(a));
    add(rep, IMC_LEVEL_PE, pe->shiftadd, pe->shiftadds);
    add(rep, IMC_LEVEL_PE, pe->input_register, 1);
    add(rep, IMC_LEVEL_PE, pe->output_register, 1);

    lift(rep, IMC_LEVEL_PE, IMC_LEVEL_TILE, tile->pes);
    add(rep, IMC_LEVEL_TILE, tile->buffer, 1);
    add(rep, IMC_LEVEL_TILE, tile->bus, 1);
    add(rep, IMC_LEVEL_TILE, tile->sfu, 1);
    add(rep, IMC_LEVEL_TILE, tile->vector, 1);
    add(rep, IMC_LEVEL_TILE, tile->shiftadd, 1);
    add(rep, IMC_LEVEL_TILE, tile->output_register, 1);
    double conc = imc_instance_get(chip->noc, "concentration");
    add(rep, IMC_LEVEL_TILE, chip->noc, 1.0 / (isnan(conc) || conc < 1 ? 1 : conc));

    lift(rep, IMC_LEVEL_TILE, IMC_LEVEL_CHIP, chip->tiles);
    add(rep, IMC_LEVEL_CHIP, chip->global_buffer, 1);
    add(rep, IMC_LEVEL_CHIP, chip->digital, 1);
    add(rep, IMC_LEVEL_CHIP, chip->dram, 1);

    rep->units[IMC_LEVEL_CHIP] = 1;
    rep->units[IMC_LEVEL_TILE] = chip->tiles;
    rep->units[IMC_LEVEL_PE] = (double)chip->tiles * tile->pes;

    double weights_per_row = floor(cols / imc_arch_cells_per_weight(a));
    double macs_per_vector = rows * weights_per_row;
    double vector_s = imc_arch_input_slices(a) * (double)imc_arch_slice_ps(a) * 1e-12;
    double chip_xbars = rep->units[IMC_LEVEL_PE] * xbars;
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
        fprintf(out, "\n%s (one of %.0f)\n", imc_level_name(level), rep->units[level]);
        fprintf(out, "  %-30s %-16s %12s %12s %14s\n", "component", "model", "count",
                "area mm2", "peak power mW");
        for (size_t i = 0; i < rep->n_rows; i++) {
            const imc_hw_row *r = &rep->rows[i];
            if (r->level != level)
                continue;
            fprintf(out, "  %-30s %-16s %12.6g %12.6f %14.4f\n", r->inst->path,
                    r->inst->type->name, r->count, r->area_mm2, r->peak_power_mw);
        }
        fprintf(out, "  %-30s %-16s %12s %12.6f %14.4f\n", "total", "", "", rep->area_mm2[level],
                rep->peak_power_mw[level]);
    }
    double area = rep->area_mm2[IMC_LEVEL_CHIP], watts = rep->peak_power_mw[IMC_LEVEL_CHIP] * 1e-3;
    double gops = rep->peak_ops_per_s * 1e-9;
    fprintf(out,
            "\npeak throughput: %.2f TOPS at %d-bit weights and inputs (1 MAC = 2 ops)\n"
            "  area efficiency:  %.2f GOPS/s/mm2\n"
            "  power efficiency: %.2f GOPS/W\n",
            gops * 1e-3, m->weight_bits, gops / area, gops / watts);
}

void imc_hwreport_csv(const imc_hw_report *rep, FILE *out)
{
    fprintf(out, "level,component,model,count,area_mm2,peak_power_mw\n");
    for (int level = 0; level < IMC_LEVEL_COUNT; level++) {
        for (size_t i = 0; i < rep->n_rows; i++) {
            const imc_hw_row *r = &rep->rows[i];
            if (r->level == level)
                fprintf(out, "%s,%s,%s,%.12g,%.12g,%.12g\n", imc_level_name(level),
                        r->inst->path, r->inst->type->name, r->count, r->area_mm2,
                        r->peak_power_mw);
        }
        fprintf(out, "%s,total,,,%.12g,%.12g\n", imc_level_name(level), rep->area_mm2[level],
                rep->peak_power_mw[level]);
    }
}
