"""Tenant walls: no analytics answer of chain A ever contains a row of chain B, whatever ids or names are passed.

Every analytics endpoint × every role × every filter set to an id (or name) that exists only in
chain B answers 404 or an empty result on chain A's domain; and a token of one chain is 401 on the other.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone
from django_tenants.utils import schema_context

from routes.models import Route, RouteStop, ServiceVisit
from tests.analytics import api_factories as f
from tests.conftest import ROLES, ChainFixture

# Markers that only chain B's rows carry; none may appear in any answer on chain A's domain.
MARKERS = ("BWALL", "bwall")
RANGE = {"start": "2026-03-01", "end": "2026-03-31"}
ENDPOINTS: dict[str, str | None] = {
    # endpoint → the list that must be empty when filtered by a foreign id (None: checked by markers only)
    "asset-sales": "devices",
    "product-sales": "products",
    "revenue": "groups",
    "locations": "locations",
    "heatmap": None,
    "utilization": "resources",
    "conversion": None,
    "customers": "rfm",
    "routes": "runs",
    "trends": None,
    "anomalies": "anomalies",
    "inventory": "slots",
    "dashboard": None,  # another engineer's view: held to "never a foreign row"
}


def _unused_in(model: type[Model], taken: set[int], make: Any) -> Model:
    """Create rows in chain B until one has an id chain A does not use, so the filter cannot match by accident."""
    for _ in range(100):
        row = make()
        if row.pk not in taken:
            return row
        row.delete()
    raise AssertionError(f"could not find a free {model.__name__} id")


@pytest.fixture
def two_chains(chain_a: ChainFixture, chain_b: ChainFixture) -> dict[str, Any]:
    """The same kind of data in both chains; chain B's rows are named with MARKERS."""
    from bookings.models import Resource
    from fleet.models import Category, Device, DeviceType, Location, Product

    with schema_context(chain_a.schema):
        here = f.location("A-LOC", name="Alpha", region="North")
        machine = f.device("A-DEV", here, device_type=f.device_type("Alpha type"))
        item = f.product("A-SKU", category=f.category("Alpha cat"))
        court = f.resource("A-RES", here, "court", {d: ("08:00", "20:00") for d in range(1, 8)})
        f.sale(machine, item, f.local("2026-03-10 12:00"), "10.00", slot="A1", buyer=f.customer("A-CUST"))
        f.booking(court, f.local("2026-03-11 12:00"), 60, "paid", "20.00")
        f.funnel("A-SESSION", "visit", f.local("2026-03-12 12:00"))
        taken = {
            name: set(model.objects.values_list("id", flat=True))
            for name, model in (("location", Location), ("device", Device), ("device_type", DeviceType),
                                ("category", Category), ("product", Product), ("resource", Resource), ("route", Route))
        }

    with schema_context(chain_b.schema):
        n = iter(range(1000))
        there = _unused_in(Location, taken["location"], lambda: f.location(f"BWALL-LOC-{next(n)}", name="bwall place", region="BWALL-REGION"))
        kind = _unused_in(DeviceType, taken["device_type"], lambda: f.device_type(f"BWALL type {next(n)}"))
        machine_b = _unused_in(Device, taken["device"], lambda: f.device(f"BWALL-DEV-{next(n)}", there, device_type=kind))
        cat = _unused_in(Category, taken["category"], lambda: f.category(f"BWALL cat {next(n)}"))
        item_b = _unused_in(Product, taken["product"], lambda: f.product(f"BWALL-SKU-{next(n)}", category=cat))
        court_b = _unused_in(Resource, taken["resource"], lambda: f.resource(f"BWALL-RES-{next(n)}", there, "bwall-type"))
        route_b = _unused_in(Route, taken["route"], lambda: Route.objects.create(code=f"BWALL-R-{next(n)}", name="bwall route"))
        RouteStop.objects.create(route=route_b, device=machine_b, position=1)
        slot_b = f.slot(machine_b, "B1", item_b, timezone.now() - timedelta(days=90))
        visit = ServiceVisit.objects.create(device=machine_b, visited_at=timezone.now() - timedelta(days=1))
        from routes.models import SlotFill

        SlotFill.objects.create(visit=visit, slot=slot_b, level_after=5)
        buyer = f.customer("BWALL-CUST")
        f.sale(machine_b, item_b, f.local("2026-03-10 12:00"), "999.00", slot="B1", buyer=buyer)
        f.booking(court_b, f.local("2026-03-11 12:00"), 60, "no_show", "888.00", buyer=buyer)
        f.funnel("BWALL-SESSION", "visit", f.local("2026-03-12 12:00"))
        ids = {
            "location": there.pk, "device": machine_b.pk, "device_type": kind.pk, "category": cat.pk,
            "resource": court_b.pk, "region": "BWALL-REGION", "resource_type": "bwall-type", "route": route_b.pk,
        }
    return ids


def _assert_clean(response: Any, where: str) -> None:
    text = response.content.decode()
    for marker in MARKERS:
        assert marker not in text, f"{where}: chain B's row leaked: {text[:300]}"


@pytest.mark.parametrize("role", ROLES)
def test_foreign_ids_answer_empty_or_404(chain_a: ChainFixture, two_chains: dict[str, Any], role: str) -> None:
    client = chain_a.client(role)
    for endpoint, list_key in ENDPOINTS.items():
        url = f"/api/analytics/{endpoint}/"
        unfiltered = client.get(url, RANGE)
        assert unfiltered.status_code == 200, (url, unfiltered.content)
        _assert_clean(unfiltered, f"{role} {url}")
        for name in ("location", "device", "device_type", "category", "resource", "region", "resource_type"):
            response = client.get(url, {**RANGE, name: two_chains[name]})
            where = f"{role} {url}?{name}={two_chains[name]}"
            assert response.status_code in (200, 404), (where, response.content)
            _assert_clean(response, where)
            if response.status_code == 200 and list_key is not None:
                assert response.json()[list_key] == [], where
        post = client.post("/api/analytics/asset-sales/", {**RANGE, "device": [two_chains["device"]]}, content_type="application/json")
        assert post.status_code == 200 and post.json()["devices"] == []
    foreign_route = client.get("/api/analytics/inventory/", {"route": two_chains["route"]})
    assert foreign_route.status_code == 404
    _assert_clean(foreign_route, "inventory route")
    routes = client.get("/api/analytics/routes/", {**RANGE, "route": two_chains["route"]})
    assert routes.status_code == 200 and routes.json()["runs"] == []


@pytest.mark.parametrize("role", ROLES)
def test_a_token_of_one_chain_is_401_on_the_other(chain_a: ChainFixture, chain_b: ChainFixture, role: str) -> None:
    stranger = chain_b.client()
    stranger.defaults["HTTP_AUTHORIZATION"] = f"Token {chain_a.token(role)}"
    for endpoint in ENDPOINTS:
        assert stranger.get(f"/api/analytics/{endpoint}/").status_code == 401
    assert stranger.get("/api/me/").status_code == 401
