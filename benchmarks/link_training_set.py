"""Link the bundled photos (all but the held-out sources, at least 128 x 128) repeatedly into a
folder of N files, so that one epoch over it is as long as one over the 1000-image COCO subset.

    python benchmarks/link_training_set.py /tmp/train1000 --held-out coffee,rocket --n 1000
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dest")
    p.add_argument("--held-out", default="coffee,rocket")
    p.add_argument("--n", type=int, default=1000)
    a = p.parse_args(argv)
    held = set(a.held_out.split(","))
    with open(SAMPLES / "manifest.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] not in held]
    files = [r["file"] for r in rows if min(Image.open(SAMPLES / r["file"]).size) >= 128]
    dest = Path(a.dest)
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(a.n):
        f = files[i % len(files)]
        link = dest / f"{i:04d}_{f}"
        if not link.exists():
            os.symlink((SAMPLES / f).resolve(), link)
    print(f"{len(files)} training photos, linked into {a.n} files in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
