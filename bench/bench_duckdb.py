"""The peer: DuckDB over the 10M chain's raw sales (exported once to Parquet under var/) against CVD's dashboard.

The questions are the dashboard's: totals (revenue, units, transactions), the daily series, and the top 10 devices
and products by revenue, for the default 30 days and for the chain's whole history, in the chain's time zone.
CVD answers them all in one request (through Django's whole HTTP stack, in process, as bench_rollups measures);
DuckDB runs its four queries over the Parquet file. Cold: CVD with every analytics cache cleared and bucket sums
recomputed, DuckDB on a fresh connection; warm: CVD's caches as a second viewer finds them, DuckDB's second run on
the same connection. Goal: CVD at least 2x faster, cold and warm. DuckDB's answer is checked against CVD's figures.

DuckDB is a bench-only dependency (requirements.txt pins it).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context

SCHEMA = "bench_10m"
REPEAT = 3
GOAL = 2.0
CENTS = Decimal("0.01")


def _parquet_dir() -> Path:
    return Path(settings.BASE_DIR) / "var" / "bench"


def _sales_fingerprint() -> str:
    with schema_context(SCHEMA), connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM fleet_sale")
        count, top = cursor.fetchone()
    return f"{count}:{top}"


def export_parquet() -> Path:
    """var/bench/bench_10m_sales.parquet with every raw sale, written again only when the sales changed."""
    import duckdb

    directory = _parquet_dir()
    directory.mkdir(parents=True, exist_ok=True)
    parquet, marker = directory / f"{SCHEMA}_sales.parquet", directory / f"{SCHEMA}_sales.fingerprint"
    fingerprint = _sales_fingerprint()
    if parquet.exists() and marker.exists() and marker.read_text() == fingerprint:
        return parquet
    csv = directory / f"{SCHEMA}_sales.csv"
    started = time.perf_counter()
    with schema_context(SCHEMA), connection.cursor() as cursor, open(csv, "wb") as out:
        raw = cursor.cursor  # psycopg's cursor: COPY streams the rows out of PostgreSQL
        with raw.copy("COPY (SELECT sold_at, device_id, product_id, quantity, amount, transactions FROM fleet_sale)"
                      " TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                out.write(chunk)
    duck = duckdb.connect()
    duck.execute(
        f"COPY (SELECT * FROM read_csv('{csv}', header = false, columns = {{'sold_at': 'TIMESTAMPTZ', "
        "'device_id': 'BIGINT', 'product_id': 'BIGINT', 'quantity': 'INTEGER', 'amount': 'DECIMAL(14,4)', "
        f"'transactions': 'INTEGER'}})) TO '{parquet}' (FORMAT parquet)"
    )
    duck.close()
    csv.unlink()
    marker.write_text(fingerprint)
    print(f"  exported the raw sales to {parquet.relative_to(settings.BASE_DIR)} in {time.perf_counter() - started:.0f} s")
    return parquet


def duck_answer(duck: Any, parquet: Path, tz: str, start: date, end: date) -> dict[str, Any]:
    """The dashboard's questions in DuckDB, over the raw rows: the range's rows are read once (the instants of its
    local midnights bound `sold_at`, so Parquet row groups outside it are skipped; the sales are in time order),
    then the four answers come from that table."""
    zone = ZoneInfo(tz)
    lower = datetime.combine(start, datetime.min.time(), zone).isoformat()
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).isoformat()
    duck.execute(f"SET TimeZone = '{tz}'")
    duck.execute("SET enable_progress_bar = false")
    duck.execute(
        "CREATE OR REPLACE TEMP TABLE r AS SELECT (sold_at AT TIME ZONE $tz)::date AS day, device_id, product_id, "
        f"quantity, amount, transactions FROM read_parquet('{parquet}') "
        "WHERE sold_at >= $lower::TIMESTAMPTZ AND sold_at < $upper::TIMESTAMPTZ",
        {"tz": tz, "lower": lower, "upper": upper},
    )
    totals = duck.execute("SELECT SUM(amount), SUM(quantity), SUM(transactions) FROM r").fetchone()
    daily = duck.execute("SELECT day, SUM(amount) FROM r GROUP BY day ORDER BY day").fetchall()
    devices = duck.execute(
        "SELECT device_id, SUM(amount) AS s FROM r GROUP BY device_id ORDER BY s DESC, device_id LIMIT 10"
    ).fetchall()
    products = duck.execute(
        "SELECT product_id, SUM(amount) AS s FROM r GROUP BY product_id ORDER BY s DESC, product_id LIMIT 10"
    ).fetchall()
    duck.execute("DROP TABLE r")
    return {"totals": totals, "daily": daily, "devices": devices, "products": products}


def _cents(value: Any) -> Decimal:
    return Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)


def same_figures(cvd: dict[str, Any], duck: dict[str, Any]) -> None:
    revenue, units, transactions = duck["totals"]
    kpis = cvd["kpis"]
    assert Decimal(kpis["sales_revenue"]) == _cents(revenue), (kpis["sales_revenue"], revenue)
    assert int(kpis["units"]) == units and int(kpis["transactions"]) == transactions
    series = {row["date"]: Decimal(row["revenue"]) for row in cvd["series"] if Decimal(row["revenue"])}
    assert series == {day.isoformat(): _cents(value) for day, value in duck["daily"]}
    # Top 10 by revenue: the same revenues in the same order (ties may list a different device of equal revenue).
    for key, ours in (("top_devices", "devices"), ("top_products", "products")):
        assert [Decimal(row["revenue"]) for row in cvd[key]] == [_cents(value) for _, value in duck[ours]], key


def _median_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run() -> None:
    import duckdb
    from django.test import Client

    from analytics.query.cache import BUCKETS
    from analytics.rollups.services import rollup_hourly
    from bench.bench_rollups import CHAINS, ensure_bench_chain
    from chains.services import chain_user_create

    chain = ensure_bench_chain(SCHEMA, *CHAINS[SCHEMA])
    with schema_context(SCHEMA):
        rollup_hourly()
    parquet = export_parquet()
    created = chain_user_create(chain=chain, username="bench-duckdb", email="bench@example.com", role="viewer",
                                with_token=True)
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    client = Client(HTTP_HOST=chain.domains.get(is_primary=True).domain, HTTP_AUTHORIZATION=f"Token {created.token}")
    tz = chain.time_zone
    with schema_context(SCHEMA), connection.cursor() as cursor:
        cursor.execute("SELECT (min(sold_at) AT TIME ZONE %s)::date, (now() AT TIME ZONE %s)::date FROM fleet_sale", [tz, tz])
        first, today = cursor.fetchone()
    ranges = {"30 days": (today - timedelta(days=29), today), "all history": (first, today)}
    print(f"DuckDB {duckdb.__version__} over {parquet.stat().st_size / 1e6:.0f} MB of Parquet; CVD: one dashboard "
          "request (Django's HTTP stack in process); medians of 3")
    print(f"  {'range':<12} {'':<5} {'CVD ms':>8} {'DuckDB ms':>10} {'DuckDB / CVD':>13}")
    for label, (start, end) in ranges.items():
        path = f"/api/analytics/dashboard/?start={start}&end={end}"

        def cvd(cold: bool, path: str = path) -> dict[str, Any]:
            if cold:
                cache.clear()
                with BUCKETS.disabled():
                    response = client.get(path)
            else:
                response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            return dict(json.loads(response.content))

        def duck_cold(start: date = start, end: date = end) -> dict[str, Any]:
            duck = duckdb.connect()
            try:
                return duck_answer(duck, parquet, tz, start, end)
            finally:
                duck.close()

        warm_duck = duckdb.connect()
        same_figures(cvd(False), duck_cold())
        rows = {
            "cold": (_median_ms(partial(cvd, True)), _median_ms(duck_cold)),
            "warm": (_median_ms(partial(cvd, False)), _median_ms(partial(duck_answer, warm_duck, parquet, tz, start, end))),
        }
        warm_duck.close()
        for kind, (ours, theirs) in rows.items():
            verdict = "met" if theirs / ours >= GOAL else "NOT met"
            print(f"  {label:<12} {kind:<5} {ours:>8.1f} {theirs:>10.1f} {theirs / ours:>12.1f}x  (goal >= {GOAL:g}x: {verdict})")
    print("  answers identical: totals, daily series, top 10 devices and products (revenue to the cent)")
