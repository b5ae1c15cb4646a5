"""Alert windows: the last complete local hour, day, ISO week or month of a chain before an instant (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics.periods import Period, local_midnight


@dataclass(frozen=True)
class AlertWindow:
    kind: str
    starts_at: datetime  # aware, inclusive
    ends_at: datetime  # aware, exclusive
    period: Period | None  # the local dates it covers (None for an hour)
    tz: ZoneInfo

    def previous(self) -> AlertWindow:
        """The window of the same kind that ends where this one starts."""
        return last_complete_window(self.kind, self.starts_at, self.tz)

    def label(self) -> str:
        """How a person reads it: '2026-10-05', 'week 2026-W41', '2026-10', '2026-10-25 02:00 CET'."""
        if self.kind == "hour":
            local = self.starts_at.astimezone(self.tz)
            return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        assert self.period is not None
        if self.kind == "day":
            return self.period.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.period.start.isocalendar()
            return f"week {year}-W{week:02d} ({self.period.start} – {self.period.end})"
        return f"{self.period.start:%Y-%m}"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def last_complete_window(kind: str, at: datetime, tz: ZoneInfo) -> AlertWindow:
    """The last window of `kind` that ended at or before `at`, in the chain's local time.

    A local day is 23 or 25 hours on DST days; hours are real hours (a repeated 02:00 in autumn is two
    windows, each labelled with its own offset).
    """
    if at.tzinfo is None:
        raise ValueError("the instant must be aware")
    local = at.astimezone(tz)
    if kind == "hour":
        # Whole-hour offsets (every zone we serve): local hour boundaries are UTC hour boundaries.
        end_local = local.replace(minute=0, second=0, microsecond=0)
        ends_at = end_local.astimezone(UTC)
        return AlertWindow(kind, ends_at - timedelta(hours=1), ends_at, None, tz)
    today = local.date()
    if kind == "day":
        first = last = today - timedelta(days=1)
    elif kind == "week":
        this_monday = today - timedelta(days=today.weekday())
        first, last = this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    elif kind == "month":
        last = _month_start(today) - timedelta(days=1)
        first = _month_start(last)
    else:
        raise ValueError(f"unknown window {kind!r}")
    period = Period(first, last)
    # In UTC: arithmetic between two datetimes of one ZoneInfo is wall-clock time (a 25-hour day would be 24).
    starts_at = local_midnight(first, tz).astimezone(UTC)
    return AlertWindow(kind, starts_at, local_midnight(last + timedelta(days=1), tz).astimezone(UTC), period, tz)
