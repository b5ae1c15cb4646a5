"""Route-run efficiency endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.routes import route_efficiency
from analytics.serializers import RouteParamsSerializer, RoutesSerializer


class RoutesApi(AnalyticsApi):
    """Per route run: stops planned and done, minutes per stop, completion, cash, serviced revenue; driver consistency."""

    @extend_schema(parameters=[RouteParamsSerializer], responses={200: RoutesSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, values = self.validated(request, RouteParamsSerializer)
        result = route_efficiency(
            period=params.period, filters=params.filters, routes=tuple(values.get("route") or ()), limit=params.limit
        )
        return Response(present(result))
