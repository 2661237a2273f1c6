"""Writing files so that nothing the user had is lost: every file the project writes (stego PNGs,
key files, revealed messages, checkpoints, results, manifests, caches) goes through here. It also
reads checkpoints without running code and says where the bundled data lives (:data:`DATA_DIR`).

Used by the command line of notebook 06 (``notebooks/06_lossless_extraction.ipynb``) and by every
checkpoint save.

- :func:`write_atomic`: one file, written to a temporary name beside it and renamed into place. An
  interruption or a full disk never leaves a half-written output, the earlier file (if any) stays
  byte-identical until the rename, and a failure leaves no temporary file.
- :func:`write_all_or_none`: several files that belong together (a stego image and its key): all
  are written to temporary files first and renamed only when every one is complete; should a rename
  fail, the files already replaced get their earlier contents back. A failed ``hide --force`` thus
  keeps the previous stego image and key pair.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path
from typing import Callable, Union

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where the bundled data lives (sample photos, shipped checkpoints); ``INN_STEGO_DATA`` moves it.
DATA_DIR = Path(os.environ.get("INN_STEGO_DATA", REPO_ROOT / "data"))

Content = Union[bytes, Callable]  # the bytes, or a function that writes them to an open binary file


def _sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{tag}")


def _write(f, content: Content) -> None:
    if callable(content):
        content(f)
    else:
        f.write(content)


def write_all_or_none(items) -> list[Path]:
    """Write each ``(path, content)`` of ``items`` (``content``: bytes, or a function that writes to
    an open binary file) so that either all files have their new contents or none changed.
    Returns the paths."""
    items = [(Path(path), content) for path, content in items]
    temps, backups, replaced = [], {}, []
    try:
        for path, content in items:
            tmp = _sibling(path, "tmp")
            temps.append(tmp)
            with open(tmp, "wb") as f:
                _write(f, content)
        for (path, _), tmp in zip(items, temps):
            if len(items) > 1 and path.exists():  # keep the earlier file until every rename has worked
                backups[path] = _sibling(path, "bak")
                try:
                    os.link(path, backups[path])
                except OSError:  # a file system without hard links
                    shutil.copy2(path, backups[path])
            os.replace(tmp, path)
            replaced.append(path)
    except BaseException:
        for path in replaced:
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                path.unlink(missing_ok=True)
        raise
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        for bak in backups.values():
            bak.unlink(missing_ok=True)
    return [path for path, _ in items]


def write_atomic(path, content: Content) -> Path:
    """Write one file atomically (module docstring); ``content`` as in :func:`write_all_or_none`."""
    return write_all_or_none([(path, content)])[0]


def move_into(src, folder) -> Path:
    """Move the finished file ``src`` into ``folder`` (same file system) in one rename; returns its new path."""
    dest = Path(folder) / Path(src).name
    os.replace(src, dest)
    return dest


def csv_bytes(rows, fields) -> bytes:
    """``rows`` (dicts; keys beyond ``fields`` ignored) as a CSV file's bytes, for :func:`write_atomic`."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def save_checkpoint(path, state: dict) -> Path:
    """``torch.save(state)`` to ``path`` atomically (:func:`write_atomic`), creating its folder: every
    checkpoint of the project (training runs, exports, the blind and baseline networks) is saved
    through this; they load with :func:`load_weights` (``weights_only``: no code runs)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda f: torch.save(state, f))


def load_weights(path, fmt: str, what: str, hint: str = "", map_location="cpu") -> dict:
    """``torch.load(path, weights_only=True)`` (no code runs) of a dict whose ``"format"`` is
    ``fmt``; one-line errors that name the file: missing, unreadable, or not a ``what`` (then
    ``hint`` says what to do). Every checkpoint of the project is read through this."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # pickle errors, truncation, code that weights_only refuses
        raise ValueError(f"{path} is not a readable {what} ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise ValueError(f"{path} is not {'an' if what[0] in 'aeiou' else 'a'} {what}{hint}")
    return state
