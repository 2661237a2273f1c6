"""Key mode, the paper's scheme: hide and reveal real messages with a key file (notebook 06).

The paper's scheme end to end::

    message bytes -> frame (header + message) -> random filler up to capacity -> bits
      -> mapping module (Algorithm 1) -> secret map (3, H, W)
      -> network forward (cover, secret map) -> (stego, z) -> 8-bit PNG  +  key file (z, turn, ...)

    stego PNG + key -> network inverse (stego, z) -> secret_rev -> Algorithm 2 -> bits
      -> header checks (magic, version, length, CRC-32) -> message bytes, or a clear error

The frame (14 bytes: magic, version, length, CRC-32) and the filler that hides the message's length
are :mod:`helpers.coding.payload`'s, so :func:`reveal` returns the exact message or raises
:class:`RevealError`. The key (:class:`Key`, a numpy ``.npz`` read with ``allow_pickle=False``:
loading it never runs code) holds z, the flip flag, the fingerprint of the model's weights, the
*corrections* (bits :func:`hide`'s own reveal found wrong: none with a trained network) and a
thumbnail of the stego image. The thumbnail is there because in this scheme the message travels
mostly in z: the right key reveals it from the stego image, the untouched cover, even another image
of the same size (notebook 06 measures it, notebook 09 explains it); :func:`reveal` refuses an image
whose thumbnail differs by more than :data:`THUMB_TOLERANCE` levels (a changed pixel or JPEG passes,
another image does not). Covers of any size (at least :data:`MIN_SIDE` a side) run as they are, in
tiles of at most :data:`TILE` pixels a side, so that memory stays bounded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from helpers.data.photos import batch_to_uint8, pil_to_tensor, tensor_to_pil, uint8_to_batch
from helpers.plumbing.files import write_atomic
from helpers.coding.mapping import map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from helpers.plumbing.images import MIN_SIDE, CoverConverted, check_side, open_cover, open_stego, save_png  # noqa: F401 (public API)
from helpers.plumbing.inference import forward_tiled, inverse_tiled, load_network, model_device
from helpers.methods.base import Hidden, Method, image_size
from helpers.network.model import StegoINN, quantize_8bit
from helpers.coding.payload import (BPP_CHOICES, FRAME_VERSION, HEADER, MAGIC, CapacityError, RevealError, as_message, bits_to_bytes,  # noqa: F401
                      bits_to_plane, bytes_to_bits, capacity_bytes, frame, framed_and_filled, plane_to_bits, unframe)

KEY_FORMAT = "inn-stego-key"
KEY_VERSION = 1
TILE = 256
THUMB_SIZE = 16
THUMB_TOLERANCE = 8.0  # mean absolute difference of thumbnails, in 8-bit levels


class KeyFileError(ValueError):
    """A key file that cannot be read (missing, truncated, corrupted, not a key)."""


def capacity(height: int, width: int, bpp: int = 3) -> int:
    """The longest message (bytes) that :func:`hide` fits in a ``height x width`` cover: the
    cover's raw capacity (:func:`helpers.coding.payload.capacity_bytes`) minus the 14-byte header (at
    least 32 - 14 bytes: the smallest cover, 16 x 16 at 1 bpp)."""
    check_side(height, width)
    return capacity_bytes(height, width, bpp) - HEADER.size


# ----------------------------------------------------------------------------- keys

def model_fingerprint(model: torch.nn.Module) -> str:
    """SHA-256 (first 16 hex digits) of a model's weights and configuration: a key made with
    one set of weights is refused by another."""
    h = hashlib.sha256(repr(sorted(getattr(model, "config", {}).items())).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


@dataclass
class Key:
    """What the receiver needs besides the stego image and the model (the paper's z and more)."""

    z: np.ndarray                  # float32 (3, H, W): the second output of the forward pass
    turn: bool                     # Algorithm 1's flag
    bpp: int
    height: int
    width: int
    model_fingerprint: str
    tile: int = TILE
    thumbnail: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.uint8))  # of the stego image
    corrections: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # bit positions to flip
    version: int = KEY_VERSION

    def save(self, path) -> Path:
        """Write the key as an ``.npz`` archive, atomically (:func:`helpers.plumbing.files.write_atomic`)."""
        return write_atomic(path, self.write)

    def write(self, f) -> None:
        """Write the key's ``.npz`` archive to an open binary file."""
        arrays = {
            "format": np.array(KEY_FORMAT), "version": np.array(self.version, np.int64),
            "z": np.asarray(self.z, np.float32), "turn": np.array(bool(self.turn)),
            "bpp": np.array(self.bpp, np.int64), "size": np.array([self.height, self.width], np.int64),
            "tile": np.array(self.tile, np.int64), "model_fingerprint": np.array(self.model_fingerprint),
            "thumbnail": np.asarray(self.thumbnail, np.uint8),
            "corrections": np.asarray(self.corrections, np.int64),
        }
        np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path) -> "Key":
        """Read a key file; never runs code (``allow_pickle=False``). Raises :class:`KeyFileError`."""
        path = Path(path)
        if not path.is_file():
            raise KeyFileError(f"key file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as archive:
                a = {k: archive[k] for k in archive.files}
        except Exception as e:  # zip/CRC errors, truncation, pickled data refused
            raise KeyFileError(f"{path} is not a readable key file (truncated, corrupted or another format: "
                               f"{type(e).__name__})") from None
        malformed = KeyFileError(f"{path} is not an inn-stego key file (fields missing or malformed)")
        try:
            if str(a["format"]) != KEY_FORMAT:
                raise malformed
            version = int(a["version"])
            if version > KEY_VERSION:
                raise KeyFileError(f"{path} is a version {version} key; this code reads up to {KEY_VERSION}: "
                                   "update the package")
            key = cls(z=a["z"].astype(np.float32), turn=bool(a["turn"]), bpp=int(a["bpp"]),
                      height=int(a["size"][0]), width=int(a["size"][1]), tile=int(a["tile"]),
                      model_fingerprint=str(a["model_fingerprint"]), thumbnail=a["thumbnail"].astype(np.uint8),
                      corrections=a["corrections"].astype(np.int64), version=version)
        except KeyFileError:
            raise
        except Exception:
            raise malformed from None
        if key.z.shape != (3, key.height, key.width) or key.bpp not in (1, 3) or key.tile < 1:
            raise KeyFileError(f"{path} is damaged: z has shape {key.z.shape} for a {key.width} x {key.height} cover")
        if key.corrections.size and (key.corrections.min() < 0 or key.corrections.max() >= key.bpp * key.height * key.width):
            raise KeyFileError(f"{path} is damaged: correction positions out of range")
        return key


# ----------------------------------------------------------------------------- the key's thumbnail

def thumbnail(image: Image.Image) -> np.ndarray:
    """Block averages of an RGB image, at most 16 x 16 (``(h, w, 3)`` uint8): what the key
    remembers of its stego image."""
    w, h = image.size
    return np.asarray(image.convert("RGB").resize((min(THUMB_SIZE, w), min(THUMB_SIZE, h)), Image.BOX))


# ----------------------------------------------------------------------------- hide / reveal

def hide(cover, message, model: StegoINN | None = None, bpp: int = 3, filler_seed=None,
         tile: int = TILE) -> tuple[Image.Image, Key]:
    """Hide ``message`` (bytes, or text encoded as UTF-8) in ``cover`` (a PIL image or a path).

    Returns ``(stego_image, key)``: an 8-bit RGB PIL image (save it as PNG) and the :class:`Key`
    the receiver needs. ``model`` defaults to the shipped checkpoint. Raises
    :class:`~helpers.coding.payload.CapacityError` (stating the capacity) when the message does not fit.
    """
    stego_image, key, _ = hide_and_check(cover, message, model, bpp, filler_seed, tile)
    return stego_image, key


def hide_and_check(cover, message, model: StegoINN | None = None, bpp: int = 3, filler_seed=None,
                   tile: int = TILE) -> tuple[Image.Image, Key, dict]:
    """:func:`hide`, plus what its own check found: ``check`` has ``raw_ra`` (the fraction of the
    hidden bits the inverse network gives back before the key's corrections: the paper's recovery
    accuracy), ``errors`` (how many did not) and ``message`` (the bytes read back after the
    corrections, through the same checks as :func:`reveal`).

    The check *is* a reveal: the inverse network on the 8-bit stego image with the key's z, which
    is exactly what :func:`reveal` computes from the PNG (PNG is lossless). The stego dashboard uses
    it so that a new message costs one forward and one inverse pass instead of three."""
    message = as_message(message)
    if bpp not in (1, 3):
        raise ValueError(f"bpp must be 1 or 3, got {bpp!r}")
    model = model if model is not None else load_network().model
    image = open_cover(cover)
    width, height = image.size
    cap = capacity(height, width, bpp)
    if len(message) > cap:
        raise CapacityError(f"the message is {len(message)} bytes but this {width} x {height} cover holds at most "
                            f"{cap} bytes at {bpp} bpp; use a larger cover"
                            + (", --bpp 3," if bpp == 1 else "") + " or a shorter message")
    bits = bytes_to_bits(framed_and_filled(message, capacity_bytes(height, width, bpp), filler_seed))
    secret_map, turn = map_bits(torch.from_numpy(bits_to_plane(bits, height, width, bpp)))
    device = model_device(model)
    cover_t = pil_to_tensor(image).to(device)
    stego, z = forward_tiled(model, cover_t, secret_map.to(device), tile)
    stego_8bit = quantize_8bit(stego)
    # Reveal our own 8-bit stego once: bits that do not come back are listed in the key.
    got = _reveal_bits(model, stego_8bit, z, turn, bpp, tile)
    corrections = np.flatnonzero(got[:bits.size] != bits)
    stego_image = tensor_to_pil(stego_8bit)
    key = Key(z=z.cpu().numpy().astype(np.float32), turn=bool(turn), bpp=bpp, height=height, width=width,
              model_fingerprint=model_fingerprint(model), tile=tile, thumbnail=thumbnail(stego_image),
              corrections=corrections.astype(np.int64))
    check = {"raw_ra": 1 - corrections.size / bits.size, "errors": int(corrections.size),
             "message": _corrected_message(got, key)}
    return stego_image, key, check


def _reveal_bits(model, stego_8bit, z, turn, bpp, tile) -> np.ndarray:
    secret_rev = inverse_tiled(model, stego_8bit, z, tile)
    bits = unmap_bits(secret_rev.cpu(), turn).numpy()
    return plane_to_bits(bits, bpp)


def reveal(stego, key, model: StegoINN | None = None, check_image: bool = True) -> bytes:
    """The message hidden in ``stego`` (PIL image or path) with ``key`` (:class:`Key` or a path
    to a key file). Returns the exact bytes, or raises :class:`RevealError` (wrong key, another
    model, an altered image) or :class:`KeyFileError`; never returns wrong bytes.

    ``check_image=False`` skips the thumbnail check (module docstring): notebook 06 uses it to
    show what the key alone carries."""
    key = key if isinstance(key, Key) else Key.load(key)
    model = model if model is not None else load_network().model
    image = open_stego(stego)
    width, height = image.size
    if (height, width) != (key.height, key.width):
        raise RevealError(f"the stego image is {width} x {height} but the key was made for {key.width} x {key.height}: "
                          "the image was cropped or resized, or the key belongs to another image")
    if check_image and key.thumbnail.size:
        diff = np.abs(thumbnail(image).astype(np.float64) - key.thumbnail).mean()
        if diff > THUMB_TOLERANCE:
            raise RevealError(f"this key was made for another image (thumbnails differ by {diff:.0f} levels on "
                              "average): use the key written together with this stego image")
    fingerprint = model_fingerprint(model)
    if fingerprint != key.model_fingerprint:
        raise RevealError(f"the key was made with another model (weights {key.model_fingerprint}, this model "
                          f"{fingerprint}): use the checkpoint that hid the message")
    device = model_device(model)
    stego_t = pil_to_tensor(image).to(device)
    bits = _reveal_bits(model, stego_t, torch.from_numpy(key.z).to(device), key.turn, key.bpp, key.tile)
    return _corrected_message(bits, key)


def _corrected_message(bits: np.ndarray, key: Key) -> bytes:
    """The message in revealed ``bits`` after flipping the key's corrections; checks the frame."""
    bits = bits.copy()
    bits[key.corrections] ^= 1
    return unframe(bits_to_bytes(bits[:bits.size // 8 * 8]))


# ----------------------------------------------------------------------------- as a Method

class KeyMode(Method):
    """The paper's scheme behind the interface of :mod:`helpers.methods.base`: ``hide`` returns the
    :class:`Key`, ``reveal`` needs it; ``embed``/``extract`` hand z and the flip flags over as the
    side information (``mapping=False``: Table 4's ablation, bits {0, 1} read at 0.5)."""

    name, title, needs_key = "key", "key mode", True

    def __init__(self, model: StegoINN | None = None, checkpoint=None, bpp: int = 3, mapping: bool = True,
                 tile: int = TILE) -> None:
        self._model, self.checkpoint, self.mapping, self.tile = model, checkpoint, mapping, tile
        self.set_bpp(bpp)

    @property
    def model(self) -> StegoINN:
        if self._model is None:
            self._model = load_network(self.checkpoint).model
        return self._model

    bpp_choices = BPP_CHOICES

    def set_bpp(self, bpp: int) -> None:
        if bpp not in self.bpp_choices:
            raise ValueError(f"bpp must be 1 or 3, got {bpp!r}")
        self.bpp = bpp

    def capacity_report(self, cover, **options):
        h, w = image_size(cover)
        return capacity(h, w, self.bpp), (f"a {w} x {h} cover holds {self.bpp} x {w} x {h} bits = "
                                          f"{capacity_bytes(h, w, self.bpp)} bytes at {self.bpp} bpp, of which "
                                          f"{HEADER.size} go to the header (magic, version, length, CRC-32)")

    def hide(self, cover, message, filler_seed=None, **options) -> Hidden:
        stego, key, check = hide_and_check(cover, message, self.model, self.bpp, filler_seed, self.tile)
        return Hidden(stego, key, check)

    def reveal(self, stego, key=None, check_image: bool = True, **options) -> bytes:
        if key is None:
            raise ValueError("key mode needs the key file written by hide")
        return reveal(stego, key, self.model, check_image)

    def summary(self, hidden: Hidden, n_bytes: int):
        key = hidden.key
        return (f"hid {n_bytes} bytes in a {key.width} x {key.height} cover at {key.bpp} bpp (capacity "
                f"{capacity(key.height, key.width, key.bpp)} bytes)",
                f"; {key.corrections.size} bit(s) corrected through the key" if key.corrections.size else "")

    def embed(self, covers, bits):
        n, h, w, _ = covers.shape
        planes = torch.from_numpy(np.stack([bits_to_plane(b, h, w, self.bpp) for b in bits]))
        secret_map, turn = map_bits(planes, batch=True) if self.mapping else (map_bits_plain(planes), None)
        device = model_device(self.model)
        stego, z = forward_tiled(self.model, uint8_to_batch(covers).to(device), secret_map.to(device), self.tile)
        return batch_to_uint8(stego), (z, turn)

    def extract(self, stegos, side=None, generator=None):
        z, turn = side
        secret_rev = inverse_tiled(self.model, uint8_to_batch(stegos).to(z.device), z, self.tile).cpu()
        planes = unmap_bits(secret_rev, turn) if self.mapping else unmap_bits_plain(secret_rev)
        return np.stack([plane_to_bits(p, self.bpp) for p in planes.numpy()])
