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
