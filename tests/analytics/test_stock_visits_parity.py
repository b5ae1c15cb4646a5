"""Stock since the last fill and the revenue serviced per visit, against a plain computation over the raw rows.

The readers find a slot's last fill among its machine's visits and a visit's previous one by an index probe;
here the same figures are computed the simple way (every fill, every sale, in Python), on a history with
incomplete visits, visits at the same instant, slots skipped at a visit, sales ingested late (after a rollup
job) and a window across the autumn DST change.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.filters import NO_FILTERS
from analytics.models import SlotStockDirty, SlotStockRollup, VisitRevenueRollup
from analytics.periods import local_midnight
from analytics.query.stock_and_visits import run_visit_totals, slot_stock_since_fill, visit_serviced_revenue
from analytics.rollups.services import rollup_hourly
from fleet.models import PlanogramSlot, Sale
from routes.models import Route, RouteRun, ServiceVisit, SlotFill
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

# 2026-10-25 03:00 local → 02:00 (Europe/Stockholm): a 25-hour day inside the history.
DST_DAY = f.local("2026-10-25 00:30")


def _history(rng: random.Random, now: datetime, first: datetime = DST_DAY) -> dict[str, Any]:
    here = f.location("PL")
    items = [f.product(f"PP{i}") for i in range(4)]
    machines = [f.device(f"PD{i}", here) for i in range(3)]
    slots: list[PlanogramSlot] = []
    for m, machine in enumerate(machines):
        for k in range(3):
            slots.append(f.slot(machine, f"A{k}", items[(m + k) % 4], now - timedelta(days=90), capacity=10 + k))
    visits: list[ServiceVisit] = []
    for machine in machines:
        at = first - timedelta(hours=72)
        while at < now - timedelta(hours=2):
            visit = ServiceVisit.objects.create(device=machine, visited_at=at, completed=rng.random() > 0.2)
            visits.append(visit)
            if rng.random() < 0.15:  # a second visit record at the very same instant
                visits.append(ServiceVisit.objects.create(device=machine, visited_at=at, completed=True))
            at += timedelta(hours=rng.randint(5, 40))
    for visit in visits:
        if not visit.completed:
            continue
        for slot in slots:
            if slot.device_id == visit.device_id and rng.random() < 0.8:  # some slots skipped at a visit
                SlotFill.objects.create(visit=visit, slot=slot, units_added=1, level_after=rng.randint(5, slot.capacity))
    start = first - timedelta(hours=80)
    for _ in range(400):
        slot = rng.choice(slots)
        at = start + (now - start) * rng.random()
        f.sale(slot.device, slot.product, at, f"{rng.randint(1, 900) / 100:.2f}", quantity=rng.randint(1, 3),
               slot=rng.choice([slot.slot_code, slot.slot_code, ""]))
    return {"slots": slots, "visits": visits}


def _late_sales(rng: random.Random, slots: list[PlanogramSlot], now: datetime) -> None:
    """Sales of the past ingested after the rollup job (late telemetry)."""
    for _ in range(40):
        slot = rng.choice(slots)
        sale = f.sale(slot.device, slot.product, now - timedelta(hours=rng.randint(3, 70)), "1.25", quantity=2,
                      slot=slot.slot_code)
        Sale.objects.filter(pk=sale.pk).update(ingested_at=timezone.now() + timedelta(minutes=5))


def _expected_stock(slots: list[PlanogramSlot], now: datetime) -> dict[int, tuple[int | None, datetime | None, int]]:
    fills = list(SlotFill.objects.select_related("visit"))
    sales = list(Sale.objects.all())
    expected: dict[int, tuple[int | None, datetime | None, int]] = {}
    for slot in slots:
        own = [x for x in fills if x.slot_id == slot.id and x.visit.visited_at <= now]
        if not own:
            expected[slot.id] = (None, None, 0)
            continue
        last = max(own, key=lambda x: (x.visit.visited_at, x.visit.id))
        sold = sum(s.quantity for s in sales if s.device_id == slot.device_id and s.slot_code == slot.slot_code
                   and last.visit.visited_at < s.sold_at <= now)
        expected[slot.id] = (last.level_after, last.visit.visited_at, sold)
    return expected


def _expected_window(slots: list[PlanogramSlot], window: tuple[datetime, datetime]) -> dict[int, int]:
    sales = list(Sale.objects.all())
    return {
        slot.id: sum(s.quantity for s in sales if s.device_id == slot.device_id and s.slot_code == slot.slot_code
                     and window[0] <= s.sold_at < window[1])
        for slot in slots
    }


def _expected_serviced(visits: list[ServiceVisit]) -> dict[int, Decimal]:
    sales = list(Sale.objects.all())
    done = sorted((v for v in visits if v.completed), key=lambda v: (v.device_id, v.visited_at, v.id))
    expected: dict[int, Decimal] = {}
    for previous, visit in pairwise(done):
        if previous.device_id != visit.device_id:
            continue
        expected[visit.id] = sum(
            (s.amount for s in sales if s.device_id == visit.device_id and previous.visited_at < s.sold_at <= visit.visited_at),
            Decimal(0),
        )
    return expected


@pytest.mark.parametrize("seed", [1, 2])
def test_stock_and_serviced_revenue_equal_a_plain_computation(chain_a: ChainFixture, in_chain_a: ChainFixture, seed: int) -> None:
    rng = random.Random(seed)
    now = f.local("2026-10-27 15:00")
    history = _history(rng, now)
    rollup_hourly()  # the marks move; the readers read raw rows and must not care
    _late_sales(rng, history["slots"], now)
    for at in (now, DST_DAY + timedelta(hours=3), DST_DAY - timedelta(hours=5)):
        # A window across the DST day that starts before some slots' last fills and ends after `at`.
        window = (DST_DAY - timedelta(hours=30), at + timedelta(hours=7))
        rows = slot_stock_since_fill(filters=NO_FILTERS, now=at, window=window)
        got = {row.slot_id: (row.level_after, row.filled_at, row.sold_since) for row in rows}
        assert got == _expected_stock(history["slots"], at)
        in_window = _expected_window(history["slots"], window)
        assert {row.slot_id: row.window_units for row in rows} == in_window
        assert any(in_window.values())
    visit_ids = [v.id for v in history["visits"]]
    expected = _expected_serviced(history["visits"])
    assert len(expected) > 8
    assert visit_serviced_revenue(visit_ids=visit_ids) == expected
    some = visit_ids[::3]  # asking for a subset answers those alone, each against its own previous visit
    assert visit_serviced_revenue(visit_ids=some) == {k: v for k, v in expected.items() if k in set(some)}
    # Per route run: the visits of two runs (every third and every fifth visit, cash on some), summed by hand.
    route = Route.objects.create(code="PR", name="Parity")
    runs = [RouteRun.objects.create(route=route, scheduled_for=now.date() - timedelta(days=i)) for i in range(2)]
    members = {runs[0].id: visit_ids[::3], runs[1].id: [v for v in visit_ids[1::5] if v not in set(visit_ids[::3])]}
    for run_id, ids in members.items():
        ServiceVisit.objects.filter(id__in=ids).update(route_run_id=run_id)
        ServiceVisit.objects.filter(id__in=ids[::2]).update(cash_collected=Decimal("2.50"))
    assert run_visit_totals(run_ids=list(members)) == {
        run_id: (Decimal("2.50") * len(ids[::2]), sum((expected.get(v, Decimal(0)) for v in ids), Decimal(0)))
        for run_id, ids in members.items()
    }


def test_slot_stock_the_rollup_jobs_hold_equals_a_plain_computation(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    """The rows a job keeps plus the sales its marks leave out (sold since W, ingested since I); machines whose
    visits or fills any statement touched since are read raw, until the next job holds them again."""
    rng = random.Random(3)
    history = _history(rng, timezone.now(), first=timezone.now() - timedelta(days=17))
    slots, machines = history["slots"], sorted({slot.device_id for slot in history["slots"]})
    route = Route.objects.create(code="PH", name="Held")
    runs = [RouteRun.objects.create(route=route, scheduled_for=timezone.now().date() - timedelta(days=i)) for i in range(3)]
    for i, visit in enumerate(history["visits"]):  # every visit on one of three runs, cash on every other one
        ServiceVisit.objects.filter(pk=visit.pk).update(route_run=runs[i % 3], cash_collected=Decimal(i % 2))
    rollup_hourly()
    assert SlotStockRollup.objects.count() == len(slots) and not SlotStockDirty.objects.exists()
    assert VisitRevenueRollup.objects.count() == len(_expected_serviced(history["visits"]))
    _late_sales(rng, slots, timezone.now())
    for slot in slots[::2]:  # after the watermark: today's sales, and one ahead of the clock inside the window
        f.sale(slot.device, slot.product, timezone.now(), "2.00", quantity=3, slot=slot.slot_code)
    f.sale(slots[1].device, slots[1].product, timezone.now() + timedelta(minutes=30), "2.00", quantity=5,
           slot=slots[1].slot_code)
    # Machine 0 is visited and refilled after the job; a fill of machine 1 is corrected in place.
    visit = ServiceVisit.objects.create(device_id=machines[0], visited_at=timezone.now(), route_run=runs[0])
    for slot in slots:
        if slot.device_id == machines[0] and slot.slot_code != "A2":
            SlotFill.objects.create(visit=visit, slot=slot, units_added=4, level_after=slot.capacity)
    corrected = SlotFill.objects.filter(slot__device_id=machines[1]).order_by("-visit__visited_at").first()
    assert corrected is not None
    SlotFill.objects.filter(pk=corrected.pk).update(level_after=1)
    assert set(SlotStockDirty.objects.values_list("device_id", flat=True)) == set(machines[:2])

    for _ in range(2):  # as the job left them (machine 2 held, 0 and 1 raw), then all held again
        tz = in_chain_a.chain.tz
        today = timezone.localtime(timezone.now(), tz).date()
        window = (local_midnight(today - timedelta(days=13), tz), local_midnight(today + timedelta(days=1), tz))
        at = timezone.now()
        rows = slot_stock_since_fill(filters=NO_FILTERS, now=at, window=window)
        assert {row.slot_id: (row.level_after, row.filled_at, row.sold_since) for row in rows} == (
            _expected_stock(slots, at)
        )
        assert {row.slot_id: row.window_units for row in rows} == _expected_window(slots, window)
        visits = list(ServiceVisit.objects.all())
        serviced = _expected_serviced(visits)
        assert run_visit_totals(run_ids=[run.id for run in runs]) == {
            run.id: (
                sum((v.cash_collected for v in visits if v.route_run_id == run.id), Decimal(0)),
                sum((serviced.get(v.id, Decimal(0)) for v in visits if v.route_run_id == run.id), Decimal(0)),
            )
            for run in runs
        }
        rollup_hourly()
        assert not SlotStockDirty.objects.exists()


def test_a_visit_fills_only_its_own_machine(chain_a: ChainFixture, in_chain_a: ChainFixture) -> None:
    here, item = f.location("FL"), f.product("FP")
    one, other = f.device("FD1", here), f.device("FD2", here)
    slot = f.slot(other, "A1", item, timezone.now() - timedelta(days=5))
    visit = ServiceVisit.objects.create(device=one, visited_at=timezone.now())
    with pytest.raises(ValidationError):
        SlotFill(visit=visit, slot=slot, level_after=3).full_clean()
    SlotFill(visit=ServiceVisit.objects.create(device=other, visited_at=timezone.now()), slot=slot, level_after=3).full_clean()


def test_a_visit_marks_its_machine_stale_in_its_own_chain_only(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    """The triggers resolve their tables in the writing chain's schema, on one connection that serves both chains."""
    with schema_context(chain_b.schema):
        other = f.device("SB1", f.location("SBL"))
        ServiceVisit.objects.create(device=other, visited_at=timezone.now())  # plans cached in chain B first
    with schema_context(chain_a.schema):
        here = f.device("SA1", f.location("SAL"))
        slot = f.slot(here, "A1", f.product("SAP"), timezone.now() - timedelta(days=3))
        visit = ServiceVisit.objects.create(device=here, visited_at=timezone.now())
        SlotFill.objects.create(visit=visit, slot=slot, level_after=4)
        ServiceVisit.objects.filter(pk=visit.pk).delete()  # its fill goes with it
        # One mark per statement: the visit and its fill inserted, the fill and the visit deleted.
        assert list(SlotStockDirty.objects.values_list("device_id", flat=True)) == [here.id] * 4
    with schema_context(chain_b.schema):
        assert list(SlotStockDirty.objects.values_list("device_id", flat=True)) == [other.id]
