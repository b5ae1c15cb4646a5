"""The chain admin for alert rules (editable) and alerts with their transitions (read-only: the evaluation writes them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reporting.alerts.models import Alert, AlertEvent, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "metric", "condition", "threshold", "window", "active", "snoozed_until", "evaluated_at"]
    list_filter = ["metric", "window", "active"]
    search_fields = ["name"]
    readonly_fields = ["evaluated_window_start", "evaluated_at", "last_note", "created_by", "created_at", "updated_at"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    fields = ("transition", "window_start", "value", "notify", "recipients", "sent_at", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(_ReadOnly):
    list_display = ["rule", "subject", "state", "value", "threshold", "window_start", "fired_at", "resolved_at", "acknowledged_at"]
    list_filter = ["state", "rule"]
    search_fields = ["subject", "scope_key"]
    inlines = [AlertEventInline]


@admin.register(AlertEvent)
class AlertEventAdmin(_ReadOnly):
    list_display = ["alert", "transition", "window_start", "notify", "sent_at", "created_at"]
    list_filter = ["transition", "notify"]
