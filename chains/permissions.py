"""The one permission class every API view uses: capabilities declared per HTTP method, as data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from chains.capabilities import AUTHENTICATED

if TYPE_CHECKING:
    from rest_framework.views import APIView

_SAME_AS = {"HEAD": "GET", "OPTIONS": "GET"}


def required_capability(view: Any, method: str) -> str | None:
    declared: Mapping[str, str] | None = getattr(view, "required_capabilities", None)
    if not declared:
        return None
    return declared.get(method) or declared.get(_SAME_AS.get(method, ""))


def has_capability(user: Any, capability: str) -> bool:
    """`user.has_perm(capability)` for an active user, as the model backend decides it (a superuser has every
    permission; others have it directly or through a group), in one query instead of loading all of them."""
    if user.is_superuser:
        return True
    from django.contrib.auth.models import Permission

    app_label, codename = capability.split(".", 1)
    return Permission.objects.filter(
        Q(user=user) | Q(group__user=user), content_type__app_label=app_label, codename=codename
    ).exists()


class CapabilityPermission(BasePermission):
    """Allow a request only when the view declares a capability for its method and the user has it.

    A view that declares nothing is closed to everybody: forgetting the declaration fails safe.
    """

    message = "You do not have the capability this endpoint needs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        capability = required_capability(view, request.method or "GET")
        if capability is None:
            return False
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if capability == AUTHENTICATED:
            return True
        self.message = f"This endpoint needs the capability {capability!r}."
        return has_capability(user, capability)

