"""Nothing the user had is lost: failures injected half-way through every write of the project
(a full disk, a crash in the encoder, a failed rename) leave the earlier files byte-identical and
no temporary file behind."""

import ast
import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.plumbing import files
from helpers.__main__ import main
from helpers.data.photos import list_samples
from helpers.plumbing.inference import load_network

COVER = list_samples()[0]


def listing(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def full_disk(*_, **__):
    raise OSError(errno.ENOSPC, "No space left on device")


def half_then_full(f, *_, **__):
    """What a full disk does to a writer: some bytes go out, then the write fails."""
    f.write(b"\x89PNG half a file")
    full_disk()


def test_write_atomic_keeps_the_earlier_file_when_the_write_fails(tmp_path):
    (tmp_path / "out").write_bytes(b"earlier")
    before = listing(tmp_path)
    with pytest.raises(OSError, match="No space left"):
        files.write_atomic(tmp_path / "out", half_then_full)
    assert listing(tmp_path) == before
    files.write_atomic(tmp_path / "out", b"new")
    assert listing(tmp_path) == {"out": b"new"}


@pytest.mark.parametrize("fail_at", ["second write", "second rename", "second rename, no hard links"])
def test_write_all_or_none_restores_what_it_replaced(tmp_path, monkeypatch, fail_at):
    if "no hard links" in fail_at:  # a file system without them: the earlier file is copied aside instead
        monkeypatch.setattr(files.os, "link", lambda *a: full_disk())
    (tmp_path / "a").write_bytes(b"earlier a")
    (tmp_path / "b").write_bytes(b"earlier b")
    before = listing(tmp_path)
    items = [(tmp_path / "a", b"new a"), (tmp_path / "b", half_then_full if fail_at == "second write" else b"new b")]
    if fail_at.startswith("second rename"):
        real, calls = os.replace, []

        def replace(src, dst):
            calls.append(dst)
            if len(calls) == 2:
                full_disk()
            return real(src, dst)

        monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(OSError):
        files.write_all_or_none(items)
    assert listing(tmp_path) == before  # "a" was replaced, then put back; no .tmp or .bak left


def test_csv_bytes_writes_the_fields_given_in_order_and_ignores_the_rest():
    rows = [{"b": 2, "a": 1, "extra": "not a column"}, {"a": "x,y", "b": None}]
    assert files.csv_bytes(rows, ["a", "b"]) == b'a,b\r\n1,2\r\n"x,y",\r\n'


def test_checkpoint_save_and_load(tmp_path):
    """save_checkpoint makes the folders it needs; load_weights reads onto map_location (default the
    CPU) and its one-line errors name the file and say what it is not, in English."""
    path = tmp_path / "a" / "b" / "net.pt"
    files.save_checkpoint(path, {"format": "demo", "w": torch.ones(2)})
    state = files.load_weights(path, "demo", "demo checkpoint")
    assert state["w"].device.type == "cpu" and torch.equal(state["w"], torch.ones(2))
    assert files.load_weights(path, "demo", "demo checkpoint", map_location="meta")["w"].is_meta
    with pytest.raises(FileNotFoundError, match=r"^demo checkpoint not found: .*missing\.pt$"):
        files.load_weights(tmp_path / "missing.pt", "demo", "demo checkpoint")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"junk\.pt is not a readable demo checkpoint \(error: unpack"):
        files.load_weights(tmp_path / "junk.pt", "demo", "demo checkpoint")
    with pytest.raises(ValueError, match=r"net\.pt is not a blind network; train one$"):
        files.load_weights(path, "other", "blind network", hint="; train one")
    with pytest.raises(ValueError, match=r"net\.pt is not an inn-stego checkpoint$"):
        files.load_weights(path, "other", "inn-stego checkpoint")


def test_a_failed_first_write_creates_nothing(tmp_path):
    with pytest.raises(OSError):
        files.write_all_or_none([(tmp_path / "a", half_then_full), (tmp_path / "b", b"b")])
    assert listing(tmp_path) == {}


def test_png_and_key_saves_fail_cleanly(tmp_path, monkeypatch):
    from helpers.methods.key_mode import Key, hide, save_png

    stego, key = hide(COVER, b"first", load_network().model)
    save_png(stego, tmp_path / "s.png")
    key.save(tmp_path / "k")
    before = listing(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(Image.Image, "save", lambda self, f, *a, **k: half_then_full(f))
        with pytest.raises(OSError, match="No space left"):
            save_png(stego, tmp_path / "s.png")
    with monkeypatch.context() as m:
        m.setattr(np, "savez_compressed", half_then_full)
        with pytest.raises(OSError, match="No space left"):
            key.save(tmp_path / "k")
    assert listing(tmp_path) == before
    assert Key.load(tmp_path / "k").z.shape == key.z.shape


@pytest.mark.parametrize("fail_at", ["png write", "key rename"])
def test_a_failed_hide_force_keeps_the_previous_pair(tmp_path, monkeypatch, capsys, fail_at):
    """Before, the rollback unlinked a key that --force had already replaced: the old stego image
    was left without its key. Now the previous pair survives either failure."""
    args = ["hide", str(COVER), "--out", str(tmp_path / "s.png"), "--key", str(tmp_path / "k")]
    assert main(args + ["--text", "the first message"]) == 0
    before = listing(tmp_path)
    if fail_at == "png write":
        monkeypatch.setattr("helpers.plumbing.images.write_png", lambda image, f: half_then_full(f))
    else:
        real, calls = os.replace, []

        def replace(src, dst):
            calls.append(dst)
            if len(calls) == 2:  # the key (written first) is in place, the PNG's rename fails
                full_disk()
            return real(src, dst)

        monkeypatch.setattr(files.os, "replace", replace)
    assert main(args + ["--text", "a second message", "--force"]) == 1
    assert "No space left" in capsys.readouterr().err
    monkeypatch.undo()
    assert listing(tmp_path) == before
    assert main(["reveal", str(tmp_path / "s.png"), "--key", str(tmp_path / "k")]) == 0
    assert capsys.readouterr().out == "the first message"


KILLER = """
import os, signal, sys
import helpers.methods.key_mode as key_mode, helpers.plumbing.images as images
from helpers.__main__ import main

def half_then_killed(f):  # some bytes reach the temporary file, then the process is killed (SIGKILL: no clean-up runs)
    f.write(b"half a file")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "key write":
    key_mode.Key.write = lambda self, f: half_then_killed(f)
else:
    images.write_png = lambda image, f: half_then_killed(f)
main(sys.argv[2:])
"""


@pytest.mark.parametrize("killed_in", ["key write", "png write"])
def test_a_hide_force_killed_mid_write_keeps_the_previous_pair(tmp_path, capsys, killed_in):
    """A killed process runs no rollback: the earlier stego image and key must survive because
    nothing is renamed into place before every new file is complete. (What is left is a hidden
    temporary file beside each output, never a half-written output.)"""
    import signal
    import subprocess
    import sys

    args = ["hide", str(COVER), "--out", str(tmp_path / "s.png"), "--key", str(tmp_path / "k")]
    assert main(args + ["--text", "the first message"]) == 0
    before = listing(tmp_path)
    run = subprocess.run([sys.executable, "-c", KILLER, killed_in, *args, "--text", "a second message", "--force"],
                         capture_output=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr
    after = listing(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert all(name.startswith(".") and name.endswith(".tmp") for name in set(after) - set(before)), sorted(after)
    capsys.readouterr()
    assert main(["reveal", str(tmp_path / "s.png"), "--key", str(tmp_path / "k")]) == 0
    assert capsys.readouterr().out == "the first message"


def _blind_save(path, tag):
    from helpers.methods.blind_mode import BlindConfig, build_blind_model, save_blind

    cfg = BlindConfig(n_blocks=1, growth=4)
    save_blind(build_blind_model(cfg), cfg, path, notes=tag)


def _baseline_save(path, tag):
    from helpers.methods.baselines import Rehman, save_baseline

    model = Rehman()
    model.config["tag"] = tag
    save_baseline(model, path)


def _checkpoint_save(path, tag):
    files.save_checkpoint(path, {"format": "x", "model": {"w": torch.zeros(3)}, "tag": tag})


def _export(path, tag):
    from helpers.training.train import export_checkpoint

    src = path.with_name("src.pt")
    if not src.exists():  # the second call must fail in the export's own save
            files.save_checkpoint(src, {k: {} for k in ("config", "model_config", "model", "history")}
                              | {"format": "inn-stego-checkpoint", "version": 1, "epoch": 0})
    export_checkpoint(src, path, notes=tag, toy=True)


@pytest.mark.parametrize("save", [_checkpoint_save, _blind_save, _baseline_save, _export],
                         ids=lambda f: f.__name__.strip("_"))
def test_every_checkpoint_save_is_atomic(tmp_path, monkeypatch, save):
    save(tmp_path / "net.pt", "first")
    before = listing(tmp_path)
    real = torch.save

    def torch_save_then_full(obj, f, *a, **k):
        real(obj, f, *a, **k)  # the whole archive goes out, then the disk is full at the last flush
        full_disk()

    monkeypatch.setattr(torch, "save", torch_save_then_full)
    with pytest.raises(OSError, match="No space left"):
        save(tmp_path / "net.pt", "second")  # other bytes than the first
    monkeypatch.undo()
    assert listing(tmp_path) == before


# Writing a file is defined once (helpers/plumbing/files.py); data/download.py streams into a
# resumable ".part" file of its own, renamed once its checksum is right.
OWN_WRITERS = {"plumbing/files.py", "data/download.py"}


SAVERS = {"save", "savez", "savez_compressed", "savefig", "imsave", "savetxt"}  # torch/np/Image/plt .save(dest, ...)
COPIERS = {"copy", "copy2", "copyfile", "copytree", "copyfileobj", "move"}  # shutil.*: write to their destination


def _file_object_names(tree) -> set:
    """Names that hold an open file or buffer, not a path: a writer callback's parameters (the
    lambdas given to write_atomic, functions taking ``f``) and ``io.BytesIO()`` buffers."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            names |= {a.arg for a in node.args.args}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names |= {a.arg for a in node.args.args if a.arg == "f"}
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "attr", getattr(node.value.func, "id", "")) == "BytesIO":
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def direct_writes(source: str) -> list[str]:
    """Calls in ``source`` that write or rename a file themselves: ``open`` for writing,
    ``write_text``/``write_bytes``, ``os.replace``/``os.rename``, ``shutil.copy*``/``move``, and the
    savers (``torch.save``, ``np.save*``, ``Image.save``, ``savefig``) unless they write to an open
    file (a writer callback's parameter or a ``BytesIO``)."""
    tree = ast.parse(source)
    to_files, found = _file_object_names(tree), []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
        if isinstance(f, ast.Attribute) and f.attr in ("write_text", "write_bytes"):
            found.append(f"line {node.lineno}: .{f.attr}")
        elif owner == "os" and f.attr in ("replace", "rename"):
            found.append(f"line {node.lineno}: os.{f.attr}")
        elif owner == "shutil" and f.attr in COPIERS:
            found.append(f"line {node.lineno}: shutil.{f.attr}")
        elif isinstance(f, ast.Attribute) and f.attr in SAVERS:
            dest = node.args[1 if owner == "torch" else 0] if len(node.args) > (owner == "torch") else None
            if not (isinstance(dest, ast.Name) and dest.id in to_files):
                found.append(f"line {node.lineno}: {owner + '.' if owner else '.'}{f.attr}")
        elif isinstance(f, ast.Name) and f.id == "open":
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+"):
                found.append(f"line {node.lineno}: open(..., {mode.value!r})")
    return found


def test_the_write_check_finds_each_kind():
    assert direct_writes("open(p, 'w')\nopen(p, mode='ab')\nopen(p)\nopen(p, 'rb')\n") == [
        "line 1: open(..., 'w')", "line 2: open(..., 'ab')"]
    assert direct_writes("p.write_text(s)\nq.write_bytes(b)\nos.replace(a, b)\n'a_b'.replace('_', '-')\n") == [
        "line 1: .write_text", "line 2: .write_bytes", "line 3: os.replace"]
    assert direct_writes("torch.save(s, path)\nnp.save(path, a)\nnp.savez_compressed(p, **a)\nim.save(p)\n"
                         "fig.savefig('x.png')\nshutil.copy2(a, b)\nshutil.copyfile(a, b)\nshutil.move(a, b)\n") == [
        "line 1: torch.save", "line 2: np.save", "line 3: np.savez_compressed", "line 4: im.save", "line 5: fig.savefig",
        "line 6: shutil.copy2", "line 7: shutil.copyfile", "line 8: shutil.move"]
    # writing into an open file or a buffer is how write_atomic's callbacks work: not a direct write
    assert direct_writes("write_atomic(p, lambda f: torch.save(s, f))\nwrite_atomic(p, lambda g: im.save(g, 'PNG'))\n"
                         "def w(image, f):\n    image.save(f)\n    np.savez(f, a=1)\n"
                         "buf = io.BytesIO()\nfig.savefig(buf)\nnp.save(buf, a)\nshutil.which('x')\n") == []
    assert direct_writes("def w(path):\n    torch.save(s, path)\n") == ["line 2: torch.save"]


def test_every_write_goes_through_plumbing_files():
    """One atomic write for every file the package makes (stego images, keys, checkpoints, results,
    manifests, caches): none of its modules writes or renames a file on its own."""
    package = Path(files.__file__).parents[1]
    found = {p.relative_to(package).as_posix(): r for p in sorted(package.rglob("*.py"))
             if p.relative_to(package).as_posix() not in OWN_WRITERS and (r := direct_writes(p.read_text()))}
    assert found == {}, f"write through helpers.plumbing.files.write_atomic instead: {found}"
