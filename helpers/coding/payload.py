"""Bytes <-> bits, how bits are laid out on a cover, and the capacity of a cover.

Taught in notebook 03 (``notebooks/03_mapping_module.ipynb``).

Layout. The secret map always has the cover's shape ``(3, H, W)``, so one network serves
every capacity. Bits fill it in C order of ``(channel, row, column)``:

* **3 bpp**: one bit per colour channel per pixel, ``3 * H * W`` bits (49,152 at 128 x 128,
  as in the paper).
* **1 bpp**: one bit per pixel, ``H * W`` bits, all in channel 0; channels 1 and 2 hold 0.
  That is the 3 bpp layout cut short. After the mapping module a 0 is the value that adds
  nothing to the secret branch, so the two unused channels give the network no extra
  signal to hide, and the same network and code serve 1 and 3 bpp.

Unused positions after a short message are 0 here; the framing layer of the hide/reveal
API decides what fills them.
"""

from __future__ import annotations

import secrets
import struct
import zlib

import numpy as np

BPP_CHOICES = (1, 3)
CHANNELS = 3
MAGIC = b"INNS"
FRAME_VERSION = 1
HEADER = struct.Struct(">4sBBII")  # magic, version, reserved, length, CRC-32 (14 bytes)


class NoMessageError(ValueError):
    """No message could be revealed exactly (wrong key or password, another network, an image
    without a message or one altered after hiding). Every way to hide raises this, or its own
    subclass (:class:`helpers.methods.key_mode.RevealError`, :class:`helpers.coding.blind_code.BlindRevealError`), instead
    of returning wrong bytes: catch this one to handle them all."""


class CapacityError(ValueError):
    """The message does not fit in the cover: longer than the capacity at the chosen bpp, or (blind
    mode) more than this cover carries exactly."""


def _check_bpp(bpp: int) -> None:
    if bpp not in BPP_CHOICES:
        raise ValueError(f"bpp must be 1 or 3 (bits per pixel), got {bpp!r}")


def _check_size(height: int, width: int) -> None:
    if int(height) < 1 or int(width) < 1:
        raise ValueError(f"cover size must be at least 1 x 1 pixels, got {height} x {width}")


def bytes_to_bits(data: bytes) -> np.ndarray:
    """Bytes -> a flat uint8 array of 0/1, most significant bit of each byte first
    (``8 * len(data)`` bits)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}; encode text first, e.g. text.encode('utf-8')")
    return np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))


def bits_to_bytes(bits) -> bytes:
    """Inverse of :func:`bytes_to_bits`: a flat sequence of 0/1 whose length is a multiple of 8."""
    bits = np.asarray(bits).reshape(-1)
    if bits.size % 8:
        raise ValueError(f"number of bits must be a multiple of 8, got {bits.size}")
    if bits.size and not np.isin(bits, (0, 1)).all():
        raise ValueError("bits must all be 0 or 1")
    return np.packbits(bits.astype(np.uint8)).tobytes()


def capacity_bits(height: int, width: int, bpp: int = 3) -> int:
    """Bits an ``height x width`` cover holds: ``bpp * height * width``."""
    _check_bpp(bpp)
    _check_size(height, width)
    return bpp * int(height) * int(width)


def capacity_bytes(height: int, width: int, bpp: int = 3) -> int:
    """Whole bytes an ``height x width`` cover holds: ``capacity_bits // 8``."""
    return capacity_bits(height, width, bpp) // 8


def bits_to_plane(bits, height: int, width: int, bpp: int = 3) -> np.ndarray:
    """Lay a flat bit sequence out as a ``(3, height, width)`` uint8 plane (see the module
    docstring); positions after the message are 0. Raises :class:`CapacityError` when
    there are more bits than the cover holds."""
    bits = np.asarray(bits, dtype=np.uint8).reshape(-1)
    cap = capacity_bits(height, width, bpp)
    if bits.size > cap:
        raise CapacityError(f"message needs {bits.size} bits ({bits.size // 8} bytes) but a {height} x {width} "
                            f"cover holds {cap} bits ({cap // 8} bytes) at {bpp} bpp; "
                            "use a larger cover, 3 bpp, or a shorter message")
    plane = np.zeros(CHANNELS * int(height) * int(width), dtype=np.uint8)
    plane[:bits.size] = bits
    return plane.reshape(CHANNELS, int(height), int(width))


def plane_to_bits(plane, bpp: int = 3) -> np.ndarray:
    """Read the ``capacity_bits`` bits of a ``(3, H, W)`` plane back in layout order."""
    plane = np.asarray(plane)
    if plane.ndim != 3 or plane.shape[0] != CHANNELS:
        raise ValueError(f"plane must have shape (3, height, width), got {plane.shape}")
    return plane.reshape(-1)[:capacity_bits(plane.shape[1], plane.shape[2], bpp)].astype(np.uint8)


def message_to_plane(message: bytes, height: int, width: int, bpp: int = 3) -> np.ndarray:
    """Bytes -> bits -> ``(3, H, W)`` plane. Raises :class:`CapacityError` with the
    cover's capacity when the message is too long."""
    cap = capacity_bytes(height, width, bpp)
    if len(message) > cap:
        raise CapacityError(f"message is {len(message)} bytes but a {height} x {width} cover holds at most "
                            f"{cap} bytes at {bpp} bpp; use a larger cover, 3 bpp, or a shorter message")
    return bits_to_plane(bytes_to_bits(message), height, width, bpp)


def plane_to_message(plane, n_bytes: int, bpp: int = 3) -> bytes:
    """The first ``n_bytes`` bytes laid out in ``plane`` (inverse of :func:`message_to_plane`)."""
    bits = plane_to_bits(plane, bpp)
    if not 0 <= n_bytes * 8 <= bits.size:
        raise ValueError(f"n_bytes must be between 0 and {bits.size // 8} for this plane, got {n_bytes}")
    return bits_to_bytes(bits[:n_bytes * 8])


def random_filler(n: int, filler_seed=None) -> bytes:
    """``n`` random bytes for the unused capacity after a message (key mode's frame, blind mode's
    code), so that the bits look the same whatever the message's length: from ``secrets``, or from
    ``numpy.random.default_rng(filler_seed)`` for a reproducible run (notebooks 03, 06, 09)."""
    if filler_seed is None:
        return secrets.token_bytes(n)
    return np.random.default_rng(filler_seed).bytes(n)


class RevealError(NoMessageError):
    """A framed message (key mode, notebook 06; the framed baselines of :mod:`helpers.methods.base`) could not be
    revealed exactly: wrong key, another model, an altered image, no message."""


def frame(message: bytes) -> bytes:
    """Header + message: ``magic "INNS" | version | reserved | length | CRC-32`` (14 bytes, :data:`HEADER`),
    then the message (notebook 06). The magic and version say a message is there and how to read it,
    the length where it ends; the CRC-32 catches any damage that gets past them (a random change
    slips through with probability 2^-32), so :func:`unframe` gives the exact message or an error."""
    message = bytes(message)
    return HEADER.pack(MAGIC, FRAME_VERSION, 0, len(message), zlib.crc32(message)) + message


def framed_and_filled(message: bytes, n_bytes: int, filler_seed=None) -> bytes:
    """:func:`frame` of ``message`` followed by :func:`random_filler` up to ``n_bytes`` in all: what key
    mode and the base method embed, so that the bits look the same whatever the message's length."""
    framed = frame(message)
    return framed + random_filler(n_bytes - len(framed), filler_seed)


NO_FRAME = ("no message found: this key does not belong to this stego image (a key of another image, or the image "
            "was changed after hiding)")


def unframe(data: bytes, no_frame: str = NO_FRAME) -> bytes:
    """Inverse of :func:`frame` on revealed bytes (the frame and any filler after it); checks
    magic, version, length and CRC-32, and raises :class:`RevealError` saying which failed
    (``no_frame``: the message when there is no frame at all)."""
    if len(data) < HEADER.size:
        raise RevealError(f"only {len(data)} bytes revealed, fewer than the {HEADER.size}-byte header")
    magic, version, _, length, crc = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise RevealError(no_frame)
    if version != FRAME_VERSION:
        raise RevealError(f"message frame version {version} is not supported (this code reads {FRAME_VERSION})")
    if length > len(data) - HEADER.size:
        raise RevealError(f"the header claims {length} bytes but the image holds at most {len(data) - HEADER.size}: "
                          "the stego image was changed after hiding")
    message = data[HEADER.size:HEADER.size + length]
    if zlib.crc32(message) != crc:
        raise RevealError("the message is damaged (CRC-32 mismatch): the stego image was changed after hiding "
                          "(edited, resized or saved lossily); nothing was revealed")
    return message


def as_message(message) -> bytes:
    """A message as bytes: bytes as they are, text encoded as UTF-8; anything else is a TypeError."""
    if isinstance(message, str):
        return message.encode("utf-8")
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(f"message must be bytes or str, got {type(message).__name__}")
    return bytes(message)
