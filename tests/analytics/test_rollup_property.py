"""Property: rollups + live delta equal a plain sum over the raw rows, to the cent, around DST changes,
with rows written in other offsets, late rows, fresh rows, and random ranges; re-runs change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import sales_by, sales_count_distinct, sales_top
from analytics.query.histories import customer_active_months, customer_history
from analytics.rollups.services import rollup_hourly
from analytics.selectors.products import _affinity
from tests.analytics.rollup_support import (
    SaleRow,
    add_sales,
    assert_coarse_match_days,
    clear_chain,
    expected,
    expected_basket_days,
    expected_device_series,
    expected_histories,
    expected_third_rows,
    held_basket_series,
    held_device_series,
    make_catalog,
    rollup_snapshot,
)

# The DST changes of 2026: Europe/Stockholm 29 Mar and 25 Oct, America/New_York 8 Mar and 1 Nov.
EPOCH = date(1970, 1, 1)
DST_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1)]
OFFSETS = [dt_timezone(timedelta(hours=h, minutes=m)) for h, m in ((0, 0), (5, 30), (-8, 0), (13, 0), (-3, -30))]


@st.composite
def sale_rows(draw: st.DrawFn, now: datetime) -> tuple[list[SaleRow], list[SaleRow]]:
    """Rows around the DST days (some ingested late) and rows from the last hours before `now`."""

    def one(sold_at: datetime) -> SaleRow:
        return SaleRow(
            sold_at=sold_at.astimezone(draw(st.sampled_from(OFFSETS))),
            device=draw(st.integers(0, 2)),
            product=draw(st.integers(0, 2)),
            quantity=draw(st.integers(1, 4)),
            amount=Decimal(draw(st.integers(0, 99_999))) / 100,
            transactions=draw(st.integers(1, 3)),
            customer=draw(st.one_of(st.none(), st.integers(0, 2))),
            slot=draw(st.sampled_from(["", "A1", "B7"])),
        )

    early = []
    for _ in range(draw(st.integers(1, 25))):
        day = draw(st.sampled_from(DST_DAYS)) + timedelta(days=draw(st.integers(-1, 1)))
        instant = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            minutes=draw(st.integers(-6 * 60, 30 * 60))
        )
        early.append(one(instant))
    recent = [one(now - timedelta(minutes=draw(st.integers(1, 36 * 60)))) for _ in range(draw(st.integers(0, 8)))]
    return early, recent


def _ranges() -> st.SearchStrategy[tuple[date, date]]:
    return st.tuples(st.dates(date(2026, 2, 20), date(2026, 11, 30)), st.integers(0, 80)).map(
        lambda t: (t[0], t[0] + timedelta(days=t[1]))
    )


def _check(rows: list[SaleRow], tz, ranges: list[tuple[date, date]], catalog) -> None:  # type: ignore[no-untyped-def]
    device_ids = [d.id for d in catalog.devices]
    product_ids = [p.id for p in catalog.products]
    cases = {
        (): lambda r, loc: (),
        ("day",): lambda r, loc: (loc.date(),),
        ("week",): lambda r, loc: (loc.date() - timedelta(days=loc.weekday()),),
        ("month",): lambda r, loc: (loc.date().replace(day=1),),
        ("hour_of_day",): lambda r, loc: (loc.hour,),
        ("device",): lambda r, loc: (device_ids[r.device],),
        ("product", "month"): lambda r, loc: (product_ids[r.product], loc.date().replace(day=1)),
        ("location", "week"): lambda r, loc: (catalog.devices[r.device].location_id, loc.date() - timedelta(days=loc.weekday())),
        ("slot",): lambda r, loc: (r.slot,),
        ("slot", "product"): lambda r, loc: (r.slot, product_ids[r.product]),
    }
    for start, end in ranges:
        period = Period(start, end)
        for by, key in cases.items():
            got = {
                tuple(row[d] for d in by): (row["revenue"], row["units"], row["transactions"])
                for row in sales_by(period=period, by=by)
            }
            want = expected(rows, tz, start, end, key)
            assert got == want, (period, by)
        # Top lists and distinct counts, ranked in the database, against a plain ranking of the expected sums.
        for by, keys in (
            (("device", "location"), (lambda r: device_ids[r.device], lambda r: catalog.devices[r.device].location_id)),
            (("product", "category"), (lambda r: product_ids[r.product], lambda r: catalog.products[r.product].category_id)),
        ):
            ranking = sales_top(period=period, by=by, limit=2)
            for dim, key_of in zip(by, keys, strict=True):
                sums = expected(rows, tz, start, end, lambda r, loc, key_of=key_of: key_of(r))
                want_top = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))[:2]
                got_top = [(row[dim], (row["revenue"], row["units"], row["transactions"])) for row in ranking.top[dim]]
                assert got_top == want_top, (period, dim)
            assert ranking.groups == len(expected(rows, tz, start, end, lambda r, loc, k=keys[0]: k(r))), (period, by)
        assert sales_count_distinct(period=period) == len(expected(rows, tz, start, end, lambda r, loc: r.device))
        # Customer histories up to the range's end: whole months from the customer months, the rest raw; a
        # filter that selects every device takes the raw rows alone.
        want_history = {
            catalog.customers[i].id: (first, last, transactions, amount)
            for i, (first, last, transactions, amount) in expected_histories(rows, tz, end).items()
        }
        for scope in (Filters(), Filters(devices=tuple(device_ids))):
            history = customer_history(until=end, filters=scope)
            got_history = {
                customer: (EPOCH + timedelta(days=first), EPOCH + timedelta(days=last), frequency, Decimal(money) / 10_000)
                for customer, first, last, frequency, money in zip(
                    history.customer_ids.tolist(), history.first_days.tolist(), history.last_days.tolist(),
                    history.frequency.tolist(), history.monetary_e4.tolist(), strict=True,
                )
            }
            assert got_history == want_history, (end, scope)
            # Active months of the range: a whole month from its customer month (its last sale in the range).
            want_months = {
                (catalog.customers[r.customer].id, local.date().replace(day=1))
                for r in rows
                if r.customer is not None and start <= (local := r.sold_at.astimezone(tz)).date() <= end
            }
            customers, month_numbers = customer_active_months(period=period, filters=scope)
            got_months = [(customer, date(number // 12, number % 12 + 1, 1))
                          for customer, number in zip(customers.tolist(), month_numbers.tolist(), strict=True)]
            assert got_months == sorted(want_months), (period, scope)
        # Affinity from the basket days plus raw baskets equals affinity from raw baskets alone (a filter that
        # selects every device reads them all raw).
        assert _affinity(period=period, filters=Filters(), limit=None) == _affinity(
            period=period, filters=Filters(devices=tuple(device_ids)), limit=None
        ), period
        # Revenue by slot code: from its own family with no filter, from the slot family with one.
        every_device = Filters(devices=tuple(device_ids))
        by_slot = {row["slot"]: (row["revenue"], row["units"], row["transactions"])
                   for row in sales_by(period=period, filters=every_device, by=["slot"])}
        assert by_slot == expected(rows, tz, start, end, lambda r, loc: r.slot), (period, "slot, filtered")
        # A filter keeps the rollup path (device family) and must still match.
        only = Filters(devices=(device_ids[0],))
        filtered = sales_by(period=period, filters=only)
        got = {(): (filtered[0]["revenue"], filtered[0]["units"], filtered[0]["transactions"])} if filtered else {}
        assert got == expected([r for r in rows if r.device == 0], tz, start, end, lambda r, loc: ()), (period, only)


@pytest.mark.parametrize("which", ["chain_a", "chain_b"])  # Europe/Stockholm, America/New_York
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_rollups_plus_delta_equal_raw_sums(which: str, data: st.DataObject, request: pytest.FixtureRequest) -> None:
    chain = request.getfixturevalue(which)
    with schema_context(chain.schema):
        tz = chain.chain.tz
        clear_chain()
        catalog = make_catalog()
        now = timezone.now()
        early, recent = data.draw(sale_rows(now))
        late_flags = data.draw(st.lists(st.booleans(), min_size=len(early), max_size=len(early)))
        on_time = [r for r, late in zip(early, late_flags, strict=True) if not late]
        late = [r for r, late in zip(early, late_flags, strict=True) if late]
        ranges = data.draw(st.lists(_ranges(), min_size=1, max_size=3))
        ranges.append((now.astimezone(tz).date() - timedelta(days=2), now.astimezone(tz).date()))

        add_sales(catalog, [SaleRow(**{**r.__dict__, "ingested_at": now - timedelta(days=30)}) for r in on_time])
        rollup_hourly()  # the first build
        _check(on_time, tz, ranges, catalog)

        # Late rows (sold long ago, ingested now) and fresh rows count at once, through the live delta ...
        add_sales(catalog, late + recent)
        everything = on_time + late + recent
        _check(everything, tz, ranges, catalog)
        # ... and land in their buckets at the next hourly run; a second run rewrites nothing.
        rollup_hourly()
        _check(everything, tz, ranges, catalog)
        assert_coarse_match_days()
        with connection.cursor() as cursor:
            cursor.execute("SELECT local_date, product_a, product_b, baskets FROM analytics_basketdayrollup")
            held = {(day, a, b): n for day, a, b, n in cursor.fetchall()}
        assert held == expected_basket_days(everything, tz, catalog, now.astimezone(tz).date())
        assert held_basket_series() == held  # each day packed into one row, the same counts
        assert held_device_series() == expected_device_series(everything, tz, catalog)
        # The customer histories of every whole third, the late rows' thirds and each later one (recomputed for
        # the customers whose row changed), against a plain sum up to each third's end.
        with connection.cursor() as cursor:
            cursor.execute("SELECT starts_on, customer_id, first_at, last_at, transactions, amount_e4"
                           " FROM analytics_customerhistoryrollup")
            thirds = {(start, c): (first, last, n, e4) for start, c, first, last, n, e4 in cursor.fetchall()}
        assert thirds == expected_third_rows(everything, tz, catalog, now.astimezone(tz).date())
        before = rollup_snapshot()
        rollup_hourly()
        assert rollup_snapshot() == before
        _check(everything, tz, ranges, catalog)
