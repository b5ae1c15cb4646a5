"""Product performance endpoint."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.products import product_sales
from analytics.serializers import ApiParamsSerializer, ProductSalesSerializer


class ProductSalesApi(AnalyticsApi):
    """Per-product metrics, categories, ABC classes, slow and top movers, affinity pairs and revenue by slot."""

    @extend_schema(parameters=[ApiParamsSerializer], responses={200: ProductSalesSerializer, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        params, _ = self.validated(request, ApiParamsSerializer)
        return Response(present(product_sales(period=params.period, filters=params.filters, limit=params.limit)))
