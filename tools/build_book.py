"""Build the series as a book: the README as its landing page, then the ten notebooks in order,
executed, with their figures (Sphinx, MyST-NB and the book theme; configuration in ``book/conf.py``).

    pip install -e ".[book]"
    python tools/build_book.py                  # every notebook -> _build/book/html/index.html
    python tools/build_book.py --only 06 10     # some of them (tests/test_book.py builds these two)

Each notebook runs as its settings cell decides: fast mode on a CPU (what a laptop builds), full
mode on a GPU. The sources are staged in ``<out>/src``: the README becomes ``index.md`` with the
table of contents appended and its links to other files of the repository pointed at GitHub.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from set_repo_url import repo_url  # noqa: E402


def stage(src: Path, notebooks: list[Path], url: str) -> None:
    """The README as ``index.md`` (with the table of contents) and the chosen notebooks."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for nb in notebooks:
        shutil.copy2(nb, src / "notebooks" / nb.name)
    names = {f"notebooks/{nb.name}" for nb in notebooks}

    def link(m: re.Match) -> str:  # a notebook in the book stays a page; any other file goes to GitHub
        target = m.group(2)
        if re.match(r"[a-z]+:|#", target) or target.split("#")[0] in names:
            return m.group(0)
        return f"{m.group(1)}({url}/blob/main/{target})"

    readme = re.sub(r"(\]\s*)\(([^)\s]+)\)", link, (ROOT / "README.md").read_text())
    toc = "\n".join(f"notebooks/{nb.stem}" for nb in notebooks)
    (src / "index.md").write_text(readme + f"\n\n```{{toctree}}\n:hidden:\n:caption: The notebooks\n\n{toc}\n```\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="+", metavar="NN", help="the notebooks to include, by number (default: all)")
    p.add_argument("--out", default=str(ROOT / "_build" / "book"), help="output folder (default: _build/book)")
    args = p.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        unknown = set(args.only) - {nb.name[:2] for nb in notebooks}
        if unknown:
            p.error(f"no notebook numbered {', '.join(sorted(unknown))}")
        notebooks = [nb for nb in notebooks if nb.name[:2] in args.only]
    out = Path(args.out).resolve()
    url = repo_url()[0]
    stage(out / "src", notebooks, url)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", "-c", str(ROOT / "book"),
                          str(out / "src"), str(out / "html")],
                         env=dict(os.environ, BOOK_REPOSITORY_URL=url), cwd=out / "src")
    if run.returncode:
        print(f"error: the book did not build (sphinx exited with {run.returncode}; its messages are above)",
              file=sys.stderr)
        return 1
    print(f"built {len(notebooks)} notebook(s) in {time.perf_counter() - start:.0f} s: {out / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
