import math

import pytest
import torch

from helpers.metrics import psnr, psnr_per_image, recovery_accuracy


def test_psnr_known_values():
    a = torch.zeros(1, 3, 8, 8)
    assert psnr(a, a) == math.inf
    assert psnr(a, a + 0.1) == pytest.approx(20.0)        # MSE 0.01
    assert psnr(a, a + 1 / 255, peak=1.0) == pytest.approx(48.13, abs=0.01)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(a, a[..., :4])


def test_recovery_accuracy():
    bits = torch.tensor([0, 1, 1, 0], dtype=torch.uint8)
    assert recovery_accuracy(bits, bits) == 1.0
    assert recovery_accuracy(bits, 1 - bits) == 0.0
    assert recovery_accuracy(bits, torch.tensor([0, 1, 0, 0])) == 0.75


def test_psnr_per_image():
    a = torch.zeros(2, 3, 4, 4)
    b = a.clone()
    b[1] += 0.1
    values = psnr_per_image(a, b)
    assert values[0].item() == math.inf and values[1].item() == pytest.approx(20.0)
