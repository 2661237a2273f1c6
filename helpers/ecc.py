"""The payload layer of blind mode: exact recovery or a loud failure from noisy bits (notebook 09).

A blind-mode network gets a few bits wrong (its raw bit error rate is 1e-4 to 1e-3 on the bundled
photos). This layer turns "almost right" into "exactly right or an error"::

    header (16 bytes: magic INNB, version, parity size, length, CRC-32 of the message)
        -> Reed-Solomon, 32 parity bytes                 -> 48 bytes
    message -> Reed-Solomon in blocks of 255 bytes, ``nsym`` parity bytes each (default 32: any 16
        wrong bytes per block are corrected)
    random filler up to the raw capacity of the cells used (helpers.blind puts a message in as
        few 32 x 32 cells as hold it; inside them the filler hides the length)
    everything XOR a keystream, then the bits put in a permuted order

The keystream and the permutation come from SHAKE-256 of the password (or of a fixed public
string without one): errors that cluster in one region of the image are spread over many code
blocks, the bits look random whatever the message (about half ones), and with a wrong password the
header decodes to nothing and :class:`BlindRevealError` is raised: never wrong bytes. The
Reed-Solomon code is the ``reedsolo`` package (a maintained, tested implementation; this project
does not write its own Galois-field arithmetic).
"""

from __future__ import annotations

import hashlib
import secrets
import struct
import zlib

import numpy as np
from reedsolo import ReedSolomonError, RSCodec

MAGIC = b"INNB"
VERSION = 2  # 2: the bits live in 32 x 32 cells, only as many as the message needs (helpers.blind)
HEADER = struct.Struct(">4sBBII2x")  # magic, version, nsym, length, CRC-32, 2 reserved bytes: 16 bytes
HEADER_NSYM = 32
HEADER_BYTES = HEADER.size + HEADER_NSYM  # 48
DEFAULT_NSYM = 32
NSYM_DEFAULT_DOC = (f"{DEFAULT_NSYM} Reed-Solomon parity bytes to every block of up to {255 - DEFAULT_NSYM} "
                    "message bytes (hide adds more parity, and so holds less, when an image needs it)")
BLOCK = 255  # a Reed-Solomon codeword over GF(256): data + parity <= 255 bytes


class BlindRevealError(ValueError):
    """No blind-mode message could be decoded exactly (wrong password, not a stego image, too
    many bit errors)."""


NO_MESSAGE = ("no blind-mode message found: wrong password, an image without a message, or one that was "
              "altered after hiding (resized, cropped, re-encoded)")


class NoHeaderError(BlindRevealError):
    """No header decodes from these bits: no message here (or a wrong password). Blind mode's
    reveal tries the next footprint when it sees this."""


def _check_nsym(nsym: int) -> None:
    if not (2 <= nsym <= 128 and nsym % 2 == 0):
        raise ValueError(f"nsym (parity bytes per block) must be even and between 2 and 128, got {nsym}")


def coded_length(n: int, nsym: int = DEFAULT_NSYM) -> int:
    """Bytes a message of ``n`` bytes takes after the code (header included)."""
    _check_nsym(nsym)
    blocks = -(-n // (BLOCK - nsym))
    return HEADER_BYTES + n + blocks * nsym


def net_capacity(raw_bytes: int, nsym: int = DEFAULT_NSYM) -> int:
    """The longest message that fits in ``raw_bytes`` bytes after header and parity."""
    _check_nsym(nsym)
    room = raw_bytes - HEADER_BYTES
    if room <= nsym:
        return 0
    full, rest = divmod(room, BLOCK)
    return full * (BLOCK - nsym) + max(0, rest - nsym)


def _stream(password: str | None, what: bytes, n: int) -> bytes:
    key = b"inn-stego blind v1|" + (b"no password" if password is None else b"password:" + password.encode("utf-8"))
    return hashlib.shake_256(what + b"|" + key).digest(n)


def permutation(n: int, password: str | None, what: bytes = b"permutation") -> np.ndarray:
    """The order in which the ``n`` bits are placed (a permutation of ``range(n)``), from the password
    (``what`` names the use, so that different orders from one password are independent)."""
    keys = np.frombuffer(_stream(password, what, 8 * n), dtype="<u8")
    return np.argsort(keys, kind="stable")


def encode(message: bytes, raw_bits: int, password: str | None = None, nsym: int = DEFAULT_NSYM,
           filler_seed: int | None = None) -> np.ndarray:
    """``raw_bits`` bits (uint8, 0/1) that carry ``message``: frame, code, filler, whitening and
    permutation as described above. Raises ``ValueError`` naming the net capacity if it does not fit."""
    message = bytes(message)
    raw = raw_bits // 8
    need = coded_length(len(message), nsym)
    if need > raw:
        raise ValueError(f"message of {len(message)} bytes does not fit: the net capacity is "
                         f"{net_capacity(raw, nsym)} bytes (with {nsym} parity bytes per block)")
    header = HEADER.pack(MAGIC, VERSION, nsym, len(message), zlib.crc32(message))
    body = bytes(RSCodec(HEADER_NSYM).encode(header)) + (bytes(RSCodec(nsym).encode(message)) if message else b"")
    filler_len = raw_bits - 8 * len(body)
    if filler_seed is None:
        filler = np.frombuffer(secrets.token_bytes((filler_len + 7) // 8), dtype=np.uint8)
    else:
        filler = np.random.default_rng(filler_seed).integers(0, 256, (filler_len + 7) // 8, dtype=np.uint8)
    data = np.concatenate([np.frombuffer(body, dtype=np.uint8), filler])
    bits = np.unpackbits(data)[:raw_bits]
    bits ^= np.unpackbits(np.frombuffer(_stream(password, b"whiten", (raw_bits + 7) // 8), dtype=np.uint8))[:raw_bits]
    out = np.empty(raw_bits, dtype=np.uint8)
    out[permutation(raw_bits, password)] = bits
    return out


def decode(bits, password: str | None = None) -> tuple[bytes, dict]:
    """The message carried by ``bits`` (the output of :func:`encode`, possibly with errors).
    Returns ``(message, info)`` with ``info["corrected"]``: byte errors the code corrected. Raises
    :class:`BlindRevealError` when no message can be decoded exactly."""
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    n = bits.size
    if n < 8 * HEADER_BYTES:
        raise BlindRevealError(f"the image is too small to hold a blind-mode message ({n} bits)")
    bits = bits[permutation(n, password)]
    bits ^= np.unpackbits(np.frombuffer(_stream(password, b"whiten", (n + 7) // 8), dtype=np.uint8))[:n]
    data = np.packbits(bits[: n - n % 8]).tobytes()
    try:
        header, _, fixed = RSCodec(HEADER_NSYM).decode(data[:HEADER_BYTES])
    except ReedSolomonError:
        raise NoHeaderError(NO_MESSAGE) from None
    magic, version, nsym, length, crc = HEADER.unpack(bytes(header))
    if magic != MAGIC:
        raise NoHeaderError(NO_MESSAGE)
    if version != VERSION:
        raise BlindRevealError(f"blind-mode format version {version}; this program reads version {VERSION}")
    if not 2 <= nsym <= 128 or nsym % 2 or coded_length(length, nsym) > len(data):
        raise NoHeaderError(NO_MESSAGE)
    corrected = len(fixed)
    message = b""
    if length:
        coded = data[HEADER_BYTES:coded_length(length, nsym)]
        try:
            message, _, fixed = RSCodec(nsym).decode(coded)
        except ReedSolomonError:
            raise BlindRevealError("the message has more bit errors than its code corrects; it cannot be "
                                   "recovered (was the image altered?)") from None
        message, corrected = bytes(message), corrected + len(fixed)
    if zlib.crc32(message) != crc or len(message) != length:
        raise BlindRevealError("the message failed its checksum after error correction; it cannot be recovered")
    return message, {"corrected": corrected, "nsym": nsym, "length": length}
