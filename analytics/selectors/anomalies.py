"""Per-device anomalous days: daily revenue with |z| > 2.5 against the device's own mean and deviation over the range."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.metrics.anomalies import DEFAULT_Z_THRESHOLD, daily_revenue_anomalies
from analytics.periods import Period
from analytics.query import local_today, sales_by
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
    daily = sales_by(period=period, filters=filters, by=["device", "day"]) if has_sales else []
    scope = list(devices_in_scope(filters=filters, period=period).values_list("id", flat=True))
    device_ids = sorted(set(scope) | {row["device"] for row in daily})
    # Floats for the statistics (60,000 Decimals would dominate the cost); the exact day totals are
    # looked up again for the days reported.
    exact = {(row["device"], row["day"]): row["revenue"] for row in daily}
    frame = pd.DataFrame(
        {
            "device_id": [row["device"] for row in daily],
            "date": np.array([row["day"] for row in daily], dtype="datetime64[D]").astype("datetime64[ns]"),
            "revenue": [float(row["revenue"]) for row in daily],
        }
    )
    found = daily_revenue_anomalies(frame, list(period.dates()), device_ids=device_ids)
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
