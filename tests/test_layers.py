"""The package's layering: no module of helpers/ reaches into another module's private names."""

import ast
from pathlib import Path

import helpers

PACKAGE = Path(helpers.__file__).parent


def private_reaches(source: str) -> list[str]:
    """``from .x import _y`` and ``x._y`` (x a module of the package imported by name) in ``source``."""
    tree = ast.parse(source)
    found, modules = [], set()
    private = lambda name: name.startswith("_") and not name.startswith("__")  # noqa: E731
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "helpers"):
            for alias in node.names:
                if private(alias.name):
                    found.append(f"line {node.lineno}: imports {alias.name}")
                elif node.module in (None, "helpers") or node.level and not node.module:
                    modules.add(alias.asname or alias.name)  # from . import ecc: ecc is a module
        elif isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[-1] for a in node.names if a.name.startswith("helpers"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                and private(node.attr):
            found.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def test_the_check_finds_each_kind_of_reach():
    assert private_reaches("from .stego import _layout, open_cover\n") == ["line 1: imports _layout"]
    assert private_reaches("from helpers.blind import _hide\n") == ["line 1: imports _hide"]
    assert private_reaches("from . import ecc\nx = ecc._stream(1)\n") == ["line 2: uses ecc._stream"]
    assert private_reaches("from . import ecc\nx = ecc.decode\nfrom .x import __all__\n") == []


def test_no_module_uses_another_modules_private_names():
    found = {p.name: r for p in sorted(PACKAGE.rglob("*.py")) if (r := private_reaches(p.read_text()))}
    assert found == {}, f"private names used across modules (make them public in a shared module): {found}"
