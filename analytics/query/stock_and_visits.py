"""Stock and visits: each planogram slot's last fill and the units sold since, and the revenue each service
visit's machine took since its previous visit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from analytics.filters import PLANOGRAM, Filters
from analytics.periods import local_midnight
from analytics.query import current_chain
from analytics.query.marks import Watermark, fetch_versioned, read_at_marks
from analytics.query.raw import fetch_tuples
from analytics.rollups import slot_stock, visits

__all__ = ["SlotStock", "run_visit_totals", "slot_stock_since_fill", "visit_serviced_revenue"]


# Each wanted visit's previous completed visit by LAG over its machine's completed visits from the first wanted
# one to the last (one index range per machine, plus one probe for the visit just before), then the machine's sales
# in between from the covering (device, sold_at) INCLUDE (amount) index: the cost follows the visits wanted, not
# the history of visits or sales. CTEs to follow one named `wanted` (id, device_id, visited_at: completed visits);
# defines `serviced` (id, revenue).
_SERVICED = """
    firsts AS MATERIALIZED (
        SELECT DISTINCT ON (device_id) device_id, visited_at, id,
               MAX(visited_at) OVER (PARTITION BY device_id) AS until
        FROM wanted ORDER BY device_id, visited_at, id
    ),
    span AS (
        SELECT v.id, v.device_id, v.visited_at FROM firsts f
        JOIN routes_servicevisit v ON v.device_id = f.device_id AND v.completed
         AND (v.visited_at, v.id) >= (f.visited_at, f.id) AND v.visited_at <= f.until
        UNION ALL
        SELECT p.id, p.device_id, p.visited_at FROM firsts f
        CROSS JOIN LATERAL (
            SELECT p.id, p.device_id, p.visited_at FROM routes_servicevisit p
            WHERE p.device_id = f.device_id AND p.completed AND (p.visited_at, p.id) < (f.visited_at, f.id)
            ORDER BY p.visited_at DESC, p.id DESC LIMIT 1
        ) AS p
    ),
    windows AS (
        SELECT id, device_id, visited_at,
               LAG(visited_at) OVER (PARTITION BY device_id ORDER BY visited_at, id) AS previous_at
        FROM span
    ),
    -- Summed per visit where the rows are (a subquery each), not 750,000 sales joined, sorted and grouped.
    serviced AS (
        SELECT w.id, COALESCE((
            SELECT SUM(s.amount) FROM fleet_sale s
            WHERE s.device_id = w.device_id AND s.sold_at <= w.visited_at AND s.sold_at > w.previous_at
        ), 0) AS revenue
        FROM windows w
        WHERE w.previous_at IS NOT NULL AND w.id IN (SELECT id FROM wanted)
    )
"""


def visit_serviced_revenue(*, visit_ids: Sequence[int]) -> dict[int, Decimal]:
    """Revenue each visited machine took since its previous completed service visit, up to this (completed) visit.

    A machine's first recorded service has no window and is left out (its revenue counts as 0).
    """
    if not visit_ids:
        return {}
    sql = f"""
        WITH wanted AS MATERIALIZED (
            SELECT x.id, x.device_id, x.visited_at FROM routes_servicevisit x WHERE x.id = ANY(%(visits)s) AND x.completed
        ),
        {_SERVICED}
        SELECT id, revenue FROM serviced
    """
    return {int(visit_id): Decimal(revenue) for visit_id, revenue in fetch_tuples(sql, {"visits": list(visit_ids)})}


# The runs' visits; those the rollup jobs hold (analytics.rollups.visits: before W, machine not stale) are their row
# plus the sales ingested since I in their window; the other completed ones are `wanted` by _SERVICED.
_RUN_TOTALS = f"""
    WITH asked AS MATERIALIZED (
        SELECT x.id, x.route_run_id, x.device_id, x.visited_at, x.completed, x.cash_collected
        FROM routes_servicevisit x WHERE x.route_run_id = ANY(%(runs)s)
    ),
    -- The runs' rows (their index alone), kept where the visit still is as the row has it.
    held AS MATERIALIZED (
        SELECT a.id, a.route_run_id, a.device_id, a.visited_at, h.previous_at, h.revenue
        FROM asked a
        JOIN {visits.TABLE} h ON h.visit_id = a.id AND h.visited_at = a.visited_at
        WHERE %(held)s AND h.route_run_id = ANY(%(runs)s) AND a.completed AND a.visited_at < %(w)s
          AND a.device_id NOT IN (SELECT x.device_id FROM {slot_stock.DIRTY} x)
    ),
    late AS MATERIALIZED (
        SELECT s.device_id, s.sold_at, s.amount FROM fleet_sale s
        WHERE %(held)s AND s.ingested_at >= %(i)s AND s.sold_at < %(w)s
    ),
    wanted AS MATERIALIZED (
        SELECT a.id, a.device_id, a.visited_at FROM asked a WHERE a.completed AND a.id NOT IN (SELECT id FROM held)
    ),
    {_SERVICED},
    -- Summed per run from the parts (each a few rows per visit at most), not joined back to every visit first.
    revenue AS (
        SELECT route_run_id, revenue FROM held
        UNION ALL
        SELECT h.route_run_id, l.amount FROM late l
        JOIN held h ON h.device_id = l.device_id AND l.sold_at > h.previous_at AND l.sold_at <= h.visited_at
        UNION ALL
        SELECT a.route_run_id, sv.revenue FROM serviced sv JOIN asked a ON a.id = sv.id
    ),
    per_run AS (SELECT route_run_id, SUM(revenue) AS revenue FROM revenue GROUP BY route_run_id)
    SELECT c.route_run_id, c.cash, COALESCE(p.revenue, 0)
    FROM (SELECT route_run_id, COALESCE(SUM(cash_collected), 0) AS cash FROM asked GROUP BY route_run_id) AS c
    LEFT JOIN per_run p ON p.route_run_id = c.route_run_id
"""


def run_visit_totals(*, run_ids: Sequence[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per route run: (cash collected at its visits, serviced revenue of its completed visits, as
    visit_serviced_revenue counts it), in one statement: the runs' 20,000 visits never travel to Python."""
    if not run_ids:
        return {}
    params: dict[str, Any] = {"runs": list(run_ids)}

    def read(mark: Watermark | None) -> list[tuple[Any, ...]]:
        if mark is None:
            return fetch_tuples(_RUN_TOTALS, {**params, "held": False, "w": None, "i": None})
        return fetch_versioned(_RUN_TOTALS, {**params, "held": True, "w": mark.covered_until, "i": mark.ingested_until}, mark)

    fetched = read_at_marks(read)
    return {
        int(run): (Decimal(cash), Decimal(revenue)) for run, cash, revenue in (read(None) if fetched is None else fetched)
    }


class SlotStock(NamedTuple):
    slot_id: int
    device_id: int
    asset: str
    slot_code: str
    product_id: int
    sku: str
    product_name: str
    capacity: int
    par_level: int
    level_after: int | None  # None: never filled
    filled_at: datetime | None
    sold_since: int
    window_units: int


def slot_stock_since_fill(
    *, filters: Filters, now: datetime, window: tuple[datetime, datetime] | None = None
) -> list[SlotStock]:
    """Every slot of the planograms in force: its last fill (level_after, when) and the units sold from it since.

    Units sold since = Σ quantity of the device's sales with that slot code after the fill's visit
    and up to `now`. A slot never filled has level_after and filled_at None. A fill is recorded on a visit to
    the slot's own machine (SlotFill.clean checks it), so the slot's last fill is found among its machine's visits.
    `window` [from, until): also the slot's units sold in it ("window_units"). In no particular order (sorting
    20,000 rows by name in the database's collation costs more than the rest of the statement).

    Each slot the rollup jobs hold at the current marks (analytics.rollups.slot_stock) is its row plus the sales the
    marks leave out; the others (stale machines, new slots, a window that does not start at a local midnight within
    the held days) are read from raw rows: one range of the (device, slot code, sold_at) index from the earlier of
    the fill and the window.
    """
    scope = filters.scope(PLANOGRAM, joined=("d", "l", "p"))
    assert scope is not None  # planogram slots carry every sales filter
    window_lo, window_hi = window or (now, now)
    tz = current_chain().tz
    window_day = window_lo.astimezone(tz).date()
    params: dict[str, Any] = {
        "now": now, "fills_until": now, "window_lo": window_lo, "window_hi": window_hi, "window_day": window_day,
        **scope.params,
    }
    sql = _SLOT_STOCK.format(where=scope.where, fills=slot_stock.LAST_FILLS.format(slots="unheld"))

    def read(mark: Watermark | None) -> list[tuple[Any, ...]]:
        held = (
            mark is not None and mark.covered_until <= now and window_hi >= mark.covered_until
            and local_midnight(window_day, tz) == window_lo
        )
        if not held or mark is None:
            return fetch_tuples(sql, {**params, "held": False, "w": now, "i": now})
        return fetch_versioned(sql, {**params, "held": True, "w": mark.covered_until, "i": mark.ingested_until}, mark)

    fetched = read_at_marks(read)
    # filled_at is read as UTC wall time (psycopg's C loader) and made aware here, once per visit (a visit fills
    # about ten slots): 20,000 aware loads through the driver's time zone adapter cost more than the query's joins.
    aware: dict[datetime, datetime] = {}
    return [
        SlotStock._make(row if row[10] is None else (
            *row[:10], aware.get(row[10]) or aware.setdefault(row[10], row[10].replace(tzinfo=UTC)), *row[11:]
        ))
        for row in (read(None) if fetched is None else fetched)
    ]


_SLOT_STOCK = f"""
    WITH slots AS MATERIALIZED (
        SELECT ps.id, ps.device_id, d.asset, ps.slot_code, ps.product_id, p.sku, p.name, ps.capacity, ps.par_level
        FROM fleet_planogramslot ps
        JOIN fleet_device d ON d.id = ps.device_id
        JOIN fleet_location l ON l.id = d.location_id
        JOIN fleet_product p ON p.id = ps.product_id
        WHERE ps.valid_to IS NULL AND d.retired_at IS NULL{{where}}
    ),
    -- The held rows at the marks (%(w)s, %(i)s), their window from the cumulative days: through the last day less
    -- through the day before the window's first (k its position in the days).
    held AS MATERIALIZED (
        SELECT h.slot_id, h.filled_at, h.level_after, h.sold_since,
               CASE WHEN k <= 1 THEN h.cumulative[{slot_stock.DAYS}] WHEN k > {slot_stock.DAYS} THEN 0
                    ELSE h.cumulative[{slot_stock.DAYS}] - h.cumulative[k - 1] END AS window_units
        FROM slots ps
        JOIN {slot_stock.TABLE} h ON h.slot_id = ps.id
        CROSS JOIN LATERAL (SELECT (%(window_day)s::date - h.first_day) + 1 AS k) AS position
        WHERE %(held)s AND h.covered_until = %(w)s AND h.ingested_until = %(i)s
          AND ps.device_id NOT IN (SELECT x.device_id FROM {slot_stock.DIRTY} x)
    ),
    -- The sales the marks leave out: sold at or after W, or before it and ingested since I.
    delta AS MATERIALIZED (
        SELECT s.device_id, s.slot_code, s.sold_at, s.quantity FROM fleet_sale s WHERE %(held)s AND s.sold_at >= %(w)s
        UNION ALL
        SELECT s.device_id, s.slot_code, s.sold_at, s.quantity FROM fleet_sale s
        WHERE %(held)s AND s.ingested_at >= %(i)s AND s.sold_at < %(w)s
    ),
    held_delta AS (
        SELECT h.slot_id,
               SUM(d.quantity) FILTER (WHERE d.sold_at > h.filled_at AND d.sold_at <= %(now)s) AS since_fill,
               SUM(d.quantity) FILTER (WHERE d.sold_at >= %(window_lo)s AND d.sold_at < %(window_hi)s) AS in_window
        FROM delta d
        JOIN slots ps ON ps.device_id = d.device_id AND ps.slot_code = d.slot_code
        JOIN held h ON h.slot_id = ps.id
        GROUP BY h.slot_id
    ),
    unheld AS MATERIALIZED (SELECT ps.* FROM slots ps WHERE ps.id NOT IN (SELECT h.slot_id FROM held h)),
    {{fills}}
    SELECT ps.id, ps.device_id, ps.asset, ps.slot_code, ps.product_id, ps.sku, ps.name, ps.capacity, ps.par_level,
           h.level_after, h.filled_at AT TIME ZONE 'UTC', h.sold_since + COALESCE(hd.since_fill, 0),
           h.window_units + COALESCE(hd.in_window, 0)
    FROM slots ps
    JOIN held h ON h.slot_id = ps.id
    LEFT JOIN held_delta hd ON hd.slot_id = ps.id
    UNION ALL
    SELECT ps.id, ps.device_id, ps.asset, ps.slot_code, ps.product_id, ps.sku, ps.name, ps.capacity, ps.par_level,
           f.level_after, f.visited_at AT TIME ZONE 'UTC', sold.since_fill, sold.in_window
    FROM unheld ps
    JOIN filled f ON f.slot_id = ps.id
    CROSS JOIN LATERAL (
        SELECT COALESCE(SUM(s.quantity) FILTER (WHERE s.sold_at > f.visited_at AND s.sold_at <= %(now)s), 0),
               COALESCE(SUM(s.quantity) FILTER (WHERE s.sold_at >= %(window_lo)s AND s.sold_at < %(window_hi)s), 0)
        FROM fleet_sale s
        WHERE s.device_id = ps.device_id AND s.slot_code = ps.slot_code
          AND s.sold_at >= LEAST(COALESCE(f.visited_at, %(window_lo)s), %(window_lo)s)
          AND s.sold_at <= GREATEST(%(now)s, %(window_hi)s)
    ) AS sold (since_fill, in_window)
"""
