"""Daily revenue anomalies: z-scores with a population std, on series whose z is known exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from analytics.metrics.anomalies import ANOMALY_COLUMNS, daily_revenue_anomalies

START = dt.date(2024, 1, 1)


def _days(count: int) -> list[dt.date]:
    return [START + dt.timedelta(days=offset) for offset in range(count)]


def _one_spike(device_id: str, amount: Decimal, day_offset: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {"device_id": [device_id], "date": [START + dt.timedelta(days=day_offset)], "revenue": [amount]}
    )


# One non-zero day x among n days (others 0): mean x/n, population variance x²/n - x²/n²
# = x²(n-1)/n², std = x·sqrt(n-1)/n, so the spike's z = (x - x/n) / std = sqrt(n-1) exactly,
# and every zero day has z = -(x/n)/std = -1/sqrt(n-1).


def test_spike_at_exactly_z_3_is_medium() -> None:
    # n = 10: z = sqrt(9) = 3 -> |z| <= 3 -> medium.  x = 17: mean 1.7, std 17*3/10 = 5.1.
    result = daily_revenue_anomalies(_one_spike("a", Decimal("17.00")), _days(10))
    assert len(result) == 1
    row = result.iloc[0].to_dict()
    assert row["mean"] == pytest.approx(1.7)
    assert row["std"] == pytest.approx(5.1)
    # z is rounded to 6 decimals, so float noise in the std cannot push it past 3.
    assert {key: row[key] for key in ["device_id", "date", "revenue", "z", "direction", "severity"]} == {
        "device_id": "a",
        "date": dt.date(2024, 1, 4),
        "revenue": Decimal("17.00"),
        "z": 3.0,
        "direction": "high",
        "severity": "medium",
    }


def test_spike_severities_high_and_critical() -> None:
    # n = 17: z = 4 -> high (3 < |z| <= 4).  n = 26: z = 5 -> critical.
    assert daily_revenue_anomalies(_one_spike("a", Decimal(17)), _days(17))["severity"].tolist() == ["high"]
    critical = daily_revenue_anomalies(_one_spike("a", Decimal(17)), _days(26))
    assert critical["z"].tolist() == [5.0]
    assert critical["severity"].tolist() == ["critical"]


def test_negative_spike_is_low() -> None:
    # A refund day: -5 among 10 days -> z = -3.
    result = daily_revenue_anomalies(_one_spike("b", Decimal(-5)), _days(10))
    assert result[["z", "direction", "severity"]].values.tolist() == [[-3.0, "low", "medium"]]


def test_too_few_days_can_never_flag() -> None:
    # n = 7: max |z| = sqrt(6) = 2.449 < 2.5.  n = 8: sqrt(7) = 2.646 > 2.5.
    assert daily_revenue_anomalies(_one_spike("a", Decimal(10)), _days(7)).empty
    assert len(daily_revenue_anomalies(_one_spike("a", Decimal(10)), _days(8))) == 1


def test_constant_series_and_silent_device_have_no_anomalies() -> None:
    constant = pd.DataFrame({"device_id": ["c"] * 10, "date": _days(10), "revenue": [Decimal(10)] * 10})
    assert daily_revenue_anomalies(constant, _days(10), device_ids=["c", "silent"]).empty


def test_empty_input_and_threshold_parameter() -> None:
    empty = daily_revenue_anomalies(pd.DataFrame({"device_id": [], "date": [], "revenue": []}), _days(10))
    assert empty.empty
    assert list(empty.columns) == ANOMALY_COLUMNS
    # With threshold 3.5, the z = 3 spike is no longer reported; the z = 4 one still is.
    assert daily_revenue_anomalies(_one_spike("a", Decimal(17)), _days(10), z_threshold=3.5).empty
    assert len(daily_revenue_anomalies(_one_spike("a", Decimal(17)), _days(17), z_threshold=3.5)) == 1


def test_sorted_by_severity_and_duplicates_summed_exactly() -> None:
    daily = pd.concat(
        [
            _one_spike("a", Decimal("8.50")),  # two rows on the same day: 8.50 + 8.50 = 17.00
            _one_spike("a", Decimal("8.50")),
            _one_spike("b", Decimal(3), day_offset=0),
            pd.DataFrame({"device_id": ["b"], "date": [dt.date(2023, 12, 31)], "revenue": [Decimal(999)]}),  # outside
        ],
        ignore_index=True,
    )
    result = daily_revenue_anomalies(daily, _days(17))
    # Both are single spikes over 17 days (z = 4): tie on |z| -> device_id order.
    assert result[["device_id", "revenue", "z"]].values.tolist() == [
        ["a", Decimal("17.00"), 4.0],
        ["b", Decimal(3), 4.0],
    ]
