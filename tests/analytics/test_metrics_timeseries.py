"""Trend, weekly seasonality, forecast and back-test on series whose answers are known by hand."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd
import pytest

from analytics.metrics.timeseries import (
    FORECAST_COLUMNS,
    BacktestResult,
    TrendFit,
    backtest,
    forecast,
    linear_trend,
    weekly_seasonality,
)

MONDAY = dt.date(2024, 1, 1)
WEDNESDAY = dt.date(2024, 1, 3)


def _series(values: Sequence[float | Decimal], start: dt.date = MONDAY) -> pd.DataFrame:
    return pd.DataFrame(
        {"date": [start + dt.timedelta(days=offset) for offset in range(len(values))], "value": list(values)}
    )


def test_linear_trend_perfect_line() -> None:
    assert linear_trend(_series([1, 2, 3, 4])) == TrendFit(slope=1.0, intercept=1.0, r_squared=1.0)


def test_linear_trend_by_hand() -> None:
    # y = 2, 4, 3 at x = 0, 1, 2: x̄ = 1, ȳ = 3; Sxy = (-1)(-1) + 0 + (1)(0) = 1; Sxx = 2.
    # slope 0.5, intercept 3 - 0.5 = 2.5; fitted 2.5, 3, 3.5; SSres = .25 + 1 + .25 = 1.5; SStot = 2
    # -> r² = 1 - 1.5/2 = 0.25.
    fit = linear_trend(_series([Decimal(2), Decimal(4), Decimal(3)]))
    assert fit.slope == pytest.approx(0.5)
    assert fit.intercept == pytest.approx(2.5)
    assert fit.r_squared == pytest.approx(0.25)


def test_linear_trend_fills_missing_days_with_zero() -> None:
    # Jan 1 = 2, Jan 3 = 6, Jan 2 missing -> [2, 0, 6]: ȳ = 8/3, Sxy = (-1)(2) + (1)(6) = 4 (x centred),
    # Sxx = 2 -> slope 2, intercept 8/3 - 2 = 2/3.
    frame = pd.DataFrame({"date": [dt.date(2024, 1, 3), dt.date(2024, 1, 1)], "value": [6, 2]})
    fit = linear_trend(frame)
    assert fit.slope == pytest.approx(2.0)
    assert fit.intercept == pytest.approx(2 / 3)


def test_linear_trend_degenerate_series() -> None:
    assert linear_trend(_series([])) == TrendFit(0.0, 0.0, 0.0)
    assert linear_trend(_series([5])) == TrendFit(0.0, 5.0, 0.0)
    # Constant: slope 0, SStot = 0 -> r² 0 by the division-by-zero rule.
    assert linear_trend(_series([3, 3, 3])) == TrendFit(0.0, 3.0, 0.0)


def test_weekly_seasonality_weekday_vs_weekend() -> None:
    # Two weeks from Monday: weekdays 10, weekends 20. Overall mean = (10*10 + 4*20)/14 = 180/14.
    # factor weekday = 10 / (180/14) = 140/180 = 7/9; weekend = 280/180 = 14/9.
    values = [10, 10, 10, 10, 10, 20, 20] * 2
    result = weekly_seasonality(_series(values))
    assert result["iso_weekday"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert result["mean_value"].tolist() == [10.0] * 5 + [20.0] * 2
    assert result["factor"].tolist() == pytest.approx([7 / 9] * 5 + [14 / 9] * 2)


def test_weekly_seasonality_unobserved_weekdays_and_empty_are_neutral() -> None:
    # Mon..Thu = 1, 2, 3, 4: mean 2.5 -> factors .4, .8, 1.2, 1.6; Fri..Sun unobserved -> 1.
    result = weekly_seasonality(_series([1, 2, 3, 4]))
    assert result["factor"].tolist() == pytest.approx([0.4, 0.8, 1.2, 1.6, 1.0, 1.0, 1.0])
    assert weekly_seasonality(_series([]))["factor"].tolist() == [1.0] * 7
    assert weekly_seasonality(_series([0, 0, 0]))["factor"].tolist() == [1.0] * 7


def test_forecast_continues_a_trend_without_inventing_seasonality() -> None:
    # y = 1..14 from Monday is a perfect line (intercept 1, slope 1). Each weekday's mean equals the
    # trend's mean on the same days, so the detrended factors are all 1 and residuals are 0:
    # day index 14 (Jan 15) -> 15, ..., interval width 0.
    result = forecast(_series(list(range(1, 15))), horizon_days=3)
    assert list(result.columns) == FORECAST_COLUMNS
    assert result["date"].tolist() == [dt.date(2024, 1, 15), dt.date(2024, 1, 16), dt.date(2024, 1, 17)]
    assert result["forecast"].tolist() == pytest.approx([15.0, 16.0, 17.0])
    assert result["lower"].tolist() == pytest.approx([15.0, 16.0, 17.0])
    assert result["upper"].tolist() == pytest.approx([15.0, 16.0, 17.0])


def test_forecast_applies_weekday_factor_to_flat_trend() -> None:
    # 14 days from Wednesday; Saturdays (index 3 and 10, Jan 6 and 13) = 24, other days 10.
    # Mean = (12*10 + 2*24)/14 = 12. Sxy = (3-6.5)*24 + (10-6.5)*24 + 10*sum(x-6.5) = 0 -> slope 0.
    # Trend 12 everywhere; factors: Saturday 24/12 = 2, others 10/12. Fitted = actual -> width 0.
    values = [10, 10, 10, 24, 10, 10, 10] * 2
    result = forecast(_series(values, start=WEDNESDAY), horizon_days=7)
    assert result["date"].iloc[0] == dt.date(2024, 1, 17)  # a Wednesday
    assert result["forecast"].tolist() == pytest.approx([10, 10, 10, 24, 10, 10, 10])
    assert (result["upper"] - result["lower"]).abs().max() == pytest.approx(0.0, abs=1e-9)


def test_forecast_interval_from_residual_std() -> None:
    # 14 days of 10 from Monday, except Thursdays index 3 = 19, index 10 = 1 and Wednesdays
    # index 2 = 1, index 9 = 19. Deviations sum to 0 -> mean 10;
    # Sxy = (3-6.5)*9 + (10-6.5)*(-9) + (2-6.5)*(-9) + (9-6.5)*9 = -31.5 - 31.5 + 40.5 + 22.5 = 0
    # -> slope 0, trend 10. Wed and Thu means are (1+19)/2 = 10 -> all factors 1 -> fitted 10.
    # Residuals +9, -9, -9, +9 -> sum of squares 324, sample std sqrt(324/13) = 18/sqrt(13) = 4.992.
    # Interval 10 ± 1.96 * 4.992 = 10 ± 9.785.
    values = [10.0] * 14
    values[3], values[10], values[2], values[9] = 19, 1, 1, 19
    result = forecast(_series(values), horizon_days=30)
    assert len(result) == 30
    half_width = 1.959963984540054 * 18 / math.sqrt(13)
    assert result["forecast"].tolist() == pytest.approx([10.0] * 30)
    assert result["lower"].tolist() == pytest.approx([10 - half_width] * 30)
    assert result["upper"].tolist() == pytest.approx([10 + half_width] * 30)


def test_forecast_is_clipped_at_zero() -> None:
    # y = 14..1 (slope -1): day index 14 -> 0, index 15 -> -1 -> clipped to 0.
    result = forecast(_series(list(range(14, 0, -1))), horizon_days=2)
    assert result["forecast"].tolist() == pytest.approx([0.0, 0.0])
    assert (result["lower"] >= 0).all()


def test_forecast_degenerate_series() -> None:
    empty = forecast(_series([]))
    assert empty.empty
    assert list(empty.columns) == FORECAST_COLUMNS
    single = forecast(_series([7]), horizon_days=2)
    assert single["forecast"].tolist() == [7.0, 7.0]
    assert single["lower"].tolist() == [7.0, 7.0]


def test_backtest_mae_and_mape_ignore_zero_actuals() -> None:
    # n = 12 -> holdout min(14, 12 // 3) = 4. First 8 days constant 10 -> forecast 10 for each held-out day.
    # Actuals 10, 20, 0, 5 -> errors 0, 10, 10, 5 -> MAE 25/4 = 6.25.
    # MAPE over non-zero actuals: 0/10, 10/20, 5/5 -> (0 + 50 + 100)/3 = 50 %.
    result = backtest(_series([10] * 8 + [10, 20, 0, 5]))
    assert result.holdout_days == 4
    assert result.mae == pytest.approx(6.25)
    assert result.mape == pytest.approx(50.0)


def test_backtest_perfect_line_and_short_series() -> None:
    # n = 60 -> holdout 14; a line is forecast perfectly.
    result = backtest(_series(list(range(1, 61))))
    assert result.holdout_days == 14
    assert result.mae == pytest.approx(0.0, abs=1e-9)
    assert result.mape == pytest.approx(0.0, abs=1e-9)
    assert backtest(_series([])) == BacktestResult(0, 0.0, 0.0)
    assert backtest(_series([5])) == BacktestResult(0, 0.0, 0.0)
    assert backtest(_series([5, 6])) == BacktestResult(0, 0.0, 0.0)  # 2 // 3 = 0
    all_zero = backtest(_series([0] * 9))
    assert (all_zero.holdout_days, all_zero.mae, all_zero.mape) == (3, 0.0, 0.0)
