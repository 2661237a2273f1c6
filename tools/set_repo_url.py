"""The repository URL lives in one place, ``pyproject.toml`` ([project.urls] Repository); every
notebook's "Open in Colab" badge and setup cell (``REPO_URL``, the clone folder) are written from it.

    python tools/set_repo_url.py https://github.com/you/your-fork   # a fork: set it, rewrite notebooks
    python tools/set_repo_url.py                                    # rewrite notebooks from pyproject.toml

``tests/test_notebooks.py`` checks that every notebook agrees with ``pyproject.toml``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
URL_LINE = re.compile(r'^Repository = "(https://github\.com/([\w.-]+)/([\w.-]+))"$', re.M)


def repo_url() -> tuple[str, str, str]:
    """``(url, owner, name)`` from pyproject.toml."""
    m = URL_LINE.search(PYPROJECT.read_text())
    if not m:
        raise SystemExit('pyproject.toml has no line Repository = "https://github.com/OWNER/NAME"')
    return m.group(1), m.group(2), m.group(3)


def rewrite(text: str, notebook: str, url: str, owner: str, name: str) -> str:
    text = re.sub(r"colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/main/notebooks/[\w.-]+\.ipynb",
                  f"colab.research.google.com/github/{owner}/{name}/blob/main/notebooks/{notebook}", text)
    text = re.sub(r'REPO_URL = "[^"]*"', f'REPO_URL = "{url}"', text)
    return re.sub(r'repo = Path\("/content/[\w.-]+"\)', f'repo = Path("/content/{name}")', text)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", argv[0]):
            raise SystemExit(f"expected https://github.com/OWNER/NAME, got {argv[0]}")
        PYPROJECT.write_text(URL_LINE.sub(f'Repository = "{argv[0]}"', PYPROJECT.read_text()))
    url, owner, name = repo_url()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            cell["source"] = rewrite("".join(cell["source"]), path.name, url, owner, name).splitlines(keepends=True)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"notebooks now point to {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
