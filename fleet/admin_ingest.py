"""Chain admin for ingestion: DEX reads (with "Upload DEX"), sales (read-only), and import jobs with progress.

Registered from FleetConfig.ready(), apart from fleet/admin.py (the catalog admin), so that the two can
change independently.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from chains.capabilities import FLEET_INGEST
from fleet.models import DexRead, ImportJob, Sale
from fleet.services.dex import dex_read_ingest, max_dex_bytes
from fleet.services.jobs import import_job_create, import_job_progress, importer_for


def sync_import_limit() -> int:
    """Uploads up to this size are imported while the admin waits; larger ones become an ImportJob."""
    return int(getattr(settings, "CVD_ADMIN_SYNC_IMPORT_BYTES", 2 * 1024 * 1024))


def _require_ingest(request: HttpRequest) -> None:
    if not request.user.has_perm(FLEET_INGEST):
        raise PermissionDenied("Uploading needs the fleet.ingest capability.")


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


class FileImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices, initial=ImportJob.Kind.SALES)
    file = forms.FileField(help_text="CSV (UTF-8) or XLSX with the documented header.")


def _report_table(report: dict[str, Any]) -> str:
    errors = report.get("errors") or []
    if not errors:
        return "—"
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((e.get("row", ""), e.get("column", ""), e.get("message", "")) for e in errors[:500]),
    )
    more = len(errors) - 500 if len(errors) > 500 else 0
    total = report.get("errors_total", len(errors))
    return format_html(
        "<table><thead><tr><th>row</th><th>column</th><th>message</th></tr></thead><tbody>{}</tbody></table>{}",
        rows, f"… {more} more listed in the JSON, {total} in all" if more else "",
    )


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

    def get_urls(self) -> list[URLPattern]:
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="fleet_dexread_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        _require_ingest(request)
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


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    change_form_template = "admin/fleet/importjob/change_form.html"
    list_display = ["id", "kind", "file_name", "status", "progress_display", "created_at", "finished_at", "requested_by"]
    list_filter = ["kind", "status"]
    fields = (
        "kind", "file_name", "status", "progress_display", "summary", "errors_table", "requested_by", "created_at",
        "started_at", "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="progress")
    def progress_display(self, obj: ImportJob) -> str:
        live = import_job_progress(job=obj)
        return f"{live.get('phase') or obj.status} {round(100 * float(live.get('progress') or 0))} %"

    @admin.display(description="report")
    def summary(self, obj: ImportJob) -> str:
        report = obj.report or {}
        if not report:
            return "—"
        return (
            f"{report.get('rows', 0)} rows, {report.get('created', 0)} created, {report.get('duplicates', 0)} duplicates, "
            f"{report.get('errors_total', len(report.get('errors') or []))} errors"
        )

    @admin.display(description="errors")
    def errors_table(self, obj: ImportJob) -> str:
        return _report_table(obj.report or {})

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The import form: small files are imported at once, large ones run as a Celery job."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        _require_ingest(request)
        report: dict[str, Any] | None = None
        form = FileImportForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind")})
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            kind = form.cleaned_data["kind"]
            if upload.size > int(settings.CVD_MAX_UPLOAD_BYTES):
                messages.error(request, f"The file is larger than the limit of {settings.CVD_MAX_UPLOAD_BYTES} bytes.")
            elif upload.size > sync_import_limit():
                job = import_job_create(kind=kind, upload=upload, requested_by=request.user.get_username())
                messages.info(request, f"{upload.name} is being imported in the background; this page shows its progress.")
                return HttpResponseRedirect(reverse("admin:fleet_importjob_change", args=[job.pk]))
            else:
                result = importer_for(kind)(data=upload.read(), file_name=upload.name)
                report_dict = result.as_dict()
                ImportJob.objects.create(
                    kind=kind, file_name=upload.name[:255], status=ImportJob.Status.REJECTED if result.rejected else ImportJob.Status.IMPORTED,
                    phase="done", progress=1.0, report=report_dict, requested_by=request.user.get_username()[:150],
                )
                report = report_dict
        context = {
            **self.admin_site.each_context(request),
            "title": "Import sales, bookings or funnel events",
            "opts": self.model._meta,
            "form": form,
            "reports": [report] if report else [],
            "reports_json": json.dumps([report], indent=2) if report else "",
            "errors_html": _report_table(report) if report else "",
        }
        return render(request, "admin/fleet/upload.html", context)
