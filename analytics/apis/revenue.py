"""Revenue grouped by a dimension."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.revenue import revenue_by
from analytics.serializers import RevenueParamsSerializer, RevenueSerializer


class RevenueApi(AnalyticsApi):
    """Revenue, units and transactions grouped by location, region, device type, category, product, resource or resource type."""

    @extend_schema(parameters=[RevenueParamsSerializer], responses={200: RevenueSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, values = self.validated(request, RevenueParamsSerializer)
        result = revenue_by(period=params.period, filters=params.filters, group_by=values["group_by"], limit=params.limit)
        return Response(present(result))
