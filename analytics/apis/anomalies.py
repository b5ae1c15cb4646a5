"""Device revenue anomalies endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import ApiParamsSerializer


class AnomaliesApi(ReportApi):
    """Device-days whose revenue is more than 2.5 standard deviations from the device's mean, with severity."""

    report_name = "anomalies"

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: REPORTS["anomalies"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
