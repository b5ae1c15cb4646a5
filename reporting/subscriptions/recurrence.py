"""When a subscription falls due: its recurrence in the chain's local time, turned into UTC instants (pure functions).

A local time that does not exist (inside the spring-forward gap) runs at the first instant after the gap;
an ambiguous one (the autumn hour that happens twice) runs once, at its first occurrence (fold=0).
Stored instants are UTC, but every next one is computed again from the local rule, so a schedule never
drifts an hour after a DST change.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FREQS = ("daily", "weekly", "monthly")


@dataclass(frozen=True)
class Recurrence:
    freq: str
    at: time
    weekday: int | None = None  # ISO 1 (Monday) … 7, weekly only
    day: int | None = None  # 1 … 31 (clamped to the month's last day) or -1 (the last day), monthly only

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recurrence:
        hours, minutes = str(data["at"]).split(":")
        return cls(freq=str(data["freq"]), at=time(int(hours), int(minutes)), weekday=data.get("weekday"), day=data.get("day"))

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"freq": self.freq, "at": self.at.strftime("%H:%M")}
        if self.freq == "weekly":
            out["weekday"] = self.weekday
        if self.freq == "monthly":
            out["day"] = self.day
        return out

    def matches(self, day: date) -> bool:
        if self.freq == "daily":
            return True
        if self.freq == "weekly":
            return day.isoweekday() == self.weekday
        last = calendar.monthrange(day.year, day.month)[1]
        wanted = last if self.day == -1 or (self.day or 0) > last else self.day
        return day.day == wanted


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of `day` `at` local time; in a gap the first instant after it, when ambiguous the first."""
    wall = datetime.combine(day, at)
    for minute in range(0, 24 * 60 + 1):  # gaps are whole minutes (usually 60); the wall clock resumes after one
        candidate = (wall + timedelta(minutes=minute)).replace(tzinfo=tz, fold=0)
        instant = candidate.astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return instant
    raise ValueError(f"no local time {wall} in {tz}")  # pragma: no cover - no zone has a day-long gap


def _days_from(start: date) -> Iterator[date]:
    day = start
    while True:
        yield day
        day += timedelta(days=1)


def occurrences(rule: Recurrence, tz: ZoneInfo, *, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
    """Occurrences strictly after `after` (and at or before `until`, when given), in order, as UTC instants."""
    first_day = after.astimezone(tz).date() - timedelta(days=1)
    for day in _days_from(first_day):
        if day > first_day + timedelta(days=800) and until is None:
            return  # pragma: no cover - every rule matches within a month
        if not rule.matches(day):
            continue
        instant = local_instant(day, rule.at, tz)
        if instant <= after:
            continue
        if until is not None and instant > until:
            return
        yield instant


def next_occurrence(rule: Recurrence, tz: ZoneInfo, *, after: datetime) -> datetime:
    return next(occurrences(rule, tz, after=after))


def report_range(name: str, today: date) -> tuple[date, date]:
    """The inclusive local dates a relative range covers for a report sent on local date `today` (complete days)."""
    yesterday = today - timedelta(days=1)
    if name == "previous_day":
        return yesterday, yesterday
    if name == "previous_week":
        monday = today - timedelta(days=today.isoweekday() - 1)
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if name == "previous_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "last_7_days":
        return today - timedelta(days=7), yesterday
    if name == "last_30_days":
        return today - timedelta(days=30), yesterday
    if name == "month_to_date":  # the month of yesterday, through yesterday: on the 1st, the whole previous month
        return yesterday.replace(day=1), yesterday
    raise ValueError(f"unknown range {name!r}")
