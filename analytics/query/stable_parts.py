"""Raw-row sums cut at the rollup marks: the stable part before the marks cached and advanced as they move, the
live part read on every call. The readers no rollup carries (a device's products, its days, slots) use it.

Money travels and is cached as exact integers of 1/10,000 (money columns keep 4 decimal places).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.db import connection

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query import current_chain, sales_by
from analytics.query.cache import STABLE_PARTS
from analytics.query.marks import Watermark, live_delta, watermark
from analytics.query.raw import sales_scope

MONEY_SCALE = 10_000

IntArray = npt.NDArray[np.int64]


def _dirty_signature() -> tuple[int, int, int]:
    """Which changed ranges ingestion has reported and no job has processed yet: any commit or job changes it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), COALESCE(SUM(id), 0), COALESCE(MAX(id), 0) FROM analytics_dirtyrange")
        count, total, last = cursor.fetchone()
    return int(count), int(total), int(last)


def _columns(sql: str, params: dict[str, Any], width: int, *, text_key: bool = False) -> list[npt.NDArray[Any]]:
    """A result as one array per column: int64, except a text first column when `text_key`."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        empty = [np.zeros(0, dtype=np.int64) for _ in range(width)]
        if text_key:
            empty[0] = np.zeros(0, dtype=object)
        return empty
    if text_key:
        matrix = np.array(rows, dtype=object).reshape(len(rows), width)
        return [matrix[:, 0].copy(), *(matrix[:, i].astype(np.int64) for i in range(1, width))]
    ints = np.array(rows, dtype=np.int64).reshape(len(rows), width)
    return [np.ascontiguousarray(ints[:, i]) for i in range(width)]


def _sum_by_keys(parts: list[list[npt.NDArray[Any]]], *, keys: int, width: int) -> list[npt.NDArray[Any]]:
    """Concatenate column arrays and sum the non-key columns of equal keys (the first `keys` of `width` columns)."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    if len(parts) == 1:
        return parts[0]
    frame = pd.DataFrame({i: np.concatenate([part[i] for part in parts]) for i in range(width)})
    summed = frame.groupby(list(range(keys)), sort=False, as_index=False).sum()
    return [summed[i].to_numpy() for i in range(width)]


def _scaled_money(column: str) -> str:
    return f"(SUM({column}) * {MONEY_SCALE})::bigint"


def _to_money(scaled: int) -> Decimal:
    """An exact integer of 1/10,000 back to the Decimal the database would have returned (scale 4)."""
    return Decimal(int(scaled)).scaleb(-4)


def _raw_grouped(
    name: str, *, period: Period, filters: Filters, select: str, group: str, width: int,
    sums: dict[str, int], extra_params: dict[str, Any] | None = None, text_key: bool = False,
    mark: Watermark | None = None, full_read: Callable[[], list[npt.NDArray[Any]]] | None = None,
) -> list[npt.NDArray[Any]]:
    """`select` (`group` keys first, then integer sums) over the raw rows of `period`, grouped by `group`.

    The raw rows are cut at the rollup marks: the stable part (event time before W, ingested before I) and the
    live part (event time >= W, or ingested at or after I: the delta the rollup reads add too). The stable part is
    cached per range and question with the rollup version and marks it was read at. After a rollup job has moved
    the marks, only the rows between the old and the new marks are read and added (an hour of rows, not the
    range), and the result is used only if its totals equal the rollup buckets' (`sums` names the columns holding
    revenue, units, transactions): a change no mark or reported range shows (a restore, a regenerated chain)
    reads the range in full again. Without a watermark everything is live. `full_read` reads the stable part in
    full some other way (from rollup buckets, which hold exactly those rows); `mark` is the watermark to use.
    """
    chain = current_chain()
    lo, hi = period.bounds(chain.tz)
    scope = sales_scope(filters)
    where, params = scope.where, dict(scope.params)
    params.update(extra_params or {}, range_lo=lo, range_hi=hi)
    keys = len(group.split(","))

    def read(*branches: str) -> list[npt.NDArray[Any]]:
        sql = " UNION ALL ".join(
            f"SELECT {select} FROM fleet_sale s{scope.joins} WHERE {branch}{where} GROUP BY {group}"
            for branch in branches
        )
        return _columns(sql, params, width, text_key=text_key)

    mark = mark or watermark()
    if mark is None:
        return read("s.sold_at >= %(range_lo)s AND s.sold_at < %(range_hi)s")
    live_clauses = live_delta("s.sold_at", "s.ingested_at", lo=lo, hi=hi, mark=mark, params=params)
    live = read(*live_clauses) if live_clauses else None
    parts = [] if live is None else [live]
    if lo < mark.covered_until:

        def agrees(stable: list[npt.NDArray[Any]]) -> bool:
            rows = sales_by(period=period, filters=filters)
            want = {"revenue": 0, "units": 0, "transactions": 0}
            if rows:
                want = {
                    "revenue": int(Decimal(rows[0]["revenue"]) * MONEY_SCALE),
                    "units": int(rows[0]["units"]),
                    "transactions": int(rows[0]["transactions"]),
                }
            return all(
                int(stable[column].sum()) + (0 if live is None else int(live[column].sum())) == want[measure]
                for measure, column in sums.items()
            )

        params.update(stable_hi=min(hi, mark.covered_until), i=mark.ingested_until)
        parts.append(_stable_part(name, read, params, filters, select, group, keys, width, mark, agrees, full_read))
    return _sum_by_keys(parts, keys=keys, width=width)


def _stable_part(
    name: str,
    read: Callable[..., list[npt.NDArray[Any]]],
    params: dict[str, Any],
    filters: Filters,
    select: str,
    group: str,
    keys: int,
    width: int,
    mark: Watermark,
    agrees: Callable[[list[npt.NDArray[Any]]], bool],
    full_read: Callable[[], list[npt.NDArray[Any]]] | None = None,
) -> list[npt.NDArray[Any]]:
    """The raw rows of [range_lo, stable_hi) ingested before i, grouped: from the cache, advanced, or read in full."""
    question = {k: v for k, v in params.items() if k not in ("stable_hi", "i", "tail_lo", "late_hi", "late_i")}
    key = STABLE_PARTS.key(name, digest_of=(select, group, sales_scope(filters).joins, sorted(question.items())))
    signature = _dirty_signature()
    stable_hi, ingested = params["stable_hi"], params["i"]
    hit = STABLE_PARTS.get(key)

    def keep(columns: list[npt.NDArray[Any]]) -> None:
        entry = {"version": mark.version, "stable_hi": stable_hi, "i": ingested, "dirty": signature, "columns": columns}
        STABLE_PARTS.set(key, entry)

    if hit is not None and hit["dirty"] == signature and mark.version is not None:
        if hit.get("version") == mark.version and (hit["stable_hi"], hit["i"]) == (stable_hi, ingested):
            return list(hit["columns"])
        if hit["stable_hi"] <= stable_hi and hit["i"] <= ingested:
            # Only what moved into the stable part since: newer event times, and late rows ingested in between.
            params.update(old_hi=hit["stable_hi"], old_i=hit["i"])
            added = read(
                "s.sold_at >= %(old_hi)s AND s.sold_at < %(stable_hi)s AND s.ingested_at < %(i)s",
                "s.sold_at >= %(range_lo)s AND s.sold_at < %(old_hi)s AND s.ingested_at >= %(old_i)s"
                " AND s.ingested_at < %(i)s",
            )
            columns = _sum_by_keys([list(hit["columns"]), added], keys=keys, width=width)
            if agrees(columns):
                keep(columns)
                return columns
    if full_read is not None:
        columns = full_read()
    else:
        columns = read("s.sold_at >= %(range_lo)s AND s.sold_at < %(stable_hi)s AND s.ingested_at < %(i)s")
    if mark.version is not None and (hit is None or (hit["stable_hi"] <= stable_hi and hit["i"] <= ingested)):
        keep(columns)  # never back to older marks
    return columns
