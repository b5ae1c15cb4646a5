"""Every API URL of a chain's domain declares a capability per method and is enforced by CapabilityPermission.

The walk covers whatever `cvd.urls` holds when the test runs, so a new endpoint is checked the
moment it is routed: anonymous → 401, viewer → 200 on reads and 403 where a capability it lacks is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from chains.capabilities import ALERTS_MANAGE, ANALYTICS_EXPORT, ANALYTICS_READ, AUTHENTICATED, FLEET_INGEST
from chains.permissions import CapabilityPermission
from tests.conftest import ChainFixture

# The schema and its docs page are public on purpose (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]):
# they describe the API and return no chain data.
PUBLIC_VIEWS = {"SpectacularAPIView", "SpectacularSwaggerView", "SpectacularSwaggerSplitView", "SpectacularRedocView"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
VIEWER_HAS = {ANALYTICS_READ, AUTHENTICATED}
KNOWN = {ANALYTICS_READ, ANALYTICS_EXPORT, FLEET_INGEST, ALERTS_MANAGE, AUTHENTICATED}
# Allowed to the viewer by capability, but refused (403) with a token: only a password session makes a token.
SESSION_ONLY = {("api/me/token/", "POST")}


@dataclass(frozen=True)
class Endpoint:
    route: str
    view: type[APIView]

    @property
    def url(self) -> str:
        # Path converters get a plausible value; permission checks run before any lookup.
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", "1", self.route)

    @property
    def has_parameters(self) -> bool:
        return "<" in self.route

    def methods(self) -> list[str]:
        return [m.upper() for m in HTTP_METHODS if hasattr(self.view, m)]


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, object]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_endpoints() -> list[Endpoint]:
    found = []
    for route, callback in _walk(get_resolver("cvd.urls").url_patterns):
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if isinstance(view, type) and issubclass(view, APIView) and view.__name__ not in PUBLIC_VIEWS:
            found.append(Endpoint(route=route.replace("^", "").replace("$", ""), view=view))
    return found


ENDPOINTS = api_endpoints()
IDS = [e.route for e in ENDPOINTS]


def test_every_api_url_is_a_capability_checked_view() -> None:
    """A plain Django view under /api/ would bypass CapabilityPermission: none may exist."""
    for route, callback in _walk(get_resolver("cvd.urls").url_patterns):
        if not route.replace("^", "").startswith("api/"):
            continue
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        assert isinstance(view, type) and issubclass(view, APIView), f"{route} is not a DRF view"


def test_the_walk_sees_the_analytics_api() -> None:
    routes = set(IDS)
    for name in ("asset-sales", "product-sales", "revenue", "locations", "heatmap", "utilization", "conversion",
                 "customers", "routes", "trends", "anomalies", "inventory"):
        assert f"api/analytics/{name}/" in routes
    assert "api/me/" in routes


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_every_method_declares_a_known_capability(endpoint: Endpoint) -> None:
    view = endpoint.view
    assert any(issubclass(cls, CapabilityPermission) for cls in view.permission_classes), (
        f"{view.__name__} is not protected by CapabilityPermission"
    )
    declared = getattr(view, "required_capabilities", None) or {}
    for method in endpoint.methods():
        assert declared.get(method) in KNOWN, f"{view.__name__} serves {method} without a declared capability"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_anonymous_is_401_everywhere(chain_a: ChainFixture, endpoint: Endpoint) -> None:
    client = chain_a.client()
    for method in endpoint.methods():
        response = getattr(client, method.lower())(endpoint.url)
        assert response.status_code == 401, f"{method} {endpoint.url} → {response.status_code}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_viewer_reads_and_is_refused_the_rest(chain_a: ChainFixture, endpoint: Endpoint) -> None:
    client = chain_a.client("viewer")
    declared = endpoint.view.required_capabilities
    for method in endpoint.methods():
        if method == "GET":
            response = client.get(endpoint.url)
        else:
            response = getattr(client, method.lower())(endpoint.url, {}, content_type="application/json")
        if declared[method] in VIEWER_HAS:
            allowed = {200, 404} if endpoint.has_parameters else ({200} if method == "GET" else {200, 201, 204, 400})
            if (endpoint.route, method) in SESSION_ONLY:
                allowed = {403}
            assert response.status_code in allowed, f"{method} {endpoint.url} → {response.status_code}"
        else:
            assert response.status_code == 403, f"{method} {endpoint.url} → {response.status_code}"


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if FLEET_INGEST in e.view.required_capabilities.values()],
                         ids=lambda e: e.route)
def test_ingest_needs_fleet_ingest(chain_a: ChainFixture, endpoint: Endpoint) -> None:
    for role in ("viewer", "manager"):
        for method, capability in endpoint.view.required_capabilities.items():
            if capability == FLEET_INGEST and method in endpoint.methods():
                response = getattr(chain_a.client(role), method.lower())(endpoint.url, {}, content_type="application/json")
                assert response.status_code == 403, f"{role} {method} {endpoint.url} → {response.status_code}"


def test_schema_and_docs_are_public(chain_a: ChainFixture) -> None:
    client = chain_a.client()
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if ALERTS_MANAGE in e.view.required_capabilities.values()],
                         ids=lambda e: e.route)
def test_alert_writes_need_alerts_manage(chain_a: ChainFixture, endpoint: Endpoint) -> None:
    for method, capability in endpoint.view.required_capabilities.items():
        if capability == ALERTS_MANAGE and method in endpoint.methods():
            response = getattr(chain_a.client("viewer"), method.lower())(endpoint.url, {}, content_type="application/json")
            assert response.status_code == 403, f"viewer {method} {endpoint.url} → {response.status_code}"
            response = getattr(chain_a.client("manager"), method.lower())(endpoint.url, {}, content_type="application/json")
            assert response.status_code != 403, f"manager {method} {endpoint.url} → {response.status_code}"
