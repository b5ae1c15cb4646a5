"""The marks module: the live-delta predicates, the version probe and the retry when a rollup job moved the marks
mid-read, used by every reader (sums, rankings, a device's days) - and the caches behind one interface."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from analytics.filters import NO_FILTERS, Filters
from analytics.periods import Period
from analytics.query import sales_by, sales_top
from analytics.query.cache import BUCKETS, STABLE_PARTS, QueryCache, caches_disabled
from analytics.query.device_sales import MONEY_SCALE, device_daily_revenue
from analytics.query.marks import (
    MarksMoved,
    Watermark,
    fetch_versioned,
    live_delta,
    read_at_marks,
    same_watermark,
    watermark,
)
from analytics.rollups.services import rollup_hourly
from tests.analytics.rollup_support import SaleRow, add_sales, make_catalog

W = datetime(2026, 3, 10, tzinfo=UTC)
INGESTED = datetime(2026, 3, 12, tzinfo=UTC)
MARK = Watermark(covered_until=W, ingested_until=INGESTED, version=1)


def test_live_delta_is_the_rows_no_bucket_holds() -> None:
    params: dict[str, Any] = {}
    # A range across W: the tail from W, and the late rows (ingested at or after I) before it.
    lo, hi = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)
    tail, late = live_delta("s.sold_at", "s.ingested_at", lo=lo, hi=hi, mark=MARK, params=params)
    assert tail == "s.sold_at >= %(tail_lo)s AND s.sold_at < %(range_hi)s" and params["tail_lo"] == W
    assert late == "s.sold_at >= %(range_lo)s AND s.sold_at < %(late_hi)s AND s.ingested_at >= %(i)s"
    assert (params["late_hi"], params["i"]) == (W, INGESTED)
    # A range that ends before W has no tail; one that starts after W has no late rows; no marks: everything.
    assert len(live_delta("e", "g", lo=lo, hi=W - timedelta(days=1), mark=MARK, params={})) == 1
    assert live_delta("e", "g", lo=W, hi=hi, mark=MARK, params={}) == ["e >= %(tail_lo)s AND e < %(range_hi)s"]
    assert live_delta("e", "g", lo=lo, hi=hi, mark=None, params={}) == ["e >= %(range_lo)s AND e < %(range_hi)s"]


def test_read_at_marks_starts_again_from_the_new_marks(in_chain_a: Any) -> None:
    catalog = make_catalog()
    when = timezone.now() - timedelta(days=3)
    add_sales(catalog, [SaleRow(sold_at=when, device=0, product=0, quantity=1, amount=Decimal("2.00"), ingested_at=when)])
    rollup_hourly()
    stale = watermark()
    assert stale is not None
    add_sales(catalog, [SaleRow(sold_at=when, device=1, product=0, quantity=1, amount=Decimal("3.00"))])
    rollup_hourly()  # a job commits: the version moves
    fresh = watermark()
    assert fresh is not None and fresh.version != stale.version
    with pytest.raises(MarksMoved):
        fetch_versioned("SELECT 1", {}, stale)
    assert fetch_versioned("SELECT 1", {}, fresh) == [(1,)]
    seen: list[Watermark | None] = []

    def read(mark: Watermark | None) -> str:
        seen.append(mark)
        assert mark is not None
        fetch_versioned("SELECT 1", {}, mark)
        return "read"

    assert read_at_marks(read, mark=stale) == "read" and seen == [stale, fresh]


def test_every_reader_survives_a_job_between_marks_and_buckets(in_chain_a: Any) -> None:
    """Pinned to marks read before a job committed (as a page is, inside same_watermark), the sums, the rankings
    and a device's days still equal the raw rows: each reader notices the version moved and starts again."""
    tz = in_chain_a.chain.tz
    catalog = make_catalog()
    when = timezone.now() - timedelta(days=4)
    add_sales(catalog, [SaleRow(sold_at=when, device=0, product=0, quantity=1, amount=Decimal("2.00"), ingested_at=when)])
    rollup_hourly()
    period = Period(when.astimezone(tz).date(), timezone.now().astimezone(tz).date())
    with same_watermark():
        watermark()  # the page's marks, read before the job below
        add_sales(catalog, [SaleRow(sold_at=when, device=1, product=1, quantity=2, amount=Decimal("3.25"))])  # late
        rollup_hourly()
        assert [row["revenue"] for row in sales_by(period=period)] == [Decimal("5.2500")]
        ranking = sales_top(period=period, by=["device"], limit=1)
        assert ranking.groups == 2 and ranking.top["device"][0]["revenue"] == Decimal("3.2500")
        days = device_daily_revenue(period=period, filters=NO_FILTERS)
        assert int(days["revenue"].sum()) == 525 * MONEY_SCALE // 100
        only = Filters(devices=(catalog.devices[1].id,))
        assert [row["revenue"] for row in sales_by(period=period, filters=only)] == [Decimal("3.2500")]


def test_the_caches_share_one_interface(in_chain_a: Any) -> None:
    scratch = QueryCache("test-scratch", seconds=60)
    key = scratch.key(7, digest_of=("SELECT 1", [("a", 1)]))
    assert key.startswith("test-scratch:7:") and key == scratch.key(7, digest_of=("SELECT 1", [("a", 1)]))
    scratch.set(key, [1, 2])
    assert scratch.get(key) == [1, 2]
    with scratch.disabled():
        assert scratch.get(key) is None
        scratch.set(key, [3])
    assert scratch.get(key) == [1, 2]
    assert {BUCKETS.namespace, STABLE_PARTS.namespace} == {"rollup-answer", "analytics-stable:v3"}
    with caches_disabled():
        assert BUCKETS.get(key) is None and STABLE_PARTS.get(key) is None
