"""Cached, resumable, checksummed downloads (used by notebook 04 for COCO-2017 and Pascal VOC).

Only the standard library (``urllib``) is used; nothing here runs in CI against the internet:
the tests serve files from a local HTTP server.
"""

from __future__ import annotations

import hashlib
import os
import socket
import warnings
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed or its checksum did not match; the message says what to do."""


def file_digest(path, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest, size: int | None = None, md5: str | None = None, sha256: str | None = None,
             progress: bool = True, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` unless a verified copy is already there.

    * **Cached**: an existing ``dest`` whose size and checksum match is returned at once.
    * **Resumable**: bytes arrive in ``dest.part``; after an interruption the next call asks
      the server for the rest (HTTP ``Range``) and appends. A server that ignores ``Range``
      makes it start again.
    * **Checksummed**: size, then md5 and/or sha256, are checked before ``dest.part`` is
      renamed to ``dest``; a mismatch deletes the partial file and raises :class:`DownloadError`.
    * A progress bar (tqdm) shows bytes and speed.

    Raises :class:`DownloadError` with what to do (run again to resume, or fetch the file by
    hand and put it at ``dest``).
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    if dest.is_file():
        if _verified(dest, size, md5, sha256):
            return dest
        # A copy that fails its check is set aside (never deleted: it may be a hand download)
        # and the file is fetched afresh; only a .part file is ever resumed.
        bad = dest.with_name(dest.name + ".bad")
        os.replace(dest, bad)
        warnings.warn(f"{dest} did not match its checksum; moved it to {bad} and downloading again", stacklevel=2)
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    hint = f"run the same call again to resume, or download {url} by hand and save it as {dest}"
    expected = size
    if size is None or have < size:
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and response.status != 206:  # the server sent the whole file again
                    have = 0
                length = response.headers.get("Content-Length")
                expected = size if size is not None else (have + int(length) if length else None)
                with open(part, "ab" if have else "wb") as f, tqdm(
                        total=expected, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                        desc=dest.name, disable=not progress, leave=False) as bar:
                    while True:
                        block = response.read(CHUNK)
                        if not block:
                            break
                        f.write(block)
                        bar.update(len(block))
        except urllib.error.HTTPError as e:
            if e.code == 416 and size is not None and have >= size:  # already complete
                pass
            else:
                raise DownloadError(f"the server answered {e.code} {e.reason} for {url}; check the address, "
                                    f"or {hint}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, HTTPException, OSError) as e:
            got = part.stat().st_size if part.is_file() else 0
            reason = getattr(e, "reason", e)
            raise DownloadError(f"could not download {url} ({reason}); {got:,} bytes are kept in {part}. "
                                f"Check the network connection and {hint}") from None
    got = part.stat().st_size
    if expected is not None and got != expected:
        if got > expected:
            part.unlink()
            raise DownloadError(f"{url} sent {got:,} bytes, more than the expected {expected:,} (deleted); {hint}")
        raise DownloadError(f"{url} stopped at {got:,} of {expected:,} bytes; the bytes are kept in {part}: {hint}")
    if not _verified(part, size, md5, sha256):
        part.unlink()
        raise DownloadError(f"checksum mismatch for {url}: the file is not the expected one (deleted). Run again "
                            f"to download it afresh; if this repeats, the mirror serves a different file: "
                            f"download it by hand from the official site and save it as {dest}")
    os.replace(part, dest)
    return dest


def _verified(path: Path, size, md5, sha256) -> bool:
    if size is not None and path.stat().st_size != size:
        return False
    if md5 is not None and file_digest(path, "md5") != md5.lower():
        return False
    if sha256 is not None and file_digest(path, "sha256") != sha256.lower():
        return False
    return True
