"""The evaluation harness: per-image metrics after a PNG round trip, CSV and the paper's tables."""

import csv

import pytest
from PIL import Image

from helpers.__main__ import main
from helpers.data.photos import SAMPLES_DIR, ImageFolder, list_samples
from helpers.evaluation.harness import PAPER, evaluate_methods, markdown_tables, write_results
from helpers.plumbing.inference import load_network


@pytest.fixture(scope="module")
def rows():
    images = ImageFolder(SAMPLES_DIR, size=128, files=[p.name for p in list_samples()[:2]])
    return evaluate_methods(images, ("lsb", "inn", "inn-nomap"), progress=False)


def test_lsb_matches_the_arithmetic_and_the_paper(rows):
    lsb = [r for r in rows if r["method"] == "lsb"]
    # Random bits replace the red LSBs: half of them change by one level, so MSE = 0.5 / 3 levels^2
    # over the three channels and PSNR = 10 log10(255^2 / (1/6)) = 55.91 dB; the paper reports 55.89.
    assert all(abs(r["psnr"] - 55.91) < 0.15 for r in lsb)
    assert all(r["ra"] == 1.0 and r["bpp"] == 1 for r in lsb)
    assert abs(PAPER["psnr"]["lsb"][0] - 55.91) < 0.05


def test_inn_is_lossless_after_png(rows):
    inn = [r for r in rows if r["method"] == "inn"]
    # The shipped network gives 41-42 dB (data/checkpoints/README.md); the upper bounds fail a network
    # that leaves the cover untouched (PSNR inf, SSIM 1) although it too would recover every bit.
    assert all(r["ra"] == 1.0 and r["bpp"] == 3 and 38 < r["psnr"] < 46 and 0.9 < r["ssim"] < 0.999 for r in inn), inn


def test_csv_and_tables(rows, tmp_path):
    paths = write_results(rows, tmp_path)
    with open(paths["csv"]) as f:
        got = list(csv.DictReader(f))
    assert len(got) == 6 and set(got[0]) == {"method", "image", "psnr", "ssim", "bpp", "ra"}
    text = paths["tables"].read_text()
    for needle in ("Table 1", "Table 2", "Table 4", "55.8896", "67.301", "99.48", "not run", "retrains"):
        assert needle in text
    assert "| LSB-1bit | 2 |" in markdown_tables(rows)


def test_command_line_usage_errors(tmp_path, capsys):
    assert main(["evaluate", "--data", str(SAMPLES_DIR), "--methods", "lsb,bogus", "--out", str(tmp_path / "o")]) == 2
    assert "unknown method" in capsys.readouterr().err
    for kind in ("rehman", "hinet"):  # the shipped baselines are the default; a missing one given is an error
        assert main(["evaluate", "--data", str(SAMPLES_DIR), "--methods", kind, "--out", str(tmp_path / "o"),
                     f"--{kind}-checkpoint", str(tmp_path / "missing.pt")]) == 1
        assert "checkpoint not found" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 1
    assert not (tmp_path / "o").exists()


def test_shipped_baselines_load_and_work():
    """The networks trained on a GPU for notebook 07 (data/checkpoints/README.md): loaded without
    running code, each hides and extracts through the harness on two photos it never saw."""
    from helpers.evaluation.harness import SHIPPED

    held_out = [p.name for p in list_samples() if p.name.startswith(("coffee", "rocket"))][:2]
    images = ImageFolder(SAMPLES_DIR, size=128, files=held_out)
    rows = evaluate_methods(images, ("rehman", "hinet", "inn-nomap", "inn-1bpp-nomap"), progress=False,
                            rehman=load_network(SHIPPED["rehman"], "rehman").model, hinet=load_network(SHIPPED["hinet"], "hinet").model,
                            nomap_checkpoint=SHIPPED["nomap"])
    by = {m: [r for r in rows if r["method"] == m] for m in ("rehman", "hinet", "inn-nomap", "inn-1bpp-nomap")}
    # measured on the 10 held-out crops: Rehman 35.5 dB, RA 99.97 %; HiNet-style 23.4 dB, RA 99.9 %;
    # the paper's network retrained without mapping: RA 100 %
    assert all(r["psnr"] > 30 and r["ra"] > 0.99 for r in by["rehman"]), by["rehman"]
    assert all(r["psnr"] > 18 and r["ra"] > 0.98 for r in by["hinet"]), by["hinet"]
    assert all(r["ra"] == 1.0 and r["psnr"] > 33 for r in by["inn-nomap"] + by["inn-1bpp-nomap"]), rows


def test_make_stegos_of_every_method():
    """Notebook 08's stego sets: 8-bit arrays of the covers' shape, changed as each method changes them."""
    import numpy as np

    from helpers.evaluation.harness import make_stegos

    covers = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in list_samples()[:3]])
    for method, lo, hi in (("lsb", 55, 57), ("rehman", 28, 45), ("hinet", 16, 30), ("inn", 38, 46)):
        stegos = make_stegos(method, covers, seed=1)
        assert stegos.shape == covers.shape and stegos.dtype == np.uint8
        mse = ((stegos.astype(float) - covers) ** 2).mean()
        assert lo < 10 * np.log10(255 ** 2 / mse) < hi, method
    with pytest.raises(ValueError, match=r"^unknown method 'bogus'; available: key, blind, lsb, "):
        make_stegos("bogus", covers)


def test_rehman_baseline_trains_and_goes_through_the_harness(tmp_path):
    """A few CPU steps already decode the bit plane almost perfectly; the image quality needs the
    long GPU run (the paper: 41.4 dB)."""
    from helpers.methods.baselines import save_baseline, train_rehman

    model = train_rehman(ImageFolder(SAMPLES_DIR, size=32, train=True), steps=200, batch_size=8)
    save_baseline(model, tmp_path / "rehman.pt")
    images = ImageFolder(SAMPLES_DIR, size=128, files=[p.name for p in list_samples()[-2:]])
    rows = evaluate_methods(images, ("rehman",), progress=False, rehman=load_network(tmp_path / "rehman.pt", "rehman").model)
    assert all(r["bpp"] == 1 and r["ra"] > 0.95 and r["psnr"] > 15 for r in rows), rows
    with pytest.raises(ValueError, match="needs a trained model"):
        evaluate_methods(images, ("rehman",), progress=False)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable Rehman checkpoint"):
        load_network(tmp_path / "bad.pt", "rehman")
    with pytest.raises(ValueError, match="not a HiNet-style checkpoint"):
        load_network(tmp_path / "rehman.pt", "hinet", fresh=True).model


def test_hinet_style_baseline_extracts_without_z(tmp_path):
    """A few CPU steps of HiNet's loss already reveal most bits with z drawn from a Gaussian (the
    paper's HiNet: RA 78.6 % at 3 bpp); PSNR needs the GPU run. (The Haar transform's round trip:
    tests/test_invertible.py.)"""
    import torch

    from helpers.methods.baselines import Haar, save_baseline, train_hinet

    x = torch.rand(2, 3, 8, 6)
    assert torch.isclose(Haar()(x).norm(), x.norm())  # orthonormal
    with pytest.raises(ValueError, match="even sides"):
        Haar()(torch.rand(1, 3, 7, 8))
    model = train_hinet(ImageFolder(SAMPLES_DIR, size=32, train=True), steps=80, batch_size=4, n_blocks=4)
    save_baseline(model, tmp_path / "hinet.pt")
    images = ImageFolder(SAMPLES_DIR, size=128, files=[p.name for p in list_samples()[-2:]])
    rows = evaluate_methods(images, ("hinet",), progress=False, hinet=load_network(tmp_path / "hinet.pt", "hinet", fresh=True).model)
    assert all(r["bpp"] == 3 and r["ra"] > 0.75 for r in rows), rows


def _table_rows(text: str) -> dict:
    """``tables.md`` -> {(table number, first cell): [cells]} for every body row of every table."""
    rows, table = {}, None
    for line in text.splitlines():
        if line.startswith("### Table "):
            table = int(line.split()[2].rstrip(":"))
        elif line.startswith("| ") and not line.startswith("| method") and not line.startswith("| capacity"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[(table, cells[0])] = cells[1:]
    return rows


def _mean_and_sd(cell: str) -> tuple[float, float]:
    mean, sd = cell.split(" ± ")
    return float(mean), float(sd)


def test_the_evaluate_command_writes_the_harness_numbers(tmp_path):
    """``python -m helpers evaluate`` end to end in its own process, on a folder of three photos:
    every figure of results.csv and tables.md is the harness's own number for that method, image
    and column (swapping two columns, two methods or two images fails)."""
    import math
    import shutil
    import statistics
    import subprocess
    import sys

    from helpers.evaluation.harness import NAMES, SHIPPED

    folder = tmp_path / "covers"
    folder.mkdir()
    for p in list_samples()[:3]:
        shutil.copy(p, folder / p.name)
    methods = ("lsb", "inn", "inn-1bpp-nomap")
    run = subprocess.run([sys.executable, "-m", "helpers", "evaluate", "--data", str(folder), "--methods", ",".join(methods),
                          "--out", str(tmp_path / "out"), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # the command line's default for the no-mapping rows is the shipped network retrained without it
    expected = evaluate_methods(ImageFolder(folder, size=128, train=False), methods, nomap_checkpoint=SHIPPED["nomap"],
                                progress=False)
    with open(tmp_path / "out" / "results.csv") as f:
        got = list(csv.DictReader(f))
    assert [(r["method"], r["image"]) for r in got] == [(r["method"], r["image"]) for r in expected]
    assert len({r["image"] for r in got}) == 3
    for g, e in zip(got, expected):
        for column in ("psnr", "ssim", "ra"):
            assert float(g[column]) == pytest.approx(e[column], rel=1e-6, abs=1e-9), (g, e, column)
        assert int(g["bpp"]) == e["bpp"]
    tables = _table_rows((tmp_path / "out" / "tables.md").read_text())
    assert run.stdout.startswith((tmp_path / "out" / "tables.md").read_text())  # the command prints the tables

    def column(method, key):
        return [100 * r[key] if key == "ra" else r[key] for r in expected if r["method"] == method]

    def check(cell, values):
        mean, sd = _mean_and_sd(cell)
        assert mean == pytest.approx(statistics.mean(values), abs=6e-5) and sd == pytest.approx(statistics.pstdev(values), abs=6e-5)

    for m in ("lsb", "inn"):
        n, psnr_cell, _, ssim_cell, _ = tables[(1, NAMES[m])]
        assert int(n) == 3
        check(psnr_cell, column(m, "psnr"))
        check(ssim_cell, column(m, "ssim"))
        check(tables[(2, NAMES[m])][1], column(m, "ra"))
    assert tables[(1, NAMES["rehman"])][1] == "not run" and tables[(2, NAMES["hinet"])][1] == "not run"
    one_bpp, three_bpp = tables[(4, "1 bpp")], tables[(4, "3 bpp")]
    assert one_bpp[0] == "not run" and three_bpp[2] == "not run"
    check(three_bpp[0], column("inn", "ra"))
    check(one_bpp[2], column("inn-1bpp-nomap", "ra"))
    assert not math.isclose(statistics.mean(column("lsb", "psnr")), statistics.mean(column("inn", "psnr")))
    assert "trained **with** the mapping module" not in run.stdout  # the retrained network was used


def test_the_evaluate_command_takes_notebook_05s_export_with_checkpoint_auto(tmp_path, monkeypatch, capsys):
    """README's Section 4 command with --checkpoint auto: the newest full-mode export in the cache
    folder (here the shipped network with its last layers scaled down: about 68 dB), not the shipped one."""
    import torch

    from helpers.__main__ import main
    from helpers.settings import SHIPPED_PAPER

    state = torch.load(SHIPPED_PAPER, weights_only=True)
    for k in [k for k in state["model"] if ".last." in k]:
        state["model"][k] = state["model"][k] * 0.01
    state.update(toy=False, notes="test export")
    (tmp_path / "cache" / "exports").mkdir(parents=True)
    torch.save(state, tmp_path / "cache" / "exports" / "paper-x.pt")
    monkeypatch.setenv("INN_STEGO_CACHE", str(tmp_path / "cache"))
    args = ["evaluate", "--data", str(SAMPLES_DIR), "--methods", "inn", "--limit", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "auto"), "--checkpoint", "auto"]) == 0
    assert "network: your newest export" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "shipped")]) == 0
    psnr = {}
    for name in ("auto", "shipped"):
        with open(tmp_path / name / "results.csv") as f:
            psnr[name] = float(next(csv.DictReader(f))["psnr"])
    assert psnr["auto"] > 60 > 45 > psnr["shipped"]
