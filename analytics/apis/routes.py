"""Route-run efficiency endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import RouteParamsSerializer


class RoutesApi(ReportApi):
    """Per route run: stops planned and done, minutes per stop, completion, cash, serviced revenue; driver consistency."""

    report_name = "routes"

    @extend_schema(parameters=[RouteParamsSerializer], responses={200: REPORTS["routes"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
