"""Sphinx configuration of the book (``python tools/build_book.py`` stages the sources and runs
Sphinx with this folder as its configuration). MyST-NB executes every notebook as it builds: fast
mode on a CPU, full mode on a GPU, as each notebook's settings cell decides."""

import os

project = "Lossless image steganography with invertible neural networks"
author = "the inn-stego authors"
copyright = "2026, " + author  # noqa: A001 (Sphinx's name)
extensions = ["myst_nb"]
root_doc = "index"  # the README, staged with the notebooks' table of contents appended
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.xref_missing", "misc.highlighting_failure"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # the README's links to its own sections

nb_execution_mode = "force"  # the notebooks are stored without outputs: run them
nb_execution_timeout = int(os.environ.get("BOOK_CELL_TIMEOUT", "900"))
nb_execution_raise_on_error = True  # a notebook that fails is a failed build, never a page with a traceback
nb_execution_show_tb = True
# A dashboard's output carries the live widget's view and its first figure as a PNG
# (helpers.widgets.Dashboard): the book has no kernel and no widget state, so it shows the PNG.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

html_theme = "sphinx_book_theme"
html_title = "INN steganography"
_repo = os.environ.get("BOOK_REPOSITORY_URL", "")
html_theme_options = {
    "repository_url": _repo,
    "repository_branch": "main",
    "use_repository_button": bool(_repo),
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_navbar_depth": 1,
}
