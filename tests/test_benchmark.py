"""The benchmark runs, and its optimised path computes the same thing (no timing asserted here)."""

import importlib.util
from pathlib import Path

import torch

spec = importlib.util.spec_from_file_location("benchmark", Path(__file__).parent.parent / "benchmarks" / "benchmark.py")
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def test_benchmark_smoke_and_equal_outputs(capsys):
    r = benchmark.bench_device(torch.device("cpu"), size=16, batch_sizes=[2], repeats=1)
    assert r["max_abs_diff"] < 1e-5  # the optimised path must not change the outputs
    row = r["train"][0]  # the figures printed are consistent: batch 2, images/s = batch / step time
    assert row["batch"] == 2 and abs(row["images_per_s"] * row["step_s"] - 2) < 1e-9
    assert abs(row["s_per_image"] * row["images_per_s"] - 1) < 1e-9
    benchmark.report(r)
    assert "forward + inverse per image" in capsys.readouterr().out


def test_plain_version_is_the_same_network():
    torch.manual_seed(0)
    model = benchmark.StegoINN(n_blocks=2, last_init="default").eval()
    cover, secret = torch.rand(1, 3, 12, 12), torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        stego, z, cover_rev, secret_rev = benchmark.plain_forward_inverse(model, cover, secret)
        ref_stego, ref_z = model(cover, secret)
    assert torch.allclose(stego, ref_stego, atol=1e-6) and torch.allclose(z, ref_z, atol=1e-6)
    assert torch.allclose(secret_rev, secret, atol=1e-5)
