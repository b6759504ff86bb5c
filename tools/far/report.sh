#!/bin/sh
# report.sh -- the README's "Accuracy and cost on a real model", from the committed Fashion-MNIST
# models (tests/data/fashion-mnist): two sweeps on arch-configs/reram.yaml,
#   arch-configs/sweeps/fmnist_table.yaml     the three models as shipped (10-bit ADC): timing,
#                                             and FP32 and IMC numerics on all 10k test images
#   arch-configs/sweeps/fmnist_adc_bits.yaml  IMC top-1 against ADC bits (3..10, 1000 images)
# then prints the table (markdown) and draws docs/img/fmnist_adc_bits.png. Needs the built
# imcsim, imcsim-model and tools/imcsim-sweep, gnuplot, and Debian's dataset-fashion-mnist; no
# Python. Like any sweep it resumes: a second run only redraws and reprints.
#   tools/far/report.sh [OUTDIR]        (default: fmnist-report; about 5 min on 2 cores)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-fmnist-report}
# the models are small: one BLAS thread per process, two processes at once
export OPENBLAS_NUM_THREADS=1
for spec in fmnist_table fmnist_adc_bits; do
    "$top/tools/imcsim-sweep" "$top/arch-configs/sweeps/$spec.yaml" -o "$out/$spec" -j 2 -q
done
"$top/tools/imcsim-plot" sweep "$out/fmnist_adc_bits/results.csv" -x chip.tile.pe.adc.bits \
    -y top1_imc -o "$top/docs/img/fmnist_adc_bits.png" \
    --title "Fashion-MNIST top-1 of the IMC pass against ADC bits (reram.yaml, 1000 test images)"

params() {
    "$top/imcsim-model" info "$top/tests/data/fashion-mnist/$1.safetensors" |
        sed -n 's/.*parameters: \([0-9]*\) total, \([0-9]*\) effective.*/\2/p'
}
printf '| model | parameters | FP32 top-1 | IMC top-1 | IMC = FP32 | latency | inferences/s | energy | global buffer + NoC traffic | DRAM traffic |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for m in deit far far_pruned; do
    awk -F, -v m="$m" -v p="$(params "$m")" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["model"] == m {
            name = m == "deit" ? "DeiT (attention)" : m == "far" ? "FAR" : "FAR, pruned"
            printf "| %s | %s | %.2f %% | %.2f %% | %.2f %% | %.1f us | %.0f | %.1f uJ | %.1f KiB | %.1f KiB |\n",
                name, p, 100 * $col["top1_fp32"], 100 * $col["top1_imc"], 100 * $col["agreement"],
                $col["latency_us"], $col["inferences_per_s"], $col["energy_uj"],
                ($col["traffic_global_buffer_bytes"] + $col["traffic_noc_bytes"]) / 1024,
                $col["traffic_dram_bytes"] / 1024
        }' "$out/fmnist_table/results.csv"
done
echo
echo "accuracy vs ADC bits: docs/img/fmnist_adc_bits.png; all figures: $out/*/results.csv"
