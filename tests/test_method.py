"""The one interface every way to hide implements (helpers/methods/base.py) and its registry."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.data.photos import list_samples
from helpers.methods.base import REGISTRY, Hidden, Method, get_method
from helpers.coding.payload import CapacityError, NoMessageError, RevealError

COVER = list_samples()[0]
COVERS = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in list_samples()[:2]])


class GreenParity(Method):
    """The README's example of a new method: one bit per pixel in the green channel's LSB."""

    name, title, bpp = "parity", "green parity", 1

    def embed(self, covers, bits):  # the README's code, as it is there
        stegos = covers.copy()
        g = stegos[..., 1].reshape(len(covers), -1)
        stegos[..., 1] = ((g & 0xFE) | bits).reshape(stegos.shape[:3])
        return stegos, None

    def extract(self, stegos, side=None, generator=None):
        return stegos[..., 1].reshape(len(stegos), -1) & 1


@pytest.fixture
def parity_registered(monkeypatch):
    monkeypatch.setitem(sys.modules, "parity_method", sys.modules[__name__])
    monkeypatch.setitem(REGISTRY, "parity", ("parity_method", "GreenParity", {}))


def test_a_new_method_is_one_class_and_one_registry_line(parity_registered, tmp_path):
    """The generic hide/reveal (frame, filler, embed; extract, unframe) works for any embed/extract,
    and the CLI's capacity, the harness and make_stegos serve the new name."""
    from helpers.evaluation.harness import make_stegos

    m = get_method("parity")
    assert isinstance(m, GreenParity) and m.name == "parity"
    n, how = m.capacity_report(COVER)
    assert n == 128 * 128 // 8 - 14 and "green parity" in how
    hidden = m.hide(COVER, "hello", filler_seed=0)
    assert isinstance(hidden, Hidden) and hidden.key is None
    hidden.stego.save(tmp_path / "s.png")
    assert m.reveal(tmp_path / "s.png") == b"hello"
    assert m.hide(COVER, b"x" * n).stego.size == (128, 128)
    with pytest.raises(CapacityError, match=rf"holds at most {n} bytes with green parity"):
        m.hide(COVER, b"x" * (n + 1))
    stegos = make_stegos("parity", COVERS, seed=1)
    assert (stegos[..., [0, 2]] == COVERS[..., [0, 2]]).all() and (stegos != COVERS).any()


def test_the_generic_reveal_never_returns_wrong_bytes(parity_registered):
    m = get_method("parity")
    with pytest.raises(RevealError, match="^no message found: this image holds no green parity message"):
        m.reveal(COVER)  # a cover: no frame
    stego = np.asarray(m.hide(COVER, "hello", filler_seed=0).stego).copy()
    stego[0, 8 * 14 + 4, 1] ^= 1  # a bit of the message (byte 14, after the header): the CRC-32 catches it
    with pytest.raises(RevealError, match="CRC-32 mismatch"):
        m.reveal(Image.fromarray(stego))


def test_get_method_names_every_method_and_refuses_others():
    with pytest.raises(ValueError, match=r"^unknown method 'bogus'; available: key, blind, lsb, rehman, hinet"):
        get_method("bogus")
    for name in REGISTRY:
        m = get_method(name)
        assert isinstance(m, Method) and m.name == name and m.title
    assert get_method("inn-1bpp-nomap").bpp == 1 and get_method("inn-1bpp-nomap").mapping is False
    assert get_method("key", bpp=1).bpp == 1
    with pytest.raises(ValueError, match="bpp must be 1 or 3"):
        get_method("key", bpp=2)
    with pytest.raises(ValueError, match=r"^--bpp 3: LSB-1bit hides 1 bpp; drop --bpp$"):
        get_method("lsb").set_bpp(3)


@pytest.mark.parametrize("name", ["lsb", "inn", "inn-1bpp", "inn-nomap", "rehman", "hinet", "blind"])
def test_embed_and_extract_of_every_method(name):
    """Bits at full capacity through embed, the 8-bit image, extract: exact for LSB and the paper's
    network; the shipped baselines and blind mode get most bits (their figures: data/checkpoints/README.md)."""
    m = get_method(name)
    n = m.raw_bits(128, 128)
    assert n == m.bpp * 128 * 128
    bits = np.random.default_rng(0).integers(0, 2, (2, n), dtype=np.uint8)
    stegos, side = m.embed(COVERS, bits)
    assert stegos.shape == COVERS.shape and stegos.dtype == np.uint8 and (stegos != COVERS).any()
    ra = (m.extract(stegos, side) == bits).mean()
    assert ra == 1.0 if name in ("lsb", "inn", "inn-1bpp", "inn-nomap") else ra > 0.98, (name, ra)


def test_key_and_blind_mode_through_the_interface(tmp_path):
    key, blind = get_method("key"), get_method("blind")
    assert key.needs_key and not blind.needs_key and blind.options == ("password", "all_cells")
    h = key.hide(COVER, "key mode", filler_seed=0)
    assert key.reveal(h.stego, h.key) == b"key mode" and h.info["raw_ra"] == 1.0
    with pytest.raises(ValueError, match="^key mode needs the key file written by hide$"):
        key.reveal(h.stego)
    b = blind.hide(COVER, "blind mode", password="pw", filler_seed=0)
    assert b.key is None and blind.reveal(b.stego, password="pw") == b"blind mode"
    assert blind.summary(b, 10)[1] == ""  # the CLI's report warns only when there is no password
    assert blind.summary(blind.hide(COVER, "x", filler_seed=0), 1)[1] == "; no password: anyone with the network can read it"
    with pytest.raises(NoMessageError):
        blind.reveal(b.stego, password="other")
    with pytest.raises(ValueError, match="^blind mode uses no key file"):
        blind.reveal(b.stego, key=h.key, password="pw")
    assert key.capacity(COVER) == 6130 and 0 < blind.capacity(COVER) < key.capacity(COVER)


def test_nothing_outside_the_registry_chooses_a_method_by_name():
    """The CLI, the harness, make_stegos and the dashboards go through get_method: none of them tests
    a method's or mode's name against a string (evaluation/detectability.py, which hides
    each of LSB, key mode and blind mode at a net payload the way that method does, is the one exception)."""
    helpers = Path(__file__).resolve().parents[1] / "helpers"
    pattern = re.compile(r"""(?<![\w.])(method|mode|args\.mode|kind)\s*(==|!=|in)\s*\(?["']""")
    hits = [f"{p.name}:{i}: {line.strip()}" for p in sorted(helpers.rglob("*.py")) if p.name != "detectability.py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    # settings.py's MODE is fast/full/auto, widgets' kind a payload kind, baselines' kind a checkpoint's
    allowed = ("settings.py", "widgets.py:8", "widgets.py:9", "baselines.py")
    assert [h for h in hits if not h.startswith(allowed)] == []
