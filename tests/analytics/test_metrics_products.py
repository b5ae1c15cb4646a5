"""ABC classes, slow movers, top movers and basket affinity on hand-made data."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.metrics.products import (
    ABC_COLUMNS,
    AFFINITY_COLUMNS,
    abc_classification,
    product_affinity,
    slow_movers,
    top_movers,
)

# --- ABC -------------------------------------------------------------------------------------


def _classes(revenues: Mapping[str, object]) -> dict[str, str]:
    frame = pd.DataFrame({"sku": list(revenues), "revenue": list(revenues.values())})
    result = abc_classification(frame)
    return dict(zip(result["sku"], result["abc_class"], strict=True))


def test_abc_boundaries_exactly_80_and_95_percent() -> None:
    # total 100. a: before 0 -> A. b: before 80 = exactly 80 % -> not < 80 -> B.
    # c: before 95 = exactly 95 % -> not < 95 -> C.
    assert _classes({"c": Decimal(5), "a": Decimal(80), "b": Decimal(15)}) == {"a": "A", "b": "B", "c": "C"}


def test_abc_just_below_boundaries() -> None:
    # total 100. a 79.99: A. b: before 79.99 < 80 -> A. c: before 94.99 < 95 -> B. d: before 99.99 -> C.
    revenues = {"a": Decimal("79.99"), "b": Decimal("15"), "c": Decimal("5"), "d": Decimal("0.01")}
    assert _classes(revenues) == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_abc_uses_exact_arithmetic_for_float_input() -> None:
    # Floats 0.7 + 0.1 + 0.1 + 0.1 (total 1.0). In binary floating point 0.7 + 0.1 = 0.7999999999999999,
    # which would make c an A; exactly, c's preceding share is 0.8 -> B, and d's is 0.9 -> B.
    # Order: a (0.7), then the 0.1 ties by sku: b, c, d.
    assert _classes({"d": 0.1, "c": 0.1, "b": 0.1, "a": 0.7}) == {"a": "A", "b": "A", "c": "B", "d": "B"}


def test_abc_revenue_ties_broken_by_sku() -> None:
    # total 100: p 70, then j and k tie at 15 -> j first. j: before 70 -> A; k: before 85 -> B.
    result = abc_classification(pd.DataFrame({"sku": ["k", "p", "j"], "revenue": [15, 70, 15]}))
    assert result["sku"].tolist() == ["p", "j", "k"]
    assert result["abc_class"].tolist() == ["A", "A", "B"]
    assert result["rank"].tolist() == [1, 2, 3]
    # Shares for display: 0.7, 0.15, 0.15; cumulative before 0, 0.7, 0.85.
    assert result["revenue_share"].tolist() == [Decimal("0.7"), Decimal("0.15"), Decimal("0.15")]
    assert result["cumulative_share_before"].tolist() == [Decimal(0), Decimal("0.7"), Decimal("0.85")]
    assert result["cumulative_share"].tolist() == [Decimal("0.7"), Decimal("0.85"), Decimal(1)]
    assert list(result.columns) == ABC_COLUMNS


def test_abc_zero_total_revenue_is_all_c() -> None:
    assert _classes({"a": 0, "b": Decimal(0)}) == {"a": "C", "b": "C"}
    # Refunds only: total < 0 -> all C as well.
    assert _classes({"a": Decimal(-5), "b": Decimal(0)}) == {"a": "C", "b": "C"}


def test_abc_single_product_is_a_and_empty_input_is_empty() -> None:
    assert _classes({"only": Decimal("0.01")}) == {"only": "A"}
    empty = abc_classification(pd.DataFrame({"sku": [], "revenue": []}))
    assert empty.empty
    assert list(empty.columns) == ABC_COLUMNS


def _reference_abc(revenues: list[tuple[str, int]]) -> dict[str, str]:
    """Straightforward rational-number version of the rule."""
    ordered = sorted(revenues, key=lambda item: (-item[1], item[0]))
    total = sum(amount for _, amount in ordered)
    classes = {}
    before = 0
    for sku, amount in ordered:
        share_before = Fraction(before, total) if total > 0 else None
        if share_before is None:
            classes[sku] = "C"
        elif share_before < Fraction(80, 100):
            classes[sku] = "A"
        elif share_before < Fraction(95, 100):
            classes[sku] = "B"
        else:
            classes[sku] = "C"
        before += amount
    return classes


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.dictionaries(
        keys=st.text(alphabet="abcdefgh", min_size=1, max_size=3),
        values=st.integers(min_value=0, max_value=2000),  # cents
        max_size=15,
    )
)
def test_abc_matches_reference_and_is_monotone(cents_by_sku: dict[str, int]) -> None:
    frame = pd.DataFrame(
        {"sku": list(cents_by_sku), "revenue": [Decimal(cents) / 100 for cents in cents_by_sku.values()]}
    )
    result = abc_classification(frame)
    assert dict(zip(result["sku"], result["abc_class"], strict=True)) == _reference_abc(list(cents_by_sku.items()))
    # Along the revenue order the class never improves: A..A B..B C..C.
    assert result["abc_class"].tolist() == sorted(result["abc_class"].tolist())
    if sum(cents_by_sku.values()) > 0:
        assert result["abc_class"].iloc[0] == "A"


# --- Slow movers -----------------------------------------------------------------------------

AS_OF = dt.date(2024, 3, 31)


def test_slow_movers_buckets_and_never_sold() -> None:
    stocked = pd.DataFrame({"sku": ["a", "b", "c", "d", "e"]})
    last_sales = pd.DataFrame(
        {
            "sku": ["a", "b", "c", "d", "d", "f"],
            "last_sold_on": [
                dt.date(2024, 3, 2),  # 29 days ago: sold within the last 30 days -> not slow
                dt.date(2024, 3, 1),  # 30 days ago -> bucket 30
                dt.date(2024, 1, 31),  # Feb has 29 days in 2024: 29 + 31 = 60 days -> bucket 60
                dt.date(2024, 1, 1),  # 30 (rest of Jan) + 29 + 31 = 90 days -> bucket 90
                dt.date(2023, 6, 1),  # older sale of d on another machine: the latest (Jan 1) wins
                dt.date(2020, 1, 1),  # f is not stocked -> not reported
            ],
        }
    )
    result = slow_movers(stocked, last_sales, AS_OF)
    assert result.to_dict("records") == [
        {"sku": "e", "last_sold_on": None, "days_since_last_sale": None, "bucket": 90},
        {"sku": "d", "last_sold_on": dt.date(2024, 1, 1), "days_since_last_sale": 90, "bucket": 90},
        {"sku": "c", "last_sold_on": dt.date(2024, 1, 31), "days_since_last_sale": 60, "bucket": 60},
        {"sku": "b", "last_sold_on": dt.date(2024, 3, 1), "days_since_last_sale": 30, "bucket": 30},
    ]


def test_slow_movers_per_machine_keys() -> None:
    stocked = pd.DataFrame({"device_id": [1, 2], "sku": ["a", "a"]})
    last_sales = pd.DataFrame(
        {"device_id": [1, 2], "sku": ["a", "a"], "last_sold_on": [dt.date(2024, 3, 30), dt.date(2023, 12, 1)]}
    )
    result = slow_movers(stocked, last_sales, AS_OF, keys=("device_id", "sku"))
    # Machine 1 sold a yesterday; machine 2 last sold it 121 days ago (30 + 31 + 29 + 31).
    assert result.to_dict("records") == [
        {"device_id": 2, "sku": "a", "last_sold_on": dt.date(2023, 12, 1), "days_since_last_sale": 121, "bucket": 90}
    ]


def test_slow_movers_empty() -> None:
    result = slow_movers(pd.DataFrame({"sku": []}), pd.DataFrame({"sku": [], "last_sold_on": []}), AS_OF)
    assert result.empty
    assert list(result.columns) == ["sku", "last_sold_on", "days_since_last_sale", "bucket"]


# --- Top movers ------------------------------------------------------------------------------


def test_top_movers_per_day_velocity() -> None:
    current = pd.DataFrame({"sku": ["a", "b", "c"], "units": [62, 31, 10]})
    previous = pd.DataFrame({"sku": ["a", "b", "d"], "units": [30, 60, 15]})
    result = top_movers(current, previous, current_days=31, previous_days=30)
    # a: 62/31 = 2.0 vs 30/30 = 1.0 -> +1.0, +100 %.  b: 1.0 vs 2.0 -> decrease, dropped.
    # c: 10/31 vs 0 (new) -> +0.3226, pct 0 (no previous velocity).  d: 0 vs 0.5 -> dropped.
    assert result["sku"].tolist() == ["a", "c"]
    assert result.loc[0, "velocity_change"] == pytest.approx(1.0)
    assert result.loc[0, "velocity_change_pct"] == pytest.approx(100.0)
    assert result.loc[1, "velocity_change"] == pytest.approx(10 / 31)
    assert result.loc[1, "velocity_change_pct"] == 0.0
    assert result.loc[1, "previous_units"] == 0.0
    assert top_movers(current, previous, 31, 30, limit=1)["sku"].tolist() == ["a"]


def test_top_movers_per_device_velocity() -> None:
    # Current window 31 days, previous 30 days; velocity = units / (days * machines stocking).
    # a: 62 / (31*2) = 1.0 vs 30 / (30*1) = 1.0 -> no change, dropped (per-day it would be +1.0).
    # b: 20 / (31*1) = 0.6452 vs 10 / (30*1) = 0.3333 -> +0.3118, +93.5 %.
    current = pd.DataFrame({"sku": ["a", "b"], "units": [62, 20], "devices_stocking": [2, 1]})
    previous = pd.DataFrame({"sku": ["a", "b"], "units": [30, 10], "devices_stocking": [1, 1]})
    result = top_movers(current, previous, current_days=31, previous_days=30)
    assert result["sku"].tolist() == ["b"]
    assert result.loc[0, "current_velocity"] == pytest.approx(20 / 31)
    assert result.loc[0, "previous_velocity"] == pytest.approx(10 / 30)
    assert result.loc[0, "velocity_change_pct"] == pytest.approx((20 / 31 - 1 / 3) / (1 / 3) * 100)


def test_top_movers_empty() -> None:
    empty = pd.DataFrame({"sku": [], "units": []})
    assert top_movers(empty, empty, 30, 30).empty


# --- Affinity --------------------------------------------------------------------------------

BASKETS = pd.DataFrame(
    {
        # Baskets: 1 {a,b}, 2 {a,b,c}, 3 {a,c}, 4 {b} (b listed twice: counts once).
        "basket_id": [1, 1, 2, 2, 2, 3, 3, 4, 4],
        "sku": ["a", "b", "a", "b", "c", "a", "c", "b", "b"],
    }
)


def test_affinity_support_confidence_lift() -> None:
    result = product_affinity(BASKETS)
    assert list(result.columns) == AFFINITY_COLUMNS
    # N = 4; n(a) = 3, n(b) = 3, n(c) = 2; n(a,b) = 2, n(a,c) = 2, n(b,c) = 1.
    # lift(a,c) = 2*4/(3*2) = 4/3; lift(a,b) = 2*4/(3*3) = 8/9; lift(b,c) = 1*4/(3*2) = 2/3.
    rules = {(row.antecedent, row.consequent): row for row in result.itertuples()}
    assert [(row.antecedent, row.consequent) for row in result.itertuples()] == [
        ("a", "c"),
        ("c", "a"),
        ("a", "b"),
        ("b", "a"),
        ("b", "c"),
        ("c", "b"),
    ]
    assert rules["a", "c"].support == 0.5
    assert rules["a", "c"].confidence == pytest.approx(2 / 3)
    assert rules["c", "a"].confidence == 1.0
    assert rules["a", "c"].lift == pytest.approx(4 / 3)
    assert rules["a", "b"].lift == pytest.approx(8 / 9)
    assert rules["b", "c"].support == 0.25
    assert rules["c", "b"].confidence == 0.5
    assert rules["c", "b"].lift == pytest.approx(2 / 3)
    assert (rules["c", "b"].pair_count, rules["c", "b"].antecedent_count, rules["c", "b"].consequent_count) == (1, 2, 3)


def test_affinity_thresholds() -> None:
    assert len(product_affinity(BASKETS, min_pair_count=2)) == 4  # b,c (count 1) dropped, both directions
    assert len(product_affinity(BASKETS, min_support=0.3)) == 4  # support of b,c is 0.25
    assert product_affinity(BASKETS, min_pair_count=3).empty


def test_affinity_drops_oversized_baskets_entirely() -> None:
    result = product_affinity(BASKETS, max_basket_size=2)
    # Basket 2 (3 products) is dropped: baskets {a,b}, {a,c}, {b}; N = 3, n(a) = 2, n(b) = 2, n(c) = 1.
    # lift(a,c) = 1*3/(2*1) = 1.5; lift(a,b) = 1*3/(2*2) = 0.75; no b,c pair.
    lifts = {(row.antecedent, row.consequent): row.lift for row in result.itertuples()}
    assert lifts == {("a", "c"): 1.5, ("c", "a"): 1.5, ("a", "b"): 0.75, ("b", "a"): 0.75}


def test_affinity_no_pairs_or_no_rows() -> None:
    singles = pd.DataFrame({"basket_id": [1, 2], "sku": ["a", "b"]})
    assert product_affinity(singles).empty
    assert list(product_affinity(singles.iloc[:0]).columns) == AFFINITY_COLUMNS


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=12), st.sampled_from(["a", "b", "c", "d", "e", "f"])),
        max_size=60,
    )
)
def test_affinity_counts_match_brute_force(rows: list[tuple[int, str]]) -> None:
    frame = pd.DataFrame(rows, columns=["basket_id", "sku"])
    baskets: dict[int, set[str]] = {}
    for basket_id, sku in rows:
        baskets.setdefault(basket_id, set()).add(sku)
    pair_counts = Counter(pair for items in baskets.values() for pair in itertools.combinations(sorted(items), 2))
    item_counts = Counter(sku for items in baskets.values() for sku in items)
    result = product_affinity(frame, max_basket_size=None)
    got = {(row.antecedent, row.consequent): row for row in result.itertuples()}
    assert len(got) == 2 * len(pair_counts)
    for (first, second), count in pair_counts.items():
        for antecedent, consequent in [(first, second), (second, first)]:
            rule = got[antecedent, consequent]
            assert rule.pair_count == count
            assert rule.support == pytest.approx(count / len(baskets))
            assert rule.confidence == pytest.approx(count / item_counts[antecedent])
            assert rule.lift == pytest.approx(
                count * len(baskets) / (item_counts[antecedent] * item_counts[consequent])
            )


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=15), st.integers(min_value=0, max_value=7)), max_size=80),
    st.sampled_from([None, 2, 3, 5]),
)
def test_integer_baskets_give_the_same_rules_as_any_baskets(rows: list[tuple[int, int]], max_size: int | None) -> None:
    """Integer baskets and skus take the sorting path; the same baskets with text skus (in the same order) the
    hashing one: the rules, counts and ratios are equal, and the counts are those of the baskets by hand."""
    numbers = pd.DataFrame(rows, columns=["basket_id", "sku"], dtype="int64")
    texts = pd.DataFrame({"basket_id": numbers["basket_id"], "sku": [f"s{sku:02d}" for sku in numbers["sku"]]})
    by_number = product_affinity(numbers, max_basket_size=max_size)
    by_text = product_affinity(texts, max_basket_size=max_size)
    assert list(by_number.columns) == AFFINITY_COLUMNS
    as_text = by_number.assign(
        antecedent=[f"s{int(sku):02d}" for sku in by_number["antecedent"]],
        consequent=[f"s{int(sku):02d}" for sku in by_number["consequent"]],
    )
    pd.testing.assert_frame_equal(as_text.reset_index(drop=True), by_text.reset_index(drop=True), check_dtype=False)
    baskets: dict[int, set[int]] = {}
    for basket_id, sku in rows:
        baskets.setdefault(basket_id, set()).add(sku)
    kept = [items for items in baskets.values() if max_size is None or len(items) <= max_size]
    pairs = Counter(pair for items in kept for pair in itertools.combinations(sorted(items), 2))
    assert {(int(r.antecedent), int(r.consequent)): int(r.pair_count) for r in by_number.itertuples() if r.antecedent < r.consequent} == dict(pairs)
