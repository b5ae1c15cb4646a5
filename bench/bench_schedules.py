"""Scheduled reports benchmark: a `run_schedules` pass over 1,000 subscriptions of which none is due (the due
check is one query, whatever the number of subscriptions), and the board pack's render time on the 10M-sale
chain of bench_rollups (`bench_10m`) when it exists.

Runs in its own chain `bench_schedules` (Europe/Stockholm), refilled on every run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

SCHEMA = "bench_schedules"
SUBSCRIPTIONS = 1_000
GOAL_PASS_S = 2.0
GOAL_PACK_S = 10.0


def _chain() -> Any:
    from chains.models import Chain
    from chains.services import chain_create

    chain = Chain.objects.filter(schema_name=SCHEMA).first()
    if chain is None:
        chain = chain_create(schema=SCHEMA, name="Bench schedules", domain="bench-schedules.localhost",
                             time_zone="Europe/Stockholm")
    return chain


def _fill(next_run_at: datetime) -> None:
    from reporting.subscriptions.models import Delivery, Subscription

    Delivery.objects.all().delete()
    Subscription.objects.all().delete()
    Subscription.objects.bulk_create([
        Subscription(name=f"S {i}", report="dashboard", format="csv", range="previous_day",
                     recurrence={"freq": "daily", "at": f"{i % 24:02d}:{i % 60:02d}"}, recipients=["x@example.com"],
                     next_run_at=next_run_at + timedelta(minutes=i % 600))
        for i in range(SUBSCRIPTIONS)
    ])


def _pass(at: datetime, rounds: int) -> tuple[float, int, Any]:
    from reporting.subscriptions.services import schedules_run

    times, queries, report = [], 0, None
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            report = schedules_run(at=at)
            times.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
    return statistics.median(times), queries, report


def run() -> None:
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, verbosity=0, interactive=False)
    _chain()
    now = datetime.now(UTC)
    with schema_context(SCHEMA):
        _fill(now + timedelta(days=1))
        seconds, queries, report = _pass(now, rounds=5)
        print(f"run_schedules, {SUBSCRIPTIONS} subscriptions, none due: {seconds * 1000:.1f} ms median of 5, "
              f"{queries} queries (goal < {GOAL_PASS_S:.0f} s) {report.as_dict() if report else ''}")
        _fill(now + timedelta(days=1))  # leave the chain with nothing due
    from chains.models import Chain

    if not Chain.objects.filter(schema_name="bench_10m").exists():
        print("board pack on bench_10m: skipped (run `python -m bench rollups` first to build the 10M-sale chain)")
        return
    with schema_context("bench_10m"):
        from analytics.query import current_chain
        from reporting.boardpack import board_pack_write
        from reporting.models import Subscription  # noqa: F401 - the chain is migrated

        chain = current_chain()
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(sold_at) FROM fleet_sale")
            latest = cursor.fetchone()[0]
        month = (latest.astimezone(chain.tz).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        with tempfile.TemporaryFile() as target:
            started = time.perf_counter()
            rows = board_pack_write(chain, month, target)
            seconds = time.perf_counter() - started
            size = target.tell()
        print(f"board pack {month} on bench_10m: {seconds:.2f} s, {size / 1024:.0f} KiB, {rows} table rows "
              f"(goal < {GOAL_PACK_S:.0f} s)")
