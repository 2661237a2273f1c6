"""After a GPU training run: held-out quality, and CPU/GPU agreement of a trained network.

    python benchmarks/gpu_report.py CHECKPOINT --held-out coffee,rocket --json report.json

1. ``helpers.training.train.evaluate`` on the bundled 128 x 128 crops, split into photos held out of
   training (``--held-out`` names their sources in ``data/samples/manifest.csv``) and photos seen.
2. CPU/GPU agreement: the same weights and inputs on both; how far the float stego images are
   apart, how many 8-bit values differ, and whether a stego image + z made on one device reveals
   the message on the other (a key made on a Colab GPU, revealed on a laptop).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys

import torch

from helpers.data.photos import SAMPLES_DIR, ImageFolder
from helpers.coding.mapping import map_bits, unmap_bits
from helpers.network.model import quantize_8bit
from helpers.training.train import evaluate
from helpers.plumbing.inference import load_network


def summary(values):
    return {"mean": statistics.mean(values), "std": statistics.pstdev(values), "min": min(values), "n": len(values)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--held-out", default="coffee,rocket")
    p.add_argument("--json")
    a = p.parse_args(argv)
    held = set(a.held_out.split(","))
    with open(SAMPLES_DIR / "manifest.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["width"] == "128" and r["height"] == "128"]
    split = {"held_out": [r["file"] for r in rows if r["source"] in held],
             "seen": [r["file"] for r in rows if r["source"] not in held]}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = load_network(a.checkpoint, fresh=True).model.to(device)
    report = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "torch": torch.__version__}
    for name, files in split.items():
        r = evaluate(model, ImageFolder(SAMPLES_DIR, size=128, files=files), bpp=3, device=device)
        report[name] = {k: summary(v) for k, v in r.items()}
        report[name]["lossless_images"] = sum(ra == 1.0 for ra in r["ra"])
        print(f"{name}: {len(files)} crops, PSNR {report[name]['psnr']['mean']:.2f} ± {report[name]['psnr']['std']:.2f} dB, "
              f"RA {report[name]['ra']['mean']:.6%}, lossless {report[name]['lossless_images']}/{len(files)}, "
              f"values changed {report[name]['changed']['mean']:.1%}")
    if device.type == "cuda":
        cpu_model = load_network(a.checkpoint, fresh=True).model
        images = ImageFolder(SAMPLES_DIR, size=128, files=split["held_out"])
        cover = torch.stack([images[i] for i in range(len(images))])
        bits = torch.randint(0, 2, cover.shape, generator=torch.Generator().manual_seed(7), dtype=torch.uint8)
        secret_map, turn = map_bits(bits, batch=True)
        with torch.no_grad():
            stego_c, z_c = cpu_model(cover, secret_map)
            stego_g, z_g = (t.cpu() for t in model(cover.to(device), secret_map.to(device)))
            s8_c, s8_g = quantize_8bit(stego_c), quantize_8bit(stego_g)
            cross = {}
            for name, (s8, z, m) in {"gpu_made_cpu_reveals": (s8_g, z_g, cpu_model),
                                      "cpu_made_gpu_reveals": (s8_c, z_c, model)}.items():
                dev = next(m.parameters()).device
                _, rev = m.inverse(s8.to(dev), z.to(dev))
                cross[name] = (unmap_bits(rev.cpu(), turn) == bits).float().mean().item()
        report["agreement"] = {
            "max_abs_stego_diff": (stego_c - stego_g).abs().max().item(),
            "max_abs_z_diff": (z_c - z_g).abs().max().item(),
            "share_8bit_values_differ": (s8_c != s8_g).float().mean().item(),
            **{f"ra_{k}": v for k, v in cross.items()},
        }
        print("CPU vs GPU:", json.dumps(report["agreement"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
