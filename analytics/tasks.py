"""Celery tasks of the rollups: per-chain jobs (run in the chain's schema) and beat fan-outs (run in public).

Chain tasks are thin: check the tenant, call a service in analytics.rollups.services, return its
report. They acknowledge late and are rejected (redelivered) when the worker dies, retry with
backoff while another job holds the chain's advisory lock or the database is away, and fail — never
fall back — when they find themselves in the public schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.db import OperationalError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from analytics.periods import local_midnight
from analytics.rollups import services
from analytics.signals import rollup_hourly_finished
from chains.tenancy import TenantLost, require_chain
from cvd.celery import app

__all__ = ["TenantLost", "rollup_daily_close_fanout", "rollup_hourly_task", "rollup_rebuild_task"]  # TenantLost: chains.tenancy

CHAIN_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (services.RollupBusy, OperationalError),
    "retry_backoff": 30,
    "retry_backoff_max": 15 * 60,
    "retry_jitter": True,
    "max_retries": 8,
}
DAILY_CLOSE_WINDOW = timedelta(minutes=15)  # the daily-close fan-out runs every 15 minutes


def _in_chain() -> str:
    return require_chain("a rollup task")  # TenantLost when it was sent from the public schema


@app.task(name="analytics.rollup_hourly", **CHAIN_TASK)
def rollup_hourly_task() -> dict[str, Any]:
    schema = _in_chain()
    result = services.rollup_hourly().as_dict()
    # Whatever reads fresh buckets after each hourly run (alert evaluation) hooks in here.
    rollup_hourly_finished.send(sender=rollup_hourly_task, schema=schema)
    return result


@app.task(name="analytics.rollup_daily_close", **CHAIN_TASK)
def rollup_daily_close_task(day: str) -> dict[str, Any]:
    _in_chain()
    return services.rollup_close_day(day=date.fromisoformat(day)).as_dict()


@app.task(name="analytics.rollup_monthly_close", **CHAIN_TASK)
def rollup_monthly_close_task(month: str) -> dict[str, Any]:
    _in_chain()
    return services.rollup_close_month(month=date.fromisoformat(month)).as_dict()


@app.task(name="analytics.rollup_rebuild", **CHAIN_TASK)
def rollup_rebuild_task(start: str | None = None, end: str | None = None, chunk_days: int = 31) -> dict[str, Any]:
    _in_chain()
    return services.rollup_rebuild(
        start=date.fromisoformat(start) if start else None,
        end=date.fromisoformat(end) if end else None,
        chunk_days=chunk_days,
    ).as_dict()


def _chains() -> Iterator[Any]:
    """Every chain, or those named in CVD_ROLLUP_ONLY_SCHEMAS (comma-separated; to confine a worker)."""
    from chains.models import Chain

    chains = Chain.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name")
    only = [s for s in os.environ.get("CVD_ROLLUP_ONLY_SCHEMAS", "").split(",") if s]
    if only:
        chains = chains.filter(schema_name__in=only)
    yield from chains


def _now(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else timezone.now()


@app.task(name="analytics.rollup_hourly_fanout")
def rollup_hourly_fanout() -> list[str]:
    sent = []
    for chain in _chains():
        with schema_context(chain.schema_name):  # the task carries the chain's schema in its headers
            rollup_hourly_task.apply_async()
        sent.append(chain.schema_name)
    return sent


@app.task(name="analytics.rollup_daily_close_fanout")
def rollup_daily_close_fanout(now: str | None = None) -> list[str]:
    """Close the previous local day of every chain whose local midnight passed in the last 15 minutes."""
    instant = _now(now)
    sent = []
    for chain in _chains():
        today = instant.astimezone(chain.tz).date()
        midnight = local_midnight(today, chain.tz)
        if midnight <= instant < midnight + DAILY_CLOSE_WINDOW:
            with schema_context(chain.schema_name):
                rollup_daily_close_task.apply_async(kwargs={"day": (today - timedelta(days=1)).isoformat()})
            sent.append(chain.schema_name)
    return sent


@app.task(name="analytics.rollup_monthly_close_fanout")
def rollup_monthly_close_fanout(now: str | None = None) -> list[str]:
    """On a chain's local 1st, in its first hour, close the month before."""
    instant = _now(now)
    sent = []
    for chain in _chains():
        local = instant.astimezone(chain.tz)
        if local.day == 1 and instant - local_midnight(local.date(), chain.tz) < timedelta(hours=1):
            previous = (local.date() - timedelta(days=1)).replace(day=1)
            with schema_context(chain.schema_name):
                rollup_monthly_close_task.apply_async(kwargs={"month": previous.isoformat()})
            sent.append(chain.schema_name)
    return sent
