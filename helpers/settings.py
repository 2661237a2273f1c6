"""The settings cell every notebook shows right after its setup cell: which mode runs, the seed,
the device, where the cache lives, and which trained network notebooks 06-09 load.

``MODE = "auto"`` means full size on a CUDA GPU and fast mode anywhere else, so a student who
runs a notebook on a laptop with the defaults gets the short version and is told so; ``"fast"``
and ``"full"`` force one. The one environment variable that overrides ``MODE`` is
``INN_STEGO_FAST`` (``1`` fast, ``0`` full): CI sets it. ``INN_STEGO_CACHE`` moves the cache
folder (the Colab setup cell points it at Google Drive when asked). Nothing else is read from
the environment.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from helpers.plumbing.inference import shipped

SHIPPED_PAPER = shipped("paper")  # data/checkpoints/paper.pt

MODES = ("auto", "fast", "full")
FAST_ENV = "INN_STEGO_FAST"
CACHE_ENV = "INN_STEGO_CACHE"
DEFAULT_CACHE = "~/.cache/inn-stego"


def choose_mode(mode: str = "auto", full_cpu_time: str | None = None, gpu: bool | None = None) -> bool:
    """``FAST`` for a notebook's ``MODE`` setting, printed with the reason; in full mode on a CPU
    also ``full_cpu_time``, the notebook's measured full-mode time there. ``INN_STEGO_FAST``
    (``1``/``0``) overrides ``mode``. ``gpu`` defaults to ``torch.cuda.is_available()``."""
    if mode not in MODES:
        raise ValueError(f"MODE must be one of {', '.join(map(repr, MODES))}, not {mode!r}: set it in the settings cell")
    gpu = torch.cuda.is_available() if gpu is None else gpu
    env = os.environ.get(FAST_ENV, "")
    if env not in ("", "0", "1"):
        raise ValueError(f"{FAST_ENV} must be 1 (fast) or 0 (full), not {env!r}: unset it to use MODE")
    if env:
        fast, why = env == "1", f"{FAST_ENV}={env} is set (CI sets it) and overrides MODE = {mode!r}"
    elif mode == "auto":
        fast = not gpu
        why = ("MODE = 'auto' and a CUDA GPU is here" if gpu else
               "MODE = 'auto' and no GPU here; set MODE = 'full' in this cell for the full-size run")
    else:
        fast, why = mode == "fast", f"MODE = {mode!r}"
    print(f"{'fast' if fast else 'full'} mode: {why}")
    if not fast and not gpu and full_cpu_time:
        print(f"full mode without a GPU: expect {full_cpu_time}")
    return fast


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, numpy's and torch's generators (all notebooks call this once)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device() -> torch.device:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cache_dir() -> Path:
    """Where downloads, training runs and exports go: ``INN_STEGO_CACHE``, else ``~/.cache/inn-stego``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def paper_checkpoint(checkpoint: str = "shipped") -> Path:
    """The file behind the ``CHECKPOINT`` setting of notebooks 06-09: ``"shipped"`` is
    ``data/checkpoints/paper.pt``; anything else is the path of a checkpoint, such as the one
    notebook 05's export cell wrote. Prints which network is used."""
    if checkpoint == "shipped":
        path = SHIPPED_PAPER
        print(f"network: the shipped {path.name} (data/checkpoints/README.md says how it was trained)")
    else:
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"CHECKPOINT {checkpoint!r} is not a file: use the path notebook 05's "
                                    "export cell printed, or 'shipped'")
        print(f"network: your checkpoint {path}")
    return path


def decide_training(train="auto", fast: bool = False, gpu: bool | None = None, shipped_exists: bool = True) -> bool:
    """Notebook 05's ``TRAIN`` setting: ``"auto"`` trains on a CUDA GPU and loads the shipped network
    on a CPU; ``True``/``False`` choose. Fast mode always runs its tiny training (the loop is the
    lesson), and without a shipped network there is nothing to load."""
    if train not in ("auto", True, False):
        raise ValueError(f"TRAIN must be 'auto', True or False, not {train!r}: set it in the settings cell")
    gpu = torch.cuda.is_available() if gpu is None else gpu
    return fast or train is True or (train == "auto" and gpu) or not shipped_exists
