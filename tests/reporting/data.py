"""Hand-made chain data for the export tests: a little of every kind, across Stockholm's spring DST day (2026-03-29)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.analytics import api_factories as f

RANGE = {"start": "2026-03-27", "end": "2026-03-30"}  # 2026-03-29 has 23 hours in Stockholm
EMPTY_RANGE = {"start": "2025-01-06", "end": "2025-01-12"}


def seed() -> dict[str, Any]:
    """Sales: A-1 10.00 a day (2 units) on each of the four days; A-2 5.00 + 7.00 on the 29th (the DST day)
    and 12.00 at 00:30 local on the 30th (still the 29th in UTC); A-3 6.005 at 00:15 on the 27th (the 26th
    in UTC). Two sales just outside the range. A device named like a formula. Venue: one court with
    bookings and a funnel."""
    north = f.location("N", name="North", region="R1", city="Uppsala")
    south = f.location("S", name="=HYPERLINK(\"http://evil\")", region="R2", city="Lund")
    snacks = f.category("Snacks")
    d1 = f.device("A-1", north)
    d2 = f.device("A-2", south)
    d3 = f.device("-A3", south)  # starts with '-': a formula to a spreadsheet
    f.device("A-4", south, retired_at=date(2026, 3, 1), installed_at=date(2025, 1, 1))
    p1 = f.product("P1", name="@Cola", category=snacks, cost="0.50")
    p2 = f.product("P2", name="Chips", category=snacks)
    buyer = f.customer("C-1")
    f.sale(d1, p1, f.local("2026-03-27 09:00"), "10.00", quantity=2, slot="A1", buyer=buyer)
    f.sale(d1, p1, f.local("2026-03-28 09:00"), "10.00", quantity=2, slot="A1")
    f.sale(d1, p2, f.local("2026-03-29 09:00"), "10.00", quantity=2, slot="A2", buyer=buyer)
    f.sale(d1, p2, f.local("2026-03-30 09:00"), "10.00", quantity=2, slot="A2")
    f.sale(d1, p1, f.local("2026-03-26 23:59"), "99.00")
    f.sale(d1, p1, f.local("2026-03-31 00:00"), "99.00")
    f.sale(d2, p1, f.local("2026-03-29 20:00"), "5.00", quantity=2)
    f.sale(d2, p2, f.local("2026-03-29 23:30"), "7.00", quantity=2)
    f.sale(d2, p2, f.local("2026-03-30 00:30"), "12.00", quantity=4)
    f.sale(d3, p2, f.local("2026-03-27 00:15"), "6.005")
    court = f.resource("CRT", north, "court", {d: ("08:00", "20:00") for d in range(1, 8)})
    f.booking(court, f.local("2026-03-28 10:00"), 60, "paid", "20.00", buyer=buyer)
    f.booking(court, f.local("2026-03-29 10:00"), 90, "no_show", "30.00")
    f.booking(court, f.local("2026-03-30 18:00"), 60, "cancelled", "20.00")
    for session, steps in (("s1", ("visit", "wizard_start", "submit", "paid")), ("s2", ("visit", "wizard_start")), ("s3", ("visit",))):
        for minute, step in enumerate(steps):
            f.funnel(session, step, f.local(f"2026-03-28 12:{minute:02d}"))
    return {"devices": (d1, d2, d3), "products": (p1, p2), "court": court}
