"""The demo chains' alert rules, and a first evaluation so the alert center has something to show after `make run`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from analytics.query import current_chain
from reporting.alerts.models import AlertRule
from reporting.alerts.services import alerts_evaluate


def _rules_for() -> list[dict[str, Any]]:
    from bookings.models import Resource
    from fleet.models import Device

    rules: list[dict[str, Any]] = []
    if Device.objects.exists():
        rules += [
            {"name": "Silent machine: no sale for 6 hours", "metric": "hours_without_sales", "scope": {},
             "condition": "above", "threshold": Decimal(6), "window": "hour"},
            {"name": "Slot runs empty within 2 days", "metric": "days_to_empty", "scope": {}, "condition": "below",
             "threshold": Decimal(2), "window": "day"},
            {"name": "Anomalous machine day (|z| > 2.5)", "metric": "anomaly", "scope": {}, "condition": "above",
             "threshold": Decimal("2.5"), "window": "day"},
            {"name": "Chain revenue fell 30 % day on day", "metric": "revenue", "scope": {}, "condition": "change_below",
             "threshold": Decimal(-30), "window": "day"},
        ]
        first = Device.objects.filter(retired_at__isnull=True).order_by("asset").first()
        if first is not None:
            rules.append({"name": f"{first.asset} took less than 50 a day", "metric": "revenue", "scope": {"device": first.asset},
                          "condition": "below", "threshold": Decimal(50), "window": "day"})
    if Resource.objects.exists():
        rules += [
            {"name": "No-show rate above 10 % in a week", "metric": "no_show_rate", "scope": {}, "condition": "above",
             "threshold": Decimal("0.10"), "window": "week"},
            {"name": "Utilization below 50 % yesterday", "metric": "utilization", "scope": {}, "condition": "below",
             "threshold": Decimal("0.5"), "window": "day"},
            {"name": "Bookings fell 20 % week on week", "metric": "bookings", "scope": {}, "condition": "change_below",
             "threshold": Decimal(-20), "window": "week"},
        ]
    return rules


def demo_alert_rules_create() -> dict[str, Any]:
    """In the current (demo) chain's schema: create its rules once (by name), then evaluate them."""
    chain = current_chain()
    primary = chain.get_primary_domain()
    domain = primary.domain if primary is not None else f"{chain.schema_name}.localhost"
    for spec in _rules_for():
        AlertRule.objects.get_or_create(name=spec.pop("name"), defaults={**spec, "recipients": [f"manager@{domain}"]})
    return alerts_evaluate().as_dict()
