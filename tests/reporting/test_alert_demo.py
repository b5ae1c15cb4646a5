"""The demo chains' rules: created once, evaluated at once, and a silent machine fires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from reporting.alerts.demo import demo_alert_rules_create
from reporting.alerts.models import Alert, AlertRule
from tests.analytics.api_factories import device, location, product, resource, sale


def test_demo_rules_are_made_once_and_a_silent_machine_fires(in_chain_a: Any) -> None:
    here = location("DL1")
    item = product("DP1")
    silent, busy = device("DM1", here), device("DM2", here)
    now = timezone.now()
    sale(silent, item, now - timedelta(hours=30), "2.00")
    for hours in (3, 2, 1):
        sale(busy, item, now - timedelta(hours=hours, minutes=5), "2.00")
    resource("DR1", here, hours={d: ("08:00", "20:00") for d in range(1, 8)})
    first = demo_alert_rules_create()
    names = set(AlertRule.objects.values_list("name", flat=True))
    assert len(names) == 8 and "Silent machine: no sale for 6 hours" in names
    assert all(r.recipients == ["manager@chain-a.localhost"] for r in AlertRule.objects.all())
    assert first["evaluated"] == 8
    firing = Alert.objects.filter(state="firing", rule__metric="hours_without_sales")
    assert list(firing.values_list("subject", flat=True)) == ["DM1"]
    again = demo_alert_rules_create()
    assert AlertRule.objects.count() == 8 and again["skipped"] == 8
