"""The package's layering: no module of helpers/ reaches into another module's private names."""

import ast
from pathlib import Path

import helpers

PACKAGE = Path(helpers.__file__).parent


def is_module(node: ast.ImportFrom, name: str) -> bool:
    """Whether ``from <node.module> import name`` (absolute, or relative to helpers/) imports a module."""
    parts = [] if node.level or not node.module else node.module.split(".")[1:]
    if node.level and node.module:
        parts = node.module.split(".")
    folder = PACKAGE.joinpath(*parts)
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()


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
                elif is_module(node, alias.name):  # from helpers.coding import blind_code: a module
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[-1] for a in node.names if a.name.startswith("helpers"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                and private(node.attr):
            found.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def test_the_check_finds_each_kind_of_reach():
    assert private_reaches("from helpers.methods.key_mode import _layout, open_cover\n") == ["line 1: imports _layout"]
    assert private_reaches("from helpers.methods.blind_mode import _hide\n") == ["line 1: imports _hide"]
    assert private_reaches("from helpers.coding import blind_code\nx = blind_code._stream(1)\n") == ["line 2: uses blind_code._stream"]
    assert private_reaches("from helpers.coding import blind_code\nx = blind_code.decode\nfrom .x import __all__\n") == []
    assert private_reaches("from helpers.coding.payload import frame\nx = frame._y\n") == []  # frame: a function
    assert private_reaches("from helpers import widgets\nwidgets._hidden\n") == ["line 2: uses widgets._hidden"]


def test_no_module_uses_another_modules_private_names():
    found = {p.name: r for p in sorted(PACKAGE.rglob("*.py")) if (r := private_reaches(p.read_text()))}
    assert found == {}, f"private names used across modules (make them public in a shared module): {found}"


def test_every_module_names_its_notebook_and_is_on_the_readme_map():
    """d2l's "defined in" habit: each module's docstring names the notebook that teaches it, and the
    README's map of helpers/ lists every module under its folder."""
    import re

    readme = (PACKAGE.parent / "README.md").read_text()
    table = readme[readme.index("### Map of `helpers/`"):]
    table = table[:table.index("\n\n**")]
    for p in sorted(PACKAGE.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(p.read_text())) or ""
        assert re.search(r"notebooks? \d\d|all notebooks|every notebook", doc), f"{p.relative_to(PACKAGE)}: no notebook named"
        if p.name != "__init__.py":
            folder = p.parent.relative_to(PACKAGE).as_posix()
            assert f"`{p.name}`" in table and (folder == "." or f"`{folder}/`" in table), p.relative_to(PACKAGE)


def helpers_imports(source: str) -> set[str]:
    """The helpers modules ``source`` imports by name (``import`` and ``from ... import``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("helpers"))
    return found


def test_plumbing_is_the_bottom_layer():
    """Files, images and running a network are used by everything else and import nothing of the
    rest of the package (``load_network`` reaches the module that builds each kind of network
    through its ``NETWORKS`` table, by name, when asked)."""
    assert helpers_imports("from helpers.data.photos import DATA_DIR\nimport helpers.coding.payload\n") == {
        "helpers.data.photos", "helpers.coding.payload"}
    upward = {p.name: sorted(m for m in helpers_imports(p.read_text()) if not m.startswith("helpers.plumbing"))
              for p in sorted((PACKAGE / "plumbing").glob("*.py"))}
    assert {k: v for k, v in upward.items() if v} == {}
