"""Blind mode on every bundled 128 x 128 crop: for each net payload, hide a random message with a
password, save the PNG, reveal it, and print how many came back byte-exact, PSNR (mean / min) on
the held-out and the seen photos, the cells used and the parity hide needed (issue 6's figures).

    python benchmarks/blind_payloads.py                          # shipped data/checkpoints/blind.pt
    python benchmarks/blind_payloads.py --checkpoint other.pt --payloads 0.5 0.85 --nsym 8

``--nsym N`` fixes the parity per block (default: hide's own choice, 32 and more only when its
self-check needs it); a message hide refuses counts as not exact.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.methods.blind_mode import blind_capacity, blind_hide, blind_reveal  # noqa: E402
from helpers.data.photos import SAMPLES_DIR, load_image, pil_to_tensor  # noqa: E402
from helpers.evaluation.metrics import psnr  # noqa: E402
from helpers.plumbing.inference import load_network  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="blind-mode checkpoint (default: the shipped one)")
    p.add_argument("--payloads", type=float, nargs="+", default=[0.1, 0.25, 0.5, 0.75, 0.85],
                   help="net payloads in bits per pixel (0.85 is the full capacity at 128 x 128 with 32 parity bytes)")
    p.add_argument("--nsym", type=int, help="parity bytes per block (default: hide's choice)")
    p.add_argument("--held-out", default="coffee,rocket", help="sources the network was not trained on")
    a = p.parse_args(argv)
    model = load_network(a.checkpoint, "blind")
    held_out = set(a.held_out.split(","))
    with open(SAMPLES_DIR / "manifest.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["width"] == "128" and r["height"] == "128"]
    cap = blind_capacity(128, 128, nsym=a.nsym or 32)
    print(f"{len(rows)} crops; full net capacity {cap} bytes = {8 * cap / 128 ** 2:.3f} bpp")
    print(f"{'payload':>8}{'bytes':>7}{'group':>10}{'exact':>9}{'PSNR mean':>11}{'min':>7}{'cells':>7}"
          f"{'nsym>32':>8}{'hide s':>8}{'reveal s':>9}")
    for payload in a.payloads:
        n_bytes = min(int(payload * 128 * 128 / 8), cap)
        result = {"held out": [], "seen": []}
        for i, r in enumerate(rows):
            msg = np.random.default_rng(i).integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
            path = SAMPLES_DIR / r["file"]
            t0 = time.perf_counter()
            try:
                stego, info = blind_hide(path, msg, model, password="benchmark", nsym=a.nsym)
            except ValueError:
                result["held out" if r["source"] in held_out else "seen"].append((False, None, None, None, 0, 0))
                continue
            t1 = time.perf_counter()
            buf = io.BytesIO()
            stego.save(buf, format="PNG")
            t2 = time.perf_counter()
            ok = blind_reveal(Image.open(io.BytesIO(buf.getvalue())), model, password="benchmark") == msg
            t3 = time.perf_counter()
            result["held out" if r["source"] in held_out else "seen"].append(
                (ok, psnr(load_image(path), pil_to_tensor(stego)), info["cells"], info["nsym"], t1 - t0, t3 - t2))
        for group, res in result.items():
            ps = [x[1] for x in res if x[1] is not None] or [float("nan")]
            print(f"{payload:>8.2f}{n_bytes:>7}{group:>10}{sum(x[0] for x in res):>5}/{len(res):<3}"
                  f"{statistics.mean(ps):>11.2f}{min(ps):>7.2f}{statistics.mean([x[2] for x in res if x[2]] or [0]):>7.1f}"
                  f"{sum(1 for x in res if x[3] and x[3] > 32):>8}{statistics.mean(x[4] for x in res):>8.2f}"
                  f"{statistics.mean(x[5] for x in res):>9.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
