"""The dense block of the paper's Figure 2, used for the subnetworks phi, rho and eta.

Taught in notebook 02 (``notebooks/02_the_network.ipynb``).
"""

from __future__ import annotations

import torch
from torch import nn

LAST_INITS = ("zero", "default")


class DenseBlock(nn.Module):
    """ESRGAN-style dense block (Wang et al. 2018; the paper's ref. [60] and Figure 2).

    ``n_layers`` 3x3 convolutions; layer k sees the block input concatenated with the
    outputs of all earlier layers::

        x_1 = lrelu(conv_1(x))
        x_k = lrelu(conv_k([x, x_1, ..., x_{k-1}]))     k = 2 .. n_layers - 1
        out = conv_n([x, x_1, ..., x_{n-1}])            (no activation on the output)

    Args:
        in_channels, out_channels: channels of the input and of the output.
        growth: channels each hidden layer adds (ESRGAN and HiNet use 32).
        n_layers: number of convolutions (5 in the paper's Figure 2).
        negative_slope: slope of LeakyReLU for negative inputs (ESRGAN: 0.2).
        last_init: how the last convolution starts.
            ``"zero"``: weights and bias set to 0, as HiNet's code does. The block then
            outputs 0 for every input, so a coupling block built from such blocks is the
            identity at step 0 (cover' = cover, secret' = secret). Notebook 09 dissects
            what that does to the paper's objective.
            ``"default"``: PyTorch's default (Kaiming-uniform) initialisation, so the block
            is a random, non-zero function: what invertibility tests need.
    """

    def __init__(self, in_channels: int, out_channels: int, growth: int = 32, n_layers: int = 5,
                 negative_slope: float = 0.2, last_init: str = "zero") -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        if last_init not in LAST_INITS:
            raise ValueError(f"last_init must be one of {LAST_INITS}, got {last_init!r}")
        self.convs = nn.ModuleList()
        channels = in_channels
        for _ in range(n_layers - 1):
            self.convs.append(nn.Conv2d(channels, growth, 3, padding=1))
            channels += growth
        self.last = nn.Conv2d(channels, out_channels, 3, padding=1)
        self.act = nn.LeakyReLU(negative_slope)
        self.last_init = last_init
        if last_init == "zero":
            nn.init.zeros_(self.last.weight)
            nn.init.zeros_(self.last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in self.convs:
            features.append(self.act(conv(torch.cat(features, dim=1))))
        return self.last(torch.cat(features, dim=1))
