"""The base class of every CVD API view."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.views import APIView

from chains.permissions import CapabilityPermission


class CapabilityAPIView(APIView):
    """Subclasses declare `required_capabilities`, e.g. {"GET": "analytics.read"}.

    Throttles run before the permission check (DRF runs them after it), so anonymous requests and
    requests with a wrong token are counted against their address too instead of always costing a 401.
    """

    permission_classes = [CapabilityPermission]
    required_capabilities: Mapping[str, str] = {}

    def perform_authentication(self, request: Request) -> None:
        try:
            request.user  # noqa: B018 (authenticates)
        except AuthenticationFailed:
            self.check_throttles(request)  # the user is anonymous now: the address's allowance pays
            raise

    def check_permissions(self, request: Request) -> None:
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        if getattr(request, "_cvd_throttled", False):
            return  # once per request, whichever of the paths above came first
        request._cvd_throttled = True  # type: ignore[attr-defined]
        super().check_throttles(request)
