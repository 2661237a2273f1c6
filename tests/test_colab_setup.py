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



# --- notebooks as a Colab student runs them: Colab's packages, each notebook in a runtime of its own ------

def run_notebook(colab, name: str, tag: str, env: dict, replace=(), inject: str = "") -> str:
    """Run notebook ``name`` of the clone the setup-cell test made, in the Colab-like environment
    (nbconvert, as a kernel of that environment), with ``replace`` applied to its settings cell (what
    a student edits) and ``inject`` as a cell before it (the test's stand-ins); returns the text of
    its outputs. ``env`` is the runtime's environment on top of this process's (no INN_STEGO_FAST
    unless given: a Colab runtime has none)."""
    repo = colab["tmp"] / "content" / "inn-stego"
    if not repo.is_dir():
        pytest.fail("the setup-cell test above must run first (same module)")
    nb = json.loads((repo / "notebooks" / name).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    settings = "".join(code[1]["source"])
    for old, new in replace:
        assert old in settings, (name, old)
        settings = settings.replace(old, new)
    code[1]["source"] = settings
    if inject:
        at = nb["cells"].index(code[1])
        nb["cells"].insert(at, {"cell_type": "code", "id": "test-stand-ins", "metadata": {}, "outputs": [],
                                "execution_count": None, "source": inject})
    path = repo / "notebooks" / f"_test_{tag}_{name}"
    path.write_text(json.dumps(nb))
    run_env = {k: v for k, v in os.environ.items() if k not in ("INN_STEGO_FAST", "INN_STEGO_CACHE")}
    run_env.update({"PYTHONPATH": "", "MPLBACKEND": "agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1", **env})
    done = subprocess.run([str(colab["python"]), "-m", "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.timeout=600", str(path), "--output", path.name],
                          capture_output=True, text=True, cwd=path.parent, env=run_env, timeout=900)
    assert done.returncode == 0, f"{name} ({tag}) failed under Colab's packages:\n{done.stderr[-4000:]}"
    outputs = []
    for cell in json.loads(path.read_text())["cells"]:
        for o in cell.get("outputs", []):
            text = o.get("text") or o.get("data", {}).get("text/plain", "")
            outputs.append(text if isinstance(text, str) else "".join(text))
    return "\n".join(outputs)


def stand_ins(coco, manifests: Path, drive: Path) -> str:
    """The injected cell: COCO is the local server's small zip, Google Drive a folder of the test, and
    the runtime is Colab (google.colab is loaded: its drive.mount makes MyDrive there)."""
    return (
        "import dataclasses, sys, types\nfrom pathlib import Path\n"
        "import helpers.data.subsets as _subsets, helpers.settings as _settings\n"
        f"COCO_VAL2017 = _subsets.COCO_VAL2017 = dataclasses.replace(_subsets.COCO_VAL2017, url={coco.url!r}, "
        f"size={coco.size}, md5={coco.md5!r}, n_train={coco.n_train}, n_eval={coco.n_eval})\n"
        f"_subsets.MANIFEST_DIR = Path({str(manifests)!r})\n"
        f"_settings.DRIVE_MOUNT = Path({str(drive)!r})\n"
        "_colab = types.ModuleType('google.colab')\n"
        "_colab.drive = types.SimpleNamespace(mount=lambda where: Path(where, 'MyDrive').mkdir(parents=True, exist_ok=True))\n"
        "sys.modules['google.colab'] = _colab\n")


@pytest.fixture
def coco_server(tmp_path):
    """A local HTTP server with a small COCO-shaped val2017.zip (6 bundled photos as JPEG); counts requests."""
    import functools
    import hashlib
    import http.server
    import io
    import threading
    import zipfile
    from dataclasses import replace

    from PIL import Image

    from helpers.data.photos import list_samples
    from helpers.data.subsets import COCO_VAL2017

    root = tmp_path / "www"
    (root / "zips").mkdir(parents=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, photo in enumerate(list_samples()[::9][:6]):
            jpg = io.BytesIO()
            Image.open(photo).convert("RGB").save(jpg, "JPEG", quality=95)
            z.writestr(f"val2017/{k * 1009 + 139:012d}.jpg", jpg.getvalue())
    data = buf.getvalue()
    (root / "zips" / "val2017.zip").write_bytes(data)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    coco = replace(COCO_VAL2017, url=f"http://127.0.0.1:{server.server_address[1]}/zips/val2017.zip", size=len(data),
                   md5=hashlib.md5(data).hexdigest(), n_train=4, n_eval=2)
    yield coco, requests
    server.shutdown()
    server.server_close()


def test_colab_session_05_alone_fetches_coco_and_06_finds_its_export_in_drive(colab, coco_server):
    """04 and 05 each in a runtime of its own (separate cache folders), full mode, COCO from the local
    server; 05 keeps things in the Drive stand-in, and 06, in a third runtime, takes 05's export with
    CHECKPOINT = "auto"."""
    coco, requests = coco_server
    tmp = colab["tmp"]
    drive, inject = tmp / "drive", stand_ins(coco, tmp / "manifests", tmp / "drive")
    out04 = run_notebook(colab, "04_data.ipynb", "session", {"INN_STEGO_CACHE": str(tmp / "runtime-1")},
                         [('MODE = "auto"', 'MODE = "full"'), ('KEEP = "drive"', 'KEEP = "runtime"')], inject)
    assert "kept on this runtime's disk" in out04 and "train: 4 images" in out04
    assert (tmp / "runtime-1" / "coco-val2017" / "train").is_dir()
    n_zip = requests.count("/zips/val2017.zip")
    # 05 in a fresh runtime: nothing of 04's is there; it fetches the subset itself and says so
    out05 = run_notebook(colab, "05_training.ipynb", "session", {"INN_STEGO_CACHE": str(tmp / "runtime-2")},
                         [('MODE = "auto"', 'MODE = "full"'), ('TRAIN = "auto"', "TRAIN = True"),
                          ("EPOCHS = PLANS[PLAN]", "EPOCHS = 2")], inject)
    assert requests.count("/zips/val2017.zip") == n_zip + 1
    assert f"training data: 4 images of COCO-2017 (coco-val2017, seed 2022" in out05 and coco.url in out05
    assert "kept in Google Drive" in out05 and "bundled" not in out05.split("training data:")[1].split("\n")[0]
    exports = list((drive / "MyDrive" / "inn-stego-cache" / "exports").glob("paper-*.pt"))
    assert len(exports) == 1 and "use it with CHECKPOINT = 'auto'" in out05
    assert not (tmp / "runtime-2").exists() or not any((tmp / "runtime-2").rglob("*.pt"))
    # 06 in a third runtime (fast mode, as CI runs it), the same Drive: CHECKPOINT = "auto" finds 05's export
    out06 = run_notebook(colab, "06_lossless_extraction.ipynb", "session",
                         {"INN_STEGO_CACHE": str(tmp / "runtime-3"), "INN_STEGO_FAST": "1"}, inject=inject)
    assert f"network: your newest export {exports[0]}" in out06 and "trained by notebook 05 in full mode" in out06


def test_notebooks_under_colabs_packages_with_a_better_network_than_the_shipped_one(colab, tmp_path):
    """01-03 and 06-10 under Colab's packages (fast mode), 06-10 with a network of about 68 dB, far
    above the shipped one's 42 dB and the 57.3 dB that notebook 07 once assumed as a ceiling: the
    shipped paper.pt with the last convolution of every dense block scaled by 0.01, exported as
    notebook 05 exports a full-mode network, so that CHECKPOINT = "auto" takes it."""
    import torch

    from helpers.data.photos import list_samples, load_image, pil_to_tensor
    from helpers.evaluation.metrics import psnr
    from helpers.methods.key_mode import hide
    from helpers.plumbing.inference import load_network
    from helpers.settings import SHIPPED_PAPER

    cache = tmp_path / "cache"
    state = torch.load(SHIPPED_PAPER, weights_only=True)
    last = [k for k in state["model"] if ".last." in k]
    assert len(last) == 48  # 8 blocks x 3 dense blocks x (weight, bias)
    for k in last:
        state["model"][k] = state["model"][k] * 0.01
    state.update(toy=False, notes="test: the shipped paper.pt, last layers x 0.01")
    better = cache / "exports" / "paper-better.pt"
    better.parent.mkdir(parents=True)
    torch.save(state, better)
    photo = list_samples()[0]
    stego, _ = hide(photo, bytes(range(256)) * 20, load_network(better).model, bpp=3)
    assert psnr(load_image(photo), pil_to_tensor(stego)) > 57.3 + 5
    env = {"INN_STEGO_CACHE": str(cache), "INN_STEGO_FAST": "1"}
    for name in sorted(p.name for p in (ROOT / "notebooks").glob("[01][0-9]_*.ipynb")):
        if name[:2] in ("04", "05"):
            continue  # run as a Colab session, above
        out = run_notebook(colab, name, "better", env)
        if name[:2] >= "06":
            assert f"network: your newest export {better}" in out, name
