"""customers (cohorts, RFM, LTV, churn) and routes (run efficiency, serviced revenue, driver consistency), by hand."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from routes.models import Driver, Route, RouteRun, RouteStop, ServiceVisit
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

FEB_MAR = {"start": "2026-02-01", "end": "2026-03-31"}


@pytest.fixture
def buyers(in_chain_a: ChainFixture) -> None:
    here = f.location("L")
    machine, item = f.device("D1", here), f.product("P1")
    court = f.resource("R1", here)
    a, b, c, d = (f.customer(ref) for ref in ("A", "B", "C", "D"))
    f.sale(machine, item, f.local("2026-01-15 12:00"), "10.00", buyer=a)  # before the range: A's first month is January
    f.sale(machine, item, f.local("2026-02-03 12:00"), "20.00", buyer=a)
    f.booking(court, f.local("2026-03-10 18:00"), 60, "paid", "30.00", buyer=a)
    f.sale(machine, item, f.local("2026-02-10 12:00"), "5.00", buyer=b)
    f.sale(machine, item, f.local("2026-03-05 12:00"), "5.00", buyer=b)
    f.booking(court, f.local("2026-02-20 18:00"), 60, "cancelled", "99.00", buyer=c)  # a cancellation is no purchase
    f.booking(court, f.local("2026-03-20 18:00"), 60, "completed", "40.00", buyer=c)
    f.sale(machine, item, f.local("2026-04-02 12:00"), "50.00", buyer=d)  # after the range
    f.sale(machine, item, f.local("2026-03-06 12:00"), "7.00")  # anonymous


def test_cohorts_first_time_vs_repeat(chain_a: ChainFixture, buyers: None) -> None:
    response = chain_a.client("viewer").get("/api/analytics/customers/", FEB_MAR)
    assert response.status_code == 200, response.content
    cohorts = response.json()["cohorts"]
    assert cohorts == [
        {"month": "2026-02", "first_time": 1, "repeat": 1, "active": 2},  # B new, A from January
        {"month": "2026-03", "first_time": 1, "repeat": 2, "active": 3},  # C new (the cancelled February booking does not count)
    ]


def test_rfm_lifetime_value_and_churn(chain_a: ChainFixture, buyers: None) -> None:
    body = chain_a.client("viewer").get("/api/analytics/customers/", FEB_MAR).json()
    rfm = {row["customer"]: row for row in body["rfm"]}
    assert set(rfm) == {"A", "B", "C"}  # D buys after the end of the range
    # As of 2026-03-31: A last 03-10 (21 days), B 03-05 (26), C 03-20 (11).
    assert {ref: (row["recency_days"], row["frequency"], row["monetary"]) for ref, row in rfm.items()} == {
        "A": (21, 3, "60.00"), "B": (26, 2, "10.00"), "C": (11, 1, "40.00")
    }
    # Quintiles of three customers are 1, 3, 5.
    assert {ref: (row["r_score"], row["f_score"], row["m_score"]) for ref, row in rfm.items()} == {
        "A": (3, 5, 5), "B": (1, 3, 1), "C": (5, 1, 3)
    }
    # C started 11 days ago → New; A: F 5 → Loyal (R 3 is not Champions); B: R 1, F 3 → At Risk.
    assert {ref: row["segment"] for ref, row in rfm.items()} == {"A": "Loyal", "B": "At Risk", "C": "New"}
    assert [row["customer"] for row in body["rfm"]] == ["A", "C", "B"]  # by monetary
    assert rfm["A"]["lifetime_value"] == "60.00" and rfm["A"]["average_order_value"] == "20.00"
    # Typical gaps: A (03-10 − 01-15) / 2 = 27, B 23 / 1 = 23, C one-time → median(27, 23) = 25.
    assert (rfm["A"]["typical_gap_days"], rfm["B"]["typical_gap_days"], rfm["C"]["typical_gap_days"]) == (27, 23, 25)
    assert rfm["A"]["churn_risk"] == 0 and rfm["C"]["churn_risk"] == 0
    assert rfm["B"]["churn_risk"] == pytest.approx((26 / 23 - 1) / 2)
    assert body["lifetime_value"] == {"customers": 3, "total": "110.00", "average": "36.67", "median": "40.00"}
    segments = {row["segment"]: row["customers"] for row in body["segments"]}
    assert segments == {"Champions": 0, "Loyal": 1, "New": 1, "At Risk": 1, "Hibernating": 0}


def test_customers_empty(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    body = chain_a.client("viewer").get("/api/analytics/customers/", FEB_MAR).json()
    assert body["cohorts"] == [] and body["rfm"] == []
    assert body["lifetime_value"]["total"] == "0.00"


@pytest.fixture
def rounds(in_chain_a: ChainFixture) -> dict[str, object]:
    here = f.location("L")
    d1, d2, d3 = f.device("D1", here), f.device("D2", here), f.device("D3", here)
    item = f.product("P1")
    dan = Driver.objects.create(code="DAN", name="Dan")
    route = Route.objects.create(code="R1", name="Route one", driver=dan)
    for position, machine in enumerate((d1, d2, d3), start=1):
        RouteStop.objects.create(route=route, device=machine, position=position)
    t = f.local
    ServiceVisit.objects.create(device=d1, visited_at=t("2026-03-01 10:00"), cash_collected=0)  # outside any run
    run1 = RouteRun.objects.create(route=route, driver=dan, scheduled_for=date(2026, 3, 10), stops_planned=3,
                                   started_at=t("2026-03-10 08:00"), finished_at=t("2026-03-10 09:30"))
    ServiceVisit.objects.create(route_run=run1, device=d1, visited_at=t("2026-03-10 08:15"), cash_collected="50.00")
    ServiceVisit.objects.create(route_run=run1, device=d2, visited_at=t("2026-03-10 08:45"), cash_collected="30.00")
    ServiceVisit.objects.create(route_run=run1, device=d3, visited_at=t("2026-03-10 09:15"), completed=False)
    run2 = RouteRun.objects.create(route=route, driver=dan, scheduled_for=date(2026, 3, 17), stops_planned=3,
                                   started_at=t("2026-03-17 08:00"), finished_at=t("2026-03-17 09:00"))
    for minute, machine in ((10, d1), (30, d2), (50, d3)):
        ServiceVisit.objects.create(route_run=run2, device=machine, visited_at=t(f"2026-03-17 08:{minute}"), cash_collected="10.00")
    f.sale(d1, item, t("2026-03-05 12:00"), "12.00")  # D1 between 03-01 and run 1
    f.sale(d1, item, t("2026-03-12 12:00"), "7.00")  # D1 between run 1 and run 2
    f.sale(d2, item, t("2026-03-15 12:00"), "4.00")  # D2 between run 1 and run 2
    f.sale(d3, item, t("2026-03-16 12:00"), "9.00")  # D3 was not serviced on run 1: no window before run 2
    f.sale(d1, item, t("2026-03-18 12:00"), "100.00")  # after run 2
    return {"route": route}


def test_route_runs_and_driver_consistency(chain_a: ChainFixture, rounds: dict[str, object]) -> None:
    response = chain_a.client("viewer").get("/api/analytics/routes/", {"start": "2026-03-01", "end": "2026-03-31"})
    assert response.status_code == 200, response.content
    body = response.json()
    runs = {row["scheduled_for"]: row for row in body["runs"]}
    first, second = runs["2026-03-10"], runs["2026-03-17"]
    assert (first["stops_planned"], first["stops_completed"], first["duration_minutes"]) == (3, 2, 90)
    assert first["completion_rate"] == pytest.approx(2 / 3) and first["minutes_per_stop"] == 45
    assert (first["cash_collected"], first["serviced_revenue"]) == ("80.00", "12.00")
    assert (second["stops_completed"], second["minutes_per_stop"], second["completion_rate"]) == (3, 20, 1)
    assert (second["cash_collected"], second["serviced_revenue"]) == ("30.00", "11.00")
    assert [row["scheduled_for"] for row in body["runs"]] == ["2026-03-17", "2026-03-10"]
    [dan] = body["drivers"]
    assert (dan["driver"], dan["runs"], dan["stops_completed"]) == ("Dan", 2, 5)
    assert dan["avg_minutes_per_stop"] == pytest.approx(32.5)
    cv = statistics.pstdev([45, 20]) / statistics.fmean([45, 20])
    assert dan["minutes_per_stop_cv"] == pytest.approx(cv) and dan["consistency"] == pytest.approx(1 - cv)
    assert body["total"]["completion_rate"] == pytest.approx(5 / 6)
    assert body["total"]["minutes_per_stop"] == pytest.approx(150 / 5)


def test_routes_filter_by_route(chain_a: ChainFixture, rounds: dict[str, object]) -> None:
    client = chain_a.client("viewer")
    route = rounds["route"]
    mine = client.get("/api/analytics/routes/", {"start": "2026-03-01", "end": "2026-03-31", "route": route.id}).json()  # type: ignore[attr-defined]
    assert len(mine["runs"]) == 2
    other = client.get("/api/analytics/routes/", {"start": "2026-03-01", "end": "2026-03-31", "route": route.id + 999}).json()  # type: ignore[attr-defined]
    assert other["runs"] == [] and other["drivers"] == []


def test_customers_first_rows_and_totals_match_every_row(chain_a: ChainFixture, buyers: None) -> None:
    # Only the rows shown become dicts: a limited answer must be the head of the full list, with the same totals,
    # and the full list must hold each customer's sums over the raw purchases (sales and non-cancelled bookings).
    from decimal import Decimal

    from analytics.filters import Filters
    from analytics.periods import Period
    from analytics.selectors.customers import customer_analytics
    from bookings.models import Booking
    from fleet.models import Sale

    period = Period(date(2026, 2, 1), date(2026, 3, 31))
    full = customer_analytics(period=period, filters=Filters())
    head = customer_analytics(period=period, filters=Filters(), limit=2)
    spent: dict[str, Decimal] = {}
    for sale in Sale.objects.filter(customer__isnull=False, sold_at__lt=f.local("2026-04-01 00:00")):
        spent[sale.customer.external_ref] = spent.get(sale.customer.external_ref, Decimal(0)) + sale.amount
    bookings = Booking.objects.filter(customer__isnull=False, starts_at__lt=f.local("2026-04-01 00:00"))
    for booking in bookings.exclude(status="cancelled"):
        spent[booking.customer.external_ref] = spent.get(booking.customer.external_ref, Decimal(0)) + booking.amount
    assert {row["customer"]: row["monetary"] for row in full["rfm"]} == spent
    assert [row["customer"] for row in full["rfm"]] == sorted(spent, key=lambda ref: (-spent[ref], ref))
    assert head["rfm"] == full["rfm"][:2] and len(head["rfm"]) == 2 and head["rfm"].total == len(full["rfm"])
    assert {k: v for k, v in head.items() if k != "rfm"} == {k: v for k, v in full.items() if k != "rfm"}
    assert full["lifetime_value"]["total"] == sum(spent.values())
    assert full["churn"]["average_risk"] == pytest.approx(sum(r["churn_risk"] for r in full["rfm"]) / len(spent))


def test_active_months_match_local_months_of_raw_purchases(chain_a: ChainFixture, buyers: None) -> None:
    # Parity of the months read by position among the months' first instants with the local month of each raw
    # purchase, across local midnights that are another day (and month) in UTC, before and after the DST change.
    from analytics.filters import Filters
    from analytics.periods import Period
    from analytics.query import current_chain
    from analytics.query.histories import customer_active_months
    from bookings.models import Booking
    from fleet.models import Device, Product, Sale

    machine, item = Device.objects.get(), Product.objects.get()
    late = f.customer("E")
    f.sale(machine, item, f.local("2026-03-01 00:30"), "1.00", buyer=late)  # 2026-02-28 23:30 UTC
    f.sale(machine, item, f.local("2026-03-31 23:30"), "1.00", buyer=late)  # summer time: 21:30 UTC
    f.sale(machine, item, f.local("2026-04-01 00:10"), "1.00", buyer=late)  # after the range
    tz = current_chain().tz
    period = Period(date(2026, 1, 20), date(2026, 3, 31))
    instants = [(s.customer_id, s.sold_at) for s in Sale.objects.filter(customer__isnull=False)]
    instants += [(b.customer_id, b.starts_at) for b in Booking.objects.filter(customer__isnull=False).exclude(status="cancelled")]
    expected = {
        (customer, local.date().replace(day=1))
        for customer, at in instants
        if period.start <= (local := at.astimezone(tz)).date() <= period.end
    }
    customers, numbers = customer_active_months(period=period, filters=Filters())
    months = [(c, date(n // 12, n % 12 + 1, 1)) for c, n in zip(customers.tolist(), numbers.tolist(), strict=True)]
    assert months == sorted(expected)
    assert {m for c, m in months if c == late.id} == {date(2026, 3, 1)}
