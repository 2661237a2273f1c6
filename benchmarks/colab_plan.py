"""How long notebook 05's training takes on Colab's GPUs: an ESTIMATE, printed with its inputs.

    python benchmarks/colab_plan.py        # a few seconds on a CPU; no GPU needed

No T4, L4 or A100 has been lent to this project, so their times are not measured. What is measured:
the work of one training step (counted here by ``torch.utils.flop_counter`` on the paper's
network, batch 2, 128 x 128: forward, straight-through rounding, inverse, the paper's loss,
backward) and the H100 figures of the README's GPU table (2026-11-27). The estimate for a GPU is
the larger of two bounds:

* **memory**: at batch 16 the H100 step is limited by memory traffic (the dense blocks move far
  more bytes than they compute; README), 53.1 images/s. The traffic per image does not depend on
  the GPU, so the time scales with the inverse of the memory bandwidth.
* **compute**: the counted FLOPs at the GPU's published float32 peak (TF32 tensor cores where
  PyTorch uses them for convolutions: Ampere and later; the T4 has none).

At batch 2 the H100 is slower per image than at batch 16 (25 ms with CUDA graphs): a per-step
floor the estimate also keeps. The result is printed per 1,000-image epoch, for the paper's 50
epochs and for the ``PLAN`` presets of ``helpers.training.train.PLANS``.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from helpers.coding.mapping import map_bits
from helpers.training.train import PLANS, TrainConfig, TrainStep, build_model, paper_loss

H100_BATCH16_IMAGES_S = 53.1  # README GPU table: batch 16, eager float32 (memory-bound there)
H100_BATCH2_S_PER_IMAGE = 0.050 / 2  # README GPU table: batch 2, CUDA graph, float32: 50 ms a step
# published figures (vendor data sheets): memory bandwidth (GB/s), float32 peak (TFLOPS) as PyTorch's
# convolutions use it (TF32 tensor cores, dense, on Ampere and later)
GPUS = {"H100 SXM (measured)": (3350, 495), "A100 40 GB (Colab)": (1555, 156), "L4": (300, 60),
        "T4 (Colab's free GPU)": (320, 8.1)}
EPOCH_IMAGES = 1000


def flops_per_image(size: int = 128, batch: int = 2) -> float:
    """FLOPs of one training step of the paper's network, per image (counted, not estimated)."""
    cfg = TrainConfig(data=".")
    step = TrainStep(build_model(cfg))
    cover = torch.rand(batch, 3, size, size)
    secret = map_bits(torch.randint(0, 2, (batch, 3, size, size), dtype=torch.uint8), batch=True)[0]
    with FlopCounterMode(display=False) as counter:
        stego, secret_rev = step(cover, secret)
        paper_loss(cover, stego, secret, secret_rev, cfg.alpha, cfg.beta)[0].backward()
    return counter.get_total_flops() / batch


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    flops = flops_per_image()
    h100_bw = GPUS["H100 SXM (measured)"][0]
    print(f"one training step, counted: {flops / 1e9:.0f} GFLOP per image (batch 2, 128 x 128)")
    print(f"H100 (README): {H100_BATCH16_IMAGES_S} images/s at batch 16 (memory-bound), "
          f"{1000 * H100_BATCH2_S_PER_IMAGE:.0f} ms per image at batch 2 (CUDA graph)\n")
    plans = {f"PLAN '{k}' ({v} epochs)": v for k, v in PLANS.items()}
    print(f"{'GPU':<24}{'memory':>9}{'compute':>9}{'floor':>8}{'estimate':>10}{'epoch':>8}" +
          "".join(f"{k:>32}" for k in plans))
    for name, (bandwidth, peak) in GPUS.items():
        memory = h100_bw / bandwidth / H100_BATCH16_IMAGES_S  # s per image
        compute = flops / (peak * 1e12)
        floor = H100_BATCH2_S_PER_IMAGE
        per_image = max(memory, compute, floor)
        if name.startswith("H100"):
            per_image = H100_BATCH2_S_PER_IMAGE  # measured: no estimate needed
        epoch = per_image * EPOCH_IMAGES
        cells = "".join(f"{_duration(epoch * e):>32}" for e in plans.values())
        print(f"{name:<24}{1000 * memory:>7.0f}ms{1000 * compute:>7.0f}ms{1000 * floor:>6.0f}ms"
              f"{1000 * per_image:>8.0f}ms{epoch:>7.0f}s{cells}")
    print("\nmemory, compute, floor: the bounds per image (see the docstring); estimate: the largest; "
          "times exclude the download (notebook 04: 1-3 min) and the evaluation")
    return 0


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    raise SystemExit(main())
