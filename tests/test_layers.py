"""The layer rules (architecture.md, "Dependencies point one way"), checked on every import statement of every app,
lazy ones inside functions included: a violation fails naming the file, line and import.

    fleet, routes, bookings   never import analytics or reporting (nor demo, which builds on them)
    fleet                     imports neither bookings nor routes (they build on fleet, never the reverse)
    analytics                 never imports reporting
    chains, ingest            import no domain app (fleet, routes, bookings, analytics, reporting, demo)

fleet, routes and bookings may import ingest: they register their importers with it.

Run alone: `.venv/bin/python -m pytest tests/test_layers.py -q` (part of `make test`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = frozenset({"fleet", "routes", "bookings", "analytics", "reporting", "demo"})
FORBIDDEN: dict[str, frozenset[str]] = {
    "fleet": frozenset({"analytics", "reporting", "demo", "bookings", "routes"}),
    "routes": frozenset({"analytics", "reporting", "demo"}),
    "bookings": frozenset({"analytics", "reporting", "demo"}),
    "analytics": frozenset({"reporting"}),
    "chains": DOMAIN,
    "ingest": DOMAIN,
}


def imports_in(source: str, package: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in `source`, a module of `package`; relative imports resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                yield node.lineno, f"{base}.{node.module}" if node.module else base
            else:
                yield node.lineno, node.module or ""


def violations(app: str) -> list[str]:
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        package = path.relative_to(ROOT).with_suffix("").parts[:-1]
        for line, module in imports_in(path.read_text(encoding="utf-8"), package):
            top = module.split(".")[0]
            if top in FORBIDDEN[app] and top != app:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({app} must not import {top})")
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_dependencies_point_one_way(app: str) -> None:
    assert (ROOT / app / "apps.py").is_file(), f"{app} is ruled here but is no app of the project: the rule would check nothing"
    found = violations(app)
    assert not found, "layer rule broken:\n" + "\n".join(found)


def test_the_checker_sees_lazy_and_relative_imports() -> None:
    source = "def f():\n    from analytics.query import sales_by\n    import reporting.models as m\nfrom ..models import Sale\nfrom . import x\n"
    found = sorted(module for _, module in imports_in(source, ("fleet", "services")))
    assert found == ["analytics.query", "fleet.models", "fleet.services", "reporting.models"]


def test_a_violation_names_the_file_line_and_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "bad.py").write_text("import os\n\ndef f():\n    from analytics.query import sales_by\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert violations("routes") == ["routes/bad.py:4 imports analytics.query (routes must not import analytics)"]
