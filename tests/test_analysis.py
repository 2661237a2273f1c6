"""Notebook 09's measurements (helpers/evaluation/location.py) give what they claim to measure."""

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.evaluation.location import identity_network, information_budget, reveal_variants
from helpers.data.photos import list_samples, load_image
from helpers.plumbing.inference import load_network
@pytest.fixture(scope="module")
def covers():
    return torch.stack([load_image(f) for f in list_samples()[:2]])[..., :64, :64]


def test_the_key_not_the_image_carries_the_message(covers):
    v = reveal_variants(load_network().model, covers, bpp=3)
    assert v["right key"] == 1.0 and v["right key, untouched cover"] == 1.0
    for other in ("key of another image", "z = 0", "Gaussian z"):
        assert 0.45 < v[other] < 0.55, (other, v[other])
    assert v["right key, another photo"] > 0.9  # measured 99.5-99.9 % at 128 x 128
    assert 0.5 < v["values changed"] < 0.95


def test_identity_network_is_at_the_optimum_with_unbounded_capacity(covers):
    r = identity_network(covers, value_bits=16)
    assert r["loss"] == 0.0 and r["ra_3bpp"] == 1.0 and r["stego_equals_cover"]
    assert r["bits_per_pixel_exact"] == 48


def test_information_budget(covers):
    b = information_budget(load_network().model, covers[0], bpp=3)
    assert b["message_bits"] == 3 * 64 * 64 and b["key_bits"] == 32 * b["message_bits"]
    assert 0 < b["values_changed"] <= 3 * 64 * 64 and b["image_bits_changed"] >= b["values_changed"]
    assert b["key_bits_compressed"] > b["message_bits"]  # z does not compress down to the message
