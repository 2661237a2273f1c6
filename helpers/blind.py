"""Blind mode: the receiver has the stego PNG and the shared network, no key (notebook 09).

In the paper's scheme the receiver needs z, a float tensor as large as the image (the key file of
:mod:`helpers.stego`). Here the same coupling network (:class:`helpers.model.StegoINN`, the
mapping module's values {0, 0.5}) is trained so that extraction works with z fixed to zeros::

    stego, z  = f(cover, secret_map)
    secret_rev = f^-1(round_8bit(stego), 0)          # straight-through rounding, as in training

    Loss = alpha * ||stego - cover||^2 + beta * ||secret_rev - secret_map||^2 + gamma * ||z||^2

The last term drives the z the forward pass produces towards the value the receiver will use, so
the information about the message has to end up in the image. Nothing is exact any more: a few
bits come back wrong, and the payload layer (:mod:`helpers.blind_payload`) adds a Reed-Solomon
code and a checksum so that a message comes back byte-exact or fails loudly.

Unlike the keyed scheme, the zero-initialised network is no trivial optimum here (its z is the
secret map itself, far from 0), so training starts from HiNet's zero init: the identity, PSNR
infinite, and the message entirely in z.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import ecc
from .data import DATA_DIR, pil_to_rgb8, pil_to_tensor, tensor_to_pil
from .mapping import T_MAPPED
from .model import StegoINN, prepare_for_inference, quantize_8bit
from .payload import CapacityError

BLIND_FORMAT = "inn-stego-blind"


@dataclass
class BlindConfig:
    """Settings of a blind-mode network and of its training (stored in its checkpoint)."""

    bpp: int = 1          # raw bits per pixel the network carries (1: channel 0, the layout of helpers.payload)
    n_blocks: int = 8
    clamp: float = 2.0
    growth: int = 32
    alpha: float = 1.0    # image term
    beta: float = 10.0    # message term (the paper's weights for these two)
    gamma: float = 1.0    # z term: forward z towards the receiver's zeros
    lr: float = 1e-4
    batch_size: int = 8
    crop: int = 64        # the network is fully convolutional: trained on 64 x 64, used at any size
    seed: int = 0


def _network(cfg: BlindConfig) -> StegoINN:
    return StegoINN(n_blocks=cfg.n_blocks, clamp=cfg.clamp, growth=cfg.growth, last_init="zero")


def build_blind_model(cfg: BlindConfig) -> StegoINN:
    """The (untrained, zero-initialised) network of a config, seeded with ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    return _network(cfg)


def secret_map_of(bits: torch.Tensor, bpp: int) -> torch.Tensor:
    """Bits ``(B, 3, H, W)`` (channels 1-2 ignored at 1 bpp) -> the network's secret map: the mapping
    module's values {0, 0.5} without the flip (the payload layer whitens the bits, so about half
    are ones and flipping would save nothing: notebook 03)."""
    m = bits.float() / 2
    if bpp == 1:
        m = torch.cat([m[:, :1], torch.zeros_like(m[:, 1:])], 1)
    return m


def reveal_values(model: StegoINN, stego: torch.Tensor) -> torch.Tensor:
    """The secret map the receiver sees: ``f^-1(stego, 0)`` (``stego`` already 8-bit)."""
    return model.inverse(stego, torch.zeros_like(stego))[1]


def values_to_bits(secret_rev: torch.Tensor) -> torch.Tensor:
    """Threshold of Algorithm 2 (t = 0.25, no flip): values -> uint8 bits."""
    return (secret_rev >= T_MAPPED).to(torch.uint8)


def blind_loss(model: StegoINN, cover: torch.Tensor, bits: torch.Tensor, cfg: BlindConfig):
    """One training loss: returns ``(loss, parts)`` with per-image sums averaged over the batch and
    the raw bit error rate of this batch (on the straight-through rounded stego)."""
    from .train import round_straight_through

    secret_map = secret_map_of(bits, cfg.bpp)
    stego, z = model(cover, secret_map)
    secret_rev = reveal_values(model, round_straight_through(stego))
    per_image = lambda t: t.flatten(1).sum(1).mean()  # noqa: E731  (as helpers.train.paper_loss)
    enc, dec, zl = per_image((stego - cover) ** 2), per_image((secret_rev - secret_map) ** 2), per_image(z ** 2)
    loss = cfg.alpha * enc + cfg.beta * dec + cfg.gamma * zl
    c = 1 if cfg.bpp == 1 else 3
    with torch.no_grad():
        ber = (values_to_bits(secret_rev[:, :c]) != bits[:, :c]).float().mean()
        mse = ((quantize_8bit(stego) - cover) ** 2).mean()
        psnr = 10 * torch.log10(1 / mse)  # inf for an unchanged image (the identity at step 0)
    return loss, {"loss": loss.detach(), "enc": enc.detach(), "dec": dec.detach(), "z": zl.detach(),
                  "ber": ber, "psnr": psnr}


def train_blind(images, cfg: BlindConfig | None = None, steps: int = 1000, time_limit: float | None = None,
                device=None, progress: bool = False, model: StegoINN | None = None, log_every: int = 50):
    """Train a blind-mode network on a dataset of training crops (e.g.
    ``ImageFolder(..., size=cfg.crop, train=True)``) for ``steps`` Adam steps or until ``time_limit``
    seconds have passed. Returns ``(model, history)``; ``history`` has one row every ``log_every``
    steps with the loss terms, the batch's bit error rate and PSNR. Gradients are clipped to 10 and a
    non-finite loss stops training with an error."""
    from tqdm.auto import tqdm

    from .train import guarded_step, random_batch

    cfg = cfg or BlindConfig()
    device = torch.device(device or "cpu")
    model = (model if model is not None else build_blind_model(cfg)).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(cfg.seed)
    history, running, start = [], {}, time.perf_counter()
    bar = tqdm(range(steps), desc="blind", disable=not progress)
    for step in bar:
        cover = random_batch(images, cfg.batch_size, g, device)
        bits = torch.randint(0, 2, cover.shape, generator=g, dtype=torch.uint8).to(device)
        loss, parts = blind_loss(model, cover, bits, cfg)
        stop = guarded_step(model, opt, loss, step, "blind", start, time_limit)
        for k, v in parts.items():
            running[k] = running.get(k, 0.0) + float(v)
        if (step + 1) % log_every == 0:
            row = {k: v / log_every for k, v in running.items()}
            row.update(step=step + 1, seconds=time.perf_counter() - start)
            history.append(row)
            running = {}
            bar.set_postfix(psnr=f"{row['psnr']:.1f}", ber=f"{row['ber']:.4f}")
        if stop:
            break
    return model.eval(), history


def save_blind(model: StegoINN, cfg: BlindConfig, path, notes: str = "", extra: dict | None = None) -> None:
    """Save weights and configuration (loadable with ``weights_only=True``)."""
    torch.save({"format": BLIND_FORMAT, "config": asdict(cfg), "model": model.state_dict(),
                "notes": notes, "extra": extra or {}}, path)


def load_blind(path, map_location="cpu"):
    """Load a blind-mode network saved by :func:`save_blind` without executing code. Returns
    ``(model, cfg, state)``; errors name the file and what to do."""
    from .train import load_weights

    state = load_weights(path, BLIND_FORMAT, "blind-mode checkpoint", " (save one with helpers.blind.save_blind)",
                         map_location)
    cfg = BlindConfig(**state["config"])
    model = _network(cfg)
    model.load_state_dict(state["model"])
    return model.eval(), cfg, state


@torch.no_grad()
def raw_bit_error_rate(model: StegoINN, covers: torch.Tensor, bpp: int, seed: int = 0) -> dict:
    """Hide random bits in each cover ``(N, 3, H, W)``, round to 8 bits, reveal with z = 0: the raw
    bit error rate per image and the PSNR (no error correction)."""
    from .metrics import psnr_per_image

    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    bits = torch.randint(0, 2, covers.shape, generator=g, dtype=torch.uint8)
    c = 1 if bpp == 1 else 3
    stego, _ = model(covers.to(device), secret_map_of(bits, bpp).to(device))
    stego8 = quantize_8bit(stego)
    rev = values_to_bits(reveal_values(model, stego8)).cpu()
    ber = (rev[:, :c] != bits[:, :c]).float().flatten(1).mean(1)
    psnr = psnr_per_image(covers, stego8.cpu())
    return {"ber": ber.tolist(), "psnr": psnr.tolist(), "max_ber": float(ber.max()),
            "mean_ber": float(ber.mean()), "mean_psnr": float(psnr.mean())}


# ----------------------------------------------------------------------------- hide / reveal

SHIPPED_BLIND = DATA_DIR / "checkpoints" / "blind.pt"
NSYM_TRIES = (32, 64, 96, 128)  # parity bytes per block that hide tries, in order, until its self-check passes
_CACHE: dict = {}


def load_blind_model(checkpoint=None) -> tuple[StegoINN, BlindConfig]:
    """A blind-mode network ready for inference (default: the shipped ``data/checkpoints/blind.pt``,
    cached) and its config."""
    path = Path(checkpoint) if checkpoint is not None else SHIPPED_BLIND
    key = str(path.resolve())
    if key not in _CACHE:
        model, cfg, _ = load_blind(path)
        _CACHE[key] = (prepare_for_inference(model), cfg)
    return _CACHE[key]


def _raw_bits(height: int, width: int, bpp: int) -> int:
    return (1 if bpp == 1 else 3) * height * width


def blind_capacity(height: int, width: int, bpp: int = 1, nsym: int = NSYM_TRIES[0]) -> int:
    """Net payload (bytes) of a ``height x width`` cover in blind mode: the raw capacity minus the
    header and the Reed-Solomon parity (:func:`helpers.ecc.net_capacity`)."""
    from .stego import _check_side

    _check_side(height, width)
    return ecc.net_capacity(_raw_bits(height, width, bpp) // 8, nsym)


def _plane(bits: np.ndarray, height: int, width: int, bpp: int) -> torch.Tensor:
    plane = torch.zeros(3, height, width, dtype=torch.uint8)
    c = 1 if bpp == 1 else 3
    plane[:c] = torch.from_numpy(bits.reshape(c, height, width))
    return plane


def _reveal_raw(model: StegoINN, stego: torch.Tensor, bpp: int, tile: int) -> np.ndarray:
    from .stego import _inverse_tiled

    values = _inverse_tiled(model, stego, torch.zeros_like(stego), tile)
    c = 1 if bpp == 1 else 3
    return values_to_bits(values[:c].cpu()).numpy().ravel()


def blind_hide(cover, message, model=None, password: str | None = None, nsym: int | None = None,
               filler_seed=None, tile: int = 256) -> tuple[Image.Image, dict]:
    """Hide ``message`` (bytes or text) in ``cover`` (PIL image or path) so that the stego PNG alone
    (with the network and the password, if any) reveals it. Returns ``(stego_image, info)``.

    ``model`` is a ``(network, BlindConfig)`` pair from :func:`load_blind_model` (default: the
    shipped one). Hide reveals its own 8-bit stego image and checks the message comes back; if the
    code cannot correct that image's bit errors it tries more parity (:data:`NSYM_TRIES`) and fails
    with a clear error if none is enough. ``info``: ``nsym``, ``raw_errors`` (bits wrong before
    correction), ``capacity`` (net bytes at that ``nsym``)."""
    from .stego import _forward_tiled, _model_device, open_cover

    if isinstance(message, str):
        message = message.encode("utf-8")
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(f"message must be bytes or str, got {type(message).__name__}")
    message = bytes(message)
    net, cfg = model if model is not None else load_blind_model()
    image = open_cover(cover)
    width, height = image.size
    raw_bits = _raw_bits(height, width, cfg.bpp)
    cap = blind_capacity(height, width, cfg.bpp, nsym or NSYM_TRIES[0])
    if len(message) > cap:
        raise CapacityError(f"the message is {len(message)} bytes but this {width} x {height} cover holds at most "
                            f"{cap} bytes in blind mode; use a larger cover or a shorter message")
    device = _model_device(net)
    cover_t = pil_to_tensor(image).to(device)
    tries = [nsym] if nsym else [n for n in NSYM_TRIES if ecc.coded_length(len(message), n) <= raw_bits // 8]
    for n in tries:
        bits = ecc.encode(message, raw_bits, password, n, filler_seed)
        stego, _ = _forward_tiled(net, cover_t, secret_map_of(_plane(bits, height, width, cfg.bpp)[None], cfg.bpp)[0]
                                  .to(device), tile)
        stego_8bit = quantize_8bit(stego)
        got = _reveal_raw(net, stego_8bit, cfg.bpp, tile)
        try:
            if ecc.decode(got, password)[0] == message:
                return tensor_to_pil(stego_8bit), {"nsym": n, "raw_errors": int((got != bits).sum()),
                                                   "capacity": blind_capacity(height, width, cfg.bpp, n)}
        except ecc.BlindRevealError:
            pass
    raise ValueError(f"blind mode cannot carry this message exactly in this cover (too many bit errors even "
                     f"with {tries[-1] if tries else nsym} parity bytes per block); use a shorter message or "
                     "another cover, or key mode")


def blind_reveal(stego, model=None, password: str | None = None, tile: int = 256, return_info: bool = False):
    """The message hidden in ``stego`` (PIL image or path) by :func:`blind_hide`: the exact bytes, or
    :class:`helpers.ecc.BlindRevealError` (wrong password, no message, too many errors)."""
    from .stego import _model_device, _read_image

    net, cfg = model if model is not None else load_blind_model()
    image = stego if isinstance(stego, Image.Image) else _read_image(stego, "stego image")
    image = pil_to_rgb8(image)
    x = pil_to_tensor(image).to(_model_device(net))
    message, info = ecc.decode(_reveal_raw(net, x, cfg.bpp, tile), password)
    return (message, info) if return_info else message
