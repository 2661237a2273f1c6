"""Command line: train, hide, reveal and capacity (notebooks 05 and 06)::

    python -m helpers train --data DIR ...
    python -m helpers hide COVER (--text TEXT | --file PATH) --out STEGO.png --key KEY [--bpp 1|3] [--checkpoint CKPT]
    python -m helpers reveal STEGO.png --key KEY [--out PATH] [--checkpoint CKPT]
    python -m helpers capacity COVER [--bpp 1|3]
    python -m helpers capacity COVER --mode blind [--password PW]     (measured on this cover: notebook 09)
    python -m helpers evaluate --data DIR --methods lsb,inn --out DIR

Exit code 0 on success, 2 for usage errors, 1 for every other failure, with one line
``error: ...`` on standard error and no traceback. Outputs are written atomically; an input is
never overwritten, and an existing file only with ``--force``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import warnings
from dataclasses import MISSING
from pathlib import Path

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)

HELP = {
    "data": "folder of training images (searched recursively)",
    "out": "folder for checkpoints (last.pt); an existing checkpoint there is resumed",
    "epochs": "number of epochs", "batch_size": "images per step (per process under torchrun)",
    "crop": "crop size in pixels", "n_blocks": "coupling blocks N", "clamp": "soft clamp of the log-scale",
    "growth": "channels each dense-block layer adds", "last_init": "zero | default: init of dense blocks' last layer",
    "alpha": "weight of the image loss", "beta": "weight of the extraction loss", "bpp": "1 or 3 bits per pixel",
    "mapping": "use the mapping module (Algorithm 1)", "lr": "Adam learning rate",
    "weight_decay": "Adam weight decay", "lr_step_epochs": "halve the learning rate every N epochs",
    "lr_gamma": "factor of each learning-rate step", "grad_clip": "clip gradients to this global norm",
    "seed": "random seed", "amp": "bfloat16 mixed precision on CUDA (faster; may cap PSNR, see helpers/training/train.py)",
    "max_steps_per_epoch": "stop each epoch after N steps (0: all)", "limit_images": "use the first N images (0: all)",
}


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line ``error: ...`` and exit code 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


class UsageError(Exception):
    """A usage error found after parsing (exit code 2)."""


def build_parser() -> argparse.ArgumentParser:
    from helpers.training.train import config_fields

    parser = _Parser(prog="python -m helpers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("hide", help="hide a message in a cover image (writes a PNG, and a key file in key mode)",
                       description="Hide a text or a file in COVER; write the 8-bit RGB stego PNG and, in key mode "
                                   "(the paper's scheme), the key file the receiver needs. Blind mode needs no key.")
    p.add_argument("cover", metavar="COVER", help="cover image (any format Pillow reads, at least 16 x 16)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="the message, as text (stored as UTF-8)")
    what.add_argument("--file", metavar="PATH", help="the message, as the bytes of a file")
    p.add_argument("--out", required=True, metavar="STEGO.png", help="the stego image to write (PNG)")
    p.add_argument("--key", metavar="KEY", help="key mode: the key file to write (numpy .npz archive)")
    _mode_arguments(p)
    p.add_argument("--bpp", type=int, choices=(1, 3), help="bits per pixel (key mode: 1 or 3, default 3; blind "
                                                              "mode: what the blind network was trained for)")
    p.add_argument("--all-cells", action="store_true",
                   help="blind mode: spread the message over every cell of the image, so the changed area does "
                        "not give away its length (costs PSNR for a short message)")
    _network_and_force(p, "replace existing output files")

    p = sub.add_parser("reveal", help="reveal the message of a stego image (with its key in key mode)",
                       description="Reveal the message hidden in STEGO (with KEY in key mode): the exact bytes, "
                                   "or an error.")
    p.add_argument("stego", metavar="STEGO.png")
    p.add_argument("--key", metavar="KEY", help="key mode: the key file written by hide")
    _mode_arguments(p)
    p.add_argument("--out", metavar="PATH", help="write the message here (default: standard output)")
    _network_and_force(p, "replace an existing --out file")

    p = sub.add_parser("capacity", help="the longest message a cover holds",
                       description="Print the longest message COVER holds, as a line 'N bytes', then how it "
                                   "is counted.")
    p.add_argument("cover", metavar="COVER")
    p.add_argument("--bpp", type=int, choices=(1, 3), help="bits per pixel (key mode; default: 3)")
    p.add_argument("--mode", choices=("key", "blind"), default="key",
                   help="key (default: from the size alone) or blind (measured on this cover: a few seconds)")
    p.add_argument("--password", help="blind mode: the password you will hide with (it decides where the bits go)")
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="blind mode: the blind network (default: data/checkpoints/blind.pt)")

    p = sub.add_parser("evaluate", help="the paper's Tables 1, 2 and 4 for several methods on a folder of images",
                       description="Evaluate methods on the 128 x 128 centre crops of every image in DIR: per-image "
                                   "PSNR, SSIM, capacity and recovery accuracy after a PNG round trip; writes "
                                   "results.csv and tables.md (with the paper's figures beside ours) to --out.")
    p.add_argument("--data", required=True, metavar="DIR", help="folder of cover images (searched recursively)")
    p.add_argument("--methods", default="lsb,inn",
                   help="comma-separated: lsb, rehman, hinet, inn, inn-1bpp, inn-nomap, inn-1bpp-nomap, blind (default: lsb,inn)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for results.csv and tables.md")
    p.add_argument("--checkpoint", metavar="CKPT", help="the paper's network (default: data/checkpoints/paper.pt; "
                                                         "'auto': notebook 05's newest full-mode export in the cache "
                                                         "folder, INN_STEGO_CACHE, else the shipped one)")
    p.add_argument("--nomap-checkpoint", metavar="CKPT",
                   help="a network trained without the mapping module (Table 4; default: data/checkpoints/paper_nomap.pt; "
                        "'auto' as for --checkpoint)")
    p.add_argument("--rehman-checkpoint", metavar="CKPT",
                   help="a trained Rehman baseline (default: data/checkpoints/rehman.pt)")
    p.add_argument("--hinet-checkpoint", metavar="CKPT",
                   help="a trained HiNet-style baseline (default: data/checkpoints/hinet.pt)")
    p.add_argument("--dataset", choices=("coco", "voc"), default="coco", help="which of the paper's columns to compare with")
    p.add_argument("--limit", type=int, default=0, help="use the first N images (0: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("train", help="train the paper's network on a folder of images",
                       description="Train the paper's network (defaults: the paper's configuration). "
                                   "Under torchrun --nproc_per_node=N it trains data-parallel.")
    for f in config_fields():
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=HELP.get(f.name))
        else:
            kind = {"int": int, "float": float, "str": str}.get(str(f.type), str)
            p.add_argument(flag, type=kind, default=default, required=f.name == "data",
                           help=f"{HELP.get(f.name, '')} (default: {default})")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    return parser


def _mode_arguments(p) -> None:
    p.add_argument("--mode", choices=("key", "blind"), default="key",
                   help="key: the paper's scheme, the receiver needs the key file (default); blind: the PNG alone "
                        "(and the password) reveals the message")
    p.add_argument("--password", help="blind mode: a shared password (places and scrambles the bits; the wrong one "
                                      "reveals nothing)")


def _network_and_force(p, force_help: str) -> None:
    p.add_argument("--checkpoint", metavar="CKPT", help="trained network (default: data/checkpoints/paper.pt, "
                                                         "blind mode data/checkpoints/blind.pt)")
    p.add_argument("--force", action="store_true", help=force_help)


def _method(args):
    """The method of --mode (:func:`helpers.methods.base.get_method`) with --checkpoint; the flags it does
    not take (and a missing --key where it needs one) are usage errors, found before any file is read."""
    from helpers.methods.base import get_method

    method = get_method(args.mode, **({"checkpoint": args.checkpoint} if args.checkpoint else {}))
    key = getattr(args, "key", None)
    if method.needs_key and key is None and args.command != "capacity":
        raise UsageError(f"{args.command} in {method.title} needs --key KEY (or use --mode blind, which needs no key)")
    if not method.needs_key and key is not None:
        raise UsageError(f"{method.title} uses no key file; drop --key (or use --mode key)")
    if args.password is not None and "password" not in method.options:
        raise UsageError("--password belongs to blind mode; add --mode blind")
    if getattr(args, "all_cells", False) and "all_cells" not in method.options:
        raise UsageError("--all-cells belongs to blind mode (key mode always uses the whole image); add --mode blind")
    return method


def _options(method, args) -> dict:
    """The method's own options (e.g. blind mode's password), from the flags; --bpp checked."""
    if getattr(args, "bpp", None) is not None:
        try:
            method.set_bpp(args.bpp)
        except ValueError as e:
            raise UsageError(str(e)) from None
    return {name: getattr(args, name) for name in method.options if hasattr(args, name)}


def _same_file(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _check_outputs(outputs: dict, inputs: dict, force: bool) -> None:
    """Refuse outputs that are inputs, each other, in a missing folder, or existing without --force."""
    names = list(outputs.items())
    for i, (flag, out) in enumerate(names):
        for what, path in inputs.items():
            if path is not None and _same_file(out, path):
                raise UsageError(f"{flag} {out} is the {what}; refusing to overwrite an input")
        for flag2, out2 in names[i + 1:]:
            if _same_file(out, out2):
                raise UsageError(f"{flag} and {flag2} are the same file ({out})")
        parent = Path(out).parent
        if not parent.is_dir():
            raise FileNotFoundError(f"folder {parent} for {flag} does not exist")
        if Path(out).exists() and not force:
            raise FileExistsError(f"{out} already exists; choose another name for {flag} or add --force to replace it")


def _hide(args) -> int:
    from helpers.plumbing.files import write_all_or_none
    from helpers.plumbing.images import LOSSY_EXTENSIONS, write_png

    method = _method(args)
    out = Path(args.out)
    if out.suffix.lower() in LOSSY_EXTENSIONS:
        raise UsageError(f"--out {out.name}: {out.suffix} is lossy and would destroy the message; "
                         "the stego image must be a PNG (e.g. stego.png)")
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out {out.name}: the stego image is an 8-bit RGB PNG; give a name ending in .png")
    outputs = {"--out": args.out} if args.key is None else {"--out": args.out, "--key": args.key}
    _check_outputs(outputs, {"cover": args.cover, "message file": args.file, "checkpoint": args.checkpoint}, args.force)
    if args.file is not None:
        path = Path(args.file)
        if not path.is_file():
            raise FileNotFoundError(f"message file not found: {path}")
        message = path.read_bytes()
    else:
        message = args.text.encode("utf-8")
    options = _options(method, args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hidden = method.hide(args.cover, message, **options)
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)
    # both files or neither; with --force, a failure keeps the earlier pair
    write_all_or_none(([(args.key, hidden.key.write)] if hidden.key is not None else [])
                      + [(out, lambda f: write_png(hidden.stego, f))])
    before, after = method.summary(hidden, len(message))
    files = f"{out} ({out.stat().st_size} bytes)"
    if hidden.key is not None:
        files += f", key {args.key} ({Path(args.key).stat().st_size} bytes)"
    print(f"{before}: {files}{after}")
    return 0


def _reveal(args) -> int:
    from helpers.plumbing.files import write_atomic

    method = _method(args)
    if args.out is not None:
        _check_outputs({"--out": args.out}, {"stego image": args.stego, "key": args.key,
                                              "checkpoint": args.checkpoint}, args.force)
    message = method.reveal(args.stego, args.key, **_options(method, args))
    if args.out is None:
        sys.stdout.buffer.write(message)
        sys.stdout.flush()
    else:
        write_atomic(args.out, message)
        print(f"revealed {len(message)} bytes: {args.out}", file=sys.stderr)
    return 0


def _capacity(args) -> int:
    from PIL import Image

    from helpers.plumbing.images import UNREADABLE

    path = Path(args.cover)
    if not path.is_file():
        raise FileNotFoundError(f"cover image not found: {path}")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except UNREADABLE as e:
        raise ValueError(f"cannot read {path} as an image ({type(e).__name__})") from None
    method = _method(args)
    if args.checkpoint is not None and not method.measures_capacity:
        raise UsageError(f"capacity in {method.title} does not depend on a checkpoint; drop --checkpoint "
                         "(or add --mode blind)")
    options = _options(method, args)
    note = method.capacity_note(h, w)
    if note:
        print(note, file=sys.stderr, flush=True)
    n, how = method.capacity_report(path, **options)
    print(f"{n} bytes")
    print(how)
    return 0


def _evaluate(args) -> int:
    from helpers.settings import paper_checkpoint, pick_device
    from helpers.evaluation.harness import METHODS, SHIPPED, evaluate_folder

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            raise UsageError(f"--methods: unknown method {m!r}; available: {', '.join(METHODS)}")
    if not methods:
        raise UsageError("--methods is empty")
    for kind, flag in (("rehman", "--rehman-checkpoint"), ("hinet", "--hinet-checkpoint")):
        if kind in methods and not getattr(args, f"{kind}_checkpoint"):
            if not SHIPPED[kind].is_file():
                raise UsageError(f"--methods {kind} needs {flag} (none is shipped in {SHIPPED[kind].parent}; "
                                 f"train one with helpers.methods.baselines.train_{kind})")
            setattr(args, f"{kind}_checkpoint", str(SHIPPED[kind]))
    for flag, mapping in (("checkpoint", True), ("nomap_checkpoint", False)):
        if getattr(args, flag) == "auto":  # notebooks 06-10's CHECKPOINT = "auto" (it prints which)
            setattr(args, flag, str(paper_checkpoint("auto", mapping=mapping)))
    if args.nomap_checkpoint is None and SHIPPED["nomap"].is_file() and any("nomap" in m for m in methods):
        args.nomap_checkpoint = str(SHIPPED["nomap"])
    if not Path(args.data).is_dir():
        raise FileNotFoundError(f"image folder not found: {args.data}")
    paths = evaluate_folder(args.data, methods, args.out, args.checkpoint, args.nomap_checkpoint,
                            limit=args.limit, dataset=args.dataset, progress=not args.quiet,
                            rehman=args.rehman_checkpoint, hinet=args.hinet_checkpoint, device=pick_device())
    print(paths["tables"].read_text())
    print(f"per-image results: {paths['csv']}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "hide":
            return _hide(args)
        if args.command == "reveal":
            return _reveal(args)
        if args.command == "capacity":
            return _capacity(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "train":
            from helpers.training.train import TrainConfig, config_fields, train

            cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in config_fields()})
            result = train(cfg, resume=not args.no_resume, progress=not args.quiet)
            print(f"checkpoint: {result['checkpoint']}")
        return 0
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        return 1
    except (OSError, ValueError, RuntimeError, TypeError) as e:
        msg = str(e) if not isinstance(e, OSError) or not e.strerror else f"{e.strerror}: {e.filename}"
        print(f"error: {msg}" if str(e) else f"error: {type(e).__name__}", file=sys.stderr)
        return 1


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep what the process frees for reuse (no ``mmap`` for large blocks, no
    trimming), as PyTorch's CPU tuning guide gets from jemalloc or tcmalloc: each layer's tensors of
    a few MB are then not faulted in afresh, page by page (``data/checkpoints/README.md``, Times,
    measures what it saves). For a short process: the command line's hide, reveal and capacity.
    False where malloc is not glibc's (nothing changes there)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):
        return False
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1


def run_and_exit(argv=None) -> None:
    """``main`` as a process (hide, reveal and capacity with :func:`keep_freed_memory`; training and
    evaluation may run for hours, and keep glibc's default): flush the output, then end without
    Python's clean-up, which is slow once PyTorch is loaded (``data/checkpoints/README.md``, Times).
    Every file the command writes is complete and closed before ``main`` returns."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("hide", "reveal", "capacity"):
        keep_freed_memory()
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
