"""Product performance: per-product metrics, categories, ABC, slow and top movers, affinity, slot positions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.db.models import Count, Q

from analytics.filters import Filters
from analytics.metrics._common import distinct_sorted
from analytics.metrics.products import (
    BasketCounts,
    abc_classification,
    affinity_rules,
    basket_counts,
    slow_movers,
    top_movers,
)
from analytics.periods import Period
from analytics.query import current_chain, sales_by
from analytics.query.device_sales import slot_revenue
from analytics.query.histories import basket_items, held_basket_counts, product_last_sale_dates
from analytics.query.marks import same_watermark
from analytics.selectors._common import ZERO, could_sell_in, money_ratio, ratio, sales_filters_apply, truncate
from fleet.models import Device, PlanogramSlot, Product

UNCATEGORIZED = "Uncategorized"
DEFAULT_AFFINITY_PAIRS = 20
DEFAULT_TOP_MOVERS = 10
PRODUCT_SECTIONS = ("slow_movers", "top_movers", "affinity", "slots")


class _Catalog:
    """The SKU and name of each product an answer shows, read once: the product list's rows, and one read for the
    ids a section asks for that the list lacks (stocked or sold only in the previous period, say), instead of two
    reads of up to every product per section."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._known: dict[int, tuple[str, str] | None] = {row["id"]: (row["sku"], row["name"]) for row in rows}

    def skus(self, ids: Iterable[int]) -> dict[int, str]:
        """{id: SKU} of the `ids` that are products (a basket day may name one deleted since)."""
        return {i: entry[0] for i, entry in self._entries(ids).items()}

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        return {i: entry[1] for i, entry in self._entries(ids).items()}

    def _entries(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        wanted = set(ids)
        missing = [i for i in wanted if i not in self._known]
        if missing:
            self._known.update(dict.fromkeys(missing))
            for product_id, sku, name in Product.objects.filter(id__in=missing).values_list("id", "sku", "name"):
                self._known[product_id] = (sku, name)
        return {i: entry for i in wanted if (entry := self._known[i]) is not None}


def _stocking(*, filters: Filters, windows: dict[str, tuple[Period, bool]]) -> dict[str, dict[int, int]]:
    """Per window (name: (period, at its end only)), per product, the number of devices in scope whose planogram
    carried it at some time in the period (or at its end): every window in one pass over the planograms."""
    tz = current_chain().tz
    slots = PlanogramSlot.objects.filter(device__in=Device.objects.filter(filters.q_devices()))
    slots = slots.filter(filters.q_products(prefix="product__"))
    counts: dict[str, Any] = {}
    for name, (period, at_end_only) in windows.items():
        starts_at, ends_at = period.bounds(tz)
        still = Q(valid_to__gte=ends_at) if at_end_only else Q(valid_to__gt=starts_at)
        carried = Q(valid_from__lt=ends_at) & (Q(valid_to__isnull=True) | still)
        counts[name] = Count("device_id", distinct=True, filter=could_sell_in(period, "device__") & carried)
    rows: list[dict[str, Any]] = [dict(row) for row in slots.values("product_id").annotate(**counts)]
    return {name: {row["product_id"]: row[name] for row in rows if row[name]} for name in windows}


def product_sales(
    *, period: Period, filters: Filters, limit: int | None = None, sections: Sequence[str] = PRODUCT_SECTIONS
) -> dict[str, Any]:
    """Per-product metrics with ABC classes and categories, plus the optional `sections` (empty lists when left out)."""
    with same_watermark():  # every figure from one rollup watermark, read once
        return _product_sales(period=period, filters=filters, limit=limit, sections=sections)


def _product_sales(*, period: Period, filters: Filters, limit: int | None, sections: Sequence[str]) -> dict[str, Any]:
    has_sales = sales_filters_apply(filters)
    totals = {row["product"]: row for row in sales_by(period=period, filters=filters, by=["product"])} if has_sales else {}
    windows = {"period": (period, False)}
    if "slow_movers" in sections:
        windows["at_end"] = (period, True)
    if "top_movers" in sections:
        windows["previous"] = (period.previous(), False)
    carried = _stocking(filters=filters, windows=windows) if has_sales else {}
    stocking = carried.get("period", {})
    product_ids = set(totals) | set(stocking)
    catalog = {
        p["id"]: p
        for p in Product.objects.filter(id__in=product_ids).values("id", "sku", "name", "cost", "category__name")
    }

    known = _Catalog(catalog.values())
    rows: list[dict[str, Any]] = []
    for product_id, product in catalog.items():
        total = totals.get(product_id, {})
        revenue: Decimal = total.get("revenue") or ZERO
        units = int(total.get("units") or 0)
        devices = stocking.get(product_id, 0)
        cost = product["cost"]
        margin = None if cost is None else revenue - cost * units
        rows.append(
            {
                "product_id": product_id,
                "sku": product["sku"],
                "name": product["name"],
                "category": product["category__name"] or UNCATEGORIZED,
                "revenue": revenue,
                "units": units,
                "transactions": int(total.get("transactions") or 0),
                "devices_stocking": devices,
                "units_per_device": ratio(units, devices),
                "velocity": ratio(units, devices * period.days),
                "revenue_per_unit": money_ratio(revenue, units),
                "margin": margin,
                "margin_pct": None if margin is None or not revenue else float(margin / revenue),
            }
        )

    abc = abc_classification(pd.DataFrame({"sku": [r["sku"] for r in rows], "revenue": [r["revenue"] for r in rows]}))
    abc_by_sku = {a.sku: a for a in abc.itertuples(index=False)}
    for row in rows:
        entry = abc_by_sku[row["sku"]]
        row["abc_class"] = entry.abc_class
        row["revenue_share"] = float(entry.revenue_share)
        row["cumulative_share"] = float(entry.cumulative_share)
    velocity_order = sorted(rows, key=lambda r: (-r["velocity"], r["sku"]))
    for position, row in enumerate(velocity_order, start=1):
        row["velocity_rank"] = position
    rows.sort(key=lambda r: (-r["revenue"], r["sku"]))

    total_revenue = sum((r["revenue"] for r in rows), ZERO)
    categories: dict[str, dict[str, Any]] = {}
    for row in rows:
        category = categories.setdefault(
            row["category"], {"category": row["category"], "revenue": ZERO, "units": 0, "transactions": 0, "products": 0}
        )
        category["revenue"] += row["revenue"]
        category["units"] += row["units"]
        category["transactions"] += row["transactions"]
        category["products"] += 1
    category_rows = sorted(categories.values(), key=lambda c: (-c["revenue"], c["category"]))
    for category in category_rows:
        category["share"] = ratio(category["revenue"], total_revenue) if total_revenue > 0 else 0.0

    abc_summary = []
    for abc_class in ("A", "B", "C"):
        members = [r for r in rows if r["abc_class"] == abc_class]
        revenue = sum((r["revenue"] for r in members), ZERO)
        abc_summary.append(
            {
                "abc_class": abc_class,
                "products": len(members),
                "revenue": revenue,
                "share": ratio(revenue, total_revenue) if total_revenue > 0 else 0.0,
            }
        )

    return {
        "start": period.start,
        "end": period.end,
        "products": truncate(rows, limit),
        "categories": category_rows,
        "abc_summary": abc_summary,
        "slow_movers": (
            _slow_movers(period=period, filters=filters, stocked_at_end=carried["at_end"], catalog=known)
            if has_sales and "slow_movers" in sections else []
        ),
        "top_movers": (
            _top_movers(period=period, filters=filters, limit=limit, stocking=stocking, previous=carried["previous"],
                        catalog=known)
            if has_sales and "top_movers" in sections else []
        ),
        "affinity": (
            _affinity(period=period, filters=filters, limit=limit, catalog=known) if has_sales and "affinity" in sections else []
        ),
        "slots": _slots(period=period, filters=filters, limit=limit) if has_sales and "slots" in sections else [],
    }


def _slow_movers(
    *, period: Period, filters: Filters, stocked_at_end: dict[int, int], catalog: _Catalog
) -> list[dict[str, Any]]:
    """Products stocked at the end of the range (`stocked_at_end`) with no sale in the last 30/60/90 days before it
    (or ever)."""
    stocked_ids = list(stocked_at_end)
    if not stocked_ids:
        return []
    skus, names = catalog.skus(stocked_ids), catalog.names(stocked_ids)
    last = product_last_sale_dates(product_ids=stocked_ids, before=period.end, filters=filters)
    stocked = pd.DataFrame({"sku": [skus[i] for i in stocked_ids]})
    last_sales = pd.DataFrame({"sku": [skus[i] for i in last], "last_sold_on": list(last.values())})
    slow = slow_movers(stocked, last_sales, as_of=period.end)
    by_sku = {sku: product_id for product_id, sku in skus.items()}
    return [
        {
            "product_id": by_sku[s.sku],
            "sku": s.sku,
            "name": names[by_sku[s.sku]],
            "last_sold_on": s.last_sold_on,
            "days_since_last_sale": s.days_since_last_sale,
            "bucket": int(s.bucket),
        }
        for s in slow.itertuples(index=False)
    ]


def _top_movers(
    *, period: Period, filters: Filters, limit: int | None, stocking: dict[int, int], previous: dict[int, int],
    catalog: _Catalog,
) -> list[dict[str, Any]]:
    """Largest increase in units per stocking machine per day against the previous period of equal length
    (`stocking`, `previous`: the machines stocking each product in either, read with the product list's)."""
    windows = []
    for window, stocked in ((period, stocking), (period.previous(), previous)):
        units = {row["product"]: int(row["units"]) for row in sales_by(period=window, filters=filters, by=["product"])}
        ids = set(units) | set(stocked)
        windows.append((ids, units, stocked))
    all_ids = windows[0][0] | windows[1][0]
    skus, names = catalog.skus(all_ids), catalog.names(all_ids)
    frames = [
        pd.DataFrame(
            {
                "sku": [skus[i] for i in ids],
                "units": [units.get(i, 0) for i in ids],
                "devices_stocking": [stocking.get(i, 0) for i in ids],
            }
        )
        for ids, units, stocking in windows
    ]
    movers = top_movers(frames[0], frames[1], period.days, period.previous().days, limit=limit or DEFAULT_TOP_MOVERS)
    by_sku = {sku: product_id for product_id, sku in skus.items()}
    return [
        {
            "product_id": by_sku[m.sku],
            "sku": m.sku,
            "name": names[by_sku[m.sku]],
            "current_units": int(m.current_units),
            "previous_units": int(m.previous_units),
            "current_velocity": float(m.current_velocity),
            "previous_velocity": float(m.previous_velocity),
            "velocity_change": float(m.velocity_change),
            "velocity_change_pct": float(m.velocity_change_pct),
        }
        for m in movers.itertuples(index=False)
    ]


def _affinity(
    *, period: Period, filters: Filters, limit: int | None, catalog: _Catalog | None = None
) -> list[dict[str, Any]]:
    """Pairs bought together by one customer on one local day, strongest lift first: the counts of the whole days
    the basket days hold plus those of the baskets read raw (the rest of the period), summed."""
    held = held_basket_counts(period=period, filters=filters)
    parts = [basket_items(period=part, filters=filters) for part in ([period] if held is None else held.raw)]
    baskets = np.concatenate([part[0] for part in parts]) if parts else np.zeros(0, dtype=np.int64)
    products = np.concatenate([part[1] for part in parts]) if parts else np.zeros(0, dtype=np.int64)
    counted = held.counts if held is not None else np.zeros((0, 3), dtype=np.int64)
    ids_seen = distinct_sorted(np.concatenate([products, counted[:, 0], counted[:, 1]]))
    skus = (catalog or _Catalog(())).skus(ids_seen[ids_seen > 0].tolist())
    if not skus:
        return []
    ids = np.array(sorted(skus), dtype=np.int64)
    counted = counted[(np.isin(counted[:, 0], ids) | (counted[:, 0] == 0))
                      & (np.isin(counted[:, 1], ids) | (counted[:, 1] == 0))]  # a product deleted since its day
    # Each product as the rank of its SKU (in Python's order, which the rules' ties follow): integers factorize
    # and sort many times faster than 200,000 SKU strings, and the ranks map back to SKUs for the pairs shown.
    by_sku = sorted(skus, key=skus.__getitem__)
    rank_of_id = np.empty(len(ids), dtype=np.int64)
    rank_of_id[np.searchsorted(ids, np.array(by_sku, dtype=np.int64))] = np.arange(len(by_sku))
    counts = _summed_counts(
        basket_counts(pd.DataFrame({"basket_id": baskets, "sku": rank_of_id[np.searchsorted(ids, products)]})),
        counted, lambda product_ids: rank_of_id[np.searchsorted(ids, product_ids)], len(by_sku),
    )
    if counts.baskets == 0:
        return []
    rules = affinity_rules(counts, min_pair_count=2).head(limit or DEFAULT_AFFINITY_PAIRS)
    sku_of_rank = [skus[product_id] for product_id in by_sku]
    return [
        {
            "antecedent": sku_of_rank[int(r.antecedent)],
            "consequent": sku_of_rank[int(r.consequent)],
            "pair_count": int(r.pair_count),
            "support": float(r.support),
            "confidence": float(r.confidence),
            "lift": float(r.lift),
        }
        for r in rules.itertuples(index=False)
    ]


def _summed_counts(
    raw: BasketCounts, held: npt.NDArray[np.int64], rank: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]],
    products: int,
) -> BasketCounts:
    """The raw baskets' counts (over the SKU ranks they hold) plus the basket days' rows (product_a, product_b,
    baskets: 0, 0 the baskets; a, 0 the baskets with a; a < b the pairs), as counts over all `products` ranks."""
    with_sku = np.zeros(products, dtype=np.int64)
    raw_ranks = np.asarray(raw.sku_values, dtype=np.int64)
    with_sku[raw_ranks] += raw.with_sku
    width = len(raw_ranks)
    keys = [raw_ranks[raw.pair_keys // width] * products + raw_ranks[raw.pair_keys % width]] if width else []
    weights = [raw.pair_counts] if width else []
    total = raw.baskets
    totals, singles, pairs = held[:, 0] == 0, (held[:, 0] > 0) & (held[:, 1] == 0), held[:, 1] > 0
    total += int(held[totals, 2].sum())
    np.add.at(with_sku, rank(held[singles, 0]), held[singles, 2])
    a, b = rank(held[pairs, 0]), rank(held[pairs, 1])
    keys.append(np.minimum(a, b) * products + np.maximum(a, b))
    weights.append(held[pairs, 2])
    pair_keys, where = np.unique(np.concatenate(keys), return_inverse=True)
    pair_counts = np.bincount(where, weights=np.concatenate(weights), minlength=len(pair_keys)).astype(np.int64)
    return BasketCounts(total, with_sku, pair_keys.astype(np.int64), pair_counts, np.arange(products))


def _slots(*, period: Period, filters: Filters, limit: int | None) -> list[dict[str, Any]]:
    """Revenue by slot code across the fleet (slot position: the same code is the same place in every machine)."""
    rows = slot_revenue(period=period, filters=filters)
    total = sum((row["revenue"] for row in rows), ZERO)
    per_slot: dict[str, dict[str, Any]] = defaultdict(lambda: {"revenue": ZERO, "units": 0, "transactions": 0})
    for row in rows:
        slot = per_slot[row["slot"] or ""]
        slot["revenue"] += row["revenue"]
        slot["units"] += int(row["units"])
        slot["transactions"] += int(row["transactions"])
    result = [
        {"slot": slot, **values, "share": ratio(values["revenue"], total) if total > 0 else 0.0}
        for slot, values in per_slot.items()
    ]
    result.sort(key=lambda r: (-r["revenue"], r["slot"]))
    return truncate(result, limit)
