"""Speed and memory of the paper's network (8 blocks, 128 x 128): prints the figures.

    python benchmarks/benchmark.py                 # CPU, and CUDA too when a GPU is visible
    python benchmarks/benchmark.py --json out.json # also save the figures

1. Forward + inverse latency per image: the straightforward eager version (the coupling block of
   notebook 01 written out and stacked eight times, NCHW, ``torch.no_grad``, as HiNet's reference
   code runs) against ``helpers.plumbing.inference.prepare_for_inference`` (channels-last memory layout and
   ``torch.inference_mode``); the outputs must agree to 1e-5.
2. Training throughput (images/s) and peak memory of one training step of the paper's loss
   (forward, straight-through 8-bit rounding, inverse, backward, Adam) for several batch sizes.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time

import torch

from helpers import StegoINN
from helpers.plumbing.inference import prepare_for_inference
from helpers.training.train import EagerTrainStep, GraphedTrainStep, TrainConfig, TrainStep, make_optimizer


def plain_forward_inverse(model: StegoINN, cover, secret):
    """The straightforward version: eqs. (1)-(4) written out, blocks in a Python loop."""
    def dense(block, x):
        feats = [x]
        for conv in block.convs:
            feats.append(block.act(conv(torch.cat(feats, 1))))
        return block.last(torch.cat(feats, 1))

    def c(s, clamp):
        return clamp * 2 * (torch.sigmoid(s) - 0.5)

    x, y = cover, secret
    for b in model.blocks:
        x = x + dense(b.phi, y)
        y = y * torch.exp(c(dense(b.rho, x), b.clamp)) + dense(b.eta, x)
    stego, z = x, y
    for b in reversed(model.blocks):
        y = (y - dense(b.eta, x)) * torch.exp(-c(dense(b.rho, x), b.clamp))
        x = x - dense(b.phi, y)
    return stego, z, x, y


def timed(fn, repeats: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench_device(device: torch.device, size: int, batch_sizes, repeats: int) -> dict:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    model = StegoINN(last_init="default").to(device).eval()
    cover = torch.rand(1, 3, size, size, device=device)
    secret = (torch.rand(1, 3, size, size, device=device) < 0.5).float() / 2
    out = {"device": str(device), "size": size}

    with torch.no_grad():
        t_plain = timed(lambda: plain_forward_inverse(model, cover, secret), repeats, sync)
        ref = plain_forward_inverse(model, cover, secret)
    fast = prepare_for_inference(StegoINN(**model.config).to(device))
    fast.load_state_dict(model.state_dict())
    fast_cover = cover.contiguous(memory_format=torch.channels_last)
    fast_secret = secret.contiguous(memory_format=torch.channels_last)

    def fast_run():
        with torch.inference_mode():
            stego, z = fast(fast_cover, fast_secret)
            return (stego, z, *fast.inverse(stego, z))

    t_fast = timed(fast_run, repeats, sync)
    diff = max((a - b).abs().max().item() for a, b in zip(ref, fast_run()))
    with torch.inference_mode():
        t_fwd = timed(lambda: fast(fast_cover, fast_secret), repeats, sync)
        stego, z = fast(fast_cover, fast_secret)
        t_inv = timed(lambda: fast.inverse(stego, z), repeats, sync)
    print(f"  forward + inverse: plain {t_plain:.4f} s, optimised {t_fast:.4f} s", flush=True)
    out.update(plain_fwd_inv_s=t_plain, fast_fwd_inv_s=t_fast, speedup=t_plain / t_fast, max_abs_diff=diff,
               forward_s=t_fwd, inverse_s=t_inv)

    train_rows = []
    # (CUDA graph, bfloat16 autocast) combinations: eager only on the CPU
    modes = [(False, False), (False, True), (True, False), (True, True)] if device.type == "cuda" else [(False, False)]
    for graph, amp in modes:
        for bs in batch_sizes:
            row = {"batch": bs, "amp": amp, "graph": graph}
            torch.manual_seed(0)
            net = StegoINN(last_init="default").to(device)
            cfg = TrainConfig(amp=amp)
            opt = make_optimizer(net, cfg, capturable=graph)
            run_step = (GraphedTrainStep if graph else EagerTrainStep)(TrainStep(net), net, opt, cfg, amp)
            x = torch.rand(bs, 3, size, size, device=device)
            s = (torch.rand(bs, 3, size, size, device=device) < 0.5).float() / 2
            if device.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
            try:
                for _ in range(4 if graph else 0):  # warm-up steps and the capture happen before timing
                    run_step(x, s)
                # several steps per timing so that one step's launch overhead is measured in context
                n = 10 if device.type == "cuda" else 1
                t = timed(lambda: [run_step(x, s) for _ in range(n)], repeats, sync) / n
                peak = torch.cuda.max_memory_allocated(device) / 2 ** 20 if device.type == "cuda" else peak_rss_mib()
                row.update(step_s=t, images_per_s=bs / t, s_per_image=t / bs, peak_mib=peak)
            except torch.OutOfMemoryError:
                row["error"] = "out of memory"
            except RuntimeError as e:  # e.g. a capture that fails: report it, keep measuring the rest
                row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
            train_rows.append(row)
            print("  measured" if "error" not in row else "  failed",
                  {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
            del net, opt, run_step  # free this configuration's memory before the next one
    out["train"] = train_rows
    return out


def report(r: dict) -> None:
    print(f"\n== {r['device']}, {r['size']} x {r['size']}, 8 blocks ==")
    print(f"forward + inverse per image: plain eager {r['plain_fwd_inv_s']:.3f} s, optimised {r['fast_fwd_inv_s']:.3f} s "
          f"-> {r['speedup']:.2f}x (outputs agree to {r['max_abs_diff']:.1e})")
    print(f"optimised forward {r['forward_s']:.3f} s, inverse {r['inverse_s']:.3f} s per image")
    peak_kind = "peak GPU memory" if r["device"].startswith("cuda") else "peak process RSS"
    print(f"{'batch':>6} {'amp':>5} {'graph':>6} {'step s':>8} {'images/s':>9} {'s/image':>8} {peak_kind + ' MiB':>22}")
    for row in r["train"]:
        if "error" in row:
            print(f"{row['batch']:>6} {str(row['amp']):>5} {str(row['graph']):>6} {row['error']}")
        else:
            print(f"{row['batch']:>6} {str(row['amp']):>5} {str(row['graph']):>6} {row['step_s']:>8.4f} {row['images_per_s']:>9.2f} {row['s_per_image']:>8.3f} "
                  f"{row['peak_mib']:>22.0f}")
    ok = [row for row in r["train"] if "error" not in row]
    if ok:
        best = max(ok, key=lambda row: row["images_per_s"])
        print(f"best: batch {best['batch']}, amp {best['amp']}, graph {best['graph']} ({best['images_per_s']:.2f} images/s; one epoch of 1000 images "
              f"{1000 / best['images_per_s'] / 60:.1f} min)")


def bench_steganalysis(repeats: int = 20) -> dict:
    """Milliseconds to run all four statistical detectors on one 128 x 128 bundled photo."""
    import numpy as np
    from PIL import Image

    from helpers.data.photos import list_samples
    from helpers.evaluation.statistical import estimate

    image = np.asarray(Image.open(list_samples()[0]).convert("RGB"))
    t = timed(lambda: estimate(image), repeats, lambda: None)
    print(f"\n== statistical detectors (RS, SPA, chi-square, WS) on one 128 x 128 image: {1000 * t:.1f} ms")
    return {"steganalysis_ms": 1000 * t}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--cpu-batches", default="2,4")
    p.add_argument("--cuda-batches", default="2,16")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-cpu", action="store_true", help="skip the CPU figures")
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args(argv)
    print(f"torch {torch.__version__}, Python {platform.python_version()}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads" + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"))
    results = []
    if not a.no_cpu:
        results.append(bench_steganalysis())
        results.append(bench_device(torch.device("cpu"), a.size, [int(b) for b in a.cpu_batches.split(",")], a.repeats))
        report(results[-1])
    if torch.cuda.is_available():
        results.append(bench_device(torch.device("cuda"), a.size, [int(b) for b in a.cuda_batches.split(",")],
                                    max(a.repeats, 10)))
        report(results[-1])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
