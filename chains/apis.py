"""API views of the chains app: who am I."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from chains.capabilities import AUTHENTICATED, user_capabilities
from chains.tenancy import current_tenant
from chains.views import CapabilityAPIView


class MeApi(CapabilityAPIView):
    """The caller: username, chain, roles and capabilities (any signed-in user of the chain)."""

    required_capabilities = {"GET": AUTHENTICATED}

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "email": serializers.CharField(),
                "chain": inline_serializer(
                    "MeChain",
                    {
                        "schema": serializers.CharField(),
                        "name": serializers.CharField(),
                        "time_zone": serializers.CharField(),
                        "currency": serializers.CharField(),
                    },
                ),
                "roles": serializers.ListField(child=serializers.CharField()),
                "capabilities": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        chain = current_tenant()
        user = request.user
        return Response(
            {
                "username": user.get_username(),
                "email": getattr(user, "email", ""),
                "chain": {
                    "schema": chain.schema_name,
                    "name": chain.name,
                    "time_zone": chain.time_zone,
                    "currency": chain.currency,
                },
                "roles": sorted(user.groups.values_list("name", flat=True)),  # type: ignore[union-attr]
                "capabilities": user_capabilities(user),
            }
        )
