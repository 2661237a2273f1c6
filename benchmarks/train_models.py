"""Train one of the extra networks on the bundled photos for a fixed time (a GPU run; see
``benchmarks/gpu_run.sh``), save it and report it on the bundled 128 x 128 crops.

    python benchmarks/train_models.py rehman --seconds 150 --out rehman.pt --json rehman.json
    python benchmarks/train_models.py hinet  --seconds 150 --out hinet.pt  --json hinet.json
    python benchmarks/train_models.py blind  --seconds 240 --out blind.pt  --json blind.json

Training uses random crops of every bundled photo except those of the ``--held-out`` sources
(``data/samples/manifest.csv``), the same split as the shipped ``paper.pt``; the report gives
figures for the held-out and the seen 128 x 128 crops separately.
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.data.photos import SAMPLES_DIR, ImageFolder  # noqa: E402
from helpers.settings import pick_device  # noqa: E402
from helpers.plumbing.files import load_weights  # noqa: E402
from helpers.plumbing.inference import load_network  # noqa: E402


def split(held_out: set[str], crop: int):
    with open(SAMPLES_DIR / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    train = [r["file"] for r in rows if r["source"] not in held_out
             and min(int(r["width"]), int(r["height"])) >= crop]
    square = [r for r in rows if r["width"] == "128" and r["height"] == "128"]
    seen = [r["file"] for r in square if r["source"] not in held_out]
    held = [r["file"] for r in square if r["source"] in held_out]
    return train, seen, held


def stats(values):
    return {"mean": statistics.mean(values), "std": statistics.pstdev(values), "min": min(values),
            "max": max(values), "n": len(values)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("which", choices=("rehman", "hinet", "blind"))
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--steps", type=int, default=10 ** 9)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float)
    p.add_argument("--alpha", type=float, help="blind: weight of the image term (default: BlindConfig's)")
    p.add_argument("--init", help="start from this checkpoint of the same kind (continue a run)")
    p.add_argument("--save-every", type=float, metavar="SECONDS",
                   help="blind: also save --out (and print the running figures) this often during training, "
                        "so a long CPU run can be watched and survives an interruption")
    p.add_argument("--held-out", default="coffee,rocket")
    p.add_argument("--corpus", action="store_true",
                   help="also train on the corpus's training sources (helpers.data.corpus.split_corpus; build the corpus "
                        "first with  python -m helpers.data.corpus), scaled to 256 and 512 pixels on the short side")
    p.add_argument("--out", required=True)
    p.add_argument("--json")
    a = p.parse_args(argv)
    device = pick_device()
    held_out = set(a.held_out.split(","))
    train_files, seen, held = split(held_out, a.crop)
    data_note = f"the bundled photos (held-out sources {a.held_out})"
    if a.corpus:
        from helpers.data.corpus import training_images

        extra = training_images()
        train_files += [str(f) for f in extra]
        data_note += (f" and {len(extra)} scaled copies of the corpus's training sources (helpers.data.corpus.split_corpus; "
                      "its held-out sources never seen)")
    images = ImageFolder(SAMPLES_DIR, size=a.crop, train=True, files=train_files)
    start = time.perf_counter()
    report = {"which": a.which, "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "crop": a.crop, "batch": a.batch, "train_files": len(train_files),
              "held_out_sources": sorted(held_out)}
    if a.which == "blind":
        from helpers.methods.blind_mode import BlindConfig, raw_bit_error_rate, save_blind, train_blind

        init, before = None, None
        if a.init:
            init, old_cfg = load_network(a.init, "blind", fresh=True)
            before = load_weights(a.init, "inn-stego-blind", "blind-mode checkpoint")["notes"]
        # a continued run keeps its checkpoint's settings (alpha, lr, ...) unless told otherwise
        cfg = dataclasses.replace(old_cfg if a.init else BlindConfig(), crop=a.crop, batch_size=a.batch,
                                  **({"lr": a.lr} if a.lr else {}), **({"alpha": a.alpha} if a.alpha else {}))

        def describe(steps, seconds):
            notes = (f"blind mode, {steps} steps at batch {a.batch} on {a.crop} x {a.crop} random crops of "
                     f"{data_note}, lr {cfg.lr:g}, alpha {cfg.alpha:g}, "
                     f"beta {cfg.beta:g}, gamma {cfg.gamma:g}, {seconds:.0f} s on {report['device']}")
            return f"{before}; then {notes}" if before else notes

        last_save = [time.perf_counter()]

        def on_log(model, row):
            if a.save_every is None:
                return
            print(json.dumps({k: round(v, 6) for k, v in row.items()}), flush=True)
            if time.perf_counter() - last_save[0] >= a.save_every:
                tmp = Path(a.out).with_suffix(".partial")
                save_blind(copy.deepcopy(model).cpu(), cfg, tmp, notes=describe(row["step"], row["seconds"]))
                tmp.replace(a.out)
                last_save[0] = time.perf_counter()

        model, history = train_blind(images, cfg, steps=a.steps, time_limit=a.seconds, device=device, log_every=50,
                                     model=init, on_log=on_log)
        report["history"] = history
        seconds = time.perf_counter() - start
        steps = history[-1]["step"] if history else 0
        for name, files in (("held_out", held), ("seen", seen)):
            covers = torch.stack([ImageFolder(SAMPLES_DIR, size=128, files=files)[i] for i in range(len(files))])
            report[name] = raw_bit_error_rate(model, covers, cfg.bpp, seed=1)
        notes = describe(steps, seconds)
        save_blind(model.cpu(), cfg, a.out, notes=notes, extra={"held_out": report["held_out"]})
    else:
        from helpers.methods.baselines import save_baseline, train_hinet, train_rehman
        from helpers.evaluation.harness import evaluate_methods

        kw = {"lr": a.lr} if a.lr else {}
        trainer = train_rehman if a.which == "rehman" else train_hinet
        if a.init:
            kw["init"] = load_network(a.init, a.which, fresh=True).model
        model = trainer(images, steps=a.steps, batch_size=a.batch, device=device, time_limit=a.seconds, **kw)
        seconds = time.perf_counter() - start
        for name, files in (("held_out", held), ("seen", seen)):
            rows = evaluate_methods(ImageFolder(SAMPLES_DIR, size=128, files=files), [a.which], progress=False,
                                    device=device, **{a.which: model})
            report[name] = {k: stats([r[k] for r in rows]) for k in ("psnr", "ssim", "ra")}
        save_baseline(model.cpu(), a.out)
        notes = f"{a.which}: {seconds:.0f} s of training" + (f" after {a.init}" if a.init else "")
    report["train_seconds"] = seconds
    report["notes"] = notes
    print(json.dumps({k: v for k, v in report.items() if k != "history"}, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
