"""API views of the chains app: who am I, and my API token."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from chains.capabilities import AUTHENTICATED, user_capabilities
from chains.tenancy import current_tenant
from chains.tokens import token_expires_at, token_issue, token_of, token_revoke
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


class MyTokenApi(CapabilityAPIView):
    """The caller's own API token. GET: whether there is one and when it expires; POST: make a new one
    (replacing the old; the key is in this answer only, and only a password sign-in — a session — may make
    one, so a leaked key cannot renew itself); DELETE: revoke it."""

    required_capabilities = {"GET": AUTHENTICATED, "POST": AUTHENTICATED, "DELETE": AUTHENTICATED}

    @extend_schema(
        responses=inline_serializer(
            "MyToken", {"exists": serializers.BooleanField(), "created": serializers.DateTimeField(allow_null=True),
                        "expires_at": serializers.DateTimeField(allow_null=True)}
        )
    )
    def get(self, request: Request) -> Response:
        token = token_of(request.user)
        return Response(
            {
                "exists": token is not None,
                "created": token.created if token else None,
                "expires_at": token_expires_at(token) if token else None,
            }
        )

    @extend_schema(
        request=None,
        responses={201: inline_serializer("NewToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()})},
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            return Response(
                {"detail": "Sign in with your password (a browser session) to make a token; a token cannot make another."},
                status=status.HTTP_403_FORBIDDEN,
            )
        issued = token_issue(user=request.user)
        return Response({"token": issued.key, "expires_at": issued.expires_at}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
