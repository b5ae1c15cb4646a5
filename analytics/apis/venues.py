"""Venue endpoints: resource utilization and no-shows, and the booking funnel."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import ApiParamsSerializer


class UtilizationApi(ReportApi):
    """Per-resource occupancy and no-show rate, chain totals and the daily no-show trend."""

    report_name = "utilization"

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: REPORTS["utilization"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)


class ConversionApi(ReportApi):
    """The booking funnel visit → wizard_start → submit → paid with unique sessions, conversion and drop-off."""

    report_name = "conversion"

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: REPORTS["conversion"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
