"""Blind mode: the receiver has the stego PNG and the shared network, no key (notebook 09).

In the paper's scheme the receiver needs z, a float tensor as large as the image (the key file of
:mod:`helpers.methods.key_mode`). Here the same coupling network (:class:`helpers.network.model.StegoINN`, the
mapping module's values {0, 0.5}) is trained so that extraction works with z fixed to zeros::

    stego, z  = f(cover, secret_map)
    secret_rev = f^-1(round_8bit(stego), 0)          # straight-through rounding, as in training

    Loss = alpha * ||stego - cover||^2 + beta * ||secret_rev - secret_map||^2 + gamma * ||z||^2

The last term drives the z the forward pass produces towards the value the receiver will use, so
the information about the message has to end up in the image. Nothing is exact any more: a few
bits come back wrong, and the payload layer (:mod:`helpers.coding.blind_code`) adds a Reed-Solomon
code and a checksum so that a message comes back byte-exact or fails loudly.

Unlike the keyed scheme, the zero-initialised network is no trivial optimum here (its z is the
secret map itself, far from 0), so training starts from HiNet's zero init: the identity, PSNR
infinite, and the message entirely in z.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image

from helpers.coding import blind_code
from helpers.data.photos import batch_to_uint8, pil_to_tensor, tensor_to_pil, uint8_to_batch
from helpers.plumbing.files import save_checkpoint
from helpers.coding.mapping import T_MAPPED
from helpers.plumbing.images import check_side, open_cover, open_stego
from helpers.plumbing.inference import Network, input_layout, load_network, model_device
from helpers.methods.base import Hidden, Method
from helpers.network.model import StegoINN, quantize_8bit
from helpers.coding.payload import CapacityError, as_message, capacity_bits, capacity_bytes

BLIND_FORMAT = "inn-stego-blind"


@dataclass
class BlindConfig:
    """Settings of a blind-mode network and of its training (stored in its checkpoint)."""

    bpp: int = 1          # raw bits per pixel the network carries (1: channel 0, the layout of helpers.coding.payload)
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
    return model.extract_secret(stego, torch.zeros_like(stego))


def values_to_bits(secret_rev: torch.Tensor) -> torch.Tensor:
    """Threshold of Algorithm 2 (t = 0.25, no flip): values -> uint8 bits."""
    return (secret_rev >= T_MAPPED).to(torch.uint8)


def blind_loss(model: StegoINN, cover: torch.Tensor, bits: torch.Tensor, cfg: BlindConfig):
    """One training loss: returns ``(loss, parts)`` with per-image sums averaged over the batch and
    the raw bit error rate of this batch (on the straight-through rounded stego)."""
    from helpers.training.train import round_straight_through

    secret_map = secret_map_of(bits, cfg.bpp)
    stego, z = model(cover, secret_map)
    secret_rev = reveal_values(model, round_straight_through(stego))
    per_image = lambda t: t.flatten(1).sum(1).mean()  # noqa: E731  (as helpers.training.train.paper_loss)
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
                device=None, progress: bool = False, model: StegoINN | None = None, log_every: int = 50,
                on_log=None):
    """Train a blind-mode network on a dataset of training crops (e.g.
    ``ImageFolder(..., size=cfg.crop, train=True)``) for ``steps`` Adam steps or until ``time_limit``
    seconds have passed. Returns ``(model, history)``; ``history`` has one row every ``log_every``
    steps with the loss terms, the batch's bit error rate and PSNR; ``on_log(model, row)``, when given,
    is called with each row (e.g. to save a checkpoint during a long CPU run). Gradients are clipped to
    10 and a non-finite loss stops training with an error."""
    from tqdm.auto import tqdm

    from helpers.training.train import guarded_step, random_batch

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
            if on_log is not None:
                on_log(model, row)
        if stop:
            break
    return model.eval(), history


def save_blind(model: StegoINN, cfg: BlindConfig, path, notes: str = "", extra: dict | None = None) -> None:
    """Save weights and configuration (atomically; loadable with ``weights_only=True``)."""
    save_checkpoint(path, {"format": BLIND_FORMAT, "config": asdict(cfg), "model": model.state_dict(),
                           "notes": notes, "extra": extra or {}})


def network_from_state(state: dict, path) -> Network:
    """The network and :class:`BlindConfig` of a checkpoint written by :func:`save_blind` (read by
    :func:`helpers.plumbing.inference.load_network`, ``kind="blind"``)."""
    cfg = BlindConfig(**state["config"])
    model = _network(cfg)
    model.load_state_dict(state["model"])
    return Network(model.eval(), cfg)


def embed_and_read(model: StegoINN, cover: torch.Tensor, bpp: int, bits: np.ndarray | None = None,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """One cover ``(3, H, W)`` with ``bits`` (default: random, seeded) in every cell, the layout
    :func:`blind_hide` uses at full capacity, rounded to 8 bits and read back with z = 0. Returns
    ``(bits, values, stego)``: the receiver's values before the threshold (their bits are
    ``values >= 0.25``; the distance from 0.25 says how sure each is; notebook 09)."""
    cover = cover.to(next(model.parameters()).device)
    cell_list = cells(*cover.shape[-2:])
    if bits is None:
        bits = np.random.default_rng(seed).integers(0, 2, _cell_bits(cell_list, bpp), dtype=np.uint8)
    stego = _embed(model, cover, cell_list, bits, bpp)
    return bits, np.concatenate(_extract(model, stego, cell_list, bpp)), stego


def raw_bit_error_rate(model: StegoINN, covers: torch.Tensor, bpp: int, seed: int = 0) -> dict:
    """Random bits in every cell of each cover ``(N, 3, H, W)`` (:func:`embed_and_read`): the raw
    bit error rate per image (before error correction) and the PSNR."""
    from helpers.evaluation.metrics import psnr

    rng = np.random.default_rng(seed)
    ber, psnrs = [], []
    for cover in covers:  # the bits drawn from one generator in turn: the figures of data/checkpoints/README.md
        bits = rng.integers(0, 2, _cell_bits(cells(*cover.shape[-2:]), bpp), dtype=np.uint8)
        bits, values, stego = embed_and_read(model, cover, bpp, bits)
        ber.append(float(np.mean(_bits(values) != bits)))
        psnrs.append(float(psnr(cover.cpu(), stego.cpu())))
    return {"ber": ber, "psnr": psnrs, "max_ber": max(ber), "mean_ber": float(np.mean(ber)),
            "mean_psnr": float(np.mean(psnrs))}


# ----------------------------------------------------------------------------- hide / reveal

NSYM_TRIES = (32, 48, 64, 96, 128)  # parity bytes per block that hide tries, in order, until its self-check passes
NONCE_TRIES = 3  # whitenings hide tries at the most parity the message fits (helpers.coding.blind_code: the nonce)
SKIP_BELOW = 0.25  # after a failed check, hide skips a parity whose chance to decode (helpers.coding.blind_code.decode_chance) is lower
PILOT_CELLS = 4  # hide's first attempt measures the error rate of its first quarter of cells (at least this many) before the rest
READ_AHEAD = 8  # cells the receiver reads (network calls) at least at once while it looks for the footprint

def blind_capacity(height: int, width: int, bpp: int = 1, nsym: int = NSYM_TRIES[0]) -> int:
    """Net payload (bytes) of a ``height x width`` cover in blind mode: the raw capacity minus the
    header and the Reed-Solomon parity (:func:`helpers.coding.blind_code.net_capacity`)."""
    check_side(height, width)
    return blind_code.net_capacity(capacity_bytes(height, width, bpp), nsym)


# A message lives in as few cells as it needs: the image is cut into cells of about CELL x CELL
# pixels (the last row and column of cells take the remainder, so cells are 32-63 pixels a side),
# the password orders them, and hide uses the first k/16 of them (k = 1..16, the smallest k that
# holds the coded message). The network runs on each cell on its own (it is fully convolutional
# and was trained on 64 x 64 crops); pixels outside the used cells stay exactly the cover's. A
# short message changes a small part of the image, so PSNR rises as the payload falls (notebook 09,
# Part 3). The receiver tries the footprints from the smallest up until a header decodes.
CELL = 32
FOOTPRINT_STEPS = 16
_CELL_PIXELS_PER_BATCH = 256 * 256  # memory stays flat on large images


def _edges(side: int) -> list[int]:
    n = max(1, side // CELL)
    return [i * CELL for i in range(n)] + [side]


def cells(height: int, width: int, password: str | None = None) -> list[tuple[int, int, int, int]]:
    """The cells ``(top, left, height, width)`` of a cover in the order the password gives them."""
    ys, xs = _edges(height), _edges(width)
    grid = [(ys[i], xs[j], ys[i + 1] - ys[i], xs[j + 1] - xs[j]) for i in range(len(ys) - 1) for j in range(len(xs) - 1)]
    return [grid[i] for i in blind_code.permutation(len(grid), password, b"cells")]


def footprints(n_cells: int) -> list[int]:
    """How many cells (the first of the password's order) a message may use: k/16 of them, k = 1..16."""
    return sorted({-(-n_cells * k // FOOTPRINT_STEPS) for k in range(1, FOOTPRINT_STEPS + 1)})


def _cell_bits(cell_list, bpp: int) -> int:
    return sum(capacity_bits(h, w, bpp) for _, _, h, w in cell_list)


def _batches(cell_list):
    """Cells grouped by shape, in batches of at most about 65,536 pixels (network calls)."""
    groups: dict = {}
    for i, cell in enumerate(cell_list):
        groups.setdefault(cell[2:], []).append(i)
    for (h, w), idx in groups.items():
        per = max(1, _CELL_PIXELS_PER_BATCH // (h * w))
        for k in range(0, len(idx), per):
            yield h, w, idx[k:k + per]


def _crops(image: torch.Tensor, cell_list, idx) -> torch.Tensor:
    """The cells ``idx`` of ``image`` ``(3, H, W)`` (all of one shape) as a batch."""
    return torch.stack([image[:, t:t + h, l:l + w] for t, l, h, w in (cell_list[i] for i in idx)])


@torch.inference_mode()
def _embed(net: StegoINN, cover: torch.Tensor, cell_list, bits: np.ndarray, bpp: int) -> torch.Tensor:
    """The 8-bit stego image: ``bits`` (in cell order, each cell's channel-major raster) hidden in
    the cells of ``cover`` ``(3, H, W)``; every other pixel is the cover's."""
    fmt = input_layout(net)
    c = 1 if bpp == 1 else 3
    offsets = np.cumsum([0] + [capacity_bits(h, w, bpp) for _, _, h, w in cell_list])
    stego = cover.clone()
    for h, w, idx in _batches(cell_list):
        crops = _crops(cover, cell_list, idx)
        planes = torch.zeros(len(idx), 3, h, w, dtype=torch.uint8)
        for k, i in enumerate(idx):
            planes[k, :c] = torch.from_numpy(bits[offsets[i]:offsets[i + 1]].reshape(c, h, w))
        out = net.embed_stego(fmt(crops), fmt(secret_map_of(planes, bpp).to(cover.device)))
        for k, i in enumerate(idx):
            t, l = cell_list[i][:2]
            stego[:, t:t + h, l:l + w] = out[k]
    return quantize_8bit(stego)


def _bits(values: np.ndarray) -> np.ndarray:
    """The receiver's values -> bits (threshold t = 0.25, as :func:`values_to_bits`)."""
    return (values >= T_MAPPED).astype(np.uint8)


def _confidence(values: np.ndarray) -> np.ndarray:
    """How sure each bit is: the distance of its value from the threshold (0: a coin toss)."""
    return np.abs(values - T_MAPPED)


@torch.inference_mode()
def _extract(net: StegoINN, stego: torch.Tensor, cell_list, bpp: int) -> list[np.ndarray]:
    """The values (before the threshold) the receiver reads from each of these cells: their bits
    are :func:`_bits`, how sure each is :func:`_confidence`."""
    fmt = input_layout(net)
    c = 1 if bpp == 1 else 3
    out: list = [None] * len(cell_list)
    for h, w, idx in _batches(cell_list):
        crops = _crops(stego, cell_list, idx)
        values = net.extract_secret(fmt(crops), fmt(torch.zeros_like(crops)))[:, :c].float().cpu().numpy()
        for k, i in enumerate(idx):
            out[i] = values[k].ravel()
    return out


def _decode(net: StegoINN, stego: torch.Tensor, cell_list, bpp: int, password: str | None,
            up_to: int | None = None, read: list | None = None) -> tuple[bytes, dict]:
    """What a receiver does: for each footprint from the smallest, try to decode the bits of its
    cells (with their confidences: :func:`helpers.coding.blind_code.decode` uses the least certain as erasures);
    the first footprint whose header decodes gives the message (or its error). Cells are read
    (network calls) :data:`READ_AHEAD` or more at a time, so at most that many more than the message
    uses; ``read``: values of the first cells, known already."""
    sizes = [n for n in footprints(len(cell_list)) if up_to is None or n <= up_to]
    read = list(read or [])
    for n in sizes:
        if n > len(read):
            end = min(max(n, len(read) + READ_AHEAD), sizes[-1])
            read += _extract(net, stego, cell_list[len(read):end], bpp)
        try:
            values = np.concatenate(read[:n])
            message, info = blind_code.decode(_bits(values), password, confidence=_confidence(values))
        except blind_code.NoHeaderError:
            continue
        return message, dict(info, cells=n)
    raise blind_code.NoHeaderError(blind_code.NO_MESSAGE)


def _attempts(fits: list[int], nsym: int | None, nonces: int) -> list[tuple[int, int]]:
    """``(nsym, nonce)`` pairs hide tries, in order: each parity that fits (smallest first) with
    nonce 0, then ``nonces - 1`` further nonces at the largest: a second whitening costs no
    capacity, so a message that already takes all the parity it can still gets more chances."""
    sizes = [nsym] if nsym else fits
    return [(n, 0) for n in sizes] + [(sizes[-1], k) for k in range(1, nonces)] if sizes else []


def byte_error_rate(sent: np.ndarray, received: np.ndarray) -> float:
    """The share of coded bytes read wrong when these whitened bits (as good as random) came back as
    ``received``: a byte's 8 bits lie in different places (:func:`helpers.coding.blind_code.permutation`),
    so it is ``1 - (1 - bit error rate)^8``."""
    return 1 - (1 - float(np.mean(sent != received))) ** 8


def hide_tensor(net: StegoINN, cfg: BlindConfig, cover: torch.Tensor, message: bytes, password, nsym, filler_seed,
                all_cells: bool = False, nonces: int | None = None):
    """What :func:`blind_hide` does to a cover tensor ``(3, H, W)`` (values in [0, 1], on the
    network's device), without the file handling. Hide with the fewest cells that hold the coded
    message (every cell with ``all_cells``), check as the receiver would, and while the check fails
    add parity (:data:`NSYM_TRIES`, skipping those that would decode with a chance below
    :data:`SKIP_BELOW` at the byte error rate the failed check measured: a cover's error rate
    changes little with the parity), then try other nonces (:data:`NONCE_TRIES`, or ``nonces``).
    A first attempt on more than 2 x :data:`PILOT_CELLS` cells embeds and reads its first quarter
    of cells (at least :data:`PILOT_CELLS`) alone (the network runs on each cell on its own, so this
    costs nothing when the attempt goes on): if their byte error rate (:func:`byte_error_rate`)
    gives its parity less than :data:`SKIP_BELOW`, hide moves on before paying for the rest
    (``data/checkpoints/README.md`` measures it). Returns ``(stego_8bit, info, ok)``: the last
    attempt's image and whether its message comes back exact."""
    height, width = cover.shape[-2:]
    order = cells(height, width, password)
    sizes = footprints(len(order))
    if all_cells:
        sizes = sizes[-1:]
    room = _cell_bits(order[:sizes[-1]], cfg.bpp) // 8  # bytes in the largest footprint allowed
    fits = [n for n in NSYM_TRIES if blind_code.coded_length(len(message), n) <= room]
    stego, info, rate, pilot = None, {}, 0.0, None

    def footprint(n_sym: int) -> int | None:  # cells a message coded with n_sym parity bytes uses
        need = blind_code.coded_length(len(message), n_sym)
        return next((n for n in sizes if _cell_bits(order[:n], cfg.bpp) // 8 >= need), None)

    attempts = _attempts(fits, nsym, nonces or NONCE_TRIES)
    for n_sym, nonce in attempts:
        last = n_sym == attempts[-1][0]
        if rate and not last and blind_code.decode_chance(rate, len(message), n_sym) < SKIP_BELOW:
            continue  # at the byte error rate measured last (pilot or check), this parity would fail too
        need, n_cells = blind_code.coded_length(len(message), n_sym), footprint(n_sym)
        if n_cells is None:
            break
        used = order[:n_cells]
        bits = blind_code.encode(message, _cell_bits(used, cfg.bpp), password, n_sym, filler_seed, nonce=nonce)
        k = max(PILOT_CELLS, n_cells // 4) if pilot is None and message and not last and n_cells > 2 * PILOT_CELLS else 0
        split, stego, read = _cell_bits(used[:k], cfg.bpp), cover, []
        if k:  # the pilot: these cells first, alone
            stego = _embed(net, cover, used[:k], bits[:split], cfg.bpp)
            read = _extract(net, stego, used[:k], cfg.bpp)
            rate = pilot = byte_error_rate(bits[:split], _bits(np.concatenate(read)))
            if blind_code.decode_chance(rate, len(message), n_sym) < SKIP_BELOW:
                continue
        stego = _embed(net, stego, used[k:], bits[split:], cfg.bpp)
        read += _extract(net, stego, used[k:], cfg.bpp)
        received = _bits(np.concatenate(read))
        errors = int((received != bits).sum())
        info = {"nsym": n_sym, "nonce": nonce, "raw_errors": errors, "raw_bits": int(bits.size),
                "raw_ra": 1 - errors / bits.size, "cells": len(used), "of_cells": len(order),
                "footprint": _cell_bits(used, 1) / (height * width),
                "capacity": blind_capacity(height, width, cfg.bpp, n_sym), "pilot_rate": pilot}
        try:
            if _decode(net, stego, order, cfg.bpp, password, up_to=len(used), read=read)[0] == message:
                return stego, info, True
        except blind_code.BlindRevealError:
            pass
        if message:  # the share of the message's coded bytes that came back wrong
            rate = sum(blind_code.block_errors(bits, received, password, len(message), n_sym)[1:]) / (need - blind_code.HEADER_BYTES)
    return stego, info, False


def blind_hide(cover, message, model=None, password: str | None = None, nsym: int | None = None,
               filler_seed=None, all_cells: bool = False) -> tuple[Image.Image, dict]:
    """Hide ``message`` (bytes or text) in ``cover`` (PIL image or path) so that the stego PNG alone
    (with the network and the password, if any) reveals it. Returns ``(stego_image, info)``.

    ``model`` is a ``(network, BlindConfig)`` pair (:func:`helpers.plumbing.inference.load_network`
    with ``kind="blind"``; default: the shipped one). The message goes into the fewest cells that
    hold it (see :data:`CELL`); the rest of the image is untouched. Hide checks its own 8-bit stego
    image as a receiver would and adds parity or tries another whitening until the message comes
    back (:func:`hide_tensor`), else fails with a clear error (:func:`blind_capacity_of` says
    beforehand how much this cover carries). ``info``: ``nsym``, ``nonce``, ``raw_errors`` (bits
    wrong before correction) of ``raw_bits`` (``raw_ra``: the share right, the paper's recovery
    accuracy), ``cells`` used ``of_cells``, ``footprint`` (share of the pixels in used cells),
    ``capacity`` (net bytes of the whole image at that ``nsym``), ``pilot_rate`` (:func:`hide_tensor`).

    The cells a message changes tell anyone who can find them its length, to within a sixteenth
    of the capacity. ``all_cells=True`` spreads it (and random filler) over every cell instead: the
    changed area no longer depends on the length, at the PSNR of a full payload (notebook 09)."""
    message = as_message(message)
    net, cfg = model if model is not None else load_network(kind="blind")
    image = open_cover(cover)
    width, height = image.size
    cap = blind_capacity(height, width, cfg.bpp, nsym or NSYM_TRIES[0])
    if len(message) > cap:
        raise CapacityError(f"the message is {len(message)} bytes but this {width} x {height} cover holds at most "
                            f"{cap} bytes in blind mode; use a larger cover or a shorter message")
    stego, info, ok = hide_tensor(net, cfg, pil_to_tensor(image).to(model_device(net)), message, password, nsym,
                                  filler_seed, all_cells)
    if not ok:
        raise CapacityError(f"blind mode cannot carry this message exactly in this cover (too many bit errors "
                            f"even with {info.get('nsym', nsym)} parity bytes per block); the command  capacity "
                            "--mode blind COVER  says how much this cover carries; or use another cover, or key mode")
    return tensor_to_pil(stego), info


def blind_capacity_of(cover, model=None, password: str | None = None) -> dict:
    """What this cover carries exactly in blind mode: the longest message hide accepts, measured.

    For each parity in :data:`NSYM_TRIES` (least first), a random message as long as that parity
    allows (:func:`blind_capacity`) is hidden in every cell and checked as the receiver would, with
    one whitening only; the first that comes back exact gives the capacity (every parity is tried:
    hide's skip of unlikely parities could under-report). :func:`blind_hide` of that many bytes (or
    fewer) then has :data:`NONCE_TRIES` - 1 further whitenings to spare (``benchmarks/blind_heldout.py``
    measures it). The message is seeded, so the answer repeats; the password changes where the bits
    go, so give the one you will hide with. Returns ``capacity`` (bytes), ``nsym``, ``by_size`` (the
    capacity from the size alone, at the least parity) and the ``raw_errors``/``raw_bits`` of the
    check that passed (``capacity`` 0 and ``nsym`` None when none did)."""
    net, cfg = model if model is not None else load_network(kind="blind")
    image = open_cover(cover)
    width, height = image.size
    x = pil_to_tensor(image).to(model_device(net))
    out = {"capacity": 0, "nsym": None, "by_size": blind_capacity(height, width, cfg.bpp)}
    for n_sym in NSYM_TRIES:
        n = blind_capacity(height, width, cfg.bpp, n_sym)
        if n == 0:
            break
        message = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
        _, info, ok = hide_tensor(net, cfg, x, message, password, n_sym, filler_seed=0, all_cells=True, nonces=1)
        if ok:
            out.update(capacity=n, nsym=n_sym, raw_errors=info["raw_errors"], raw_bits=info["raw_bits"])
            break
    return out


def blind_reveal(stego, model=None, password: str | None = None, return_info: bool = False):
    """The message hidden in ``stego`` (PIL image or path) by :func:`blind_hide`: the exact bytes, or
    :class:`helpers.coding.blind_code.BlindRevealError` (wrong password, no message, too many errors). ``info``
    (with ``return_info``): bytes ``corrected``, ``nsym``, ``length``, ``cells`` used."""
    net, cfg = model if model is not None else load_network(kind="blind")
    image = open_stego(stego)
    x = pil_to_tensor(image).to(model_device(net))
    message, info = _decode(net, x, cells(x.shape[-2], x.shape[-1], password), cfg.bpp, password)
    return (message, info) if return_info else message


# ----------------------------------------------------------------------------- as a Method

class BlindMode(Method):
    """Blind mode behind the interface of :mod:`helpers.methods.base`: no key; ``hide`` and ``reveal``
    take the ``password``; ``capacity_report`` measures the cover (:func:`blind_capacity_of`);
    ``embed``/``extract`` put raw bits in every cell and read them with z = 0 (no code)."""

    name, title, options, measures_capacity = "blind", "blind mode", ("password", "all_cells"), True

    def __init__(self, model=None, checkpoint=None) -> None:
        self._model, self.checkpoint = model, checkpoint

    @property
    def model(self) -> tuple[StegoINN, BlindConfig]:
        if self._model is None:
            self._model = load_network(self.checkpoint, "blind")
        return self._model

    @property
    def bpp(self) -> int:
        return self.model[1].bpp

    def set_bpp(self, bpp: int) -> None:
        if bpp != self.bpp:
            raise ValueError(f"--bpp {bpp}: the blind network was trained for {self.bpp} bpp; drop --bpp")

    def capacity_note(self, height: int, width: int) -> str:
        blind_capacity(height, width, self.bpp)  # too small a cover: its clear error before any measuring
        return f"measuring what this {width} x {height} cover carries in blind mode ..."

    def capacity_report(self, cover, password: str | None = None, **options):
        cap = blind_capacity_of(cover, self.model, password=password)
        if cap["nsym"] is None:
            return 0, (f"this cover carries no blind-mode message exactly: even with the most parity its bit errors "
                       f"defeat the code (from the size alone it would hold {cap['by_size']} bytes); use another "
                       "cover or key mode")
        return cap["capacity"], (
            f"measured: a random message of that length, hidden in this cover and read back as a receiver would, "
            f"came back exact with {cap['nsym']} Reed-Solomon parity bytes per block of 255 ({cap['raw_errors']} of "
            f"{cap['raw_bits']} raw bits wrong before the code); {blind_code.HEADER_BYTES} bytes go to the coded header; "
            f"from the size alone, at the least parity: {cap['by_size']} bytes")

    def hide(self, cover, message, filler_seed=None, password: str | None = None, all_cells: bool = False,
             **options) -> Hidden:
        stego, info = blind_hide(cover, message, self.model, password, filler_seed=filler_seed, all_cells=all_cells)
        return Hidden(stego, None, dict(info, password=password is not None))

    def reveal(self, stego, key=None, password: str | None = None, **options) -> bytes:
        if key is not None:
            raise ValueError("blind mode uses no key file; drop the key (or use key mode)")
        return blind_reveal(stego, self.model, password)

    def summary(self, hidden: Hidden, n_bytes: int):
        info = hidden.info
        return (f"hid {n_bytes} bytes in a {hidden.stego.width} x {hidden.stego.height} cover in blind mode (net "
                f"capacity {info['capacity']} bytes with {info['nsym']} parity bytes per block; {info['cells']} of "
                f"{info['of_cells']} cells changed, {100 * info['footprint']:.0f} % of the pixels; "
                f"{info['raw_errors']} raw bit error(s) corrected in the self-check)",
                "" if info.get("password") else "; no password: anyone with the network can read it")

    def embed(self, covers, bits):
        net, cfg = self.model
        x = uint8_to_batch(covers).to(model_device(net))
        return batch_to_uint8(torch.stack([_embed(net, c, cells(*c.shape[-2:]), b, cfg.bpp) for c, b in zip(x, bits)])), None

    def extract(self, stegos, side=None, generator=None):
        net, cfg = self.model
        x = uint8_to_batch(stegos).to(model_device(net))
        return np.stack([_bits(np.concatenate(_extract(net, s, cells(*s.shape[-2:]), cfg.bpp))) for s in x])
