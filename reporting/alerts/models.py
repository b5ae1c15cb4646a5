"""Alert rules, the alerts they raise (one per rule and scope key while firing) and the transition ledger.

"Once" is decided by the database: at most one firing alert per (rule, scope key) (a partial unique
index), at most one event per (rule, scope key, transition, window start), and an e-mail is sent only
by whoever claims the event's `claimed_at` with a conditional UPDATE.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Capability(models.Model):
    """Carries the alerts capability as a permission; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("manage", "Can create, change and acknowledge alert rules and alerts")]

    def __str__(self) -> str:
        return "alerts capabilities"


class Metric(models.TextChoices):
    REVENUE = "revenue"
    SALES_REVENUE = "sales_revenue"
    BOOKING_REVENUE = "booking_revenue"
    UNITS = "units"
    TRANSACTIONS = "transactions"
    AVG_TRANSACTION_VALUE = "avg_transaction_value"
    ACTIVE_DEVICES = "active_devices"
    REVENUE_RUN_RATE = "revenue_run_rate"
    BOOKINGS = "bookings"
    NO_SHOW_RATE = "no_show_rate"
    UTILIZATION = "utilization"
    NPS = "nps"
    HOURS_WITHOUT_SALES = "hours_without_sales"
    DAYS_TO_EMPTY = "days_to_empty"
    ANOMALY = "anomaly"


class Condition(models.TextChoices):
    ABOVE = "above"
    BELOW = "below"
    CHANGE_ABOVE = "change_above"
    CHANGE_BELOW = "change_below"


class Window(models.TextChoices):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class AlertRule(models.Model):
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=30, choices=Metric.choices)
    scope = models.JSONField(default=dict, blank=True, help_text='{} or {"device"|"location"|"product"|"resource": code}')
    condition = models.CharField(max_length=20, choices=Condition.choices)
    threshold = models.DecimalField(max_digits=16, decimal_places=4)
    window = models.CharField(max_length=10, choices=Window.choices)
    recipients = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    repeat_hours = models.PositiveIntegerField(null=True, blank=True, help_text="repeat the notice while firing (off when empty)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The last window evaluated: an evaluation of it (or an earlier one) again changes nothing.
    evaluated_window_start = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    last_note = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(repeat_hours__isnull=True) | Q(repeat_hours__gte=1), name="alert_rule_repeat_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    class State(models.TextChoices):
        FIRING = "firing"
        RESOLVED = "resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    scope_key = models.CharField(max_length=80, help_text='"chain", "device:<asset>", "location:<code>", …')
    subject = models.CharField(max_length=200, help_text="what the alert is about, as people call it (asset, code, chain)")
    device = models.ForeignKey("fleet.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    location = models.ForeignKey("fleet.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.FIRING)
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    previous_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    threshold = models.DecimalField(max_digits=16, decimal_places=4)
    window_start = models.DateTimeField(help_text="the window that fired it (latest while firing)")
    window_end = models.DateTimeField()
    fired_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "scope_key"], condition=Q(state="firing"), name="alert_one_firing_per_scope"),
        ]
        indexes = [models.Index(fields=["state", "-fired_at"]), models.Index(fields=["device", "-fired_at"])]

    def __str__(self) -> str:
        return f"{self.rule} · {self.subject} · {self.state}"


class AlertEvent(models.Model):
    """One transition of an alert (fired, resolved, a repeat while firing), and whether its e-mail went out."""

    class Transition(models.TextChoices):
        FIRED = "fired"
        RESOLVED = "resolved"
        REPEATED = "repeated"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    scope_key = models.CharField(max_length=80)
    transition = models.CharField(max_length=10, choices=Transition.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    notify = models.BooleanField(help_text="false when the rule was snoozed: recorded, not sent")
    recipients = models.JSONField(default=list)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "scope_key", "transition", "window_start"], name="alert_event_once_per_window"),
        ]
        indexes = [models.Index(fields=["sent_at"], condition=Q(notify=True, sent_at__isnull=True), name="alert_event_unsent_idx")]

    def __str__(self) -> str:
        return f"{self.transition} {self.scope_key} {self.window_start:%Y-%m-%d %H:%M}"
