"""Wall time and peak memory of the command line ``hide`` and ``reveal`` (issue 4's targets).

    python benchmarks/hide_reveal.py            # 128 x 128, 512 x 512, 1024 x 1024 at 3 bpp
    python benchmarks/hide_reveal.py --sizes 128 --repeats 5

Each figure is one run of ``python -m helpers hide|reveal`` in a fresh process (Python start-up,
``import torch`` and loading the shipped checkpoint included), with a full-capacity random
message. Covers larger than the bundled photos are made by mirroring a bundled photo. The peak
memory is the child process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
WRAP = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")


def timed_cli(*argv) -> tuple[float, float, str]:
    """Wall time, peak memory (MiB) and what ``python -m helpers ARGV`` printed, run in a fresh process
    as an installed package runs: its compiled modules cached (``PYTHONDONTWRITEBYTECODE`` dropped)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", WRAP, sys.executable, "-m", "helpers", *map(str, argv)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, argv))}\n{r.stderr}")
    *said, rss = r.stderr.strip().splitlines()
    return wall, int(rss) / 1024, "\n".join([r.stdout, *said])  # KiB -> MiB


def make_cover(size: int, folder: Path) -> Path:
    photo = np.asarray(Image.open(ROOT / "data" / "samples" / "coffee_512x384_0.png").convert("RGB"))
    reps = (-(-size // photo.shape[0]) + 1, -(-size // photo.shape[1]) + 1, 1)
    tiled = np.concatenate([photo, photo[::-1]], 0)
    tiled = np.tile(np.concatenate([tiled, tiled[:, ::-1]], 1), reps)[:size, :size]
    path = folder / f"cover_{size}.png"
    Image.fromarray(tiled).save(path)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="128,512,1024")
    p.add_argument("--bpp", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3, help="runs per figure (the median is printed)")
    p.add_argument("--json")
    a = p.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, Python {sys.version.split()[0]}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in (int(s) for s in a.sizes.split(",")):
            cover = make_cover(size, tmp)
            from helpers.methods.key_mode import capacity

            message = tmp / "message.bin"
            message.write_bytes(np.random.default_rng(0).bytes(capacity(size, size, a.bpp)))
            hides, reveals, mem_h, mem_r = [], [], 0.0, 0.0
            for _ in range(a.repeats):
                for f in ("s.png", "k.npz", "out.bin"):
                    (tmp / f).unlink(missing_ok=True)
                t, m, _ = timed_cli("hide", cover, "--file", message, "--out", tmp / "s.png", "--key", tmp / "k.npz",
                                 "--bpp", a.bpp)
                hides.append(t)
                mem_h = max(mem_h, m)
                t, m, _ = timed_cli("reveal", tmp / "s.png", "--key", tmp / "k.npz", "--out", tmp / "out.bin")
                reveals.append(t)
                mem_r = max(mem_r, m)
                assert (tmp / "out.bin").read_bytes() == message.read_bytes(), "round trip not exact"
            row = {"size": size, "bpp": a.bpp, "message_bytes": message.stat().st_size,
                   "key_bytes": (tmp / "k.npz").stat().st_size, "stego_png_bytes": (tmp / "s.png").stat().st_size,
                   "hide_s": statistics.median(hides), "reveal_s": statistics.median(reveals),
                   "hide_peak_mib": mem_h, "reveal_peak_mib": mem_r}
            rows.append(row)
            print(f"{size} x {size}, {a.bpp} bpp, message {row['message_bytes']} B, key {row['key_bytes']} B: "
                  f"hide {row['hide_s']:.2f} s (peak {mem_h:.0f} MiB), reveal {row['reveal_s']:.2f} s "
                  f"(peak {mem_r:.0f} MiB), median of {a.repeats}", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
