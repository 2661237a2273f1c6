"""The command line of notebook 06: python -m helpers hide | reveal | capacity.

Most cases call ``helpers.__main__.main`` in-process (fast); a few run the real command in a
subprocess to check exit codes, standard output and that no traceback is printed."""

import hashlib
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers.__main__ import main
from helpers.data.photos import REPO_ROOT, list_samples

COVER = list_samples()[0]


def snapshot(folder):
    """Every file below ``folder`` with a digest of its bytes: to check nothing was written or lost."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(argv, capsys):
    """main(argv) in-process: (exit code, stdout, stderr). argparse's exits count too."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def work(tmp_path):
    cover = tmp_path / "cover.png"
    cover.write_bytes(COVER.read_bytes())
    return tmp_path


def test_hide_then_reveal_to_a_file_and_to_stdout(work, capsys):
    code, out, err = run(["hide", work / "cover.png", "--text", "Grüße aus dem Bild", "--out", work / "s.png",
                          "--key", work / "k.npz"], capsys)
    assert code == 0, err
    assert "hid 20 bytes" in out and "key" in out
    with Image.open(work / "s.png") as im:
        assert im.format == "PNG" and im.mode == "RGB"
    code, out, err = run(["reveal", work / "s.png", "--key", work / "k.npz", "--out", work / "msg.txt"], capsys)
    assert code == 0, err
    assert (work / "msg.txt").read_text("utf-8") == "Grüße aus dem Bild"
    code, out, err = run(["reveal", work / "s.png", "--key", work / "k.npz"], capsys)
    assert code == 0 and out == "Grüße aus dem Bild"  # the bytes on standard output, nothing else


def test_hide_a_binary_file_at_1_bpp(work, capsys):
    data = np.random.default_rng(0).bytes(2048 - 14)  # exactly the capacity at 1 bpp
    (work / "secret.bin").write_bytes(data)
    code, _, err = run(["hide", work / "cover.png", "--file", work / "secret.bin", "--bpp", 1, "--out",
                        work / "s.png", "--key", work / "k.npz"], capsys)
    assert code == 0, err
    code, _, err = run(["reveal", work / "s.png", "--key", work / "k.npz", "--out", work / "back.bin"], capsys)
    assert code == 0 and (work / "back.bin").read_bytes() == data


def test_capacity_prints_n_bytes_first(work, capsys):
    code, out, _ = run(["capacity", work / "cover.png"], capsys)
    assert code == 0 and out.splitlines()[0] == "6130 bytes" and len(out.splitlines()) > 1
    code, out, _ = run(["capacity", work / "cover.png", "--bpp", "1"], capsys)
    assert out.splitlines()[0] == "2034 bytes"
    code, _, err = run(["capacity", work / "nothing.png"], capsys)
    assert code == 1 and "not found" in one_error_line(err)
    code, _, err = run(["capacity", work / "cover.png", "--bpp", "2"], capsys)
    assert code == 2 and "invalid choice" in one_error_line(err)


@pytest.mark.parametrize("argv, expect", [
    (["--text", "a", "--file", "x"], "not allowed with"),
    ([], "one of the arguments --text --file is required"),
])
def test_text_and_file_both_or_neither_is_a_usage_error(work, capsys, argv, expect):
    before = snapshot(work)
    code, _, err = run(["hide", work / "cover.png", *argv, "--out", work / "s.png", "--key", work / "k"], capsys)
    assert code == 2 and expect in one_error_line(err)
    assert snapshot(work) == before


@pytest.mark.parametrize("out, expect, code", [
    ("s.jpg", "lossy", 2), ("s.webp", "lossy", 2), ("s.bmp", "ending in .png", 2), ("cover.png", "is the cover", 2),
])
def test_bad_output_names_are_refused_before_any_work(work, capsys, out, expect, code):
    before = snapshot(work)
    got, _, err = run(["hide", work / "cover.png", "--text", "x", "--out", work / out, "--key", work / "k"], capsys)
    assert got == code and expect in one_error_line(err)
    assert snapshot(work) == before


def test_outputs_are_never_inputs_and_existing_files_need_force(work, capsys):
    (work / "msg.txt").write_text("keep me")
    (work / "old_key").write_text("an earlier key")
    before = snapshot(work)
    for argv, expect, code in (
        (["--out", work / "s.png", "--key", work / "cover.png"], "is the cover", 2),
        (["--out", work / "s.png", "--key", work / "msg.txt"], "is the message file", 2),
        (["--out", work / "s.png", "--key", work / "old_key"], "already exists", 1),
        (["--out", work / "s.png", "--key", work / "s.png"], "same file", 2),
        (["--out", work / "missing" / "s.png", "--key", work / "k"], "does not exist", 1),
    ):
        got, _, err = run(["hide", work / "cover.png", "--file", work / "msg.txt", *argv], capsys)
        assert got == code and expect in one_error_line(err), (argv, err)
    assert snapshot(work) == before
    got, _, err = run(["hide", work / "cover.png", "--text", "x", "--out", work / "s.png", "--key", work / "old_key",
                       "--force"], capsys)
    assert got == 0  # --force replaces an output (the key's bytes are the new key's) ...
    assert (work / "old_key").read_bytes() != b"an earlier key"
    assert run(["reveal", work / "s.png", "--key", work / "old_key"], capsys)[:2] == (0, "x")
    got, _, err = run(["hide", work / "cover.png", "--file", work / "s.png", "--out", work / "s.png", "--key",
                       work / "k2", "--force"], capsys)
    assert got == 2 and "is the message file" in one_error_line(err)  # ... but never an input
    assert snapshot(work)["cover.png"] == before["cover.png"]


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` pixels (its data is empty): what a
    decompression bomb looks like to a reader before it decodes anything."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("case", ["missing", "not_an_image", "too_small_for_message", "too_small", "bomb",
                                  "above_the_warning_limit"])
def test_bad_covers(work, capsys, case):
    if case == "bomb":  # above twice PIL's limit: PIL raises
        (work / "c.png").write_bytes(png_claiming(20_000, 20_000))
    elif case == "above_the_warning_limit":  # above the limit: PIL only warns, then would decode 100 M pixels
        (work / "c.png").write_bytes(png_claiming(10_000, 10_000))
    elif case == "not_an_image":
        (work / "c.png").write_text("this is text, not a PNG")
    elif case == "too_small_for_message":
        Image.new("RGB", (20, 20), "gray").save(work / "c.png")
    elif case == "too_small":
        Image.new("RGB", (8, 8), "gray").save(work / "c.png")
    before = snapshot(work)
    code, _, err = run(["hide", work / "c.png", "--text", "x" * 200, "--out", work / "s.png", "--key", work / "k"],
                       capsys)
    line = one_error_line(err)
    assert code == 1
    assert {"missing": "not found", "not_an_image": "cannot read", "too_small_for_message": "holds at most 136 bytes",
            "too_small": "at least 16 x 16", "bomb": "too large to read safely (400000000 pixels",
            "above_the_warning_limit": "too large to read safely (100000000 pixels"}[case] in line
    assert snapshot(work) == before


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_converted_covers_get_a_note(work, capsys, mode):
    rgb = Image.open(work / "cover.png").convert("RGB")
    image = Image.fromarray(np.asarray(rgb)[..., 1].astype(np.uint16) * 257) if mode == "I;16" else rgb.convert(mode)
    image.save(work / "c.png")
    code, out, err = run(["hide", work / "c.png", "--text", "", "--out", work / "s.png", "--key", work / "k"], capsys)
    assert code == 0 and err.startswith("note: ") and "converted to 8-bit RGB" in err
    code, out, err = run(["reveal", work / "s.png", "--key", work / "k", "--out", work / "m"], capsys)
    assert code == 0 and (work / "m").read_bytes() == b""  # the empty message is allowed


def test_reveal_failures_write_nothing(work, capsys):
    assert run(["hide", work / "cover.png", "--text", "one", "--out", work / "s.png", "--key", work / "k"], capsys)[0] == 0
    other = list_samples()[1]
    assert run(["hide", other, "--text", "two", "--out", work / "s2.png", "--key", work / "k2"], capsys)[0] == 0
    data = (work / "k").read_bytes()
    (work / "k_trunc").write_bytes(data[:1000])
    before = snapshot(work)
    for argv, expect, want in (
        (["reveal", work / "s.png", "--key", work / "k2"], "another image", 1),
        (["reveal", work / "s.png", "--key", work / "k_trunc"], "not a readable key file", 1),
        (["reveal", work / "s.png", "--key", work / "nope"], "not found", 1),
        (["reveal", work / "s.png", "--key", work / "k", "--checkpoint", work / "k"], "not a readable inn-stego checkpoint", 1),
        (["reveal", work / "s.png", "--key", work / "k", "--out", work / "k"], "is the key", 2),
        (["reveal", work / "s.png", "--key", work / "k", "--out", work / "s.png"], "is the stego image", 2),
        (["reveal", work / "s.png"], "--key", 2),
    ):
        code, out, err = run([*argv, "--out", work / "m"] if "--out" not in argv else argv, capsys)
        assert code == want and expect in one_error_line(err), (argv, err)
    assert snapshot(work) == before and not (work / "m").exists()


def test_reveal_never_replaces_an_existing_file_without_force(work, capsys):
    assert run(["hide", work / "cover.png", "--text", "new", "--out", work / "s.png", "--key", work / "k"], capsys)[0] == 0
    (work / "m").write_bytes(b"an earlier message")
    before = snapshot(work)
    code, _, err = run(["reveal", work / "s.png", "--key", work / "k", "--out", work / "m"], capsys)
    assert code == 1 and "already exists" in one_error_line(err) and "--force" in err
    assert snapshot(work) == before
    code, _, err = run(["reveal", work / "s.png", "--key", work / "k", "--out", work / "m", "--force"], capsys)
    assert code == 0 and (work / "m").read_bytes() == b"new"


def test_real_command_exit_codes_and_no_traceback(work):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe buffers, as for most users

    def cli(*argv):
        return subprocess.run([sys.executable, "-m", "helpers", *map(str, argv)], capture_output=True, cwd=REPO_ROOT,
                              timeout=120, env=env)

    r = cli("hide", work / "cover.png", "--text", "über", "--out", work / "s.png", "--key", work / "k")
    assert r.returncode == 0 and r.stdout.startswith(b"hid 5 bytes"), r.stderr  # printed before the fast exit
    r = cli("reveal", work / "s.png", "--key", work / "k")
    assert r.returncode == 0 and r.stdout == "über".encode("utf-8")
    r = cli("reveal", work / "s.png")
    assert r.returncode == 2 and r.stderr.decode().startswith("error: ") and b"Traceback" not in r.stderr
    # The untouched cover with the key: its thumbnail is within the tolerance of the stego's, and the
    # message travels in z (notebook 06), so the exact message comes back.
    r = cli("reveal", work / "cover.png", "--key", work / "k", "--out", work / "m")
    assert r.returncode == 0 and (work / "m").read_bytes() == "über".encode("utf-8"), r.stderr
    r = cli("reveal", list_samples()[1], "--key", work / "k")  # another photo: refused, nothing printed
    assert r.returncode == 1 and r.stdout == b"" and b"another image" in r.stderr and b"Traceback" not in r.stderr


def test_the_command_line_keeps_freed_memory_for_reuse():
    """After ``keep_freed_memory`` (what the command line does first for hide, reveal and capacity), a
    network pass reuses the memory the pass before freed: no page faults from the second pass on
    (glibc's default hands blocks over 32 MB back to the system and the next pass faults them in
    again, 150,000 pages here). Run in fresh processes: it changes that process's malloc."""
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc's malloc only")
    code = ("import resource, sys, torch; from helpers.__main__ import keep_freed_memory; "
            "from helpers.network.model import StegoINN; "
            "ok = keep_freed_memory() if sys.argv[1] == '1' else None; "
            "net, x, faults = StegoINN(n_blocks=2).eval(), torch.rand(16, 3, 64, 64), []\n"
            "with torch.inference_mode():\n"
            "    for _ in range(4):\n"
            "        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; net(x, x)\n"
            "        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
            "print(ok, sum(faults[1:]))")
    runs = {k: subprocess.run([sys.executable, "-c", code, k], capture_output=True, text=True, cwd=REPO_ROOT,
                              timeout=120).stdout.split() for k in "01"}
    assert runs["1"][0] == "True" and int(runs["1"][1]) < 10_000, runs
    assert int(runs["0"][1]) > 100_000, runs  # what the check would miss without the call


def test_errors_name_the_flag_and_the_input_they_refer_to(work, capsys):
    """Each refusal names the flag at fault and what it would overwrite, in the words the README uses."""
    net = work / "net.png"  # a checkpoint path is checked before the checkpoint is read
    net.write_bytes(b"not read")
    (work / "k").write_bytes(b"an earlier key")
    hide = ["hide", work / "cover.png", "--text", "x"]
    for argv, expect in (
        ([*hide, "--out", net, "--key", work / "k2", "--checkpoint", net], f"error: --out {net} is the checkpoint;"),
        ([*hide, "--out", work / "s.png", "--key", net, "--checkpoint", net], f"error: --key {net} is the checkpoint;"),
        ([*hide, "--out", work / "s.png", "--key", work / "k"], "choose another name for --key or add --force"),
        ([*hide, "--out", work / "s.jpg", "--key", work / "k2"],
         "is lossy and would destroy the message; the stego image must be a PNG (e.g. stego.png)"),
        (["hide", work / "cover.png", "--file", work / "gone.txt", "--out", work / "s.png", "--key", work / "k2"],
         f"error: message file not found: {work / 'gone.txt'}"),
        ([*hide, "--out", work / "s.png", "--key", work / "k2", "--password", "pw"],
         "error: --password belongs to blind mode; add --mode blind"),
        ([*hide, "--mode", "blind", "--out", work / "cover.png"], f"error: --out {work / 'cover.png'} is the cover;"),
        (["reveal", work / "cover.png", "--key", work / "k", "--checkpoint", net, "--out", net],
         f"error: --out {net} is the checkpoint;"),
    ):
        code, _, err = run(argv, capsys)
        assert code in (1, 2) and expect in one_error_line(err), (argv, err)
    code, _, err = run([*hide, "--out", work / "s.png", "--key", work / "k2", "--all-cells"], capsys)
    assert code == 2 and one_error_line(err) == ("error: --all-cells belongs to blind mode (key mode always uses "
                                                 "the whole image); add --mode blind")
    assert (work / "k").read_bytes() == b"an earlier key" and net.read_bytes() == b"not read"


def test_hide_and_reveal_report_what_they_wrote(work, capsys):
    code, out, err = run(["hide", work / "cover.png", "--text", "abc", "--out", work / "s.png", "--key", work / "k"],
                         capsys)
    sizes = {name: (work / name).stat().st_size for name in ("s.png", "k")}
    assert code == 0 and out.startswith("hid 3 bytes") and err == ""
    assert f": {work / 's.png'} ({sizes['s.png']} bytes), key {work / 'k'} ({sizes['k']} bytes)" in out
    code, out, err = run(["reveal", work / "s.png", "--key", work / "k", "--out", work / "m"], capsys)
    assert code == 0 and out == "" and err == f"revealed 3 bytes: {work / 'm'}\n"


def test_train_command_passes_every_flag_and_reports_failures_in_one_line(monkeypatch, capsys, tmp_path):
    """The command line's side of ``python -m helpers train`` (the training itself: tests/test_train.py)."""
    import helpers.training.train as training

    calls = []

    def fake_train(cfg, resume=True, progress=True):
        calls.append((cfg, resume, progress))
        return {"checkpoint": str(tmp_path / "last.pt")}

    monkeypatch.setattr(training, "train", fake_train)
    code, out, err = run(["train", "--data", tmp_path, "--epochs", 3, "--lr", 0.001, "--no-mapping",
                          "--out", tmp_path / "r"], capsys)
    assert code == 0 and out == f"checkpoint: {tmp_path / 'last.pt'}\n" and err == ""
    cfg, resume, progress = calls[-1]
    assert (resume, progress) == (True, True)
    assert cfg == training.TrainConfig(data=str(tmp_path), epochs=3, lr=0.001, mapping=False, out=str(tmp_path / "r"))
    run(["train", "--data", tmp_path, "--no-resume", "--quiet"], capsys)
    assert calls[-1][1:] == (False, False) and calls[-1][0] == training.TrainConfig(data=str(tmp_path))

    for raised, code, line in (
        (KeyboardInterrupt(), 1, "error: interrupted; run the same command again to resume from the last checkpoint"),
        (PermissionError(13, "Permission denied", "/runs/last.pt"), 1, "error: Permission denied: /runs/last.pt"),
        (ValueError(), 1, "error: ValueError"),
        (ValueError("no images in /data"), 1, "error: no images in /data"),
    ):
        def failing(cfg, resume=True, progress=True, raised=raised):
            raise raised
        monkeypatch.setattr(training, "train", failing)
        got, out, err = run(["train", "--data", tmp_path], capsys)
        assert (got, out, err) == (code, "", line + "\n"), raised
