"""Asset (device) sales endpoint: GET with query parameters, or POST with the same filters in a JSON body."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, ReportApi
from analytics.reports import REPORTS
from analytics.serializers import AssetSalesParamsSerializer
from chains.capabilities import ANALYTICS_READ


class AssetSalesApi(ReportApi):
    """Per-device sales, top products, performance score, fleet rank and percentile; fleet summary and quartiles.

    Cost: the best sellers are the one part no rollup carries; they are summed from the sales themselves. The
    part before the rollup marks is kept per range and filter set and catches up by the last hour's sales after
    each rollup job, so only the first request for a range or filter set nobody asked for since reads the
    whole range (about a second for 30 days at 10M sales). `limit` reads only the page's best sellers;
    `top_products=false` skips them.
    """

    report_name = "asset-sales"

    # POST only carries long filter lists in a body; it reads, so it needs the read capability.
    required_capabilities = {"GET": ANALYTICS_READ, "POST": ANALYTICS_READ}

    @extend_schema(
        operation_id="analytics_asset_sales",
        parameters=[AssetSalesParamsSerializer],
        responses={200: REPORTS["asset-sales"].response, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return self.answer(request)

    @extend_schema(
        operation_id="analytics_asset_sales_post",
        request=AssetSalesParamsSerializer,
        responses={200: REPORTS["asset-sales"].response, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        return self.answer(request, from_body=True)
