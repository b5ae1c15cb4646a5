"""The weekday × hour heatmap."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import HeatmapParamsSerializer


class HeatmapApi(ReportApi):
    """All 168 cells of ISO weekday × local hour for revenue, units, transactions, bookings or utilization."""

    report_name = "heatmap"

    @extend_schema(parameters=[HeatmapParamsSerializer], responses={200: REPORTS["heatmap"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
