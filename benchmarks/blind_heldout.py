"""Blind mode on photos of sources no network of this project was trained on: the corpus of
``helpers.data.corpus`` (photographs and photographic textures from Debian packages; build it first with
``python -m helpers.data.corpus``). Per source: random 128 x 128 and 256 x 256 crops and one odd size,
a random message of a net ``--payload`` bits per pixel hidden with a password, saved as PNG and
revealed; then what ``capacity --mode blind`` reports for that crop (:func:`helpers.methods.blind_mode.blind_capacity_of`)
and whether a message of exactly that many bytes hides and reveals. Prints per source the exact
count (and refusals: hide's self-check said no), PSNR min / median, the raw bit error rate before
the Reed-Solomon code (random bits in every cell), the measured capacity and its check, then the
totals. By default only the corpus's held-out sources (``helpers.data.corpus.split_corpus``): the other
half may be trained on (``benchmarks/train_models.py blind --corpus``).

    python -m helpers.data.corpus && python benchmarks/blind_heldout.py                 # shipped blind.pt, 0.5 bpp
    python benchmarks/blind_heldout.py --checkpoint other.pt --payload 0.25 --csv out.csv
    python benchmarks/blind_heldout.py --sources all     # every source (for a network trained on none of them)

Photos larger than 512 pixels on the short side are first scaled down to 512 (LANCZOS), so that a
128 x 128 crop holds a piece of a scene rather than a few flat pixels of a 2560 x 1600 wallpaper.
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
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.methods.blind_mode import (blind_capacity, blind_capacity_of, blind_hide, blind_reveal,  # noqa: E402
                           raw_bit_error_rate)
from helpers.data.corpus import corpus_dir, read_manifest, scaled_down, split_corpus  # noqa: E402
from helpers.data.photos import pil_to_tensor  # noqa: E402
from helpers.coding.blind_code import BlindRevealError  # noqa: E402
from helpers.evaluation.metrics import psnr  # noqa: E402
from helpers.plumbing.inference import load_network  # noqa: E402

SIZES = ((128, 128), (128, 128), (256, 256), (201, 149))  # (width, height): two small, one large, one odd


def crops_of(image: Image.Image, seed: int) -> list[Image.Image]:
    """The evaluation crops of one source photo (seeded by the source, so runs repeat)."""
    image = scaled_down(image, 512)
    rng = np.random.default_rng(seed)
    out = []
    for w, h in SIZES:
        w, h = min(w, image.width), min(h, image.height)
        x, y = rng.integers(0, image.width - w + 1), rng.integers(0, image.height - h + 1)
        out.append(image.crop((int(x), int(y), int(x) + w, int(y) + h)))
    return out


def capacity_check(crop: Image.Image, model, seed) -> dict:
    """What ``capacity --mode blind`` says for this crop, and whether a message of exactly that
    many bytes (another message than the measurement's, the same password) hides and reveals exact."""
    t0 = time.perf_counter()
    cap = blind_capacity_of(crop, model, password="held-out")
    out = {"capacity": cap["capacity"], "cap_bpp": 8 * cap["capacity"] / (crop.width * crop.height),
           "cap_nsym": cap["nsym"], "cap_s": time.perf_counter() - t0}
    msg = np.random.default_rng(list(seed) + [7]).integers(0, 256, cap["capacity"], dtype=np.uint8).tobytes()
    try:
        stego, info = blind_hide(crop, msg, model, password="held-out")
    except ValueError:
        return dict(out, cap_ok="refused")
    buf = io.BytesIO()
    stego.save(buf, format="PNG")
    try:
        got = blind_reveal(Image.open(io.BytesIO(buf.getvalue())), model, password="held-out")
        return dict(out, cap_ok="exact" if got == msg else "WRONG", cap_nonce=info["nonce"])
    except BlindRevealError:
        return dict(out, cap_ok="error")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="blind-mode checkpoint (default: the shipped one)")
    p.add_argument("--payload", type=float, default=0.5, help="net bits per pixel (default 0.5)")
    p.add_argument("--corpus", default=None, help="corpus folder (default: <cache>/corpus)")
    p.add_argument("--sources", choices=("heldout", "all"), default="heldout",
                   help="the corpus's held-out half (default) or every source")
    p.add_argument("--no-capacity", action="store_true", help="skip the capacity check (faster)")
    p.add_argument("--csv", help="also write one row per crop here")
    a = p.parse_args(argv)
    folder = Path(a.corpus) if a.corpus else corpus_dir()
    sources = read_manifest(folder)
    if a.sources == "heldout":
        sources = split_corpus(sources)[1]
    model = load_network(a.checkpoint, "blind")
    rows = []
    print(f"{'source':<22}{'crops':>6}{'exact':>7}{'refused':>8}{'WRONG':>6}{'PSNR min':>9}{'median':>8}"
          f"{'raw BER':>10}{'hide s':>8}{'reveal s':>9}{'cap bpp':>8}{'cap ok':>7}", flush=True)
    for k, src in enumerate(sources):
        image = Image.open(folder / src["file"]).convert("RGB")
        crops = crops_of(image, seed=k)
        per = []
        for i, crop in enumerate(crops):
            n_bytes = min(int(a.payload * crop.width * crop.height / 8), blind_capacity(crop.height, crop.width))
            msg = np.random.default_rng([k, i]).integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
            t0 = time.perf_counter()
            try:
                stego, _ = blind_hide(crop, msg, model, password="held-out")
            except ValueError:  # hide's self-check refused: too many bit errors for the code
                per.append(dict(source=src["source"], size=f"{crop.width}x{crop.height}", bytes=n_bytes,
                                outcome="refused", psnr="", hide_s=time.perf_counter() - t0, reveal_s=""))
                continue
            t1 = time.perf_counter()
            buf = io.BytesIO()
            stego.save(buf, format="PNG")
            t2 = time.perf_counter()
            try:
                outcome = "exact" if blind_reveal(Image.open(io.BytesIO(buf.getvalue())), model,
                                                  password="held-out") == msg else "WRONG"
            except BlindRevealError:
                outcome = "error"
            t3 = time.perf_counter()
            per.append(dict(source=src["source"], size=f"{crop.width}x{crop.height}", bytes=n_bytes, outcome=outcome,
                            psnr=float(psnr(pil_to_tensor(crop), pil_to_tensor(stego))), hide_s=t1 - t0,
                            reveal_s=t3 - t2))
        for i, crop in enumerate(crops if not a.no_capacity else []):
            per[i].update(capacity_check(crop, model, seed=(k, i)))
        small = [c for c in crops if c.size == (128, 128)]
        covers = torch.stack([pil_to_tensor(c) for c in small]) if small else None
        ber = raw_bit_error_rate(model[0], covers, bpp=model[1].bpp, seed=k)["ber"] if small else [float("nan")]
        for r in per:
            r["raw_ber"] = float(np.mean(ber))
        rows += per
        ps = [r["psnr"] for r in per if r["psnr"] != ""]
        print(f"{src['source']:<22}{len(per):>6}{sum(r['outcome'] == 'exact' for r in per):>7}"
              f"{sum(r['outcome'] == 'refused' for r in per):>8}{sum(r['outcome'] == 'WRONG' for r in per):>6}"
              f"{min(ps) if ps else float('nan'):>9.2f}{statistics.median(ps) if ps else float('nan'):>8.2f}"
              f"{float(np.mean(ber)):>10.1e}{statistics.mean(r['hide_s'] for r in per):>8.2f}"
              f"{statistics.mean([r['reveal_s'] for r in per if r['reveal_s'] != ''] or [float('nan')]):>9.2f}"
              f"{min([r['cap_bpp'] for r in per if 'cap_bpp' in r] or [float('nan')]):>8.2f}"
              f"{sum(r.get('cap_ok') == 'exact' for r in per):>5}/{sum('cap_ok' in r for r in per)}", flush=True)
    ps = [r["psnr"] for r in rows if r["psnr"] != ""]
    n = len(rows)
    print(f"\nall {len(sources)} sources, {n} crops at {a.payload} bpp net: exact {sum(r['outcome'] == 'exact' for r in rows)}/{n}, "
          f"refused {sum(r['outcome'] == 'refused' for r in rows)}, error {sum(r['outcome'] == 'error' for r in rows)}, "
          f"WRONG {sum(r['outcome'] == 'WRONG' for r in rows)}; PSNR median {statistics.median(ps):.2f} dB, "
          f"min {min(ps):.2f} dB; sources with a refusal: "
          f"{', '.join(sorted({r['source'] for r in rows if r['outcome'] != 'exact'})) or 'none'}")
    checked = [r for r in rows if "cap_ok" in r]
    if checked:
        print(f"capacity --mode blind: {min(r['cap_bpp'] for r in checked):.2f} to {max(r['cap_bpp'] for r in checked):.2f} "
              f"bpp net; a message of exactly that many bytes: exact {sum(r['cap_ok'] == 'exact' for r in checked)}/"
              f"{len(checked)}, WRONG {sum(r['cap_ok'] == 'WRONG' for r in checked)}")
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
