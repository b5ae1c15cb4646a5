"""The base class of every CVD API view."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework.views import APIView

from chains.permissions import CapabilityPermission


class CapabilityAPIView(APIView):
    """Subclasses declare `required_capabilities`, e.g. {"GET": "analytics.read"}."""

    permission_classes = [CapabilityPermission]
    required_capabilities: Mapping[str, str] = {}
