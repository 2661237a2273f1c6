"""The Colab branch of the notebooks' setup cell, run as on Colab: a stand-in ``google.colab``
module, ``REPO_URL`` pointing at a local copy of this working tree (``file://``), and a Colab-like
environment (``.venv-colab``, made by ``python tools/make_colab_env.py``: Colab's packages with
ipywidgets 7.7.1 and the classic notebook server, no JupyterLab, no reedsolo). Then the headless
dashboard tests run in that environment: the dashboards under ipywidgets 7.7.1.

Each run gets a fresh environment layered over ``.venv-colab`` (a venv whose site-packages sees
``.venv-colab``'s through a ``.pth`` file), so what the cell installs lands in the fresh one and
can be listed; pip takes reedsolo and setuptools from ``.venv-colab/wheelhouse`` (no network).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLAB_ENV = ROOT / ".venv-colab"
NOTEBOOK = ROOT / "notebooks" / "01_coupling_blocks.ipynb"


def site_packages(env: Path) -> Path:
    return next((env / "lib").glob("python3*/site-packages"))


def distributions(env: Path) -> set:
    return {p.name.split("-")[0].lower().replace("_", "-") for p in site_packages(env).glob("*.dist-info")}


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A fresh Colab-like environment, a copy of the working tree as a git repository, and /content."""
    if not (COLAB_ENV / "bin" / "python").exists():
        pytest.fail(f"no Colab-like environment in {COLAB_ENV}: run  python tools/make_colab_env.py  (.ci/run does)")
    tmp = tmp_path_factory.mktemp("colab")
    base_python = (COLAB_ENV / "bin" / "python").resolve()
    env = tmp / "env"
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(env)], check=True)
    (site_packages(env) / "colab_base.pth").write_text(str(site_packages(COLAB_ENV)) + "\n")
    # the repository as a user would clone it: the files git tracks or would track, committed
    src = tmp / "src"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=src, check=True)
    subprocess.run([*git, "add", "-A"], cwd=src, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=src, check=True)
    fake = tmp / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module (only its presence matters)."""\n')
    return {"tmp": tmp, "env": env, "python": env / "bin" / "python", "src": src, "fake": fake,
            "before": distributions(env)}


def run_setup_cell(colab, repo_url: str, content: Path):
    """Run notebook 01's setup cell in the Colab-like environment, with REPO_URL and /content replaced."""
    cell = "".join(next(c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code")["source"])
    url_line = next(line for line in cell.splitlines() if line.strip().startswith("REPO_URL = "))
    assert 'repo = Path("/content/' in cell
    cell = cell.replace(url_line, f"    REPO_URL = {repo_url!r}").replace('Path("/content/', f'Path("{content}/')
    runner = colab["tmp"] / "runner.py"
    runner.write_text(
        f"import sys\nsys.path.insert(0, {str(colab['fake'])!r})\nimport google.colab  # noqa: F401\n"
        f"exec(compile({cell!r}, 'setup cell', 'exec'))\n"
        "import importlib.util, json, os, helpers, ipywidgets\n"
        "print(json.dumps({'cwd': os.getcwd(), 'helpers': helpers.__file__, 'ipywidgets': ipywidgets.__version__,\n"
        "                  'jupyterlab': importlib.util.find_spec('jupyterlab') is not None}))\n")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(COLAB_ENV / "wheelhouse"),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": ""}
    return subprocess.run([str(colab["python"]), str(runner)], capture_output=True, text=True, cwd=colab["tmp"],
                          env=env, timeout=600)


def test_setup_cell_on_colab_installs_the_package_and_leaves_colab_alone(colab):
    content = colab["tmp"] / "content"
    content.mkdir()
    done = run_setup_cell(colab, colab["src"].as_uri(), content)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    facts = json.loads(lines[-1])
    repo = content / "inn-stego"
    assert (repo / ".git").is_dir() and (repo / "helpers" / "__init__.py").is_file(), "cloned"
    assert Path(facts["cwd"]) == repo / "notebooks"
    assert Path(facts["helpers"]).resolve() == (repo / "helpers" / "__init__.py").resolve()
    assert facts["ipywidgets"] == "7.7.1" and not facts["jupyterlab"]
    # what the install added to the environment: this package and the one requirement Colab lacks
    assert distributions(colab["env"]) - colab["before"] == {"inn-stego", "reedsolo"}
    assert any(line.startswith("installed inn-stego (editable) and reedsolo") and "ipywidgets 7.7.1" in line
               for line in lines), done.stdout
    # the CLI works from the clone, as from a `!python -m helpers ...` cell
    cli = subprocess.run([str(colab["python"]), "-m", "helpers", "capacity", "--help"], capture_output=True, text=True,
                         cwd=colab["tmp"], env={**os.environ, "PYTHONPATH": ""})
    assert cli.returncode == 0, cli.stderr


def test_dashboards_under_ipywidgets_7(colab):
    """tests/test_widgets.py, unchanged, in the Colab-like environment after the setup cell's install."""
    repo = colab["tmp"] / "content" / "inn-stego"
    if not repo.is_dir():
        pytest.fail("the setup-cell test above must run first (same module)")
    done = subprocess.run([str(colab["python"]), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_widgets.py"],
                          capture_output=True, text=True, cwd=repo, env={**os.environ, "PYTHONPATH": ""}, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    check = subprocess.run([str(colab["python"]), "-c", "import ipywidgets, helpers.widgets; print(ipywidgets.__version__)"],
                           capture_output=True, text=True, cwd=repo, env={**os.environ, "PYTHONPATH": ""})
    assert check.stdout.strip() == "7.7.1", check.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_a_wrong_repository_url_ends_in_one_line_that_says_what_to_do(colab):
    content = colab["tmp"] / "content-bad"
    content.mkdir()
    done = run_setup_cell(colab, (colab["tmp"] / "no-such-repo").as_uri(), content)
    assert done.returncode != 0
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in done.stderr and "CalledProcessError" not in done.stderr, done.stderr
    assert err[0].startswith("could not clone") and "REPO_URL" in err[0] and "upload" in err[0]

