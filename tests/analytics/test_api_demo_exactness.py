"""On generated demo data (a vending chain in Stockholm, a venue chain in New York, DST changes inside the range),
every analysis equals a second, plain-Python computation over the raw rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context

from bookings.models import Booking, FunnelEvent, OpeningHours, Resource
from demo.seed import demo_data_seed
from demo.vending import VendingSpec
from demo.venues import VenueSpec
from fleet.models import Device, Location, Product, Sale
from tests.conftest import ChainFixture

VENDING_TODAY = date(2026, 10, 31)  # Stockholm leaves summer time on 2026-10-25
VENUE_TODAY = date(2026, 11, 10)  # New York leaves summer time on 2026-11-01
VENDING_RANGE = {"start": "2026-10-12", "end": "2026-10-31"}
VENUE_RANGE = {"start": "2026-10-20", "end": "2026-11-09"}


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _build_rollups(schema: str) -> None:
    from analytics.models import RollupWatermark
    from analytics.rollups.services import rollup_rebuild

    with schema_context(schema):
        rollup_rebuild()
        assert RollupWatermark.objects.exists()  # from here on the query layer reads buckets + live delta


@pytest.fixture(params=["raw rows", "rollups"])
def vending(chain_a: ChainFixture, request: pytest.FixtureRequest) -> list[Sale]:
    """The same answers whether the query layer reads raw rows (no rollups yet) or buckets + live delta."""
    outcome = demo_data_seed(
        chain=chain_a.chain, kind="vending", seed=7, today=VENDING_TODAY,
        vending=VendingSpec(days=35, devices=6, products=40, sites=3),
    )
    assert outcome.status == "seeded"
    if request.param == "rollups":
        _build_rollups(chain_a.schema)
    start, end = date.fromisoformat(VENDING_RANGE["start"]), date.fromisoformat(VENDING_RANGE["end"])
    tz = chain_a.chain.tz
    with schema_context(chain_a.schema):
        sales = [
            sale for sale in Sale.objects.select_related("device__location", "product")
            if start <= sale.sold_at.astimezone(tz).date() <= end
        ]
    assert len(sales) > 100
    return sales


def test_vending_demo_asset_product_revenue_and_heatmap(chain_a: ChainFixture, vending: list[Sale]) -> None:
    tz = chain_a.chain.tz
    client = chain_a.client("viewer")
    by_device: dict[str, Decimal] = defaultdict(Decimal)
    days_by_device: dict[str, set[date]] = defaultdict(set)
    by_sku: dict[str, Decimal] = defaultdict(Decimal)
    by_location: dict[str, Decimal] = defaultdict(Decimal)
    cells: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for sale in vending:
        local = sale.sold_at.astimezone(tz)
        by_device[sale.device.asset] += sale.amount
        days_by_device[sale.device.asset].add(local.date())
        by_sku[sale.product.sku] += sale.amount
        by_location[sale.device.location.code] += sale.amount
        cells[(local.isoweekday(), local.hour)] += sale.amount

    assets = client.get("/api/analytics/asset-sales/", VENDING_RANGE).json()
    answered = {row["asset"]: row for row in assets["devices"]}
    for asset, revenue in by_device.items():
        assert answered[asset]["total_revenue"] == money(revenue)
        assert answered[asset]["active_days"] == len(days_by_device[asset])
        assert answered[asset]["first_sale"] == str(min(days_by_device[asset]))
    assert assets["fleet_summary"]["total_revenue"] == money(sum(by_device.values(), Decimal(0)))
    assert sorted(row["fleet_rank"] for row in assets["devices"]) == list(range(1, len(assets["devices"]) + 1))

    products = client.get("/api/analytics/product-sales/", VENDING_RANGE).json()
    answered_products = {row["sku"]: row["revenue"] for row in products["products"]}
    for sku, revenue in by_sku.items():
        assert answered_products[sku] == money(revenue)
    # ABC by the definition, recomputed: A while the share before < 80 %, B while < 95 %.
    total, before, expected_abc = sum(by_sku.values(), Decimal(0)), Decimal(0), {}
    for sku, revenue in sorted(by_sku.items(), key=lambda item: (-item[1], item[0])):
        expected_abc[sku] = "A" if before * 100 < total * 80 else "B" if before * 100 < total * 95 else "C"
        before += revenue
    assert {row["sku"]: row["abc_class"] for row in products["products"] if row["sku"] in by_sku} == expected_abc

    groups = client.get("/api/analytics/revenue/", {**VENDING_RANGE, "group_by": "location"}).json()["groups"]
    assert {g["key"]: g["revenue"] for g in groups} == {code: money(v) for code, v in by_location.items()}

    heatmap = client.get("/api/analytics/heatmap/", VENDING_RANGE).json()["cells"]
    assert {(c["weekday"], c["hour"]): c["value"] for c in heatmap if c["value"]} == {
        cell: float(money(value)) for cell, value in cells.items() if value
    }


def test_vending_demo_anomalies_and_trends(chain_a: ChainFixture, vending: list[Sale]) -> None:
    tz = chain_a.chain.tz
    start = date.fromisoformat(VENDING_RANGE["start"])
    days = [start + timedelta(days=i) for i in range(20)]
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for sale in vending:
        per_day[sale.sold_at.astimezone(tz).date()] += sale.amount
    trends = chain_a.client("viewer").get("/api/analytics/trends/", VENDING_RANGE).json()
    assert [p["value"] for p in trends["series"]] == pytest.approx([float(per_day[d]) for d in days])
    anomalies = chain_a.client("viewer").get("/api/analytics/anomalies/", VENDING_RANGE).json()
    with schema_context(chain_a.schema):
        assert anomalies["devices_checked"] == Device.objects.count()
    for anomaly in anomalies["anomalies"]:
        assert abs(anomaly["z"]) > 2.5


@pytest.fixture(params=["raw rows", "rollups"])
def venues(chain_b: ChainFixture, request: pytest.FixtureRequest) -> None:
    outcome = demo_data_seed(
        chain=chain_b.chain, kind="venues", seed=11, today=VENUE_TODAY, venues=VenueSpec(days=40, resources=5, customers=300)
    )
    assert outcome.status == "seeded"
    if request.param == "rollups":
        _build_rollups(chain_b.schema)


def _in_range(instant: Any, tz: Any, rng: dict[str, str]) -> bool:
    return date.fromisoformat(rng["start"]) <= instant.astimezone(tz).date() <= date.fromisoformat(rng["end"])


def test_venue_demo_utilization_funnel_and_cohorts(chain_b: ChainFixture, venues: None) -> None:
    tz = chain_b.chain.tz
    client = chain_b.client("viewer")
    start, end = date.fromisoformat(VENUE_RANGE["start"]), date.fromisoformat(VENUE_RANGE["end"])
    with schema_context(chain_b.schema):
        bookings = [b for b in Booking.objects.select_related("resource", "customer") if _in_range(b.starts_at, tz, VENUE_RANGE)]
        events = [e for e in FunnelEvent.objects.all() if _in_range(e.occurred_at, tz, VENUE_RANGE)]
        hours = list(OpeningHours.objects.select_related("resource"))
        resources = {r.code: r for r in Resource.objects.all()}
        first_activity: dict[str, date] = {}
        for b in Booking.objects.exclude(status="cancelled").select_related("customer"):
            if b.customer:
                day = b.starts_at.astimezone(tz).date()
                first_activity[b.customer.external_ref] = min(first_activity.get(b.customer.external_ref, day), day)
        for s in Sale.objects.select_related("customer"):
            if s.customer:
                day = s.sold_at.astimezone(tz).date()
                first_activity[s.customer.external_ref] = min(first_activity.get(s.customer.external_ref, day), day)
    assert len(bookings) > 20 and len(events) > 20

    # Utilization and no-shows per resource, by the definitions.
    answer = {row["code"]: row for row in client.get("/api/analytics/utilization/", VENUE_RANGE).json()["resources"]}
    for code in resources:
        mine = [b for b in bookings if b.resource.code == code]
        taken = [b for b in mine if b.status != "cancelled"]
        no_shows = sum(1 for b in mine if b.status == "no_show")
        booked = sum((b.ends_at - b.starts_at).total_seconds() / 60 for b in taken)
        open_minutes = 0
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            for h in hours:
                if h.resource.code == code and h.weekday == day.isoweekday():
                    open_minutes += (h.closes.hour * 60 + h.closes.minute) - (h.opens.hour * 60 + h.opens.minute)
        row = answer[code]
        assert (row["bookings"], row["no_shows"]) == (len(mine), no_shows)
        assert row["no_show_rate"] == pytest.approx(no_shows / len(taken) if taken else 0)
        assert row["open_minutes"] == open_minutes
        assert row["utilization"] == pytest.approx(booked / open_minutes if open_minutes else 0)

    # The funnel, recomputed per session: greedy earliest chain in time order.
    order = ("visit", "wizard_start", "submit", "paid")
    timeline: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for event in events:
        timeline[event.session_id].append((event.occurred_at, event.step))
    reached: Counter[int] = Counter()
    for items in timeline.values():
        depth, at = 0, None
        for step in order:
            times = sorted(t for t, s in items if s == step and (at is None or t >= at))
            if not times:
                break
            depth, at = depth + 1, times[0]
        for k in range(1, depth + 1):
            reached[k] += 1
    steps = client.get("/api/analytics/conversion/", VENUE_RANGE).json()["steps"]
    assert [s["sessions"] for s in steps] == [reached[k] for k in range(1, 5)]

    # Cohorts: per month of the range, active customers new that month vs earlier.
    active: dict[str, set[str]] = defaultdict(set)
    for b in bookings:
        if b.customer and b.status != "cancelled":
            active[f"{b.starts_at.astimezone(tz):%Y-%m}"].add(b.customer.external_ref)
    cohorts = client.get("/api/analytics/customers/", VENUE_RANGE).json()["cohorts"]
    expected = [
        {"month": month, "first_time": sum(1 for c in refs if f"{first_activity[c]:%Y-%m}" == month),
         "repeat": sum(1 for c in refs if f"{first_activity[c]:%Y-%m}" < month), "active": len(refs)}
        for month, refs in sorted(active.items())
    ]
    assert cohorts == expected

    by_resource = client.get("/api/analytics/revenue/", {**VENUE_RANGE, "group_by": "resource"}).json()["groups"]
    expected_revenue: dict[str, Decimal] = defaultdict(Decimal)
    for b in bookings:
        if b.status != "cancelled":
            expected_revenue[b.resource.code] += b.amount
    assert {g["key"]: g["revenue"] for g in by_resource} == {
        code: money(value) for code, value in expected_revenue.items()
    }
    with schema_context(chain_b.schema):
        assert Location.objects.exists() and not Product.objects.filter(sku__startswith="ACM").exists()
