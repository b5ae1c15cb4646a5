"""Chain admin of import jobs: upload a file, preview it, confirm its import.

A file import (sales, bookings, funnel events: whatever kinds the apps registered, ingest.jobs) is
previewed first: the upload is kept on an ImportJob row, dry-run, and shown with its rows, created,
duplicates and errors; "Confirm import" then imports that stored file, all or nothing, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from chains.admin_site import chain_sections
from chains.capabilities import FLEET_INGEST
from ingest.jobs import (
    ImportKind,
    import_job_confirm,
    import_job_preview_create,
    import_job_preview_queue,
    import_job_preview_run,
    import_job_progress,
    import_kind,
    import_kinds,
)
from ingest.models import ImportJob


def sync_import_limit() -> int:
    """Uploads up to this size are imported while the admin waits; larger ones become an ImportJob."""
    return int(getattr(settings, "CVD_ADMIN_SYNC_IMPORT_BYTES", 2 * 1024 * 1024))


def require_ingest(request: HttpRequest) -> None:
    if not request.user.has_perm(FLEET_INGEST):
        raise PermissionDenied("Uploading needs the fleet.ingest capability.")


@dataclass(frozen=True)
class FileColumn:
    name: str
    required: bool
    meaning: str


def file_columns(kind: str) -> list[FileColumn]:
    """The header a file of this kind takes, in the documented order (names and "required" from its spec)."""
    registered = import_kind(kind)
    spec = registered.spec()
    return [FileColumn(name, name in spec.required_columns, registered.meanings.get(name, "")) for name in spec.columns]


def chain_import_kinds(request: HttpRequest) -> list[ImportKind]:
    """The files this chain imports: those of the sections it runs (sales need devices, venue files resources)."""
    sections = chain_sections(request)
    return [kind for kind in import_kinds() if not kind.section or getattr(sections, kind.section, True)]


class FileImportForm(forms.Form):
    kind = forms.ChoiceField(choices=())
    file = forms.FileField(help_text="CSV (UTF-8) or XLSX with the header below. Nothing is imported before you confirm the preview.")

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        if kinds and self.initial.get("kind") not in {kind for kind, _ in kinds}:
            self.initial["kind"] = kinds[0][0]


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


_OPEN = (ImportJob.Status.PREVIEWING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


def _summary(report: dict[str, Any]) -> str:
    if not report:
        return "—"
    return (
        f"{report.get('rows', 0)} rows, {report.get('created', 0)} created, {report.get('duplicates', 0)} duplicates, "
        f"{report.get('errors_total', len(report.get('errors') or []))} errors"
    )


def _either(names: Iterable[str]) -> str:
    """The names as one phrase: "sales, bookings or funnel events"."""
    listed = list(names)
    return " or ".join([", ".join(listed[:-1]), listed[-1]]) if len(listed) > 1 else "".join(listed)


def kind_label(kind: str) -> str:
    """The registered label of a kind ("Funnel events"); a kind no app registers any more shows as stored."""
    return next((registered.label for registered in import_kinds() if registered.kind == kind), kind)


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[ImportJob]) -> list[tuple[str, str]]:
        return [(kind.kind, kind.label) for kind in import_kinds()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> QuerySet[ImportJob]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    change_form_template = "admin/ingest/importjob/change_form.html"
    list_display = [
        "id", "kind_display", "file_name", "status", "progress_display", "requested_by", "created_at", "previewed_at", "started_at",
        "finished_at", "duration",
    ]
    list_filter = [KindFilter, "status"]
    fields = (
        "kind_display", "file_name", "status", "progress_display", "preview_summary", "summary", "errors_table", "requested_by",
        "created_at", "previewed_at", "started_at", "finished_at", "duration",
    )
    readonly_fields = fields

    @admin.display(description="kind", ordering="kind")
    def kind_display(self, obj: ImportJob) -> str:
        return kind_label(obj.kind)

    @admin.display(description="progress")
    def progress_display(self, obj: ImportJob) -> str:
        if obj.status == ImportJob.Status.PREVIEWED:
            return "previewed: waiting for “Confirm import”"
        if obj.status == ImportJob.Status.REJECTED and obj.started_at is None:
            return "rejected by the preview: nothing imported"
        live = import_job_progress(job=obj)
        return f"{live.get('phase') or obj.status} {round(100 * float(live.get('progress') or 0))} %"

    @admin.display(description="import took")
    def duration(self, obj: ImportJob) -> str:
        if obj.started_at is None or obj.finished_at is None:
            return "—"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    @admin.display(description="preview")
    def preview_summary(self, obj: ImportJob) -> str:
        return _summary({key: value for key, value in (obj.preview or {}).items() if key != "sha256"})

    @admin.display(description="report")
    def summary(self, obj: ImportJob) -> str:
        return _summary(obj.report or {})

    @admin.display(description="errors")
    def errors_table(self, obj: ImportJob) -> str:
        return _report_table(obj.report or obj.preview or {})

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        # Finished jobs and unconfirmed previews may be cleared away (with their stored file); running ones not.
        return super().has_delete_permission(request, obj) and (obj is None or obj.status not in _OPEN)

    def delete_model(self, request: HttpRequest, obj: ImportJob) -> None:
        obj.upload.delete(save=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        queryset = queryset.exclude(status__in=_OPEN)
        for job in queryset.exclude(upload=""):
            job.upload.delete(save=False)
        super().delete_queryset(request, queryset)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:job_id>/confirm/", self.admin_site.admin_view(self.confirm_view), name="ingest_importjob_confirm"),
            path("template/<str:kind>.csv", self.admin_site.admin_view(self.template_view), name="ingest_importjob_template"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        job = self.get_object(request, object_id)
        context: dict[str, Any] = {**(extra_context or {})}
        if job is not None:
            preview = {key: value for key, value in (job.preview or {}).items() if key != "sha256"}
            context.update(
                preview=preview if job.previewed_at else None,
                preview_errors_html=_report_table(preview) if preview.get("errors") else "",
                can_confirm=(
                    job.status == ImportJob.Status.PREVIEWED
                    and job.requested_by == request.user.get_username()[:150]
                    and request.user.has_perm(FLEET_INGEST)
                ),
                refresh=job.status in _OPEN,
            )
        return super().change_view(request, object_id, form_url, context)

    def confirm_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """Import the previewed file; only its uploader can, and only once."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require_ingest(request)
        job = get_object_or_404(ImportJob, pk=job_id)
        if job.requested_by != request.user.get_username()[:150]:
            raise PermissionDenied("Only the user who uploaded the file can confirm its import.")
        run_now = job.upload.size <= sync_import_limit() if job.upload else True
        try:
            confirmed = import_job_confirm(job_id=job.pk, username=request.user.get_username(), run_now=run_now)
        except Exception as exc:  # the job row says "failed" with the reason; the page must still answer
            messages.error(request, f"The import of {job.file_name} failed: {exc}")
            return HttpResponseRedirect(reverse("admin:ingest_importjob_change", args=[job.pk]))
        if not confirmed:
            messages.warning(request, f"{job.file_name} was already confirmed or cannot be imported; nothing more was imported.")
        elif run_now:
            job.refresh_from_db()
            level = messages.SUCCESS if job.status == ImportJob.Status.IMPORTED else messages.ERROR
            messages.add_message(request, level, f"Import of {job.file_name}: {job.status} ({_summary(job.report)}).")
        else:
            messages.info(request, f"{job.file_name} is being imported in the background; this page shows its progress.")
        return HttpResponseRedirect(reverse("admin:ingest_importjob_change", args=[job.pk]))

    def template_view(self, request: HttpRequest, kind: str) -> HttpResponse:
        """An empty file with the expected header, to fill in."""
        if kind not in {registered.kind for registered in import_kinds()}:
            raise Http404("No such file kind.")
        response = HttpResponse(",".join(column.name for column in file_columns(kind)) + "\r\n", content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
        return response

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Upload a file for its preview: small files are dry-run at once, large ones by a Celery task."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        require_ingest(request)
        registered = chain_import_kinds(request)
        kinds = [(kind.kind, kind.label) for kind in registered]
        form = FileImportForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind")}, kinds=kinds)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > int(settings.CVD_MAX_UPLOAD_BYTES):
                messages.error(request, f"The file is larger than the limit of {settings.CVD_MAX_UPLOAD_BYTES} bytes.")
            else:
                job = import_job_preview_create(
                    kind=form.cleaned_data["kind"], upload=upload, requested_by=request.user.get_username()
                )
                if upload.size > sync_import_limit():
                    import_job_preview_queue(job=job)
                    messages.info(request, f"{upload.name} is being checked in the background; its preview appears here.")
                else:
                    try:
                        import_job_preview_run(job_id=job.pk)
                    except Exception as exc:
                        messages.error(request, f"The preview of {upload.name} failed: {exc}")
                return HttpResponseRedirect(reverse("admin:ingest_importjob_change", args=[job.pk]))
        selected = form["kind"].value() or (kinds[0][0] if kinds else "")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import {_either(kind.label.lower() for kind in import_kinds())}",
            "opts": self.model._meta,
            "form": form,
            "file_kinds": [
                {"kind": kind.kind, "label": kind.label, "columns": file_columns(kind.kind), "example": kind.example,
                 "open": kind.kind == selected, "template_url": reverse("admin:ingest_importjob_template", args=[kind.kind])}
                for kind in registered
            ],
        }
        return render(request, "admin/ingest/importjob/import.html", context)
