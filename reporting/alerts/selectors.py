"""Reads of the alerts: the alert center's list (firing first, then recent) and the dashboard's latest firing."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from reporting.alerts.models import Alert, AlertRule


def alerts_for_center(
    *, state: str | None = None, rule: int | None = None, device: str | None = None, limit: int | None = None,
) -> QuerySet[Alert]:
    """Alerts, firing first then the most recent; `device` is an asset (or a numeric device id)."""
    alerts = Alert.objects.select_related("rule", "acknowledged_by", "device", "location")
    if state:
        alerts = alerts.filter(state=state)
    if rule is not None:
        alerts = alerts.filter(rule_id=rule)
    if device:
        alerts = alerts.filter(device_id=int(device)) if device.isdigit() else alerts.filter(scope_key=f"device:{device}")
    alerts = alerts.annotate(
        firing_first=Case(When(state=Alert.State.FIRING, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("firing_first", "-fired_at", "-id")
    return alerts[:limit] if limit else alerts


def latest_firing(limit: int = 5) -> list[Alert]:
    """The newest firing alerts (for the dashboard's strip)."""
    return list(Alert.objects.select_related("rule").filter(state=Alert.State.FIRING).order_by("-fired_at", "-id")[:limit])


def alert_rules_list() -> QuerySet[AlertRule]:
    return AlertRule.objects.all().order_by("name", "id")
