"""The payload layer of blind mode: exact recovery or a loud failure from noisy bits (notebook 09).

A blind-mode network gets a few bits wrong (``data/checkpoints/README.md`` gives its raw bit error
rate). This layer turns "almost right" into "exactly right or an error"::

    header (16 bytes: magic INNB, version, parity size, length, CRC-32 of the message, nonce)
        -> Reed-Solomon, 32 parity bytes                 -> 48 bytes
    message -> Reed-Solomon in blocks of 255 bytes, ``nsym`` parity bytes each (default 32: any 16
        wrong bytes per block are corrected)
    random filler up to the raw capacity of the cells used (helpers.methods.blind_mode puts a message in as
        few 32 x 32 cells as hold it; inside them the filler hides the length)
    everything XOR a keystream (the part after the header also XOR a second one chosen by the
        nonce), then the bits put in a permuted order

The keystream and the permutation come from SHAKE-256 of the password (or of a fixed public
string without one): errors that cluster in one region of the image are spread over many code
blocks, the bits look random whatever the message (about half ones), and with a wrong password the
header decodes to nothing and :class:`BlindRevealError` is raised: never wrong bytes. The
Reed-Solomon code is the ``reedsolo`` package (a maintained, tested implementation; this project
does not write its own Galois-field arithmetic).

**Adapting to the cover** (version 3). The receiver knows how sure each bit is (its value's
distance from the threshold 0.25): for a block that fails, :func:`decode` marks the least certain
bytes as *erasures* (``2e + s <= nsym`` corrects ``e`` errors and ``s`` erasures; notebook 09,
section 2.4, measures what it gains). The **nonce** gives the sender another chance at no cost in
capacity: another whitening of the body, other bits, other errors. The CRC-32 over the whole
message has the last word: a decode steered wrong fails it, never returns wrong bytes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np
from reedsolo import ReedSolomonError, RSCodec

from helpers.coding.payload import NoMessageError, random_filler

MAGIC = b"INNB"
VERSION = 3  # 2: the bits live in 32 x 32 cells, as few as the message needs (helpers.methods.blind_mode); 3: + nonce
READS = (2, 3)  # versions decode() reads (version 2 is version 3 with no nonce whitening)
HEADER = struct.Struct(">4sBBIIBx")  # magic, version, nsym, length, CRC-32, nonce, 1 reserved byte: 16 bytes
NONCES = 256
HEADER_NSYM = 32
HEADER_BYTES = HEADER.size + HEADER_NSYM  # 48
DEFAULT_NSYM = 32
BLOCK = 255  # a Reed-Solomon codeword over GF(256): data + parity <= 255 bytes


class BlindRevealError(NoMessageError):
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


def _whitening(password: str | None, n: int, version: int, nonce: int) -> np.ndarray:
    """The keystream bits XORed onto ``n`` bits: the password's stream, and after the header the
    nonce's (version 3)."""
    w = np.unpackbits(np.frombuffer(_stream(password, b"whiten", (n + 7) // 8), dtype=np.uint8))[:n]
    if version >= 3 and n > 8 * HEADER_BYTES:
        body = n - 8 * HEADER_BYTES
        w[8 * HEADER_BYTES:] ^= np.unpackbits(np.frombuffer(
            _stream(password, b"nonce %d" % nonce, (body + 7) // 8), dtype=np.uint8))[:body]
    return w


def encode(message: bytes, raw_bits: int, password: str | None = None, nsym: int = DEFAULT_NSYM,
           filler_seed: int | None = None, nonce: int = 0, version: int = VERSION) -> np.ndarray:
    """``raw_bits`` bits (uint8, 0/1) that carry ``message``: frame, code, filler, whitening and
    permutation as described above. ``nonce`` (0-255) picks the body's whitening; ``version=2``
    writes the older format (for tests of reading it). Raises ``ValueError`` naming the net capacity
    if it does not fit."""
    if version not in READS:
        raise ValueError(f"version must be one of {READS}, got {version}")
    if not 0 <= nonce < NONCES or (version == 2 and nonce):
        raise ValueError(f"nonce must be between 0 and {NONCES - 1} (0 in version 2), got {nonce}")
    message = bytes(message)
    raw = raw_bits // 8
    need = coded_length(len(message), nsym)
    if need > raw:
        raise ValueError(f"message of {len(message)} bytes does not fit: the net capacity is "
                         f"{net_capacity(raw, nsym)} bytes (with {nsym} parity bytes per block)")
    header = HEADER.pack(MAGIC, version, nsym, len(message), zlib.crc32(message), nonce)
    body = bytes(RSCodec(HEADER_NSYM).encode(header)) + (bytes(RSCodec(nsym).encode(message)) if message else b"")
    filler_len = raw_bits - 8 * len(body)
    filler = np.frombuffer(random_filler((filler_len + 7) // 8, filler_seed), dtype=np.uint8)
    data = np.concatenate([np.frombuffer(body, dtype=np.uint8), filler])
    bits = np.unpackbits(data)[:raw_bits]
    bits ^= _whitening(password, raw_bits, version, nonce)
    out = np.empty(raw_bits, dtype=np.uint8)
    out[permutation(raw_bits, password)] = bits
    return out


def block_errors(sent, received, password: str | None, length: int, nsym: int = DEFAULT_NSYM) -> list[int]:
    """Wrong bytes per code block when ``sent`` (the output of :func:`encode` for a message of
    ``length`` bytes) came back as ``received``: the header's block first, then the message's.
    A block with ``e`` wrong bytes needs ``2e`` parity bytes (errors only), so a sender that knows
    both can tell how much parity a retry needs (helpers.methods.blind_mode's hide does)."""
    sent, received = np.asarray(sent).ravel(), np.asarray(received).ravel()
    if sent.shape != received.shape:
        raise ValueError(f"sent and received must have the same number of bits, got {sent.size} and {received.size}")
    end = coded_length(length, nsym)
    wrong = (sent != received)[permutation(sent.size, password)][: 8 * end].reshape(-1, 8).any(1)
    return [int(wrong[:HEADER_BYTES].sum())] + [int(wrong[s:s + BLOCK].sum()) for s in range(HEADER_BYTES, end, BLOCK)]


def decode_chance(byte_error_rate: float, length: int, nsym: int = DEFAULT_NSYM) -> float:
    """The chance that every block of a ``length``-byte message with ``nsym`` parity bytes decodes
    (errors only), if each byte is wrong on its own with probability ``byte_error_rate``: a
    sender that measured the rate on a failed attempt can tell which parity is worth trying next."""
    from math import comb

    p, ok = min(max(byte_error_rate, 0.0), 1.0), 1.0
    for start in range(0, length, BLOCK - nsym):
        n = min(BLOCK - nsym, length - start) + nsym
        ok *= sum(comb(n, e) * p ** e * (1 - p) ** (n - e) for e in range(nsym // 2 + 1))
    return ok


# erasures tried per failing block, as shares of its parity: never all of it, so that what is left
# still detects a block beyond reach (with every parity byte erased any bytes "decode", and only
# the CRC-32 would stand between a damaged image and wrong bytes)
ERASURE_SHARES = (0, 0.25, 0.5, 0.75)


def _rs_decode(chunk: bytes, nsym: int, confidence: np.ndarray | None, max_share: float = ERASURE_SHARES[-1]):
    """One Reed-Solomon block: errors only first, then (with ``confidence``, one value per byte)
    with its least certain bytes marked as erasures, more each time (:data:`ERASURE_SHARES`, up to
    ``max_share`` of the parity). Returns ``(data, n_fixed)``; raises ``ReedSolomonError``."""
    codec = RSCodec(nsym)

    def fixed(full) -> int:  # bytes that really changed (an erased byte may have been right)
        return int(np.count_nonzero(np.frombuffer(bytes(full), np.uint8) != np.frombuffer(chunk, np.uint8)))

    try:
        data, full, _ = codec.decode(chunk)
        return bytes(data), fixed(full)
    except ReedSolomonError:
        if confidence is None:
            raise
    order = np.argsort(confidence, kind="stable")
    for share in ERASURE_SHARES[1:]:
        if share > max_share:
            break
        k = min(len(chunk) - 1, int(nsym * share))
        try:
            data, full, _ = codec.decode(chunk, erase_pos=sorted(order[:k].tolist()))
            return bytes(data), fixed(full)
        except ReedSolomonError:
            continue
    raise ReedSolomonError("too many errors")


def decode(bits, password: str | None = None, confidence=None) -> tuple[bytes, dict]:
    """The message carried by ``bits`` (the output of :func:`encode`, possibly with errors).
    ``confidence`` (optional, one non-negative value per bit, e.g. the distance of the network's
    value from the threshold) lets the code treat the least certain bytes of a failing block as
    erasures. Returns ``(message, info)`` with ``info["corrected"]``: byte errors the code
    corrected. Raises :class:`BlindRevealError` when no message can be decoded exactly."""
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    n = bits.size
    if n < 8 * HEADER_BYTES:
        raise BlindRevealError(f"the image is too small to hold a blind-mode message ({n} bits)")
    order = permutation(n, password)
    bits = bits[order]
    byte_conf = None
    if confidence is not None:
        confidence = np.asarray(confidence, dtype=np.float32).ravel()
        if confidence.shape != (n,):
            raise ValueError(f"confidence must have one value per bit ({n}), got {confidence.size}")
        byte_conf = confidence[order][: n - n % 8].reshape(-1, 8).min(1)
    head = np.packbits(bits[: 8 * HEADER_BYTES] ^ _whitening(password, 8 * HEADER_BYTES, 2, 0)).tobytes()
    try:
        # at most half the header's parity as erasures: the rest still detects a header that is not there
        header, corrected = _rs_decode(head, HEADER_NSYM, None if byte_conf is None else byte_conf[:HEADER_BYTES],
                                       max_share=0.5)
    except ReedSolomonError:
        raise NoHeaderError(NO_MESSAGE) from None
    magic, version, nsym, length, crc, nonce = HEADER.unpack(header)
    if magic != MAGIC:
        raise NoHeaderError(NO_MESSAGE)
    if version not in READS:
        raise BlindRevealError(f"blind-mode format version {version}; this program reads versions "
                               f"{', '.join(map(str, READS))}")
    if not 2 <= nsym <= 128 or nsym % 2 or coded_length(length, nsym) > n // 8 or (version == 2 and nonce):
        raise NoHeaderError(NO_MESSAGE)
    message = b""
    if length:
        end = coded_length(length, nsym)
        data = np.packbits(bits[: 8 * end] ^ _whitening(password, 8 * end, version, nonce)).tobytes()
        parts = []
        for start in range(HEADER_BYTES, end, BLOCK):
            stop = min(start + BLOCK, end)
            try:
                part, fixed = _rs_decode(data[start:stop], nsym, None if byte_conf is None else byte_conf[start:stop])
            except ReedSolomonError:
                raise BlindRevealError("the message has more bit errors than its code corrects; it cannot be "
                                       "recovered (was the image altered?)") from None
            parts.append(part)
            corrected += fixed
        message = b"".join(parts)
    if zlib.crc32(message) != crc or len(message) != length:
        raise BlindRevealError("the message failed its checksum after error correction; it cannot be recovered")
    return message, {"corrected": corrected, "nsym": nsym, "length": length, "nonce": nonce, "version": version}
