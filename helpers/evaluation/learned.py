"""Learned steganalysis: a small XuNet-style detector that trains on a CPU in minutes, and SRNet.

Taught in notebook 08 (``notebooks/08_steganalysis.ipynb``).

The network (after Xu, Wu, Shi 2016, "Structural design of convolutional neural networks for
steganalysis"): a **fixed** high-pass filter (the 5 x 5 "KV" kernel of SRM) applied to each colour
channel removes most of the image content and keeps the noise where embedding changes live; then
five convolution groups (the first with an absolute-value layer, tanh in the first two, batch
norm everywhere, average pooling between them), global average pooling and a linear layer that
scores "stego". Trained on pairs (each cover with its own stego image in the same batch), it
learns the difference rather than the content.

:class:`SRNet` (Boroumand, Chen, Fridrich 2019; the paper's Table 3) has no fixed filters: twelve
layers learn them, and the first seven do not pool, so that the faint noise of embedding is not
averaged away. It has 4.8 million parameters and is meant for a GPU.

Detection accuracy is measured on pairs whose **source photos** the detector never saw
(:func:`split_by_source`): crops of one photo are too alike to count as unseen.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers.data.photos import split_by_source  # noqa: F401  (defined with the bundled photos; imported from here too)

KV = torch.tensor([[-1, 2, -2, 2, -1],
                   [2, -6, 8, -6, 2],
                   [-2, 8, -12, 8, -2],
                   [2, -6, 8, -6, 2],
                   [-1, 2, -2, 2, -1]], dtype=torch.float32) / 12


class XuNet(nn.Module):
    """A small XuNet-style detector for RGB images in [0, 1]; ``forward`` returns one logit per
    image (positive: stego)."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.register_buffer("hpf", KV.expand(3, 1, 5, 5).clone())  # fixed, not trained
        w = width

        def group(c_in, c_out, k, act, pool=True):
            layers = [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), act]
            if pool:
                layers.append(nn.AvgPool2d(5, stride=2, padding=2))
            return layers

        self.first = nn.Conv2d(3, w, 5, padding=2, bias=False)
        self.body = nn.Sequential(
            nn.BatchNorm2d(w), nn.Tanh(), nn.AvgPool2d(5, stride=2, padding=2),
            *group(w, 2 * w, 5, nn.Tanh()),
            *group(2 * w, 4 * w, 1, nn.ReLU()),
            *group(4 * w, 8 * w, 1, nn.ReLU()),
            *group(8 * w, 16 * w, 1, nn.ReLU(), pool=False),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16 * w, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = nn.functional.conv2d(x * 255, self.hpf, padding=2, groups=3)  # in grey levels
        return self.body(torch.abs(self.first(residual))).squeeze(1)


def _unit(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)]


class _Type2(nn.Module):  # residual, no pooling
    def __init__(self, c):
        super().__init__()
        self.f = nn.Sequential(*_unit(c, c), nn.ReLU(), *_unit(c, c))

    def forward(self, x):
        return x + self.f(x)


class _Type3(nn.Module):  # residual with 3x3 average pooling, stride 2
    def __init__(self, c_in, c_out):
        super().__init__()
        self.f = nn.Sequential(*_unit(c_in, c_out), nn.ReLU(), *_unit(c_out, c_out), nn.AvgPool2d(3, 2, 1))
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.f(x) + self.shortcut(x)


class SRNet(nn.Module):
    """SRNet (Boroumand, Chen, Fridrich 2019) for RGB images in [0, 1]: layers 1-2 conv-BN-ReLU
    (64, 16 channels), layers 3-7 residual without pooling (16), layers 8-11 residual with
    pooling (16, 64, 128, 256), layer 12 conv-BN and global average pooling (512), then a linear
    layer. Returns one logit per image (positive: stego)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            *_unit(3, 64), nn.ReLU(), *_unit(64, 16), nn.ReLU(),
            *[_Type2(16) for _ in range(5)],
            _Type3(16, 16), _Type3(16, 64), _Type3(64, 128), _Type3(128, 256),
            *_unit(256, 512), nn.ReLU(), *_unit(512, 512), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 255 - 127.5).squeeze(1)


ARCHS = {"xunet": XuNet, "srnet": SRNet}



def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The same random rotation by 90 degrees and flip for a cover and its stego image."""
    k = int(torch.randint(0, 4, (), generator=g))
    x = torch.rot90(x, k, dims=(-2, -1))
    return torch.flip(x, dims=(-1,)) if bool(torch.rand((), generator=g) < 0.5) else x


def train_detector(covers: torch.Tensor, stegos: torch.Tensor, steps: int = 300, pairs_per_batch: int = 8,
                   lr: float = 1e-3, seed: int = 0, width: int = 8, progress: bool = False, arch: str = "xunet",
                   device=None, crop: int = 0) -> nn.Module:
    """Train a detector (``arch``: ``"xunet"`` or ``"srnet"``) on paired covers and stego images ``(N, 3, H, W)`` in [0, 1]: each
    batch holds ``pairs_per_batch`` covers and *their* stego images (pair constraint), with the
    same random rotation/flip for both (and, with ``crop``, the same random ``crop x crop`` window:
    cheaper steps, more of them). Adam, binary cross-entropy."""
    from tqdm.auto import tqdm

    if covers.shape != stegos.shape:
        raise ValueError(f"covers {tuple(covers.shape)} and stegos {tuple(stegos.shape)} must pair up")
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = (XuNet(width) if arch == "xunet" else SRNet()).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    labels = torch.cat([torch.zeros(pairs_per_batch), torch.ones(pairs_per_batch)]).to(device)
    model.train()
    for _ in tqdm(range(steps), desc=arch, disable=not progress):
        idx = torch.randint(0, covers.shape[0], (pairs_per_batch,), generator=g)
        pair = _augment(torch.cat([covers[idx], stegos[idx]]), g)
        if crop and crop < min(pair.shape[-2:]):
            top = int(torch.randint(0, pair.shape[-2] - crop + 1, (), generator=g))
            left = int(torch.randint(0, pair.shape[-1] - crop + 1, (), generator=g))
            pair = pair[..., top:top + crop, left:left + crop]
        pair = pair.to(device)
        loss = nn.functional.binary_cross_entropy_with_logits(model(pair), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def detection_scores(model: nn.Module, images: torch.Tensor, batch: int = 32) -> np.ndarray:
    """P(stego) for each image."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([torch.sigmoid(model(images[i:i + batch].to(device))).cpu()
                      for i in range(0, len(images), batch)]).numpy()


def correct_calls(cover_scores, stego_scores) -> int:
    """How many covers score below 0.5 and stego images 0.5 or more (the calls :func:`detection_accuracy` counts)."""
    return int((np.asarray(cover_scores) < 0.5).sum() + (np.asarray(stego_scores) >= 0.5).sum())


def detection_accuracy(model: nn.Module, covers: torch.Tensor, stegos: torch.Tensor) -> float:
    """The paper's DA: the share of covers and stego images classified correctly (threshold 0.5)."""
    c, s = detection_scores(model, covers), detection_scores(model, stegos)
    return correct_calls(c, s) / (len(c) + len(s))
