"""RFM segments, lifetime value, churn risk and first-time/repeat cohorts on hand-made data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from analytics.metrics.customers import (
    RFM_COLUMNS,
    churn_risk,
    customer_lifetime_value,
    first_time_vs_repeat,
    quintile_scores,
    rfm_segments,
)

AS_OF = dt.date(2024, 3, 31)


def _four_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "first_purchase": [dt.date(2023, 1, 1), dt.date(2024, 3, 20), dt.date(2023, 6, 1), dt.date(2023, 6, 1)],
            "last_purchase": [dt.date(2024, 3, 30), dt.date(2024, 3, 20), dt.date(2023, 12, 1), dt.date(2024, 1, 1)],
            "frequency": [20, 1, 10, 2],
            "monetary": [Decimal("100.50"), Decimal("3.00"), Decimal("50.00"), Decimal("7.00")],
        }
    )


def test_quintile_scores_small_and_tied_inputs() -> None:
    # score = 1 + floor(5 * (rank-1)/(n-1)), capped at 5.
    assert quintile_scores(np.array([])).tolist() == []
    assert quintile_scores(np.array([7.0])).tolist() == [3]  # lone value: neutral
    assert quintile_scores(np.array([1.0, 2.0])).tolist() == [1, 5]  # pct 0, 1
    assert quintile_scores(np.array([1.0, 2.0, 3.0])).tolist() == [1, 3, 5]  # pct 0, .5, 1
    assert quintile_scores(np.array([1.0, 2.0, 3.0, 4.0])).tolist() == [1, 2, 4, 5]  # pct 0, 1/3, 2/3, 1
    assert quintile_scores(np.array([5.0, 4.0, 3.0, 2.0, 1.0])).tolist() == [5, 4, 3, 2, 1]  # 0, .25, ...
    # n = 6: pct 0, .2, .4, .6, .8, 1 -> exactly on the quintile edges, each lands in the upper quintile.
    assert quintile_scores(np.arange(6.0)).tolist() == [1, 2, 3, 4, 5, 5]
    # n = 10: pct k/9 -> 1,1,2,2,3,3,4,4,5,5.
    assert quintile_scores(np.arange(10.0)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Ties share the average rank: [1, 2, 2, 3] -> ranks 1, 2.5, 2.5, 4 -> pct 0, .5, .5, 1.
    assert quintile_scores(np.array([1.0, 2.0, 2.0, 3.0])).tolist() == [1, 3, 3, 5]
    assert quintile_scores(np.array([4.0, 4.0, 4.0])).tolist() == [3, 3, 3]


def test_rfm_with_fewer_than_five_customers() -> None:
    result = rfm_segments(_four_customers(), AS_OF).set_index("customer_id")
    # Recency: Mar 30 -> 1 day; Mar 20 -> 11; Dec 1 -> 30 + 31 + 29 + 31 = 121; Jan 1 -> 31 + 29 + 30 = 90.
    assert result["recency_days"].to_dict() == {1: 1, 2: 11, 3: 121, 4: 90}
    # R ranks on -recency: c3 1, c4 2, c2 3, c1 4; n = 4 -> scores 1, 2, 4, 5.
    assert result["r_score"].to_dict() == {1: 5, 2: 4, 3: 1, 4: 2}
    # F on 20, 1, 10, 2: ranks 4, 1, 3, 2 -> 5, 1, 4, 2.  M follows the same order.
    assert result["f_score"].to_dict() == {1: 5, 2: 1, 3: 4, 4: 2}
    assert result["m_score"].to_dict() == {1: 5, 2: 1, 3: 4, 4: 2}
    # c1 R5 F5 -> Champions; c2 first bought 11 days ago -> New; c3 R1 F4 -> At Risk (checked
    # before Loyal); c4 R2 F2 -> Hibernating.
    assert result["segment"].to_dict() == {1: "Champions", 2: "New", 3: "At Risk", 4: "Hibernating"}
    assert result.loc[1, "monetary"] == Decimal("100.50")
    assert list(result.reset_index().columns) == RFM_COLUMNS


def test_rfm_new_customer_boundary_and_loyal_rule() -> None:
    customers = pd.DataFrame(
        {
            "customer_id": ["thirty_days", "twenty_nine_days"],
            "first_purchase": [dt.date(2024, 3, 1), dt.date(2024, 3, 2)],  # 30 and 29 days before AS_OF
            "last_purchase": [dt.date(2024, 3, 30), dt.date(2024, 3, 30)],
            "frequency": [3, 3],
            "monetary": [Decimal(9), Decimal(9)],
        }
    )
    result = rfm_segments(customers, AS_OF).set_index("customer_id")
    # Both identical on R/F/M -> all scores 3 (two-way tie).  29 days -> New; 30 days is not
    # "within the last 30 days" -> falls through to Loyal (R >= 3 and F >= 3).
    assert result["r_score"].tolist() == [3, 3]
    assert result["segment"].to_dict() == {"thirty_days": "Loyal", "twenty_nine_days": "New"}


def test_rfm_single_customer_is_neutral_and_empty_is_empty() -> None:
    single = _four_customers().iloc[[2]]
    row = rfm_segments(single, AS_OF).iloc[0]
    assert (row["r_score"], row["f_score"], row["m_score"]) == (3, 3, 3)
    assert row["segment"] == "Loyal"
    empty = rfm_segments(_four_customers().iloc[:0], AS_OF)
    assert empty.empty
    assert list(empty.columns) == RFM_COLUMNS


def test_lifetime_value() -> None:
    result = customer_lifetime_value(_four_customers(), AS_OF).set_index("customer_id")
    assert result.loc[1, "lifetime_value"] == Decimal("100.50")
    # AOV 100.50 / 20 = 5.025.  Tenure Jan 1 2023 -> Mar 31 2024 = 365 + 90 days, + 1 = 456.
    assert result.loc[1, "average_order_value"] == pytest.approx(5.025)
    assert result.loc[1, "tenure_days"] == 456
    assert result.loc[1, "purchases_per_30_days"] == pytest.approx(20 / 456 * 30)
    # c2: tenure 11 + 1 = 12 days, stretched to 30 -> 1 purchase per 30 days (not 2.5).
    assert result.loc[2, "tenure_days"] == 12
    assert result.loc[2, "purchases_per_30_days"] == pytest.approx(1.0)
    zero = _four_customers().iloc[[0]].assign(frequency=[0], monetary=[Decimal(0)])
    assert customer_lifetime_value(zero, AS_OF).loc[0, "average_order_value"] == 0.0


def test_churn_risk() -> None:
    customers = pd.concat(
        [
            _four_customers(),
            pd.DataFrame(
                {
                    "customer_id": [5],
                    "first_purchase": [dt.date(2024, 1, 1)],
                    "last_purchase": [dt.date(2024, 2, 10)],
                    "frequency": [3],
                    "monetary": [Decimal(1)],
                }
            ),
        ],
        ignore_index=True,
    )
    result = churn_risk(customers, AS_OF).set_index("customer_id")
    # Own gaps: c1 (Mar 30 2024 - Jan 1 2023 = 454) / 19 = 23.89; c3 183 / 9 = 20.33;
    # c4 214 / 1 = 214; c5 (Jan 1 -> Feb 10 = 40) / 2 = 20.  c2 bought once -> median of
    # [20, 20.33, 23.89, 214] = (20.33 + 23.89) / 2.
    assert result.loc[1, "typical_gap_days"] == pytest.approx(454 / 19)
    assert result.loc[2, "typical_gap_days"] == pytest.approx((183 / 9 + 454 / 19) / 2)
    # risk = clip((recency/gap - 1)/2, 0, 1)
    # c5: recency Feb 10 -> Mar 31 = 19 + 31 = 50; 50/20 = 2.5 -> (2.5 - 1)/2 = 0.75.
    assert result.loc[5, "recency_days"] == 50
    assert result.loc[5, "churn_risk"] == pytest.approx(0.75)
    # c3: 121 / 20.33 = 5.95 -> capped at 1.  c1: 1 / 23.89 < 1 -> 0.  c4: 90/214 -> 0.
    assert result.loc[3, "churn_risk"] == 1.0
    assert result.loc[1, "churn_risk"] == 0.0
    assert result.loc[4, "churn_risk"] == 0.0


def test_churn_risk_fallbacks() -> None:
    # No repeat customers: default gap 30; recency 45 -> 1.5 -> 0.25.
    one_timer = pd.DataFrame(
        {
            "customer_id": [1],
            "first_purchase": [dt.date(2024, 2, 15)],
            "last_purchase": [dt.date(2024, 2, 15)],
            "frequency": [1],
        }
    )
    assert churn_risk(one_timer, AS_OF).loc[0, "churn_risk"] == pytest.approx(0.25)
    # Three purchases on one day: gap 0 is floored to 1 day; recency 2 -> 2/1 = 2 -> 0.5.
    same_day = pd.DataFrame(
        {
            "customer_id": [1],
            "first_purchase": [dt.date(2024, 3, 29)],
            "last_purchase": [dt.date(2024, 3, 29)],
            "frequency": [3],
        }
    )
    row = churn_risk(same_day, AS_OF).iloc[0]
    assert row["typical_gap_days"] == 1.0
    assert row["churn_risk"] == pytest.approx(0.5)


def test_first_time_vs_repeat() -> None:
    first_activity = pd.DataFrame(
        {"customer_id": [1, 2, 4], "first_month": ["2024-01", dt.date(2024, 2, 5), "2023-11"]}
    )
    activity = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 4],
            "month": [
                "2024-01",
                "2024-02",
                "2024-02",  # duplicate row: counts once
                "2024-02",
                "2024-03",
                pd.Timestamp("2024-03-09"),  # customer 3 has no first_activity row: first = March
                dt.date(2024, 1, 15),  # customer 4 started in 2023-11: January is a repeat
            ],
        }
    )
    result = first_time_vs_repeat(first_activity, activity)
    # Jan: c1 first, c4 repeat.  Feb: c2 first, c1 repeat.  Mar: c3 first, c2 repeat.
    assert result.to_dict("records") == [
        {"month": "2024-01", "first_time": 1, "repeat": 1, "active": 2},
        {"month": "2024-02", "first_time": 1, "repeat": 1, "active": 2},
        {"month": "2024-03", "first_time": 1, "repeat": 1, "active": 2},
    ]


def test_first_time_vs_repeat_inconsistent_first_month_and_empty() -> None:
    # Declared first month March, but active in February: February is the first month.
    first_activity = pd.DataFrame({"customer_id": [5], "first_month": ["2024-03"]})
    activity = pd.DataFrame({"customer_id": [5, 5], "month": ["2024-02", "2024-03"]})
    result = first_time_vs_repeat(first_activity, activity)
    assert result[["month", "first_time", "repeat"]].values.tolist() == [["2024-02", 1, 0], ["2024-03", 0, 1]]
    empty = first_time_vs_repeat(first_activity, activity.iloc[:0])
    assert empty.empty
    assert list(empty.columns) == ["month", "first_time", "repeat", "active"]


def test_first_time_vs_repeat_matches_plain_python_over_many_customers() -> None:
    # Parity with the definition applied row by row: first month = min(declared, earliest active) per customer.
    rng = np.random.default_rng(16)
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    declared = {int(c): months[int(i)] for c, i in zip(range(0, 400, 2), rng.integers(0, 12, 200), strict=True)}
    rows = [(int(c), months[int(i)]) for c, i in zip(rng.integers(0, 400, 3000), rng.integers(0, 12, 3000), strict=True)]
    first = dict(declared)
    for customer, month in rows:
        first[customer] = min(first.get(customer, month), month)
    expected: dict[str, list[int]] = {}
    for customer, month in set(rows):
        counts = expected.setdefault(month, [0, 0])
        counts[0 if first[customer] == month else 1] += 1
    result = first_time_vs_repeat(
        pd.DataFrame({"customer_id": list(declared), "first_month": list(declared.values())}),
        pd.DataFrame(rows, columns=["customer_id", "month"]),
    )
    assert result.to_dict("records") == [
        {"month": m, "first_time": f, "repeat": r, "active": f + r} for m, (f, r) in sorted(expected.items())
    ]
