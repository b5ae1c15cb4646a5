"""Device performance score and fleet benchmarks, checked against hand-computed numbers."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.metrics.scoring import SCORE_COLUMNS, device_performance_scores, fleet_benchmarks

JAN = [dt.date(2024, 1, day) for day in range(1, 5)]  # a 4-day range


def _three_device_fleet() -> tuple[pd.DataFrame, pd.DataFrame]:
    totals = pd.DataFrame(
        {
            "device_id": [1, 2, 3],
            "revenue": [Decimal("40.00"), Decimal("20.00"), Decimal("0")],
            "units": [10, 4, 0],
            "transactions": [5, 2, 0],
        }
    )
    daily = pd.DataFrame(
        {
            "device_id": [1, 1, 1, 1, 2, 2],
            "date": [*JAN, JAN[0], JAN[1]],
            "revenue": [Decimal(10)] * 4 + [Decimal(5), Decimal(15)],
        }
    )
    return totals, daily


def test_three_device_fleet_matches_hand_computation() -> None:
    totals, daily = _three_device_fleet()
    result = device_performance_scores(totals, daily, JAN).set_index("device_id")

    # Revenue 40 / 20 / 0 -> ranks 3, 2, 1 -> pct (rank-1)/(3-1)*100 = 100, 50, 0.
    assert result["revenue_pct"].to_dict() == {1: 100.0, 2: 50.0, 3: 0.0}
    # Daily series (missing days = 0): d1 [10,10,10,10], d2 [5,15,0,0], d3 [0,0,0,0].
    # d1: std 0 / mean 10 = 0.  d2: mean 5, deviations 0,10,-5,-5 -> var 150/4 = 37.5,
    # CV = sqrt(37.5)/5 = 1.2247.  d3: mean 0 -> reported 0 but ranked least consistent.
    assert result.loc[1, "daily_revenue_cv"] == 0.0
    assert result.loc[2, "daily_revenue_cv"] == pytest.approx(math.sqrt(37.5) / 5)
    assert result.loc[3, "daily_revenue_cv"] == 0.0
    assert result["consistency_pct"].to_dict() == {1: 100.0, 2: 50.0, 3: 0.0}
    # Slope with centred x = -1.5,-0.5,0.5,1.5 (sum of squares 5): d1 0, d2 (-7.5-7.5)/5 = -3, d3 0.
    assert result["daily_revenue_slope"].to_dict() == {1: 0.0, 2: -3.0, 3: 0.0}
    # Growth ranks: d2 1, d1 and d3 tie on 2 and 3 -> 2.5 -> pct 75 each.
    assert result["growth_pct"].to_dict() == {1: 75.0, 2: 0.0, 3: 75.0}
    # Revenue per unit 40/10 = 4, 20/4 = 5, 0/0 -> 0: ranks 2, 3, 1.
    assert result["revenue_per_unit"].to_dict() == {1: 4.0, 2: 5.0, 3: 0.0}
    assert result["efficiency_pct"].to_dict() == {1: 50.0, 2: 100.0, 3: 0.0}
    # d1 = .4*100 + .25*100 + .2*75 + .15*50 = 40 + 25 + 15 + 7.5 = 87.5
    # d2 = .4*50 + .25*50 + .2*0 + .15*100 = 20 + 12.5 + 0 + 15 = 47.5
    # d3 = 0 + 0 + .2*75 + 0 = 15
    assert result["score"].to_dict() == {1: 87.5, 2: 47.5, 3: 15.0}
    assert result["fleet_rank"].to_dict() == {1: 1, 2: 2, 3: 3}
    assert result["fleet_percentile"].to_dict() == {1: 100.0, 2: 50.0, 3: 0.0}
    assert result.loc[1, "revenue"] == Decimal("40.00")
    assert isinstance(result.loc[1, "revenue"], Decimal)


def test_output_is_sorted_by_rank_with_documented_columns() -> None:
    totals, daily = _three_device_fleet()
    result = device_performance_scores(totals, daily, JAN)
    assert list(result.columns) == ["device_id", *SCORE_COLUMNS]
    assert result["fleet_rank"].tolist() == [1, 2, 3]


def test_single_device_fleet_scores_100() -> None:
    totals = pd.DataFrame({"device_id": ["solo"], "revenue": [Decimal("5")], "units": [1]})
    daily = pd.DataFrame({"device_id": ["solo"], "date": [JAN[0]], "revenue": [Decimal("5")]})
    row = device_performance_scores(totals, daily, JAN).iloc[0]
    for column in ["revenue_pct", "consistency_pct", "growth_pct", "efficiency_pct", "score", "fleet_percentile"]:
        assert row[column] == 100.0
    assert row["fleet_rank"] == 1


def test_all_zero_revenue_fleet_ties_everywhere_and_ranks_by_asset_number() -> None:
    totals = pd.DataFrame(
        {"device_id": [7, 8, 9], "asset_number": ["A-2", "A-1", "A-3"], "revenue": [0, 0, 0], "units": [0, 0, 0]}
    )
    daily = pd.DataFrame({"device_id": [], "date": [], "revenue": []})
    result = device_performance_scores(totals, daily, JAN)
    # Every component is a 3-way tie: average rank 2 -> (2-1)/(3-1)*100 = 50, so score 50.
    assert result["score"].tolist() == [50.0, 50.0, 50.0]
    assert result["fleet_percentile"].tolist() == [50.0, 50.0, 50.0]
    # Equal scores: asset number ascending decides.
    assert result["asset_number"].tolist() == ["A-1", "A-2", "A-3"]
    assert result["fleet_rank"].tolist() == [1, 2, 3]
    assert list(result.columns) == ["device_id", "asset_number", *SCORE_COLUMNS]


def test_equal_scores_from_different_components_tie_exactly_and_break_by_device_id() -> None:
    # Two devices, so every pct is 0 or 100 (50 on a tie).
    # p: revenue 12, daily [6,0,0,6] (mean 3, std 3, CV 1; slope (-1.5*6 + 1.5*6)/5 = 0), 12 units -> 1/unit
    # q: revenue 8,  daily [2,2,2,2] (CV 0; slope 0),                                       4 units -> 2/unit
    # p = .4*100 + .25*0 + .2*50 + .15*0 = 40 + 10 = 50
    # q = .4*0 + .25*100 + .2*50 + .15*100 = 25 + 10 + 15 = 50
    # Equal scores: device_id ascending decides, whatever the input order.
    totals = pd.DataFrame({"device_id": ["q", "p"], "revenue": [8, 12], "units": [4, 12]})
    daily = pd.DataFrame(
        {
            "device_id": ["q"] * 4 + ["p", "p"],
            "date": [*JAN, JAN[0], JAN[3]],
            "revenue": [2, 2, 2, 2, 6, 6],
        }
    )
    result = device_performance_scores(totals, daily, JAN)
    assert result["device_id"].tolist() == ["p", "q"]
    assert result["score"].tolist() == [50.0, 50.0]
    assert result["fleet_rank"].tolist() == [1, 2]
    assert result["fleet_percentile"].tolist() == [50.0, 50.0]


def test_daily_rows_outside_range_are_ignored_and_duplicates_summed() -> None:
    totals = pd.DataFrame({"device_id": [1], "revenue": [Decimal(20)], "units": [2]})
    daily = pd.DataFrame(
        {
            "device_id": [1, 1, 1, 99],
            "date": [JAN[0], JAN[0], dt.date(2023, 12, 31), JAN[0]],
            "revenue": [5, 5, 1000, 7],
        }
    )
    result = device_performance_scores(totals, daily, JAN[:2])
    # Series over the 2 days: [10, 0]; mean 5, population std 5 -> CV 1; slope (-0.5*10)/0.5 = -10.
    assert result.loc[0, "daily_revenue_cv"] == 1.0
    assert result.loc[0, "daily_revenue_slope"] == -10.0


def test_float_money_becomes_exact_decimal() -> None:
    totals = pd.DataFrame({"device_id": [1], "revenue": [19.99], "units": [1]})
    daily = pd.DataFrame({"device_id": [], "date": [], "revenue": []})
    assert device_performance_scores(totals, daily, JAN).loc[0, "revenue"] == Decimal("19.99")


def test_empty_fleet_gives_empty_frame_with_columns() -> None:
    totals = pd.DataFrame({"device_id": [], "revenue": [], "units": []})
    daily = pd.DataFrame({"device_id": [], "date": [], "revenue": []})
    result = device_performance_scores(totals, daily, JAN)
    assert result.empty
    assert list(result.columns) == ["device_id", *SCORE_COLUMNS]


def test_missing_column_and_duplicate_device_are_rejected() -> None:
    daily = pd.DataFrame({"device_id": [], "date": [], "revenue": []})
    with pytest.raises(ValueError, match="units"):
        device_performance_scores(pd.DataFrame({"device_id": [1], "revenue": [1]}), daily, JAN)
    duplicated = pd.DataFrame({"device_id": [1, 1], "revenue": [1, 2], "units": [1, 1]})
    with pytest.raises(ValueError, match="one row per device_id"):
        device_performance_scores(duplicated, daily, JAN)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=50),  # units
            st.lists(st.integers(min_value=0, max_value=20), min_size=4, max_size=4),  # daily revenue
        ),
        min_size=1,
        max_size=8,
    )
)
def test_score_is_weighted_sum_and_ranks_follow_score(devices: list[tuple[int, list[int]]]) -> None:
    totals = pd.DataFrame(
        {
            "device_id": list(range(len(devices))),
            "revenue": [Decimal(sum(days)) for _, days in devices],
            "units": [units for units, _ in devices],
        }
    )
    daily = pd.DataFrame(
        [
            {"device_id": device_id, "date": JAN[day], "revenue": Decimal(amount)}
            for device_id, (_, days) in enumerate(devices)
            for day, amount in enumerate(days)
        ]
    )
    result = device_performance_scores(totals, daily, JAN)
    weighted = (
        0.40 * result["revenue_pct"]
        + 0.25 * result["consistency_pct"]
        + 0.20 * result["growth_pct"]
        + 0.15 * result["efficiency_pct"]
    )
    assert (abs(weighted - result["score"]) < 1e-9).all()
    assert result["score"].between(0, 100).all()
    assert result["fleet_rank"].tolist() == list(range(1, len(devices) + 1))
    assert result["score"].is_monotonic_decreasing


def test_fleet_benchmarks_quartiles_and_summary() -> None:
    totals, _ = _three_device_fleet()
    benchmarks = fleet_benchmarks(totals, day_count=4)
    quartiles = benchmarks.quartiles.set_index("metric")
    # Linear interpolation on 3 sorted values v0 <= v1 <= v2: p25 = (v0+v1)/2, median = v1,
    # p75 = (v1+v2)/2.
    assert quartiles.loc["revenue"].tolist() == [10.0, 20.0, 30.0]  # [0, 20, 40]
    assert quartiles.loc["units"].tolist() == [2.0, 4.0, 7.0]  # [0, 4, 10]
    assert quartiles.loc["transactions"].tolist() == [1.0, 2.0, 3.5]  # [0, 2, 5]
    # Avg transaction value 40/5 = 8, 20/2 = 10, 0/0 -> 0: [0, 8, 10].
    assert quartiles.loc["avg_transaction_value"].tolist() == [4.0, 8.0, 9.0]
    # Avg daily revenue over 4 days: 10, 5, 0.
    assert quartiles.loc["avg_daily_revenue"].tolist() == [2.5, 5.0, 7.5]
    assert benchmarks.device_count == 3
    assert benchmarks.total_revenue == Decimal("60.00")
    assert benchmarks.mean_revenue_per_device == 20.0
    assert benchmarks.median_revenue_per_device == 20.0


def test_fleet_benchmarks_empty_fleet_is_all_zero() -> None:
    empty = pd.DataFrame({"device_id": [], "revenue": [], "units": [], "transactions": []})
    benchmarks = fleet_benchmarks(empty, day_count=0)
    assert benchmarks.device_count == 0
    assert benchmarks.total_revenue == Decimal(0)
    assert benchmarks.mean_revenue_per_device == 0.0
    assert (benchmarks.quartiles[["p25", "median", "p75"]] == 0.0).all().all()
    assert len(benchmarks.quartiles) == 5
