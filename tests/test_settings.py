"""The settings cell's helpers: the mode a notebook runs in, the cache folder and where things are
kept (KEEP), the network notebooks 06-10 load (CHECKPOINT), and the training folder of bundled
photos (held out by source)."""

import csv
import os
from pathlib import Path

import pytest
import torch

from helpers.data.photos import SAMPLES_DIR, SHIPPED_HELD_OUT, bundled_training_set
from helpers.settings import SHIPPED_PAPER, cache_dir, choose_mode, paper_checkpoint
from helpers.methods.key_mode import model_fingerprint
from helpers.plumbing.inference import load_network


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("INN_STEGO_FAST", raising=False)
    monkeypatch.delenv("INN_STEGO_CACHE", raising=False)
    return monkeypatch


def test_auto_is_fast_without_a_gpu_and_says_why(no_env, capsys):
    assert choose_mode("auto", "about 2 min", gpu=False) is True
    out = capsys.readouterr().out
    assert out.startswith("fast mode: MODE = 'auto' and no GPU") and "MODE = 'full'" in out
    assert "expect" not in out  # the full-mode time is for full mode only


def test_auto_is_full_on_a_gpu(no_env, capsys):
    assert choose_mode("auto", "about 2 min", gpu=True) is False
    out = capsys.readouterr().out
    assert out.startswith("full mode:") and "GPU" in out and "expect" not in out


def test_full_on_a_cpu_says_how_long(no_env, capsys):
    assert choose_mode("full", "about 19 min on a 2-core CPU", gpu=False) is False
    assert capsys.readouterr().out.splitlines() == ["full mode: MODE = 'full'",
                                                    "full mode without a GPU: expect about 19 min on a 2-core CPU"]
    assert choose_mode("fast", gpu=True) is True


def test_the_environment_overrides_mode_for_ci(no_env, capsys):
    no_env.setenv("INN_STEGO_FAST", "1")
    assert choose_mode("full", gpu=True) is True
    assert "INN_STEGO_FAST=1" in capsys.readouterr().out
    no_env.setenv("INN_STEGO_FAST", "0")
    assert choose_mode("auto", gpu=False) is False


def test_bad_settings_are_one_line_errors(no_env):
    with pytest.raises(ValueError, match="MODE must be one of 'auto', 'fast', 'full', not 'quick'"):
        choose_mode("quick")
    no_env.setenv("INN_STEGO_FAST", "yes")
    with pytest.raises(ValueError, match="INN_STEGO_FAST must be 1 .* not 'yes'"):
        choose_mode("auto")


def test_cache_dir(no_env, tmp_path):
    assert str(cache_dir()).endswith(".cache/inn-stego") and "~" not in str(cache_dir())
    no_env.setenv("INN_STEGO_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path


def test_the_suite_never_reads_the_users_cache(run_cache):
    """The root conftest points INN_STEGO_CACHE at a fresh folder for the run (a finished training run
    in ~/.cache/inn-stego would otherwise be resumed by notebook 05); processes the suite starts,
    notebook kernels among them, see the same folder."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    assert os.environ["INN_STEGO_CACHE"] == run_cache and cache_dir() == Path(run_cache)
    assert Path(run_cache).name.startswith("inn-stego-test-cache-")
    assert cache_dir() != Path("~/.cache/inn-stego").expanduser()
    child = subprocess.run([sys.executable, "-c", "from helpers.settings import cache_dir; print(cache_dir())"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == run_cache


def test_checkpoint_setting_names_the_network_that_is_loaded(tmp_path, random_inn, capsys):
    from helpers.training.train import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, export_checkpoint, save_checkpoint

    assert paper_checkpoint("shipped") == SHIPPED_PAPER and SHIPPED_PAPER.is_file()
    # a student's run, exported as notebook 05 does, is the network notebooks 06-10 then use
    net = random_inn(n_blocks=2, seed=3)
    run = tmp_path / "last.pt"
    save_checkpoint(run, {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": {},
                          "model_config": net.config, "model": net.state_dict(), "epoch": 0, "history": {},
                          "optimizer": {}})
    export = export_checkpoint(run, tmp_path / "exports" / "mine.pt", notes="test", toy=False)
    capsys.readouterr()
    path = paper_checkpoint(str(export))
    assert path == export and "your checkpoint" in capsys.readouterr().out
    assert model_fingerprint(load_network(path).model) == model_fingerprint(net)
    assert model_fingerprint(load_network(path).model) != model_fingerprint(load_network(SHIPPED_PAPER).model)
    with pytest.raises(FileNotFoundError, match="CHECKPOINT 'nope.pt' is not a file: use 'auto', 'shipped' or the path notebook 05"):
        paper_checkpoint("nope.pt")


def test_bundled_training_set_holds_out_whole_sources(tmp_path):
    with open(SAMPLES_DIR / "manifest.csv") as f:
        source = {r["file"]: r["source"] for r in csv.DictReader(f)}
    dest = bundled_training_set(tmp_path / "train", n=120)
    files = sorted(dest.iterdir())
    assert len(files) == 120
    originals = {p.name.split("_", 1)[1] for p in files}
    assert not {source[name] for name in originals} & set(SHIPPED_HELD_OUT)
    assert {source[name] for name in originals} == set(source.values()) - set(SHIPPED_HELD_OUT)
    assert all((SAMPLES_DIR / p.name.split("_", 1)[1]).read_bytes() == p.read_bytes() for p in files[:5])
    assert bundled_training_set(tmp_path / "train", n=120) == dest and len(list(dest.iterdir())) == 120  # again: same


def test_train_setting_of_notebook_05():
    from helpers.settings import decide_training

    assert decide_training("auto", fast=False, gpu=True) is True       # Colab GPU: train the paper's network
    assert decide_training("auto", fast=False, gpu=False) is False     # laptop, full mode: load the shipped one
    assert decide_training(True, fast=False, gpu=False) is True
    assert decide_training(False, fast=False, gpu=True) is False
    assert decide_training(False, fast=True, gpu=False) is True        # fast mode always runs the tiny loop
    assert decide_training("auto", gpu=False, shipped_exists=False) is True
    with pytest.raises(ValueError, match="TRAIN must be 'auto', True or False, not 'yes'"):
        decide_training("yes")


# --- KEEP: where downloads, runs and exports live (notebooks 04-10) ---------------------------------------

@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    """A stand-in for Colab's google.colab.drive: mount() makes MyDrive under a temporary mount point
    (or raises what ``refuse`` holds), and records its calls."""
    import sys
    import types

    import helpers.settings as settings

    mounts = []
    state = {"refuse": None}

    def mount(where):
        mounts.append(where)
        if state["refuse"]:
            raise state["refuse"]
        (Path(where) / "MyDrive").mkdir(parents=True)

    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=mount)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(settings, "DRIVE_MOUNT", tmp_path / "drive")
    monkeypatch.delenv("INN_STEGO_CACHE", raising=False)
    return {"mounts": mounts, "state": state, "mount_point": tmp_path / "drive"}


def test_keep_off_colab_is_this_machines_cache_folder(no_env, tmp_path, capsys):
    from helpers.settings import keep

    no_env.setenv("INN_STEGO_CACHE", str(tmp_path))
    for where in ("drive", "runtime"):
        assert keep(where, colab=False) == tmp_path
        assert "matters on Colab only" in capsys.readouterr().out
    assert os.environ["INN_STEGO_CACHE"] == str(tmp_path)
    with pytest.raises(ValueError, match="KEEP must be one of 'drive', 'runtime', not 'cloud': set it in the settings cell"):
        keep("cloud")


def test_keep_drive_on_colab_mounts_once_and_every_later_cache_dir_agrees(fake_colab, capsys):
    from helpers.settings import keep

    drive_cache = fake_colab["mount_point"] / "MyDrive" / "inn-stego-cache"
    assert keep("drive") == drive_cache and cache_dir() == drive_cache
    assert "kept in Google Drive" in capsys.readouterr().out
    assert keep("drive") == drive_cache and fake_colab["mounts"] == [str(fake_colab["mount_point"])]  # mounted once
    # KEEP changed to "runtime" in the same kernel: back to the runtime's own disk
    assert keep("runtime") == Path("~/.cache/inn-stego").expanduser() == cache_dir()
    assert "gone when the runtime ends" in capsys.readouterr().out


def test_a_refused_drive_says_what_to_do_in_one_line(fake_colab):
    from helpers.settings import keep

    fake_colab["state"]["refuse"] = ValueError("mount failed")
    with pytest.raises(RuntimeError) as err:
        keep("drive")
    assert "\n" not in str(err.value) and "mount failed" in str(err.value) and "KEEP = 'runtime'" in str(err.value)
    assert "INN_STEGO_CACHE" not in os.environ


# --- CHECKPOINT = "auto": notebook 05's newest full-mode export, never a toy one -------------------------

def _export(cache, name, *, toy, mapping=True, age=0.0, seed=3):
    """An export as notebook 05's export cell writes it, ``age`` seconds old."""
    import time

    from helpers.network.model import StegoINN
    from helpers.training.train import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, export_checkpoint, save_checkpoint

    torch.manual_seed(seed)
    net = StegoINN(n_blocks=1, last_init="default")
    run = cache / "runs" / f"{name}.last.pt"
    save_checkpoint(run, {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": {"mapping": mapping},
                          "model_config": net.config, "model": net.state_dict(), "epoch": 0, "history": {},
                          "optimizer": {}})
    path = export_checkpoint(run, cache / "exports" / name, notes=f"notes of {name}", toy=toy)
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_auto_takes_the_newest_full_mode_export_and_never_a_toy(no_env, tmp_path, capsys):
    from helpers.settings import SHIPPED_NOMAP, exports

    no_env.setenv("INN_STEGO_CACHE", str(tmp_path))
    assert paper_checkpoint("auto") == SHIPPED_PAPER  # nothing exported yet
    assert "no full-mode export of notebook 05" in capsys.readouterr().out
    _export(tmp_path, "toy.pt", toy=True)  # fast mode's 30-step network, the newest file
    (tmp_path / "exports" / "broken.pt").write_bytes(b"not a checkpoint")
    assert paper_checkpoint("auto") == SHIPPED_PAPER
    older = _export(tmp_path, "paper-old.pt", toy=False, age=100)
    newer = _export(tmp_path, "paper-new.pt", toy=False, age=10)
    nomap = _export(tmp_path, "paper-nomap.pt", toy=False, mapping=False, age=50)
    capsys.readouterr()
    assert paper_checkpoint("auto") == newer
    out = capsys.readouterr().out
    assert "your newest export" in out and "notes of paper-new.pt" in out
    assert [p for p, _ in exports()] == [newer, older]
    assert paper_checkpoint("auto", mapping=False) == nomap
    assert paper_checkpoint("shipped") == SHIPPED_PAPER and paper_checkpoint("shipped", mapping=False) == SHIPPED_NOMAP
    assert paper_checkpoint(str(older)) == older
    assert model_fingerprint(load_network(newer).model) != model_fingerprint(load_network(SHIPPED_PAPER).model)
