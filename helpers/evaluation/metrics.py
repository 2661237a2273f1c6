"""Quality and recovery metrics used throughout the series (first used in notebooks 02 and 03)."""

from __future__ import annotations

import math

import torch


def psnr(reference: torch.Tensor, test: torch.Tensor, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over all values: ``10 log10(peak^2 / MSE)``;
    ``inf`` for identical inputs. Images in [0, 1] use ``peak = 1``."""
    if reference.shape != test.shape:
        raise ValueError(f"shapes differ: {tuple(reference.shape)} vs {tuple(test.shape)}")
    mse = torch.mean((reference.double() - test.double()) ** 2).item()
    return math.inf if mse == 0 else 10 * math.log10(peak ** 2 / mse)


def recovery_accuracy(bits: torch.Tensor, bits_rev: torch.Tensor) -> float:
    """The paper's RA: equal bits / all bits (a fraction in [0, 1])."""
    if bits.shape != bits_rev.shape:
        raise ValueError(f"shapes differ: {tuple(bits.shape)} vs {tuple(bits_rev.shape)}")
    return (bits.to(torch.uint8) == bits_rev.to(torch.uint8)).double().mean().item()


def psnr_per_image(reference: torch.Tensor, test: torch.Tensor, peak: float = 1.0) -> torch.Tensor:
    """:func:`psnr` of each image of a batch ``(B, C, H, W)``; a tensor of ``B`` values (``inf``
    where an image is unchanged)."""
    if reference.shape != test.shape:
        raise ValueError(f"shapes differ: {tuple(reference.shape)} vs {tuple(test.shape)}")
    mse = ((reference.double() - test.double()) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(peak ** 2 / mse)  # log10(x / 0) = inf


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim_per_image(reference: torch.Tensor, test: torch.Tensor, peak: float = 1.0) -> torch.Tensor:
    """Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) of each image of a batch
    ``(B, C, H, W)``: an 11 x 11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, computed
    where the window fits inside the image, averaged over positions and channels. This is
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=peak, channel_axis=...)`` (the test checks it).
    Images smaller than 11 x 11 use a window as large as the image allows (an odd size)."""
    if reference.shape != test.shape:
        raise ValueError(f"shapes differ: {tuple(reference.shape)} vs {tuple(test.shape)}")
    if reference.dim() == 3:
        reference, test = reference[None], test[None]
    x, y = reference.double(), test.double()
    b, c, h, w = x.shape
    size = min(11, h - (1 - h % 2), w - (1 - w % 2))
    win = _gaussian_window(size).to(x.device)[None, None].expand(c, 1, size, size)

    def blur(t):
        return torch.nn.functional.conv2d(t, win, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x ** 2
    var_y = blur(y * y) - mu_y ** 2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)


def ssim(reference: torch.Tensor, test: torch.Tensor, peak: float = 1.0) -> float:
    """:func:`ssim_per_image` of one image ``(C, H, W)`` (or the mean over a batch)."""
    return ssim_per_image(reference, test, peak).mean().item()
