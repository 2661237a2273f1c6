"""How long each lecture dashboard's callback takes (issue 7's target: under 1 s on the 2-core CPU
at 128 x 128). Builds each dashboard, then sets its controls as a lecturer would and prints the
time of every callback.

    python benchmarks/dashboards.py
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
warnings.filterwarnings("ignore", message="FigureCanvasAgg is non-interactive")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from helpers import widgets  # noqa: E402

MOVES = {
    "coupling_dashboard": [("scale", 5.0), ("shift", 8.0), ("clamp", 0.5)],
    "mapping_dashboard": [("t", 0.6), ("noise", 0.3), ("mapping", False), ("kind", "random")],
    "stego_dashboard": [("magnify", 120), ("message", "A new message typed in class."), ("mode", "blind"),
                        ("magnify", 20), ("photo", widgets.list_samples()[5].stem), ("mode", "key"),
                        ("message", "Key mode, another message.")],
    "steganalysis_dashboard": [("payload", 0.3), ("detector", "ws"), ("payload", 0.8)],
}


def quiet():
    """Outside a notebook the dashboards' Output widgets print terminal escape codes: drop them."""
    return contextlib.redirect_stdout(io.StringIO())


def main() -> int:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, moves in MOVES.items():
        with quiet():
            board = getattr(widgets, name)()
        print(f"{name}: built, first callback {board.seconds:.2f} s")
        for control, value in moves:
            with quiet():
                board.controls[control].value = value
            plt.close("all")
            flag = "" if board.seconds < 1 else "   (over 1 s)"
            print(f"  {control} = {value!r:<36} {board.seconds:6.2f} s{flag}")
        if board.errors:
            print(f"  errors: {board.errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
