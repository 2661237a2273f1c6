"""Build a Colab-like Python environment for ``tests/test_colab_setup.py``:

    python tools/make_colab_env.py            # makes .venv-colab/ in the repository (about a minute)

It is Colab's own runtime as Colab publishes it (googlecolab/backend-info, ``pip-freeze.gpu.txt``,
2026-08): Python 3.13 and the versions of what this package and the notebooks touch (below), with
Colab's widget stack (ipywidgets 7.7.1 with the classic notebook 6.5 server; no JupyterLab). Python
3.13 is taken from the PATH or from pyenv (``~/.pyenv/versions/3.13*``, as on this project's
machines). torch is PyPI's 2.11.0, the CUDA build that Colab also runs (``+cu128`` there); on a
machine without a GPU it runs on the CPU. Besides, pytest, and a small wheelhouse with what the
setup cell fetches from PyPI on Colab (reedsolo, and setuptools for the editable install), so the
test itself runs offline. It does not hold this package or reedsolo: installing them is what the
test checks. ``.ci/run`` builds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB_PYTHON = "3.13"
# Colab's published versions (pip-freeze.gpu.txt, 2026-08) of everything the package and the notebooks
# import or run under; its front end runs ipywidgets 7.7 (googlecolab/colabtools issues 3020, 4525)
COLAB_PACKAGES = ["pip==24.1.2", "setuptools==75.2.0", "torch==2.11.0", "numpy==2.1.3", "matplotlib==3.10.0",
                  "pillow==11.3.0", "tqdm==4.67.3", "ipython==7.34.0", "ipykernel==6.17.1", "ipywidgets==7.7.1",
                  "notebook==6.5.7", "traitlets==5.7.1", "jupyter_client==7.4.9"]
TEST_PACKAGES = ["pytest"]  # Colab's own pins stay: pip is told to keep them (a constraints file)
WHEELHOUSE_PACKAGES = ["reedsolo>=1.7", "setuptools>=77"]


def colab_python() -> Path:
    """A Python 3.13 interpreter that runs: one of pyenv's, or the PATH's (a pyenv shim on the PATH
    may name a version that is not selected, so each is tried)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser()
    candidates = sorted(pyenv.glob(f"versions/{COLAB_PYTHON}*/bin/python{COLAB_PYTHON}"), reverse=True)
    candidates += [Path(p) for p in [shutil.which(f"python{COLAB_PYTHON}")] if p]
    for candidate in candidates:
        if subprocess.run([str(candidate), "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    raise SystemExit(f"no Python {COLAB_PYTHON} here (Colab's): install it (e.g. pyenv install {COLAB_PYTHON}) and run "
                     "this again")


def run(*cmd, cwd=None) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = (Path(argv[0]) if argv else ROOT / ".venv-colab").resolve()
    python = env / "bin" / "python"
    if python.exists() and not subprocess.run([str(python), "-c", f"import sys; assert sys.version.startswith('{COLAB_PYTHON}.')"],
                                              capture_output=True).returncode == 0:
        shutil.rmtree(env)  # an environment of another Python (this script's earlier versions): made again
    if not python.exists():
        run(colab_python(), "-m", "venv", env)
    pins = env / "colab-constraints.txt"
    pins.write_text("\n".join(COLAB_PACKAGES) + "\n")
    run(python, "-m", "pip", "install", "-q", "pip==24.1.2")
    run(python, "-m", "pip", "install", "-q", *COLAB_PACKAGES)
    run(python, "-m", "pip", "install", "-q", "-c", pins, *TEST_PACKAGES)
    run(python, "-m", "pip", "download", "-q", "--no-deps", "-d", env / "wheelhouse", *WHEELHOUSE_PACKAGES)
    check = (f"import sys, importlib.metadata as m, importlib.util as u; assert sys.version.startswith('{COLAB_PYTHON}.'); "
             f"pins = {dict(p.split('==') for p in COLAB_PACKAGES)!r}; "
             "bad = {k: m.version(k) for k, v in pins.items() if m.version(k).split('+')[0] != v}; assert not bad, bad; "
             "assert u.find_spec('jupyterlab') is None and u.find_spec('reedsolo') is None and u.find_spec('helpers') is None")
    run(python, "-c", check, cwd=env)  # not from the repository, whose helpers/ would be importable
    print(f"Colab-like environment ready: {env} (Python {COLAB_PYTHON}, torch 2.11.0, numpy 2.1.3, ipywidgets 7.7.1, "
          "notebook 6.5.7)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
