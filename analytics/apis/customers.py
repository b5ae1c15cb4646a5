"""Customer analytics endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.customers import customer_analytics
from analytics.serializers import ApiParamsSerializer, CustomersSerializer


class CustomersApi(AnalyticsApi):
    """Monthly first-time vs repeat cohorts, RFM segments, lifetime value and churn risk."""

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: CustomersSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, ApiParamsSerializer)
        return Response(present(customer_analytics(period=params.period, filters=params.filters, limit=params.limit)))
