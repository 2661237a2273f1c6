import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.data.photos import ImageFolder, SAMPLES_DIR, centre_crop, load_image


@pytest.fixture
def mixed_folder(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (150, 170, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a_rgb.png")
    Image.fromarray(rgb).convert("L").save(tmp_path / "b_gray.png")
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "c_rgba.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "d_palette.png")
    Image.fromarray(rng.integers(0, 65536, (140, 130), dtype=np.uint16)).save(tmp_path / "e_16bit.png")
    sub = tmp_path / "sub"
    sub.mkdir()
    Image.fromarray(rgb[:60, :90]).save(sub / "f_small.jpg")
    (tmp_path / "g_not_an_image.jpg").write_bytes(b"this is text, not a JPEG")
    data = (tmp_path / "a_rgb.png").read_bytes()
    (tmp_path / "h_truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")
    return tmp_path


def test_folder_converts_modes_and_skips_bad_files_with_one_warning(mixed_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ImageFolder(mixed_folder, size=128)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "skipped 2 unreadable file(s) of 8" in messages[0]
    assert len(ds) == 6
    for k in range(len(ds)):
        x = ds[k]
        assert x.shape == (3, 128, 128) and x.dtype == torch.float32
        assert 0 <= x.min() and x.max() <= 1


def test_eval_crop_is_the_centre(mixed_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = ImageFolder(mixed_folder, size=128)
    x = ds[0]  # a_rgb.png, 170 x 150
    full = load_image(mixed_folder / "a_rgb.png")
    top, left = (150 - 128) // 2, (170 - 128) // 2
    assert torch.equal(x, full[:, top:top + 128, left:left + 128])
    assert torch.equal(ds[0], x)  # deterministic


def test_small_images_are_scaled_up():
    im = Image.new("RGB", (40, 20), (10, 200, 30))
    assert centre_crop(im, 128).size == (128, 128)


def test_train_crops_are_random_and_seeded():
    ds = ImageFolder(SAMPLES_DIR, size=64, train=True, files=["coffee_512x384_0.png"])
    torch.manual_seed(0)
    a = [ds[0] for _ in range(6)]
    torch.manual_seed(0)
    b = [ds[0] for _ in range(6)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert len({tuple(x.flatten()[:50].tolist()) for x in a}) > 1


def test_file_broken_mid_epoch_is_replaced_not_a_crash(tmp_path):
    for k in range(3):
        Image.new("RGB", (32, 32), (k * 80, 0, 0)).save(tmp_path / f"{k}.png")
    ds = ImageFolder(tmp_path, size=32)
    (tmp_path / "1.png").write_bytes(b"broken")
    with pytest.warns(UserWarning, match="became unreadable"):
        x = ds[1]
    assert torch.equal(x, ds[2])


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "x.txt").write_text("no images here")
    with pytest.raises(ValueError, match="no readable images"):
        ImageFolder(tmp_path)
