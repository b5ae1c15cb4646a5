"""Stock and visits: each planogram slot's last fill and the units sold since, and the revenue each service
visit's machine took since its previous visit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from analytics.filters import PLANOGRAM, Filters
from analytics.query.raw import fetch_tuples

__all__ = ["run_visit_totals", "slot_stock_since_fill", "visit_serviced_revenue"]


# Each asked-for visit's previous completed visit by LAG over its machine's completed visits from the first asked
# one to the last (one index range per machine, plus one probe for the visit just before), then the machine's sales
# in between from the covering (device, sold_at) INCLUDE (amount) index: the cost follows the visits asked for, not
# the history of visits or sales. {asked} selects the completed visits (id, device_id, visited_at); {answer} reads
# `serviced` (id, revenue).
_SERVICED = """
    WITH asked AS MATERIALIZED ({asked}),
    firsts AS MATERIALIZED (
        SELECT DISTINCT ON (device_id) device_id, visited_at, id,
               MAX(visited_at) OVER (PARTITION BY device_id) AS until
        FROM asked ORDER BY device_id, visited_at, id
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
        WHERE w.previous_at IS NOT NULL AND w.id IN (SELECT id FROM asked)
    )
    {answer}
"""


def visit_serviced_revenue(*, visit_ids: Sequence[int]) -> dict[int, Decimal]:
    """Revenue each visited machine took since its previous completed service visit, up to this (completed) visit.

    A machine's first recorded service has no window and is left out (its revenue counts as 0).
    """
    if not visit_ids:
        return {}
    sql = _SERVICED.format(
        asked="SELECT x.id, x.device_id, x.visited_at FROM routes_servicevisit x WHERE x.id = ANY(%(visits)s) AND x.completed",
        answer="SELECT id, revenue FROM serviced",
    )
    return {int(visit_id): Decimal(revenue) for visit_id, revenue in fetch_tuples(sql, {"visits": list(visit_ids)})}


def run_visit_totals(*, run_ids: Sequence[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per route run: (cash collected at its visits, serviced revenue of its completed visits, as
    visit_serviced_revenue counts it), in one statement: the runs' 20,000 visits never travel to Python."""
    if not run_ids:
        return {}
    sql = _SERVICED.format(
        asked="SELECT x.id, x.device_id, x.visited_at FROM routes_servicevisit x"
              " WHERE x.route_run_id = ANY(%(runs)s) AND x.completed",
        answer="""SELECT v.route_run_id, COALESCE(SUM(v.cash_collected), 0), COALESCE(SUM(sv.revenue), 0)
    FROM routes_servicevisit v LEFT JOIN serviced sv ON sv.id = v.id
    WHERE v.route_run_id = ANY(%(runs)s)
    GROUP BY v.route_run_id""",
    )
    return {int(run): (Decimal(cash), Decimal(revenue)) for run, cash, revenue in fetch_tuples(sql, {"runs": list(run_ids)})}


def slot_stock_since_fill(
    *, filters: Filters, now: datetime, window: tuple[datetime, datetime] | None = None
) -> list[dict[str, Any]]:
    """Every slot of the planograms in force: its last fill (level_after, when) and the units sold from it since.

    Units sold since = Σ quantity of the device's sales with that slot code after the fill's visit
    and up to `now`. A slot never filled has level_after and filled_at None. A fill is recorded on a visit to
    the slot's own machine (SlotFill.clean checks it), so the slot's last fill is found among its machine's visits.
    `window` [from, until): also the slot's units sold in it ("window_units"), read in the same index range.
    """
    scope = filters.scope(PLANOGRAM, joined=("d", "l", "p"))
    assert scope is not None  # planogram slots carry every sales filter
    window_lo, window_hi = window or (now, now)
    params: dict[str, Any] = {"now": now, "window_lo": window_lo, "window_hi": window_hi, **scope.params}
    sql = f"""
        WITH slots AS MATERIALIZED (
            SELECT ps.id, ps.device_id, d.asset, ps.slot_code, ps.product_id, p.sku, p.name, ps.capacity, ps.par_level
            FROM fleet_planogramslot ps
            JOIN fleet_device d ON d.id = ps.device_id
            JOIN fleet_location l ON l.id = d.location_id
            JOIN fleet_product p ON p.id = ps.product_id
            WHERE ps.valid_to IS NULL AND d.retired_at IS NULL{scope.where}
        ),
        -- Each machine's newest visit (its (device, visited_at) index), and the slots that visit filled: a visit
        -- usually fills every slot, so a probe per machine instead of one per slot.
        newest AS (
            SELECT f.slot_id, f.level_after, v.visited_at
            FROM (SELECT DISTINCT device_id FROM slots) m
            CROSS JOIN LATERAL (
                SELECT v.id, v.visited_at FROM routes_servicevisit v
                WHERE v.device_id = m.device_id AND v.visited_at <= %(now)s
                ORDER BY v.visited_at DESC, v.id DESC LIMIT 1
            ) v
            JOIN routes_slotfill f ON f.visit_id = v.id
        )
        SELECT ps.id, ps.device_id, ps.asset, ps.slot_code, ps.product_id, ps.sku, ps.name, ps.capacity, ps.par_level,
               lf.level_after, lf.visited_at AT TIME ZONE 'UTC', sold.since_fill, sold.in_window
        FROM slots ps
        LEFT JOIN newest n ON n.slot_id = ps.id
        LEFT JOIN LATERAL (
            SELECT n.level_after, n.visited_at WHERE n.slot_id IS NOT NULL
            UNION ALL
            -- A slot the newest visit skipped: the machine's visits newest first, the first that filled it.
            -- (OFFSET 0 keeps the fill lookup a probe per visit: joined, the planner hashes all of them.)
            (SELECT f.level_after, v.visited_at FROM routes_servicevisit v
             CROSS JOIN LATERAL (
                 SELECT f.level_after FROM routes_slotfill f WHERE f.visit_id = v.id AND f.slot_id = ps.id OFFSET 0
             ) f
             WHERE n.slot_id IS NULL AND v.device_id = ps.device_id AND v.visited_at <= %(now)s
             ORDER BY v.visited_at DESC, v.id DESC LIMIT 1)
        ) lf ON TRUE
        CROSS JOIN LATERAL (
            -- One range of the (device, slot code, sold_at) index from the earlier of the fill and the window.
            SELECT COALESCE(SUM(s.quantity) FILTER (WHERE s.sold_at > lf.visited_at AND s.sold_at <= %(now)s), 0),
                   COALESCE(SUM(s.quantity) FILTER (WHERE s.sold_at >= %(window_lo)s AND s.sold_at < %(window_hi)s), 0)
            FROM fleet_sale s
            WHERE s.device_id = ps.device_id AND s.slot_code = ps.slot_code
              AND s.sold_at >= LEAST(COALESCE(lf.visited_at, %(window_lo)s), %(window_lo)s)
              AND s.sold_at <= GREATEST(%(now)s, %(window_hi)s)
        ) AS sold (since_fill, in_window)
        ORDER BY ps.asset, ps.slot_code
    """
    # filled_at is read as UTC wall time (psycopg's C loader) and made aware here: 20,000 aware loads through the
    # driver's time zone adapter cost more than the query's planogram joins.
    rows = [
        {
            "slot_id": slot_id, "device_id": device_id, "asset": asset, "slot_code": slot_code, "product_id": product_id,
            "sku": sku, "product_name": name, "capacity": capacity, "par_level": par_level, "level_after": level_after,
            "filled_at": None if filled_at is None else filled_at.replace(tzinfo=UTC), "sold_since": sold_since,
            "window_units": window_units,
        }
        for slot_id, device_id, asset, slot_code, product_id, sku, name, capacity, par_level, level_after, filled_at,
        sold_since, window_units in fetch_tuples(sql, params)
    ]
    return rows
