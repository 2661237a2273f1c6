"""Steganalysis over payloads and cover sources (helpers/evaluation/detectability.py; notebooks 08 and 09)."""

import math

import numpy as np
import pytest
from PIL import Image

import helpers.evaluation.learned
from helpers.data.photos import list_samples
from helpers.evaluation.detectability import auc_interval, detectability, format_table, wilson_interval


def test_wilson_interval_known_values():
    # 24 of 40 right: (0.4457, 0.7369) (Wilson 1927; the same as statsmodels' proportion_confint(method="wilson"))
    lo, hi = wilson_interval(24, 40)
    assert abs(lo - 0.4457) < 5e-4 and abs(hi - 0.7369) < 5e-4
    assert wilson_interval(0, 10)[0] == 0.0 and 0.25 < wilson_interval(0, 10)[1] < 0.35  # never below 0, not 0-wide
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(10, 10)[0] > 0.65
    with pytest.raises(ValueError, match="k <= n"):
        wilson_interval(11, 10)


def test_auc_interval_is_wilson_over_the_pairs():
    # as a share of 20 comparisons: a little wider than Hanley and McNeil's standard error at 0.5 ...
    lo, hi = auc_interval(0.5, 20, 20)
    hanley_mcneil = 1.96 * math.sqrt((0.25 + 38 * (1 / 3 - 0.25)) / 400)
    assert (lo, hi) == pytest.approx(wilson_interval(10, 20)) and hanley_mcneil < hi - 0.5 < 1.15 * hanley_mcneil
    # ... and never zero-wide: 10 + 10 scores at AUC 1 leave room down to 0.72
    lo, hi = auc_interval(1.0, 10, 10)
    assert hi == 1.0 and abs(lo - 0.7225) < 1e-3
    assert auc_interval(0.9, 30, 10) == pytest.approx(wilson_interval(9, 10))  # the smaller side counts


def test_detectability_rows(monkeypatch):
    trained, judged = [], []  # what the learned detector trains on, and what it is judged on
    real_train, real_scores = helpers.evaluation.learned.train_detector, helpers.evaluation.learned.detection_scores
    monkeypatch.setattr(helpers.evaluation.learned, "train_detector",
                        lambda c, s, **kw: trained.append((len(c), len(s))) or real_train(c, s, **kw))
    monkeypatch.setattr(helpers.evaluation.learned, "detection_scores",
                        lambda det, x: judged.append(len(x)) or real_scores(det, x))
    crops = np.stack([np.asarray(Image.open(f).convert("RGB"))[:64, :64] for f in list_samples()[::6][:8]])
    rows = detectability(crops[:4], {"matched": crops[4:6], "mismatched": crops[6:8]}, payloads=[0.5, 2.0],
                         detector_steps=3)
    row = {(r["method"], r["payload_bpp"], r["test"]): r for r in rows}
    assert len(rows) == 3 * 2 * 2
    lsb, key, blind = (row[m, 0.5, "matched"] for m in ("lsb", "key", "blind"))
    # LSB at 0.5 bpp net: a quarter of the red values change by one -> MSE 1/12 level^2 -> 58.9 dB
    assert abs(lsb["psnr"] - 10 * np.log10(255 ** 2 * 12)) < 0.5 and lsb["exact"] == 1.0
    assert blind["exact"] == 1.0 and blind["raw_ber"] < 1e-2 and 25 < blind["psnr"] < 45 and blind["footprint"] < 1
    assert "exact" not in key and 30 < key["psnr"] < 60  # key mode: the key makes it exact; filler fills 3 bpp
    assert "capacity" in row["lsb", 2.0, "matched"]["error"] and "net capacity" in row["blind", 2.0, "mismatched"]["error"]
    assert "error" not in row["key", 2.0, "matched"]  # 2 bpp fits key mode's 3
    # one detector per method and payload that fits, trained on the 4 training pairs only; judged on the
    # 2 covers and 2 stegos of each test set, so its accuracy moves in quarters
    assert trained == [(4, 4)] * 4 and judged == [2] * 16
    for r in rows:
        if "error" in r:
            continue
        assert r["n"] == 2 and (4 * r["learned_accuracy"]).is_integer()
        for name in ("learned_accuracy", "learned_auc", "fused_auc"):
            lo, hi = r[name + "_ci"]
            assert 0 <= lo <= r[name] <= hi <= 1, (name, r)
    table = format_table(rows)
    assert table.count("\n") == 1 + len(rows) and "| blind | 0.5 | matched | 2 |" in table
    with pytest.raises(ValueError, match="one size"):
        detectability(crops[:4], {"other": crops[4:6, :32]}, payloads=[0.1], detector_steps=1)
    with pytest.raises(ValueError, match="at least one"):
        detectability(crops[:4], {}, payloads=[0.1], detector_steps=1)
