"""Revenue grouped by a dimension."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import RevenueParamsSerializer


class RevenueApi(ReportApi):
    """Revenue, units and transactions grouped by location, region, device type, category, product, resource or resource type."""

    report_name = "revenue"

    @extend_schema(parameters=[RevenueParamsSerializer], responses={200: REPORTS["revenue"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
