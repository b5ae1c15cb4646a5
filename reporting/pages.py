"""The reporting side's browser pages: the alert center (/alerts/), the dashboard's latest-alerts panel and the
caller's exports (/reports/).

They live here, not in analytics.pages, because analytics never imports reporting; they reuse its `Page` (the
same sign-in, capability gate, filter bar and formatting), and the dashboard panel is registered into
analytics.pages.panels by the alerts app's ready().
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from rest_framework.exceptions import ValidationError

from analytics.pages.presentation import Col, table
from analytics.pages.views import Page
from chains.capabilities import ALERTS_MANAGE, ANALYTICS_EXPORT
from fleet.models import Device
from reporting.alerts.models import Alert
from reporting.alerts.selectors import alert_rules_list, alerts_for_center, latest_firing
from reporting.alerts.services import alert_acknowledge
from reporting.models import ExportJob

ALERTS_LIMIT = 200
EXPORTS_LIMIT = 100
LATEST_ALERTS = 5


def scope_link(alert: Alert) -> str | None:
    kind, _, key = alert.scope_key.partition(":")
    if not key:
        return None
    if kind == "device":
        return f"/assets/{quote(key, safe='')}/"
    if kind == "location":
        return f"/locations/{quote(key, safe='')}/"
    return None


def alert_row(alert: Alert) -> dict[str, Any]:
    user = alert.acknowledged_by
    return {
        "id": alert.id, "state": alert.state, "rule": alert.rule.name, "metric": alert.rule.metric,
        "condition": alert.rule.condition, "scope": alert.subject or alert.scope_key, "scope_href": scope_link(alert),
        "value": alert.value, "threshold": alert.threshold, "window": alert.rule.window,
        "window_start": alert.window_start, "window_end": alert.window_end, "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at, "acknowledged_by": (user.get_username() if user else None),
        "acknowledged_at": alert.acknowledged_at,
    }


ALERT_COLUMNS = [
    Col("state", "State"), Col("rule", "Rule"), Col("metric", "Metric"),
    Col("scope", "Scope", "text", lambda row: row.get("scope_href")), Col("condition", "Condition"),
    Col("value", "Value", "number"), Col("threshold", "Threshold", "number"), Col("window", "Window"),
    Col("window_start", "Window start", "datetime"), Col("fired_at", "Fired", "datetime"),
    Col("resolved_at", "Resolved", "datetime"), Col("acknowledged_by", "Acknowledged by"),
    Col("acknowledged_at", "Acknowledged", "datetime"),
]


class AlertsPage(Page):
    """Firing alerts first, then the most recent resolved ones; filters state, rule and device in the URL."""

    active = "alerts"
    title = "Alerts"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        state = self.query.get("state", "")
        if state and state not in Alert.State.values:
            raise ValidationError({"state": [f"Must be one of: {', '.join(Alert.State.values)}."]})
        rule = self.query.get("rule", "")
        if rule and not rule.isdigit():
            raise ValidationError({"rule": ["A rule id (a whole number)."]})
        device = self.query.get("device", "")
        rules = list(alert_rules_list())
        self.extra_controls = [
            {"name": "state", "label": "State", "blank": "All", "options": [
                {"value": value, "label": label, "selected": value == state} for value, label in Alert.State.choices]},
            {"name": "rule", "label": "Rule", "blank": "All", "options": [
                {"value": str(item.id), "label": item.name, "selected": str(item.id) == rule} for item in rules]},
            {"name": "device", "label": "Device", "blank": "All", "options": [
                {"value": asset, "label": asset, "selected": asset == device}
                for asset in Device.objects.order_by("asset").values_list("asset", flat=True)]},
        ]
        alerts = list(alerts_for_center(state=state or None, rule=int(rule) if rule else None, device=device or None,
                                        limit=ALERTS_LIMIT))
        rows = [alert_row(alert) for alert in alerts]
        can_manage = self.request.user.has_perm(ALERTS_MANAGE)
        tbl = table(self.fmt, "alerts", "Alerts", ALERT_COLUMNS, rows, empty="No alerts match.",
                    caption=f"Firing first, then the most recent; at most {ALERTS_LIMIT}.")
        acknowledgeable = [row["id"] if can_manage and row["state"] == Alert.State.FIRING and not row["acknowledged_at"]
                           else None for row in rows]
        sections: list[dict[str, Any]] = [{
            "type": "include", "template": "reporting/pages/alerts.html", "wide": True, "table": tbl,
            "rows": list(zip(tbl.rows, acknowledgeable, [row["id"] for row in rows], strict=True)),
            "can_manage": can_manage,
        }]
        if can_manage:
            sections.append(self.table_section(table(self.fmt, "alert-rules", "Rules", [
                Col("name", "Rule", "text", lambda row: row["edit"]), Col("metric", "Metric"),
                Col("condition", "Condition"), Col("threshold", "Threshold", "number"), Col("window", "Window"),
                Col("scope", "Scope"), Col("active", "Active", "boolean"),
                Col("snoozed_until", "Snoozed until", "datetime"),
            ], [{"name": item.name, "metric": item.metric, "condition": item.condition, "threshold": item.threshold,
                 "window": item.window, "scope": ", ".join(f"{k} {v}" for k, v in item.scope.items()) or "chain",
                 "active": item.active, "snoozed_until": item.snoozed_until,
                 "edit": f"/api/reporting/alert-rules/{item.id}/"} for item in rules],
                caption="Each rule links to its API resource (GET/PUT/PATCH/DELETE there; POST "
                        "/api/reporting/alert-rules/ adds one); Admins can also edit them in the chain's admin.",
                empty="No alert rules yet.")))
        return sections


class AlertAcknowledgePage(View):
    """The page's Acknowledge button: the same service as POST /api/reporting/alerts/<id>/acknowledge/."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login("/alerts/")
        if not request.user.has_perm(ALERTS_MANAGE):
            raise PermissionDenied("You need the alerts.manage capability to acknowledge alerts.")
        alert_acknowledge(alert=get_object_or_404(Alert, pk=pk), user=request.user)
        return redirect(f"/alerts/#alert-{pk}")


def latest_alerts_panel(page: Page) -> list[dict[str, Any]]:
    """The dashboard's "Latest alerts" box: the newest firing alerts, each linking to the alert center."""
    alerts = [{"id": alert.id, "rule": alert.rule.name, "subject": alert.subject,
               "fired_at": page.fmt.text(alert.fired_at, "datetime")} for alert in latest_firing(LATEST_ALERTS)]
    return [{"type": "include", "template": "reporting/pages/latest_alerts.html", "wide": False, "alerts": alerts}]


def _range(params: dict[str, Any]) -> str:
    start, end = params.get("start"), params.get("end")
    return f"{start} – {end}" if start or end else ""


class ReportsPage(Page):
    """The caller's export jobs, newest first (for analytics.export holders)."""

    active = "reports"
    title = "Reports"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        if not self.request.user.has_perm(ANALYTICS_EXPORT):
            return [self.note("Exports", "Exports need the analytics.export capability; ask an Admin of the chain.")]
        jobs = ExportJob.objects.filter(requester_id=self.request.user.pk).order_by("-created_at", "-id")[:EXPORTS_LIMIT]
        rows = [{
            "id": job.id, "report": job.report, "format": job.format, "range": _range(job.params or {}),
            "status": job.status, "progress": job.progress, "rows": job.rows, "created_at": job.created_at,
            "finished_at": job.finished_at, "expires_at": job.expires_at,
            "download": "Download" if job.status == ExportJob.Status.DONE else None,
        } for job in jobs]
        return [self.table_section(table(self.fmt, "exports", "Your exports", [
            Col("id", "Job", "integer"), Col("report", "Report"), Col("format", "Format"), Col("range", "Range"),
            Col("status", "Status"), Col("progress", "Progress", "rate"), Col("rows", "Rows", "integer"),
            Col("created_at", "Requested", "datetime"), Col("finished_at", "Finished", "datetime"),
            Col("expires_at", "Expires", "datetime"),
            Col("download", "File", "text",
                lambda row: f"/api/reporting/exports/{row['id']}/download/" if row["download"] else None),
        ], rows, caption=f"Newest first; at most {EXPORTS_LIMIT}. Request exports with the export buttons of every page.",
            empty="You have no exports yet."))]
