"""The paper's invertible network: N affine coupling blocks built from dense blocks.

Taught in notebook 02 (``notebooks/02_the_network.ipynb``).
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.network.coupling import AffineCouplingBlock
from helpers.network.dense import DenseBlock


class StegoINN(nn.Module):
    """N coupling blocks (:class:`~helpers.network.coupling.AffineCouplingBlock`) in a chain
    (the paper's Figure 1; N = 8 in its experiments).

    ``forward(cover, secret_map) -> (stego, z)``: block 1 takes ``(cover, secret_map)``,
    each block feeds the next, the last one gives the stego image and the key ``z``.
    ``inverse(stego, z) -> (cover_rev, secret_rev)`` runs the blocks' inverses in reverse
    order. Every layer is a 3x3 convolution, so any height and width work.

    Images are float tensors of shape ``(batch, channels, H, W)`` with values in [0, 1];
    ``secret_map`` has the same shape (the output of the mapping module, notebook 03).

    Args:
        n_blocks: number of coupling blocks N (paper: 8).
        channels: channels of the cover and of the secret map (3: RGB, 3 bpp).
        clamp: soft clamp of each block's log-scale (HiNet: 2.0).
        growth, n_layers, negative_slope: passed to each :class:`~helpers.network.dense.DenseBlock`.
        last_init: ``"zero"`` (HiNet's choice: the network starts as the identity) or
            ``"default"`` (random non-zero weights); see :class:`~helpers.network.dense.DenseBlock`.
        subnet_constructor: ``f(c_in, c_out) -> nn.Module`` for phi, rho and eta (FrEIA's
            convention); default: the paper's :class:`~helpers.network.dense.DenseBlock` with the
            arguments above (which are then all the configuration a checkpoint needs).
    """

    def __init__(self, n_blocks: int = 8, channels: int = 3, clamp: float = 2.0, growth: int = 32,
                 n_layers: int = 5, negative_slope: float = 0.2, last_init: str = "zero",
                 subnet_constructor=None) -> None:
        super().__init__()
        if n_blocks < 1:
            raise ValueError(f"n_blocks must be at least 1, got {n_blocks}")
        self.config = dict(n_blocks=n_blocks, channels=channels, clamp=clamp, growth=growth,
                           n_layers=n_layers, negative_slope=negative_slope, last_init=last_init)

        def dense(c_in: int, c_out: int) -> nn.Module:
            return DenseBlock(c_in, c_out, growth=growth, n_layers=n_layers,
                              negative_slope=negative_slope, last_init=last_init)

        subnet = subnet_constructor or dense

        self.blocks = nn.ModuleList(
            AffineCouplingBlock(subnet, channels, channels, clamp) for _ in range(n_blocks))

    def forward(self, cover: torch.Tensor, secret_map: torch.Tensor, return_log_det: bool = False):
        """Embed: ``(cover, secret_map) -> (stego, z)`` (plus ``log|det J|`` per sample
        when ``return_log_det``; the log-determinants of the blocks add up)."""
        x, y = cover, secret_map
        log_det = torch.zeros(cover.shape[0], dtype=cover.dtype, device=cover.device)
        for block in self.blocks:
            x, y, ld = block(x, y, return_log_det=True)
            log_det = log_det + ld
        return (x, y, log_det) if return_log_det else (x, y)

    def inverse(self, stego: torch.Tensor, z: torch.Tensor):
        """Extract: ``(stego, z) -> (cover_rev, secret_rev)``, blocks in reverse order."""
        x, y = stego, z
        for block in reversed(self.blocks):
            x, y = block.inverse(x, y)
        return x, y

    def embed_stego(self, cover: torch.Tensor, secret_map: torch.Tensor) -> torch.Tensor:
        """``forward(cover, secret_map)[0]`` without the last block's rho and eta, which shape only
        ``z`` (2 of the 3N subnetworks; blind mode keeps no ``z``)."""
        x, y = cover, secret_map
        for block in self.blocks[:-1]:
            x, y = block(x, y)
        return self.blocks[-1].update_cover(x, y)

    def extract_secret(self, stego: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``inverse(stego, z)[1]`` without the first block's phi, which gives only ``cover_rev``."""
        x, y = stego, z
        for block in self.blocks[:0:-1]:
            x, y = block.inverse(x, y)
        return self.blocks[0].recover_secret(x, y)

    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def quantize_8bit(image: torch.Tensor) -> torch.Tensor:
    """What saving as an 8-bit PNG does to a [0, 1] image: clip to [0, 1], then round to
    the nearest of the 256 levels ``k / 255``. The error per pixel is at most 1/510 inside
    [0, 1]. (Notebook 02 shows what this does to the extracted secret.)"""
    return torch.round(image.clamp(0, 1) * 255) / 255
