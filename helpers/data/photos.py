"""Image files as tensors, datasets of them, and the bundled sample photos in ``data/samples/``.

Used from notebook 01 on; the photos and their licences are described in
``data/LICENSES.md`` and ``data/make_samples.py`` cuts them.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from helpers.plumbing.files import DATA_DIR, REPO_ROOT, write_atomic  # noqa: F401 (REPO_ROOT: notebook 06 and the tests)
from helpers.plumbing.images import UNREADABLE, pil_to_rgb8, read_image

SAMPLES_DIR = DATA_DIR / "samples"
#: Source photos whose crops no shipped network was trained on: the held-out images of every
#: figure about the shipped networks (``data/checkpoints/README.md``).
SHIPPED_HELD_OUT = ("coffee", "rocket")


def list_samples(size: tuple[int, int] | None = (128, 128)) -> list[Path]:
    """Bundled sample photos, sorted by name. ``size=(width, height)`` keeps only crops of
    that size (the paper's 128 x 128 by default); ``None`` lists all of them."""
    if not SAMPLES_DIR.is_dir():
        raise FileNotFoundError(f"bundled samples not found in {SAMPLES_DIR}; run from a clone of the repository "
                                "or set INN_STEGO_DATA to its data/ folder")
    paths = sorted(SAMPLES_DIR.glob("*.png"))
    if size is not None:
        tag = f"_{size[0]}x{size[1]}_"
        paths = [p for p in paths if tag in p.name]
    return paths


def split_by_source(files, test_sources, manifest=None):
    """Split bundled crop names into (train, test) so that no source photo is in both; the
    sources come from ``data/samples/manifest.csv`` (notebooks 05, 08, 09)."""
    with open(manifest or SAMPLES_DIR / "manifest.csv") as f:
        source = {r["file"]: r["source"] for r in csv.DictReader(f)}
    names = [Path(f).name for f in files]
    missing = [n for n in names if n not in source]
    if missing:
        raise ValueError(f"{missing[0]} is not in the manifest; cannot tell its source photo")
    test_sources = set(test_sources)
    train = [f for f, n in zip(files, names) if source[n] not in test_sources]
    test = [f for f, n in zip(files, names) if source[n] in test_sources]
    return train, test


def bundled_training_set(dest, held_out=SHIPPED_HELD_OUT, n: int = 1000, min_side: int = 128) -> Path:
    """Link the bundled photos of every source but ``held_out`` (those at least ``min_side`` on each
    side) round-robin into ``n`` files in ``dest``, so that an epoch over the folder is as long as
    one over the 1000-image COCO subset; this is how the shipped networks were trained (notebook 05,
    ``benchmarks/gpu_run.sh``). Copies where the file system refuses links. Returns ``dest``."""
    files = [p for p in split_by_source(list_samples(size=None), held_out)[0]
             if min(Image.open(p).size) >= min_side]
    if not files:
        raise ValueError(f"no bundled photo of at least {min_side} px outside {held_out}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = files[i % len(files)]
        link = dest / f"{i:04d}_{src.name}"
        if not link.exists():
            try:
                os.symlink(src.resolve(), link)
            except OSError:  # e.g. Windows without the right to make links
                write_atomic(link, src.read_bytes())
    return dest


def load_image(path) -> torch.Tensor:
    """Read an image file as a float32 tensor ``(3, H, W)`` with values ``k / 255`` in [0, 1]
    (converted to 8-bit RGB first, see :func:`pil_to_rgb8`)."""
    return pil_to_tensor(read_image(path, "image"))


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """8-bit RGB PIL image -> float32 ``(3, H, W)`` in [0, 1]."""
    arr = np.asarray(pil_to_rgb8(image), dtype=np.float32) / 255.0
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """Float ``(3, H, W)`` (or ``(1, 3, H, W)``) in [0, 1] -> 8-bit RGB PIL image, rounding
    to the nearest level as saving a PNG does (:func:`helpers.network.model.quantize_8bit`)."""
    x = image.detach().cpu()
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {x.shape[0]}")
        x = x[0]
    if x.dim() != 3 or x.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) image tensor, got shape {tuple(image.shape)}")
    arr = torch.round(x.clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(arr, mode="RGB")


def batch_to_uint8(images: torch.Tensor) -> np.ndarray:
    """Float ``(N, 3, H, W)`` in [0, 1] -> uint8 ``(N, H, W, 3)``, rounded as saving a PNG does."""
    return torch.round(images.detach().clamp(0, 1) * 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()


def uint8_to_batch(arrays) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` -> float32 ``(N, 3, H, W)`` in [0, 1]."""
    return torch.from_numpy(np.asarray(arrays).astype(np.float32) / 255).permute(0, 3, 1, 2)


def load_samples(n: int | None = None, size: tuple[int, int] | None = (128, 128)) -> torch.Tensor:
    """The first ``n`` bundled samples of one size as a batch ``(n, 3, H, W)``."""
    if size is None:
        raise ValueError("load_samples needs one size to stack images; use list_samples(None) for all")
    paths = list_samples(size)[:n]
    if not paths:
        raise FileNotFoundError(f"no bundled samples of size {size[0]} x {size[1]} in {SAMPLES_DIR}")
    return torch.stack([load_image(p) for p in paths])


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _read_rgb8(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()  # decode now, so a truncated or corrupt file fails here and not later
        return pil_to_rgb8(im)


def centre_crop(image: Image.Image, size: int) -> Image.Image:
    """The paper's evaluation crop: the central ``size x size`` square. An image whose shorter
    side is below ``size`` is first scaled up (bicubic) so that it fits."""
    image = _fit(image, size)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return image.crop((left, top, left + size, top + size))


def _fit(image: Image.Image, size: int) -> Image.Image:
    short = min(image.size)
    if short >= size:
        return image
    scale = size / short
    return image.resize((max(size, round(image.width * scale)), max(size, round(image.height * scale))),
                        Image.BICUBIC)


class ImageFolder(torch.utils.data.Dataset):
    """Every image below a folder, as float tensors ``(3, size, size)`` in [0, 1].

    * Any mode is converted to 8-bit RGB (grayscale, RGBA, palette, 16-bit; :func:`pil_to_rgb8`).
    * ``train=False``: the paper's ``size x size`` centre crop (:func:`centre_crop`).
      ``train=True``: a random ``size x size`` crop and a random horizontal flip, drawn from
      torch's global generator, so that a seeded run (and a resumed one) repeats exactly.
    * Unreadable files (not images, truncated, corrupt) are skipped when the folder is scanned
      and reported in **one** warning with their count; a file that breaks later (changed on
      disk mid-epoch) is replaced by the next readable one, never a crash.

    Args:
        root: the folder (searched recursively for :data:`IMAGE_EXTENSIONS`).
        size: crop size (the paper's 128).
        train: random crops and flips instead of the centre crop.
        files: optional list of file names relative to ``root`` (a manifest) instead of a scan.
        scan: decode every file once now to find unreadable ones (recommended; about 10 ms each).
    """

    def __init__(self, root, size: int = 128, train: bool = False, files=None, scan: bool = True) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder not found: {self.root}")
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size, self.train = int(size), bool(train)
        if files is None:
            paths = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        else:
            paths = [self.root / f for f in files]
        self.skipped: dict[str, str] = {}
        if scan:
            readable = []
            for p in paths:
                try:
                    _read_rgb8(p)
                    readable.append(p)
                except UNREADABLE as e:
                    self.skipped[str(p)] = f"{type(e).__name__}: {e}"
            paths = readable
            if self.skipped:
                first = next(iter(self.skipped.items()))
                warnings.warn(f"skipped {len(self.skipped)} unreadable file(s) of {len(paths) + len(self.skipped)} "
                              f"in {self.root} (first: {first[0]}: {first[1]})", stacklevel=2)
        if not paths:
            raise ValueError(f"no readable images in {self.root}; expected files ending in "
                             f"{', '.join(IMAGE_EXTENSIONS)}")
        self.paths = paths
        self._warned_late = False

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.get(index)

    def get(self, index: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Item ``index``; a training crop draws from ``generator`` (default: torch's global one)."""
        for k in range(len(self.paths)):
            path = self.paths[(index + k) % len(self.paths)]
            try:
                image = _read_rgb8(path)
                break
            except UNREADABLE as e:
                self.skipped[str(path)] = f"{type(e).__name__}: {e}"
                if not self._warned_late:
                    warnings.warn(f"{path} became unreadable ({e}); using the next image instead", stacklevel=2)
                    self._warned_late = True
        else:
            raise RuntimeError(f"no image in {self.root} can be read any more")
        return pil_to_tensor(self.random_crop(image, generator) if self.train else centre_crop(image, self.size))

    def random_crop(self, image: Image.Image, generator: torch.Generator | None = None) -> Image.Image:
        """A random ``size x size`` crop with a random horizontal flip."""
        image = _fit(image, self.size)
        left = int(torch.randint(0, image.width - self.size + 1, (), generator=generator))
        top = int(torch.randint(0, image.height - self.size + 1, (), generator=generator))
        crop = image.crop((left, top, left + self.size, top + self.size))
        if bool(torch.rand((), generator=generator) < 0.5):
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        return crop
