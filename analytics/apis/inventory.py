"""Inventory estimate and pick-list endpoint."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.apis._base import ERROR_RESPONSES, AnalyticsApi, present
from analytics.selectors.inventory import inventory
from analytics.serializers import InventoryParamsSerializer, InventorySerializer
from routes.models import Route


class InventoryApi(AnalyticsApi):
    """Estimated stock per slot, days until empty, out-of-stock risk; with ?route= the pick list for its next run.

    Stock is "now": start and end are accepted like everywhere but do not change the estimate.
    """

    @extend_schema(
        parameters=[InventoryParamsSerializer],
        responses={200: InventorySerializer, **ERROR_RESPONSES, 404: OpenApiResponse(description="no such route in this chain")},
    )
    def get(self, request: Request) -> Response:
        params, values = self.validated(request, InventoryParamsSerializer)
        route = None
        if values.get("route") is not None:
            route = Route.objects.filter(id=values["route"]).first()
            if route is None:
                raise Http404("No such route in this chain.")
        return Response(present(inventory(filters=params.filters, route=route, limit=params.limit)))
