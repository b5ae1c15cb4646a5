"""The scope builder (analytics.filters): per filter, the rollups and the raw rows give the same answer, and both
equal a plain Python sum over the rows the test wrote; a filter only ever narrows; a venue filter selects no
sales; the codes people know work as well as ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.filters import (
    FILTERS,
    NO_FILTERS,
    PLANOGRAM,
    RAW_BOOKINGS,
    RAW_SALES,
    Filters,
)
from analytics.periods import Period
from analytics.query import bookings_by, sales_by
from analytics.rollups.services import rollup_hourly
from bookings.models import Booking, Resource
from fleet.models import Category, Device, DeviceType, Location, Product, Sale
from routes.models import Route, RouteStop
from tests.conftest import ChainFixture

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31))
LONG_AGO = datetime(2025, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


@dataclass(frozen=True)
class Row:
    device: Device
    product: Product
    amount: Decimal
    quantity: int
    day: int


def _world() -> dict[str, Any]:
    north = Location.objects.create(code="N1", name="North", region="North")
    south = Location.objects.create(code="S1", name="South", region="South")
    box, tower = DeviceType.objects.create(name="Box"), DeviceType.objects.create(name="Tower")
    snacks, drinks = Category.objects.create(name="Snacks"), Category.objects.create(name="Drinks")
    devices = [
        Device.objects.create(asset="VM-1", location=north, device_type=box),
        Device.objects.create(asset="VM-2", location=north, device_type=tower),
        Device.objects.create(asset="VM-3", location=south, device_type=box),
    ]
    products = [
        Product.objects.create(sku="COLA", name="Cola", price=Decimal("2.50"), category=drinks),
        Product.objects.create(sku="CHIPS", name="Chips", price=Decimal("1.75"), category=snacks),
        Product.objects.create(sku="GUM", name="Gum", price=Decimal("1.00")),
    ]
    route = Route.objects.create(code="RT-N", name="North run")
    RouteStop.objects.create(route=route, device=devices[0], position=1)
    RouteStop.objects.create(route=route, device=devices[2], position=2)
    rows = []
    n = 0
    for day in (1, 7, 15, 29, 31):
        for d, device in enumerate(devices):
            for p, product in enumerate(products):
                if (day + d + p) % 3 == 0:
                    continue
                n += 1
                row = Row(device, product, Decimal(f"{day + d}.{p}5"), 1 + (day + p) % 3, day)
                rows.append(row)
                Sale.objects.create(
                    external_id=f"s{n}", sold_at=datetime(2026, 3, day, 12, tzinfo=timezone.get_fixed_timezone(60)),
                    device=device, product=product, quantity=row.quantity, amount=row.amount, transactions=1,
                    source=Sale.Source.TELEMETRY, ingested_at=LONG_AGO,
                )
    court = Resource.objects.create(code="C1", name="Court", location=south, resource_type="court")
    room = Resource.objects.create(code="R1", name="Room", location=north, resource_type="room")
    for i, (resource, status, amount) in enumerate(
        [(court, "paid", "20.00"), (court, "cancelled", "5.00"), (room, "completed", "30.00"), (room, "no_show", "7.00")]
    ):
        starts = datetime(2026, 3, 10 + i, 10, tzinfo=timezone.get_fixed_timezone(60))
        Booking.objects.create(
            external_id=f"b{i}", resource=resource, status=status, starts_at=starts, ends_at=starts + timedelta(hours=1),
            amount=Decimal(amount), ingested_at=LONG_AGO,
        )
    return {"north": north, "south": south, "box": box, "snacks": snacks, "devices": devices, "products": products,
            "route": route, "rows": rows, "court": court, "room": room}


# Per filter: the Filters it makes in the test world and which raw rows (and bookings) it keeps.
Case = tuple[Callable[[dict[str, Any]], Filters], Callable[[dict[str, Any], Row], bool]]
SALES_CASES: dict[str, Case] = {
    "locations": (lambda w: Filters(locations=(w["north"].id,)), lambda w, r: r.device.location_id == w["north"].id),
    "devices": (lambda w: Filters(devices=(w["devices"][1].id,)), lambda w, r: r.device == w["devices"][1]),
    "device_types": (lambda w: Filters(device_types=(w["box"].id,)), lambda w, r: r.device.device_type_id == w["box"].id),
    "categories": (lambda w: Filters(categories=(w["snacks"].id,)), lambda w, r: r.product.category_id == w["snacks"].id),
    "products": (lambda w: Filters(products=(w["products"][2].id,)), lambda w, r: r.product == w["products"][2]),
    "regions": (lambda w: Filters(regions=("South",)), lambda w, r: r.device.location.region == "South"),
    "routes": (lambda w: Filters(routes=(w["route"].id,)), lambda w, r: r.device in (w["devices"][0], w["devices"][2])),
    "resources": (lambda w: Filters(resources=(w["court"].id,)), lambda w, r: False),  # a venue filter: no sales
    "resource_types": (lambda w: Filters(resource_types=("room",)), lambda w, r: False),
}


def test_every_filter_has_a_case_and_a_condition_for_every_raw_shape() -> None:
    assert set(SALES_CASES) == {spec.field for spec in FILTERS}
    for spec in FILTERS:
        if spec.kind != "venue":
            assert {RAW_SALES.name, PLANOGRAM.name} <= set(spec.sql), spec.field
        if spec.kind in ("place", "venue"):
            assert RAW_BOOKINGS.name in spec.sql, spec.field


def _sums(rows: list[Row], by: str | None) -> dict[Any, tuple[Decimal, int]]:
    out: dict[Any, tuple[Decimal, int]] = {}
    for row in rows:
        key = {None: (), "day": date(2026, 3, row.day), "device": row.device.id, "product": row.product.id,
               "location": row.device.location_id}[by]
        revenue, units = out.get(key, (Decimal(0), 0))
        out[key] = (revenue + row.amount, units + row.quantity)
    return out


def _answer(rows: list[dict[str, Any]], by: str | None) -> dict[Any, tuple[Decimal, int]]:
    return {(row[by] if by else ()): (Decimal(row["revenue"]), int(row["units"])) for row in rows}


@pytest.mark.parametrize("name", sorted(SALES_CASES))
def test_each_filter_gives_the_same_sales_from_rollups_and_raw_rows(chain_a: ChainFixture, name: str) -> None:
    make, keeps = SALES_CASES[name]
    with schema_context(chain_a.schema):
        world = _world()
        rollup_hourly()
        filters = make(world)
        kept = [row for row in world["rows"] if keeps(world, row)]
        for by in (None, "day", "device", "product", "location"):
            dims = [by] if by else []
            want = _sums(kept, by)
            from_rollups = _answer(sales_by(period=PERIOD, filters=filters, by=dims), by)
            from_raw = _answer(sales_by(period=PERIOD, filters=filters, by=dims, use_rollups=False), by)
            assert from_rollups == from_raw == want, (name, by)
            # A filter only ever narrows: every group it keeps is within the unfiltered answer.
            everything = _sums(world["rows"], by)
            assert all(revenue <= everything[key][0] for key, (revenue, _) in want.items())


BOOKING_CASES: dict[str, tuple[Callable[[dict[str, Any]], Filters], set[str]]] = {
    "none": (lambda w: NO_FILTERS, {"b0", "b1", "b2", "b3"}),
    "locations": (lambda w: Filters(locations=(w["south"].id,)), {"b0", "b1"}),
    "regions": (lambda w: Filters(regions=("North",)), {"b2", "b3"}),
    "resources": (lambda w: Filters(resources=(w["room"].id,)), {"b2", "b3"}),
    "resource_types": (lambda w: Filters(resource_types=("court",)), {"b0", "b1"}),
    "devices": (lambda w: Filters(devices=(w["devices"][0].id,)), set()),  # a machine filter: no bookings
    "categories": (lambda w: Filters(categories=(w["snacks"].id,)), set()),
    "routes": (lambda w: Filters(routes=(w["route"].id,)), set()),
}


@pytest.mark.parametrize("name", sorted(BOOKING_CASES))
def test_each_filter_gives_the_same_bookings_from_rollups_and_raw_rows(chain_a: ChainFixture, name: str) -> None:
    make, kept = BOOKING_CASES[name]
    with schema_context(chain_a.schema):
        world = _world()
        rollup_hourly()
        filters = make(world)
        bookings = Booking.objects.filter(external_id__in=kept)
        want_count = len(kept)
        want_revenue = sum((b.amount for b in bookings if b.status != "cancelled"), Decimal(0))
        for rows in (bookings_by(period=PERIOD, filters=filters), bookings_by(period=PERIOD, filters=filters, use_rollups=False)):
            got: dict[str, Any] = rows[0] if rows else {"bookings": 0, "revenue": Decimal(0)}
            assert (int(got["bookings"]), Decimal(got["revenue"])) == (want_count, want_revenue), name


def test_the_api_takes_codes_as_well_as_ids(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        world = _world()
    client = chain_a.client("viewer")
    url = "/api/analytics/revenue/"
    span = {"start": "2026-03-01", "end": "2026-03-31", "group_by": "product"}

    def revenue(**filters: Any) -> str:
        response = client.get(url, {**span, **filters})
        assert response.status_code == 200, response.content
        return str(response.json()["total"]["revenue"])

    north = sum((r.amount for r in world["rows"] if r.device.location_id == world["north"].id), Decimal(0))
    assert revenue(location="N1") == revenue(location=world["north"].id) == f"{north:.2f}"
    on_route = sum((r.amount for r in world["rows"] if r.device in (world["devices"][0], world["devices"][2])), Decimal(0))
    assert revenue(route="RT-N") == revenue(route=world["route"].id) == f"{on_route:.2f}"
    assert revenue(device="VM-2") == revenue(device=world["devices"][1].id)
    gum = sum((r.amount for r in world["rows"] if r.product.sku == "GUM"), Decimal(0))
    assert revenue(product="GUM") == f"{gum:.2f}"
    assert revenue(category="Snacks") == revenue(category=world["snacks"].id)
    assert revenue(device_type="Box", location="N1,S1") == revenue(device_type=world["box"].id)
    # A code the chain does not have is a 400 naming the filter and the code.
    response = client.get(url, {**span, "location": "N1,NOWHERE"})
    assert response.status_code == 400 and "NOWHERE" in response.json()["location"][0]
    assert client.get(url, {**span, "product": "0"}).status_code == 400
    # An id the chain does not have matches nothing, as before.
    assert revenue(location=world["north"].id + 999) == "0.00"
