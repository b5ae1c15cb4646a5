"""Writes of the alerts: evaluate every active rule for its last complete window, record transitions, send once.

`alerts_evaluate` holds the chain's advisory lock for the whole pass, so two evaluations at once run
one after the other; a rule remembers the last window it evaluated, so the same window again changes
nothing; and the unique keys on alerts and events make any slip past both an IntegrityError, not a
second notice. E-mails go out after the commit, each by whoever claims its event with a conditional
UPDATE (`alert_events_deliver`, also the retry path for a send that failed).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.query import current_chain
from analytics.query.rollup import same_watermark
from reporting.alerts import notify
from reporting.alerts.metrics import Family, Reading, catalog_load, family_of
from reporting.alerts.models import Alert, AlertEvent, AlertRule
from reporting.alerts.windows import AlertWindow, last_complete_window

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # a claim this old belonged to a worker that died before sending
NOTE_MAX = 2000


@dataclass(frozen=True)
class _NewAlert:
    alert: Alert
    rule: AlertRule
    window: AlertWindow
    value: Decimal | None
    notify: bool


@dataclass
class EvaluationReport:
    schema: str
    at: datetime
    rules: int = 0
    evaluated: int = 0
    skipped: int = 0  # their window was evaluated already
    fired: int = 0
    resolved: int = 0
    repeated: int = 0
    sent: int = 0
    notes: dict[int, str] = field(default_factory=dict)
    # Written together at the end of the pass: a statement per batch, not one per rule or alert.
    still_firing: list[Alert] = field(default_factory=list)
    new_alerts: list[_NewAlert] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema, "at": self.at.isoformat(), "rules": self.rules, "evaluated": self.evaluated,
            "skipped": self.skipped, "fired": self.fired, "resolved": self.resolved, "repeated": self.repeated,
            "sent": self.sent, "notes": {str(k): v for k, v in self.notes.items()},
        }


def condition_check(*, condition: str, threshold: Decimal, reading: Reading) -> tuple[bool, Decimal | None, str]:
    """(meets, the value compared, why not when it cannot be judged). change_*: percent against the window before."""
    if reading.value is None:
        return False, None, reading.note or "no value"
    if condition == "above":
        return reading.value > threshold, reading.value, reading.note
    if condition == "below":
        return reading.value < threshold, reading.value, reading.note
    previous = reading.previous
    if previous is None or previous == 0:
        return False, None, "the previous window is 0: the change is undefined, so it does not fire"
    change = ((reading.value - previous) / previous * 100).quantize(Decimal("0.0001"))
    return (change > threshold if condition == "change_above" else change < threshold), change, reading.note


def _lock_chain() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"alerts-evaluate:{connection.schema_name}"])  # type: ignore[attr-defined]


def alerts_evaluate(*, at: datetime | None = None) -> EvaluationReport:
    """Evaluate every active rule of the current chain for its last complete window before `at` (default now)."""
    chain = current_chain()
    at = at or timezone.now()
    report = EvaluationReport(schema=chain.schema_name, at=at)
    with transaction.atomic():
        _lock_chain()
        rules = list(AlertRule.objects.filter(active=True).order_by("id"))
        report.rules = len(rules)
        windows = {kind: last_complete_window(kind, at, chain.tz) for kind in {rule.window for rule in rules}}
        due = [r for r in rules if r.evaluated_window_start is None or r.evaluated_window_start < windows[r.window].starts_at]
        report.skipped = len(rules) - len(due)
        catalog = catalog_load(chain_name=chain.name, rules=due)
        groups: dict[tuple[type[Family], str], list[AlertRule]] = defaultdict(list)
        for rule in due:
            groups[(family_of(rule), rule.window)].append(rule)
        firing: dict[int, dict[str, Alert]] = defaultdict(dict)
        for alert in Alert.objects.filter(rule__in=due, state=Alert.State.FIRING):
            firing[alert.rule_id][alert.scope_key] = alert
        with same_watermark():
            for (family_class, kind), members in groups.items():
                readings = family_class(windows[kind], members, catalog).readings()
                for rule in members:
                    _rule_apply(rule, readings.get(rule.id, []), windows[kind], firing[rule.id], at, report)
                    report.evaluated += 1
        _new_alerts_create(report)
        _rules_and_alerts_update(due, report.still_firing)
        report.still_firing = []
    report.sent = alert_events_deliver()
    return report


def _rule_apply(
    rule: AlertRule, readings: list[Reading], window: AlertWindow, firing: dict[str, Alert], at: datetime,
    report: EvaluationReport,
) -> None:
    notify_now = not (rule.snoozed_until is not None and rule.snoozed_until > at)
    notes: list[str] = []
    seen: set[str] = set()
    for reading in readings:
        key = reading.subject.key
        seen.add(key)
        meets, compared, why = condition_check(condition=rule.condition, threshold=rule.threshold, reading=reading)
        if why:
            notes.append(f"{reading.subject.label}: {why}")
        alert = firing.get(key)
        if meets and alert is None:
            alert = Alert(
                rule=rule, scope_key=key, subject=reading.subject.label[:200], device_id=reading.subject.device_id,
                location_id=reading.subject.location_id, state=Alert.State.FIRING, value=compared,
                previous_value=reading.previous, threshold=rule.threshold, window_start=window.starts_at,
                window_end=window.ends_at, fired_at=at,
            )
            report.new_alerts.append(_NewAlert(alert, rule, window, compared, notify_now))
        elif meets and alert is not None:
            alert.value, alert.previous_value = compared, reading.previous
            alert.window_start, alert.window_end = window.starts_at, window.ends_at
            report.still_firing.append(alert)
            repeat = bool(rule.repeat_hours) and _repeat_due(alert, window, rule.repeat_hours or 0)
            if repeat and _event(alert, AlertEvent.Transition.REPEATED, window, compared, notify_now, rule):
                report.repeated += 1
        elif not meets and alert is not None:
            _resolve(alert, window, compared, at, notify_now, rule, report)
    for key, alert in firing.items():
        if key not in seen:  # the subject left the rule's scope (a device retired, a rule narrowed)
            _resolve(alert, window, None, at, notify_now, rule, report)
    note = "; ".join(notes)
    if note:
        report.notes[rule.id] = note
    rule.evaluated_window_start, rule.evaluated_at, rule.last_note = window.starts_at, timezone.now(), note[:NOTE_MAX]


def _new_alerts_create(report: EvaluationReport) -> None:
    """Insert the pass's new alerts and their `fired` events in batches; should a unique key refuse a batch (an
    evaluation that slipped past the lock), row by row, skipping what exists."""
    pending, report.new_alerts = report.new_alerts, []
    if not pending:
        return
    try:
        with transaction.atomic():
            Alert.objects.bulk_create([p.alert for p in pending], batch_size=1000)
        created = pending
    except IntegrityError:
        created = []
        for p in pending:
            p.alert.pk = None
            try:
                with transaction.atomic():
                    p.alert.save()
                created.append(p)
            except IntegrityError:
                continue
    events = [_event_row(p.alert, AlertEvent.Transition.FIRED, p.window, p.value, p.notify, p.rule) for p in created]
    try:
        with transaction.atomic():
            AlertEvent.objects.bulk_create(events, batch_size=1000)
        report.fired += len(events)
    except IntegrityError:
        report.fired += sum(_event(p.alert, AlertEvent.Transition.FIRED, p.window, p.value, p.notify, p.rule) for p in created)


def _rules_and_alerts_update(rules: list[AlertRule], alerts: list[Alert]) -> None:
    """What the pass learnt, in one UPDATE per table (Django's bulk_update builds a CASE per row and field)."""
    with connection.cursor() as cursor:
        if rules:
            cursor.execute(
                "UPDATE alerts_alertrule r SET evaluated_window_start = v.ws, evaluated_at = v.at, last_note = v.note"
                " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::text[]) AS v(id, ws, at, note)"
                " WHERE r.id = v.id",
                [[r.pk for r in rules], [r.evaluated_window_start for r in rules], [r.evaluated_at for r in rules],
                 [r.last_note for r in rules]],
            )
        if alerts:
            cursor.execute(
                "UPDATE alerts_alert a SET value = v.value, previous_value = v.previous, window_start = v.ws,"
                " window_end = v.we"
                " FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[], %s::timestamptz[], %s::timestamptz[])"
                " AS v(id, value, previous, ws, we) WHERE a.id = v.id AND a.state = 'firing'",
                [[a.pk for a in alerts], [a.value for a in alerts], [a.previous_value for a in alerts],
                 [a.window_start for a in alerts], [a.window_end for a in alerts]],
            )


def _resolve(
    alert: Alert, window: AlertWindow, value: Decimal | None, at: datetime, notify_now: bool, rule: AlertRule,
    report: EvaluationReport,
) -> None:
    changed = Alert.objects.filter(pk=alert.pk, state=Alert.State.FIRING).update(
        state=Alert.State.RESOLVED, resolved_at=at, value=value if value is not None else alert.value,
    )
    if changed and _event(alert, AlertEvent.Transition.RESOLVED, window, value, notify_now, rule):
        report.resolved += 1


def _repeat_due(alert: Alert, window: AlertWindow, hours: int) -> bool:
    last = (
        AlertEvent.objects.filter(alert=alert, transition__in=[AlertEvent.Transition.FIRED, AlertEvent.Transition.REPEATED])
        .order_by("-window_start").values_list("window_start", flat=True).first()
    )
    return last is None or window.starts_at - last >= timedelta(hours=hours)


def _event_row(
    alert: Alert, transition: str, window: AlertWindow, value: Decimal | None, notify_now: bool, rule: AlertRule
) -> AlertEvent:
    return AlertEvent(
        alert=alert, rule=rule, scope_key=alert.scope_key, transition=transition, window_start=window.starts_at,
        window_end=window.ends_at, value=value, notify=notify_now and bool(rule.recipients), recipients=list(rule.recipients),
    )


def _event(alert: Alert, transition: str, window: AlertWindow, value: Decimal | None, notify_now: bool, rule: AlertRule) -> bool:
    """Record one transition; False when that transition of that window exists already (nothing new to send)."""
    try:
        with transaction.atomic():
            _event_row(alert, transition, window, value, notify_now, rule).save()
    except IntegrityError:
        return False
    return True


def _claim(event_id: int) -> bool:
    """Take the right to send this event's e-mail: one conditional UPDATE, committed at once."""
    now = timezone.now()
    return bool(
        AlertEvent.objects.filter(pk=event_id, notify=True, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM))
        .update(claimed_at=now)
    )


def alert_events_deliver() -> int:
    """Send every recorded notice not sent yet (after the evaluation's commit); returns how many went out."""
    chain = current_chain()
    sent = 0
    pending = list(AlertEvent.objects.filter(notify=True, sent_at__isnull=True).values_list("pk", flat=True))
    for event_id in pending:
        if not _claim(event_id):
            continue
        event = AlertEvent.objects.select_related("alert", "rule").get(pk=event_id)
        window = last_complete_window(event.rule.window, event.window_end, chain.tz)
        mail = notify.alert_mail_compose(
            chain=chain, transition=event.transition, rule_name=event.rule.name, metric=event.rule.metric,
            condition=event.rule.condition, threshold=event.alert.threshold, subject_label=event.alert.subject,
            scope_key=event.scope_key, value=event.value, previous=event.alert.previous_value if event.transition != "resolved" else None,
            window_label=window.label(), recipients=event.recipients,
        )
        try:
            notify.alert_mail_send(mail, key=f"alert-event:{event.pk}")
        except Exception as error:
            AlertEvent.objects.filter(pk=event_id).update(claimed_at=None, error=f"{type(error).__name__}: {error}"[:1000])
            log.warning("alert notice %s not sent: %s", event_id, error)
            continue
        AlertEvent.objects.filter(pk=event_id).update(sent_at=timezone.now(), error="")
        sent += 1
    return sent


def alert_acknowledge(*, alert: Alert, user: Any) -> Alert:
    """Who saw it and when; acknowledging again keeps the first acknowledgement."""
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(acknowledged_by=user, acknowledged_at=timezone.now())
    alert.refresh_from_db()
    return alert
