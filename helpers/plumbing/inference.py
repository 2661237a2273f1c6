"""Loading and running a trained network: one loader, device, memory layout and tiles (notebook 06
teaches the tiles).

Every method that runs a network on a user's image (key mode, blind mode, the baselines, the
evaluation harness) goes through these: every trained network of the project loaded by one function
(:func:`load_network`: weights only, once per file), prepared once (:func:`prepare_for_inference`),
inputs fed in the memory layout of its weights (:func:`input_layout`), and large covers cut into
tiles so that memory stays bounded (:func:`forward_tiled`, :func:`inverse_tiled`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from helpers.plumbing.files import DATA_DIR, load_weights

_LOADED: dict = {}


class Network(NamedTuple):
    """A trained network and the configuration its checkpoint stores (``net, cfg = network`` works)."""

    model: nn.Module
    config: object


#: kind -> (the checkpoint's format, what to call it in errors, the module whose ``network_from_state``
#: builds it, the shipped file in ``data/checkpoints/``)
NETWORKS = {
    "paper": ("inn-stego-checkpoint", "inn-stego checkpoint", "helpers.training.train", "paper.pt"),
    "blind": ("inn-stego-blind", "blind-mode checkpoint", "helpers.methods.blind_mode", "blind.pt"),
    "rehman": ("inn-stego-rehman", "Rehman checkpoint", "helpers.methods.baselines", "rehman.pt"),
    "hinet": ("inn-stego-hinet", "HiNet-style checkpoint", "helpers.methods.baselines", "hinet.pt"),
}


def shipped(kind: str = "paper") -> Path:
    """The shipped checkpoint of a kind of network (``data/checkpoints/``; how each was trained: its README)."""
    return DATA_DIR / "checkpoints" / NETWORKS[kind][3]


def load_network(path=None, kind: str = "paper", fresh: bool = False) -> Network:
    """Every trained network of the project, from its checkpoint (default: the shipped one of
    ``kind``: ``paper``, ``blind``, ``rehman`` or ``hinet``). The file is read with
    ``weights_only=True`` (no code in it runs) and checked to be that kind; errors name the file.

    By default the network is ready for inference (:func:`prepare_for_inference`) and loaded once per
    file (:func:`load_once`): every caller shares it, so do not train or move it. ``fresh=True`` gives
    a copy of your own in the default memory layout, in eval mode (to train further or move)."""
    if kind not in NETWORKS:
        raise ValueError(f"unknown kind of network {kind!r}; one of {', '.join(NETWORKS)}")
    fmt, what, module, _ = NETWORKS[kind]

    def build(p) -> Network:
        return importlib.import_module(module).network_from_state(load_weights(p, fmt, what), p)

    def ready(p) -> Network:
        net = build(p)
        return Network(prepare_for_inference(net.model), net.config)

    path = shipped(kind) if path is None else Path(path)
    return build(path) if fresh else load_once(path, ready, kind)


def prepare_for_inference(model: nn.Module) -> nn.Module:
    """Eval mode and channels-last memory layout: on a CPU this runs forward + inverse about
    1.5-2x faster than the default layout with the same results (to float32 rounding; measured
    by ``benchmarks/benchmark.py``). Feed it inputs made with :func:`input_layout` and call it under
    ``torch.inference_mode()``. (Training is faster in the default layout on a CPU, so the
    training loop does not use this.)"""
    return model.eval().to(memory_format=torch.channels_last)


def load_once(path, build, tag=None):
    """``build(path)`` the first time a network file is asked for, the same object afterwards: the
    one cache of the project (:func:`load_network` uses it). The key is the resolved path, the file's
    size and modification time (a checkpoint written again at the same path is read again) and
    ``tag`` (default: the loader's name)."""
    path = Path(path)
    stat = path.stat() if path.is_file() else None
    key = (str(path.resolve()), stat and (stat.st_size, stat.st_mtime_ns),
           tag or getattr(build, "__qualname__", id(build)))
    if key not in _LOADED:
        _LOADED[key] = build(path)
    return _LOADED[key]


def input_layout(model: nn.Module):
    """A function that puts an input in the memory layout of ``model``'s weights (channels-last
    after :func:`prepare_for_inference`, the default otherwise)."""
    w = next(model.parameters())
    channels_last = w.dim() == 4 and w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return lambda x: x.contiguous(memory_format=fmt)


def model_device(model: nn.Module) -> torch.device:
    """The device ``model``'s weights are on."""
    return next(model.parameters()).device


def tiles(height: int, width: int, tile: int):
    """``(rows, cols)`` slice pairs covering a ``height x width`` image in tiles of at most ``tile``
    pixels a side (the last row and column of tiles take the remainder)."""
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            yield slice(top, min(top + tile, height)), slice(left, min(left + tile, width))


@torch.inference_mode()
def forward_tiled(model, cover: torch.Tensor, secret_map: torch.Tensor, tile: int):
    """``model(cover, secret_map)`` on one image ``(3, H, W)`` or a batch ``(N, 3, H, W)``, tile by
    tile: ``(stego, z)`` of the same shape."""
    one = cover.dim() == 3
    cover, secret_map = (cover[None], secret_map[None]) if one else (cover, secret_map)
    stego, z = torch.empty_like(cover), torch.empty_like(cover)
    fmt = input_layout(model)
    for ys, xs in tiles(cover.shape[-2], cover.shape[-1], tile):
        stego[..., ys, xs], z[..., ys, xs] = model(fmt(cover[..., ys, xs]), fmt(secret_map[..., ys, xs]))
    return (stego[0], z[0]) if one else (stego, z)


@torch.inference_mode()
def inverse_tiled(model, stego: torch.Tensor, z: torch.Tensor, tile: int) -> torch.Tensor:
    """The secret map ``model.inverse(stego, z)`` gives (:meth:`~helpers.network.model.StegoINN.extract_secret`)
    for one image ``(3, H, W)`` or a batch ``(N, 3, H, W)``, tile by tile."""
    one = stego.dim() == 3
    stego, z = (stego[None], z[None]) if one else (stego, z)
    secret_rev = torch.empty_like(stego)
    fmt = input_layout(model)
    for ys, xs in tiles(stego.shape[-2], stego.shape[-1], tile):
        secret_rev[..., ys, xs] = model.extract_secret(fmt(stego[..., ys, xs]), fmt(z[..., ys, xs]))
    return secret_rev[0] if one else secret_rev
