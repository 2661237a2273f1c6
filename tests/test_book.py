"""The series as a rendered book: ``tools/build_book.py`` builds a smoke version (notebooks 06 and
10, executed; the full book is the same command without ``--only``), then headless Chromium reads
it as a student would: each page's figures load, notebook 10's dashboards included (their first
figures, shown where no kernel runs), and the navigation leads from one notebook to the next."""

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import chromium_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"06_lossless_extraction": 3, "10_lecture_dashboards": 4}  # figures each page must show at least


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--only", "06", "10", "--out", str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "built 2 notebook(s)" in run.stdout
    return out / "html"


@pytest.fixture(scope="module")
def served(book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(book))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_book_shows_every_figure_and_leads_to_the_next_notebook(served, book, tmp_path):
    from playwright.sync_api import expect

    text = (book / "index.html").read_text()
    assert "Map of" in text and "notebooks/06_lossless_extraction.html" in text  # the README is the landing page
    with chromium_page(tmp_path) as page:
        for name, least in PAGES.items():
            page.goto(f"{served}/notebooks/{name}.html")
            page.wait_for_load_state("load")
            figures = page.locator("article img[src*='_images/']")
            assert figures.count() >= least, (name, figures.count())
            widths = figures.evaluate_all("els => els.map(e => e.complete ? e.naturalWidth : -1)")
            assert all(w > 0 for w in widths), (name, widths)  # every figure loaded, none broken
            assert page.locator("text=Traceback").count() == 0
            assert page.locator("a[href*='colab.research.google.com']").count() >= 1  # the way back to Colab
        page.goto(f"{served}/index.html")
        page.locator("a.right-next").first.click()
        expect(page).to_have_url(f"{served}/notebooks/06_lossless_extraction.html")
        page.locator("a.right-next").first.click()
        expect(page).to_have_url(f"{served}/notebooks/10_lecture_dashboards.html")
