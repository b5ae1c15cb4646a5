"""Inventory estimate and pick-list endpoint."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import InventoryParamsSerializer


class InventoryApi(ReportApi):
    """Estimated stock per slot, days until empty, out-of-stock risk; with ?route= the pick list for its next run.

    Stock is "now": start and end are accepted like everywhere but do not change the estimate.
    """

    report_name = "inventory"

    @extend_schema(
        parameters=[InventoryParamsSerializer],
        responses={200: REPORTS["inventory"].response, **ERROR_RESPONSES, 404: OpenApiResponse(description="no such route in this chain")},
    )
    def get(self, request: Request) -> Response:
        return self.answer(request)
