"""How detectable is each method at the same net payload? Steganalysis over payloads and cover
sources: taught in notebook 08 (``notebooks/08_steganalysis.ipynb``, blind mode next to key mode
and LSB) and used in notebook 09 (the trade-off); ``benchmarks/detectability.py`` prints the table.

For each method and **net** payload (message bits per pixel) every cover gets a random message of
that many bytes, hidden as the method hides it (:func:`stegos_at_payload`). Then, on each test set:

* the fused statistical detector (:func:`helpers.evaluation.statistical.estimate`; it needs no
  training) and its AUC,
* a learned detector (XuNet-style, :func:`helpers.evaluation.learned.train_detector`) trained on the
  training covers and *their* stego images, judged on the test pairs: its accuracy and its AUC.

Detectors are trained on photos of some sources and tested on photos of others (held out by source);
a test set from the same collection as the training covers is *matched*, one from another
collection *mismatched* (the cover-source mismatch of steganalysis: a detector can learn the camera
as well as the embedding). Every accuracy and AUC comes with a 95 % interval
(:func:`wilson_interval`, :func:`auc_interval`): with 20 test pairs a measured 60 % is anywhere
from about 45 to 74 %.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from helpers.coding.payload import HEADER, bytes_to_bits, capacity_bits, framed_and_filled
from helpers.data.photos import batch_to_uint8, uint8_to_batch

PAYLOADS = (0.1, 0.25, 0.5)  # net bits per pixel (issue 30's table)
METHODS = ("lsb", "key", "blind")
Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes in ``n`` trials (95 % by default; ``k`` may be
    fractional, as for an AUC): unlike
    k/n +- z sqrt(p(1-p)/n) it stays inside [0, 1] and is honest at 0 and n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # at k = 0 and k = n the bound is exactly 0 or 1 (the formula gives it up to rounding)
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def auc_interval(a: float, n_cover: int, n_stego: int, z: float = Z95) -> tuple[float, float]:
    """A 95 % interval for an AUC ``a`` from ``n_cover`` and ``n_stego`` scores: the Wilson interval
    of ``a`` as a share of min(n_cover, n_stego) independent comparisons. Conservative next to
    Hanley and McNeil's (1982) standard error (0.18 against 0.20 either side of 0.5 with 20 + 20
    scores), and, unlike theirs, not zero-wide at an AUC of 0 or 1 (10 + 10 scores at AUC 1: [0.72, 1])."""
    n = min(n_cover, n_stego)
    return wilson_interval(min(max(a, 0.0), 1.0) * n, n, z) if n > 0 else (0.0, 1.0)


def stegos_at_payload(method: str, covers_u8: np.ndarray, payload: float, seed: int = 0, blind_model=None,
                      key_method=None) -> tuple[np.ndarray, dict]:
    """8-bit stego images ``(N, H, W, 3)`` of ``covers_u8`` each holding a random message of
    ``payload x H x W / 8`` bytes, as the method hides it, and what the hiding reports:

    * ``"lsb"``: LSB replacement of exactly the message's bits (one red value per bit, at seeded
      random places): a short message changes few pixels.
    * ``"key"``: the paper's key mode; it frames the message and fills the rest of the 3 bpp with
      random bytes (so that the stego does not tell the message's length): every payload changes
      the whole image alike. ``key_method``: a :class:`helpers.methods.key_mode.KeyMode` (default:
      the shipped network).
    * ``"blind"``: blind mode's hide (the fewest cells that hold the coded message, its self-check
      and more parity where needed): ``exact`` (share of messages the 8-bit image gives back
      byte-exact), ``raw_ber``, ``nsym``, ``footprint`` (share of the pixels in used cells).

    Over capacity: ``ValueError`` naming the capacity."""
    covers_u8 = np.asarray(covers_u8)
    n, h, w, _ = covers_u8.shape
    n_bytes = int(payload * h * w / 8)
    rng = np.random.default_rng(seed)
    if method == "lsb":
        from helpers.methods.baselines import lsb_hide

        if 8 * n_bytes > h * w:
            raise ValueError(f"more than LSB-1bit's capacity ({h * w // 8} bytes)")
        return np.stack([lsb_hide(c, rng.integers(0, 2, 8 * n_bytes), seed=seed + i)
                         for i, c in enumerate(covers_u8)]), {"exact": 1.0}
    if method == "key":
        from helpers.methods.key_mode import KeyMode

        m = key_method or KeyMode()
        room = m.raw_bits(h, w) // 8
        if n_bytes + HEADER.size > room:
            raise ValueError(f"more than key mode's capacity ({room - HEADER.size} bytes)")
        out = []
        for i in range(0, n, 2):  # batches of 2: the fastest on a 2-core CPU (harness.make_stegos)
            bits = [bytes_to_bits(framed_and_filled(rng.bytes(n_bytes), room, seed + i + j))
                    for j in range(len(covers_u8[i:i + 2]))]
            out.append(m.embed(covers_u8[i:i + 2], np.stack(bits))[0])
        return np.concatenate(out), {}  # exact by construction: the key lists the bits to correct
    if method == "blind":
        from helpers.coding import blind_code
        from helpers.methods.blind_mode import hide_tensor
        from helpers.plumbing.inference import load_network

        net, cfg = blind_model if blind_model is not None else load_network(kind="blind")
        room = blind_code.net_capacity(capacity_bits(h, w, cfg.bpp) // 8)
        if n_bytes > room:
            raise ValueError(f"more than the net capacity ({room} bytes)")
        device = next(net.parameters()).device
        covers = uint8_to_batch(covers_u8)
        stegos, infos, exact = [], [], 0
        for i in range(n):
            st, info, ok = hide_tensor(net, cfg, covers[i].to(device), rng.bytes(n_bytes), None, None, seed + i)
            stegos.append(st.cpu())
            infos.append(info)
            exact += ok
        return batch_to_uint8(torch.stack(stegos)), {
            "exact": exact / n, "nsym": max(f["nsym"] for f in infos),
            "raw_ber": sum(f["raw_errors"] for f in infos) / sum(f["raw_bits"] for f in infos),
            "footprint": float(np.mean([f["footprint"] for f in infos]))}
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def detectability(train_u8: np.ndarray, tests: dict, payloads=PAYLOADS, methods=METHODS, detector_steps: int = 300,
                  seed: int = 0, device=None, progress: bool = False, blind_model=None, key_method=None) -> list[dict]:
    """Each method at each net payload against the detectors (module docstring). ``train_u8``:
    covers ``(N, H, W, 3)`` uint8 the learned detector trains on (with their stego images);
    ``tests``: name -> covers of the same size from *other* sources. One row per method, payload
    and test set: ``psnr`` and ``ssim`` (mean, cover vs 8-bit stego, on the test covers), what
    :func:`stegos_at_payload` reports, ``n`` test pairs, ``fused_auc``, ``learned_accuracy``,
    ``learned_auc``, each with its 95 % interval (``..._ci``); ``error`` instead where the payload
    is over the method's capacity."""
    from tqdm.auto import tqdm

    from helpers.evaluation.learned import correct_calls, detection_scores, train_detector
    from helpers.evaluation.metrics import psnr_per_image, ssim_per_image
    from helpers.evaluation.statistical import auc, estimate

    train_u8 = np.asarray(train_u8)
    tests = {name: np.asarray(c) for name, c in tests.items()}
    if not len(train_u8) or not tests or any(not len(c) for c in tests.values()):
        raise ValueError("need covers to train the detector on and at least one non-empty test set")
    if any(c.shape[1:] != train_u8.shape[1:] for c in tests.values()):
        raise ValueError("the training and test covers must have one size")
    h, w = train_u8.shape[1:3]
    fused_covers = {name: [estimate(c)["fused"] for c in covers] for name, covers in tests.items()}
    rows = []
    with tqdm(total=len(methods) * len(payloads), desc="detectability", disable=not progress) as bar:
        for method in methods:
            for p in payloads:
                base = {"method": method, "payload_bpp": p, "message_bytes": int(p * h * w / 8)}
                try:  # one message per cover (keeping training and test sources apart is the caller's part)
                    train_st, _ = stegos_at_payload(method, train_u8, p, seed, blind_model, key_method)
                    made = {name: stegos_at_payload(method, c, p, seed + 1000 * (k + 1), blind_model, key_method)
                            for k, (name, c) in enumerate(tests.items())}
                except ValueError as e:
                    rows += [{**base, "test": name, "error": str(e)} for name in tests]
                    bar.update()
                    continue
                det = train_detector(uint8_to_batch(train_u8), uint8_to_batch(train_st), steps=detector_steps,
                                     arch="xunet", device=device, crop=min(64, h, w), seed=seed)
                for name, (stegos, info) in made.items():
                    c, s, n = uint8_to_batch(tests[name]), uint8_to_batch(stegos), len(stegos)
                    fused = auc(fused_covers[name], [estimate(x)["fused"] for x in stegos])
                    sc, ss = detection_scores(det, c), detection_scores(det, s)
                    right = correct_calls(sc, ss)
                    learned = auc(sc, ss)
                    rows.append({**base, "test": name, "n": n, **info,
                                 "psnr": float(psnr_per_image(c, s).mean()), "ssim": float(ssim_per_image(c, s).mean()),
                                 "fused_auc": fused, "fused_auc_ci": auc_interval(fused, n, n),
                                 "learned_accuracy": right / (2 * n), "learned_accuracy_ci": wilson_interval(right, 2 * n),
                                 "learned_auc": learned, "learned_auc_ci": auc_interval(learned, n, n)})
                bar.update()
    return rows


def format_table(rows) -> str:
    """The rows of :func:`detectability` as a Markdown table (intervals in brackets)."""
    def pct(v, ci):
        return f"{v:.0%} [{ci[0]:.0%}, {ci[1]:.0%}]"

    def two(v, ci):
        return f"{v:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"

    lines = ["| method | net bpp | test covers | pairs | PSNR dB | exact | fused AUC | learned accuracy | learned AUC |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        head = f"| {r['method']} | {r['payload_bpp']:g} | {r['test']} |"
        if "error" in r:
            lines.append(f"{head} - | - | - | {r['error']} | | |")
            continue
        exact = f"{r['exact']:.0%}" if "exact" in r else "by the key"
        lines.append(f"{head} {r['n']} | {r['psnr']:.1f} | {exact} | {two(r['fused_auc'], r['fused_auc_ci'])} | "
                     f"{pct(r['learned_accuracy'], r['learned_accuracy_ci'])} | "
                     f"{two(r['learned_auc'], r['learned_auc_ci'])} |")
    return "\n".join(lines)
