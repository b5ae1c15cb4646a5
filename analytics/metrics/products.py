"""Product metrics: ABC classification, slow movers, top movers and basket affinity."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_integer_dtype

from analytics.metrics._common import (
    IntArray,
    as_date,
    decimal_values,
    distinct_sorted,
    float_values,
    require_columns,
    safe_divide,
    to_day_series,
)

# ABC thresholds on the cumulative revenue share *before* a product, as exact percentages.
ABC_A_LIMIT_PERCENT = 80
ABC_B_LIMIT_PERCENT = 95

ABC_COLUMNS = [
    "sku",
    "revenue",
    "rank",
    "revenue_share",
    "cumulative_share_before",
    "cumulative_share",
    "abc_class",
]


def _share(part: Decimal, total: Decimal) -> Decimal:
    """part / total for display; a plain 0 (not ``0E+1``) for a zero part or a total ≤ 0."""
    if total <= 0 or part == 0:
        return Decimal(0)
    return part / total


def abc_classification(product_revenue: pd.DataFrame) -> pd.DataFrame:
    """Classify products A/B/C by their place in the cumulative revenue curve.

    Input (one row per product): ``sku``, ``revenue`` (Decimal, or float taken as written).

    Products are ordered by revenue descending, then ``sku`` ascending. With
    ``before`` = sum of the revenue of the products ahead of this one and ``total`` = all revenue:
    A if before < 80 % of total, else B if before < 95 % of total, else C. When total > 0 the first
    product is therefore always A, and a product whose preceding share is exactly 80 % is B
    (exactly 95 % → C).
    The comparisons are done as ``100·before < 80·total`` in Decimal, so they are exact; the
    share columns are for display only. A total revenue ≤ 0 (nothing sold, or refunds only) makes
    every product C: there is no revenue to concentrate. Negative revenues are kept as they are.

    Output in that order: ``sku``, ``revenue`` (Decimal), ``rank`` (1-based position),
    ``revenue_share``, ``cumulative_share_before``, ``cumulative_share`` (Decimal fractions 0-1 of
    total, 0 when total ≤ 0), ``abc_class`` ("A"/"B"/"C").
    """
    require_columns(product_revenue, ["sku", "revenue"], "product_revenue")
    products = sorted(
        zip(decimal_values(product_revenue["revenue"]), product_revenue["sku"].tolist(), strict=True),
        key=lambda revenue_and_sku: (-revenue_and_sku[0], revenue_and_sku[1]),
    )
    # Money sums can exceed the default 28 significant digits only in theory; be generous anyway
    # so the comparisons stay exact.
    with decimal.localcontext() as context:
        context.prec = 60
        total = sum((revenue for revenue, _ in products), Decimal(0))
        rows = []
        before = Decimal(0)
        for position, (revenue, sku) in enumerate(products, start=1):
            after = before + revenue
            if total <= 0:
                abc_class = "C"
            elif before * 100 < total * ABC_A_LIMIT_PERCENT:
                abc_class = "A"
            elif before * 100 < total * ABC_B_LIMIT_PERCENT:
                abc_class = "B"
            else:
                abc_class = "C"
            rows.append(
                {
                    "sku": sku,
                    "revenue": revenue,
                    "rank": position,
                    "revenue_share": _share(revenue, total),
                    "cumulative_share_before": _share(before, total),
                    "cumulative_share": _share(after, total),
                    "abc_class": abc_class,
                }
            )
            before = after
    return pd.DataFrame(rows, columns=ABC_COLUMNS)


SLOW_MOVER_COLUMNS = ["last_sold_on", "days_since_last_sale", "bucket"]


def slow_movers(
    stocked: pd.DataFrame,
    last_sales: pd.DataFrame,
    as_of: dt.date,
    thresholds: Sequence[int] = (30, 60, 90),
    keys: Sequence[str] = ("sku",),
) -> pd.DataFrame:
    """Stocked products that have not sold for at least the smallest threshold.

    Input ``stocked``: the ``keys`` columns (default ``sku``; use e.g. ``("device_id", "sku")`` for
    per-machine slots), one row per product currently in a planogram. Input ``last_sales``: the
    ``keys`` columns and ``last_sold_on`` (date of the most recent sale, any time in the past);
    products never sold may be absent. ``as_of``: the reporting date.

    days_since_last_sale = (as_of - last_sold_on) in days. "No sale in the last N days" means
    days_since_last_sale ≥ N (a sale on as_of is 0 days ago, so the last 30 days are
    as_of-29 … as_of). The bucket is the largest threshold reached; a product never sold has
    ``days_since_last_sale`` None and the largest bucket. A product stocked recently and never sold
    is reported too; the caller filters by planogram age if that is not wanted.

    Output, the ``keys`` columns then ``last_sold_on`` (date or None), ``days_since_last_sale``
    (int or None), ``bucket`` (int threshold); only slow products, sorted by bucket descending,
    never-sold first, then days descending, then keys.
    """
    key_list = list(keys)
    require_columns(stocked, key_list, "stocked")
    require_columns(last_sales, [*key_list, "last_sold_on"], "last_sales")
    ordered_thresholds = sorted(thresholds)
    if not ordered_thresholds:
        raise ValueError("thresholds must not be empty")

    latest = last_sales[[*key_list, "last_sold_on"]].copy()
    latest["last_sold_on"] = to_day_series(latest["last_sold_on"])
    # Several rows per product (e.g. one per device) collapse to the latest sale.
    latest = latest.groupby(key_list, as_index=False, dropna=False)["last_sold_on"].max()
    merged = stocked[key_list].drop_duplicates().merge(latest, on=key_list, how="left")

    as_of_day = pd.Timestamp(as_date(as_of))
    days_since = (as_of_day - merged["last_sold_on"]).dt.days
    never_sold = merged["last_sold_on"].isna().to_numpy()
    days_array = np.where(never_sold, np.iinfo(np.int64).max, days_since.fillna(0).to_numpy(dtype=np.int64))
    bucket = np.zeros(len(merged), dtype=np.int64)
    for threshold in ordered_thresholds:
        bucket = np.where(days_array >= threshold, threshold, bucket)

    # Object columns so "never sold" stays None instead of becoming NaN/NaT.
    merged["days_since_last_sale"] = pd.Series(
        [None if is_never else int(days) for is_never, days in zip(never_sold, days_array, strict=True)],
        index=merged.index,
        dtype=object,
    )
    merged["last_sold_on"] = pd.Series(
        [
            None if is_never else timestamp.date()
            for is_never, timestamp in zip(never_sold, merged["last_sold_on"], strict=True)
        ],
        index=merged.index,
        dtype=object,
    )
    merged["bucket"] = bucket
    merged["_order_days"] = days_array
    slow = merged[bucket > 0]
    slow = slow.sort_values(
        ["bucket", "_order_days", *key_list],
        ascending=[False, False, *([True] * len(key_list))],
        kind="mergesort",
    )
    return slow[[*key_list, *SLOW_MOVER_COLUMNS]].reset_index(drop=True)


TOP_MOVER_COLUMNS = [
    "sku",
    "current_units",
    "previous_units",
    "current_velocity",
    "previous_velocity",
    "velocity_change",
    "velocity_change_pct",
]


def _velocity(window: pd.DataFrame, day_count: int) -> pd.DataFrame:
    """Per sku: units and units / (days * devices stocking) for one window."""
    devices = float_values(window["devices_stocking"]) if "devices_stocking" in window.columns else np.ones(len(window))
    units = float_values(window["units"])
    return pd.DataFrame(
        {
            "sku": window["sku"].to_numpy(),
            "units": units,
            "velocity": safe_divide(units, devices * float(day_count)),
        }
    )


def top_movers(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    current_days: int,
    previous_days: int,
    limit: int | None = 10,
) -> pd.DataFrame:
    """Products whose sales velocity increased most versus the previous window.

    Input ``current`` / ``previous`` (one row per sku per window): ``sku``, ``units``; optional
    ``devices_stocking`` (number of machines carrying the product in that window).
    ``current_days`` / ``previous_days``: window lengths (months differ, hence per-day velocity).

    velocity = units / (days * devices_stocking) — units per machine per day — when
    ``devices_stocking`` is given, otherwise units / days; 0 when the denominator is 0. A sku missing
    from a window has 0 units there. velocity_change = current - previous velocity;
    velocity_change_pct = change / previous velocity * 100 (0 when the previous velocity is 0, i.e.
    new products are ranked by absolute change only).

    Output: ``sku``, ``current_units``, ``previous_units`` (floats), ``current_velocity``,
    ``previous_velocity``, ``velocity_change``, ``velocity_change_pct``; only increases
    (change > 0), sorted by change descending then sku, at most ``limit`` rows (None = all).
    """
    require_columns(current, ["sku", "units"], "current")
    require_columns(previous, ["sku", "units"], "previous")
    now = _velocity(current, current_days).groupby("sku", as_index=False).sum()
    before = _velocity(previous, previous_days).groupby("sku", as_index=False).sum()
    merged = now.merge(before, on="sku", how="outer", suffixes=("_current", "_previous"))
    merged = merged.fillna(0.0)
    result = pd.DataFrame(
        {
            "sku": merged["sku"],
            "current_units": merged["units_current"].astype(np.float64),
            "previous_units": merged["units_previous"].astype(np.float64),
            "current_velocity": merged["velocity_current"].astype(np.float64),
            "previous_velocity": merged["velocity_previous"].astype(np.float64),
        }
    )
    change = result["current_velocity"].to_numpy() - result["previous_velocity"].to_numpy()
    result["velocity_change"] = change
    result["velocity_change_pct"] = safe_divide(change, result["previous_velocity"].to_numpy()) * 100
    result = result[result["velocity_change"] > 0]
    result = result.sort_values(["velocity_change", "sku"], ascending=[False, True], kind="mergesort")
    if limit is not None:
        result = result.head(limit)
    return result[TOP_MOVER_COLUMNS].reset_index(drop=True)


AFFINITY_COLUMNS = [
    "antecedent",
    "consequent",
    "pair_count",
    "antecedent_count",
    "consequent_count",
    "support",
    "confidence",
    "lift",
]


def _pair_codes(basket_codes: IntArray, sku_codes: IntArray, sku_count: int) -> IntArray:
    """Every unordered product pair inside each basket, encoded as ``low·sku_count + high``.

    Rows must be sorted by basket, then sku (so within a basket ``low < high``). Baskets are
    processed in groups of equal size k: their rows reshape to a (baskets * k) matrix and
    ``triu_indices`` picks the k(k-1)/2 pairs for all of them at once — one numpy step per distinct
    basket size rather than a Python loop per basket.
    """
    basket_sizes = np.bincount(basket_codes)
    size_of_row = basket_sizes[basket_codes]
    chunks = []
    for size in np.unique(basket_sizes):
        if size < 2:
            continue
        # Filtering keeps each basket's rows contiguous and ordered, so the reshape is per basket.
        members = sku_codes[size_of_row == size].reshape(-1, int(size))
        first, second = np.triu_indices(int(size), k=1)
        chunks.append((members[:, first] * sku_count + members[:, second]).ravel())
    if not chunks:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(chunks).astype(np.int64)


# Baskets with more distinct products are left out of affinity (bulk orders); the basket days (analytics.rollups.
# baskets) apply the same limit.
MAX_BASKET_PRODUCTS = 30

Baskets = tuple[IntArray, IntArray, int, Any]  # basket and sku codes sorted by (basket, sku); baskets; sku values


def _any_baskets(basket_items: pd.DataFrame, max_basket_size: int | None) -> Baskets:
    """The distinct (basket, sku) rows as codes sorted by basket then sku, for ids and skus of any type."""
    items = basket_items[["basket_id", "sku"]].dropna().drop_duplicates()
    if max_basket_size is not None:
        basket_sizes = items.groupby("basket_id")["sku"].transform("size")
        items = items[basket_sizes <= max_basket_size]
    sku_codes, sku_values = pd.factorize(items["sku"], sort=True)
    basket_codes, basket_values = pd.factorize(items["basket_id"])
    order = np.lexsort((sku_codes, basket_codes))
    return basket_codes[order].astype(np.int64), sku_codes[order].astype(np.int64), len(basket_values), sku_values


def _integer_baskets(basket_items: pd.DataFrame, max_basket_size: int | None) -> Baskets | None:
    """As `_any_baskets` for integer baskets and skus (what the selector passes: SKU ranks), by one sort of
    basket·skus + sku, several times faster than hashing the pairs; None when the columns are not integers
    (or empty, or the keys would overflow)."""
    baskets_column, skus_column = basket_items["basket_id"], basket_items["sku"]
    if basket_items.empty or not (is_integer_dtype(baskets_column) and is_integer_dtype(skus_column)):
        return None
    baskets, skus = baskets_column.to_numpy(dtype=np.int64), skus_column.to_numpy(dtype=np.int64)
    # Sorts and searches, not np.unique: its hashing path took 0.5 s on 200,000 keys.
    sku_values = distinct_sorted(skus)
    sku_codes = np.searchsorted(sku_values, skus)
    sku_count = len(sku_values)
    if baskets.min() < 0 or baskets.max() >= np.iinfo(np.int64).max // (sku_count + 1):
        return None
    keys = distinct_sorted(baskets * sku_count + sku_codes)  # distinct rows, by basket then sku
    basket_of, sku_of = keys // sku_count, keys % sku_count
    starts = np.flatnonzero(np.r_[True, basket_of[1:] != basket_of[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    kept = sizes <= max_basket_size if max_basket_size is not None else np.ones(len(sizes), dtype=bool)
    rows = np.repeat(kept, sizes)
    basket_codes = np.repeat(np.arange(int(kept.sum()), dtype=np.int64), sizes[kept])
    return basket_codes, sku_of[rows].astype(np.int64), int(kept.sum()), sku_values


def product_affinity(
    basket_items: pd.DataFrame,
    min_support: float = 0.0,
    min_pair_count: int = 1,
    max_basket_size: int | None = MAX_BASKET_PRODUCTS,
) -> pd.DataFrame:
    """Association rules A → B between products bought in the same basket.

    Input: ``basket_id``, ``sku`` rows (a basket is a transaction or a customer visit — the caller
    decides). Duplicate (basket, sku) rows count once. Baskets with more than ``max_basket_size``
    distinct products are dropped entirely (from the pair counts *and* from the basket total, so
    the ratios stay consistent); they are usually bulk/office orders that say little about
    affinity, and they are what would make the pair count explode.

    With N = number of baskets, n(X) = baskets containing X, n(A,B) = baskets containing both:
    support = n(A,B) / N; confidence(A→B) = n(A,B) / n(A); lift = confidence(A→B) / (n(B)/N)
    = n(A,B)·N / (n(A)·n(B)) (symmetric). Pairs are kept when n(A,B) ≥ ``min_pair_count`` and
    support ≥ ``min_support``; each kept pair yields both rules A→B and B→A.

    Complexity: O(Σ k_b²) time and memory over baskets b of size k_b ≤ ``max_basket_size`` to
    enumerate pairs, plus O(P log P) to count the P generated pairs; no (products * products) or
    (baskets * products) matrix is built.

    Output: ``antecedent``, ``consequent`` (sku values), ``pair_count``, ``antecedent_count``,
    ``consequent_count`` (ints), ``support``, ``confidence``, ``lift`` (floats); sorted by lift
    descending, then support descending, then antecedent, consequent ascending.
    """
    require_columns(basket_items, ["basket_id", "sku"], "basket_items")
    counts = basket_counts(basket_items, max_basket_size=max_basket_size)
    if counts.baskets == 0:
        return pd.DataFrame(columns=AFFINITY_COLUMNS)
    return affinity_rules(counts, min_support=min_support, min_pair_count=min_pair_count)


@dataclass(frozen=True)
class BasketCounts:
    """What the affinity rules are computed from, additive over disjoint sets of baskets: N (`baskets`), n(X) per
    sku code (`with_sku`, indexed like `sku_values`), and n(A,B) for each pair key low·len(sku_values) + high."""

    baskets: int
    with_sku: IntArray
    pair_keys: IntArray
    pair_counts: IntArray
    sku_values: Any


def basket_counts(basket_items: pd.DataFrame, *, max_basket_size: int | None = MAX_BASKET_PRODUCTS) -> BasketCounts:
    """The counts of :func:`product_affinity`'s baskets (its duplicate and basket-size rules)."""
    coded = _integer_baskets(basket_items, max_basket_size) or _any_baskets(basket_items, max_basket_size)
    sorted_baskets, sorted_skus, basket_count, sku_values = coded
    sku_count = len(sku_values)
    if basket_count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return BasketCounts(0, np.zeros(sku_count, dtype=np.int64), empty, empty, sku_values)
    pair_keys, pair_counts = np.unique(_pair_codes(sorted_baskets, sorted_skus, sku_count), return_counts=True)
    return BasketCounts(
        basket_count, np.bincount(sorted_skus, minlength=sku_count).astype(np.int64), pair_keys.astype(np.int64),
        pair_counts.astype(np.int64), sku_values,
    )


def affinity_rules(counts: BasketCounts, *, min_support: float = 0.0, min_pair_count: int = 1) -> pd.DataFrame:
    """The rules of :func:`product_affinity` from basket counts (N > 0)."""
    sku_count, basket_count, baskets_with_sku = len(counts.sku_values), counts.baskets, counts.with_sku
    low, high, pair_counts = counts.pair_keys // sku_count, counts.pair_keys % sku_count, counts.pair_counts
    support = pair_counts / basket_count
    keep = (pair_counts >= min_pair_count) & (support >= min_support)
    low, high, pair_counts, support = low[keep], high[keep], pair_counts[keep], support[keep]

    antecedent = np.concatenate([low, high])
    consequent = np.concatenate([high, low])
    both_counts = np.concatenate([pair_counts, pair_counts]).astype(np.int64)
    antecedent_counts = baskets_with_sku[antecedent].astype(np.int64)
    consequent_counts = baskets_with_sku[consequent].astype(np.int64)
    rules = pd.DataFrame(
        {
            "_antecedent_code": antecedent,
            "_consequent_code": consequent,
            "pair_count": both_counts,
            "antecedent_count": antecedent_counts,
            "consequent_count": consequent_counts,
            "support": np.concatenate([support, support]).astype(np.float64),
            "confidence": both_counts / antecedent_counts,
            "lift": both_counts * float(basket_count) / (antecedent_counts * consequent_counts),
        }
    )
    # sku codes follow sorted sku order, so sorting by code is sorting by sku.
    rules = rules.sort_values(
        ["lift", "support", "_antecedent_code", "_consequent_code"],
        ascending=[False, False, True, True],
        kind="mergesort",
    )
    sku_array = np.asarray(counts.sku_values, dtype=object)
    rules["antecedent"] = sku_array[rules["_antecedent_code"].to_numpy()]
    rules["consequent"] = sku_array[rules["_consequent_code"].to_numpy()]
    return rules[AFFINITY_COLUMNS].reset_index(drop=True)
