"""Each metric's evaluated value equals a computation over the raw rows, in local windows across both DST days."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from analytics.rollups.services import rollup_hourly
from reporting.alerts.models import Alert
from reporting.alerts.services import alerts_evaluate
from reporting.alerts.windows import last_complete_window
from tests.analytics.api_factories import booking, device, location, product, resource, sale
from tests.reporting.alert_support import STOCKHOLM, at, raw_sum, rule, value_of


def _sell(rows: list[dict[str, Any]], machine: Any, item: Any, when: str, amount: str, quantity: int = 1) -> None:
    instant = at(when)
    sale(machine, item, instant, amount, quantity=quantity)
    rows.append({"at": instant, "device": machine.asset, "location": machine.location.code, "product": item.sku,
                 "revenue": Decimal(amount), "units": quantity, "transactions": 1})


def test_windows_are_local_and_real_hours_on_both_dst_days() -> None:
    autumn = last_complete_window("day", at("2026-10-26T00:30:00+01:00"), STOCKHOLM)
    assert (autumn.ends_at - autumn.starts_at) == timedelta(hours=25) and autumn.label() == "2026-10-25"
    spring = last_complete_window("day", at("2026-03-30T00:30:00+02:00"), STOCKHOLM)
    assert (spring.ends_at - spring.starts_at) == timedelta(hours=23) and spring.label() == "2026-03-29"
    first = last_complete_window("hour", at("2026-10-25T02:40:00+01:00"), STOCKHOLM)  # the second 02:xx
    second = last_complete_window("hour", at("2026-10-25T03:40:00+01:00"), STOCKHOLM)
    assert first.label() == "2026-10-25 02:00 CEST" and second.label() == "2026-10-25 02:00 CET"
    assert second.starts_at - first.starts_at == timedelta(hours=1)
    week = last_complete_window("week", at("2026-10-26T09:00:00+01:00"), STOCKHOLM)
    assert week.period is not None and (week.period.start, week.period.end) == (date(2026, 10, 19), date(2026, 10, 25))
    assert week.ends_at - week.starts_at == timedelta(days=7, hours=1)
    month = last_complete_window("month", at("2026-04-01T00:05:00+02:00"), STOCKHOLM)
    assert month.label() == "2026-03" and month.ends_at - month.starts_at == timedelta(days=31) - timedelta(hours=1)


def test_kpis_of_every_scope_equal_raw_sums_on_the_autumn_dst_day(in_chain_a: Any) -> None:
    l1, l2 = location("AL1"), location("AL2")
    d1, d2, d3 = device("AD1", l1), device("AD2", l1), device("AD3", l2)
    device("AD4", l2, installed_at=date(2026, 1, 1), retired_at=date(2026, 10, 1))
    p1, p2 = product("AP1"), product("AP2")
    rows: list[dict[str, Any]] = []
    _sell(rows, d1, p1, "2026-10-24T23:30:00+02:00", "5.00")  # the day before
    _sell(rows, d1, p1, "2026-10-25T00:30:00+02:00", "7.00", 2)
    _sell(rows, d1, p2, "2026-10-25T02:15:00+02:00", "3.00")  # the first 02:15
    _sell(rows, d2, p1, "2026-10-25T02:15:00+01:00", "4.00")  # the second 02:15
    _sell(rows, d2, p2, "2026-10-25T23:30:00+01:00", "6.50", 3)
    _sell(rows, d3, p1, "2026-10-24T12:00:00+02:00", "8.00")
    _sell(rows, d1, p2, "2026-10-26T00:30:00+01:00", "9.00")  # the day after
    court = resource("AR1", l1, hours={7: ("08:00", "20:00")})  # 2026-10-25 is a Sunday: open 720 minutes
    bookings = [(60, "completed", "100.00"), (30, "no_show", "0"), (60, "cancelled", "40.00")]
    for minutes, status, amount in bookings:
        booking(court, at("2026-10-25T10:00:00+01:00"), minutes, status, amount)
    rollup_hourly()  # the buckets the pages read, plus the live delta

    chain_rules = {m: rule(m) for m in ("revenue", "sales_revenue", "booking_revenue", "units", "transactions",
                                        "avg_transaction_value", "active_devices", "bookings", "no_show_rate",
                                        "utilization")}
    no_answers = rule("nps")
    scoped = {
        "d1_revenue": rule("revenue", scope={"device": "AD1"}),
        "l1_transactions": rule("transactions", scope={"location": "AL1"}),
        "l1_revenue": rule("revenue", scope={"location": "AL1"}),
        "p1_units": rule("units", scope={"product": "AP1"}),
        "r1_bookings": rule("bookings", scope={"resource": "AR1"}),
        "r1_no_show": rule("no_show_rate", scope={"resource": "AR1"}),
        "r1_utilization": rule("utilization", scope={"resource": "AR1"}),
    }
    silent = rule("hours_without_sales", window="hour")
    report = alerts_evaluate(at=at("2026-10-26T00:40:00+01:00"))
    assert report.evaluated == len(chain_rules) + len(scoped) + 2

    start, end = at("2026-10-25T00:00:00+02:00"), at("2026-10-26T00:00:00+01:00")
    revenue = raw_sum(rows, "revenue", start, end)
    transactions = raw_sum(rows, "transactions", start, end)
    assert revenue == Decimal("20.50")  # 7 + 3 + 4 + 6.50
    # The dashboard's revenue: sales and the bookings that were not cancelled (100 + 0; the 40 was cancelled).
    assert value_of(chain_rules["revenue"]) == revenue + 100
    assert value_of(chain_rules["sales_revenue"]) == revenue
    assert value_of(chain_rules["booking_revenue"]) == 100
    assert not Alert.objects.filter(rule=no_answers).exists()  # no NPS responses: nothing to compare
    no_answers.refresh_from_db()
    assert "no nps in this window" in no_answers.last_note
    assert value_of(chain_rules["units"]) == raw_sum(rows, "units", start, end)
    assert value_of(chain_rules["transactions"]) == transactions
    assert value_of(chain_rules["avg_transaction_value"]) == (revenue / transactions).quantize(Decimal("0.0001"))
    assert value_of(chain_rules["active_devices"]) == len({r["device"] for r in rows if start <= r["at"] < end})
    assert value_of(chain_rules["bookings"]) == 3
    assert value_of(chain_rules["no_show_rate"]) == Decimal("0.5")  # 1 no-show / 2 not cancelled
    assert value_of(chain_rules["utilization"]) == Decimal("0.125")  # 90 booked / 720 open minutes
    assert value_of(scoped["d1_revenue"], "device:AD1") == raw_sum(rows, "revenue", start, end, device="AD1")
    assert value_of(scoped["l1_transactions"], "location:AL1") == raw_sum(rows, "transactions", start, end, location="AL1")
    # The location page's revenue: its machines' sales and its venues' bookings that were not cancelled.
    assert value_of(scoped["l1_revenue"], "location:AL1") == raw_sum(rows, "revenue", start, end, location="AL1") + 100
    assert value_of(scoped["p1_units"], "product:AP1") == raw_sum(rows, "units", start, end, product="AP1")
    assert value_of(scoped["r1_bookings"], "resource:AR1") == 3
    assert value_of(scoped["r1_no_show"], "resource:AR1") == Decimal("0.5")
    assert value_of(scoped["r1_utilization"], "resource:AR1") == Decimal("0.125")

    # Every device in service, one alert each: hours from its last sale to the end of the hour window.
    hour_end = at("2026-10-26T00:00:00+01:00")
    expected = {
        asset: Decimal((hour_end - max(r["at"] for r in rows if r["device"] == asset and r["at"] < hour_end))
                       / timedelta(hours=1)).quantize(Decimal("0.01"))
        for asset in ("AD1", "AD2", "AD3")
    }
    assert expected == {"AD1": Decimal("22.75"), "AD2": Decimal("0.50"), "AD3": Decimal("37.00")}
    found = {a.subject: a.value for a in Alert.objects.filter(rule=silent)}
    assert found == expected  # the retired AD4 is not judged


def test_hour_windows_tell_the_two_autumn_02_hours_apart(in_chain_a: Any) -> None:
    here = location("HL1")
    machine, item = device("HD1", here), product("HP1")
    rows: list[dict[str, Any]] = []
    _sell(rows, machine, item, "2026-10-25T02:15:00+02:00", "3.00")
    _sell(rows, machine, item, "2026-10-25T02:20:00+01:00", "4.00")
    _sell(rows, machine, item, "2026-10-25T02:50:00+01:00", "1.25")
    hourly = rule("revenue", window="hour")
    per_device = rule("units", scope={"device": "HD1"}, window="hour")
    alerts_evaluate(at=at("2026-10-25T02:40:00+01:00"))
    first = at("2026-10-25T02:00:00+02:00")
    assert value_of(hourly) == raw_sum(rows, "revenue", first, first + timedelta(hours=1)) == Decimal("3.00")
    alerts_evaluate(at=at("2026-10-25T03:40:00+01:00"))
    second = at("2026-10-25T02:00:00+01:00")
    assert value_of(hourly) == raw_sum(rows, "revenue", second, second + timedelta(hours=1)) == Decimal("5.25")
    assert value_of(per_device, "device:HD1") == raw_sum(rows, "units", second, second + timedelta(hours=1)) == 2


def test_day_week_and_month_windows_around_the_spring_dst_day(in_chain_a: Any) -> None:
    here = location("SL1")
    machine, item = device("SD1", here), product("SP1")
    rows: list[dict[str, Any]] = []
    for when, amount in (("2026-03-28T23:50:00+01:00", "1.00"), ("2026-03-29T00:10:00+01:00", "2.00"),
                         ("2026-03-29T23:50:00+02:00", "4.00"), ("2026-03-30T00:10:00+02:00", "8.00"),
                         ("2026-03-01T00:05:00+01:00", "16.00"), ("2026-02-28T23:55:00+01:00", "32.00")):
        _sell(rows, machine, item, when, amount)
    rollup_hourly()
    day, week, month = rule("revenue", window="day"), rule("revenue", window="week"), rule("revenue", window="month")
    alerts_evaluate(at=at("2026-03-30T00:30:00+02:00"))
    assert value_of(day) == raw_sum(rows, "revenue", at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"))
    assert value_of(day) == Decimal("6.00")
    assert value_of(week) == raw_sum(rows, "revenue", at("2026-03-23T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"))
    assert value_of(week) == Decimal("7.00")
    alerts_evaluate(at=at("2026-04-01T00:05:00+02:00"))
    assert value_of(month) == raw_sum(rows, "revenue", at("2026-03-01T00:00:00+01:00"), at("2026-04-01T00:00:00+02:00"))
    assert value_of(month) == Decimal("31.00")


def test_anomaly_is_the_largest_abs_z_of_the_window_from_raw_daily_sums(in_chain_a: Any) -> None:
    here = location("NL1")
    spiky, calm, item = device("ND1", here), device("ND2", here), product("NP1")
    amounts: dict[str, list[Decimal]] = {"ND1": [], "ND2": []}
    for offset in range(30):  # 2026-09-26 … 2026-10-25
        day = date(2026, 9, 26) + timedelta(days=offset)
        noon = at(f"{day.isoformat()}T12:00:00+02:00") if day < date(2026, 10, 25) else at(f"{day}T12:00:00+01:00")
        for machine, amount in ((spiky, "100.00" if offset == 29 else "10.00"), (calm, str(10 + offset % 3))):
            sale(machine, item, noon, amount)
            amounts[machine.asset].append(Decimal(amount))
    anomaly = rule("anomaly", condition="above", threshold="2.5")
    alerts_evaluate(at=at("2026-10-26T08:00:00+01:00"))
    series = [float(v) for v in amounts["ND1"]]
    z = (series[-1] - statistics.fmean(series)) / statistics.pstdev(series)
    alert = Alert.objects.get(rule=anomaly)
    assert alert.subject == "ND1" and alert.value is not None
    assert abs(float(alert.value) - z) < 1e-4 and z > 5


def test_days_to_empty_is_the_first_slot_to_run_out_from_fills_and_sales(in_chain_a: Any) -> None:
    from fleet.models import PlanogramSlot
    from routes.models import ServiceVisit, SlotFill

    here = location("EL1")
    machine, item = device("ED1", here), product("EP1")
    now = timezone.now()
    slot = PlanogramSlot.objects.create(device=machine, slot_code="A1", product=item, capacity=20, valid_from=now - timedelta(days=60))
    other = PlanogramSlot.objects.create(device=machine, slot_code="A2", product=item, capacity=20, valid_from=now - timedelta(days=60))
    visit = ServiceVisit.objects.create(device=machine, visited_at=now - timedelta(days=3))
    SlotFill.objects.create(visit=visit, slot=slot, units_added=20, level_after=20)
    SlotFill.objects.create(visit=visit, slot=other, units_added=20, level_after=20)
    sold = [(now - timedelta(days=10), 3, "A1"), (now - timedelta(days=2), 3, "A1"), (now - timedelta(hours=5), 1, "A1"),
            (now - timedelta(days=1), 1, "A2")]
    for when, quantity, code in sold:
        sale(machine, item, when, "1.00", quantity=quantity, slot=code)
    empty = rule("days_to_empty", scope={"device": "ED1"}, condition="below", threshold="100")
    alerts_evaluate()
    # Per slot: stock = level after its last fill − units sold since; velocity = units of the last 14 days / 14.
    days = []
    for code in ("A1", "A2"):
        stock = 20 - sum(q for when, q, c in sold if c == code and when > visit.visited_at)
        velocity = Decimal(sum(q for when, q, c in sold if c == code)) / 14
        days.append(Decimal(stock) / velocity)
    assert min(days) == Decimal(32)  # A1: 16 left at 0.5 a day
    assert Alert.objects.get(rule=empty).value == min(days)


def test_a_location_rule_of_a_per_device_metric_makes_one_alert_per_device_there(in_chain_a: Any) -> None:
    here, elsewhere = location("WL1"), location("WL2")
    item = product("WP1")
    quiet, busy, far = device("WD1", here), device("WD2", here), device("WD3", elsewhere)
    for machine, when in ((quiet, "2026-10-05T06:00:00+02:00"), (busy, "2026-10-05T11:30:00+02:00"),
                          (far, "2026-10-05T01:00:00+02:00")):
        sale(machine, item, at(when), "1.00")
    silent = rule("hours_without_sales", scope={"location": "WL1"}, window="hour", threshold="3")
    alerts_evaluate(at=at("2026-10-05T12:10:00+02:00"))  # the hour 11:00–12:00
    assert {(a.subject, a.value) for a in Alert.objects.filter(rule=silent)} == {("WD1", Decimal("6.00"))}
    alerts_evaluate(at=at("2026-10-05T15:10:00+02:00"))  # 15:00: WD2 silent 3.5 h now too
    assert {(a.subject, a.value) for a in Alert.objects.filter(rule=silent)} == {("WD1", Decimal("9.00")), ("WD2", Decimal("3.50"))}
    anomalies = rule("anomaly", scope={"location": "WL1"}, threshold="2.5")
    alerts_evaluate(at=at("2026-10-06T08:00:00+02:00"))  # 2026-10-05 against the 30 days ending with it
    series = [0.0] * 29 + [1.0]  # each machine's only sale day stands out of 29 empty days
    z = (series[-1] - statistics.fmean(series)) / statistics.pstdev(series)
    found = {a.subject: float(a.value or 0) for a in Alert.objects.filter(rule=anomalies)}
    assert found.keys() == {"WD1", "WD2"} and all(abs(v - z) < 1e-4 for v in found.values())  # WD3 is elsewhere
