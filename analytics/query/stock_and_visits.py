"""Stock and visits: each planogram slot's last fill and the units sold since, and the revenue each service
visit's machine took since its previous visit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from analytics.filters import PLANOGRAM, Filters
from analytics.query.raw import fetch_tuples

__all__ = ["slot_stock_since_fill", "visit_serviced_revenue"]


def visit_serviced_revenue(*, visit_ids: Sequence[int]) -> dict[int, Decimal]:
    """Revenue each visited machine took since its previous completed service visit, up to this (completed) visit.

    A machine's first recorded service has no window and is left out (its revenue counts as 0).
    """
    if not visit_ids:
        return {}
    sql = """
        WITH visits AS (
            SELECT v.id, v.device_id, v.visited_at,
                   LAG(v.visited_at) OVER (PARTITION BY v.device_id ORDER BY v.visited_at, v.id) AS previous_at
            FROM routes_servicevisit v
            WHERE v.completed AND v.device_id IN (SELECT device_id FROM routes_servicevisit WHERE id = ANY(%(visits)s))
        )
        SELECT x.id, COALESCE(SUM(s.amount), 0)
        FROM visits x
        LEFT JOIN fleet_sale s ON s.device_id = x.device_id AND s.sold_at <= x.visited_at
             AND (x.previous_at IS NULL OR s.sold_at > x.previous_at)
        WHERE x.id = ANY(%(visits)s) AND x.previous_at IS NOT NULL
        GROUP BY x.id
    """
    return {int(visit_id): Decimal(revenue) for visit_id, revenue in fetch_tuples(sql, {"visits": list(visit_ids)})}


def slot_stock_since_fill(*, filters: Filters, now: datetime) -> list[dict[str, Any]]:
    """Every slot of the planograms in force: its last fill (level_after, when) and the units sold from it since.

    Units sold since = Σ quantity of the device's sales with that slot code after the fill's visit
    and up to `now`. A slot never filled has level_after and filled_at None.
    """
    scope = filters.scope(PLANOGRAM, joined=("d", "l", "p"))
    assert scope is not None  # planogram slots carry every sales filter
    params: dict[str, Any] = {"now": now, **scope.params}
    sql = f"""
        SELECT ps.id, ps.device_id, d.asset, ps.slot_code, ps.product_id, p.sku, p.name, ps.capacity, ps.par_level,
               lf.level_after, lf.visited_at,
               CASE WHEN lf.visited_at IS NULL THEN 0 ELSE COALESCE((
                   SELECT SUM(s.quantity) FROM fleet_sale s
                   WHERE s.device_id = ps.device_id AND s.slot_code = ps.slot_code
                     AND s.sold_at > lf.visited_at AND s.sold_at <= %(now)s
               ), 0) END
        FROM fleet_planogramslot ps
        JOIN fleet_device d ON d.id = ps.device_id
        JOIN fleet_location l ON l.id = d.location_id
        JOIN fleet_product p ON p.id = ps.product_id
        LEFT JOIN LATERAL (
            SELECT f.level_after, v.visited_at FROM routes_slotfill f
            JOIN routes_servicevisit v ON v.id = f.visit_id
            WHERE f.slot_id = ps.id AND v.visited_at <= %(now)s
            ORDER BY v.visited_at DESC, v.id DESC LIMIT 1
        ) lf ON TRUE
        WHERE ps.valid_to IS NULL AND d.retired_at IS NULL{scope.where}
        ORDER BY d.asset, ps.slot_code
    """
    columns = (
        "slot_id", "device_id", "asset", "slot_code", "product_id", "sku", "product_name", "capacity", "par_level",
        "level_after", "filled_at", "sold_since",
    )
    return [dict(zip(columns, row, strict=True)) for row in fetch_tuples(sql, params)]
