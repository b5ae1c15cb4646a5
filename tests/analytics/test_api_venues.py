"""Venue analytics: utilization and no-shows, the funnel, booking heatmaps and revenue by resource, by hand."""

from __future__ import annotations

import pytest

from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

WEEK = {"start": "2026-03-23", "end": "2026-03-29"}  # Monday .. Sunday; the Sunday has 23 hours
EVERY_DAY = {weekday: ("08:00", "20:00") for weekday in range(1, 8)}


@pytest.fixture
def venue(in_chain_a: ChainFixture) -> dict[str, object]:
    hall = f.location("V", name="Hall", region="R1")
    court = f.resource("R1", hall, "court", EVERY_DAY)
    room = f.resource("R2", hall, "room", {1: ("09:00", "10:00")})
    f.resource("R3", hall, "room")  # never opens
    f.booking(court, f.local("2026-03-23 10:00"), 60, "paid", "100.00")
    f.booking(court, f.local("2026-03-24 18:00"), 90, "completed", "150.00")
    f.booking(court, f.local("2026-03-25 10:00"), 60, "cancelled", "100.00")
    f.booking(court, f.local("2026-03-26 10:00"), 60, "no_show", "100.00")
    f.booking(court, f.local("2026-03-29 09:00"), 60, "confirmed", "80.00")
    f.booking(court, f.local("2026-03-30 09:00"), 60, "paid", "999.00")  # the day after the range
    return {"court": court, "room": room}


def test_utilization_and_no_show_rate(chain_a: ChainFixture, venue: dict[str, object]) -> None:
    response = chain_a.client("viewer").get("/api/analytics/utilization/", WEEK)
    assert response.status_code == 200, response.content
    body = response.json()
    resources = {row["code"]: row for row in body["resources"]}
    r1 = resources["R1"]
    assert (r1["bookings"], r1["cancelled"], r1["no_shows"]) == (5, 1, 1)
    assert r1["no_show_rate"] == pytest.approx(1 / 4)
    assert r1["booked_minutes"] == pytest.approx(60 + 90 + 60 + 60)
    # 12 wall-clock hours a day for 7 days, the 23-hour Sunday included (the jump is at 02:00, outside opening hours).
    assert r1["open_minutes"] == 7 * 720
    assert r1["utilization"] == pytest.approx(270 / 5040)
    assert r1["revenue"] == "430.00"
    # No bookings at all: the rates are 0, not an error.
    assert (resources["R2"]["no_show_rate"], resources["R2"]["utilization"], resources["R2"]["open_minutes"]) == (0, 0, 60)
    assert resources["R3"]["open_minutes"] == 0 and resources["R3"]["utilization"] == 0
    total = body["total"]
    assert total["no_show_rate"] == pytest.approx(1 / 4)
    assert total["utilization"] == pytest.approx(270 / (5040 + 60))
    trend = {day["date"]: day for day in body["no_show_trend"]}
    assert len(trend) == 7
    assert trend["2026-03-26"]["no_show_rate"] == 1.0
    assert trend["2026-03-25"]["no_show_rate"] == 0  # only a cancelled booking: 0 / 0 → 0


def test_utilization_resource_type_filter(chain_a: ChainFixture, venue: dict[str, object]) -> None:
    body = chain_a.client("viewer").get("/api/analytics/utilization/", {**WEEK, "resource_type": "room"}).json()
    assert sorted(row["code"] for row in body["resources"]) == ["R2", "R3"]
    assert body["total"]["bookings"] == 0 and body["total"]["no_show_rate"] == 0


def test_booking_and_utilization_heatmaps(chain_a: ChainFixture, venue: dict[str, object]) -> None:
    client = chain_a.client("viewer")
    bookings = client.get("/api/analytics/heatmap/", {**WEEK, "metric": "bookings"}).json()
    assert len(bookings["cells"]) == 168
    booked = {(c["weekday"], c["hour"]): c["value"] for c in bookings["cells"] if c["value"]}
    assert booked == {(1, 10): 1, (2, 18): 1, (4, 10): 1, (7, 9): 1}  # the cancelled Wednesday is not there
    utilization = client.get("/api/analytics/heatmap/", {**WEEK, "metric": "utilization"}).json()
    cells = {(c["weekday"], c["hour"]): c["value"] for c in utilization["cells"]}
    assert cells[(2, 18)] == pytest.approx(1.0)
    assert cells[(2, 19)] == pytest.approx(0.5)  # the 90-minute booking spills 30 minutes into 19:00
    assert cells[(1, 9)] == 0  # open (R1 and R2) but not booked
    assert cells[(7, 9)] == pytest.approx(1.0)
    assert cells[(1, 3)] == 0  # closed


def test_revenue_by_resource_and_resource_type(chain_a: ChainFixture, venue: dict[str, object]) -> None:
    client = chain_a.client("viewer")
    by_resource = client.get("/api/analytics/revenue/", {**WEEK, "group_by": "resource"}).json()
    assert [(g["key"], g["revenue"], g["units"]) for g in by_resource["groups"]] == [("R1", "430.00", 4)]
    by_type = client.get("/api/analytics/revenue/", {**WEEK, "group_by": "resource_type"}).json()
    assert [(g["key"], g["revenue"]) for g in by_type["groups"]] == [("court", "430.00")]


def test_funnel_ordered_and_deduplicated(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    t = f.local
    # S1: a clean run.
    for step, minute in (("visit", 0), ("wizard_start", 1), ("submit", 2), ("paid", 3)):
        f.funnel("S1", step, t(f"2026-03-24 10:0{minute}"))
    # S2: inserted out of order, with repeated visits and a repeated paid: still counts once per step.
    for step, at in (("paid", "10:09"), ("submit", "10:08"), ("visit", "10:05"), ("visit", "10:06"),
                     ("wizard_start", "10:07"), ("paid", "10:10")):
        f.funnel("S2", step, t(f"2026-03-24 {at}"))
    # S3: paid without submitting stops at wizard_start.
    for step, at in (("visit", "11:00"), ("wizard_start", "11:01"), ("paid", "11:02")):
        f.funnel("S3", step, t(f"2026-03-24 {at}"))
    # S4: the wizard before the visit does not count.
    f.funnel("S4", "wizard_start", t("2026-03-24 12:00"))
    f.funnel("S4", "visit", t("2026-03-24 12:05"))
    # S5: no visit at all; S6: outside the range.
    f.funnel("S5", "submit", t("2026-03-24 13:00"))
    f.funnel("S6", "visit", t("2026-03-30 00:01"))
    response = chain_a.client("viewer").get("/api/analytics/conversion/", WEEK)
    assert response.status_code == 200, response.content
    steps = response.json()["steps"]
    assert [(s["step"], s["sessions"]) for s in steps] == [("visit", 4), ("wizard_start", 3), ("submit", 2), ("paid", 2)]
    assert [s["conversion"] for s in steps] == pytest.approx([1, 3 / 4, 2 / 4, 2 / 4])
    assert [s["drop_off"] for s in steps] == pytest.approx([0, 1 / 4, 1 / 3, 0])


def test_empty_venue_answers(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    client = chain_a.client("viewer")
    funnel = client.get("/api/analytics/conversion/", WEEK).json()
    assert [(s["sessions"], s["conversion"], s["drop_off"]) for s in funnel["steps"]] == [(0, 0, 0)] * 4
    utilization = client.get("/api/analytics/utilization/", WEEK).json()
    assert utilization["resources"] == [] and utilization["total"]["utilization"] == 0
