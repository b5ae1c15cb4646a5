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
from django.db.models import F
from django.db.models import Window as Over
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from rest_framework.exceptions import ValidationError

from analytics.pages.presentation import Col, table
from analytics.pages.views import Page
from analytics.query import current_chain
from chains.capabilities import ALERTS_MANAGE, ANALYTICS_EXPORT
from fleet.models import Device
from reporting import exports
from reporting.alerts.apis import alert_rule_save, alert_rule_validated
from reporting.alerts.metrics import PER_DEVICE_METRICS
from reporting.alerts.models import Alert, AlertRule, Condition, Metric, Window
from reporting.alerts.selectors import alert_rules_list, alerts_for_center, latest_firing
from reporting.alerts.serializers import MAX_RECIPIENTS as ALERT_MAX_RECIPIENTS
from reporting.alerts.services import alert_acknowledge
from reporting.forms import (
    RULE_FIELDS,
    SCOPE_CHOICES,
    SUBSCRIPTION_FIELDS,
    WEEKDAY_NAMES,
    field_errors,
    form_values,
    recurrence_text,
    rule_payload,
    rule_values,
    subscription_payload,
)
from reporting.models import ExportJob
from reporting.subscriptions import services
from reporting.subscriptions.apis import (
    subscription_create,
    subscription_get,
    subscription_resume_checked,
    subscription_send_checked,
)
from reporting.subscriptions.models import MAX_RECIPIENTS, RANGES, Delivery, Subscription
from reporting.subscriptions.recurrence import FREQS

ALERTS_LIMIT = 200
EXPORTS_LIMIT = 100
LATEST_ALERTS = 5
SUBSCRIPTIONS_LIMIT = 1000  # as the API lists them
LAST_DELIVERIES = 3


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
    form_state: dict[str, Any] | None = None

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        state = self.query.get("state", "")
        if state and state not in Alert.State.values:
            raise ValidationError({"state": [f"Must be one of: {', '.join(Alert.State.values)}."]})
        rule = self.query.get("rule", "")
        if rule and not rule.isdigit():
            raise ValidationError({"rule": ["A rule id (a whole number)."]})
        device = self.query.get("device", "")
        rules: list[AlertRule] = list(alert_rules_list())
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
        sections.append(self.rules_section(rules, can_manage))
        if can_manage:
            sections.append(self.rule_form_section(rules))
        return sections

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
        """The rule form: create (POST /alerts/rules/) or edit (POST /alerts/rules/<id>/) through the API's serializer."""
        denied = _gate(request, ALERTS_MANAGE, "alert rules")
        if denied is not None:
            return denied
        rule = get_object_or_404(AlertRule, pk=pk) if pk is not None else None
        payload, errors = rule_payload(request.POST, current_chain().tz)
        serializer = None
        try:
            serializer = alert_rule_validated(payload, instance=rule)
        except ValidationError as exc:
            for field, messages in field_errors(exc.detail, rename={"scope": "scope_kind"}).items():
                errors.setdefault(field, []).extend(messages)
        if errors or serializer is None:
            self.form_state = {"values": form_values(request.POST, RULE_FIELDS), "errors": errors, "rule": rule}
            return _refused(self.get(request))
        saved = alert_rule_save(serializer, user=request.user)
        return redirect(f"/alerts/#rule-{saved.pk}")

    def rules_section(self, rules: list[AlertRule], can_manage: bool) -> dict[str, Any]:
        tz = current_chain().tz
        rows = [{
            "id": item.id, "name": item.name, "metric": item.metric, "condition": item.condition,
            "threshold": self.fmt.text(item.threshold, "number"), "threshold_value": f"{item.threshold}",
            "window": item.window, "scope": _scope_text(item), "recipients": item.recipients, "active": item.active,
            "snoozed_until": item.snoozed_until.astimezone(tz).strftime("%Y-%m-%d %H:%M") if item.snoozed_until else "",
            "repeat_hours": item.repeat_hours, "note": item.last_note[:300],
        } for item in rules]
        return {"type": "include", "template": "reporting/pages/alert_rules.html", "wide": True, "rows": rows,
                "can_manage": can_manage, "time_zone": self.fmt.time_zone}

    def rule_form_section(self, rules: list[AlertRule]) -> dict[str, Any]:
        tz = current_chain().tz
        state = self.form_state or {}
        editing: AlertRule | None = state.get("rule")
        edit = self.request.GET.get("edit", "")
        if editing is None and edit.isdigit():
            editing = next((item for item in rules if item.id == int(edit)), None)
            if editing is None:
                raise Http404("No such alert rule.")
        values = rule_values(editing, tz) if editing is not None and "values" not in state else {
            "scope_kind": "chain", "condition": "below", "window": "day", "metric": "revenue", "active": "on"}
        values.update(state.get("values", {}))
        return {
            "type": "include", "template": "reporting/pages/alert_rule_form.html", "wide": True, "values": values,
            "errors": state.get("errors", {}), "rule": editing, "time_zone": self.fmt.time_zone,
            "max_recipients": ALERT_MAX_RECIPIENTS,
            "choices": {
                "metric": [(value, value.replace("_", " ").capitalize()) for value in Metric.values],
                "scope_kind": list(SCOPE_CHOICES),
                "condition": [(value, value.replace("_", " ")) for value in Condition.values],
                "window": [(value, value.capitalize()) for value in Window.values],
            },
        }


def _scope_text(rule: AlertRule) -> str:
    kind, code = next(iter(rule.scope.items()), ("", ""))
    if kind:
        return f"{kind} {code}"
    return "every device" if rule.metric in PER_DEVICE_METRICS else "the chain"


class AlertRuleActionPage(View):
    """The rules table's buttons: deactivate / activate (a partial update through the serializer) and delete."""

    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponseBase:
        denied = _gate(request, ALERTS_MANAGE, "alert rules")
        if denied is not None:
            return denied
        rule = get_object_or_404(AlertRule, pk=pk)  # the chain's schema: another chain's rule is a 404
        if action == "delete":
            rule.delete()
            return redirect("/alerts/#t-alert-rules")
        if action not in ("activate", "deactivate"):
            raise Http404("No such action.")
        alert_rule_save(alert_rule_validated({"active": action == "activate"}, instance=rule, partial=True),
                        user=request.user)
        return redirect(f"/alerts/#rule-{pk}")


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
    """The caller's export jobs, newest first, and the chain's scheduled reports (for analytics.export holders).

    POST (the "new scheduled report" form) creates a subscription through the API's own serializer; a refused
    value renders the page again (400) with the messages next to the fields.
    """

    active = "reports"
    title = "Reports"
    form_state: dict[str, Any] | None = None

    def post(self, request: HttpRequest) -> HttpResponseBase:
        denied = _gate(request, ANALYTICS_EXPORT, "scheduled reports")
        if denied is not None:
            return denied
        try:
            subscription = subscription_create(subscription_payload(request.POST), owner_id=request.user.pk)
        except ValidationError as exc:
            self.form_state = {"values": form_values(request.POST, SUBSCRIPTION_FIELDS),
                               "errors": field_errors(exc.detail)}
            return _refused(self.get(request))
        return redirect(f"/reports/#subscription-{subscription.pk}")

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        if not self.request.user.has_perm(ANALYTICS_EXPORT):
            return [self.note("Exports", "Exports and scheduled reports need the analytics.export capability; ask an "
                                         "Admin of the chain.")]
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
            empty="You have no exports yet.")), self.subscriptions_section()]

    def subscriptions_section(self) -> dict[str, Any]:
        time_zone = self.fmt.time_zone
        subscriptions = list(Subscription.objects.order_by("name", "id")[:SUBSCRIPTIONS_LIMIT])
        latest: dict[int, list[dict[str, Any]]] = {}
        ranked = Delivery.objects.filter(subscription__in=subscriptions).annotate(
            rank=Over(RowNumber(), partition_by=[F("subscription_id")], order_by=[F("occurrence").desc(), F("id").desc()])
        ).filter(rank__lte=LAST_DELIVERIES).order_by("subscription_id", "rank")
        for delivery in ranked:
            latest.setdefault(delivery.subscription_id, []).append({
                "when": self.fmt.text(delivery.occurrence, "datetime"), "status": delivery.status,
                "manual": delivery.manual, "error": delivery.error[:200], "rows": delivery.rows,
            })
        rows = [{
            "id": item.pk, "name": item.name, "report": exports.export_title(item.report), "format": item.format.upper(),
            "range": item.get_range_display(), "recurrence": recurrence_text(item.recurrence, time_zone),
            "recipients": item.recipients, "active": item.active,
            "next": self.fmt.text(item.next_run_at, "datetime") if item.next_run_at else "–",
            "deliveries": latest.get(item.pk, []),
        } for item in subscriptions]
        state = self.form_state or {}
        for row in rows:
            row["errors"] = state.get("errors", {}).get(f"row-{row['id']}", [])
        values = {"format": "pdf", "range": "previous_day", "freq": "daily", "at": "08:00", "report": "dashboard",
                  **state.get("values", {})}
        return {
            "type": "include", "template": "reporting/pages/subscriptions.html", "wide": True, "rows": rows,
            "time_zone": time_zone, "values": values, "errors": state.get("errors", {}),
            "limit": SUBSCRIPTIONS_LIMIT, "max_recipients": MAX_RECIPIENTS,
            "choices": {
                "report": [(name, exports.export_title(name)) for name in exports.export_names()],
                "format": [(name, name.upper()) for name in exports.FORMATS],
                "range": [(name, name.replace("_", " ").capitalize()) for name in RANGES],
                "freq": [(name, name.capitalize()) for name in FREQS],
                "weekday": [(str(number), name) for number, name in enumerate(WEEKDAY_NAMES, start=1)],
                "day": [(str(day), str(day)) for day in range(1, 32)] + [("-1", "Last day")],
            },
        }


class SubscriptionActionPage(View):
    """A row's buttons on /reports/: pause, resume, send now, delete — the API's own checks and services."""

    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponseBase:
        denied = _gate(request, ANALYTICS_EXPORT, "scheduled reports")
        if denied is not None:
            return denied
        subscription = subscription_get(pk)  # Http404 for another chain's (not in this schema)
        try:
            if action == "pause":
                services.subscription_pause(subscription=subscription)
            elif action == "resume":
                subscription_resume_checked(subscription)
            elif action == "send":
                subscription_send_checked(subscription)
            elif action == "delete":
                subscription.delete()
                return redirect("/reports/#t-subscriptions")
            else:
                raise Http404("No such action.")
        except ValidationError as exc:
            page = ReportsPage()
            page.setup(request)
            page.form_state = {"errors": {f"row-{pk}": [m for ms in field_errors(exc.detail).values() for m in ms]}}
            return _refused(page.get(request))
        return redirect(f"/reports/#subscription-{pk}")


def _gate(request: HttpRequest, capability: str, what: str) -> HttpResponseBase | None:
    """Signed in and holding `capability`, or a redirect to sign in / a 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.path)
    if not request.user.has_perm(capability):
        raise PermissionDenied(f"You need the {capability} capability to change {what}.")
    return None


def _refused(response: HttpResponseBase) -> HttpResponseBase:
    if response.status_code == 200:
        response.status_code = 400
    return response
