"""Is a blind-mode message in a few cells easier or harder to detect than one spread over the image?

Blind mode (notebook 09) writes a message into the fewest 32 x 32 cells that hold it and leaves the
rest of the image exactly the cover's; ``all_cells=True`` spreads it, with random filler, over every
cell. A detector that looks at the whole image averages a few changed cells away; one that looks at
cells need not. Two XuNet-style detectors (``helpers.evaluation.learned``), each trained on the pairs of the
training photos and scored on the held-out photos (coffee, rocket: never seen by the detectors or
by the blind network):

* **image level**: trained on random 64 x 64 windows of whole 128 x 128 pairs (as notebook 08),
  scores the whole image;
* **cell level**: trained on the cells the message used (whoever trains a detector hides the
  training messages, so knows where they went), scores each of the 16 cells of an image and keeps
  the largest.

Prints, per message length and layout: cells used, PSNR, and the AUC of each detector (0.5: the
detector cannot tell; 1: it always can). Held-out pairs are few (10), so AUCs move in steps of 0.01.

    python benchmarks/cell_detector.py                  # about 5 minutes on a 2-core CPU
    python benchmarks/cell_detector.py --steps 300 --lengths 16 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from helpers.methods.blind_mode import _crops, blind_hide, cells  # noqa: E402
from helpers.data.photos import list_samples, load_image, pil_to_tensor  # noqa: E402
from helpers.evaluation.learned import detection_scores, split_by_source, train_detector  # noqa: E402
from helpers.evaluation.metrics import psnr  # noqa: E402
from helpers.evaluation.statistical import auc  # noqa: E402
from helpers.plumbing.inference import load_network  # noqa: E402

HELD_OUT = ["coffee", "rocket"]


def cell_crops(images: torch.Tensor, cell_list) -> torch.Tensor:
    """Every listed cell of every image, as one batch (all cells of a 128 x 128 image are 32 x 32)."""
    return torch.cat([_crops(img, cell_list, range(len(cell_list))) for img in images])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[16, 200, 800], help="message lengths (bytes)")
    ap.add_argument("--steps", type=int, default=1000, help="training steps of each detector")
    a = ap.parse_args()
    start = time.perf_counter()
    files = list_samples()  # the 128 x 128 crops
    train_files, _ = split_by_source(files, HELD_OUT)
    train_files = set(train_files)
    is_train = np.array([f in train_files for f in files])
    covers = torch.stack([load_image(p) for p in files])
    model = load_network(kind="blind")
    grid = cells(128, 128)  # every cell, in the order hide uses without a password
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {is_train.sum()} training pairs, "
          f"{(~is_train).sum()} held-out pairs; detectors: {a.steps} steps each\n")
    print(f"{'message':>8} {'layout':<10} {'cells':>6} {'PSNR (dB)':>10} {'AUC image-level':>16} {'AUC cell-level':>15}")
    configs = [(n, False) for n in a.lengths] + [(min(a.lengths), True)]
    for n_bytes, all_cells in configs:
        rng = np.random.default_rng(n_bytes)
        stegos, used, values = [], [], []
        for i, path in enumerate(files):
            message = rng.integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
            stego, info = blind_hide(path, message, model, filler_seed=i, all_cells=all_cells)
            stegos.append(pil_to_tensor(stego))
            used.append(grid[:info["cells"]])
            values.append(psnr(covers[i], stegos[-1]))
        stegos = torch.stack(stegos)
        tr, te = np.flatnonzero(is_train), np.flatnonzero(~is_train)
        # image level: whole images, random 64 x 64 windows in training (notebook 08's detector)
        image_det = train_detector(covers[tr], stegos[tr], steps=a.steps, crop=64, seed=1)
        auc_image = auc(detection_scores(image_det, covers[te]), detection_scores(image_det, stegos[te]))
        # cell level: trained on the cells each training message used, scored on every cell of a
        # held-out image; the image's score is its most suspicious cell
        c_cells = torch.cat([cell_crops(covers[i:i + 1], used[i]) for i in tr])
        s_cells = torch.cat([cell_crops(stegos[i:i + 1], used[i]) for i in tr])
        cell_det = train_detector(c_cells, s_cells, steps=a.steps, seed=1)

        def image_score(images):
            return detection_scores(cell_det, cell_crops(images, grid)).reshape(len(images), len(grid)).max(1)

        auc_cell = auc(image_score(covers[te]), image_score(stegos[te]))
        n_cells = np.mean([len(u) for u in used])
        print(f"{n_bytes:>7}B {'all cells' if all_cells else 'footprint':<10} {n_cells:>6.1f} "
              f"{np.mean([values[i] for i in te]):>10.2f} {auc_image:>16.2f} {auc_cell:>15.2f}", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
