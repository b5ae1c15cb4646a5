"""Reads of the alerts: the alert center's list (firing first, then recent) and the dashboard's latest firing."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

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


def alert_transitions(*, start: datetime, end: datetime) -> list[tuple[str, datetime, Alert]]:
    """The fired and resolved transitions in [start, end): (transition, when, alert), oldest first.

    Read from the alerts themselves (each fire is an alert of its own, its `fired_at` and `resolved_at` are the
    transitions' times), so they are exactly what GET /api/reporting/alerts/ lists for the period.
    """
    alerts = Alert.objects.select_related("rule").filter(
        Q(fired_at__gte=start, fired_at__lt=end) | Q(resolved_at__gte=start, resolved_at__lt=end)
    )
    out: list[tuple[str, datetime, Alert]] = []
    for alert in alerts:
        if start <= alert.fired_at < end:
            out.append(("fired", alert.fired_at, alert))
        if alert.resolved_at is not None and start <= alert.resolved_at < end:
            out.append(("resolved", alert.resolved_at, alert))
    out.sort(key=lambda item: (item[1], item[2].pk, item[0] == "resolved"))
    return out
