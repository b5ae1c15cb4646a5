"""Helpers of the alert tests: rules with defaults, local instants, and the raw-row sums the evaluations must equal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reporting.alerts.models import Alert, AlertRule

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(text: str) -> datetime:
    """An ISO instant with its offset: '2026-10-25T02:15:00+02:00'."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value


def rule(metric: str, *, scope: dict[str, str] | None = None, condition: str = "above", threshold: str = "-1",
         window: str = "day", **fields: Any) -> AlertRule:
    """A rule; the default `above -1` fires for every subject, so its alerts carry the evaluated values."""
    fields.setdefault("recipients", ["ops@example.com"])
    return AlertRule.objects.create(
        name=fields.pop("name", f"{metric} {condition} {threshold}"), metric=metric, scope=scope or {}, condition=condition,
        threshold=Decimal(threshold), window=window, **fields,
    )


def value_of(made: AlertRule, scope_key: str = "chain") -> Decimal:
    alert = Alert.objects.get(rule=made, scope_key=scope_key, state=Alert.State.FIRING)
    assert alert.value is not None
    return alert.value


def raw_sum(rows: Iterable[dict[str, Any]], field: str, start: datetime, end: datetime, **match: Any) -> Decimal:
    """Σ field over the rows sold in [start, end) that match every key of `match`."""
    return sum(
        (Decimal(str(r[field])) for r in rows if start <= r["at"] < end and all(r[k] == v for k, v in match.items())),
        Decimal(0),
    )
