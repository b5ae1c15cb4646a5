"""Rollups under a real Celery worker and beat on Redis, against the test database with committed chains.

- a worker SIGKILLed in the middle of a rebuild leaves every bucket set old or new, never half, and
  the redelivered task (acks_late + reject_on_worker_lost) completes the rebuild;
- worker + beat roll up two chains in different time zones, each in its own schema, and each closes
  its day at its own local midnight (the fan-out is called with a fixed "now");
- a chain task that finds itself in the public schema fails instead of falling back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.models import RollupRun, RollupWatermark
from analytics.rollups.services import RollupBusy, rollup_hourly
from analytics.tasks import TenantLost, rollup_daily_close_fanout, rollup_hourly_task, rollup_rebuild_task
from tests.analytics.rollup_support import SaleRow, add_sales, assert_coarse_match_days, make_catalog

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def _env(queue: str, schemas: list[str], **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cvd.settings.test",
        # The worker must use the test database (test_cvd), not the development one.
        "DATABASE_URL": f"postgres://{db['USER']}@/{db['NAME']}",
        "PGHOST": str(db["HOST"]),
        "CVD_CELERY_QUEUE": queue,
        "CVD_ROLLUP_ONLY_SCHEMAS": ",".join(schemas),
        **extra,
    }


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            for child in psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []:
                child.kill()
            proc.kill()
            proc.wait(timeout=10)


def _worker(queue: str, env: dict[str, str], log: Path) -> Any:
    return _process(
        [CELERY, "-A", "cvd", "worker", "-Q", queue, "--concurrency=1", "--pool=prefork", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-l", "info"],
        env, log,
    )


def _wait(predicate: Callable[[], Any], timeout: float, what: str, logs: list[Path]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {log}\n{log.read_text()[-3000:]}" for log in logs if log.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def _in(schema: str, fn: Callable[[], Any]) -> Any:
    with schema_context(schema):
        return fn()


def _day_sums(table: str, grain: str) -> dict[Any, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT local_date, SUM(revenue) FROM {table} WHERE grain = %s GROUP BY 1", [grain])
        return dict(cursor.fetchall())


def _raw_by_day(tz: str) -> dict[Any, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT (sold_at AT TIME ZONE %s)::date, SUM(amount) FROM fleet_sale GROUP BY 1", [tz])
        return dict(cursor.fetchall())


def _seed(schema: str, tz: ZoneInfo, days: int, per_day: int, *, from_month_start: bool = False) -> None:
    """`per_day` sales on each of `days` local days ending before today; with `from_month_start` the
    first day is the 1st of a month, where a rebuild's first chunk starts (the month bucket's start)."""
    with schema_context(schema):
        catalog = make_catalog()
        start = timezone.now().astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
        if from_month_start:
            start = (start - timedelta(days=5)).replace(day=1)
        long_ago = timezone.now() - timedelta(days=days + 30)
        add_sales(catalog, [
            SaleRow(sold_at=start + timedelta(days=d, minutes=37 * i), device=i % 3, product=(d + i) % 3, quantity=1,
                    amount=Decimal(f"{1 + (d * 7 + i) % 11}.25"), ingested_at=long_ago)
            for d in range(days) for i in range(per_day)
        ])


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def test_worker_killed_mid_rebuild_leaves_whole_buckets_and_the_redelivery_completes(committed: Any, tmp_path: Path) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    tz = "Europe/Stockholm"
    # Data from the 1st of a month: the rebuild's chunks (7 days from the month bucket's start) all hold sales,
    # whatever today's date is.
    _seed(chain.schema_name, ZoneInfo(tz), days=70, per_day=12, from_month_start=True)
    with schema_context(chain.schema_name):
        rollup_hourly()  # built; now change every raw amount behind the rollups' back
        old = _day_sums("analytics_salesdevicerollup", "day")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE fleet_sale SET amount = amount * 2")
        new = _raw_by_day(tz)
    assert old and all(new[day] == 2 * old[day] for day in old)

    baseline = _in(chain.schema_name, lambda: RollupRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    queue = f"rollup-kill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    hold = tmp_path / "hold"
    hold.write_text("3")  # the rebuild parks inside its third chunk's transaction while this file exists
    env = _env(queue, [chain.schema_name], CVD_ROLLUP_HOLD_FILE=str(hold))
    with _worker(queue, env, log) as worker:
        with schema_context(chain.schema_name):
            rollup_rebuild_task.apply_async(kwargs={"chunk_days": 7}, queue=queue)

        _wait(lambda: Path(f"{hold}.reached").exists(), 40, "the rebuild to reach its third chunk", [log])
        assert _chunks_done(chain.schema_name, baseline) == 2
        children = psutil.Process(worker.pid).children(recursive=True)
        assert children, "the prefork worker has a pool process"
        for child in children:
            os.kill(child.pid, signal.SIGKILL)  # the process running the rebuild, mid-transaction

        # One consistent snapshot: every day bucket is old or new, and weeks and months are their days' sums.
        with schema_context(chain.schema_name), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            days = _day_sums("analytics_salesdevicerollup", "day")
            assert set(days) == set(old)
            rebuilt = {day for day in days if days[day] == new[day]}
            untouched = {day for day in days if days[day] == old[day]}
            assert rebuilt | untouched == set(days)
            assert rebuilt and untouched, "the kill came in the middle of the rebuild"
            assert max(rebuilt) < min(untouched), "chunks are rebuilt oldest first, each all or nothing"
            assert_coarse_match_days()
            assert not RollupRun.objects.filter(kind="rebuild", pk__gt=baseline, finished_at__isnull=False).exists()
        hold.unlink()  # the redelivered rebuild runs straight through

        # acks_late + reject_on_worker_lost: the message goes back to the queue and the rebuild runs again to the end.
        _wait(
            lambda: _in(chain.schema_name, lambda: RollupRun.objects.filter(
                kind="rebuild", pk__gt=baseline, finished_at__isnull=False).exists()),
            60, "the redelivered rebuild to finish", [log],
        )
    with schema_context(chain.schema_name):
        assert _day_sums("analytics_salesdevicerollup", "day") == new
        assert _day_sums("analytics_saleschainrollup", "day") == new
        assert_coarse_match_days()


def _chunks_done(schema: str, after_pk: int) -> int:
    """How many 7-day chunks the first rebuild run after `after_pk` has committed."""
    with schema_context(schema):
        run = RollupRun.objects.filter(kind="rebuild", pk__gt=after_pk).order_by("pk").first()
    if run is None or run.starts_on is None or not run.progress.startswith("through "):
        return 0
    through = datetime.fromisoformat(run.progress.removeprefix("through ")).date()
    return ((through - run.starts_on).days + 1) // 7


def test_worker_and_beat_roll_up_two_chains_each_closing_at_its_own_midnight(committed: Any, tmp_path: Path) -> None:
    stockholm = committed(time_zone="Europe/Stockholm")
    new_york = committed(time_zone="America/New_York")
    _seed(stockholm.schema_name, ZoneInfo("Europe/Stockholm"), days=3, per_day=5)
    _seed(new_york.schema_name, ZoneInfo("America/New_York"), days=2, per_day=4)
    queue = f"rollup-beat-{uuid.uuid4().hex[:8]}"
    env = _env(queue, [stockholm.schema_name, new_york.schema_name], CVD_ROLLUP_HOURLY_EVERY_SECONDS="1")
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    beat_args = [CELERY, "-A", "cvd", "beat", "-l", "info", "-s", str(tmp_path / "beat-schedule")]
    with _worker(queue, env, worker_log), _process(beat_args, env, beat_log):
        # Beat's hourly fan-out (every second here) reaches both chains, each in its own schema.
        for chain in (stockholm, new_york):
            def built(schema: str = chain.schema_name) -> bool:
                return bool(_in(schema, lambda: RollupWatermark.objects.exists()))

            _wait(built, 45, f"beat to roll up {chain.schema_name}", [worker_log, beat_log])
        for chain in (stockholm, new_york):
            # Beat keeps running every second: wait until a run has covered every seeded day.
            def rolled_up(schema: str = chain.schema_name, tz: str = chain.time_zone) -> bool:
                return bool(_in(schema, lambda: _day_sums("analytics_saleschainrollup", "day") == _raw_by_day(tz)))

            _wait(rolled_up, 30, f"{chain.schema_name}'s day buckets to equal its raw rows", [worker_log, beat_log])
        assert _in(stockholm.schema_name, lambda: _raw_by_day("Europe/Stockholm")) != _in(
            new_york.schema_name, lambda: _raw_by_day("America/New_York")
        )

        # 29 Mar 2026 22:05 UTC is 00:05 on the 30th in Stockholm (summer time since that night) and
        # 18:05 in New York; six hours later New York passes its midnight.
        def closed(chain: Any) -> bool:
            return _in(chain.schema_name, lambda: RollupRun.objects.filter(
                kind="daily_close", starts_on="2026-03-29", finished_at__isnull=False).exists())

        rollup_daily_close_fanout.apply_async(kwargs={"now": "2026-03-29T22:05:00+00:00"}, queue=queue)
        _wait(lambda: closed(stockholm), 30, "Stockholm's daily close", [worker_log])
        time.sleep(1.0)
        assert not closed(new_york)
        rollup_daily_close_fanout.apply_async(kwargs={"now": "2026-03-30T04:05:00+00:00"}, queue=queue)
        _wait(lambda: closed(new_york), 30, "New York's daily close", [worker_log])
    with schema_context(stockholm.schema_name):
        assert RollupRun.objects.filter(kind="daily_close", starts_on="2026-03-29").count() == 1


def test_a_chain_task_in_the_public_schema_fails(db: None) -> None:
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    result = rollup_hourly_task.apply()
    assert result.failed() and isinstance(result.result, TenantLost)


def test_two_jobs_for_one_chain_never_overlap(committed: Any) -> None:
    chain = committed(time_zone="America/New_York")
    _seed(chain.schema_name, ZoneInfo("America/New_York"), days=2, per_day=3)
    with schema_context(chain.schema_name):
        rollup_hourly()
        add_sales(make_catalog(), [SaleRow(sold_at=timezone.now() - timedelta(days=1), device=0, product=0, quantity=1,
                                           amount=Decimal("3.00"))])  # late: in the next run's work
    import psycopg

    db = connection.settings_dict
    # Another session holds the chain's lock, as a running job would.
    with psycopg.connect(host=db["HOST"], user=db["USER"], dbname=db["NAME"]) as other:
        other.execute(f'SET search_path TO "{chain.schema_name}"')
        other.execute("SELECT pg_advisory_xact_lock(hashtext('cvd.rollup'), hashtext(current_schema()))")
        with schema_context(chain.schema_name), pytest.raises(RollupBusy):
            rollup_hourly()
        other.rollback()
    with schema_context(chain.schema_name):
        assert rollup_hourly().changed_rows > 0
