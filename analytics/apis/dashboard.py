"""GET /api/analytics/dashboard/: the executive dashboard (KPIs, previous period, change, daily series, top lists)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.dashboard import dashboard
from analytics.params import DEFAULT_LIMIT, AnalyticsParamsSerializer


class DashboardApi(AnalyticsApi):
    """KPIs for start..end (inclusive local dates, default the last 30 days) and the period before, with filters."""

    @extend_schema(
        parameters=[AnalyticsParamsSerializer],
        responses={200: OpenApiResponse(description="kpis, previous, change_pct, series, top_devices, top_products, top_locations"), **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, AnalyticsParamsSerializer)
        result = dashboard(period=params.period, filters=params.filters, limit=params.limit_or(DEFAULT_LIMIT))
        return Response(present(result))
