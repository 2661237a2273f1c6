"""Images in and out, and the bundled sample photos in ``data/samples/``.

Used from notebook 01 on; the photos and their licences are described in
``data/LICENSES.md`` and ``data/make_samples.py`` cuts them.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where the bundled data lives; set ``INN_STEGO_DATA`` to use another folder.
DATA_DIR = Path(os.environ.get("INN_STEGO_DATA", REPO_ROOT / "data"))
SAMPLES_DIR = DATA_DIR / "samples"


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, numpy's and torch's generators (all notebooks call this once)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device() -> torch.device:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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


def pil_to_rgb8(image: Image.Image) -> Image.Image:
    """Any PIL image -> 8-bit RGB. Grayscale and palette images are expanded, alpha is
    dropped (composited on white), 16-bit and float images are scaled to 8 bits."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if image.mode == "F":
            top = 1.0 if arr.max() <= 1.0 else 255.0
        arr = np.clip(np.round(arr / top * 255), 0, 255).astype(np.uint8)
        image = Image.fromarray(arr, mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def load_image(path) -> torch.Tensor:
    """Read an image file as a float32 tensor ``(3, H, W)`` with values ``k / 255`` in [0, 1]
    (converted to 8-bit RGB first, see :func:`pil_to_rgb8`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as im:
            im.load()
            rgb = pil_to_rgb8(im)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"cannot read {path} as an image ({e}); give a PNG, JPEG or other image file") from None
    return pil_to_tensor(rgb)


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """8-bit RGB PIL image -> float32 ``(3, H, W)`` in [0, 1]."""
    arr = np.asarray(pil_to_rgb8(image), dtype=np.float32) / 255.0
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """Float ``(3, H, W)`` (or ``(1, 3, H, W)``) in [0, 1] -> 8-bit RGB PIL image, rounding
    to the nearest level as saving a PNG does (:func:`helpers.model.quantize_8bit`)."""
    x = image.detach().cpu()
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {x.shape[0]}")
        x = x[0]
    if x.dim() != 3 or x.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) image tensor, got shape {tuple(image.shape)}")
    arr = torch.round(x.clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(arr, mode="RGB")


def load_samples(n: int | None = None, size: tuple[int, int] | None = (128, 128)) -> torch.Tensor:
    """The first ``n`` bundled samples of one size as a batch ``(n, 3, H, W)``."""
    if size is None:
        raise ValueError("load_samples needs one size to stack images; use list_samples(None) for all")
    paths = list_samples(size)[:n]
    if not paths:
        raise FileNotFoundError(f"no bundled samples of size {size[0]} x {size[1]} in {SAMPLES_DIR}")
    return torch.stack([load_image(p) for p in paths])
