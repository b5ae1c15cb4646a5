"""The fast paths of asset-sales and product-sales against the raw reference: the parts before the rollup marks
(buckets of the slot and device families, the device days cached per rollup version) plus the live delta must
equal a plain computation over the raw rows, with late rows, fresh rows, a changed range reported by ingestion,
and filters."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.filters import NO_FILTERS, Filters
from analytics.metrics.scoring import device_performance_scores
from analytics.models import DirtyRange
from analytics.periods import Period
from analytics.query import current_chain, local_today, sales_by
from analytics.query.device_sales import MONEY_SCALE, device_daily_revenue, device_top_products, slot_revenue
from analytics.rollups.services import rollup_hourly
from analytics.selectors.assets import asset_sales
from fleet.models import Product, Sale
from tests.analytics.rollup_support import Catalog, SaleRow, add_sales, clear_chain, make_catalog
from tests.conftest import ChainFixture

DEVICES, PRODUCTS = 6, 8


def _rows(rng: random.Random, now: datetime, count: int, *, days: int = 40) -> list[SaleRow]:
    """Sales over the last `days` days (some in the last hours), with revenue ties between products."""
    return [
        SaleRow(
            sold_at=now - timedelta(minutes=rng.randint(1, days * 24 * 60)),
            device=rng.randrange(DEVICES),
            product=rng.randrange(PRODUCTS),
            quantity=rng.randint(1, 3),
            amount=Decimal(rng.choice([100, 250, 1005, 333])) / 100,
            transactions=rng.randint(1, 2),
        )
        for _ in range(count)
    ]


def _add(catalog: Catalog, rows: list[SaleRow]) -> None:
    add_sales(catalog, rows)
    # Slot codes from the id, so every slot has sales from several devices.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE fleet_sale SET slot_code = 'S' || (id % 4) WHERE slot_code = ''")


def _reference_pairs(period: Period, filters: Filters) -> dict[tuple[int, int], list[Any]]:
    """(device, product) → [revenue, units] straight from the raw rows, the simplest way."""
    lo, hi = period.bounds(current_chain().tz)
    sales = Sale.objects.filter(sold_at__gte=lo, sold_at__lt=hi).select_related("product", "device")
    if filters.devices:
        sales = sales.filter(device_id__in=filters.devices)
    if filters.categories:
        sales = sales.filter(product__category_id__in=filters.categories)
    if filters.locations:
        sales = sales.filter(device__location_id__in=filters.locations)
    pairs: dict[tuple[int, int], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for sale in sales:
        pair = pairs[(sale.device_id, sale.product_id)]
        pair[0] += sale.amount
        pair[1] += sale.quantity
    return pairs


def _reference_top(period: Period, filters: Filters, top: int = 5) -> dict[int, list[tuple[str, Decimal, int]]]:
    skus = dict(Product.objects.values_list("id", "sku"))
    by_device: dict[int, list[tuple[str, Decimal, int]]] = defaultdict(list)
    for (device_id, product_id), (revenue, units) in _reference_pairs(period, filters).items():
        by_device[device_id].append((skus[product_id], revenue, units))
    return {
        device_id: sorted(items, key=lambda item: (-item[1], item[0]))[:top] for device_id, items in by_device.items()
    }


def _answered_top(period: Period, filters: Filters) -> dict[int, list[tuple[str, Decimal, int]]]:
    return {
        device_id: [(p["sku"], p["revenue"], p["units"]) for p in products]
        for device_id, products in device_top_products(period=period, filters=filters).items()
    }


def _reference_slots(period: Period, filters: Filters) -> dict[str, tuple[Decimal, int, int]]:
    rows = sales_by(period=period, filters=filters, by=["slot"], use_rollups=False)
    return {row["slot"]: (row["revenue"], int(row["units"]), int(row["transactions"])) for row in rows}


def _answered_slots(period: Period, filters: Filters) -> dict[str, tuple[Decimal, int, int]]:
    return {row["slot"]: (row["revenue"], row["units"], row["transactions"]) for row in slot_revenue(period=period, filters=filters)}


def _reference_daily(period: Period, filters: Filters, *, use_rollups: bool = False) -> dict[tuple[int, date], Decimal]:
    rows = sales_by(period=period, filters=filters, by=["device", "day"], use_rollups=use_rollups)
    return {(row["device"], row["day"]): row["revenue"] for row in rows}


def _answered_daily(period: Period, filters: Filters) -> dict[tuple[int, date], Decimal]:
    frame = device_daily_revenue(period=period, filters=filters)
    return {
        (int(device), period.start + timedelta(days=int(day))): Decimal(int(scaled)).scaleb(-4)
        for device, day, scaled in frame.itertuples(index=False)
    }


def _reads_day_buckets(sql: str) -> bool:
    return "analytics_salesdevicerollup" in sql and "(r.revenue * 10000)::bigint" in sql


def _reads_stable_part(sql: str) -> bool:
    return "ingested_at <" in sql or _reads_day_buckets(sql)


def _check_all(period: Period, filters: Filters, *, stale_buckets: bool = False) -> None:
    # Everything is read from buckets, like sales_by: until the next job has recomputed a range ingestion reported
    # as changed, the answers show the buckets as they are (the same figures as every other report), else raw.
    if stale_buckets:
        pairs = sales_by(period=period, filters=filters, by=["device", "product"])
        assert {(row["device"], row["product"]): [row["revenue"], row["units"]] for row in pairs} != dict(
            _reference_pairs(period, filters)
        )  # the buckets are stale indeed
        skus = dict(Product.objects.values_list("id", "sku"))
        by_device: dict[int, list[tuple[str, Decimal, int]]] = defaultdict(list)
        for row in pairs:
            by_device[row["device"]].append((skus[row["product"]], row["revenue"], row["units"]))
        want_top = {device: sorted(items, key=lambda item: (-item[1], item[0]))[:5] for device, items in by_device.items()}
        assert _answered_top(period, filters) == want_top
        slots = sales_by(period=period, filters=filters, by=["slot"])
        assert _answered_slots(period, filters) == {
            row["slot"]: (row["revenue"], int(row["units"]), int(row["transactions"])) for row in slots
        }
    else:
        assert _answered_top(period, filters) == _reference_top(period, filters)
        assert _answered_slots(period, filters) == _reference_slots(period, filters)
    assert _answered_daily(period, filters) == _reference_daily(period, filters, use_rollups=stale_buckets)


@pytest.fixture
def catalog(in_chain_a: ChainFixture) -> Catalog:
    clear_chain()
    return make_catalog(devices=DEVICES, products=PRODUCTS)


def _filter_cases(catalog: Catalog) -> list[Filters]:
    category = catalog.products[1].category_id
    assert category is not None
    return [
        NO_FILTERS,
        Filters(devices=(catalog.devices[0].id, catalog.devices[3].id)),
        Filters(locations=(catalog.locations[1].id,)),
        Filters(categories=(category,)),
    ]


def test_stable_parts_plus_live_delta_equal_the_raw_rows(catalog: Catalog) -> None:
    rng = random.Random(5)
    now = timezone.now()
    today = local_today()
    periods = [Period.last_days(30, today), Period(today - timedelta(days=35), today - timedelta(days=3))]
    _add(catalog, [SaleRow(**{**r.__dict__, "ingested_at": now - timedelta(days=60)}) for r in _rows(rng, now, 400)])
    for period in periods:  # no rollups yet: everything is live
        _check_all(period, NO_FILTERS)

    rollup_hourly()
    for period in periods:
        for filters in _filter_cases(catalog):
            _check_all(period, filters)
            with CaptureQueriesContext(connection) as queries:
                _check_all(period, filters)  # the second time the stable parts come from the cache
            assert not [q["sql"] for q in queries.captured_queries if _reads_stable_part(q["sql"])]

    # Late rows (sold weeks ago, ingested now) and fresh ones count at once, with the stable part still cached.
    _add(catalog, _rows(rng, timezone.now(), 60) + _rows(rng, timezone.now(), 20, days=1))
    for period in periods:
        for filters in _filter_cases(catalog):
            _check_all(period, filters)

    # The next job moves the marks: the cached stable parts are advanced by the rows between the old and the new
    # marks (late rows included), not read again in full.
    rollup_hourly()
    for period in periods:
        for filters in _filter_cases(catalog):
            with CaptureQueriesContext(connection) as queries:
                _check_all(period, filters)
            statements = [q["sql"] for q in queries.captured_queries]
            assert any("ingested_at >=" in sql and "ingested_at <" in sql for sql in statements)
            assert not [sql for sql in statements if "ingested_at <" in sql and "ingested_at >=" not in sql]
            assert not [sql for sql in statements if _reads_day_buckets(sql)]

    # Ingestion that removes rows before the marks reports the range: the cached raw stable parts are not used.
    victims = list(Sale.objects.filter(sold_at__lt=now - timedelta(days=5)).order_by("id")[:40])
    Sale.objects.filter(id__in=[s.id for s in victims]).delete()
    DirtyRange.objects.create(kind="sales", starts_at=min(s.sold_at for s in victims), ends_at=now)
    for period in periods:
        _check_all(period, NO_FILTERS, stale_buckets=True)

    # After the next job, from the new version's buckets and stable parts.
    rollup_hourly()
    for period in periods:
        for filters in _filter_cases(catalog):
            _check_all(period, filters)


def test_asset_sales_scores_equal_the_pure_function_over_raw_daily_rows(catalog: Catalog) -> None:
    rng = random.Random(11)
    now = timezone.now()
    _add(catalog, [SaleRow(**{**r.__dict__, "ingested_at": now - timedelta(days=60)}) for r in _rows(rng, now, 500)])
    rollup_hourly()
    _add(catalog, _rows(rng, timezone.now(), 40))  # late and fresh rows in the live delta
    period = Period.last_days(30, local_today())

    answer = asset_sales(period=period, filters=NO_FILTERS, daily_series=True)
    totals = {row["device"]: row for row in sales_by(period=period, by=["device"], use_rollups=False)}
    daily = sales_by(period=period, by=["device", "day"], use_rollups=False)
    devices = [{"id": d.id, "asset": d.asset} for d in catalog.devices]
    frame = pd.DataFrame(
        {
            "device_id": [d["id"] for d in devices],
            "asset_number": [d["asset"] for d in devices],
            "revenue": [totals.get(d["id"], {}).get("revenue") or Decimal(0) for d in devices],
            "units": [int(totals.get(d["id"], {}).get("units") or 0) for d in devices],
        }
    )
    daily_frame = pd.DataFrame(
        {
            "device_id": [row["device"] for row in daily],
            "date": pd.to_datetime([row["day"] for row in daily]),
            "revenue": [float(row["revenue"]) for row in daily],
        }
    )
    want = device_performance_scores(frame, daily_frame, list(period.dates()))
    got = answer["devices"]
    assert [row["device_id"] for row in got] == want["device_id"].tolist()
    assert [row["fleet_rank"] for row in got] == want["fleet_rank"].tolist()
    assert [row["performance_score"] for row in got] == want["score"].tolist()
    assert [row["daily_revenue_cv"] for row in got] == want["daily_revenue_cv"].tolist()
    assert [row["daily_trend"] for row in got] == want["daily_revenue_slope"].tolist()
    for row in got:
        days = sorted(day for (device, day) in ((r["device"], r["day"]) for r in daily) if device == row["device_id"])
        assert row["active_days"] == len(days)
        assert (row["first_sale"], row["last_sale"]) == ((days[0], days[-1]) if days else (None, None))
        series = {r["day"]: r["revenue"] for r in daily if r["device"] == row["device_id"]}
        assert row["daily"] == [{"date": day, "revenue": series.get(day, Decimal(0))} for day in period.dates()]
        assert row["total_revenue"] == (totals.get(row["device_id"], {}).get("revenue") or Decimal(0))


def test_scaled_money_is_the_exact_decimal_and_its_float() -> None:
    for text in ("0.0001", "6.005", "12345678.9999", "0"):
        exact = Decimal(text)
        scaled = int(exact * MONEY_SCALE)
        assert Decimal(scaled).scaleb(-4) == exact
        assert np.float64(scaled) / float(MONEY_SCALE) == float(exact)


def test_a_cached_stable_part_of_other_rows_is_never_advanced(catalog: Catalog) -> None:
    """Rows replaced without a reported range (a restored or regenerated chain): the totals no longer agree with
    the rollup buckets, so the range is read in full."""
    rng = random.Random(23)
    now = timezone.now()
    period = Period.last_days(30, local_today())
    _add(catalog, [SaleRow(**{**r.__dict__, "ingested_at": now - timedelta(days=60)}) for r in _rows(rng, now, 200)])
    rollup_hourly()
    _check_all(period, NO_FILTERS)

    clear_chain()
    _add(catalog, [SaleRow(**{**r.__dict__, "ingested_at": now - timedelta(days=60)}) for r in _rows(rng, now, 150)])
    rollup_hourly()
    _check_all(period, NO_FILTERS)


def test_a_page_of_asset_sales_reads_only_its_devices_best_sellers(catalog: Catalog) -> None:
    rng = random.Random(31)
    now = timezone.now()
    _add(catalog, [SaleRow(**{**r.__dict__, "ingested_at": now - timedelta(days=60)}) for r in _rows(rng, now, 300)])
    rollup_hourly()
    period = Period.last_days(30, local_today())
    category = catalog.products[1].category_id
    assert category is not None
    for filters in (NO_FILTERS, Filters(categories=(category,)), Filters(locations=(catalog.locations[0].id,))):
        everything = asset_sales(period=period, filters=filters)["devices"]
        page = asset_sales(period=period, filters=filters, limit=2)["devices"]
        assert page == everything[:2]
        assert any(row["top_products"] for row in page)
