"""Rollup jobs one by one: late data after the next hourly run, sales of two minutes ago at once, dirty ranges
from ingestion, every job run twice changes nothing, the raw fallback, and the rollup command."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.filters import Filters
from analytics.models import DirtyRange, RollupWatermark, SalesDeviceRollup
from analytics.periods import Period
from analytics.query import sales_by, sales_totals
from analytics.rollups.services import rollup_close_day, rollup_close_month, rollup_hourly, rollup_rebuild
from fleet.models import Sale
from ingest.signals import raw_data_changed
from tests.analytics.rollup_support import SaleRow, add_sales, make_catalog, rollup_snapshot


def _bucket_revenue(day: date) -> Decimal:
    rows = SalesDeviceRollup.objects.filter(grain="day", local_date=day)
    return sum((row.revenue for row in rows), Decimal(0))


def test_late_data_counts_at_once_and_lands_in_its_bucket_at_the_next_hourly_run(in_chain_a: Any) -> None:
    tz = in_chain_a.chain.tz
    catalog = make_catalog()
    today = timezone.now().astimezone(tz).date()
    three_days_ago = timezone.now() - timedelta(days=3)
    add_sales(catalog, [SaleRow(sold_at=three_days_ago, device=0, product=0, quantity=1, amount=Decimal("5.00"),
                                ingested_at=timezone.now() - timedelta(days=3))])
    rollup_hourly()
    day = three_days_ago.astimezone(tz).date()
    assert _bucket_revenue(day) == Decimal("5.00")
    period = Period(day, today)

    # A DEX read arrives three days late, and a telemetry sale from two minutes ago: both count at once ...
    add_sales(catalog, [
        SaleRow(sold_at=three_days_ago + timedelta(minutes=1), device=1, product=1, quantity=2, amount=Decimal("2.50")),
        SaleRow(sold_at=timezone.now() - timedelta(minutes=2), device=2, product=2, quantity=1, amount=Decimal("1.25")),
    ])
    assert sales_totals(period=period).revenue == Decimal("8.75")
    assert _bucket_revenue(day) == Decimal("5.00")  # not in the bucket yet
    # ... and the late one is in its day bucket after the next hourly run, with the same answer.
    rollup_hourly()
    assert _bucket_revenue(day) == Decimal("7.50")
    assert sales_totals(period=period).revenue == Decimal("8.75")


def test_ranges_ingestion_marks_changed_are_recomputed(in_chain_a: Any) -> None:
    tz = in_chain_a.chain.tz
    catalog = make_catalog()
    sold_at = timezone.now() - timedelta(days=10)
    [sale] = add_sales(catalog, [SaleRow(sold_at=sold_at, device=0, product=0, quantity=1, amount=Decimal("4.00"),
                                         ingested_at=timezone.now() - timedelta(days=10))])
    rollup_hourly()
    day = sold_at.astimezone(tz).date()
    # A correction of an existing row keeps its ingested_at: only the signal tells the rollups.
    Sale.objects.filter(pk=sale.pk).update(amount=Decimal("6.00"))
    raw_data_changed.send(sender=Sale, kind="sales", starts_at=sold_at, ends_at=sold_at + timedelta(seconds=1))
    assert DirtyRange.objects.count() == 1
    assert _bucket_revenue(day) == Decimal("4.00")
    rollup_hourly()
    assert _bucket_revenue(day) == Decimal("6.00")
    assert DirtyRange.objects.count() == 0
    assert sales_totals(period=Period(day, day)).revenue == Decimal("6.00")


def test_every_job_run_twice_changes_nothing(in_chain_b: Any) -> None:
    tz = in_chain_b.chain.tz
    catalog = make_catalog()
    start = timezone.now() - timedelta(days=40)
    add_sales(catalog, [
        SaleRow(sold_at=start + timedelta(hours=7 * i), device=i % 3, product=i % 2, quantity=1 + i % 2,
                amount=Decimal(i % 7) + Decimal("0.3333"), ingested_at=start)
        for i in range(130)
    ])
    yesterday = timezone.now().astimezone(tz).date() - timedelta(days=1)
    month = (yesterday.replace(day=1) - timedelta(days=1)).replace(day=1)
    for job in (
        lambda: rollup_hourly(),
        lambda: rollup_close_day(day=yesterday),
        lambda: rollup_close_month(month=month),
        lambda: rollup_rebuild(),
        lambda: rollup_rebuild(start=yesterday - timedelta(days=9), end=yesterday),
    ):
        job()
        before = rollup_snapshot()
        job()
        assert rollup_snapshot() == before
    assert before, "buckets were built"


@pytest.fixture
def in_chain_b(chain_b: Any) -> Any:
    with schema_context(chain_b.schema):
        yield chain_b


def test_questions_no_rollup_carries_fall_back_to_raw_rows(in_chain_a: Any) -> None:
    catalog = make_catalog()
    when = timezone.now() - timedelta(days=2)
    add_sales(catalog, [SaleRow(sold_at=when, device=0, product=1, quantity=1, amount=Decimal("3.00"),
                                ingested_at=when)])
    rollup_hourly()
    day = when.astimezone(in_chain_a.chain.tz).date()
    period = Period(day, day)
    rows = sales_by(period=period, by=["device", "product"])
    assert [(r["device"], r["product"], r["revenue"]) for r in rows] == [
        (catalog.devices[0].id, catalog.products[1].id, Decimal("3.0000"))
    ]
    assert sales_by(period=period, by=["slot"]) == sales_by(period=period, by=["slot"], use_rollups=False)
    with pytest.raises(ValueError):
        sales_by(period=period, by=["colour"])


def test_rollup_command(chain_a: Any) -> None:
    with schema_context(chain_a.schema):
        catalog = make_catalog()
        add_sales(catalog, [SaleRow(sold_at=timezone.now() - timedelta(days=1), device=0, product=0, quantity=1,
                                    amount=Decimal("2.00"))])
    out = StringIO()
    call_command("rollup", chain_a.schema, stdout=out)
    assert json.loads(out.getvalue())["kind"] == "hourly"
    out = StringIO()
    call_command("rollup", chain_a.schema, "--rebuild", stdout=out)
    assert json.loads(out.getvalue())["kind"] == "rebuild"
    out = StringIO()
    call_command("rollup", chain_a.schema, "--start", "2026-01-01", "--end", "2026-01-31", stdout=out)
    assert json.loads(out.getvalue())["days"][0][0] == "2026-01-01"
    with schema_context(chain_a.schema):
        assert RollupWatermark.objects.get().covered_until <= timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("SELECT SUM(revenue) FROM analytics_saleschainrollup WHERE grain = 'month'")
            assert cursor.fetchone()[0] == Decimal("2.0000")


def _bucket_values() -> list[tuple]:
    with connection.cursor() as cursor:
        out: list[tuple] = []
        for table, dims in (("saleschainrollup", ""), ("salesdevicerollup", ", device_id"), ("salesproductrollup", ", product_id"),
                            ("salesslotrollup", ", device_id, product_id, slot_code"), ("salesslotcoderollup", ", slot_code")):
            cursor.execute(
                f"SELECT grain, starts_at, ends_at, local_date, local_hour{dims}, revenue, units, transactions"
                f" FROM analytics_{table} ORDER BY 1, 2{', 6' if dims else ''}"
            )
            out.extend((table, *row) for row in sorted(cursor.fetchall()))  # every key column decides the order
        return out


def test_single_transaction_rebuild_gives_the_same_buckets_and_keeps_the_indexes(in_chain_b: Any) -> None:
    from analytics.rollups.services import rollup_rebuild_all_at_once

    catalog = make_catalog()
    start = timezone.now() - timedelta(days=50)
    add_sales(catalog, [
        SaleRow(sold_at=start + timedelta(hours=5 * i), device=i % 3, product=i % 3, quantity=1,
                amount=Decimal(i % 5) + Decimal("0.125"), ingested_at=start)
        for i in range(200)
    ])
    rollup_hourly()
    incremental = _bucket_values()
    report = rollup_rebuild_all_at_once()
    assert report.changed_rows > 0 and set(report.stages) >= {"days", "weeks_months", "indexes"}
    assert _bucket_values() == incremental
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index WHERE indisunique AND NOT indisprimary AND indrelid = ANY(%s::regclass[])",
            [["analytics_saleschainrollup", "analytics_salesdevicerollup", "analytics_salesproductrollup",
              "analytics_salesslotrollup", "analytics_salesslotcoderollup", "analytics_bookingrollup"]],
        )
        assert cursor.fetchone()[0] == 6
    rollup_hourly()  # upserts still find their unique index
    assert _bucket_values() == incremental


def test_cached_buckets_never_mix_with_another_jobs_watermark(in_chain_a: Any) -> None:
    from analytics.query.rollup import sales_by_rollup, watermark

    tz = in_chain_a.chain.tz
    catalog = make_catalog()
    when = timezone.now() - timedelta(days=5)
    add_sales(catalog, [SaleRow(sold_at=when, device=0, product=0, quantity=1, amount=Decimal("2.00"), ingested_at=when)])
    rollup_hourly()
    period = Period(when.astimezone(tz).date(), timezone.now().astimezone(tz).date())
    stale = watermark()
    assert sales_totals(period=period).revenue == Decimal("2.00")  # buckets of this version now cached
    add_sales(catalog, [SaleRow(sold_at=when, device=1, product=1, quantity=1, amount=Decimal("3.00"))])  # late
    rollup_hourly()  # moves the late row into the buckets: a new version
    # A reader that took the old watermark just before the job committed starts again from the new one.
    rows = sales_by_rollup(period=period, tz=tz, filters=Filters(), by=[], mark=stale)
    assert rows is not None and rows[0]["revenue"] == Decimal("5.0000")
    assert sales_totals(period=period).revenue == Decimal("5.00")


def test_single_transaction_rebuild_equals_the_raw_rows_across_dst_changes(in_chain_a: Any) -> None:
    """The rebuild groups a local day at a time (a calendar of days drives the scan): every day, hour,
    device and product bucket equals a straight aggregation of the raw rows, on the 23- and 25-hour days
    too, and every week and month is the sum of its days."""
    from analytics.rollups.services import rollup_rebuild_all_at_once
    from tests.analytics.rollup_support import assert_coarse_match_days, expected, local

    tz = in_chain_a.chain.tz
    catalog = make_catalog()
    rows: list[SaleRow] = []
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30), date(2026, 10, 24), date(2026, 10, 25)):
        start = local(tz, day) - timedelta(hours=3)  # from before the local midnight through the next day
        rows.extend(
            SaleRow(sold_at=start + timedelta(minutes=37 * i), device=i % 3, product=(i // 2) % 3, quantity=1 + i % 2,
                    amount=Decimal(i % 7) + Decimal("0.0125"), transactions=1 + i % 3, ingested_at=start)
            for i in range(60)
        )
    add_sales(catalog, rows)
    report = rollup_rebuild_all_at_once()
    assert report.changed_rows > 0
    first, last = date(2026, 3, 1), date(2026, 11, 30)
    devices = {i: device.pk for i, device in enumerate(catalog.devices)}
    products = {i: product.pk for i, product in enumerate(catalog.products)}

    def buckets(table: str, grain: str, key: str) -> dict[Any, tuple[Decimal, int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {key}, revenue, units, transactions FROM analytics_{table} WHERE grain = %s", [grain])
            return {(row[0] if len(row) == 4 else tuple(row[:-3])): tuple(row[-3:]) for row in cursor.fetchall()}

    assert buckets("saleschainrollup", "day", "local_date") == expected(rows, tz, first, last, lambda r, at: at.date())
    assert buckets("saleschainrollup", "hour", "starts_at") == expected(
        rows, tz, first, last, lambda r, at: r.sold_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    )
    assert buckets("salesdevicerollup", "day", "local_date, device_id") == expected(
        rows, tz, first, last, lambda r, at: (at.date(), devices[r.device])
    )
    assert buckets("salesproductrollup", "day", "local_date, product_id") == expected(
        rows, tz, first, last, lambda r, at: (at.date(), products[r.product])
    )
    assert_coarse_match_days()


def test_cached_answers_follow_every_change_of_the_live_delta(in_chain_a: Any) -> None:
    """Rankings and counts are cached per rollup version and live-delta fingerprint: a new sale, a corrected
    amount and a deletion since the last job each show at once, with no job in between."""
    from analytics.query import sales_count_distinct, sales_top

    tz = in_chain_a.chain.tz
    catalog = make_catalog()
    long_ago = timezone.now() - timedelta(days=3)
    add_sales(catalog, [SaleRow(sold_at=long_ago, device=0, product=0, quantity=1, amount=Decimal("2.00"),
                                ingested_at=long_ago)])
    rollup_hourly()
    today = timezone.now().astimezone(tz).date()
    period = Period(today - timedelta(days=6), today)

    def answer() -> tuple[list[tuple[int, Decimal]], int, int]:
        ranking = sales_top(period=period, by=["device"], limit=5)
        return ([(row["device"], row["revenue"]) for row in ranking.top["device"]], ranking.groups,
                sales_count_distinct(period=period))

    d0, d1 = catalog.devices[0].pk, catalog.devices[1].pk
    assert answer() == ([(d0, Decimal("2.0000"))], 1, 1)
    assert answer() == ([(d0, Decimal("2.0000"))], 1, 1)  # a cache hit gives the same
    (fresh,) = add_sales(catalog, [SaleRow(sold_at=timezone.now() - timedelta(minutes=2), device=1, product=1,
                                           quantity=1, amount=Decimal("5.00"))])
    assert answer() == ([(d1, Decimal("5.00")), (d0, Decimal("2.0000"))], 2, 2)
    Sale.objects.filter(pk=fresh.pk).update(amount=Decimal("1.50"))
    assert answer() == ([(d0, Decimal("2.0000")), (d1, Decimal("1.50"))], 2, 2)
    Sale.objects.filter(pk=fresh.pk).delete()
    assert answer() == ([(d0, Decimal("2.0000"))], 1, 1)
