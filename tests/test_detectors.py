"""The small learned detector works at all: it learns LSB replacement at 1 bpp on bundled photos
and detects it on crops of source photos it never saw."""

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.methods.baselines import lsb_hide
from helpers.data.photos import list_samples, pil_to_tensor
from helpers.evaluation.learned import XuNet, detection_accuracy, split_by_source, train_detector


def pairs(files, seed):
    rng = np.random.default_rng(seed)
    covers = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    stegos = [lsb_hide(c, rng.integers(0, 2, 128 * 128), seed=i) for i, c in enumerate(covers)]
    as_t = lambda arrs: torch.stack([pil_to_tensor(Image.fromarray(a)) for a in arrs])
    return as_t(covers), as_t(stegos)


def test_split_by_source_never_shares_a_photo():
    train, test = split_by_source(list_samples(), ["coffee", "rocket"])
    assert len(test) == 10 and len(train) == 45
    assert not {p.name.split("_128")[0] for p in train} & {p.name.split("_128")[0] for p in test}
    with pytest.raises(ValueError, match="not in the manifest"):
        split_by_source(["nowhere.png"], ["coffee"])


def test_the_high_pass_filter_is_fixed():
    model = XuNet()
    assert "hpf" not in dict(model.named_parameters())
    assert model(torch.rand(2, 3, 64, 64)).shape == (2,)
    flat = torch.full((1, 3, 32, 32), 0.5)
    assert torch.allclose(torch.nn.functional.conv2d(flat * 255, model.hpf, padding=2, groups=3)[..., 4:-4, 4:-4],
                          torch.zeros(1), atol=1e-4)  # the KV kernel sums to zero: flat content vanishes


def test_lsb_at_1_bpp_is_detected_on_unseen_photos():
    train, test = split_by_source(list_samples(), ["coffee", "rocket"])
    model = train_detector(*pairs(train, 0), steps=300, pairs_per_batch=8, seed=0, crop=64)
    held_out = detection_accuracy(model, *pairs(test, 1))
    assert held_out >= 0.8, held_out  # chance is 0.5


def test_srnet_shape_and_size():
    from helpers.evaluation.learned import SRNet

    model = SRNet()
    n = sum(p.numel() for p in model.parameters())
    assert 4.5e6 < n < 5.0e6  # the paper's SRNet has about 4.8 M parameters
    assert model(torch.rand(2, 3, 64, 64)).shape == (2,)
    torch.manual_seed(0)
    start = SRNet().net[0].weight.detach().clone()  # train_detector seeds 0 too: the same initial weights
    trained = train_detector(torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32), steps=2, pairs_per_batch=2,
                             arch="srnet")
    assert not torch.equal(trained.net[0].weight, start)  # the steps trained it
    from helpers.evaluation.learned import detection_scores
    images = torch.rand(5, 3, 32, 32)
    p = detection_scores(trained, images, batch=2)  # batches of 2, 2, 1: in order, none lost
    with torch.no_grad():
        expected = torch.sigmoid(trained.eval()(images)).numpy()
    assert p.shape == (5,) and np.allclose(p, expected, atol=1e-6)
    with pytest.raises(ValueError, match="arch must be"):
        train_detector(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), steps=1, arch="nope")
