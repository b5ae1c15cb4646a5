"""Filling a table the rollup jobs keep when a migration adds it to chains that already have rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection


@dataclass(frozen=True)
class ExistingMarks:
    tz: ZoneInfo
    covered_until: datetime
    ingested_until: datetime
    first_day: date  # the local day of the chain's first sale
    last_day: date  # the local day of the watermark


def existing_marks() -> ExistingMarks | None:
    """The active chain's rollup marks and its first sale's day, or None before the first rollup job (or without
    sales): there is nothing to fill then, the first job builds the table with the rest."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('analytics_rollupwatermark') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT covered_until, ingested_until FROM analytics_rollupwatermark WHERE id = 1")
        marks = cursor.fetchone()
        if marks is None:
            return None
        cursor.execute("SELECT time_zone FROM public.chains_chain WHERE schema_name = current_schema()")
        zone = cursor.fetchone()
        cursor.execute("SELECT min(sold_at) FROM fleet_sale")
        first = cursor.fetchone()[0]
    if zone is None or first is None:
        return None
    tz = ZoneInfo(zone[0])
    return ExistingMarks(tz, marks[0], marks[1], first.astimezone(tz).date(), marks[0].astimezone(tz).date())
