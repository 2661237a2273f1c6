#!/usr/bin/env bash
# The GPU measurements of issue 3 in one go (a GPU session lasts minutes): the benchmark, a
# paper-size training run on the bundled photos, then held-out quality and CPU/GPU agreement.
#
#   OUT=gpu-out TRAIN_SECONDS=240 bash benchmarks/gpu_run.sh
#
# Training data: every bundled photo at least 128 x 128 except those of the held-out sources,
# linked repeatedly into a folder of 1000 files so that one epoch is as long as one over the
# 1000-image COCO subset (500 steps at batch size 2). The run stops after TRAIN_SECONDS; the
# last finished epoch's checkpoint is exported to $OUT/paper_gpu.pt.
set -u
OUT=${OUT:-gpu-out}; TRAIN_SECONDS=${TRAIN_SECONDS:-240}; HELD_OUT=${HELD_OUT:-coffee,rocket}
mkdir -p "$OUT"; export OUT HELD_OUT
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
$PY -c "import torch, platform; print('torch', torch.__version__, 'python', platform.python_version())" | tee -a "$OUT/gpu.txt"

echo "== GPU tests"
timeout 90 $PY -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tail -15 | tee "$OUT/test_cuda.log"

echo "== benchmark"
timeout 150 $PY benchmarks/benchmark.py --no-cpu --cuda-batches 2,16 --repeats 2 --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log"
GRAPH=$($PY -c "
import json; r = json.load(open('$OUT/bench.json'))[-1]['train']
print('--cuda-graph' if any(x['graph'] and 'error' not in x for x in r) else '--no-cuda-graph')" 2>/dev/null || echo --no-cuda-graph)

echo "== training ($GRAPH, ${TRAIN_SECONDS} s)"
$PY benchmarks/link_training_set.py /tmp/train1000 --held-out "$HELD_OUT"
start=$(date +%s)
timeout "$TRAIN_SECONDS" $PY -m helpers train --data /tmp/train1000 --out /tmp/run $GRAPH --no-resume ${EXTRA_TRAIN_ARGS:-} 2>/tmp/train_progress.txt | tee "$OUT/train.log"
tail -c 400 /tmp/train_progress.txt; echo
echo "training stopped after $(( $(date +%s) - start )) s"

echo "== report"
$PY - <<'PYEOF'
import os
from helpers.training.train import export_checkpoint, load_checkpoint
state = load_checkpoint("/tmp/run/last.pt")
h = state["history"]
notes = (f"GPU run: {state['epoch'] + 1} epochs x 500 steps at batch 2 on the bundled photos (held-out sources "
         f"{os.environ.get('HELD_OUT', 'coffee,rocket')}), {sum(h['seconds']):.0f} s of training")
export_checkpoint("/tmp/run/last.pt", os.environ["OUT"] + "/paper_gpu.pt", notes=notes)
print(notes)
PYEOF
$PY benchmarks/gpu_report.py "$OUT/paper_gpu.pt" --held-out "$HELD_OUT" --json "$OUT/report.json" 2>&1 | tee "$OUT/report.log"
