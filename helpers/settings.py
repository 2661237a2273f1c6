"""The settings cell every notebook shows right after its setup cell: which mode runs, the seed,
the device, where things are kept (``KEEP``), and which trained network notebooks 06-10 load
(``CHECKPOINT``).

``MODE = "auto"`` means full size on a CUDA GPU and fast mode anywhere else, so a student who
runs a notebook on a laptop with the defaults gets the short version and is told so; ``"fast"``
and ``"full"`` force one. The one environment variable that overrides ``MODE`` is
``INN_STEGO_FAST`` (``1`` fast, ``0`` full): CI sets it. ``INN_STEGO_CACHE`` moves the cache
folder (:func:`keep` points it at Google Drive on Colab). Nothing else is read from the environment.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

from helpers.plumbing.inference import NETWORKS, shipped

SHIPPED_PAPER = shipped("paper")  # data/checkpoints/paper.pt
SHIPPED_NOMAP = SHIPPED_PAPER.with_name("paper_nomap.pt")  # the same training without the mapping module

MODES = ("auto", "fast", "full")
FAST_ENV = "INN_STEGO_FAST"
CACHE_ENV = "INN_STEGO_CACHE"
DEFAULT_CACHE = "~/.cache/inn-stego"
KEEPS = ("drive", "runtime")
DRIVE_MOUNT = Path("/content/drive")  # where Colab mounts Google Drive
DRIVE_CACHE = "MyDrive/inn-stego-cache"  # the folder in it that KEEP = "drive" uses
EXPORTS = "exports"  # notebook 05 exports trained networks into cache_dir() / EXPORTS


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


def on_colab() -> bool:
    """True in a Colab runtime (its ``google.colab`` module is loaded)."""
    return "google.colab" in sys.modules


def keep(where: str = "drive", colab: bool | None = None) -> Path:
    """The ``KEEP`` setting of notebooks 04-10: where downloads, training runs (with their resume
    state) and exported networks live; returns that folder and says it in one line.

    On Colab, ``"drive"`` mounts Google Drive and keeps them in ``MyDrive/inn-stego-cache``, so they
    outlive the runtime: notebook 05 resumes in a new one and 06-10 find its export. ``"runtime"``
    keeps them on the runtime's own disk, gone when it ends. Off Colab both mean the cache folder of
    this machine (:func:`cache_dir`), which its disk keeps. Sets ``INN_STEGO_CACHE`` on Colab so that
    every later :func:`cache_dir` in the kernel agrees."""
    if where not in KEEPS:
        raise ValueError(f"KEEP must be one of {', '.join(map(repr, KEEPS))}, not {where!r}: set it in the settings cell")
    colab = on_colab() if colab is None else colab
    drive = DRIVE_MOUNT / DRIVE_CACHE
    if colab and where == "drive":
        if not (DRIVE_MOUNT / "MyDrive").is_dir():
            from google.colab import drive as google_drive

            try:
                google_drive.mount(str(DRIVE_MOUNT))
            except Exception as e:  # refused or timed out: Colab raises its own error types
                raise RuntimeError(f"could not mount Google Drive ({e}): allow the access Colab asks for, or set "
                                   "KEEP = 'runtime' (then nothing outlives this runtime)") from None
        os.environ[CACHE_ENV] = str(drive)
        print(f"kept in Google Drive: {drive} (downloads, training runs, exports; they outlive this runtime)")
    elif colab:
        if os.environ.get(CACHE_ENV) == str(drive):  # KEEP was "drive" earlier in this kernel
            del os.environ[CACHE_ENV]
        print(f"kept on this runtime's disk: {cache_dir()} (gone when the runtime ends; KEEP = 'drive' keeps "
              "downloads, training runs and exports in Google Drive)")
    else:
        print(f"kept in {cache_dir()} on this machine (KEEP = {where!r} matters on Colab only)")
    return cache_dir()


def exports(mapping: bool = True) -> list[tuple[Path, dict]]:
    """Notebook 05's full-mode exports in ``cache_dir() / "exports"`` of a network trained with (or
    without) the mapping module, newest first, each with its checkpoint (read with
    ``weights_only=True``). Toy networks (fast-mode exports) and files of other kinds are left out."""
    found = []
    for path in (cache_dir() / EXPORTS).glob("*.pt"):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # half-copied, or not a checkpoint: not ours to pick
            continue
        if (isinstance(state, dict) and state.get("toy") is False and state.get("format") == NETWORKS["paper"][0]
                and bool(state.get("config", {}).get("mapping", True)) == mapping):
            found.append((path, state))
    return sorted(found, key=lambda e: (e[0].stat().st_mtime, e[0].name), reverse=True)


def paper_checkpoint(checkpoint: str = "auto", mapping: bool = True) -> Path:
    """The file behind the ``CHECKPOINT`` setting of notebooks 06-10: ``"auto"`` is the newest
    full-mode export of notebook 05 (:func:`exports`) if there is one, else the shipped network;
    ``"shipped"`` is ``data/checkpoints/paper.pt``; anything else is the path of a checkpoint.
    ``mapping=False`` asks for a network trained without the mapping module (the shipped one:
    ``paper_nomap.pt``). Prints which network is used, with its training notes."""
    shipped_path = SHIPPED_PAPER if mapping else SHIPPED_NOMAP
    what = "network" if mapping else "network without mapping"
    if checkpoint == "auto":
        found = exports(mapping)
        if found:
            path, state = found[0]
            print(f"{what}: your newest export {path} (CHECKPOINT = 'auto')\n  {state.get('notes') or 'no notes'}")
            return path
        print(f"{what}: the shipped {shipped_path.name} (CHECKPOINT = 'auto' and no full-mode export of notebook 05 in "
              f"{cache_dir() / EXPORTS}; data/checkpoints/README.md says how it was trained)")
        return shipped_path
    if checkpoint == "shipped":
        print(f"{what}: the shipped {shipped_path.name} (data/checkpoints/README.md says how it was trained)")
        return shipped_path
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"CHECKPOINT {checkpoint!r} is not a file: use 'auto', 'shipped' or the path notebook "
                                "05's export cell printed")
    print(f"{what}: your checkpoint {path}")
    return path


def decide_training(train="auto", fast: bool = False, gpu: bool | None = None, shipped_exists: bool = True) -> bool:
    """Notebook 05's ``TRAIN`` setting: ``"auto"`` trains on a CUDA GPU and loads the shipped network
    on a CPU; ``True``/``False`` choose. Fast mode always runs its tiny training (the loop is the
    lesson), and without a shipped network there is nothing to load."""
    if train not in ("auto", True, False):
        raise ValueError(f"TRAIN must be 'auto', True or False, not {train!r}: set it in the settings cell")
    gpu = torch.cuda.is_available() if gpu is None else gpu
    return fast or train is True or (train == "auto" and gpu) or not shipped_exists
