"""trends (trend, seasonality, forecast, back-test), anomalies (|z| > 2.5) and inventory (stock, risk, pick list)."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import pytest
from django.utils import timezone

from analytics.query import local_today
from fleet.models import Device
from routes.models import Route, RouteRun, RouteStop, ServiceVisit, SlotFill
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture


def test_trends_linear_series_with_a_gap(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    machine, item = f.device("D1", f.location("L")), f.product("P1")
    start = date(2026, 3, 2)  # a Monday; 28 days, the 29th of March (23 hours) inside
    for offset in range(28):
        # 10 + 2·day, except one day without sales (0): the series must still have every day.
        if offset != 5:
            f.sale(machine, item, f.local(f"{start + timedelta(days=offset)} 12:00"), f"{10 + 2 * offset}.00")
    response = chain_a.client("viewer").get("/api/analytics/trends/", {"start": "2026-03-02", "end": "2026-03-29"})
    assert response.status_code == 200, response.content
    body = response.json()
    values = [10 + 2 * i if i != 5 else 0 for i in range(28)]
    assert [p["value"] for p in body["series"]] == values
    slope, intercept = statistics.linear_regression(range(28), values)
    assert body["trend"]["slope"] == pytest.approx(slope)
    assert body["trend"]["intercept"] == pytest.approx(intercept)
    assert len(body["forecast"]) == 30 and body["forecast"][0]["date"] == "2026-03-30"
    assert all(p["lower"] <= p["forecast"] <= p["upper"] for p in body["forecast"])
    means = {wd: statistics.fmean(v for i, v in enumerate(values) if i % 7 == wd - 1) for wd in range(1, 8)}
    factors = {s["weekday"]: s["factor"] for s in body["seasonality"]}
    for weekday in range(1, 8):
        assert factors[weekday] == pytest.approx(means[weekday] / statistics.fmean(values))
    assert body["backtest"]["holdout_days"] == 28 // 3 and body["backtest"]["mae"] >= 0


def test_trends_constant_series_forecasts_itself(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    machine, item = f.device("D1", f.location("L")), f.product("P1")
    for offset in range(21):
        f.sale(machine, item, f.local(f"{date(2026, 10, 5) + timedelta(days=offset)} 12:00"), "7.00")
    body = chain_a.client("viewer").get("/api/analytics/trends/", {"start": "2026-10-05", "end": "2026-10-25"}).json()
    assert body["trend"]["slope"] == pytest.approx(0) and body["trend"]["intercept"] == pytest.approx(7)
    assert all(p["forecast"] == pytest.approx(7) and p["upper"] == pytest.approx(7) for p in body["forecast"])
    assert body["backtest"] == {"holdout_days": 7, "mae": pytest.approx(0), "mape": pytest.approx(0)}
    assert chain_a.client("viewer").get("/api/analytics/trends/", {"metric": "mood"}).status_code == 400


def test_anomalies_against_a_second_computation(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    here, item = f.location("L"), f.product("P1")
    start = date(2026, 3, 16)
    series = {
        "SPIKE": [10] * 19 + [200],  # one spike of 20 days: z = √19 ≈ 4.36 → critical, high
        "DROP": [10] * 9 + [0] + [10] * 10,  # one empty day → z = −√19 → critical, low
        "EDGE": [10] * 9 + [100],  # padded with 10 zero days below; checked by the second computation
        "FLAT": [5] * 20,  # std 0: never anomalous
    }
    for asset, values in series.items():
        machine = f.device(asset, here)
        for offset, value in enumerate(values):
            if value:
                f.sale(machine, item, f.local(f"{start + timedelta(days=offset)} 23:30"), f"{value}.00")
    response = chain_a.client("viewer").get("/api/analytics/anomalies/", {"start": "2026-03-16", "end": "2026-04-04"})
    assert response.status_code == 200, response.content
    found = {(a["asset"], a["date"]): a for a in response.json()["anomalies"]}

    expected = {}
    for asset, values in series.items():
        full = (values + [0] * 20)[:20]
        mean, std = statistics.fmean(full), statistics.pstdev(full)
        for offset, value in enumerate(full):
            z = (value - mean) / std if std else 0.0
            if abs(z) > 2.5:
                severity = "critical" if abs(z) > 4 else "high" if abs(z) > 3 else "medium"
                expected[(asset, str(start + timedelta(days=offset)))] = (round(z, 6), "high" if z > 0 else "low", severity)
    assert set(found) == set(expected)
    for key, (z, direction, severity) in expected.items():
        assert (found[key]["z"], found[key]["direction"], found[key]["severity"]) == (pytest.approx(z), direction, severity)
    assert found[("SPIKE", "2026-04-04")]["z"] == pytest.approx(math.sqrt(19))
    assert found[("SPIKE", "2026-04-04")]["revenue"] == "200.00"
    assert found[("DROP", "2026-03-25")]["revenue"] == "0.00"


def test_trends_model_complete_days_only(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    machine, item = f.device("D1", f.location("L")), f.product("P1")
    today = local_today()
    for offset in range(0, 15):
        f.sale(machine, item, f.local(f"{today - timedelta(days=offset)} 00:30"), "4.00")
    body = chain_a.client("viewer").get("/api/analytics/trends/", {"start": str(today - timedelta(days=14)), "end": str(today)}).json()
    assert body["end"] == str(today - timedelta(days=1)) and len(body["series"]) == 14
    assert body["forecast"][0]["date"] == str(today)
    assert body["forecast"][0]["forecast"] == pytest.approx(4.0)


def test_anomalies_leave_the_incomplete_day_out(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    machine, item = f.device("D1", f.location("L")), f.product("P1")
    today = local_today()
    for offset in range(1, 21):  # 10.00 every day up to yesterday, nothing yet today
        f.sale(machine, item, f.local(f"{today - timedelta(days=offset)} 12:00"), "10.00")
    start = str(today - timedelta(days=20))
    body = chain_a.client("viewer").get("/api/analytics/anomalies/", {"start": start, "end": str(today)}).json()
    assert body["anomalies"] == [] and body["end"] == str(today - timedelta(days=1))
    only_today = chain_a.client("viewer").get("/api/analytics/anomalies/", {"start": str(today), "end": str(today)}).json()
    assert only_today["anomalies"] == [] and only_today["devices_checked"] == 0


@pytest.fixture
def stocked(in_chain_a: ChainFixture) -> dict[str, object]:
    now = timezone.now()
    machine = f.device("D1", f.location("L"))
    p1, p2, p3 = f.product("P1"), f.product("P2"), f.product("P3")
    since = now - timedelta(days=60)
    a1 = f.slot(machine, "A1", p1, since, capacity=10)
    a2 = f.slot(machine, "A2", p2, since, capacity=8)
    f.slot(machine, "A3", p3, since, capacity=5)  # never filled
    v1 = ServiceVisit.objects.create(device=machine, visited_at=now - timedelta(days=10))
    v2 = ServiceVisit.objects.create(device=machine, visited_at=now - timedelta(days=3))
    SlotFill.objects.create(visit=v1, slot=a1, units_added=10, level_after=10)
    SlotFill.objects.create(visit=v1, slot=a2, units_added=8, level_after=8)
    SlotFill.objects.create(visit=v2, slot=a1, units_added=6, level_after=10)  # A2 not touched at the last visit
    f.sale(machine, p1, now - timedelta(days=5), "4.00", quantity=4, slot="A1")  # before A1's last fill
    f.sale(machine, p1, now - timedelta(days=2), "3.00", quantity=3, slot="A1")
    f.sale(machine, p1, now - timedelta(days=1), "4.00", quantity=4, slot="A1")
    f.sale(machine, p2, now - timedelta(days=9), "2.00", quantity=2, slot="A2")
    f.sale(machine, p2, now - timedelta(hours=20), "6.00", quantity=6, slot="A2")
    route = Route.objects.create(code="R1", name="Route one")
    RouteStop.objects.create(route=route, device=machine, position=1)
    RouteRun.objects.create(route=route, scheduled_for=local_today() + timedelta(days=2))
    return {"route": route, "device": machine}


def test_inventory_stock_days_and_risk(chain_a: ChainFixture, stocked: dict[str, object]) -> None:
    response = chain_a.client("viewer").get("/api/analytics/inventory/")
    assert response.status_code == 200, response.content
    body = response.json()
    slots = {row["slot"]: row for row in body["slots"]}
    a1, a2, a3 = slots["A1"], slots["A2"], slots["A3"]
    assert (a1["level_after_fill"], a1["sold_since_fill"], a1["estimated_stock"]) == (10, 7, 3)
    assert a1["daily_velocity"] == pytest.approx(11 / 14)
    assert a1["days_until_empty"] == pytest.approx(3 / (11 / 14)) and a1["risk"] == "medium"
    assert (a2["estimated_stock"], a2["risk"]) == (0, "out")
    assert (a3["estimated_stock"], a3["risk"], a3["last_fill_at"]) == (None, "unknown", None)
    assert [row["slot"] for row in body["slots"]] == ["A2", "A1", "A3"]
    assert body["risk_summary"] == {"out": 1, "high": 0, "medium": 1, "unknown": 1, "low": 0}
    assert body["pick_list"] is None


def test_inventory_pick_list_for_the_next_run(chain_a: ChainFixture, stocked: dict[str, object]) -> None:
    route = stocked["route"]
    body = chain_a.client("viewer").get("/api/analytics/inventory/", {"route": route.id}).json()  # type: ignore[attr-defined]
    picks = body["pick_list"]
    assert picks["run_date"] == str(local_today() + timedelta(days=2))
    items = {item["slot"]: item for item in picks["items"]}
    # A1: 3 − 2·11/14 ≈ 1.43 left on the day → 10 − 1.43 → 9; A2 empty → 8; A3 unknown, planned as empty → 5.
    assert {slot: item["units"] for slot, item in items.items()} == {"A1": 9, "A2": 8, "A3": 5}
    assert picks["total_units"] == 22
    assert [(p["sku"], p["units"]) for p in picks["by_product"]] == [("P1", 9), ("P2", 8), ("P3", 5)]
    missing = chain_a.client("viewer").get("/api/analytics/inventory/", {"route": route.id + 999})  # type: ignore[attr-defined]
    assert missing.status_code == 404


def test_inventory_device_filter(chain_a: ChainFixture, stocked: dict[str, object]) -> None:
    other = Device.objects.create(asset="D2", location=stocked["device"].location)  # type: ignore[attr-defined]
    body = chain_a.client("viewer").get("/api/analytics/inventory/", {"device": other.id}).json()
    assert body["slots"] == []
