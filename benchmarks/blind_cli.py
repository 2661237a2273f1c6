"""Whole-process times of blind mode from the command line on photos no network here was trained on
(issue 15's target: hide and reveal of a net 0.5 bpp message in a 256 x 256 photo, at most 5 s each).

    python -m helpers.data.corpus && python benchmarks/blind_cli.py           # 3 passwords per source
    python benchmarks/blind_cli.py --passwords 6 --sources plasma-OneStandsOut

For each held-out source of the corpus (``helpers.data.corpus.split_corpus``), its 256 x 256 crop
of ``benchmarks/blind_heldout.py``, a random message of a net ``--payload`` bpp, and for each of
``--passwords`` passwords one ``python -m helpers hide --mode blind`` and one ``reveal`` in a fresh
process each (Python start-up, ``import torch`` and loading the network included; timed by
:func:`hide_reveal.timed_cli`, whose parent runs no network: PyTorch's idle worker threads would take
CPU from the process timed). Prints per source the parity bytes hide settled on, the hide and
reveal times (median and largest), then the share of runs within ``--target`` seconds. A message
that does not come back byte-exact stops the run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blind_heldout import crops_of  # noqa: E402
from hide_reveal import timed_cli  # noqa: E402

from helpers.data.corpus import corpus_dir, read_manifest, split_corpus  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--payload", type=float, default=0.5, help="net bits per pixel (default 0.5)")
    p.add_argument("--passwords", type=int, default=3, help="runs per source, one password each")
    p.add_argument("--sources", default="", help="comma-separated source names (default: every held-out source)")
    p.add_argument("--target", type=float, default=5.0, help="seconds a run should stay within (default 5)")
    a = p.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, Python {sys.version.split()[0]}")
    folder = corpus_dir()
    held = split_corpus(read_manifest(folder))[1]
    wanted = set(filter(None, a.sources.split(",")))
    hides, reveals = [], []
    print(f"{'source':<22}{'parity bytes':>14}{'hide s (median, max)':>22}{'reveal s (median, max)':>24}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, src in enumerate(held):  # k: the crop seed of blind_heldout.py
            if wanted and src["source"] not in wanted:
                continue
            crop = crops_of(Image.open(folder / src["file"]).convert("RGB"), seed=k)[2]
            cover, stego, got, msg = tmp / "cover.png", tmp / "stego.png", tmp / "got.bin", tmp / "msg.bin"
            crop.save(cover)
            n_bytes = int(a.payload * crop.width * crop.height / 8)
            msg.write_bytes(np.random.default_rng(k).integers(0, 256, n_bytes, dtype=np.uint8).tobytes())
            h, r, parity = [], [], []
            for i in range(a.passwords):
                pw = f"bench-{i}"
                wall, _, said = timed_cli("hide", cover, "--file", msg, "--out", stego, "--mode", "blind",
                                          "--password", pw, "--force")
                h.append(wall)
                parity.append(re.search(r"with (\d+) parity", said).group(1))  # what hide settled on
                r.append(timed_cli("reveal", stego, "--out", got, "--mode", "blind", "--password", pw, "--force")[0])
                if got.read_bytes() != msg.read_bytes():
                    raise SystemExit(f"{src['source']}, password {pw}: the revealed message differs")
            hides += h
            reveals += r
            print(f"{src['source']:<22}{'/'.join(parity):>14}{statistics.median(h):>13.2f}{max(h):>9.2f}"
                  f"{statistics.median(r):>15.2f}{max(r):>9.2f}", flush=True)
    print(f"\n{len(hides)} runs, {crop.width} x {crop.height}, {n_bytes} bytes: hide median {statistics.median(hides):.2f} s, "
          f"max {max(hides):.2f} s, within {a.target:g} s {sum(t <= a.target for t in hides)}/{len(hides)}; reveal median "
          f"{statistics.median(reveals):.2f} s, max {max(reveals):.2f} s, within {a.target:g} s "
          f"{sum(t <= a.target for t in reveals)}/{len(reveals)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
