"""Trend, seasonality and forecast endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.trends import trends
from analytics.serializers import TrendParamsSerializer, TrendsSerializer


class TrendsApi(AnalyticsApi):
    """Daily series with its linear trend, weekly seasonality, 30-day forecast with an interval and back-tested error."""

    @extend_schema(parameters=[TrendParamsSerializer], responses={200: TrendsSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, values = self.validated(request, TrendParamsSerializer)
        return Response(present(trends(period=params.period, filters=params.filters, metric=values["metric"])))
