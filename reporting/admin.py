"""The chain admin lists export jobs and mail deliveries (read-only: they are written by the workers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reporting.models import ExportJob, MailDelivery


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "requester", "report", "format", "status", "progress", "rows", "created_at", "finished_at", "expires_at")
    list_filter = ("status", "format", "report")
    search_fields = ("requester__username", "report")
    date_hierarchy = "created_at"


@admin.register(MailDelivery)
class MailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("key", "status", "attempts", "sent_at", "created_at", "last_error")
    list_filter = ("status",)
    search_fields = ("key",)


from reporting.subscriptions import admin as _subscriptions_admin  # noqa: E402,F401 - registers subscriptions
