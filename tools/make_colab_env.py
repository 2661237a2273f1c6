"""Build a Colab-like Python environment for ``tests/test_colab_setup.py``:

    python tools/make_colab_env.py            # makes .venv-colab/ in the repository (about a minute)

It holds what a Colab runtime brings and this package relies on (torch, numpy, pillow, matplotlib,
tqdm), Colab's widget stack (ipywidgets 7.7.1 with the classic notebook 6.5 server; no JupyterLab),
pytest, and a small wheelhouse with what the setup cell will fetch from PyPI on Colab (reedsolo,
and setuptools for the editable install), so the test itself runs offline. It does not hold
this package or reedsolo: installing them is what the test checks. ``.ci/run`` builds it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Colab's widget front end runs ipywidgets 7.7 (googlecolab/colabtools issues 3020, 4525); its server
# is the classic notebook 6.5. torch: the CPU build this project's CI installs.
COLAB_PACKAGES = ["torch==2.13.0", "numpy", "pillow", "matplotlib", "tqdm", "ipywidgets==7.7.1", "notebook==6.5.7",
                  "ipykernel<7", "pytest"]  # Colab runs ipykernel 6.17; 7 can hang (pyproject.toml, test extra)
WHEELHOUSE_PACKAGES = ["reedsolo>=1.7", "setuptools>=77"]


def run(*cmd, cwd=None) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = (Path(argv[0]) if argv else ROOT / ".venv-colab").resolve()
    if not (env / "bin" / "python").exists():
        run(sys.executable, "-m", "venv", env)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "-q", *COLAB_PACKAGES)
    run(python, "-m", "pip", "download", "-q", "--no-deps", "-d", env / "wheelhouse", *WHEELHOUSE_PACKAGES)
    check = ("import importlib.util as u, ipywidgets; assert ipywidgets.__version__ == '7.7.1', ipywidgets.__version__; "
             "assert u.find_spec('jupyterlab') is None and u.find_spec('reedsolo') is None and u.find_spec('helpers') is None")
    run(python, "-c", check, cwd=env)  # not from the repository, whose helpers/ would be importable
    print(f"Colab-like environment ready: {env}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
