"""The affine coupling block of the paper, equations (1)-(4).

Taught in notebook 01 (``notebooks/01_coupling_blocks.ipynb``).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

SubnetConstructor = Callable[[int, int], nn.Module]


def soft_clamp(s: torch.Tensor, clamp: float) -> torch.Tensor:
    """HiNet's soft clamp of the log-scale: ``clamp * 2 * (sigmoid(s) - 0.5)``.

    Equal to ``clamp * tanh(s / 2)``: close to ``s`` for small ``s``, never beyond
    ``+-clamp``, so ``exp(soft_clamp(s))`` stays in ``[exp(-clamp), exp(clamp)]``.
    Notebook 01 shows why an unbounded ``exp`` breaks training and inversion.
    """
    return clamp * 2 * (torch.sigmoid(s) - 0.5)


def _check_pair(a: torch.Tensor, b: torch.Tensor, names: tuple[str, str], channels: tuple[int, int]) -> None:
    for t, name, c in zip((a, b), names, channels):
        if t.dim() != 4 or t.shape[1] != c:
            raise ValueError(f"{name} must be a (batch, {c}, height, width) tensor, got shape {tuple(t.shape)}")
    if a.shape[0] != b.shape[0] or a.shape[2:] != b.shape[2:]:
        raise ValueError(f"{names[0]} {tuple(a.shape)} and {names[1]} {tuple(b.shape)} must have the same "
                         "batch size, height and width")


class AffineCouplingBlock(nn.Module):
    """One invertible block, the paper's equations (1)-(4) (RealNVP-style affine coupling).

    Forward (embedding)::

        cover_{i+1}  = cover_i + phi(secret_i)                                       (1)
        secret_{i+1} = secret_i * exp(c(rho(cover_{i+1}))) + eta(cover_{i+1})        (2)

    Inverse (extraction)::

        secret_i = (secret_{i+1} - eta(cover_{i+1})) * exp(-c(rho(cover_{i+1})))     (3)
        cover_i  = cover_{i+1} - phi(secret_i)                                       (4)

    with ``c`` the soft clamp (:func:`soft_clamp`). The block is invertible whatever
    phi, rho and eta compute, because the inverse only ever evaluates them on values it
    already has. Its Jacobian is block-triangular, so
    ``log|det J| = sum(c(rho(cover_{i+1})))`` over the secret branch.

    Args:
        subnet_constructor: ``f(c_in, c_out) -> nn.Module`` that builds phi, rho and eta
            (FrEIA's convention), e.g. ``lambda i, o: DenseBlock(i, o)``.
        cover_channels, secret_channels: channels of the two branches (3 and 3 in the paper).
        clamp: bound of the soft-clamped log-scale (HiNet: 2.0); must be positive.
    """

    def __init__(self, subnet_constructor: SubnetConstructor, cover_channels: int = 3,
                 secret_channels: int = 3, clamp: float = 2.0) -> None:
        super().__init__()
        if not clamp > 0:
            raise ValueError(f"clamp must be positive, got {clamp}")
        self.cover_channels, self.secret_channels, self.clamp = cover_channels, secret_channels, float(clamp)
        self.phi = subnet_constructor(secret_channels, cover_channels)
        self.rho = subnet_constructor(cover_channels, secret_channels)
        self.eta = subnet_constructor(cover_channels, secret_channels)

    def log_scale(self, cover_next: torch.Tensor) -> torch.Tensor:
        """The clamped log-scale ``c(rho(cover_{i+1}))`` of equation (2)."""
        return soft_clamp(self.rho(cover_next), self.clamp)

    def update_cover(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        """Equation (1): ``cover_{i+1}``."""
        _check_pair(cover, secret, ("cover", "secret"), (self.cover_channels, self.secret_channels))
        return cover + self.phi(secret)

    def recover_secret(self, cover_next: torch.Tensor, secret_next: torch.Tensor) -> torch.Tensor:
        """Equation (3): ``secret_i``."""
        _check_pair(cover_next, secret_next, ("cover_next", "secret_next"),
                    (self.cover_channels, self.secret_channels))
        return (secret_next - self.eta(cover_next)) * torch.exp(-self.log_scale(cover_next))

    def forward(self, cover: torch.Tensor, secret: torch.Tensor, return_log_det: bool = False):
        """Equations (1) and (2). Returns ``(cover_next, secret_next)``, plus the per-sample
        ``log|det J|`` (shape ``(batch,)``) when ``return_log_det`` is true."""
        cover_next = self.update_cover(cover, secret)
        s = self.log_scale(cover_next)
        secret_next = secret * torch.exp(s) + self.eta(cover_next)
        if return_log_det:
            return cover_next, secret_next, s.flatten(1).sum(1)
        return cover_next, secret_next

    def inverse(self, cover_next: torch.Tensor, secret_next: torch.Tensor):
        """Equations (3) and (4). Returns ``(cover, secret)``."""
        secret = self.recover_secret(cover_next, secret_next)
        return cover_next - self.phi(secret), secret
