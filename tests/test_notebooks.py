"""Conventions every notebook keeps (nbmake runs them; this checks their shape)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_notebooks_exist_and_are_numbered_in_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 8, "01, 02, ... with no gap"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 5 and all("id" in c for c in nb["cells"]), "cell ids (nbformat 4.5)"
    cells = nb["cells"]
    title = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and title.startswith(f"# {path.name[:2]} ")
    assert "colab.research.google.com/github/" in title and path.name in title, "Open-in-Colab badge"
    assert "Runtime budget" in title and "What you will learn" in title
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c.get("outputs") for c in code), "strip outputs before committing"
    setup, settings = "".join(code[0]["source"]), "".join(code[1]["source"])
    assert '"google.colab" in sys.modules' in setup
    assert sum("google.colab" in "".join(c["source"]) for c in code) == 1, "exactly one setup cell"
    assert "--no-deps" not in setup and "pip" not in setup.replace("colab_install.py", ""), \
        "the setup cell installs through tools/colab_install.py only (it leaves Colab's own packages alone)"
    # the settings cell, right after the setup cell: the one visible mode switch
    assert settings.startswith("# Settings:") and '\nMODE = "auto"\n' in settings
    assert "FAST = choose_mode(MODE, full_cpu_time=" in settings
    assert sum("choose_mode(" in "".join(c["source"]) for c in code) == 1
    # no hidden switches: no notebook reads or sets an environment variable (INN_STEGO_FAST is read by
    # choose_mode, INN_STEGO_CACHE by cache_dir and set by keep on Colab)
    for c in code:
        text = "".join(c["source"])
        assert "os.environ" not in text and "os.getenv" not in text, text[:80]
    number = path.name[:2]
    if number >= "04":  # where things are kept is a visible setting wherever something is kept
        assert '\nKEEP = "drive"' in settings and "\nCACHE = keep(KEEP)" in settings
        assert all("cache_dir()" not in "".join(c["source"]) for c in code[:2]), "CACHE comes from keep(KEEP)"
    if number == "05":  # the data set is a setting, never a silent fallback
        assert '\nDATA = "coco"' in settings and "training_data(DATA, FAST, CACHE)" in "".join(
            "".join(c["source"]) for c in code)
    if number >= "06":  # the network of notebook 05 (or the shipped one) is used downstream
        assert '\nCHECKPOINT = "auto"' in settings and "PAPER_CKPT = paper_checkpoint(CHECKPOINT)" in settings
        assert all("load_network()" not in "".join(c["source"]) for c in code), "load_network(PAPER_CKPT)"
    tail = "".join("".join(c["source"]) for c in cells[-4:] if c["cell_type"] == "markdown")
    for heading in ("## Summary", "## Exercises", "## References"):
        assert heading in tail
    # a worked solution for every exercise, folded after the exercises
    exercises = tail.split("## Exercises", 1)[1].split("<details>", 1)[0]
    solutions = tail.split("<details>", 1)[1].split("</details>", 1)[0] if "<details>" in tail else ""
    n_ex = len(re.findall(r"^\d+\. ", exercises, re.M))
    assert n_ex and "Worked solutions" in solutions and len(re.findall(r"^\d+\. ", solutions, re.M)) == n_ex


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_repository_url_comes_from_one_place(path):
    """Badge and setup cell agree with pyproject.toml (a fork runs tools/set_repo_url.py)."""
    import sys

    sys.path.insert(0, str(path.parent.parent / "tools"))
    from set_repo_url import repo_url, rewrite

    url, owner, name = repo_url()
    for cell in json.loads(path.read_text())["cells"]:
        text = "".join(cell["source"])
        assert rewrite(text, path.name, url, owner, name) == text
        if "REPO_URL =" in text:
            assert f'REPO_URL = "{url}"' in text
