"""Install this package on Colab without touching Colab's own stack (run by every notebook's setup
cell, on Colab only, from the clone it made):

    python tools/colab_install.py

1. ``pip install --no-deps -e <repository>``: the package itself, and nothing else.
2. Each runtime requirement of ``pyproject.toml`` that is **not installed at all** is installed
   (on Colab today: ``reedsolo``). One that is installed is left exactly as it is, whatever its
   version: Colab's torch, numpy, matplotlib, pillow and ipywidgets 7.7 (its front end does not run
   ipywidgets 8), and its notebook server (JupyterLab is not a runtime requirement).

It prints one line of what it installed and what it kept. Standard library only: it runs before
the package and its requirements are there. ``tests/test_colab_setup.py`` runs it in a Colab-like
environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = "inn-stego"


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise SystemExit(f"error: pip install {' '.join(args)} failed: {last}")


def runtime_requirements() -> list[str]:
    """The package's own requirements (no extras), as pip reads them from the installed metadata."""
    return [r for r in (metadata.requires(DIST) or []) if "extra ==" not in r]


def requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0)


def main() -> int:
    pip("--no-deps", "-e", str(ROOT))
    missing, kept = [], []
    for req in runtime_requirements():
        name = requirement_name(req)
        try:
            kept.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(req.split(";")[0].strip())
    if missing:
        pip(*missing)
    print(f"installed {DIST} (editable) and {', '.join(missing) if missing else 'nothing else'}; "
          f"kept as they were: {', '.join(kept)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
