"""Daily revenue anomalies per device: z-scores against the device's own range statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from analytics.metrics._common import (
    decimal_values,
    device_day_matrix,
    require_columns,
    to_day_index,
    to_day_series,
)

DEFAULT_Z_THRESHOLD = 2.5
# |z| above the threshold and at most 3 → medium; at most 4 → high; above 4 → critical.
HIGH_ABOVE_Z = 3.0
CRITICAL_ABOVE_Z = 4.0
# z is rounded before it is compared, so float noise (2.9999999999999996) cannot flip a severity.
Z_DECIMALS = 6

ANOMALY_COLUMNS = ["device_id", "date", "revenue", "mean", "std", "z", "direction", "severity"]


def _severity(absolute_z: float) -> str:
    if absolute_z > CRITICAL_ABOVE_Z:
        return "critical"
    if absolute_z > HIGH_ABOVE_Z:
        return "high"
    return "medium"


def daily_revenue_anomalies(
    daily_revenue: pd.DataFrame,
    days: Sequence[dt.date],
    device_ids: Sequence[object] | None = None,
    z_threshold: float = DEFAULT_Z_THRESHOLD,
) -> pd.DataFrame:
    """Device-days whose revenue is far from that device's usual day.

    Input ``daily_revenue``: ``device_id``, ``date``, ``revenue`` (Decimal or float), one row per
    device-day with sales (duplicates are summed). ``days``: every day of the range; days without a
    row count as revenue 0, rows outside the range are ignored. ``device_ids``: the devices to
    check (default: those appearing in ``daily_revenue``; pass the full fleet so a device that
    sold nothing is included — it simply has no anomalies).

    Per device over all D days: mean, POPULATION std (ddof = 0 — the range is the whole set being
    judged, not a sample, and it matches the CV used by the performance score), z = (revenue -
    mean) / std rounded to 6 decimals. A day is anomalous when |z| > ``z_threshold``. A constant
    series (std = 0) has no anomalies. Note that with a population std |z| ≤ √(D - 1), so fewer
    than 8 days can never exceed 2.5.

    Output, one row per anomalous device-day, sorted by |z| descending, then device_id, date:
    ``device_id``, ``date`` (datetime.date), ``revenue`` (Decimal, exact day total; 0 for a day
    without sales), ``mean``, ``std``, ``z`` (floats), ``direction`` ("high" if z > 0 else
    "low"), ``severity`` ("medium" for |z| ≤ 3, "high" for 3 < |z| ≤ 4, "critical" above 4).
    """
    require_columns(daily_revenue, ["device_id", "date", "revenue"], "daily_revenue")
    day_index = to_day_index(days)
    devices = pd.Index(pd.unique(daily_revenue["device_id"]) if device_ids is None else list(device_ids)).unique()
    matrix = device_day_matrix(daily_revenue, devices, day_index)
    if matrix.size == 0:
        return pd.DataFrame(columns=ANOMALY_COLUMNS)

    means = matrix.mean(axis=1, keepdims=True)
    stds = matrix.std(axis=1, ddof=0, keepdims=True)
    z_scores = np.zeros_like(matrix)
    np.divide(matrix - means, stds, out=z_scores, where=stds > 0)
    z_scores = np.round(z_scores, Z_DECIMALS)
    device_positions, day_positions = np.nonzero(np.abs(z_scores) > z_threshold)
    if len(device_positions) == 0:
        return pd.DataFrame(columns=ANOMALY_COLUMNS)

    # Exact Decimal day totals, summed only over the rows of flagged devices.
    flagged_rows = daily_revenue[daily_revenue["device_id"].isin(devices[device_positions])]
    exact = pd.DataFrame(
        {
            "device_id": flagged_rows["device_id"].to_numpy(),
            "date": to_day_series(flagged_rows["date"]).to_numpy(),
            "revenue": decimal_values(flagged_rows["revenue"]),
        }
    )
    exact_totals: dict[tuple[object, pd.Timestamp], Decimal] = {}
    for device_id, day, revenue in exact.itertuples(index=False, name=None):
        key = (device_id, day)
        exact_totals[key] = exact_totals.get(key, Decimal(0)) + revenue

    rows = []
    for device_position, day_position in zip(device_positions, day_positions, strict=True):
        device_id = devices[device_position]
        day = day_index[day_position]
        z = float(z_scores[device_position, day_position])
        rows.append(
            {
                "device_id": device_id,
                "date": day.date(),
                "revenue": exact_totals.get((device_id, day), Decimal(0)),
                "mean": float(means[device_position, 0]),
                "std": float(stds[device_position, 0]),
                "z": z,
                "direction": "high" if z > 0 else "low",
                "severity": _severity(abs(z)),
                "_abs_z": abs(z),
            }
        )
    anomalies = pd.DataFrame(rows).sort_values(
        ["_abs_z", "device_id", "date"], ascending=[False, True, True], kind="mergesort"
    )
    return anomalies[ANOMALY_COLUMNS].reset_index(drop=True)
