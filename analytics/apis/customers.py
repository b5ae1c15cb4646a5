"""Customer analytics endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import ApiParamsSerializer


class CustomersApi(ReportApi):
    """Monthly first-time vs repeat cohorts, RFM segments, lifetime value and churn risk."""

    report_name = "customers"

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: REPORTS["customers"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
