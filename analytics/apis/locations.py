"""Locations and geography endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import ApiParamsSerializer


class LocationsApi(ReportApi):
    """Per-location performance with coordinates for maps, plus region and city roll-ups."""

    report_name = "locations"

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: REPORTS["locations"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
