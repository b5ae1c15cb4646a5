"""revenue/?group_by=, heatmap hours in local time across both DST changes, and locations, by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

RANGE = {"start": "2026-10-19", "end": "2026-10-25"}  # Monday .. Sunday, the Sunday has 25 hours


@pytest.fixture
def shops(in_chain_a: ChainFixture) -> dict[str, object]:
    north = f.location("N", name="North", region="East", city="Uppsala", latitude="59.858600", longitude="17.638900")
    south = f.location("S", name="South", region="West", city="Lund")
    snack, cooler = f.device_type("Snack"), f.device_type("Cooler")
    d1 = f.device("D1", north, device_type=snack)
    d2 = f.device("D2", south, device_type=cooler)
    d3 = f.device("D3", south, device_type=snack)
    food, drink = f.category("Food"), f.category("Drink")
    bar, cola = f.product("BAR", category=food), f.product("COLA", category=drink)
    f.sale(d1, bar, f.local("2026-10-19 08:15"), "10.00", quantity=2)
    f.sale(d1, cola, f.local("2026-10-19 08:45"), "5.50")
    f.sale(d2, cola, f.local("2026-10-21 17:10"), "20.00", quantity=4, transactions=2)
    # 02:30 happens twice on 2026-10-25 (CEST then CET): both are Sunday hour 2, local.
    f.sale(d3, bar, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "1.00")
    f.sale(d3, bar, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2.00")
    # 23:30 local on the Sunday is 22:30 UTC: still in the range, hour 23.
    f.sale(d3, cola, f.local("2026-10-25 23:30"), "3.00")
    return {"north": north, "south": south, "d1": d1}


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("location", [("S", "South", "26.00", 7, 5), ("N", "North", "15.50", 3, 2)]),
        ("region", [("West", "West", "26.00", 7, 5), ("East", "East", "15.50", 3, 2)]),
        ("device_type", [("Cooler", "Cooler", "20.00", 4, 2), ("Snack", "Snack", "21.50", 6, 5)]),
        ("category", [("Drink", "Drink", "28.50", 6, 4), ("Food", "Food", "13.00", 4, 3)]),
        ("product", [("COLA", "Product COLA", "28.50", 6, 4), ("BAR", "Product BAR", "13.00", 4, 3)]),
    ],
)
def test_revenue_group_by(
    chain_a: ChainFixture, shops: dict[str, object], group_by: str, expected: list[tuple[str, str, str, int, int]]
) -> None:
    response = chain_a.client("viewer").get("/api/analytics/revenue/", {**RANGE, "group_by": group_by})
    assert response.status_code == 200, response.content
    body = response.json()
    groups = sorted(
        [(g["key"], g["name"], g["revenue"], g["units"], g["transactions"]) for g in body["groups"]],
        key=lambda g: (-float(g[2]), g[0]),
    )
    assert groups == sorted(expected, key=lambda g: (-float(g[2]), g[0]))
    assert body["total"]["revenue"] == "41.50"


def test_revenue_unknown_group_by_is_400(chain_a: ChainFixture) -> None:
    response = chain_a.client("viewer").get("/api/analytics/revenue/", {"group_by": "planet"})
    assert response.status_code == 400 and "group_by" in response.json()


def test_heatmap_local_hours_on_the_25_hour_day(chain_a: ChainFixture, shops: dict[str, object]) -> None:
    client = chain_a.client("viewer")
    body = client.get("/api/analytics/heatmap/", {**RANGE, "metric": "revenue"}).json()
    assert len(body["cells"]) == 168
    assert [(c["weekday"], c["hour"]) for c in body["cells"][:2]] == [(1, 0), (1, 1)]
    cells = {(c["weekday"], c["hour"]): c["value"] for c in body["cells"] if c["value"]}
    assert cells == {(1, 8): 15.5, (3, 17): 20.0, (7, 2): 3.0, (7, 23): 3.0}
    units = client.get("/api/analytics/heatmap/", {**RANGE, "metric": "transactions"}).json()
    assert {(c["weekday"], c["hour"]): c["value"] for c in units["cells"] if c["value"]} == {
        (1, 8): 2, (3, 17): 2, (7, 2): 2, (7, 23): 1
    }
    assert body["peak"] == {"weekday": 3, "hour": 17, "value": 20.0}
    assert client.get("/api/analytics/heatmap/", {"metric": "weather"}).status_code == 400


def test_heatmap_spring_forward_day(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    here = f.location("X")
    machine, item = f.device("DX", here), f.product("PX")
    f.sale(machine, item, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "1.00")  # 01:30 CET
    f.sale(machine, item, datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2.00")  # 03:30 CEST: 02:xx never happens
    body = chain_a.client("viewer").get("/api/analytics/heatmap/", {"start": "2026-03-29", "end": "2026-03-29"}).json()
    assert {(c["weekday"], c["hour"]): c["value"] for c in body["cells"] if c["value"]} == {(7, 1): 1.0, (7, 3): 2.0}


def test_locations_with_coordinates_and_rollups(chain_a: ChainFixture, shops: dict[str, object]) -> None:
    body = chain_a.client("viewer").get("/api/analytics/locations/", RANGE).json()
    rows = {row["code"]: row for row in body["locations"]}
    assert (rows["S"]["revenue"], rows["S"]["devices"], rows["S"]["active_devices"]) == ("26.00", 2, 2)
    assert rows["S"]["revenue_per_device"] == "13.00"
    assert (rows["N"]["latitude"], rows["N"]["longitude"]) == (pytest.approx(59.8586), pytest.approx(17.6389))
    assert rows["S"]["latitude"] is None
    assert (rows["S"]["percentile"], rows["N"]["percentile"]) == (100.0, 0.0)
    assert [(g["name"], g["revenue"]) for g in body["regions"]] == [("West", "26.00"), ("East", "15.50")]
    assert [(g["name"], g["locations"]) for g in body["cities"]] == [("Lund", 1), ("Uppsala", 1)]
    filtered = chain_a.client("viewer").get("/api/analytics/locations/", {**RANGE, "region": "East"}).json()
    assert [row["code"] for row in filtered["locations"]] == ["N"]
