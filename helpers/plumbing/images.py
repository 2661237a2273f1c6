"""Reading and writing the images a user gives and gets: 8-bit RGB, lossless PNG, atomic writes.

Used by every way to hide (key mode, notebook 06; blind mode, notebook 09) and by the command line.
A cover of another mode is converted and the conversion announced; a stego image is only ever
written as PNG (a lossy format would destroy the message), and atomically
(:func:`helpers.plumbing.files.write_atomic`): an existing file is replaced whole or not at all.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from helpers.plumbing.files import write_atomic

MIN_SIDE = 16  # the smallest cover side any method accepts
LOSSY_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".heic", ".heif", ".avif", ".jxl", ".gif")
#: What PIL raises for a file that is not a readable image (not an image, truncated, corrupt).
UNREADABLE = (OSError, UnidentifiedImageError, ValueError, SyntaxError)


class CoverConverted(UserWarning):
    """The cover was converted to 8-bit RGB before hiding (the stego image is RGB)."""


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


def read_image(path, what: str) -> Image.Image:
    """An image file, fully loaded and closed, in its own mode; clear errors for a missing or
    unreadable file (``what`` names it: "cover image", "stego image")."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        with warnings.catch_warnings():  # PIL only warns between its limit and twice it: refuse both
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                return im.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        size = re.search(r"\((\d+) pixels\)", str(e))
        raise ValueError(f"{path} is too large to read safely ({size[1] + ' pixels, ' if size else ''}PIL's limit "
                         f"against decompression bombs is {Image.MAX_IMAGE_PIXELS}); give a smaller image") from None
    except UNREADABLE as e:
        raise ValueError(f"cannot read {path} as an image ({type(e).__name__}); give a PNG, JPEG or other "
                         "image file") from None


def open_cover(cover) -> Image.Image:
    """A cover (PIL image or path) as an 8-bit RGB PIL image. Conversions (grayscale, alpha,
    palette, 16-bit) are announced with a :class:`CoverConverted` warning."""
    if isinstance(cover, Image.Image):
        image, name = cover, "the cover"
    else:
        image, name = read_image(cover, "cover image"), str(cover)
    if image.mode != "RGB":
        what = {"L": "grayscale", "LA": "grayscale with alpha", "RGBA": "RGBA (alpha dropped onto white)",
                "P": "palette", "PA": "palette with alpha", "1": "black-and-white", "CMYK": "CMYK",
                "I": "32-bit integer", "F": "floating point"}.get(image.mode, "16-bit" if "16" in image.mode else image.mode)
        warnings.warn(f"{name} is {what} (mode {image.mode}); it was converted to 8-bit RGB and the stego "
                      "image is RGB", CoverConverted, stacklevel=3)
    return pil_to_rgb8(image)


def open_stego(stego) -> Image.Image:
    """A stego image (PIL image or path) as 8-bit RGB, without a warning: it was written as RGB."""
    return pil_to_rgb8(stego if isinstance(stego, Image.Image) else read_image(stego, "stego image"))


def check_side(height: int, width: int) -> None:
    """Refuse a cover smaller than :data:`MIN_SIDE` pixels a side."""
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"the cover is {width} x {height} pixels; at least {MIN_SIDE} x {MIN_SIDE} is needed")


def save_png(image: Image.Image, path) -> Path:
    """Save an 8-bit RGB PNG atomically. Lossy formats are refused: they would destroy the message."""
    path = Path(path)
    if path.suffix.lower() in LOSSY_EXTENSIONS:
        raise ValueError(f"{path.name}: a {path.suffix} file would be saved lossily and destroy the message; "
                         "the stego image must be a PNG (e.g. stego.png)")
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path.name}: the stego image is written as PNG; give a name ending in .png")
    return write_atomic(path, lambda f: write_png(image, f))


def write_png(image: Image.Image, f) -> None:
    """Write ``image`` as an 8-bit RGB PNG to an open binary file."""
    image.convert("RGB").save(f, format="PNG")
