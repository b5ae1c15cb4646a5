"""Locations and geography endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.locations import location_performance
from analytics.serializers import ApiParamsSerializer, LocationsSerializer


class LocationsApi(AnalyticsApi):
    """Per-location performance with coordinates for maps, plus region and city roll-ups."""

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: LocationsSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, ApiParamsSerializer)
        return Response(present(location_performance(period=params.period, filters=params.filters, limit=params.limit)))
