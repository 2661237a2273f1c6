"""One interface for every way to hide, and the registry that names them (notebook 07 compares
them; notebooks 06 and 09 teach the paper's key mode and blind mode).

A :class:`Method` answers the same questions whatever it does inside::

    capacity_report(cover) -> (bytes, how they are counted)   the longest message this cover holds
    hide(cover, message)   -> Hidden(stego, key, info)        key: what the receiver needs, or None
    reveal(stego, key)     -> the exact message, or NoMessageError (never wrong bytes)
    embed(covers, bits)    -> (stegos, side)                  raw bits at full capacity, no framing:
    extract(stegos, side)  -> bits                            what evaluation and steganalysis measure

Images at the bit level are uint8 arrays ``(N, H, W, 3)``; ``bits`` are uint8 ``(N, raw_bits(H, W))``;
``side`` is whatever reaches the receiver besides the image (key mode's z, nothing for the others).
Bad input raises ``ValueError`` (:class:`helpers.coding.payload.CapacityError` for a message too long).

The base class turns ``embed``/``extract`` into a working ``hide``/``reveal`` with the frame of
:func:`helpers.coding.payload.frame` (length and CRC-32) and random filler: exact for LSB, honest about the
others (a baseline that gets a bit wrong fails its CRC and says so). Key mode and blind mode bring
their own (the key file; the Reed-Solomon code).

The command line, the evaluation harness, the steganalysis sets and the dashboards look methods up
by name with :func:`get_method`; none tests a method's name. Adding a method is one subclass and
one :data:`REGISTRY` line::

    class GreenParity(Method):                   # the LSB of the green channel (README: in full)
        name, title, bpp = "parity", "green parity", 1
        def embed(self, covers, bits): ...
        def extract(self, stegos, side=None, generator=None): ...

    REGISTRY["parity"] = ("my_package.parity", "GreenParity", {})
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from helpers.plumbing.images import check_side, open_cover, open_stego, read_image
from helpers.coding.payload import (HEADER, CapacityError, as_message, bits_to_bytes, bytes_to_bits, capacity_bits,
                      framed_and_filled, unframe)


@dataclass
class Hidden:
    """What :meth:`Method.hide` returns: the 8-bit RGB stego image (save it as PNG), the key the
    receiver needs (key mode's :class:`helpers.methods.key_mode.Key`; None for methods without one) and what
    the method reports about its work (``info``)."""

    stego: Image.Image
    key: object = None
    info: dict = field(default_factory=dict)


def image_size(cover) -> tuple[int, int]:
    """``(height, width)`` of a cover (PIL image or path), checked against the smallest side."""
    w, h = cover.size if isinstance(cover, Image.Image) else read_image(cover, "cover image").size
    check_side(h, w)
    return h, w


class Method:
    """The interface (module docstring). Subclasses set :attr:`name`, :attr:`title`, :attr:`bpp` and
    implement :meth:`embed` and :meth:`extract`; the rest has working defaults."""

    name = "method"
    title = "a method"
    bpp = 1              # raw bits per pixel of embed/extract
    needs_key = False    # whether reveal needs the key that hide returned
    options = ()         # the keyword options hide and reveal take (the command line's flags of these names)
    measures_capacity = False  # whether capacity_report runs the method on the cover (else: from its size)

    def raw_bits(self, height: int, width: int) -> int:
        """Bits ``embed`` hides in one ``height x width`` cover."""
        return capacity_bits(height, width, self.bpp)

    @property
    def bpp_choices(self) -> tuple:
        """The bits per pixel :meth:`set_bpp` accepts."""
        return (self.bpp,)

    def set_bpp(self, bpp: int) -> None:
        """Choose the bits per pixel (the command line's ``--bpp``); ValueError if not offered."""
        if bpp != self.bpp:
            raise ValueError(f"--bpp {bpp}: {self.title} hides {self.bpp} bpp; drop --bpp")

    def embed(self, covers: np.ndarray, bits: np.ndarray):
        """8-bit stego images ``(N, H, W, 3)`` of ``covers`` with ``bits`` ``(N, raw_bits)``, and the side
        information the receiver gets (None: none)."""
        raise NotImplementedError

    def extract(self, stegos: np.ndarray, side=None, generator=None) -> np.ndarray:
        """The bits ``(N, raw_bits)`` a receiver reads from ``stegos`` (``generator``: for methods that
        draw random numbers when they reveal)."""
        raise NotImplementedError

    def capacity(self, cover, **options) -> int:
        """The longest message (bytes) :meth:`hide` fits in ``cover``."""
        return self.capacity_report(cover, **options)[0]

    def capacity_report(self, cover, **options) -> tuple[int, str]:
        """``(bytes, how they are counted)`` for ``cover`` (PIL image or path)."""
        h, w = image_size(cover)
        raw = self.raw_bits(h, w) // 8
        return raw - HEADER.size, (f"a {w} x {h} cover holds {raw} bytes at {self.bpp} bpp with {self.title}, of "
                                   f"which {HEADER.size} go to the header (magic, version, length, CRC-32)")

    def capacity_note(self, height: int, width: int) -> str | None:
        """A line to show before :meth:`capacity_report` when it takes a while (None: it is instant)."""
        return None

    def hide(self, cover, message, filler_seed=None, **options) -> Hidden:
        """``message`` (bytes or text) framed, filled up with random bytes and embedded in ``cover``."""
        message = as_message(message)
        image = open_cover(cover)
        w, h = image.size
        cap = self.capacity(image)
        if len(message) > cap:
            raise CapacityError(f"the message is {len(message)} bytes but this {w} x {h} cover holds at most {cap} "
                                f"bytes with {self.title}; use a larger cover or a shorter message")
        bits = np.zeros(self.raw_bits(h, w), np.uint8)
        raw = framed_and_filled(message, bits.size // 8, filler_seed)
        bits[:8 * len(raw)] = bytes_to_bits(raw)
        stegos, _ = self.embed(np.asarray(image)[None], bits[None])
        return Hidden(Image.fromarray(stegos[0]), None, {"raw_bits": int(bits.size)})

    def reveal(self, stego, key=None, **options) -> bytes:
        """The message :meth:`hide` put in ``stego`` (PIL image or path): exact, or
        :class:`helpers.coding.payload.RevealError`."""
        bits = self.extract(np.asarray(open_stego(stego))[None])[0]
        return unframe(bits_to_bytes(bits[:bits.size // 8 * 8]),
                       no_frame=f"no message found: this image holds no {self.title} message (or it was changed)")

    def summary(self, hidden: Hidden, n_bytes: int) -> tuple[str, str]:
        """The command line's report of a hide: the words before the file names, and after them."""
        return f"hid {n_bytes} bytes in a {hidden.stego.width} x {hidden.stego.height} cover with {self.title}", ""


# name -> (module, class, preset options). Built on demand, so that naming a method
# imports only what it needs (LSB needs no network).
REGISTRY = {
    "key": ("helpers.methods.key_mode", "KeyMode", {}),
    "blind": ("helpers.methods.blind_mode", "BlindMode", {}),
    "lsb": ("helpers.methods.baselines", "LSB", {}),
    "rehman": ("helpers.methods.baselines", "RehmanMethod", {}),
    "hinet": ("helpers.methods.baselines", "HiNetMethod", {}),
    # the evaluation's variants of the paper's method (Tables 1, 2 and 4)
    "inn": ("helpers.methods.key_mode", "KeyMode", {"bpp": 3}),
    "inn-1bpp": ("helpers.methods.key_mode", "KeyMode", {"bpp": 1}),
    "inn-nomap": ("helpers.methods.key_mode", "KeyMode", {"bpp": 3, "mapping": False}),
    "inn-1bpp-nomap": ("helpers.methods.key_mode", "KeyMode", {"bpp": 1, "mapping": False}),
}


def get_method(name: str, **options) -> Method:
    """The method registered as ``name``, built with ``options`` (e.g. ``checkpoint=``, ``model=``)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; available: {', '.join(REGISTRY)}")
    module, cls, preset = REGISTRY[name]
    method = getattr(importlib.import_module(module), cls)(**{**preset, **options})
    method.name = name
    return method
