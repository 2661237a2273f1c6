"""Figures shared by the notebooks: image grids, residuals (notebooks 01-02 on), the architecture
diagram (notebook 02)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


def _to_hwc(image):
    x = image.detach().cpu() if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    if x.dim() == 4:
        x = x[0]
    if x.dim() == 3 and x.shape[0] in (1, 3):
        x = x.permute(1, 2, 0)
    return x.clamp(0, 1).numpy().squeeze()


def residual(a: torch.Tensor, b: torch.Tensor, gain: float = 40.0) -> torch.Tensor:
    """``|a - b| * gain`` clipped to [0, 1]: the paper's magnified residual (x40, x200)."""
    return ((a - b).abs() * gain).clamp(0, 1)


def show_image(ax, image, title: str | None = None) -> None:
    """One image (tensor ``(3, H, W)`` or ``(H, W)`` in [0, 1]) on ``ax``, without axes, pixels as
    they are (no smoothing); grayscale for one channel."""
    arr = _to_hwc(image)
    ax.imshow(arr, cmap="gray" if arr.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)


def show_images(images, titles=None, ncols: int | None = None, size: float = 2.6):
    """Show images (tensors ``(3, H, W)`` in [0, 1]) side by side; returns the figure."""
    n = len(images)
    ncols = ncols or n
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, img in enumerate(images):
        show_image(axes.flat[k], img, titles[k] if titles else None)
    fig.tight_layout()
    return fig


def _box(ax, x, y, w, h, text, color):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02", fc=color, ec="black", lw=1))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)


def _arrow(ax, start, end, style="-|>"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10, lw=1, color="black"))


def plot_architecture(n_blocks: int = 8, show_blocks: int = 3):
    """The paper's Figure 1 as a diagram: cover and secret_map enter ``n_blocks`` coupling
    blocks (eqs. 1-2) that give stego and z; the inverse runs right to left.
    The first block is drawn open, with phi, rho and eta. Returns the figure."""
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 3.6)
    ax.axis("off")
    # the open block 1
    ax.add_patch(FancyBboxPatch((1.4, 0.3), 3.2, 3.0, boxstyle="round,pad=0.02", fc="#f4f4f4", ec="gray", ls="--"))
    ax.text(3.0, 3.42, "coupling block 1 (eqs. 1-2)", ha="center", fontsize=9)
    ax.text(0.1, 2.5, "cover", fontsize=10)
    ax.text(0.1, 0.9, "secret_map", fontsize=10)
    _arrow(ax, (0.9, 2.55), (2.6, 2.55))
    ax.add_patch(plt.Circle((2.8, 2.55), 0.15, fc="white", ec="black"))
    ax.text(2.8, 2.55, "+", ha="center", va="center")
    _arrow(ax, (1.0, 0.95), (3.55, 0.95))
    _box(ax, 1.6, 1.55, 0.8, 0.5, "phi", "#cfe2f3")
    _arrow(ax, (1.9, 0.95), (1.9, 1.55))
    _arrow(ax, (2.4, 1.8), (2.75, 2.4))
    _box(ax, 3.2, 1.55, 0.6, 0.5, "rho", "#f9cb9c")
    _box(ax, 3.85, 1.55, 0.6, 0.5, "eta", "#f9cb9c")
    _arrow(ax, (2.95, 2.55), (4.9, 2.55))
    _arrow(ax, (3.5, 2.55), (3.5, 2.05))
    _arrow(ax, (4.15, 2.55), (4.15, 2.05))
    ax.add_patch(plt.Circle((3.7, 0.95), 0.15, fc="white", ec="black"))
    ax.text(3.7, 0.95, "x", ha="center", va="center", fontsize=8)
    ax.add_patch(plt.Circle((4.15, 0.95), 0.15, fc="white", ec="black"))
    ax.text(4.15, 0.95, "+", ha="center", va="center")
    _arrow(ax, (3.5, 1.55), (3.65, 1.1))
    _arrow(ax, (4.15, 1.55), (4.15, 1.1))
    _arrow(ax, (3.85, 0.95), (4.0, 0.95))
    _arrow(ax, (4.3, 0.95), (4.9, 0.95))
    ax.text(3.55, 1.25, "exp(c(.))", fontsize=7)
    # the remaining blocks, closed
    x = 5.0
    drawn = min(n_blocks - 1, show_blocks - 1)
    for k in range(drawn):
        label = f"block {k + 2}" if (k < drawn - 1 or drawn == n_blocks - 1) else f"block {n_blocks}"
        if k == drawn - 1 and drawn < n_blocks - 1:
            ax.text(x - 0.05, 1.75, "...", fontsize=14)
            x += 0.4
        _box(ax, x, 0.6, 1.0, 2.3, label, "#d9ead3")
        _arrow(ax, (x + 1.0, 2.55), (x + 1.4, 2.55))
        _arrow(ax, (x + 1.0, 0.95), (x + 1.4, 0.95))
        x += 1.4
    ax.text(x + 0.05, 2.5, "stego", fontsize=10)
    ax.text(x + 0.05, 0.9, "z (key file)", fontsize=10)
    ax.text(5.0, 0.05, f"N = {n_blocks} blocks; inverse (eqs. 3-4): the same blocks right to left, "
            "from (stego, z) to (cover_rev, secret_rev)", fontsize=8)
    fig.tight_layout()
    return fig
