"""Per-device and per-slot sales in the shapes their readers need: each device's top products (from the slot
family), its daily revenue as arrays (day buckets, cut at the marks, see analytics.query.stable_parts), the
revenue of each slot position."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.db import connection

from analytics.filters import DEVICE_ROLLUP, Filters
from analytics.metrics._common import distinct_sorted
from analytics.models import SalesDeviceSeries
from analytics.periods import Period, local_midnight
from analytics.query import current_chain, sales_by
from analytics.query.marks import Watermark, fetch_versioned, read_at_marks
from analytics.query.raw import unpacked
from analytics.query.stable_parts import (
    MONEY_SCALE,
    IntArray,
    _raw_grouped,
    _scaled_money,
    _to_money,
)

SERIES_TABLE = SalesDeviceSeries._meta.db_table

__all__ = ["MONEY_SCALE", "device_daily_revenue", "device_top_products", "slot_revenue"]


def device_top_products(*, period: Period, filters: Filters, top: int = 5) -> dict[int, list[dict[str, Any]]]:
    """Each device's `top` products by revenue in `period` (ties by SKU, in the database's collation).

    The (device, product) sums come from the slot family's buckets plus the live delta (sales_by); the ranking
    runs vectorised over the summed pairs.
    """
    pairs = sales_by(period=period, filters=filters, by=["device", "product"])
    if not pairs:
        return {}
    count = len(pairs)
    device = np.fromiter((row["device"] for row in pairs), dtype=np.int64, count=count)
    product = np.fromiter((row["product"] for row in pairs), dtype=np.int64, count=count)
    # Money as exact integers of 1/10,000 (4 decimal places) for the vectorised ranking.
    revenue = np.fromiter((int(row["revenue"] * MONEY_SCALE) for row in pairs), dtype=np.int64, count=count)
    units = np.fromiter((row["units"] for row in pairs), dtype=np.int64, count=count)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, sku, name, (rank() OVER (ORDER BY sku))::bigint FROM fleet_product WHERE id = ANY(%s)",
            [distinct_sorted(product).tolist()],
        )
        catalog = {row[0]: row for row in cursor.fetchall()}
    product_ids = np.array(sorted(catalog), dtype=np.int64)
    sku_rank = np.array([catalog[i][3] for i in product_ids.tolist()], dtype=np.int64)
    ranks = sku_rank[np.searchsorted(product_ids, product)]
    order = np.lexsort((ranks, -revenue, device))
    device, product, revenue, units = device[order], product[order], revenue[order], units[order]
    first = np.flatnonzero(np.r_[True, device[1:] != device[:-1]])
    position = np.arange(len(device)) - np.repeat(first, np.diff(np.r_[first, len(device)]))
    keep = np.flatnonzero(position < top)
    result: dict[int, list[dict[str, Any]]] = {}
    for device_id, product_id, cents, count_sold in zip(
        device[keep].tolist(), product[keep].tolist(), revenue[keep].tolist(), units[keep].tolist(), strict=True
    ):
        _, sku, name, _ = catalog[product_id]
        result.setdefault(device_id, []).append(
            {"product_id": product_id, "sku": sku, "name": name, "revenue": _to_money(cents), "units": count_sold}
        )
    return result


def slot_revenue(*, period: Period, filters: Filters) -> list[dict[str, Any]]:
    """Revenue, units and transactions by slot code in `period` (the slot family's buckets plus the live delta)."""
    return [
        {"slot": row["slot"], "revenue": row["revenue"], "units": int(row["units"]), "transactions": int(row["transactions"])}
        for row in sales_by(period=period, filters=filters, by=["slot"])
    ]


def device_daily_revenue(*, period: Period, filters: Filters) -> pd.DataFrame:
    """Each device's revenue per local day of `period`, for the days it sold: columns device_id (int64),
    day (int64, days since period.start), revenue (int64, exact, in 1/10,000 of the currency).

    What sales_by(by=["device", "day"]) answers, without 60,000 dicts: the part before the rollup marks read
    from the (day, device) buckets, cached and advanced with the marks like the raw stable parts (see
    _raw_grouped), plus the live delta from raw rows. A category filter (no rollup carries devices and products
    together) reads raw rows.
    """
    chain = current_chain()
    local = {"start": period.start, "tz": chain.time_zone}
    select = f"s.device_id, ((s.sold_at AT TIME ZONE %(tz)s)::date - %(start)s::date)::bigint, {_scaled_money('s.amount')}"
    read_buckets = filters.selects_sales and filters.carried_by(DEVICE_ROLLUP)

    def read(mark: Watermark | None) -> pd.DataFrame:
        full_read = None
        if read_buckets and mark is not None:

            def full_read(mark: Watermark = mark) -> list[npt.NDArray[Any]]:
                return _device_day_buckets(period, mark, filters, local)  # MarksMoved: read_at_marks starts again

        columns = _raw_grouped(
            "device-days", period=period, filters=filters, width=3, group="1, 2", select=select,
            extra_params=local, sums={"revenue": 2}, mark=mark, full_read=full_read,
        )
        return pd.DataFrame({"device_id": columns[0], "day": columns[1], "revenue": columns[2]})

    frame = read_at_marks(read)
    if frame is not None:
        return frame
    columns = _raw_grouped(
        "device-days-raw", period=period, filters=filters, width=3, group="1, 2", select=select,
        extra_params=local, sums={"revenue": 2},
    )
    return pd.DataFrame({"device_id": columns[0], "day": columns[1], "revenue": columns[2]})


def _device_day_buckets(
    period: Period, mark: Watermark, filters: Filters, local: dict[str, Any]
) -> list[IntArray]:
    """The (device, day) buckets of `period` before W, as arrays, from the device month series
    (analytics.rollups.device_series: a row a device a month, derived from the day buckets with them); MarksMoved
    when a rollup job committed after `mark` was read (the buckets then hold rows the live delta of `mark` also
    counts)."""
    chain = current_chain()
    first_month, last_month = period.start.replace(day=1), period.end.replace(day=1)
    params: dict[str, Any] = {"start": local["start"], "first_month": first_month, "last_month": last_month}
    scope = filters.scope(DEVICE_ROLLUP)
    assert scope is not None  # the caller reads buckets only for filters the device rollup carries
    params.update(scope.params)
    # As packed columns in one row (big-endian integers, in the same row order: one aggregate node feeds them all):
    # per row its device, its month's first day as an offset from the period's start and its days' bits; the
    # revenue of every set bit, in day order, row after row.
    sql = f"""
        SELECT string_agg(int8send(r.device_id), ''), string_agg(int4send(r.month - %(start)s::date), ''),
               string_agg(int4send(r.days), ''), string_agg(r.revenue_e4, '')
        FROM {SERIES_TABLE} r{scope.joins}
        WHERE r.month >= %(first_month)s AND r.month <= %(last_month)s{scope.where}
    """
    (devices, months, bits, revenue), = fetch_versioned(sql, params, mark)  # MarksMoved: a job committed after `mark`
    device_of_row = unpacked(devices, ">i8")
    month_offset = unpacked(months, ">i4")
    days = unpacked(bits, ">i4")
    # Row-major: a row's days in order, rows in the order their revenue was packed.
    rows, day_of_month = np.nonzero((days[:, None] >> np.arange(31)) & 1)
    offsets = month_offset[rows] + day_of_month
    # Days of the period whose bucket starts before W (the day W falls in has one; it holds the sales before W).
    w_day = mark.covered_until.astimezone(chain.tz).date()
    before_w = w_day if local_midnight(w_day, chain.tz) >= mark.covered_until else w_day + timedelta(days=1)
    keep = (offsets >= 0) & (offsets < min(period.days, (before_w - period.start).days))
    return [device_of_row[rows][keep], offsets[keep], unpacked(revenue, ">i8")[keep]]
