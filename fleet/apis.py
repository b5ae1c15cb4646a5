"""Ingestion API of the fleet app: DEX uploads and sales batches (telemetry push), capability fleet.ingest."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from chains.capabilities import FLEET_INGEST
from chains.views import CapabilityAPIView
from fleet.services.dex import dex_read_ingest, max_dex_bytes
from fleet.services.sales import SALES_KIND, sales_import, sales_push
from ingest.apis import (
    INGEST_RESPONSES,
    MULTIPART_OVERHEAD,
    BatchImportApi,
    FileUploadSerializer,
    declared_length,
    too_large,
)


class DexReadUploadApi(CapabilityAPIView):
    """POST one DEX/UCS file (multipart field `file`); answers with the DEX import report."""

    required_capabilities = {"POST": FLEET_INGEST}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": FileUploadSerializer}, responses=INGEST_RESPONSES)
    def post(self, request: Request) -> Response:
        limit = max_dex_bytes()
        # Refuse before reading the body when the client says it is too big.
        if declared_length(request) > limit + MULTIPART_OVERHEAD:
            return too_large(limit, "DEX file")
        serializer = FileUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > limit:
            return too_large(limit, "DEX file")
        report = dex_read_ingest(data=upload.read(), file_name=upload.name or "upload.dex")
        code: int
        if report.rejected:
            code = status.HTTP_400_BAD_REQUEST
        elif report.status == "duplicate":
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        return Response(report.as_dict(), status=code)


class SalesPushApi(BatchImportApi):
    """POST sales (interfaces.md sales format) as JSON: up to 10,000 rows, or one transaction (telemetry)."""

    key = "transaction_id"
    job_kind = SALES_KIND
    push = staticmethod(sales_push)
    file_import = staticmethod(sales_import)
