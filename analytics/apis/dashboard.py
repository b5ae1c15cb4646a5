"""GET /api/analytics/dashboard/: the executive dashboard (KPIs, previous period, change, daily series, top lists)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import ApiParamsSerializer


class DashboardApi(ReportApi):
    """KPIs for start..end (inclusive local dates, default the last 30 days) and the period before, with filters."""

    report_name = "dashboard"

    @extend_schema(
        parameters=[ApiParamsSerializer],
        responses={200: REPORTS["dashboard"].response, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return self.answer(request)
