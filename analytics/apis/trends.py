"""Trend, seasonality and forecast endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import TrendParamsSerializer


class TrendsApi(ReportApi):
    """Daily series with its linear trend, weekly seasonality, 30-day forecast with an interval and back-tested error."""

    report_name = "trends"

    @extend_schema(parameters=[TrendParamsSerializer], responses={200: REPORTS["trends"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
