"""Venue endpoints: resource utilization and no-shows, and the booking funnel."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.conversion import conversion
from analytics.selectors.venues import utilization
from analytics.serializers import ApiParamsSerializer, ConversionSerializer, UtilizationSerializer


class UtilizationApi(AnalyticsApi):
    """Per-resource occupancy and no-show rate, chain totals and the daily no-show trend."""

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: UtilizationSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, ApiParamsSerializer)
        return Response(present(utilization(period=params.period, filters=params.filters, limit=params.limit)))


class ConversionApi(AnalyticsApi):
    """The booking funnel visit → wizard_start → submit → paid with unique sessions, conversion and drop-off."""

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: ConversionSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, ApiParamsSerializer)
        return Response(present(conversion(period=params.period, filters=params.filters)))
