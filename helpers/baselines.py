"""Baselines the paper compares with (notebook 07). For now: LSB replacement.

LSB-1bit hides one bit per pixel by replacing the least significant bit of one colour value:
the red channel (channel 0), the same layout as our 1 bpp mode (:mod:`helpers.payload`). A
payload of less than 1 bpp goes to pixels chosen by a seeded random permutation, as a careful
LSB embedder would (sequential embedding is even easier to detect).
"""

from __future__ import annotations

import numpy as np


def _as_uint8(cover) -> np.ndarray:
    arr = np.asarray(cover)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"expected an 8-bit RGB array (H, W, 3), got {arr.dtype} {arr.shape}")
    return arr


def lsb_positions(height: int, width: int, n_bits: int, seed: int | None = 0) -> np.ndarray:
    """Flat pixel indices that carry ``n_bits`` bits: all pixels in raster order at full
    capacity or when ``seed`` is None, else the first ``n_bits`` of a seeded permutation."""
    total = height * width
    if not 0 <= n_bits <= total:
        raise ValueError(f"{n_bits} bits do not fit {height} x {width} pixels at 1 bpp ({total} bits)")
    if seed is None or n_bits == total:
        return np.arange(n_bits)
    return np.random.default_rng(seed).permutation(total)[:n_bits]


def lsb_hide(cover, bits, seed: int | None = 0) -> np.ndarray:
    """LSB replacement at up to 1 bpp: returns a new uint8 ``(H, W, 3)`` array whose red values
    at :func:`lsb_positions` have their LSB replaced by ``bits``."""
    arr = _as_uint8(cover)
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    h, w, _ = arr.shape
    pos = lsb_positions(h, w, bits.size, seed)
    stego = arr.copy()
    red = stego[..., 0].reshape(-1)  # a view into stego
    red[pos] = (red[pos] & 0xFE) | bits
    return stego


def lsb_reveal(stego, n_bits: int, seed: int | None = 0) -> np.ndarray:
    """The ``n_bits`` bits :func:`lsb_hide` embedded (the same ``seed``)."""
    arr = _as_uint8(stego)
    h, w, _ = arr.shape
    return arr[..., 0].reshape(-1)[lsb_positions(h, w, n_bits, seed)] & 1
