"""Rollup jobs for the chain whose schema is active: hourly refresh, daily and monthly close, rebuild.

Consistency rules (see analytics.models.RollupWatermark):

- Buckets hold exactly the raw rows with event time < covered_until (W) and ingested_at <
  ingested_until (I). The query layer adds raw rows with event time >= W, and rows ingested at or
  after I whatever their event time, so nothing is counted twice or missed, and a late row counts
  at once.
- Every job runs under a transaction-scoped advisory lock per chain, so two jobs for one chain never
  overlap; a second one gives up (RollupBusy) and the task retries later.
- The hourly job recomputes, in ONE transaction, every local day between the old and the new W,
  every day that holds rows ingested since the last run (late data, found through the ingested_at
  index, with a safety margin for transactions that committed after the last run looked), and every
  range ingestion reported through DirtyRange; then it moves W and I to the transaction's now().
- A rebuild works a month at a time, each month one transaction, so a killed rebuild leaves every
  month either old or new, never half; W and I stay where they were (or, on a first build, advance
  with the months), so reads stay exact while it runs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from analytics.models import DirtyRange, RollupRun, RollupWatermark
from analytics.periods import local_midnight, next_month
from analytics.query.changes import compact_changes
from analytics.rollups import baskets, customers, device_series, parallel, slot_stock, sql, visits
from chains.tenancy import current_schema

logger = logging.getLogger(__name__)

# Rows whose ingesting transaction committed after the previous run had looked, but that carry an
# ingested_at from before it, are still found when they are this recent.
LATE_MARGIN = timedelta(hours=2)
REBUILD_CHUNK_DAYS = 31
LOCK_WAIT_SECONDS = 60.0  # rebuilds and closes wait this long for a running job of the same chain
BOOKING_RECHECK_DAYS = 7


class RollupBusy(Exception):
    """Another rollup job holds this chain's advisory lock."""


@dataclass
class RollupReport:
    kind: str
    days: list[tuple[date, date]] = field(default_factory=list)
    changed_rows: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    covered_until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "days": [[a.isoformat(), b.isoformat()] for a, b in self.days],
            "changed_rows": self.changed_rows,
            "seconds": round(self.seconds, 3),
            "covered_until": self.covered_until.isoformat() if self.covered_until else None,
        }


def _chain_tz() -> ZoneInfo:
    from analytics.query import current_chain

    return current_chain().tz


def _lock(*, wait_seconds: float = 0) -> None:
    """Take this chain's rollup lock for the current transaction; RollupBusy if another job holds it
    (at once, or after `wait_seconds`)."""
    key = "hashtext('cvd.rollup'), hashtext(current_schema())"
    with connection.cursor() as cursor:
        if wait_seconds:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(wait_seconds * 1000)}ms'")
            try:
                with transaction.atomic():
                    cursor.execute(f"SELECT pg_advisory_xact_lock({key})")
            except OperationalError as error:
                raise RollupBusy(f"a rollup job kept running for schema {current_schema()}") from error
            cursor.execute("SET LOCAL lock_timeout = 0")
            return
        cursor.execute(f"SELECT pg_try_advisory_xact_lock({key})")
        if not cursor.fetchone()[0]:
            raise RollupBusy(f"a rollup job is already running for schema {current_schema()}")


def _db_now() -> datetime:
    # The wall clock, not now(): a job's marks must move even inside a long outer transaction (tests),
    # and a row committed between the mark and a statement's snapshot is caught by LATE_MARGIN.
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        value: datetime = cursor.fetchone()[0]
    return value


def _watermark(*, for_update: bool = True) -> RollupWatermark | None:
    rows = RollupWatermark.objects.filter(pk=1)
    if for_update:
        rows = rows.select_for_update()
    return rows.first()


def _local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Contiguous runs of the given days, as inclusive (first, last) pairs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day <= runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], max(runs[-1][1], day))
        else:
            runs.append((day, day))
    return runs


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _refresh_days(
    *, first: date, last: date, tz: ZoneInfo, covered_until: datetime, ingested_until: datetime, fresh: bool = False
) -> int:
    """Recompute the day and hour buckets of local days first..last from raw rows; no coarse grains."""
    lo = local_midnight(first, tz)
    day_hi_at = local_midnight(last + timedelta(days=1), tz)
    hi = min(day_hi_at, covered_until)
    params: dict[str, Any] = {
        "tz": str(tz),
        "lo": lo,
        "hi": hi,
        "day_hi_at": day_hi_at,
        "ingested": ingested_until,
        "first_day": first,
        "last_day": last,
    }
    changed = 0
    with connection.cursor() as cursor:
        # Hash tables of one day each; room for the bookings' grouping too.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL hash_mem_multiplier = 4")
        cursor.execute(sql.sales_days_sql(tz, lo, hi, fresh=fresh), params)
        changed += sum(int(v) for v in cursor.fetchone())
        cursor.execute(sql.bookings_days_sql(fresh=fresh), params)
        changed += int(cursor.fetchone()[0])
    return changed


def _refresh_coarse(*, days: Iterable[date], tz: ZoneInfo, fresh: bool = False) -> int:
    """Re-derive the week and month buckets that contain any of `days` from the day buckets."""
    days = list(days)
    changed = 0
    with connection.cursor() as cursor:
        for grain, starts, after in (
            ("week", {d - timedelta(days=d.weekday()) for d in days}, lambda b: b + timedelta(days=7)),
            ("month", {d.replace(day=1) for d in days}, next_month),
        ):
            # Adjacent buckets are re-derived by one statement.
            ranges: list[tuple[date, date]] = []
            for start in sorted(starts):
                if ranges and ranges[-1][1] == start:
                    ranges[-1] = (ranges[-1][0], after(start))
                else:
                    ranges.append((start, after(start)))
            for start, end in ranges:
                params: dict[str, Any] = {
                    "tz": str(tz), "coarse_lo_at": local_midnight(start, tz), "coarse_hi_at": local_midnight(end, tz)
                }
                for family in sql.FAMILIES:
                    cursor.execute(sql.coarse_sql(family, grain, fresh=fresh), params)
                    changed += int(cursor.fetchone()[0])
    return changed


def _refresh(
    *, runs: list[tuple[date, date]], tz: ZoneInfo, covered_until: datetime, ingested_until: datetime,
    incremental: bool = False,
) -> int:
    """Recompute the day (and hour) buckets of `runs`, then their weeks and months: re-derived from the
    day buckets, or (incremental) moved by the difference of the recomputed days, which keeps the
    hourly job's cost independent of how much history a week or month already holds."""
    if not runs:
        return 0
    changed = 0
    ranges: dict[str, Any] = {"tz": str(tz)}
    for i, (first, last) in enumerate(runs):
        ranges[f"r{i}_lo"] = local_midnight(first, tz)
        ranges[f"r{i}_hi"] = local_midnight(last + timedelta(days=1), tz)
    if incremental:
        with connection.cursor() as cursor:
            for index, family in enumerate(sql.FAMILIES):
                cursor.execute(f"DROP TABLE IF EXISTS rollup_old_{index}")
                cursor.execute(sql.snapshot_days_sql(family, index, len(runs)), ranges)
    for first, last in runs:
        changed += _refresh_days(first=first, last=last, tz=tz, covered_until=covered_until, ingested_until=ingested_until)
    days = [day for first, last in runs for day in _days_between(first, last)]
    changed += device_series.refresh(days=days, tz=tz)
    changed += customers.refresh(days=days, tz=tz, covered_until=covered_until, ingested_until=ingested_until)
    changed += baskets.refresh(days=days, tz=tz, covered_until=covered_until, ingested_until=ingested_until)
    if not incremental:
        return changed + _refresh_coarse(days=days, tz=tz)
    first_day, last_day = runs[0][0], runs[-1][1]
    bounds: dict[str, Any] = {
        "tz": str(tz),
        "coarse_lo_at": local_midnight(first_day.replace(day=1) - timedelta(days=7), tz),
        "coarse_hi_at": local_midnight(last_day + timedelta(days=1), tz),
    }
    with connection.cursor() as cursor:
        for index, family in enumerate(sql.FAMILIES):
            for grain in ("week", "month"):
                cursor.execute(sql.coarse_delta_sql(family, index, grain, len(runs)), ranges)
                changed += int(cursor.fetchone()[0])
            cursor.execute(sql.coarse_prune_sql(family), bounds)
            changed += cursor.rowcount
            cursor.execute(f"DROP TABLE rollup_old_{index}")
    return changed


def _late_days(*, tz: ZoneInfo, since: datetime, before: datetime, covered_until: datetime) -> set[date]:
    """Local days of rows ingested in [since, before) whose event time is already covered (late data)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT (sold_at AT TIME ZONE %(tz)s)::date FROM fleet_sale
            WHERE ingested_at >= %(since)s AND ingested_at < %(before)s AND sold_at < %(w)s
            UNION
            SELECT DISTINCT (starts_at AT TIME ZONE %(tz)s)::date FROM bookings_booking
            WHERE ingested_at >= %(since)s AND ingested_at < %(before)s AND starts_at < %(w)s
            """,
            {"tz": str(tz), "since": since, "before": before, "w": covered_until},
        )
        return {row[0] for row in cursor.fetchall()}


def _dirty_days(*, tz: ZoneInfo, covered_until: datetime) -> tuple[set[date], list[int]]:
    """Local days of the ranges ingestion marked changed (only the covered part matters), and their ids."""
    days: set[date] = set()
    ids: list[int] = []
    first_covered: date | None = None
    for dirty in DirtyRange.objects.all():
        ids.append(dirty.pk)
        if dirty.starts_at >= covered_until:
            continue  # not rolled up yet: the live delta reads those rows
        if first_covered is None:
            first_covered = _first_covered_day(tz)
        start = _local_date(dirty.starts_at, tz)
        end = _local_date(min(dirty.ends_at, covered_until) - timedelta(microseconds=1), tz)
        if first_covered is not None:
            start = max(start, first_covered - timedelta(days=1))
        if end >= start:
            days.update(_days_between(start, end))
    return days, ids


def _first_covered_day(tz: ZoneInfo) -> date | None:
    """The earliest local day any raw row or bucket has; a dirty range before it has nothing to recompute."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT least((SELECT min(sold_at) FROM fleet_sale), (SELECT min(starts_at) FROM bookings_booking),"
            " (SELECT min(starts_at) FROM analytics_saleschainrollup), (SELECT min(starts_at) FROM analytics_bookingrollup))"
        )
        first = cursor.fetchone()[0]
    return _local_date(first, tz) if first else None


def _run_log(kind: str, first: date | None = None, last: date | None = None) -> RollupRun:
    return RollupRun.objects.create(kind=kind, starts_on=first, ends_on=last)


def _run_done(run: RollupRun, started: float, progress: str = "done") -> float:
    seconds = time.perf_counter() - started
    RollupRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), seconds=seconds, progress=progress)
    return seconds


def rollup_hourly(*, extra_days: Iterable[date] = ()) -> RollupReport:
    """Bring the buckets up to now: the days since the last watermark, late rows, dirty ranges."""
    tz = _chain_tz()
    started = time.perf_counter()
    report = RollupReport(kind="hourly")
    watermark = RollupWatermark.objects.filter(pk=1).first()
    if watermark is None:
        # Never built: a first build, month by month, then the hourly step below catches up.
        rollup_rebuild()
    run = _run_log("hourly")
    with transaction.atomic():
        _lock()
        watermark = _watermark()
        assert watermark is not None
        now = _db_now()
        old_w, old_i = watermark.covered_until, watermark.ingested_until
        days = set(_days_between(_local_date(min(old_w, now), tz), _local_date(now, tz)))
        days |= _late_days(tz=tz, since=old_i - LATE_MARGIN, before=now, covered_until=old_w)
        dirty, dirty_ids = _dirty_days(tz=tz, covered_until=now)
        days |= dirty
        days |= set(extra_days)
        report.days = _runs(days)
        report.changed_rows = _refresh(
            runs=report.days, tz=tz, covered_until=now, ingested_until=now, incremental=True
        )
        seen, stale = slot_stock.stale_machines()
        report.changed_rows += visits.refresh(devices=stale, days=report.days, tz=tz, covered_until=now, ingested_until=now)
        report.changed_rows += slot_stock.refresh(tz=tz, covered_until=now, ingested_until=now, seen=seen)
        DirtyRange.objects.filter(pk__in=dirty_ids).delete()
        RollupWatermark.objects.filter(pk=1).update(covered_until=now, ingested_until=now, updated_at=timezone.now())
        compact_changes()  # every cached answer counts the change log: keep it short
        report.covered_until = now
    report.seconds = _run_done(run, started)
    return report


def rollup_close_day(*, day: date) -> RollupReport:
    """After local midnight: recompute the finished day (and the last week of bookings, whose status
    changes after the fact), bring everything else up to now, and mark the day closed."""
    started = time.perf_counter()
    run = _run_log("daily_close", day, day)
    recheck = _days_between(day - timedelta(days=BOOKING_RECHECK_DAYS - 1), day)
    report = rollup_hourly(extra_days=recheck)
    report.kind = "daily_close"
    with transaction.atomic():
        _lock(wait_seconds=LOCK_WAIT_SECONDS)
        watermark = _watermark()
        if watermark is not None and (watermark.closed_through is None or watermark.closed_through < day):
            watermark.closed_through = day
            watermark.save(update_fields=["closed_through", "updated_at"])
    _run_done(run, started)
    return report


def rollup_close_month(*, month: date) -> RollupReport:
    """On the 1st: recompute the whole previous month from raw rows, as a reconciliation."""
    first = month.replace(day=1)
    last = next_month(first) - timedelta(days=1)
    report = rollup_rebuild(start=first, end=last)
    report.kind = "monthly_close"
    with transaction.atomic():
        _lock(wait_seconds=LOCK_WAIT_SECONDS)
        watermark = _watermark()
        if watermark is not None and (watermark.month_closed_through is None or watermark.month_closed_through < first):
            watermark.month_closed_through = first
            watermark.save(update_fields=["month_closed_through", "updated_at"])
    return report


def rollup_rebuild(
    *, start: date | None = None, end: date | None = None, chunk_days: int = REBUILD_CHUNK_DAYS,
    on_chunk: Callable[[date, date], None] | None = None,
) -> RollupReport:
    """Recompute the buckets of local days start..end (default: all history) from raw rows, a chunk
    (about a month) per transaction. On a chain that was never built, the watermark advances with the
    chunks; otherwise it stays, and the next hourly run brings the newest rows in."""
    tz = _chain_tz()
    started = time.perf_counter()
    report = RollupReport(kind="rebuild")
    pause = float(os.environ.get("CVD_ROLLUP_CHUNK_PAUSE", "0") or 0)  # throttle big rebuilds
    with transaction.atomic():
        _lock(wait_seconds=LOCK_WAIT_SECONDS)
        now = _db_now()
        watermark = _watermark()
        first_build = watermark is None
        first_day = start or _first_covered_day(tz) or _local_date(now, tz)
        if first_build:
            last_day = _local_date(now, tz)
            ingested_until = now
            covered_until = local_midnight(first_day, tz)
            watermark = RollupWatermark.objects.create(pk=1, covered_until=covered_until, ingested_until=ingested_until)
        else:
            assert watermark is not None
            covered_until, ingested_until = watermark.covered_until, watermark.ingested_until
            last_day = min(end or _local_date(covered_until, tz), _local_date(covered_until, tz))
    if end is not None:
        last_day = min(last_day, end)
    run = _run_log("rebuild", first_day, last_day)
    chunk_start = first_day
    chunk_number = 0
    while chunk_start <= last_day:
        chunk_end = min(chunk_start + timedelta(days=chunk_days - 1), last_day)
        chunk_number += 1
        with transaction.atomic():
            _lock(wait_seconds=LOCK_WAIT_SECONDS)
            if first_build:
                bound = min(local_midnight(chunk_end + timedelta(days=1), tz), ingested_until)
            else:
                bound = covered_until
            report.changed_rows += _refresh_days(
                first=chunk_start, last=chunk_end, tz=tz, covered_until=bound, ingested_until=ingested_until
            )
            dates = _days_between(chunk_start, chunk_end)
            report.changed_rows += device_series.refresh(days=dates, tz=tz)
            report.changed_rows += customers.refresh(
                days=dates, tz=tz, covered_until=bound, ingested_until=ingested_until
            )
            report.changed_rows += baskets.refresh(
                days=dates, tz=tz, covered_until=bound, ingested_until=ingested_until
            )
            report.changed_rows += visits.refresh(
                devices=(), days=[(chunk_start, chunk_end)], tz=tz, covered_until=bound, ingested_until=ingested_until
            )
            if pause:
                time.sleep(pause)
            _hold_for_tests(chunk_number)
            report.changed_rows += _refresh_coarse(days=_days_between(chunk_start, chunk_end), tz=tz)
            if first_build:
                RollupWatermark.objects.filter(pk=1).update(covered_until=bound, updated_at=timezone.now())
            else:  # the buckets changed: a new version, so cached reads of the old ones are not reused
                RollupWatermark.objects.filter(pk=1).update(updated_at=timezone.now())
            RollupRun.objects.filter(pk=run.pk).update(progress=f"through {chunk_end.isoformat()}")
        report.days.append((chunk_start, chunk_end))
        if on_chunk:
            on_chunk(chunk_start, chunk_end)
        chunk_start = chunk_end + timedelta(days=1)
    if start is None and end is None:
        RollupWatermark.objects.filter(pk=1).update(rebuilt_at=timezone.now())
    report.covered_until = RollupWatermark.objects.get(pk=1).covered_until
    report.seconds = _run_done(run, started)
    return report


def _hold_for_tests(chunk_number: int) -> None:
    """Park a rebuild inside chunk N's transaction while the file CVD_ROLLUP_HOLD_FILE (holding N) exists.

    It lets a test kill a worker at a chosen chunk instead of racing a timer; `<file>.reached` says
    the rebuild is parked. Unset (always, outside tests), it costs one environment lookup per chunk.
    """
    hold = os.environ.get("CVD_ROLLUP_HOLD_FILE")
    if not hold:
        return
    try:
        at = int(Path(hold).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return
    if chunk_number < at:
        return
    Path(f"{hold}.reached").write_text(str(chunk_number))
    while Path(hold).exists():
        time.sleep(0.05)


def rollup_rebuild_all_at_once(*, workers: int | None = None) -> RollupReport:
    """A full rebuild in a single transaction; the watermark moves to now.

    A job that owns its transaction shares the work out to `workers` connections
    (analytics.rollups.parallel: shadow tables swapped in at the commit); inside a caller's
    transaction, or with one worker, one connection does it all in place.
    """
    workers = parallel.rebuild_workers() if workers is None else workers
    if workers > 1 and not connection.in_atomic_block:
        return _rebuild_parallel(workers)
    return _rebuild_in_place()


def _rebuild_finish(report: RollupReport, *, now: datetime, first_day: date, last_day: date) -> None:
    tz = _chain_tz()
    seen, _ = slot_stock.stale_machines()
    report.changed_rows += visits.refresh(devices=(), days=(), tz=tz, covered_until=now, ingested_until=now, everything=True)
    report.changed_rows += slot_stock.refresh(tz=tz, covered_until=now, ingested_until=now, seen=seen)
    RollupWatermark.objects.update_or_create(
        pk=1, defaults={"covered_until": now, "ingested_until": now, "rebuilt_at": timezone.now()}
    )
    DirtyRange.objects.filter(created_at__lt=now).delete()
    report.days = [(first_day, last_day)]
    report.covered_until = now


def _rebuild_parallel(workers: int) -> RollupReport:
    tz = _chain_tz()
    schema = current_schema()
    started = time.perf_counter()
    report = RollupReport(kind="rebuild_full")

    def stage(name: str) -> None:
        report.stages[name] = time.perf_counter() - started - sum(report.stages.values())

    try:
        with transaction.atomic():
            _lock(wait_seconds=LOCK_WAIT_SECONDS)
            now = _db_now()
            first_day = _first_covered_day(tz) or _local_date(now, tz)
            last_day = _local_date(now, tz)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = str(cursor.fetchone()[0])
            report.changed_rows, indexes = parallel.rebuild_into_shadows(
                schema=schema, tz=tz, first=first_day, last=last_day, now=now, snapshot=snapshot, workers=workers,
                stage=stage,
            )
            with connection.cursor() as cursor:
                parallel.swap_in(cursor, [family.table for family in sql.FAMILIES], indexes)
            report.changed_rows += device_series.rebuild(tz=tz)
            report.changed_rows += customers.rebuild(
                first_day=first_day, tz=tz, covered_until=now, ingested_until=now
            )
            report.changed_rows += baskets.rebuild(
                first_day=first_day, last_day=last_day, tz=tz, covered_until=now, ingested_until=now
            )
            stage("customers_and_baskets")
            _rebuild_finish(report, now=now, first_day=first_day, last_day=last_day)
    except BaseException:
        parallel.discard_shadows(schema)
        raise
    stage("commit")
    parallel.vacuum(schema, workers=workers)
    stage("vacuum")
    report.seconds = time.perf_counter() - started
    return report


def _rebuild_in_place() -> RollupReport:
    """One connection, one scan of the raw rows, in the caller's transaction (or its own).

    The tables are emptied (TRUNCATE: readers wait for the commit rather than see them empty), their
    bucket keys' unique (covering) indexes dropped and built again after the load, which is several
    times cheaper than maintaining them row by row; the same SQL as every other refresh, with
    plain inserts; weeks and months from the day buckets, both grains in one pass per family.
    """
    tz = _chain_tz()
    started = time.perf_counter()
    report = RollupReport(kind="rebuild_full")
    with transaction.atomic():
        _lock(wait_seconds=LOCK_WAIT_SECONDS)
        now = _db_now()
        first_day = _first_covered_day(tz) or _local_date(now, tz)
        last_day = _local_date(now, tz)
        tables = [family.table for family in sql.FAMILIES]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indisunique AND NOT indisprimary AND indrelid = ANY(%s::regclass[])",
                [tables],
            )
            bucket_indexes = cursor.fetchall()
            for name, _ in bucket_indexes:
                cursor.execute(f"DROP INDEX {name}")
        report.stages["prepare"] = time.perf_counter() - started
        report.changed_rows = _refresh_days(
            first=first_day, last=last_day, tz=tz, covered_until=now, ingested_until=now, fresh=True
        )
        report.stages["days"] = time.perf_counter() - started - sum(report.stages.values())
        with connection.cursor() as cursor:
            for family in sql.FAMILIES:
                cursor.execute(sql.coarse_fresh_sql(family), {"tz": str(tz)})
                report.changed_rows += int(cursor.fetchone()[0])
        report.changed_rows += device_series.rebuild(tz=tz)
        report.changed_rows += customers.rebuild(
            first_day=first_day, tz=tz, covered_until=now, ingested_until=now
        )
        report.changed_rows += baskets.rebuild(
            first_day=first_day, last_day=last_day, tz=tz, covered_until=now, ingested_until=now
        )
        report.stages["weeks_months"] = time.perf_counter() - started - sum(report.stages.values())
        with connection.cursor() as cursor:
            for _, definition in bucket_indexes:
                cursor.execute(definition)
        report.stages["indexes"] = time.perf_counter() - started - sum(report.stages.values())
        _rebuild_finish(report, now=now, first_day=first_day, last_day=last_day)
    report.stages["commit"] = time.perf_counter() - started - sum(report.stages.values())
    with connection.cursor() as cursor:
        for table in (*tables, device_series.TABLE, customers.TABLE, baskets.TABLE, baskets.SERIES):
            # VACUUM sets the visibility map, so the covering indexes answer reads without the heap.
            cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM (ANALYZE)'} {table}")
    report.seconds = time.perf_counter() - started
    return report
