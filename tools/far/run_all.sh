#!/bin/sh
# run_all.sh -- the Fashion-MNIST FAR pipeline end to end, seeded, CPU only:
#   1. train_deit.py   a small DeiT-style ViT          -> tests/data/fashion-mnist/deit.safetensors
#   2. distill_far.py  FAR replacement + distillation  -> tests/data/fashion-mnist/far.safetensors
#   3. prune_far.py    Group Hoyer-Square pruning      -> tests/data/fashion-mnist/far_pruned.safetensors
# then a table of PyTorch FP32 accuracies and parameter counts (total / effective, from
# ./imcsim-model info when it is built). Checkpoints go to tools/far/work/ (not committed).
# Runs under `nice -n 10`; FAR_THREADS sets torch's threads (default 2).
#   tools/far/run_all.sh [--skip-train]   (--skip-train: only the table)
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/tests/data/fashion-mnist
py=/usr/bin/python3
cd "$here"
if [ "$1" != "--skip-train" ]; then
    for stage in train_deit distill_far prune_far; do
        start=$(date +%s)
        nice -n 10 $py "$here/$stage.py"
        echo "$stage: $(( $(date +%s) - start )) s wall"
    done
fi
printf '\n%-24s %10s %12s %12s\n' model pytorch_top1 params_total params_effective
for m in deit far far_pruned; do
    f=$out/$m.safetensors
    acc=$($py -c "import json,struct,sys;r=open(sys.argv[1],'rb');n=struct.unpack('<Q',r.read(8))[0];print(json.loads(r.read(n))['__metadata__']['pytorch_top1'])" "$f")
    if [ -x "$top/imcsim-model" ]; then
        p=$("$top/imcsim-model" info "$f" | sed -n 's/.*parameters: \([0-9]*\) total, \([0-9]*\) effective.*/\1 \2/p')
    else
        p="? ?"
    fi
    set -- $p
    printf '%-24s %10s %12s %12s\n' "$m.safetensors" "$acc" "$1" "$2"
done
