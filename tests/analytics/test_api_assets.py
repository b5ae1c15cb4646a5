"""asset-sales: per-device numbers, score, rank and fleet summary against hand-computed values, across a DST day."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

URL = "/api/analytics/asset-sales/"
RANGE = {"start": "2026-03-27", "end": "2026-03-30"}  # 4 local days; 2026-03-29 has 23 hours in Stockholm


@pytest.fixture
def fleet(in_chain_a: ChainFixture) -> dict[str, object]:
    """Three devices in scope with daily revenue D1 [10,10,10,10], D2 [0,0,12,12], D3 [6.005,0,0,0]; one retired."""
    north = f.location("N", name="North", region="R1", city="Uppsala")
    south = f.location("S", name="South", region="R2", city="Lund")
    d1 = f.device("A-1", north)
    d2 = f.device("A-2", south)
    d3 = f.device("A-3", south)
    f.device("A-4", south, retired_at=date(2026, 3, 1), installed_at=date(2025, 1, 1))
    p1, p2 = f.product("P1"), f.product("P2")
    # D1: 10.00 a day, 2 units; P1 on the first two days, P2 on the last two (a revenue tie: SKU decides).
    f.sale(d1, p1, f.local("2026-03-27 09:00"), "10.00", quantity=2)
    f.sale(d1, p1, f.local("2026-03-28 09:00"), "10.00", quantity=2)
    f.sale(d1, p2, f.local("2026-03-29 09:00"), "10.00", quantity=2)
    f.sale(d1, p2, f.local("2026-03-30 09:00"), "10.00", quantity=2)
    # Outside the range by minutes on either side (local midnight, not UTC midnight).
    f.sale(d1, p1, f.local("2026-03-26 23:59"), "99.00", quantity=1)
    f.sale(d1, p1, f.local("2026-03-31 00:00"), "99.00", quantity=1)
    # D2: 12.00 on the 29th (two sales, late evening of the 23-hour day) and 12.00 on the 30th at 00:30 local,
    # which is still the 29th in UTC.
    f.sale(d2, p1, f.local("2026-03-29 20:00"), "5.00", quantity=2)
    f.sale(d2, p2, f.local("2026-03-29 23:30"), "7.00", quantity=2)
    f.sale(d2, p2, f.local("2026-03-30 00:30"), "12.00", quantity=4)
    # D3: one sale of 6.005 just after local midnight of the 27th (the 26th in UTC).
    f.sale(d3, p2, f.local("2026-03-27 00:15"), "6.005", quantity=1)
    return {"d1": d1, "d2": d2, "d3": d3, "north": north}


def test_asset_sales_per_device_numbers(chain_a: ChainFixture, fleet: dict[str, object]) -> None:
    response = chain_a.client("viewer").get(URL, RANGE)
    assert response.status_code == 200, response.content
    body = response.json()
    devices = {row["asset"]: row for row in body["devices"]}
    assert set(devices) == {"A-1", "A-2", "A-3"}  # the retired device is out of scope

    d1, d2, d3 = devices["A-1"], devices["A-2"], devices["A-3"]
    assert (d1["total_revenue"], d1["total_units"], d1["total_transactions"]) == ("40.00", 8, 4)
    assert (d2["total_revenue"], d2["total_units"], d2["total_transactions"]) == ("24.00", 8, 3)
    # 6.005 rounds half-up to 6.01 only when presented; daily 6.005 / 4 = 1.50125.
    assert (d3["total_revenue"], d3["daily_revenue"], d3["revenue_per_unit"]) == ("6.01", "1.50", "6.01")
    assert d2["avg_transaction_value"] == "8.00"
    assert d1["daily_revenue"] == "10.00" and d1["revenue_per_unit"] == "5.00"
    assert (d1["active_days"], d2["active_days"], d3["active_days"]) == (4, 2, 1)
    assert (d2["first_sale"], d2["last_sale"]) == ("2026-03-29", "2026-03-30")
    assert (d3["first_sale"], d3["last_sale"]) == ("2026-03-27", "2026-03-27")
    assert [p["sku"] for p in d1["top_products"]] == ["P1", "P2"]
    assert [p["revenue"] for p in d1["top_products"]] == ["20.00", "20.00"]
    assert [(p["sku"], p["revenue"]) for p in d2["top_products"]] == [("P2", "19.00"), ("P1", "5.00")]


def test_asset_sales_scores_ranks_and_percentiles(chain_a: ChainFixture, fleet: dict[str, object]) -> None:
    body = chain_a.client("viewer").get(URL, RANGE).json()
    devices = {row["asset"]: row for row in body["devices"]}
    # Percentile ranks among 3 devices are 0 / 50 / 100:
    #   revenue     D1 40 > D2 24 > D3 6.005         → 100, 50, 0
    #   consistency CV D1 0 < D2 1 < D3 √3          → 100, 50, 0
    #   growth      slope D2 > D1 (0) > D3          → 50, 100, 0
    #   efficiency  per unit D3 6.005 > D1 5 > D2 3 → 50, 0, 100
    expected = {
        "A-1": 0.40 * 100 + 0.25 * 100 + 0.20 * 50 + 0.15 * 50,
        "A-2": 0.40 * 50 + 0.25 * 50 + 0.20 * 100 + 0.15 * 0,
        "A-3": 0.40 * 0 + 0.25 * 0 + 0.20 * 0 + 0.15 * 100,
    }
    for asset, score in expected.items():
        assert devices[asset]["performance_score"] == pytest.approx(score)
    assert [row["asset"] for row in body["devices"]] == ["A-1", "A-2", "A-3"]
    assert [row["fleet_rank"] for row in body["devices"]] == [1, 2, 3]
    assert [row["percentile"] for row in body["devices"]] == [100.0, 50.0, 0.0]
    # Second method for the consistency input: population CV of the complete daily series.
    d3_daily = [6.005, 0, 0, 0]
    assert devices["A-3"]["daily_revenue_cv"] == pytest.approx(statistics.pstdev(d3_daily) / statistics.fmean(d3_daily))
    assert devices["A-2"]["daily_trend"] > 0 > devices["A-3"]["daily_trend"]


def test_asset_sales_fleet_summary_and_benchmarks(chain_a: ChainFixture, fleet: dict[str, object]) -> None:
    body = chain_a.client("viewer").get(URL, RANGE).json()
    summary = body["fleet_summary"]
    assert summary["device_count"] == 3
    assert summary["active_devices"] == 3
    assert summary["total_revenue"] == "70.01"  # 40 + 24 + 6.005
    assert (summary["total_units"], summary["total_transactions"]) == (17, 8)
    assert summary["daily_revenue"] == "17.50"  # 70.005 / 4 = 17.50125
    revenue = sorted([40.0, 24.0, 6.005])
    p25, median, p75 = statistics.quantiles(revenue, n=4, method="inclusive")
    quartiles = {row["metric"]: row for row in body["benchmarks"]}
    assert quartiles["revenue"]["p25"] == pytest.approx(p25)
    assert quartiles["revenue"]["median"] == pytest.approx(median)
    assert quartiles["revenue"]["p75"] == pytest.approx(p75)
    assert [day["revenue"] for day in body["daily"]] == ["16.01", "10.00", "22.00", "22.00"]
    assert [day["date"] for day in body["daily"]] == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30"]


def test_asset_sales_post_filters_in_body_and_limit(chain_a: ChainFixture, fleet: dict[str, object]) -> None:
    client = chain_a.client("viewer")
    north = fleet["north"]
    response = client.post(URL, {**RANGE, "location": [north.id]}, content_type="application/json")  # type: ignore[attr-defined]
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["asset"] for row in body["devices"]] == ["A-1"]
    # A lone device has nobody to be compared with: 100 on every component.
    assert body["devices"][0]["performance_score"] == 100.0
    limited = client.get(URL, {**RANGE, "limit": 2}).json()
    assert [row["fleet_rank"] for row in limited["devices"]] == [1, 2]
    assert limited["fleet_summary"]["device_count"] == 3  # the summary is never truncated


def test_asset_sales_empty_range(chain_a: ChainFixture, fleet: dict[str, object]) -> None:
    body = chain_a.client("viewer").get(URL, {"start": "2025-01-01", "end": "2025-01-01"}).json()
    assert body["fleet_summary"]["total_revenue"] == "0.00"
    assert body["fleet_summary"]["active_devices"] == 0
    assert all(row["total_revenue"] == "0.00" and row["first_sale"] is None for row in body["devices"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-30"}, "start"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"start": "2010-01-01", "end": "2026-01-01"}, "end"),  # over ten years (MAX_DAYS)
        ({"location": "x"}, "location"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_asset_sales_bad_parameters_are_400_with_field_errors(
    chain_a: ChainFixture, params: dict[str, str], field: str
) -> None:
    response = chain_a.client("viewer").get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_asset_sales_daily_series_and_without_top_products(chain_a: ChainFixture, fleet: dict[str, object]) -> None:
    client = chain_a.client("viewer")
    body = client.get(URL, {**RANGE, "daily_series": "true", "top_products": "false"}).json()
    devices = {row["asset"]: row for row in body["devices"]}
    # The 30th at 00:30 local belongs to the 30th, though it is still the 29th in UTC.
    assert [(d["date"], d["revenue"]) for d in devices["A-2"]["daily"]] == [
        ("2026-03-27", "0.00"), ("2026-03-28", "0.00"), ("2026-03-29", "12.00"), ("2026-03-30", "12.00")
    ]
    assert all(row["top_products"] == [] for row in body["devices"])
    assert "daily" not in client.get(URL, RANGE).json()["devices"][0]
