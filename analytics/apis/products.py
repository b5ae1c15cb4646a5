"""Product performance endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.products import PRODUCT_SECTIONS, product_sales
from analytics.serializers import ProductSalesParamsSerializer, ProductSalesSerializer


class ProductSalesApi(AnalyticsApi):
    """Per-product metrics, categories, ABC classes, slow and top movers, affinity pairs and revenue by slot."""

    @extend_schema(parameters=[ProductSalesParamsSerializer], responses={200: ProductSalesSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, values = self.validated(request, ProductSalesParamsSerializer)
        sections = values.get("sections") or PRODUCT_SECTIONS
        return Response(present(product_sales(
            period=params.period, filters=params.filters, limit=params.limit, sections=sections
        )))
