"""The rollup marks, and the one way every reader uses them.

The buckets hold the raw rows with event time before the watermark W that were ingested before the mark I;
the version moves with every rollup job that commits. A reader that combines buckets (or a cache of them)
with raw rows must therefore:

1. read the marks once (`watermark()`; inside `same_watermark()` every question of a page shares one read);
2. add the live delta, the raw rows no bucket holds (`live_delta()`: event time >= W, or ingested at or after
   I, bounded by the range, skipped when the range ends before W);
3. read the buckets in a statement that also reads the version (`fetch_versioned()`), which raises
   `MarksMoved` when a job committed in between (the buckets would then hold rows the delta also counts);
4. on `MarksMoved`, start again from the new marks (`read_at_marks()`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, overload

from django.db import connection

T = TypeVar("T")

VERSION_SQL = "SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM analytics_rollupwatermark WHERE id = 1"
ATTEMPTS = 3


@dataclass(frozen=True)
class Watermark:
    covered_until: datetime  # W: buckets hold the rows with event time before this
    ingested_until: datetime  # I: ... that were ingested before this
    version: int | None = None  # microseconds of the last bucket change; moves with every job


class MarksMoved(Exception):
    """A rollup job committed between reading the marks and reading the buckets."""


_pinned: ContextVar[list[Watermark | None] | None] = ContextVar("rollup_watermark", default=None)
_pinned_fingerprints: ContextVar[dict[Any, str] | None] = ContextVar("rollup_delta_prints", default=None)


def watermark(*, fresh: bool = False) -> Watermark | None:
    """The chain's rollup marks; inside `same_watermark()` the ones read first (unless `fresh`, which re-reads
    them and pins the new ones). None before the first rollup job: every read is then raw."""
    pin = _pinned.get()
    if pin is not None and pin and not fresh:
        return pin[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT covered_until, ingested_until, (extract(epoch FROM updated_at) * 1000000)::bigint"
            " FROM analytics_rollupwatermark WHERE id = 1"
        )
        row = cursor.fetchone()
    mark = Watermark(row[0], row[1], row[2]) if row else None
    if pin is not None:
        pin[:] = [mark]
    return mark


@contextmanager
def same_watermark() -> Iterator[None]:
    """Answer every question inside from one watermark: one read instead of one per question, and all
    figures of a page relative to the same instant."""
    token = _pinned.set([])
    prints = _pinned_fingerprints.set({})
    try:
        yield
    finally:
        _pinned_fingerprints.reset(prints)
        _pinned.reset(token)


def pinned_fingerprints() -> dict[Any, str] | None:
    """Inside `same_watermark()`: a page-wide memo of live-delta fingerprints (see analytics.query.rollup)."""
    return _pinned_fingerprints.get()


def live_delta(
    event: str, ingested: str, *, lo: datetime, hi: datetime, mark: Watermark | None, params: dict[str, Any]
) -> list[str]:
    """The SQL conditions of the raw rows of [lo, hi) that no bucket holds: event time >= W (the tail, skipped
    when the range ends before W), or event time before W and ingested at or after I (late rows). Without marks,
    the whole range. Sets range_lo, range_hi (and tail_lo, late_hi, i) in `params`."""
    params.update(range_lo=lo, range_hi=hi)
    if mark is None:
        return [f"{event} >= %(range_lo)s AND {event} < %(range_hi)s"]
    branches = []
    if hi > mark.covered_until:
        params["tail_lo"] = max(lo, mark.covered_until)
        branches.append(f"{event} >= %(tail_lo)s AND {event} < %(range_hi)s")
    if lo < mark.covered_until:
        params.update(late_hi=min(hi, mark.covered_until), i=mark.ingested_until)
        branches.append(f"{event} >= %(range_lo)s AND {event} < %(late_hi)s AND {ingested} >= %(i)s")
    return branches


@overload
def fetch_versioned(sql: str, params: dict[str, Any], mark: Watermark) -> list[tuple[Any, ...]]: ...


@overload
def fetch_versioned(sql: str, params: dict[str, Any], mark: Watermark, *, extra: str) -> tuple[Any, list[tuple[Any, ...]]]: ...


def fetch_versioned(
    sql: str, params: dict[str, Any], mark: Watermark, *, extra: str | None = None
) -> list[tuple[Any, ...]] | tuple[Any, list[tuple[Any, ...]]]:
    """Rows of a statement that reads buckets, checked to belong to `mark`'s version (else MarksMoved): the
    buckets and the live delta from `mark` then never overlap or leave a gap. `extra`: a scalar SQL expression
    read in the same statement (one snapshot), returned first."""
    probe = f"({VERSION_SQL}) AS _version, {extra or 'NULL'} AS _extra"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {probe}, b.* FROM ({sql}) AS b", params)
        fetched = cursor.fetchall()
        if not fetched:  # nothing to read them from: ask again; a job in between makes the version differ
            cursor.execute(f"SELECT {probe}", params)
        version, value = (fetched[0] if fetched else cursor.fetchone())[:2]
    if version != mark.version:
        raise MarksMoved
    rows = [row[2:] for row in fetched]
    return rows if extra is None else (value, rows)


def read_at_marks(read: Callable[[Watermark | None], T], *, mark: Watermark | None = None) -> T | None:
    """`read(marks)`, started again from the new marks when a rollup job moved them mid-read (MarksMoved);
    None after ATTEMPTS races (the caller falls back to raw rows)."""
    mark = watermark() if mark is None else mark
    for _ in range(ATTEMPTS):
        try:
            return read(mark)
        except MarksMoved:
            mark = watermark(fresh=True)  # a job committed meanwhile: start again from its marks
    return None
