"""Export API: POST /api/analytics/export/ (a file, or a job for long ranges) and the caller's export jobs."""

from __future__ import annotations

import tempfile
from pathlib import PurePosixPath
from typing import Any

from django.http import FileResponse, Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.query import current_chain
from chains.capabilities import ANALYTICS_EXPORT
from chains.views import CapabilityAPIView
from reporting import exports, services
from reporting.models import ExportJob

_ERRORS = {
    400: OpenApiResponse(description="bad parameters: an object of field name → list of messages"),
    401: OpenApiResponse(description="no or invalid credentials"),
    403: OpenApiResponse(description="the user lacks analytics.export"),
}


class ExportRequestSerializer(serializers.Serializer):
    """The export request; every other key is a parameter or filter of the report, validated as its API does."""

    report = serializers.ChoiceField(choices=exports.export_names())
    format = serializers.ChoiceField(choices=exports.FORMATS)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class ExportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    report = serializers.CharField()
    format = serializers.CharField()
    params = serializers.DictField()
    status = serializers.ChoiceField(choices=ExportJob.Status.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)
    rows = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
    finished = serializers.DateTimeField(allow_null=True)
    expires = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()
    download_url = serializers.CharField(allow_null=True)
    email = serializers.DictField(allow_null=True)


def job_json(job: ExportJob) -> dict[str, Any]:
    delivery = services.mail_delivery_of(job)
    return {
        "id": job.pk,
        "report": job.report,
        "format": job.format,
        "params": job.params,
        "status": job.status,
        "progress": job.progress,
        "rows": job.rows,
        "error": job.error,
        "created": job.created_at.isoformat(),
        "finished": job.finished_at.isoformat() if job.finished_at else None,
        "expires": job.expires_at.isoformat() if job.expires_at else None,
        "url": f"/api/reporting/exports/{job.pk}/",
        "download_url": f"/api/reporting/exports/{job.pk}/download/" if job.status == ExportJob.Status.DONE else None,
        # While SMTP is away the delivery says "retrying" with the last error; the job itself is done.
        "email": None if delivery is None else {
            "status": delivery.status, "attempts": delivery.attempts, "error": delivery.last_error,
            "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
        },
    }


class ExportApi(CapabilityAPIView):
    """Export a report of the registry, or the raw `sales` / `bookings` rows, as CSV, XLSX or PDF.

    Up to 92 days the file is the answer (CSV streamed); a longer range becomes a job (202) whose
    requester gets one e-mail when it is done.
    """

    required_capabilities = {"POST": ANALYTICS_EXPORT}

    @extend_schema(
        operation_id="analytics_export",
        request=ExportRequestSerializer,
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            202: ExportJobSerializer,
            **_ERRORS,
        },
    )
    def post(self, request: Request) -> Any:
        spec = exports.export_validate(request.data)
        if not spec.is_sync:
            job = services.export_job_create(requester=request.user, spec=spec)
            body = job_json(job)
            return Response({key: body[key] for key in ("id", "status", "progress", "url")}, status=202)
        chain = current_chain()
        filename = spec.filename(chain.schema_name)
        if spec.format == "csv":
            response: Any = StreamingHttpResponse(exports.export_csv_stream(spec, chain), content_type=spec.content_type)
        else:
            target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
            exports.export_write(spec, chain, target)
            target.seek(0)
            response = FileResponse(target, content_type=spec.content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _requester_id(request: Request) -> int:
    pk = request.user.pk
    if pk is None:  # never: the capability check lets only a signed-in user through
        raise Http404("No such export job.")
    return int(pk)


def _own_job(request: Request, job_id: int) -> ExportJob:
    job = ExportJob.objects.filter(pk=job_id, requester_id=_requester_id(request)).first()
    if job is None:
        raise Http404("No such export job.")  # also another user's: its existence is not revealed
    return job


class ExportJobListApi(CapabilityAPIView):
    """The caller's export jobs, newest first."""

    required_capabilities = {"GET": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_exports_list", responses={200: ExportJobSerializer(many=True), **_ERRORS})
    def get(self, request: Request) -> Response:
        jobs = ExportJob.objects.filter(requester_id=_requester_id(request)).order_by("-created_at", "-id")[:200]
        return Response([job_json(job) for job in jobs])


class ExportJobDetailApi(CapabilityAPIView):
    required_capabilities = {"GET": ANALYTICS_EXPORT}

    @extend_schema(
        operation_id="reporting_exports_retrieve",
        responses={200: ExportJobSerializer, 404: OpenApiResponse(description="no such job of the caller"), **_ERRORS},
    )
    def get(self, request: Request, job_id: int) -> Response:
        return Response(job_json(_own_job(request, job_id)))


class ExportJobDownloadApi(CapabilityAPIView):
    required_capabilities = {"GET": ANALYTICS_EXPORT}

    @extend_schema(
        operation_id="reporting_exports_download",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="no such job of the caller, not done yet, or expired"),
            **_ERRORS,
        },
    )
    def get(self, request: Request, job_id: int) -> Any:
        job = _own_job(request, job_id)
        if job.status == ExportJob.Status.EXPIRED:
            raise Http404("This export expired; its file was deleted after 7 days.")
        if job.status != ExportJob.Status.DONE or not job.file:
            raise Http404("This export has no file (yet).")
        # The stored name was made from the schema, the report and the dates only (ExportSpec.filename).
        filename = PurePosixPath(job.file.name or "").name
        response = FileResponse(job.file.open("rb"), content_type=exports.CONTENT_TYPES[job.format])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


__all__ = ["ExportApi", "ExportJobDetailApi", "ExportJobDownloadApi", "ExportJobListApi"]
