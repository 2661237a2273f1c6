import math

import pytest
import torch

from helpers.evaluation.metrics import psnr, psnr_per_image, recovery_accuracy


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


def test_psnr_and_ssim_agree_with_scikit_image_on_bundled_photos():
    """Against skimage.metrics (a test-only dependency) on every bundled photo, with an 8-bit
    stego-like perturbation and with a coarse one."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from helpers.data.photos import list_samples, load_image
    from helpers.evaluation.metrics import psnr, ssim

    g = torch.Generator().manual_seed(0)
    for path in list_samples(None):
        a = load_image(path)
        for sigma in (0.004, 0.05):
            b = torch.round((a + sigma * torch.randn(a.shape, generator=g)).clamp(0, 1) * 255) / 255
            x, y = (t.permute(1, 2, 0).double().numpy() for t in (a, b))
            assert abs(psnr(a, b) - peak_signal_noise_ratio(x, y, data_range=1.0)) < 1e-3
            ref = structural_similarity(x, y, data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False)
            assert abs(ssim(a, b) - ref) < 1e-3, path.name
    assert ssim(a, a) == pytest.approx(1.0)
