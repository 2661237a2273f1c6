import csv

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.data.photos import DATA_DIR, SAMPLES_DIR, list_samples, load_image, load_samples, tensor_to_pil


def test_bundled_samples_match_manifest_and_licences():
    with open(SAMPLES_DIR / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    files = {p.name for p in SAMPLES_DIR.glob("*.png")}
    assert files == {r["file"] for r in rows}
    licences = (DATA_DIR / "LICENSES.md").read_text()
    for source in {r["source"] for r in rows}:
        assert source.split("_left")[0].split("_right")[0] in licences
    for r in rows:
        with Image.open(SAMPLES_DIR / r["file"]) as im:
            assert im.mode == "RGB" and im.size == (int(r["width"]), int(r["height"]))
    assert len(list_samples()) >= 30  # 128 x 128 crops, the paper's size
    assert sum(p.stat().st_size for p in SAMPLES_DIR.iterdir()) < 5e6


def test_load_samples_batch():
    x = load_samples(4)
    assert x.shape == (4, 3, 128, 128) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1
    # values are exactly k / 255
    assert torch.equal(torch.round(x * 255) / 255, x)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "LA"])
def test_modes_are_converted_to_rgb(tmp_path, mode):
    rng = np.random.default_rng(0)
    if mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65536, (10, 12), dtype=np.uint16))
    else:
        im = Image.fromarray(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)).convert(mode)
    path = tmp_path / "x.png"
    im.save(path)
    x = load_image(path)
    assert x.shape == (3, 10, 12)
    assert 0 <= x.min() and x.max() <= 1
    if mode == "I;16":  # 16-bit is scaled, not clipped: a full-range image spans 0..1
        assert x.max() > 0.9 and x.min() < 0.1


def test_round_trip_through_png(tmp_path):
    x = load_samples(1)[0]
    tensor_to_pil(x).save(tmp_path / "y.png")
    assert torch.equal(load_image(tmp_path / "y.png"), x)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image not found"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="cannot read .* as an image"):
        load_image(tmp_path / "notes.txt")


def test_a_transparent_cover_is_composited_on_white():
    """pil_to_rgb8's promise (helpers/plumbing/images.py): alpha is composited on white, not dropped:
    a transparent pixel becomes white, a half-transparent one lies half way to white."""
    from helpers.plumbing.images import pil_to_rgb8

    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0] = [(10, 20, 30, 0), (10, 20, 30, 255), (0, 100, 200, 128)]
    got = np.asarray(pil_to_rgb8(Image.fromarray(rgba, "RGBA"))).astype(int)
    assert got[0, 0].tolist() == [255, 255, 255] and got[0, 1].tolist() == [10, 20, 30]
    assert np.abs(got[0, 2] - np.array([127, 177, 227])).max() <= 1
    la = Image.fromarray(np.array([[[40, 0], [40, 255]]], np.uint8), "LA")
    assert np.asarray(pil_to_rgb8(la)).tolist() == [[[255, 255, 255], [40, 40, 40]]]


@pytest.mark.parametrize("name", ["x.jpg", "x.JPEG", "x.webp", "x.bmp", "x"])
def test_save_png_refuses_every_other_name(tmp_path, name):
    from helpers.plumbing.images import save_png

    with pytest.raises(ValueError, match="PNG"):
        save_png(Image.new("RGB", (4, 4)), tmp_path / name)
    assert list(tmp_path.iterdir()) == []
