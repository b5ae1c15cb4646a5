"""The chain of a request: found by its host (remembered for a few seconds per process), and its time zone, in
which every page (the admin first) shows times."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware


class ChainMiddleware(TenantMainMiddleware):
    """django-tenants' middleware, with each host's chain remembered for `CVD_TENANT_CACHE_SECONDS` (default 5)
    per process: a domain lookup and a `search_path` switch less on nearly every request. A changed or removed
    domain, or a chain's changed time zone or currency, reaches requests within those seconds; an unknown host
    is looked up every time (and is a 404)."""

    _remembered: dict[str, tuple[float, Any]] = {}
    _lock = threading.Lock()

    def get_tenant(self, domain_model: Any, hostname: str) -> Any:
        seconds = float(getattr(settings, "CVD_TENANT_CACHE_SECONDS", 5))
        now = time.monotonic()
        hit = self._remembered.get(hostname)
        if hit is not None and 0 <= now - hit[0] < seconds:
            return hit[1]
        tenant = super().get_tenant(domain_model, hostname)
        if seconds > 0:
            with self._lock:
                if len(self._remembered) > 10_000:  # hosts are chains' domains; anything more is noise
                    self._remembered.clear()
                self._remembered[hostname] = (now, tenant)
        return tenant


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
