#!/usr/bin/env bash
# The GPU training of issues 5 and 6 in one go (a GPU session lasts minutes): the checks of
# tests/test_cuda.py, then four trainings side by side on one GPU (each is too small to fill it),
# then the evaluation harness over every method on the bundled crops, timed.
#
#   OUT=gpu-out SECONDS_EACH=180 bash benchmarks/gpu_models.sh
#
# - the paper's network trained *without* the mapping module (Table 4): 3 epochs of 500 steps,
#   the same data and schedule as the shipped paper.pt (benchmarks/gpu_run.sh);
# - the Rehman et al. and HiNet-style baselines (Tables 1-3, Figure 4);
# - the blind-mode network (z fixed to zeros at extraction; notebook 09).
# Files back in $OUT: nomap.pt, rehman.pt, hinet.pt, blind.pt, results.tar.gz (logs, reports).
set -u
OUT=${OUT:-gpu-out}; SECONDS_EACH=${SECONDS_EACH:-180}; HELD_OUT=${HELD_OUT:-coffee,rocket}
mkdir -p "$OUT" /tmp/res; export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee /tmp/res/gpu.txt
$PY -c "import torch, platform; print('torch', torch.__version__, 'python', platform.python_version())" | tee -a /tmp/res/gpu.txt

echo "== GPU tests"
timeout 90 $PY -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tail -15 | tee /tmp/res/test_cuda.log

echo "== four trainings side by side (${SECONDS_EACH} s each)"
$PY benchmarks/link_training_set.py /tmp/train1000 --held-out "$HELD_OUT"
start=$(date +%s)
( timeout $((SECONDS_EACH + 90)) $PY -m helpers train --data /tmp/train1000 --out /tmp/nomap --no-mapping --epochs 3 \
    --no-resume > /tmp/res/nomap.log 2>/tmp/nomap_progress.txt; echo "nomap rc $? after $(( $(date +%s) - start )) s" ) &
( timeout $((SECONDS_EACH + 90)) $PY benchmarks/train_models.py rehman --seconds "$SECONDS_EACH" --held-out "$HELD_OUT" \
    --out "$OUT/rehman.pt" --json /tmp/res/rehman.json > /tmp/res/rehman.log 2>&1; echo "rehman rc $?" ) &
( timeout $((SECONDS_EACH + 90)) $PY benchmarks/train_models.py hinet --seconds "$SECONDS_EACH" --lr 3e-4 \
    --held-out "$HELD_OUT" --out "$OUT/hinet.pt" --json /tmp/res/hinet.json > /tmp/res/hinet.log 2>&1; echo "hinet rc $?" ) &
( timeout $((SECONDS_EACH + 90)) $PY benchmarks/train_models.py blind --seconds "$SECONDS_EACH" --lr 2e-4 \
    --held-out "$HELD_OUT" --out "$OUT/blind.pt" --json /tmp/res/blind.json > /tmp/res/blind.log 2>&1; echo "blind rc $?" ) &
wait
echo "trainings done after $(( $(date +%s) - start )) s"
tail -c 300 /tmp/nomap_progress.txt; echo
for f in rehman hinet blind; do echo "-- $f"; tail -n 30 /tmp/res/$f.log | grep -v '^ *[0-9.,]*$' | head -40; done

$PY - <<'PYEOF'
import os
from helpers.training.train import export_checkpoint, load_checkpoint
state = load_checkpoint("/tmp/nomap/last.pt")
notes = (f"GPU run without the mapping module: {state['epoch'] + 1} epochs x 500 steps at batch 2 on the bundled "
         f"photos (held-out sources coffee,rocket), {sum(state['history']['seconds']):.0f} s of training")
export_checkpoint("/tmp/nomap/last.pt", os.environ["OUT"] + "/nomap.pt", notes=notes)
print(notes)
PYEOF

echo "== evaluation harness, every method, bundled 128 x 128 crops"
mkdir -p /tmp/eval128; for f in data/samples/*_128x128_*.png; do ln -sf "$PWD/$f" /tmp/eval128/; done
start=$(date +%s)
timeout 150 $PY -m helpers evaluate --data /tmp/eval128 --methods lsb,rehman,hinet,inn,inn-1bpp,inn-nomap \
    --out /tmp/res/eval --nomap-checkpoint "$OUT/nomap.pt" --rehman-checkpoint "$OUT/rehman.pt" \
    --hinet-checkpoint "$OUT/hinet.pt" --quiet 2>&1 | tee /tmp/res/eval.log
echo "evaluation of $(ls /tmp/eval128 | wc -l) images x 6 methods took $(( $(date +%s) - start )) s" | tee -a /tmp/res/eval.log
tar czf "$OUT/results.tar.gz" -C /tmp res
