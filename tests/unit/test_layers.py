"""The layers' import rules, read from the source: ``web/`` never imports the store or the
client library, and the web app and the command take their services from the composition
root (``fairdraw.composition``) instead of building stores themselves."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import fairdraw

PACKAGE = Path(fairdraw.__file__).parent
# The embedded store's launcher (start, supervise, repair the local server) is not wiring:
# it runs before any runtime exists, so the command keeps it.
CLI_STORE_MODULES = {"fairdraw.store.embedded"}


def imported_modules(path: Path, *, names: bool = True) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, with its line, including imports inside functions;
    with ``names``, ``from a import b`` also counts as ``a.b`` (``b`` may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names if names else ():
                yield node.lineno, f"{node.module}.{alias.name}"


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_web_never_imports_the_store_or_the_client_library() -> None:
    offending = [
        f"{path.relative_to(PACKAGE)}:{line} imports {module}"
        for path in sorted((PACKAGE / "web").rglob("*.py"))
        for line, module in imported_modules(path)
        if is_under(module, "fairdraw.store") or is_under(module, "redis")
    ]
    assert offending == []


def test_relative_imports_do_not_hide_a_way_into_the_store() -> None:
    relative = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted((PACKAGE / "web").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


def test_web_app_builds_its_services_from_the_composition_root() -> None:
    modules = {module for _, module in imported_modules(PACKAGE / "web" / "app.py")}
    assert "fairdraw.composition.build" in modules


def test_cli_wires_nothing_itself() -> None:
    cli = PACKAGE / "cli.py"
    names = {module for _, module in imported_modules(cli)}
    assert {"fairdraw.composition.open_runtime", "fairdraw.composition.open_accounts"} <= names
    modules = {module for _, module in imported_modules(cli, names=False)}
    assert {m for m in modules if is_under(m, "fairdraw.store")} <= CLI_STORE_MODULES
    assert not any(is_under(module, "redis") for module in modules)
