"""Per-request time zone: on a chain's domain every page (the admin first) shows times in the chain's zone."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class ChainTimeZoneMiddleware:
    """Activate `connection.tenant.time_zone` for the request (after TenantMainMiddleware has set the tenant).

    The public schema (the platform admin) keeps UTC. Forms read naive input in the same zone, so a
    time typed into the admin means the chain's wall clock too. The API under /api/ is left alone: its
    instants carry their offset and scripts rely on their shape; its local dates follow the chain's
    zone through the query layer already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(connection, "tenant", None)
        on_chain = getattr(connection, "schema_name", "public") != "public" and not request.path_info.startswith("/api/")
        name = getattr(tenant, "time_zone", "") if on_chain else ""
        try:
            zone = ZoneInfo(name) if name else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
