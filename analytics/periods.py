"""Date ranges as the product defines them: inclusive local dates in the chain's time zone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """`start`..`end`, both inclusive local dates: [start 00:00 local, (end + 1 day) 00:00 local)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end must not be before start")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The aware instants that bound the range; a local day may be 23 or 25 hours long."""
        return local_midnight(self.start, tz), local_midnight(self.end + timedelta(days=1), tz)

    def previous(self) -> Period:
        """The range of equal length that ends the day before `start`."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def dates(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    @classmethod
    def last_days(cls, days: int, today: date) -> Period:
        return cls(today - timedelta(days=days - 1), today)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


THIRDS = (1, 11, 21)  # the days a third of a month starts on: 1-10, 11-20, 21 to the month's end


def third_start(day: date) -> date:
    """The first day of the third of a month that `day` is in."""
    return day.replace(day=max(start for start in THIRDS if start <= day.day))


def next_third(day: date) -> date:
    """The first day of the third of a month after `day`'s."""
    later = [start for start in THIRDS if start > day.day]
    return day.replace(day=later[0]) if later else next_month(day)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # Midnight exists on every DST day in the zones we serve (transitions happen at 01:00–03:00);
    # fold=0 picks the first occurrence should a zone ever repeat it.
    return datetime.combine(day, time(0), tzinfo=tz)
