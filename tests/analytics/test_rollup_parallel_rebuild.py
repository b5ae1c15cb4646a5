"""The full rebuild on several connections (analytics.rollups.parallel): the same buckets as the in-place
rebuild and as a straight sum of the raw rows, the tables' own names and indexes after the swap, and a
failed or killed run that leaves the old buckets as they were.

The workers are other connections, so these tests use chains whose rows are committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.models import RollupWatermark
from analytics.rollups import parallel
from analytics.rollups.services import rollup_hourly, rollup_rebuild_all_at_once
from tests.analytics.rollup_support import (
    Catalog,
    SaleRow,
    add_sales,
    assert_coarse_match_days,
    expected,
    local,
    make_catalog,
)

TABLES = ("saleschainrollup", "salesdevicerollup", "salesproductrollup", "salesslotrollup", "salesslotcoderollup", "bookingrollup",
          "customerhistoryrollup", "basketdayrollup", "basketdayseries", "salesdeviceseries")


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def _buckets() -> list[tuple[Any, ...]]:
    """Every bucket of every family, without the surrogate id (a rebuild numbers rows afresh)."""
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM analytics_{table}")
            columns = [col[0] for col in cursor.description]
            out.extend(
                (table, *(bytes(value) if isinstance(value, memoryview) else value
                          for name, value in zip(columns, row, strict=True) if name != "id"))
                for row in cursor.fetchall()
            )
    return sorted(out, key=repr)


def _catalog_of_indexes() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename LIKE 'analytics\\_%%rollup%%' ORDER BY 1, 2"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint"
            " WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text LIKE 'analytics\\_%%rollup%%'"
            " ORDER BY 1, 2"
        )
        return indexes + cursor.fetchall()


def _shadow_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%%\\_\\_new'")
        return [row[0] for row in cursor.fetchall()]


def _seed_dst_sales(tz: ZoneInfo) -> tuple[list[SaleRow], Catalog]:
    catalog = make_catalog(devices=5, products=4)
    rows: list[SaleRow] = []
    long_ago = timezone.now() - timedelta(days=400)
    # DST days, and weeks that straddle a month (Mon 30 Mar, Mon 26 Oct).
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30), date(2026, 4, 1), date(2026, 10, 24),
                date(2026, 10, 25), date(2026, 10, 31), date(2026, 11, 1)):
        start = local(tz, day) - timedelta(hours=3)  # from before the local midnight through the next day
        rows.extend(
            SaleRow(sold_at=start + timedelta(minutes=41 * i), device=i % 5, product=(i // 2) % 4, quantity=1 + i % 2,
                    amount=Decimal(i % 7) + Decimal("0.0125"), transactions=1 + i % 3, ingested_at=long_ago,
                    customer=i % 4 if i % 4 < 3 else None)
            for i in range(45)
        )
    add_sales(catalog, rows)
    return rows, catalog


def test_parallel_rebuild_equals_the_raw_rows_and_the_in_place_rebuild(committed: Any) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    with schema_context(chain.schema_name):
        rows, catalog = _seed_dst_sales(chain.tz)
        rollup_hourly()  # first build (month by month), then the hourly step
        indexes_before = _catalog_of_indexes()
        in_place = _buckets()

        report = rollup_rebuild_all_at_once(workers=3)

        assert {"days", "weeks_months_indexes"} <= set(report.stages)
        assert _buckets() == in_place
        assert _catalog_of_indexes() == indexes_before  # the tables' own constraint and index names
        assert _shadow_tables() == []
        tz = chain.tz
        first, last = date(2026, 3, 1), date(2026, 11, 30)
        devices = {i: device.pk for i, device in enumerate(catalog.devices)}
        with connection.cursor() as cursor:
            cursor.execute("SELECT local_date, device_id, revenue, units, transactions FROM analytics_salesdevicerollup"
                           " WHERE grain = 'day'")
            device_days = {(d, device): (rev, units, trans) for d, device, rev, units, trans in cursor.fetchall()}
            cursor.execute("SELECT starts_at, revenue, units, transactions FROM analytics_saleschainrollup WHERE grain = 'hour'")
            hours = {at: (rev, units, trans) for at, rev, units, trans in cursor.fetchall()}
        assert device_days == expected(rows, tz, first, last, lambda r, at: (at.date(), devices[r.device]))
        assert hours == expected(
            rows, tz, first, last, lambda r, at: r.sold_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        )
        assert_coarse_match_days()
        # Customer histories: as of the end of November's last third, every customer's whole history.
        customers = {i: customer.pk for i, customer in enumerate(catalog.customers)}
        with connection.cursor() as cursor:
            cursor.execute("SELECT customer_id, first_at, last_at, transactions, amount_e4 FROM analytics_customerhistoryrollup"
                           " WHERE starts_on = '2026-11-21'")
            histories = {customer: (first, last, trans, amount) for customer, first, last, trans, amount in cursor.fetchall()}
        bought = [r for r in rows if r.customer is not None]
        assert histories == {
            customers[c]: (
                min(r.sold_at for r in bought if r.customer == c), max(r.sold_at for r in bought if r.customer == c),
                sum(r.transactions for r in bought if r.customer == c),
                int(sum(r.amount for r in bought if r.customer == c) * 10_000),
            )
            for c in {r.customer for r in bought}
        }
        watermark = RollupWatermark.objects.get(pk=1)
        assert watermark.rebuilt_at is not None and watermark.covered_until == report.covered_until

        # The swapped-in tables work like the old ones: the next hourly run upserts into them (identity, unique key).
        add_sales(make_catalog(), [SaleRow(sold_at=timezone.now() - timedelta(days=2), device=0, product=0, quantity=2,
                                           amount=Decimal("4.50"))])
        assert rollup_hourly().changed_rows > 0
        assert_coarse_match_days()


def test_a_failed_parallel_rebuild_keeps_the_old_buckets_and_drops_its_shadows(committed: Any) -> None:
    chain = committed(time_zone="America/New_York")
    with schema_context(chain.schema_name):
        _seed_dst_sales(chain.tz)
        rollup_hourly()
        before = _buckets()
        mark = RollupWatermark.objects.values_list("covered_until", "rebuilt_at").get(pk=1)
        failing = [parallel.task("boom", "SELECT 1 / 0")]
        with mock.patch.object(parallel, "finish_tasks", side_effect=lambda *a, **k: failing), \
                pytest.raises(parallel.WorkerFailed, match="division by zero"):
            rollup_rebuild_all_at_once(workers=2)
        assert _buckets() == before
        assert RollupWatermark.objects.values_list("covered_until", "rebuilt_at").get(pk=1) == mark
        assert _shadow_tables() == []
        rollup_hourly()  # the chain's lock was released with the failed job's transaction


def test_shadows_left_by_a_killed_rebuild_are_dropped_by_the_next(committed: Any) -> None:
    chain = committed(time_zone="UTC")
    with schema_context(chain.schema_name):
        _seed_dst_sales(chain.tz)
        rollup_hourly()
        expected_buckets = _buckets()
        with connection.cursor() as cursor:  # what a SIGKILL between two phases leaves behind
            cursor.execute("CREATE TABLE analytics_salesdevicerollup__new (LIKE analytics_salesdevicerollup)")
            cursor.execute("INSERT INTO analytics_salesdevicerollup__new SELECT * FROM analytics_salesdevicerollup")
        rollup_rebuild_all_at_once(workers=2)
        assert _buckets() == expected_buckets
        assert _shadow_tables() == []


def test_inside_a_callers_transaction_the_rebuild_stays_on_its_connection(in_chain_a: Any) -> None:
    """Workers could not see the caller's uncommitted rows; the in-place rebuild sees them."""
    catalog = make_catalog()
    when = timezone.now() - timedelta(days=3)
    add_sales(catalog, [SaleRow(sold_at=when, device=0, product=0, quantity=1, amount=Decimal("7.00"), ingested_at=when)])
    report = rollup_rebuild_all_at_once(workers=4)
    assert "indexes" in report.stages and "weeks_months_indexes" not in report.stages
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(revenue) FROM analytics_saleschainrollup WHERE grain = 'day'")
        assert cursor.fetchone()[0] == Decimal("7.0000")
