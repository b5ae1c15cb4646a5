"""The weekday × hour heatmap."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.heatmap import heatmap
from analytics.serializers import HeatmapParamsSerializer, HeatmapSerializer


class HeatmapApi(AnalyticsApi):
    """All 168 cells of ISO weekday × local hour for revenue, units, transactions, bookings or utilization."""

    @extend_schema(parameters=[HeatmapParamsSerializer], responses={200: HeatmapSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, values = self.validated(request, HeatmapParamsSerializer)
        return Response(present(heatmap(period=params.period, filters=params.filters, metric=values["metric"])))
