"""The import API's generic part: a JSON batch or a file, imported at once or as an import job (capability fleet.ingest).

Each importing app subclasses BatchImportApi with its kind's push and file import (fleet: sales;
bookings: bookings and funnel events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from chains.capabilities import FLEET_INGEST
from chains.parsers import StrictJSONParser
from chains.views import CapabilityAPIView
from ingest.import_report import ImportReport
from ingest.jobs import import_job_create

# A JSON batch holds at most this many rows; a larger file becomes an import job.
MAX_API_BATCH = 10_000
# Multipart framing around the file (boundaries, part headers) is small; this is generous.
MULTIPART_OVERHEAD = 64 * 1024


def too_large(limit: int, what: str = "upload") -> Response:
    return Response(
        {"detail": f"The {what} is larger than the limit of {limit} bytes."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )


def declared_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# 201: rows or sales created; 200: nothing new (duplicates); 400: rejected, with the report or field errors.
INGEST_RESPONSES = {code: OpenApiTypes.OBJECT for code in (200, 201, 202, 400, 401, 403, 413)}


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def report_response(report: ImportReport) -> Response:
    if report.rejected:
        return Response(report.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    return Response(report.as_dict(), status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


class BatchImportApi(CapabilityAPIView):
    """POST a JSON batch of rows in the file format (a list, {"rows": [...]}, or one object), or a file.

    The batch is all or nothing and idempotent on the external id, like a file. A file larger than
    CVD_API_SYNC_IMPORT_BYTES, or with more lines than a JSON batch may hold, is not imported inside the
    request: it becomes an import job (202 with the job's id and status; the admin shows its report).
    """

    required_capabilities = {"POST": FLEET_INGEST}
    parser_classes = [StrictJSONParser, MultiPartParser, FormParser]
    key: ClassVar[str] = ""
    job_kind: ClassVar[str] = ""
    json_body_field: ClassVar[str] = "rows"  # where StrictJSONParser reports a body that is not an object or list
    push: ClassVar[Callable[..., ImportReport]]
    file_import: ClassVar[Callable[..., ImportReport]]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=INGEST_RESPONSES)
    def post(self, request: Request) -> Response:
        media = (request.content_type or "").split(";")[0].strip()
        if media.startswith("multipart/") or media == "application/x-www-form-urlencoded":
            return self._file(request)
        if declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "batch")
        rows = self._rows(request.data)
        if isinstance(rows, Response):
            return rows
        if len(rows) > MAX_API_BATCH:
            return too_large_batch(len(rows))
        if not rows:
            return Response({"rows": ["The batch is empty."]}, status=status.HTTP_400_BAD_REQUEST)
        return report_response(type(self).push(rows=rows, label=f"api:{request.user.get_username()}"))

    def _rows(self, data: Any) -> Sequence[Any] | Response:
        if isinstance(data, list):
            return data
        if isinstance(data, dict) and isinstance(data.get("rows"), list) and self.key not in data:
            return list(data["rows"])
        if isinstance(data, dict) and self.key in data:
            return [data]  # a telemetry push of a single transaction
        return Response(
            {"rows": [f"Send a JSON list of objects, {{\"rows\": [...]}}, or one object with {self.key!r}."]},
            status=status.HTTP_400_BAD_REQUEST,
        )

    def _file(self, request: Request) -> Response:
        limit = int(settings.CVD_MAX_UPLOAD_BYTES)
        if declared_length(request) > limit + MULTIPART_OVERHEAD:
            return too_large(limit)
        serializer = FileUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > limit:
            return too_large(limit)
        if upload.size > int(settings.CVD_API_SYNC_IMPORT_BYTES) or _more_lines_than(upload, MAX_API_BATCH + 1):
            job = import_job_create(kind=self.job_kind, upload=upload, requested_by=f"api:{request.user.get_username()}")
            return Response(
                {"job": job.pk, "kind": job.kind, "file": job.file_name, "status": job.status,
                 "detail": "The file is imported in the background; its report is on the import job."},
                status=status.HTTP_202_ACCEPTED,
            )
        return report_response(type(self).file_import(data=upload.read(), file_name=upload.name or "upload.csv"))


def _more_lines_than(upload: Any, count: int) -> bool:
    """True when a text file has more than `count` lines (header + rows); XLSX is judged by its size alone."""
    seen = 0
    upload.seek(0)
    for number, chunk in enumerate(upload.chunks()):
        if number == 0 and chunk[:2] == b"PK":
            break  # a zip container (XLSX)
        seen += chunk.count(b"\n")
        if seen > count:
            break
    upload.seek(0)
    return seen > count


def too_large_batch(count: int) -> Response:
    message = f"A batch holds at most {MAX_API_BATCH} rows; this one has {count}. Split it or upload a file."
    return Response({"detail": message, "rows": [message]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
