"""Ranges up to ten years: answered (from month buckets once the rollups are built), day series by month beyond
733 days, zeros before the chain's data, and a range over the limit still a 400 naming the field."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from analytics.params import MAX_DAYS
from analytics.reports import REPORTS
from analytics.rollups.services import rollup_hourly
from fleet.models import Sale
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

DECADE = {"start": "2017-01-01", "end": "2026-12-31"}  # 3,652 days
ONE_MB = 1_000_000


def money(value: Decimal) -> str:
    return f"{value:.2f}"  # as the API presents it (the sums here have no third decimal)


@pytest.fixture
def decade(in_chain_a: ChainFixture) -> None:
    here, there = f.location("L1"), f.location("L2")
    one, two = f.device("D1", here), f.device("D2", there)
    soda, chips = f.product("P1"), f.product("P2")
    f.sale(one, soda, f.local("2017-01-01 00:30"), "2.50")  # the first local day of the range
    f.sale(two, chips, f.local("2017-03-15 12:00"), "4.00", quantity=2)
    f.sale(one, chips, f.local("2017-03-31 23:30"), "1.25")  # the last local hour of March
    f.sale(two, soda, f.local("2026-06-10 09:00"), "7.75", quantity=3, transactions=2)
    f.sale(one, soda, f.local("2026-12-31 23:59"), "3.00")  # the last minute of the range
    f.sale(one, soda, f.local("2027-01-01 00:00"), "100.00")  # after it


def _raw(start: date, end: date) -> tuple[Decimal, int, int, dict[date, Decimal]]:
    """Σ amount, Σ quantity, Σ transactions over the raw rows of [start, end] (local dates), and revenue per month."""
    months: dict[date, Decimal] = defaultdict(Decimal)
    revenue, units, transactions = Decimal(0), 0, 0
    for sale in Sale.objects.all():
        day = sale.sold_at.astimezone(f.STOCKHOLM).date()
        if start <= day <= end:
            revenue += sale.amount
            units += sale.quantity
            transactions += sale.transactions
            months[max(day.replace(day=1), start)] += sale.amount
    return revenue, units, transactions, months


@pytest.mark.parametrize("built", [False, True], ids=["raw-rows", "month-buckets"])
def test_a_decade_sums_the_raw_rows(chain_a: ChainFixture, decade: None, built: bool) -> None:
    if built:
        rollup_hourly()  # the buckets (months included) now hold every row: the answer comes from them
    revenue, units, transactions, months = _raw(date(2017, 1, 1), date(2026, 12, 31))
    assert revenue == Decimal("18.50") and units == 8 and transactions == 6  # by hand: 2.50 + 4.00 + 1.25 + 7.75 + 3.00
    client = chain_a.client("viewer")

    body = client.get("/api/analytics/dashboard/", DECADE).json()
    assert body["kpis"]["sales_revenue"] == money(revenue)
    assert (body["kpis"]["units"], body["kpis"]["transactions"], body["kpis"]["active_devices"]) == (units, transactions, 2)
    assert body["previous_start"] == "2007-01-02" and body["previous"]["sales_revenue"] == "0.00"
    # 120 months, not 3,652 days; each month its Σ, the empty ones 0.
    assert body["series_grain"] == "month" and len(body["series"]) == 120
    assert body["series"][0]["date"] == "2017-01-01" and body["series"][-1]["date"] == "2026-12-01"
    assert {row["date"]: row["revenue"] for row in body["series"] if row["revenue"] != "0.00"} == {
        day.isoformat(): money(value) for day, value in months.items()
    }
    assert sum(Decimal(row["revenue"]) for row in body["series"]) == revenue
    assert sum(row["units"] for row in body["series"]) == units

    assets = client.get("/api/analytics/asset-sales/", {**DECADE, "daily_series": "true"}).json()
    assert assets["fleet_summary"]["total_revenue"] == money(revenue)
    assert assets["series_grain"] == "month" and len(assets["daily"]) == 120
    assert sum(Decimal(row["revenue"]) for row in assets["daily"]) == revenue
    per_device = {row["asset"]: sum(Decimal(day["revenue"]) for day in row["daily"]) for row in assets["devices"]}
    assert per_device == {"D1": Decimal("6.75"), "D2": Decimal("11.75")}  # by hand: 2.50 + 1.25 + 3.00; 4.00 + 7.75

    groups = client.get("/api/analytics/revenue/", {**DECADE, "group_by": "product"}).json()
    assert groups["total"] == {"revenue": money(revenue), "units": units, "transactions": transactions}
    assert {row["key"]: row["revenue"] for row in groups["groups"]} == {"P1": "13.25", "P2": "5.25"}
    products = client.get("/api/analytics/product-sales/", DECADE).json()
    assert sum(Decimal(row["revenue"]) for row in products["products"]) == revenue


def test_a_range_cut_inside_months_is_monthly_from_its_own_first_day(chain_a: ChainFixture, decade: None) -> None:
    start, end = date(2017, 3, 15), date(2026, 6, 10)
    revenue, _, _, months = _raw(start, end)
    assert revenue == Decimal("13.00")  # 4.00 + 1.25 + 7.75
    body = chain_a.client("viewer").get("/api/analytics/dashboard/", {"start": start, "end": end}).json()
    assert body["series"][0]["date"] == "2017-03-15" and body["series"][1]["date"] == "2017-04-01"
    assert body["series"][-1]["date"] == "2026-06-01"
    assert {row["date"]: row["revenue"] for row in body["series"] if row["revenue"] != "0.00"} == {
        day.isoformat(): money(value) for day, value in months.items()
    }
    assert body["kpis"]["sales_revenue"] == money(revenue)


def test_two_years_keep_their_daily_series(chain_a: ChainFixture, decade: None) -> None:
    body = chain_a.client("viewer").get("/api/analytics/dashboard/", {"start": "2025-01-01", "end": "2026-12-31"}).json()
    assert body["series_grain"] == "day" and len(body["series"]) == 730


def test_every_report_answers_a_decade_and_dates_before_the_data_are_zeros(chain_a: ChainFixture, decade: None) -> None:
    client = chain_a.client("viewer")
    for name in REPORTS:
        for params in (DECADE, {"start": "1990-01-01", "end": "1999-12-31"}):
            response = client.get(f"/api/analytics/{name}/", params)
            assert response.status_code == 200, (name, params, response.content[:300])
            assert len(response.content) <= ONE_MB, name
    empty = client.get("/api/analytics/dashboard/", {"start": "1990-01-01", "end": "1999-12-31"}).json()
    assert empty["kpis"]["sales_revenue"] == "0.00" and empty["kpis"]["transactions"] == 0
    assert all(row["revenue"] == "0.00" for row in empty["series"]) and len(empty["series"]) == 120


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_more_than_ten_years_is_a_400_naming_end(chain_a: ChainFixture, name: str) -> None:
    client = chain_a.client("viewer")
    longest = {"start": "2016-12-31", "end": "2026-12-31"}  # 3,653 days: allowed
    assert (date(2026, 12, 31) - date(2016, 12, 31)).days + 1 <= MAX_DAYS
    assert client.get(f"/api/analytics/{name}/", longest).status_code == 200
    response = client.get(f"/api/analytics/{name}/", {"start": "2000-01-01", "end": "2026-12-31"})
    assert response.status_code == 400
    assert list(response.json()) == ["end"] and str(MAX_DAYS) in response.json()["end"][0]
