"""Cut the bundled sample photos in ``data/samples/`` from photos that ship inside Python wheels.

Run once by a maintainer (the output is committed; tests and notebooks never run this):

    pip install scikit-image scikit-learn matplotlib
    python data/make_samples.py

It reads the photos straight from the installed packages' folders (no download), cuts
deterministic crops and writes them as 8-bit RGB PNG (lossless, so what the tests see is
exactly what was cut) together with ``data/samples/manifest.csv``. Crops are never
resampled: resizing would smooth away the sensor noise that steganalysis (notebook 08)
looks at. Licences and authors are in ``data/LICENSES.md``.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "samples"
SEED = 2022  # the paper's year; any fixed value makes the crops reproducible

# name -> (package, path inside the package)
SOURCES = {
    "astronaut": ("skimage", "data/astronaut.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "hubble_deep_field": ("skimage", "data/hubble_deep_field.jpg"),
    "motorcycle_left": ("skimage", "data/motorcycle_left.png"),
    "motorcycle_right": ("skimage", "data/motorcycle_right.png"),
    "ihc": ("skimage", "data/ihc.png"),
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}
CROPS_128_PER_PHOTO = 5
# Larger and odd-sized crops: (photo, width, height). Odd sizes exercise padding and
# "any H x W" code paths; 17 x 23 is smaller than most models' receptive field.
EXTRA = [
    ("astronaut", 256, 256),
    ("coffee", 512, 384),
    ("china", 256, 256),
    ("chelsea", 131, 97),
    ("rocket", 200, 150),
    ("flower", 17, 23),
]


def source_path(package: str, inner: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"error: package {package!r} is not installed; pip install scikit-image scikit-learn matplotlib")
    return Path(list(spec.submodule_search_locations)[0]) / inner


def crop_boxes(rng: np.random.Generator, width: int, height: int, w: int, h: int, n: int) -> list[tuple[int, int]]:
    """n top-left corners of w x h boxes, spread over the photo (one per horizontal band)."""
    boxes = []
    for k in range(n):
        x = int(rng.integers(0, width - w + 1))
        band = (height - h) * k // max(n, 1), (height - h) * (k + 1) // max(n, 1)
        y = int(rng.integers(band[0], max(band[1], band[0] + 1)))
        boxes.append((x, y))
    return boxes


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    rng = np.random.default_rng(SEED)
    rows = []
    photos = {name: Image.open(source_path(*src)).convert("RGB") for name, src in SOURCES.items()}
    jobs = [(name, 128, 128, CROPS_128_PER_PHOTO) for name in SOURCES] + [(n, w, h, 1) for n, w, h in EXTRA]
    for name, w, h, count in jobs:
        photo = photos[name]
        for k, (x, y) in enumerate(crop_boxes(rng, photo.width, photo.height, w, h, count)):
            fname = f"{name}_{w}x{h}_{k}.png"
            photo.crop((x, y, x + w, y + h)).save(OUT / fname, optimize=True)
            rows.append({"file": fname, "source": name, "package": SOURCES[name][0],
                         "source_path": SOURCES[name][1], "x": x, "y": y, "width": w, "height": h})
    with open(OUT / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"wrote {len(rows)} crops, {total / 1e6:.2f} MB, to {OUT}")


if __name__ == "__main__":
    main()
