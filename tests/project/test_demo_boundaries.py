"""After the demo moved to its own app: fleet imports neither bookings, routes nor demo, and chains runs no
domain command by name (call_command appears in no chains module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports(app: str) -> list[tuple[str, int, str]]:
    """(file, line, module) of every import in the app's modules, migrations aside."""
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.lineno, node.module))
    return found


@pytest.mark.parametrize(("app", "forbidden"), [("fleet", ("bookings", "routes", "demo")), ("chains", ("demo",))])
def test_an_app_does_not_import_the_apps_built_on_it(app: str, forbidden: tuple[str, ...]) -> None:
    offending = [(f, line, module) for f, line, module in imports(app) if module.split(".")[0] in forbidden]
    assert offending == []


def test_chains_runs_no_command_by_name() -> None:
    calls = [
        (str(path.relative_to(ROOT)), node.lineno)
        for path in sorted((ROOT / "chains").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "call_command"
    ]
    assert calls == []
