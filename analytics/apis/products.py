"""Product performance endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import ProductSalesParamsSerializer


class ProductSalesApi(ReportApi):
    """Per-product metrics, categories, ABC classes, slow and top movers, affinity pairs and revenue by slot."""

    report_name = "product-sales"

    @extend_schema(parameters=[ProductSalesParamsSerializer], responses={200: REPORTS["product-sales"].response, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return self.answer(request)
