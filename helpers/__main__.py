"""Command line: ``python -m helpers train --data DIR ...`` (more subcommands come with later notebooks).

Exit code 0 on success, 2 for usage errors, 1 for every other failure with one line
``error: ...`` on standard error and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import MISSING

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
    "seed": "random seed", "amp": "bfloat16 mixed precision on CUDA (faster; may cap PSNR, see helpers/train.py)",
    "max_steps_per_epoch": "stop each epoch after N steps (0: all)", "limit_images": "use the first N images (0: all)",
}


def build_parser() -> argparse.ArgumentParser:
    from .train import config_fields

    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
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


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            from .train import TrainConfig, TrainingDiverged, config_fields, train

            cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in config_fields()})
            result = train(cfg, resume=not args.no_resume, progress=not args.quiet)
            print(f"checkpoint: {result['checkpoint']}")
        return 0
    except KeyboardInterrupt:
        print("error: interrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        return 1
    except (OSError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
