"""How detectable are blind mode, key mode and LSB at the same net payload? The table of README's
"Detectability" section and notebook 08's section 6 (:func:`helpers.evaluation.detectability.detectability`).

Covers, all 128 x 128 and all from photos no network of this project was trained on, except the
detector's own training covers:

* the learned detector trains on crops of the corpus's **training half** (``python -m helpers.data.corpus``
  builds the corpus: photos and textures from Debian packages) and their stego images;
* **matched** test covers: crops of the corpus's **held-out** sources (the same collection, other
  photos);
* **mismatched** test covers: the bundled photos of the held-out sources (``coffee``, ``rocket``:
  scikit-image's test photos, another collection).

Every method hides a random message of the payload's bytes in each cover (``stegos_at_payload``);
the statistical detectors need no training; the XuNet-style detector is trained once per method
and payload. Prints the Markdown table (95 % intervals in brackets) and the time it took.

    python -m helpers.data.corpus && python benchmarks/detectability.py          # 311 s on 2 cores (2026-12-07)
    python benchmarks/detectability.py --crops 4 --steps 300                      # a quicker look
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.data.corpus import corpus_dir, read_manifest, scaled_down, split_corpus  # noqa: E402
from helpers.data.photos import SHIPPED_HELD_OUT, list_samples, split_by_source  # noqa: E402
from helpers.evaluation.detectability import METHODS, PAYLOADS, detectability, format_table  # noqa: E402
from helpers.settings import pick_device  # noqa: E402

SIZE = 128


def grid_crops(image: Image.Image, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Up to ``n`` non-overlapping ``SIZE x SIZE`` crops of ``image``, chosen at random from its grid
    (no two test covers share a pixel)."""
    arr = np.asarray(image.convert("RGB"))
    h, w = arr.shape[:2]
    cells = [(r, c) for r in range(h // SIZE) for c in range(w // SIZE)]
    pick = rng.permutation(len(cells))[:n]
    return [arr[cells[i][0] * SIZE:(cells[i][0] + 1) * SIZE, cells[i][1] * SIZE:(cells[i][1] + 1) * SIZE]
            for i in pick]


def corpus_crops(rows, per_source: int, rng) -> np.ndarray:
    folder = corpus_dir()  # the manifest's file names start with images/
    out = []
    for r in rows:
        with Image.open(folder / r["file"]) as im:
            out += grid_crops(scaled_down(im, 512), per_source, rng)
    return np.stack(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--crops", type=int, default=6, help="crops per corpus source (default 6)")
    p.add_argument("--steps", type=int, default=1000, help="learned detector's training steps (default 1000)")
    p.add_argument("--payloads", default=",".join(map(str, PAYLOADS)), help="net bits per pixel, comma-separated")
    p.add_argument("--methods", default=",".join(METHODS))
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    train_rows, held_rows = split_corpus(read_manifest())
    train = corpus_crops(train_rows, args.crops, rng)
    matched = corpus_crops(held_rows, args.crops, rng)
    held_files = split_by_source(list_samples(), SHIPPED_HELD_OUT)[1]
    mismatched = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in held_files])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {pick_device()}\ndetector trained on {len(train)} crops of {len(train_rows)} corpus sources; "
          f"matched: {len(matched)} crops of {len(held_rows)} held-out corpus sources; "
          f"mismatched: {len(mismatched)} bundled crops of {', '.join(SHIPPED_HELD_OUT)}; "
          f"{args.steps} detector steps", flush=True)
    start = time.perf_counter()
    rows = detectability(train, {"matched": matched, "mismatched": mismatched},
                         payloads=[float(x) for x in args.payloads.split(",")], methods=args.methods.split(","),
                         detector_steps=args.steps, device=pick_device(), progress=True)
    print(format_table(rows))
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
