"""Per-device anomalous days: daily revenue with |z| > 2.5 against the device's own mean and deviation over the range."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.metrics._common import distinct_sorted
from analytics.metrics.anomalies import DEFAULT_Z_THRESHOLD, daily_revenue_anomalies
from analytics.periods import Period
from analytics.query import local_today
from analytics.query.device_sales import MONEY_SCALE, device_daily_revenue
from analytics.query.stable_parts import _to_money
from analytics.selectors._common import devices_in_scope, sales_filters_apply, truncate
from fleet.models import Device


def anomalies(*, period: Period, filters: Filters, limit: int | None = None) -> dict[str, Any]:
    """Anomalous device-days, largest |z| first; days without sales count as 0 revenue.

    Only complete local days are judged: today (and any later day) is left out of the range,
    otherwise every device would look like a low anomaly each morning.
    """
    yesterday = local_today() - timedelta(days=1)
    if period.start > yesterday:
        return {"start": period.start, "end": period.end, "z_threshold": DEFAULT_Z_THRESHOLD, "devices_checked": 0,
                "anomalies": []}
    period = Period(period.start, min(period.end, yesterday))
    has_sales = sales_filters_apply(filters)
    # (device, day offset, revenue in 1/10,000) as arrays from the (day, device) buckets: 60,000 device-days at
    # 2,000 devices × 30 days without a dict or Decimal each; the exact totals of the days reported come from them.
    daily = device_daily_revenue(period=period, filters=filters) if has_sales else None
    scope = list(devices_in_scope(filters=filters, period=period).values_list("id", flat=True))
    device_column = daily["device_id"].to_numpy() if daily is not None else np.zeros(0, dtype=np.int64)
    day_column = daily["day"].to_numpy() if daily is not None else np.zeros(0, dtype=np.int64)
    scaled = daily["revenue"].to_numpy() if daily is not None else np.zeros(0, dtype=np.int64)
    device_ids = sorted(set(scope) | set(distinct_sorted(device_column).tolist()))
    start = np.datetime64(period.start, "D")
    frame = pd.DataFrame(
        {
            "device_id": device_column,
            "date": (start + day_column.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "revenue": scaled / float(MONEY_SCALE),  # the correctly rounded float of the exact total
        }
    )
    found = daily_revenue_anomalies(frame, list(period.dates()), device_ids=device_ids)
    exact_scaled: dict[tuple[int, date], int] = {}
    if len(found):
        flagged = np.isin(device_column, found["device_id"].to_numpy(dtype=np.int64))
        for device_id, offset, cents in zip(
            device_column[flagged].tolist(), day_column[flagged].tolist(), scaled[flagged].tolist(), strict=True
        ):
            key = (device_id, period.start + timedelta(days=offset))
            exact_scaled[key] = exact_scaled.get(key, 0) + cents
    exact = {key: _to_money(cents) for key, cents in exact_scaled.items()}
    assets = dict(Device.objects.filter(id__in=found["device_id"].tolist()).values_list("id", "asset")) if len(found) else {}
    rows = [
        {
            "device_id": int(a.device_id),
            "asset": assets.get(int(a.device_id), ""),
            "date": a.date,
            "revenue": exact.get((int(a.device_id), a.date), Decimal(0)),
            "mean": float(a.mean),
            "std": float(a.std),
            "z": float(a.z),
            "direction": a.direction,
            "severity": a.severity,
        }
        for a in found.itertuples(index=False)
    ]
    return {
        "start": period.start,
        "end": period.end,
        "z_threshold": DEFAULT_Z_THRESHOLD,
        "devices_checked": len(device_ids),
        "anomalies": truncate(rows, limit),
    }
