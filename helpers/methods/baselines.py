"""Baselines the paper compares with (notebooks 07 and 08): LSB-1bit, Rehman et al. 2018 and a
HiNet-style invertible network.

LSB-1bit hides one bit per pixel by replacing the least significant bit of one colour value:
the red channel (channel 0), the same layout as our 1 bpp mode (:mod:`helpers.coding.payload`). A
payload of less than 1 bpp goes to pixels chosen by a seeded random permutation, as a careful
LSB embedder would (sequential embedding is even easier to detect).
"""

from __future__ import annotations

import time

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


# ----------------------------------------------------------------------------- Rehman et al. 2018

import torch  # noqa: E402  (the LSB part above needs only numpy)
from torch import nn  # noqa: E402

from helpers.plumbing.files import save_checkpoint  # noqa: E402
from helpers.plumbing.inference import Network, load_network, model_device  # noqa: E402


def _conv(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU())


class RehmanEncoder(nn.Module):
    """Rehman et al. 2018's encoder, adapted as the paper did to hide a bit plane (1 bpp): a
    *guest* branch (the secret, one channel) and a *host* branch (the cover); the guest features
    are concatenated into the host branch at every level, and the last layer outputs the stego
    image directly (no residual connection, as in the original)."""

    def __init__(self, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        self.guest = nn.ModuleList([_conv(1 if i == 0 else width, width) for i in range(depth)])
        self.host = nn.ModuleList([_conv(3 if i == 0 else 2 * width, width) for i in range(depth)])
        self.out = nn.Conv2d(2 * width, 3, 3, padding=1)

    def forward(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        g, h = secret, cover
        for guest, host in zip(self.guest, self.host):
            g = guest(g)
            h = torch.cat([host(h), g], 1)
        return torch.sigmoid(self.out(h))


class RehmanDecoder(nn.Module):
    """The separate decoder: convolutions from the stego image back to the bit plane (a value in
    [0, 1] per pixel, rounded at 0.5 by the evaluation, as the paper did)."""

    def __init__(self, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        self.body = nn.Sequential(*[_conv(3 if i == 0 else width, width) for i in range(depth)],
                                  nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(stego))


class Rehman(nn.Module):
    """Encoder and decoder together (two separate networks, trained jointly)."""

    def __init__(self, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        self.config = {"width": width, "depth": depth}
        self.encoder, self.decoder = RehmanEncoder(width, depth), RehmanDecoder(width, depth)


def train_rehman(images, steps: int = 1000, batch_size: int = 8, lr: float = 1e-3, beta: float = 1.0,
                 seed: int = 0, device=None, progress: bool = False, time_limit: float | None = None,
                 init: Rehman | None = None) -> Rehman:
    """Train :class:`Rehman` on a dataset of cover crops ``(3, H, W)`` (e.g. a training
    :class:`helpers.data.photos.ImageFolder`): random bit planes, loss ``MSE(cover, stego) + beta *
    MSE(bits, decoded)`` on the 8-bit rounded stego (straight-through), Adam. Stops after ``steps``
    or ``time_limit`` seconds (:func:`helpers.training.train.guarded_step` clips gradients and stops on a
    non-finite loss);
    ``init`` continues training a model."""
    from tqdm.auto import tqdm

    from helpers.training.train import guarded_step, random_batch, round_straight_through

    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = (init if init is not None else Rehman()).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    start = time.perf_counter()
    for step in tqdm(range(steps), desc="rehman", disable=not progress):
        cover = random_batch(images, batch_size, g, device)
        bits = torch.randint(0, 2, (batch_size, 1, *cover.shape[-2:]), generator=g).float().to(device)
        stego = model.encoder(cover, bits)
        decoded = model.decoder(round_straight_through(stego))
        loss = nn.functional.mse_loss(stego, cover) + beta * nn.functional.mse_loss(decoded, bits)
        if guarded_step(model, opt, loss, step, "Rehman", start, time_limit):
            break
    return model.eval()


# ----------------------------------------------------------------------------- HiNet-style

_HAAR = torch.tensor([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=torch.float32) / 2


class Haar(nn.Module):
    """One level of the orthonormal 2-D Haar transform, HiNet's front end, as an invertible module
    (FrEIA's contract: ``forward`` and ``inverse``): ``(B, C, H, W)`` -> ``(B, 4C, H/2, W/2)`` with
    the low-frequency band (LL) first in each group of four. Sides must be even. No parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"the Haar transform needs even sides, got {h} x {w}")
        blocks = nn.functional.pixel_unshuffle(x, 2).reshape(b, c, 4, h // 2, w // 2)
        return torch.einsum("ij,bcjhw->bcihw", _HAAR.to(x), blocks).reshape(b, 4 * c, h // 2, w // 2)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """The image back (the matrix is symmetric and orthonormal: its own inverse)."""
        b, c4, h, w = y.shape
        blocks = torch.einsum("ij,bcjhw->bcihw", _HAAR.to(y), y.reshape(b, c4 // 4, 4, h, w))
        return nn.functional.pixel_shuffle(blocks.reshape(b, c4, h, w), 2)


class HiNetStyle(nn.Module):
    """HiNet (Jing et al. 2021) adapted, as the paper did, to hide 3 bpp of bits: the cover and
    the bit planes pass a Haar transform, coupling blocks of the same kind as the paper's network
    (12 + 12 channels), and the inverse transform. The receiver does **not** get z: extraction
    draws it from a Gaussian, as HiNet does, and rounds the revealed values to bits."""

    def __init__(self, n_blocks: int = 8, clamp: float = 2.0, growth: int = 32) -> None:
        super().__init__()
        from helpers.network.model import StegoINN

        self.config = {"n_blocks": n_blocks, "clamp": clamp, "growth": growth}
        self.inn = StegoINN(n_blocks=n_blocks, channels=12, clamp=clamp, growth=growth, last_init="zero")
        self.haar = Haar()

    def forward(self, cover: torch.Tensor, bits: torch.Tensor):
        stego, z = self.inn(self.haar(cover), self.haar(bits))
        return self.haar.inverse(stego), z

    def reveal(self, stego: torch.Tensor, z: torch.Tensor | None = None, generator=None) -> torch.Tensor:
        """The revealed bit values (not rounded); ``z`` defaults to a standard Gaussian draw."""
        y = self.haar(stego)
        if z is None:
            z = torch.randn(y.shape, generator=generator).to(y)
        return self.haar.inverse(self.inn.inverse(y, z)[1])


def train_hinet(images, steps: int = 1000, batch_size: int = 8, lr: float = 1e-3, lambda_guide: float = 1.0,
                lambda_rec: float = 5.0, lambda_low: float = 1.0, n_blocks: int = 8, seed: int = 0, device=None,
                progress: bool = False, time_limit: float | None = None, init: HiNetStyle | None = None) -> HiNetStyle:
    """Train :class:`HiNetStyle` with HiNet's loss: ``lambda_guide MSE(stego, cover) + lambda_rec
    MSE(revealed with Gaussian z, bits) + lambda_low MSE(LL(stego), LL(cover))`` (HiNet's weights
    1, 5, 1). As in HiNet, the stego image is **not** rounded in training (the paper names that
    a drawback); the evaluation rounds it. Stops after ``steps`` or ``time_limit`` seconds;
    ``init`` continues training a model."""
    from tqdm.auto import tqdm

    from helpers.training.train import guarded_step, random_batch

    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = (init if init is not None else HiNetStyle(n_blocks=n_blocks)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    start = time.perf_counter()
    for step in tqdm(range(steps), desc="hinet", disable=not progress):
        cover = random_batch(images, batch_size, g, device)
        bits = torch.randint(0, 2, cover.shape, generator=g).float().to(device)
        stego, z = model(cover, bits)
        revealed = model.reveal(stego, torch.randn(z.shape, generator=g).to(device))
        low = nn.functional.mse_loss(model.haar(stego)[:, 0::4], model.haar(cover)[:, 0::4])
        loss = (lambda_guide * nn.functional.mse_loss(stego, cover) + lambda_rec * nn.functional.mse_loss(revealed, bits)
                + lambda_low * low)
        if guarded_step(model, opt, loss, step, "HiNet-style", start, time_limit):
            break
    return model.eval()


def save_baseline(model: nn.Module, path) -> None:
    """Save a :class:`Rehman` or :class:`HiNetStyle` (weights and configuration, ``weights_only``), atomically."""
    kind = "rehman" if isinstance(model, Rehman) else "hinet"
    save_checkpoint(path, {"format": f"inn-stego-{kind}", "config": model.config, "model": model.state_dict()})


def network_from_state(state: dict, path) -> Network:
    """The :class:`Rehman` or :class:`HiNetStyle` of a checkpoint written by :func:`save_baseline`
    (read by :func:`helpers.plumbing.inference.load_network`, ``kind="rehman"`` or ``"hinet"``)."""
    model = (Rehman if state["format"] == "inn-stego-rehman" else HiNetStyle)(**state["config"])
    model.load_state_dict(state["model"])
    return Network(model.eval(), state["config"])


# ----------------------------------------------------------------------------- as Methods

from helpers.data.photos import batch_to_uint8, uint8_to_batch  # noqa: E402
from helpers.methods.base import Method  # noqa: E402
from helpers.network.model import quantize_8bit  # noqa: E402


class LSB(Method):
    """LSB-1bit behind the interface of :mod:`helpers.methods.base`: at full capacity every pixel's red LSB,
    in raster order; its framed ``hide``/``reveal`` are exact (and easy to detect: notebook 08)."""

    name, title, bpp = "lsb", "LSB-1bit", 1

    def __init__(self, seed: int | None = 0) -> None:
        self.seed = seed

    def embed(self, covers, bits):
        return np.stack([lsb_hide(c, b, self.seed) for c, b in zip(covers, bits)]), None

    def extract(self, stegos, side=None, generator=None):
        return np.stack([lsb_reveal(s, self.raw_bits(*s.shape[:2]), self.seed) for s in stegos])


class _Network(Method):
    """A baseline network: ``model`` (a module), else the ``checkpoint`` file, else the shipped one
    (:func:`helpers.plumbing.inference.shipped`)."""

    kind = ""

    def __init__(self, model=None, checkpoint=None) -> None:
        self.model = model if model is not None else load_network(checkpoint, self.kind).model

    def _tensors(self, images, bits=None):
        device = model_device(self.model)
        x = uint8_to_batch(images).to(device)
        if bits is None:
            return x
        return x, torch.from_numpy(np.asarray(bits, np.float32).reshape(len(x), -1, *x.shape[-2:])).to(device)


class RehmanMethod(_Network):
    """Rehman et al. 2018 behind the interface of :mod:`helpers.methods.base`: a bit plane at 1 bpp; the
    decoder's values rounded at 0.5."""

    name, title, bpp, kind = "rehman", "Rehman et al. 2018", 1, "rehman"

    @torch.no_grad()
    def embed(self, covers, bits):
        x, planes = self._tensors(covers, bits)
        return batch_to_uint8(quantize_8bit(self.model.encoder(x, planes))), None

    @torch.no_grad()
    def extract(self, stegos, side=None, generator=None):
        return (self.model.decoder(self._tensors(stegos)) >= 0.5).flatten(1).to(torch.uint8).cpu().numpy()


class HiNetMethod(_Network):
    """The HiNet-style network behind the interface of :mod:`helpers.methods.base`: 3 bpp; the receiver
    draws z from a Gaussian (``generator``), as HiNet does, and rounds the values to bits."""

    name, title, bpp, kind = "hinet", "HiNet-style", 3, "hinet"

    @torch.no_grad()
    def embed(self, covers, bits):
        x, planes = self._tensors(covers, bits)
        return batch_to_uint8(self.model(x, planes)[0]), None

    @torch.no_grad()
    def extract(self, stegos, side=None, generator=None):
        revealed = self.model.reveal(self._tensors(stegos), generator=generator)
        return (revealed.clamp(0, 1) >= 0.5).flatten(1).to(torch.uint8).cpu().numpy()
