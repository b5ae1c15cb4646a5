"""Device revenue anomalies endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.anomalies import anomalies
from analytics.serializers import AnomaliesSerializer, ApiParamsSerializer


class AnomaliesApi(AnalyticsApi):
    """Device-days whose revenue is more than 2.5 standard deviations from the device's mean, with severity."""

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: AnomaliesSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, ApiParamsSerializer)
        return Response(present(anomalies(period=params.period, filters=params.filters, limit=params.limit)))
