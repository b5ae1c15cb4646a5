"""Chain admin for ingestion: DEX reads (with "Upload DEX") and sales (view only).

File imports (sales, bookings, funnel events) are the import jobs' admin, ingest/admin.py; the sales
change list links to it.

Registered from FleetConfig.ready(), apart from fleet/admin.py (the catalog admin), so that the two can
change independently.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from fleet.models import DexRead, Sale
from fleet.services.dex import dex_read_ingest, max_dex_bytes
from ingest.admin import require_ingest


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class DexUploadForm(forms.Form):
    dex_files = MultipleFileField(label="DEX files", widget=MultipleFileInput, help_text="One or more DEX/UCS reads (.txt, .dex).")


@admin.register(DexRead)
class DexReadAdmin(admin.ModelAdmin):
    change_list_template = "admin/fleet/dexread/change_list.html"
    list_display = ["id", "serial", "device", "read_at", "status", "sales_count", "file_name", "uploaded_at"]
    list_filter = ["status", "uploaded_at"]
    search_fields = ["serial", "file_name", "device__asset", "content_hash"]
    date_hierarchy = "read_at"
    readonly_fields = [
        "device", "serial", "file_name", "content_hash", "read_at", "uploaded_at", "status", "warnings", "flags",
        "errors", "parsed", "raw_text",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DexRead]:
        return super().get_queryset(request).select_related("device")

    @admin.display(description="sales")
    def sales_count(self, obj: DexRead) -> int:
        return obj.sales.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reads arrive through "Upload DEX", which runs the ingestion rules

    def has_change_permission(self, request: HttpRequest, obj: DexRead | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DexRead | None = None) -> bool:
        return False  # a read is the evidence behind its sales

    def get_urls(self) -> list[URLPattern]:
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="fleet_dexread_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        require_ingest(request)
        reports: list[dict[str, Any]] = []
        form = DexUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            for upload in form.cleaned_data["dex_files"]:
                if upload.size > max_dex_bytes():
                    reports.append({"file": upload.name, "status": "rejected", "errors": [{"message": f"larger than {max_dex_bytes()} bytes"}]})
                    continue
                reports.append(dex_read_ingest(data=upload.read(), file_name=upload.name).as_dict())
            form = DexUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload DEX reads",
            "opts": self.model._meta,
            "form": form,
            "reports": reports,
            "reports_json": json.dumps(reports, indent=2),
        }
        return render(request, "admin/fleet/upload.html", context)


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    change_list_template = "admin/fleet/sale/change_list.html"
    list_display = ["external_id", "sold_at", "device", "product", "quantity", "amount", "transactions", "source"]
    list_filter = ["source", "payment_method", "sold_at"]
    search_fields = ["external_id", "device__asset", "product__sku", "customer__external_ref"]
    date_hierarchy = "sold_at"
    list_select_related = ["device", "product"]
    raw_id_fields = ["device", "product", "customer", "dex_read"]
    show_full_result_count = False  # counting millions of sales on every page view is not worth it

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sales arrive through imports, DEX reads and the API, with their rules

    def has_change_permission(self, request: HttpRequest, obj: Sale | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Sale | None = None) -> bool:
        return False  # view only: deleting sales would silently change every figure built on them
