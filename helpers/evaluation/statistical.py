"""Statistical steganalysis: the detectors StegExpose fuses, and ROC/AUC.

Taught in notebook 08 (``notebooks/08_steganalysis.ipynb``).

Each detector looks at the least significant bits of an 8-bit image and returns an
**estimated payload** per colour channel (the share of values whose LSB carries message bits,
0 for a clean cover, about 1 when every LSB was replaced); :func:`estimate` averages the
channels, as StegExpose does. They are built to see LSB *replacement* (flipping 2k <-> 2k+1),
so they are the right tool for the LSB baseline and a fair question for any other method.

* :func:`rs_analysis` - RS analysis (Fridrich, Goljan, Du 2001): regular and singular groups
  under LSB flipping and shifted flipping.
* :func:`sample_pairs` - sample pairs analysis (Dumitrescu, Wu, Wang 2003).
* :func:`chi_square` - the chi-square attack (Westfeld, Pfitzmann 1999): the p-value that the
  histogram's pairs of values (2k, 2k+1) were equalised by embedding.
* :func:`weighted_stego` - weighted stego analysis (Fridrich, Goljan 2004).
* :func:`roc_curve`, :func:`auc` - receiver operating characteristic over cover and stego scores.
"""

from __future__ import annotations

import math

import numpy as np
import torch

DETECTORS = ("rs", "spa", "chi2", "ws")


def _channels(image) -> np.ndarray:
    """An 8-bit image as int64 ``(C, H, W)``: accepts uint8 ``(H, W, 3)`` or ``(H, W)`` arrays,
    PIL images, or float tensors/arrays ``(3, H, W)`` with values k/255."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
        if image.dtype != np.uint8:
            image = np.round(np.clip(image, 0, 1) * 255)
        return image.astype(np.int64).reshape((-1,) + image.shape[-2:])
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        if arr.dtype.kind == "f" and arr.max(initial=0) <= 1.0:
            arr = np.round(np.clip(arr, 0, 1) * 255)
        arr = arr.astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim == 3 and arr.shape[-1] in (1, 3, 4):
        arr = arr[..., :3].transpose(2, 0, 1)
    return arr.astype(np.int64)


# ----------------------------------------------------------------------------- RS analysis

def _flip(x, mask):
    """Apply F_1 where mask == 1 (2k <-> 2k+1), F_-1 where mask == -1 (2k-1 <-> 2k), nothing at 0."""
    f1 = x ^ 1
    fm1 = ((x + 1) ^ 1) - 1
    return np.where(mask == 1, f1, np.where(mask == -1, fm1, x))


def _rs_counts(channel: np.ndarray, mask: np.ndarray):
    """Shares of regular and singular groups for ``mask`` and ``-mask`` (groups of 4 along rows)."""
    n = mask.size
    h, w = channel.shape
    groups = channel[:, : w - w % n].reshape(-1, n)
    f0 = np.abs(np.diff(groups, axis=1)).sum(1)
    out = []
    for m in (mask, -mask):
        f = np.abs(np.diff(_flip(groups, m[None, :]), axis=1)).sum(1)
        out += [(f > f0).mean(), (f < f0).mean()]
    return out  # R_M, S_M, R_-M, S_-M


def rs_analysis(image, mask=(0, 1, 1, 0)) -> np.ndarray:
    """RS analysis: the estimated payload of each channel.

    With ``d0 = R_M - S_M`` and ``dm0 = R_-M - S_-M`` on the image, and ``d1``, ``dm1`` the same
    on the image with every LSB flipped, the payload p follows from the smaller root x of
    ``2 (d1 + d0) x^2 + (dm0 - dm1 - d1 - 3 d0) x + d0 - dm0 = 0`` as ``p = x / (x - 1/2)``."""
    mask = np.asarray(mask)
    out = []
    for ch in _channels(image):
        r, s, rm, sm = _rs_counts(ch, mask)
        r1, s1, rm1, sm1 = _rs_counts(ch ^ 1, mask)
        d0, d1, dm0, dm1 = r - s, r1 - s1, rm - sm, rm1 - sm1
        a, b, c = 2 * (d1 + d0), dm0 - dm1 - d1 - 3 * d0, d0 - dm0
        if abs(a) < 1e-12:
            x = -c / b if abs(b) > 1e-12 else 0.0
        else:
            disc = max(b * b - 4 * a * c, 0.0)
            roots = ((-b + math.sqrt(disc)) / (2 * a), (-b - math.sqrt(disc)) / (2 * a))
            x = min(roots, key=abs)
        out.append(x / (x - 0.5) if abs(x - 0.5) > 1e-12 else 1.0)
    return np.clip(np.array(out), 0.0, 1.0)


# ----------------------------------------------------------------------------- sample pairs

def sample_pairs(image) -> np.ndarray:
    """Sample pairs analysis: the estimated payload of each channel.

    Over horizontally and vertically adjacent pairs (u, v): X = pairs with (v even and u < v) or
    (v odd and u > v); Y = pairs with (v even and u > v) or (v odd and u < v); C0 = pairs with
    floor(u/2) = floor(v/2); P = all pairs. For a natural cover |X| = |Y|; LSB replacement at rate
    p moves pairs between the sets so that p is the smaller root of
    ``|C0|/2 p^2 + (2|X| - |P|) p + |Y| - |X| = 0``."""
    out = []
    for ch in _channels(image):
        u = np.concatenate([ch[:, :-1].ravel(), ch[:-1, :].ravel()])
        v = np.concatenate([ch[:, 1:].ravel(), ch[1:, :].ravel()])
        even = v % 2 == 0
        x = np.count_nonzero((even & (u < v)) | (~even & (u > v)))
        y = np.count_nonzero((even & (u > v)) | (~even & (u < v)))
        c0 = np.count_nonzero(u // 2 == v // 2)
        a, b, c = c0 / 2, 2 * x - u.size, y - x
        if a == 0:
            out.append(0.0)
            continue
        disc = max(b * b - 4 * a * c, 0.0)
        roots = ((-b + math.sqrt(disc)) / (2 * a), (-b - math.sqrt(disc)) / (2 * a))
        out.append(min(roots, key=abs))
    return np.clip(np.array(out, dtype=float), 0.0, 1.0)


# ----------------------------------------------------------------------------- chi-square attack

def _chi2_sf(stat: float, dof: int) -> float:
    """P(chi^2_dof >= stat), through the regularised incomplete gamma function."""
    if dof <= 0:
        return 1.0
    return float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64),
                                         torch.tensor(stat / 2, dtype=torch.float64)))


def chi_square(image, min_expected: float = 4.0) -> np.ndarray:
    """The chi-square attack: for each channel, the probability that its pairs of values
    (2k, 2k+1) have been equalised by LSB embedding (near 1 for a fully embedded channel, near 0
    for most covers).

    Observed: the count of each even value 2k; expected under full embedding: half the count of
    2k and 2k+1 together. Pairs with fewer than ``min_expected`` expected values are skipped."""
    out = []
    for ch in _channels(image):
        hist = np.bincount(ch.ravel(), minlength=256)[:256].astype(float)
        even, odd = hist[0::2], hist[1::2]
        expected = (even + odd) / 2
        keep = expected >= min_expected
        if keep.sum() < 2:
            out.append(0.0)
            continue
        stat = float((((even - expected) ** 2)[keep] / expected[keep]).sum())
        out.append(_chi2_sf(stat, int(keep.sum()) - 1))
    return np.array(out)


# ----------------------------------------------------------------------------- weighted stego

def weighted_stego(image) -> np.ndarray:
    """Weighted stego analysis: ``p = 2 sum_i w_i (s_i - pred_i)(s_i - flip(s_i)) / sum_i w_i``
    over interior values, where ``pred_i`` is the mean of the four neighbours, ``flip`` flips
    the LSB, and ``w_i = 1 / (5 + var_i)`` (the variance of the four neighbours) gives flat
    regions, where prediction is good, more weight."""
    out = []
    for ch in _channels(image).astype(np.float64):
        s = ch[1:-1, 1:-1]
        nb = np.stack([ch[:-2, 1:-1], ch[2:, 1:-1], ch[1:-1, :-2], ch[1:-1, 2:]])
        pred = nb.mean(0)
        w = 1.0 / (5.0 + nb.var(0))
        sign = np.where(s.astype(np.int64) % 2 == 1, 1.0, -1.0)  # s - flip(s)
        out.append(2 * float((w * (s - pred) * sign).sum() / w.sum()))
    return np.clip(np.array(out), 0.0, 1.0)


# ----------------------------------------------------------------------------- together

_FUNCS = {"rs": rs_analysis, "spa": sample_pairs, "chi2": chi_square, "ws": weighted_stego}


def estimate(image, detectors=DETECTORS) -> dict:
    """Each detector's estimate for the image (the mean over its colour channels), and ``fused``:
    the mean of those, as StegExpose fuses its detectors."""
    scores = {name: float(_FUNCS[name](image).mean()) for name in detectors}
    scores["fused"] = float(np.mean([scores[n] for n in detectors]))
    return scores


def auc(cover_scores, stego_scores) -> float:
    """Area under the ROC curve: the probability that a random stego image scores higher than a
    random cover (ties count one half; Mann-Whitney U / (n_cover n_stego))."""
    c = np.asarray(cover_scores, dtype=float)
    s = np.asarray(stego_scores, dtype=float)
    if c.size == 0 or s.size == 0:
        raise ValueError("need at least one cover and one stego score")
    greater = (s[:, None] > c[None, :]).sum()
    ties = (s[:, None] == c[None, :]).sum()
    return float((greater + 0.5 * ties) / (c.size * s.size))


def roc_curve(cover_scores, stego_scores):
    """``(false_positive_rate, true_positive_rate)`` arrays for every threshold, from (0, 0)
    to (1, 1): stego is declared when the score is at least the threshold."""
    c = np.asarray(cover_scores, dtype=float)
    s = np.asarray(stego_scores, dtype=float)
    thresholds = np.unique(np.concatenate([c, s]))[::-1]
    fpr = np.array([0.0] + [(c >= t).mean() for t in thresholds])
    tpr = np.array([0.0] + [(s >= t).mean() for t in thresholds])
    return fpr, tpr
