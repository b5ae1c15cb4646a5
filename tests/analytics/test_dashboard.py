"""GET /api/analytics/dashboard/: KPIs, previous period and change, daily series, top lists — numbers worked out by hand."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.rollups.services import rollup_hourly
from bookings.models import Booking, OpeningHours, Resource
from fleet.models import Category, Device, Location, Product, Sale

STOCKHOLM = ZoneInfo("Europe/Stockholm")
URL = "/api/analytics/dashboard/"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def _sale(device: Device, product: Product, when: datetime, amount: str, quantity: int = 1, transactions: int = 1,
          ingested_at: datetime | None = None) -> None:
    Sale.objects.create(
        external_id=f"d{Sale.objects.count() + 1}-{when.timestamp()}", sold_at=when, device=device, product=product,
        quantity=quantity, amount=Decimal(amount), transactions=transactions, source=Sale.Source.TELEMETRY,
        ingested_at=ingested_at or timezone.now(),
    )


def _world() -> dict[str, Any]:
    north = Location.objects.create(code="N1", name="North Hall", region="North")
    south = Location.objects.create(code="S1", name="South Hall", region="South")
    snacks = Category.objects.create(name="Snacks")
    d1 = Device.objects.create(asset="VM-1", location=north)
    d2 = Device.objects.create(asset="VM-2", location=north)
    d3 = Device.objects.create(asset="VM-3", location=south)
    cola = Product.objects.create(sku="COLA", name="Cola", price=Decimal("2.50"), category=snacks)
    chips = Product.objects.create(sku="CHIPS", name="Chips", price=Decimal("1.75"))
    long_ago = timezone.now() - timedelta(days=400)
    # March 2026 (DST starts 29 Mar at 02:00 local): the range under test.
    _sale(d1, cola, at("2026-03-01T00:00:00"), "10.125", 2, ingested_at=long_ago)  # first instant of the range
    _sale(d1, chips, at("2026-03-29T01:30:00"), "3.3333", 1, ingested_at=long_ago)  # before the clock jumps
    _sale(d2, cola, at("2026-03-29T03:30:00"), "5.00", 2, 2, ingested_at=long_ago)  # after it
    _sale(d3, chips, at("2026-03-31T23:59:59"), "7.50", 3, ingested_at=long_ago)  # last second of the range
    _sale(d3, cola, at("2026-04-01T00:00:00"), "99.00", 1, ingested_at=long_ago)  # outside
    # Previous period: 29 Jan .. 28 Feb 2026.
    _sale(d1, cola, at("2026-02-28T23:59:00"), "8.00", 1, ingested_at=long_ago)
    _sale(d2, cola, at("2026-01-29T00:00:00"), "4.00", 1, ingested_at=long_ago)
    _sale(d3, cola, at("2026-01-28T23:59:00"), "50.00", 1, ingested_at=long_ago)  # before the previous period
    court = Resource.objects.create(code="C1", name="Court 1", location=south, resource_type="court")
    for weekday in range(1, 8):
        OpeningHours.objects.create(resource=court, weekday=weekday, opens=time(10), closes=time(20))
    for n, (status, start, minutes) in enumerate(
        [("paid", "2026-03-10T10:00:00", 60), ("no_show", "2026-03-11T12:00:00", 90), ("cancelled", "2026-03-12T12:00:00", 120)]
    ):
        Booking.objects.create(
            external_id=f"b{n}", resource=court, status=status, starts_at=at(start),
            ends_at=at(start) + timedelta(minutes=minutes), amount=Decimal("20.00"), ingested_at=long_ago,
        )
    return {"d1": d1, "d2": d2, "d3": d3, "cola": cola, "chips": chips, "north": north, "south": south, "snacks": snacks}


@pytest.mark.parametrize("rolled_up", [False, True])
def test_dashboard_numbers(chain_a: Any, rolled_up: bool) -> None:
    with schema_context(chain_a.schema):
        world = _world()
        if rolled_up:
            rollup_hourly()
        # A late row for the range, ingested after the rollup: it counts at once.
        _sale(world["d2"], world["chips"], at("2026-03-15T12:00:00"), "1.0417", 1)
    response = chain_a.client("viewer").get(URL, {"start": "2026-03-01", "end": "2026-03-31", "limit": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    revenue = Decimal("10.125") + Decimal("3.3333") + Decimal("5.00") + Decimal("7.50") + Decimal("1.0417")  # 26.9999... 27.0000
    assert revenue == Decimal("27.0000")
    kpis = body["kpis"]
    # A chain with bookings: revenue = sales revenue + booking revenue (paid 20 + no-show 20; cancelled left out).
    assert kpis["sales_revenue"] == "27.00" and kpis["booking_revenue"] == "40.00"
    assert kpis["revenue"] == "67.00"
    assert kpis["units"] == 2 + 1 + 2 + 3 + 1
    assert kpis["transactions"] == 1 + 1 + 2 + 1 + 1
    assert kpis["avg_transaction_value"] == "4.50"  # 27 / 6
    assert kpis["active_devices"] == 3
    assert kpis["revenue_run_rate"] == "67.00"  # the whole month elapsed: 67 / 31 × 31
    assert kpis["nps"] is None  # no responses
    assert kpis["bookings"] == 3
    assert kpis["no_show_rate"] == pytest.approx(0.5)  # 1 no-show of 2 not cancelled
    assert kpis["utilization"] == pytest.approx(150 / (31 * 600))  # paid 60 + no-show 90 of 10 h a day
    previous = body["previous"]
    assert (body["previous_start"], body["previous_end"]) == ("2026-01-29", "2026-02-28")
    assert previous["revenue"] == "12.00" and previous["transactions"] == 2 and previous["active_devices"] == 2
    assert previous["revenue_run_rate"] == "8.00"  # February month to date (28 days): 8 / 28 × 28
    assert previous["bookings"] == 0 and previous["no_show_rate"] == 0 and previous["utilization"] == 0
    assert body["change_pct"]["revenue"] == 458.33  # (67 − 12) / 12
    assert body["change_pct"]["sales_revenue"] == 125.0  # (27 − 12) / 12
    assert body["change_pct"]["active_devices"] == 50.0
    assert body["change_pct"]["bookings"] is None  # previous is 0
    series = body["series"]
    assert [row["date"] for row in series] == [f"2026-03-{d:02d}" for d in range(1, 32)]
    by_date = {row["date"]: row for row in series}
    assert by_date["2026-03-01"]["revenue"] == "10.13"  # 10.125 rounds half up
    assert by_date["2026-03-29"]["revenue"] == "8.33" and by_date["2026-03-29"]["transactions"] == 3
    assert by_date["2026-03-31"]["revenue"] == "7.50"
    assert by_date["2026-03-02"] == {"date": "2026-03-02", "revenue": "0.00", "units": 0, "transactions": 0}
    # Top lists: revenue desc, `limit` rows.
    assert [(d["asset"], d["revenue"]) for d in body["top_devices"]] == [("VM-1", "13.46"), ("VM-3", "7.50")]
    assert body["top_devices"][0]["location_name"] == "North Hall"
    assert [(p["sku"], p["revenue"], p["category"]) for p in body["top_products"]] == [
        ("COLA", "15.13", "Snacks"), ("CHIPS", "11.88", None)
    ]
    assert [(loc["code"], loc["revenue"]) for loc in body["top_locations"]] == [("N1", "19.50"), ("S1", "7.50")]


def test_dashboard_filters_and_defaults(chain_a: Any) -> None:
    with schema_context(chain_a.schema):
        world = _world()
        rollup_hourly()
        today = timezone.now().astimezone(STOCKHOLM)
        _sale(world["d3"], world["cola"], timezone.now() - timedelta(minutes=2), "4.25")  # two minutes ago
    client = chain_a.client("viewer")
    body = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "location": world["north"].id}).json()
    assert body["kpis"]["revenue"] == "18.46" and body["kpis"]["active_devices"] == 2
    assert [loc["code"] for loc in body["top_locations"]] == ["N1"]
    body = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "region": "South", "category": world["snacks"].id}).json()
    assert body["kpis"]["revenue"] == "0.00" and body["top_products"] == []
    body = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "device": [world["d1"].id, world["d3"].id]}).json()
    assert body["kpis"]["revenue"] == "20.96"  # 10.125 + 3.3333 + 7.50
    # Default: the last 30 days ending today, local; the sale of two minutes ago is in it at once.
    body = client.get(URL).json()
    assert body["end"] == today.date().isoformat()
    assert body["start"] == (today.date() - timedelta(days=29)).isoformat()
    assert len(body["series"]) == 30 and body["kpis"]["revenue"] == "4.25"


def test_dashboard_rejects_bad_parameters_and_callers(chain_a: Any) -> None:
    client = chain_a.client("viewer")
    assert client.get(URL, {"start": "2026-13-01"}).status_code == 400
    response = client.get(URL, {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400 and "end" in response.json()
    assert client.get(URL, {"start": "2010-01-01", "end": "2026-01-01"}).status_code == 400
    assert client.get(URL, {"location": "abc"}).status_code == 400
    assert chain_a.client().get(URL).status_code == 401


# --- revenue run rate: today's elapsed local time counts as a fraction of a day ---------------------------------


@pytest.mark.parametrize(
    ("end", "now", "expected"),
    [
        # A range that ended before today: whole days, 1st .. end.
        ("2026-03-15", "2026-04-02T10:00:00+02:00", Decimal(15)),
        # The 1st of a month at 06:00 local: a quarter of a day has elapsed, nothing before it.
        ("2026-04-01", "2026-04-01T06:00:00+02:00", Decimal("0.25")),
        # 29 March 2026, 23 hours long in Stockholm: at 12:00 local (+02:00) 11 real hours have passed since midnight.
        ("2026-03-29", "2026-03-29T12:00:00+02:00", Decimal(28) + Decimal(11) / Decimal(23)),
        # 25 October 2026, 25 hours long: at 12:00 local (+01:00) 13 hours have passed.
        ("2026-10-25", "2026-10-25T12:00:00+01:00", Decimal(24) + Decimal(13) / Decimal(25)),
        # A range ending in the future counts up to now.
        ("2026-04-30", "2026-04-10T18:00:00+02:00", Decimal(9) + Decimal(18) / Decimal(24)),
    ],
)
def test_elapsed_days_of_the_run_rate(end: str, now: str, expected: Decimal) -> None:
    from datetime import date

    from analytics.dashboard import elapsed_days

    got = elapsed_days(end=date.fromisoformat(end), now=datetime.fromisoformat(now), tz=STOCKHOLM)
    assert got == expected


def _freeze(monkeypatch: pytest.MonkeyPatch, instant: str) -> None:
    frozen = datetime.fromisoformat(instant)
    monkeypatch.setattr(timezone, "now", lambda: frozen)


def test_run_rate_on_the_first_of_a_month_counts_a_fraction_of_today(chain_a: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    long_ago = datetime(2025, 1, 1, tzinfo=STOCKHOLM)
    with schema_context(chain_a.schema):
        world = _world()
        _sale(world["d1"], world["cola"], at("2026-04-01T01:00:00"), "10.00", ingested_at=long_ago)
        _sale(world["d2"], world["cola"], at("2026-04-01T05:00:00"), "5.00", ingested_at=long_ago)
        court = Resource.objects.get(code="C1")
        Booking.objects.create(
            external_id="b-apr", resource=court, status="paid", starts_at=at("2026-04-01T04:00:00"),
            ends_at=at("2026-04-01T05:00:00"), amount=Decimal("30.00"), ingested_at=long_ago,
        )
    _freeze(monkeypatch, "2026-04-01T06:00:00+02:00")
    body = chain_a.client("viewer").get(URL).json()
    assert (body["start"], body["end"]) == ("2026-03-03", "2026-04-01")
    # April so far: sales 10 + 5 (the 99.00 at 00:00 of the world too) and the booking 30, over a quarter of a day.
    mtd = Decimal("10.00") + Decimal("5.00") + Decimal("99.00") + Decimal("30.00")
    assert body["kpis"]["revenue_run_rate"] == str((mtd / Decimal("0.25") * 30).quantize(Decimal("0.01")))  # 17280.00
    assert body["kpis"]["revenue_run_rate"] == "17280.00"


def test_run_rate_on_a_dst_day(chain_a: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with schema_context(chain_a.schema):
        _world()
    _freeze(monkeypatch, "2026-03-29T12:00:00+02:00")
    body = chain_a.client("viewer").get(URL, {"start": "2026-03-01", "end": "2026-03-29"}).json()
    # Sales 1..29 March: 10.125 + 3.3333 + 5.00 = 18.4583; bookings 10 and 11 March (paid, no-show): 40.
    # Elapsed: 28 days + 11 of today's 23 hours; × 31 days.
    mtd = Decimal("10.125") + Decimal("3.3333") + Decimal("5.00") + Decimal("40.00")
    expected = mtd / (Decimal(28) + Decimal(11) / Decimal(23)) * 31
    assert body["kpis"]["revenue_run_rate"] == str(expected.quantize(Decimal("0.01")))
    assert body["kpis"]["revenue_run_rate"] == "63.63"


def test_nps_of_the_responses_in_range(chain_a: Any) -> None:
    from bookings.models import NpsResponse

    with schema_context(chain_a.schema):
        world = _world()
        for location, score, when in [
            ("north", 10, "2026-03-01T00:00:00"), ("north", 9, "2026-03-05T12:00:00"), ("north", 6, "2026-03-06T12:00:00"),
            ("south", 8, "2026-03-07T12:00:00"), ("south", 7, "2026-03-08T12:00:00"), ("south", 0, "2026-03-09T12:00:00"),
            ("south", 10, "2026-03-31T23:59:59"),
            ("south", 0, "2026-04-01T00:00:00"),  # outside the range
        ]:
            NpsResponse.objects.create(location=world[location], score=score, responded_at=at(when))
    client = chain_a.client("viewer")
    body = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31"}).json()
    # 7 responses: promoters 10, 9, 10 (3); detractors 6, 0 (2): (3 − 2) / 7 × 100.
    assert body["kpis"]["nps"] == pytest.approx(100 / 7)
    assert body["previous"]["nps"] is None and body["change_pct"]["nps"] is None
    north = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "location": world["north"].id}).json()
    assert north["kpis"]["nps"] == pytest.approx(100 / 3)  # 10, 9 promoters; 6 a detractor
    south = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "region": "South"}).json()
    assert south["kpis"]["nps"] == 0.0  # 8, 7 passive; 0 a detractor, 10 a promoter: (1 − 1) / 4
    device = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "device": world["d1"].id}).json()
    assert device["kpis"]["nps"] is None  # a machine filter selects no venue answers
