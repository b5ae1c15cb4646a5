"""The metrics package stays pure (no Django), and its shared numeric helpers behave as documented."""

from __future__ import annotations

import ast
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from analytics.metrics._common import percentile_rank, safe_divide, to_decimal

METRICS_DIR = Path(__file__).resolve().parents[2] / "analytics" / "metrics"


def test_metrics_modules_do_not_import_django() -> None:
    modules = sorted(METRICS_DIR.glob("*.py"))
    assert modules, "analytics/metrics not found"
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top_level = name.split(".")[0]
                assert top_level not in {"django", "rest_framework", "django_tenants"}, f"{module.name} imports {name}"


def test_every_metrics_module_starts_with_a_one_line_docstring() -> None:
    for module in METRICS_DIR.glob("*.py"):
        docstring = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8")))
        assert docstring, f"{module.name} has no docstring"
        assert "\n" not in docstring, f"{module.name} docstring is not one line"


def test_to_decimal() -> None:
    assert to_decimal(Decimal("1.10")) == Decimal("1.10")
    assert to_decimal(0.1) == Decimal("0.1")  # as written, not 0.1000000000000000055...
    assert to_decimal(np.float64(19.99)) == Decimal("19.99")
    assert to_decimal(3) == Decimal(3)
    assert to_decimal(np.int64(3)) == Decimal(3)
    assert to_decimal(None) == Decimal(0)
    assert to_decimal(math.nan) == Decimal(0)
    assert to_decimal(Decimal("NaN")) == Decimal(0)
    assert to_decimal("2.50") == Decimal("2.50")


def test_percentile_rank() -> None:
    # Ranks of [30, 10, 30, 20]: 10 -> 1, 20 -> 2, the two 30s share (3+4)/2 = 3.5.
    # pct = (rank-1)/(n-1)*100 = 0, 33.3, 83.3.
    assert percentile_rank(np.array([30.0, 10.0, 30.0, 20.0])).tolist() == pytest.approx(
        [250 / 3, 0.0, 250 / 3, 100 / 3]
    )
    assert percentile_rank(np.array([5.0])).tolist() == [100.0]
    assert percentile_rank(np.array([5.0]), single_value_pct=50.0).tolist() == [50.0]
    assert percentile_rank(np.array([])).tolist() == []
    assert percentile_rank(np.array([2.0, 2.0, 2.0])).tolist() == [50.0, 50.0, 50.0]
    # -inf ranks lowest (used for "undefined, worst").
    assert percentile_rank(np.array([-np.inf, 1.0])).tolist() == [0.0, 100.0]


def test_safe_divide() -> None:
    assert safe_divide(np.array([1.0, 2.0, 0.0]), np.array([2.0, 0.0, 0.0])).tolist() == [0.5, 0.0, 0.0]
