"""The chain admin's read-only view of the ranges ingestion marked for the next rollup."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import DirtyRange


@admin.register(DirtyRange)
class DirtyRangeAdmin(admin.ModelAdmin):
    """Written by ingestion and consumed by the rollup jobs; editing them by hand would skip or repeat work."""

    list_display = ["kind", "starts_at", "ends_at", "created_at"]
    list_filter = ["kind"]
    date_hierarchy = "created_at"
    readonly_fields = ["kind", "starts_at", "ends_at", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
