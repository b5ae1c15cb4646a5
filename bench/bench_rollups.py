"""Rollup benchmark: dashboard latency at 10M vs 10k sales, rollups vs raw SQL, rebuild vs a bare GROUP BY, hourly job.

The bench chains are created once (set-based SQL, about 3–5 minutes for 10M rows) and reused by later
runs; they share one catalog shape (2,000 devices at 200 locations, 500 products) so that only the
sales history differs:

- `bench_10m`: 10,000,000 sales over the last 400 days (≈ 25,000 a day);
- `bench_10k`: 10,000 sales over the same 400 days (a small chain);
- `bench_100k`: 100,000 sales at the big chain's daily rate, i.e. the last four days — the hourly
  job must cost what the recent activity costs, not what the history costs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

DEVICES = 2000
LOCATIONS = 200
PRODUCTS = 500
CATEGORIES = 25
DEVICE_TYPES = 8
TIME_ZONE = "Europe/Stockholm"
SLOTS = 10  # planogram slots per device, A0 … A9
SLOT_CAPACITY = 12
ROUTES = 100  # 20 devices each
DRIVERS = 25
RUN_EVERY_DAYS = 3  # each route is run every third day
LOYALTY_SHARE = 0.3  # sales paid with a loyalty card (a customer id)
SALES_PER_CUSTOMER = 500  # customers = sales / 500 (20,000 at 10M), at least MIN_CUSTOMERS
MIN_CUSTOMERS = 200

CHAINS: dict[str, tuple[int, int]] = {  # schema -> (sales, days of history)
    "bench_10m": (10_000_000, 400),
    "bench_10k": (10_000, 400),
    "bench_100k": (100_000, 4),
}


def _chain(schema: str) -> Any:
    from chains.models import Chain
    from chains.services import chain_create

    chain = Chain.objects.filter(schema_name=schema).first()
    if chain is None:
        chain = chain_create(
            schema=schema, name=schema, domain=f"{schema.replace('_', '-')}.localhost", time_zone=TIME_ZONE, currency="EUR"
        )
    return chain


def _sale_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'fleet_sale'::regclass")
        estimate = int(cursor.fetchone()[0])
        if estimate > 1_000_000:
            return estimate
        cursor.execute("SELECT count(*) FROM fleet_sale")
        return int(cursor.fetchone()[0])


def ensure_bench_chain(schema: str, sales: int, days: int) -> Any:
    """Create the chain with its catalog and `sales` sales spread over the last `days` days, unless present."""
    chain = _chain(schema)
    with schema_context(schema):
        have = _sale_count()
        if have >= sales * 0.99 and _has_operations():
            return chain
        print(f"  generating {sales:,} sales in {schema} …", flush=True)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE fleet_sale, analytics_dirtyrange, routes_slotfill, routes_servicevisit, routes_routerun,"
                " routes_routestop, routes_route, routes_driver, fleet_planogramslot, fleet_customer CASCADE"
            )
            cursor.execute("SELECT count(*) FROM fleet_device")
            if cursor.fetchone()[0] == 0:
                _catalog(cursor)
            customers = max(MIN_CUSTOMERS, sales // SALES_PER_CUSTOMER)
            cursor.execute(
                "INSERT INTO fleet_customer (external_ref) SELECT 'C' || lpad(g::text, 7, '0')"
                " FROM generate_series(1, %s) AS g",
                [customers],
            )
            cursor.execute("SELECT min(id) FROM fleet_customer")
            first_customer = cursor.fetchone()[0]
            cursor.execute("SELECT setseed(0.16)")  # the same chain on every machine
            cursor.execute("SELECT min(id) FROM fleet_device")
            first_device = cursor.fetchone()[0]
            cursor.execute("SELECT min(id) FROM fleet_product")
            first_product = cursor.fetchone()[0]
            cursor.execute(
                "SELECT indexdef, indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'fleet_sale'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'fleet_sale'::regclass)"
            )
            indexes = cursor.fetchall()
            for _, name in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            # Foreign keys were just satisfied by construction; skip their per-row triggers for the bulk load.
            cursor.execute("SET LOCAL session_replication_role = replica")
            # Device g·7919 mod 2000 (every device alike), slot ⌊g / 2000⌋ mod 10 of it (so each device's sales
            # spread over its ten slots) and that slot's product; a loyalty card on LOYALTY_SHARE of the sales.
            cursor.execute(
                """
                INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                        transactions, payment_method, source, ingested_at, customer_id)
                SELECT 'b' || g, t, %(d0)s + dev, %(p0)s + (dev * 7 + slot * 53) %% %(products)s, 'A' || slot,
                       q, (q * (1 + (g %% 9) * 0.25))::numeric(14, 4), 1, CASE WHEN g %% 4 = 0 THEN 'cash' ELSE 'card' END,
                       'telemetry', t + interval '1 minute',
                       CASE WHEN random() < %(loyalty)s THEN %(c0)s + floor(random() * %(customers)s)::int END
                FROM (
                    -- in time order with a little jitter, as ingestion writes them
                    SELECT g, now() - interval '10 minutes'
                              - ((%(n)s - g) * %(span)s::float8 / %(n)s + 60 * random()) * interval '1 second' AS t,
                           1 + (g %% 3) AS q, (g * 7919) %% %(devices)s AS dev, (g / %(devices)s) %% %(slots)s AS slot
                    FROM generate_series(1::bigint, %(n)s) AS g
                ) AS s
                """,
                {"d0": first_device, "p0": first_product, "devices": DEVICES, "products": PRODUCTS, "n": sales,
                 "span": days * 86400, "slots": SLOTS, "loyalty": LOYALTY_SHARE, "c0": first_customer,
                 "customers": customers},
            )
            cursor.execute("SET LOCAL session_replication_role = origin")
            for definition, _ in indexes:
                cursor.execute(definition)
        with transaction.atomic(), connection.cursor() as cursor:
            _operations(cursor, days=days, first_device=first_device, first_product=first_product)
        with connection.cursor() as cursor:
            # VACUUM too: the visibility map makes index-only scans possible, and the hint bits are then set once
            # here instead of by the first timed reads.
            for table in ("fleet_sale", "fleet_customer", "fleet_planogramslot", "routes_routerun", "routes_servicevisit",
                          "routes_slotfill"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return chain


def _has_operations() -> bool:
    """The chain was made with planograms, routes and customers (older bench chains had only sales)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM fleet_planogramslot) AND EXISTS (SELECT 1 FROM routes_slotfill)")
        return bool(cursor.fetchone()[0])


def _operations(cursor: Any, *, days: int, first_device: int, first_product: int) -> None:
    """Planograms, routes, runs, service visits and slot fills in proportion to the devices, as the demo seeds them.

    Every device has SLOTS slots of SLOT_CAPACITY (the product its sales carry); ROUTES routes of 20 stops, each run
    every RUN_EVERY_DAYS days over the history (about 13,000 runs, 270,000 visits at 400 days); a run starts at
    07:00–07:59 local time and takes 6–22 minutes a stop; 96 % of the visits are completed, and a completed one fills
    every slot of the machine to capacity (2.6M fills). Cash collected = the machine's cash sales since its previous
    completed visit, computed from the sales (so a visit's money is consistent with them).
    """
    started = time.perf_counter()
    cursor.execute(
        """
        INSERT INTO fleet_planogramslot (device_id, slot_code, product_id, capacity, par_level, price, valid_from)
        SELECT %(d0)s + dev, 'A' || slot, %(p0)s + (dev * 7 + slot * 53) %% %(products)s, %(capacity)s,
               %(capacity)s / 2, 2.50, now() - (%(days)s + 2) * interval '1 day'
        FROM generate_series(0, %(devices)s - 1) AS dev, generate_series(0, %(slots)s - 1) AS slot
        """,
        {"d0": first_device, "p0": first_product, "products": PRODUCTS, "capacity": SLOT_CAPACITY, "days": days,
         "devices": DEVICES, "slots": SLOTS},
    )
    cursor.execute("INSERT INTO routes_driver (code, name, active) SELECT 'DR' || g, 'Driver ' || lpad(g::text, 2, '0'), true"
                   " FROM generate_series(1, %s) AS g", [DRIVERS])
    cursor.execute(
        "INSERT INTO routes_route (code, name, driver_id) SELECT 'R' || lpad(g::text, 3, '0'), 'Route ' || g,"
        " (SELECT min(id) FROM routes_driver) + g %% %s FROM generate_series(0, %s - 1) AS g",
        [DRIVERS, ROUTES],
    )
    cursor.execute(
        "INSERT INTO routes_routestop (route_id, device_id, position)"
        " SELECT (SELECT min(id) FROM routes_route) + dev %% %(routes)s, %(d0)s + dev, dev / %(routes)s + 1"
        " FROM generate_series(0, %(devices)s - 1) AS dev",
        {"routes": ROUTES, "d0": first_device, "devices": DEVICES},
    )
    # Runs: every third local day per route (offset by route), the last `days` days; today's and later ones planned.
    cursor.execute(
        """
        INSERT INTO routes_routerun (route_id, driver_id, scheduled_for, started_at, finished_at, stops_planned)
        SELECT r.id, r.driver_id, day,
               CASE WHEN day < today THEN (day + time '07:00' + (r.id %% 60) * interval '1 minute') AT TIME ZONE %(tz)s END,
               CASE WHEN day < today THEN (day + time '07:00' + (r.id %% 60 + 20 * (14 + r.id %% 5)) * interval '1 minute')
                                          AT TIME ZONE %(tz)s END,
               (SELECT count(*) FROM routes_routestop s WHERE s.route_id = r.id)
        FROM routes_route r,
             (SELECT (now() AT TIME ZONE %(tz)s)::date AS today) t,
             generate_series(t.today - %(days)s, t.today + %(every)s, interval '1 day') AS g(dayts),
             LATERAL (SELECT g.dayts::date AS day) d
        WHERE (day - date '2000-01-01' + r.id) %% %(every)s = 0
        """,
        {"tz": TIME_ZONE, "days": days, "every": RUN_EVERY_DAYS},
    )
    cursor.execute(
        """
        INSERT INTO routes_servicevisit (route_run_id, device_id, visited_at, completed, cash_collected, notes)
        SELECT run.id, s.device_id, run.started_at + s.position * (14 + run.route_id % 5) * interval '1 minute',
               (hashint8(run.id * 31 + s.position) % 25) <> 0, 0, ''
        FROM routes_routerun run JOIN routes_routestop s ON s.route_id = run.route_id
        WHERE run.started_at IS NOT NULL AND run.started_at < now() - interval '4 hours'
        """
    )
    cursor.execute(
        """
        UPDATE routes_servicevisit v SET cash_collected = c.cash
        FROM (
            SELECT x.id, COALESCE((SELECT SUM(s.amount) FROM fleet_sale s
                                   WHERE s.device_id = x.device_id AND s.payment_method = 'cash'
                                     AND s.sold_at > x.previous_at AND s.sold_at <= x.visited_at), 0) AS cash
            FROM (SELECT id, device_id, visited_at,
                         LAG(visited_at) OVER (PARTITION BY device_id ORDER BY visited_at, id) AS previous_at
                  FROM routes_servicevisit WHERE completed) x
            WHERE x.previous_at IS NOT NULL
        ) c
        WHERE v.id = c.id
        """
    )
    cursor.execute(
        """
        INSERT INTO routes_slotfill (visit_id, slot_id, units_added, level_after)
        SELECT v.id, ps.id, 1 + abs(hashint8(v.id * 16 + ps.id) %% %(capacity)s),
               ps.capacity
        FROM routes_servicevisit v JOIN fleet_planogramslot ps ON ps.device_id = v.device_id
        WHERE v.completed
        """,
        {"capacity": SLOT_CAPACITY},
    )
    cursor.execute(
        "UPDATE fleet_customer c SET first_seen = f.first FROM (SELECT customer_id, min(sold_at) AS first FROM fleet_sale"
        " WHERE customer_id IS NOT NULL GROUP BY customer_id) f WHERE f.customer_id = c.id"
    )
    cursor.execute("SELECT (SELECT count(*) FROM routes_routerun), (SELECT count(*) FROM routes_servicevisit),"
                   " (SELECT count(*) FROM routes_slotfill), (SELECT count(*) FROM fleet_customer)")
    runs, visits, fills, customers = cursor.fetchone()
    print(f"  operations: {runs:,} route runs, {visits:,} visits, {fills:,} slot fills, {customers:,} customers "
          f"({time.perf_counter() - started:.0f} s)", flush=True)


def _catalog(cursor: Any) -> None:
    cursor.execute(
        "INSERT INTO fleet_location (code, name, address, city, region, country, venue_type)"
        " SELECT 'L' || g, 'Location ' || g, '', 'City ' || (g %% 40), 'Region ' || (g %% 8), 'SE', 'office'"
        " FROM generate_series(1, %s) AS g",
        [LOCATIONS],
    )
    cursor.execute("INSERT INTO fleet_devicetype (name) SELECT 'Type ' || g FROM generate_series(1, %s) AS g", [DEVICE_TYPES])
    cursor.execute("INSERT INTO fleet_category (name) SELECT 'Category ' || g FROM generate_series(1, %s) AS g", [CATEGORIES])
    cursor.execute(
        "INSERT INTO fleet_device (asset, location_id, device_type_id, cooler)"
        " SELECT 'D' || lpad(g::text, 5, '0'), (SELECT min(id) FROM fleet_location) + g %% %s,"
        " (SELECT min(id) FROM fleet_devicetype) + g %% %s, false FROM generate_series(1, %s) AS g",
        [LOCATIONS, DEVICE_TYPES, DEVICES],
    )
    cursor.execute(
        "INSERT INTO fleet_product (sku, name, category_id, price, cost)"
        " SELECT 'P' || lpad(g::text, 4, '0'), 'Product ' || g, (SELECT min(id) FROM fleet_category) + g %% %s, 2.50, 1.00"
        " FROM generate_series(1, %s) AS g",
        [CATEGORIES, PRODUCTS],
    )


def _paired_medians(first: Callable[[], Any], second: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median ms of two calls measured alternately, so both see the same machine load (others share it)."""
    first()
    second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        for fn, samples in ((first, a), (second, b)):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(a), statistics.median(b)


def _block_medians(
    fast: Callable[[], Any], slow: Callable[[], Any], rounds: int = 3, fast_per_round: int = 9
) -> tuple[float, float]:
    """Median ms of a fast and a slow call, in rounds of one slow call then `fast_per_round` fast ones, so
    both see the same machine load. Not strictly alternating: a 2-second scan of raw rows fills the CPU
    caches and shared buffers with sales pages, and timing every dashboard call right after one measures
    that eviction more than the dashboard (about 29 ms instead of 18 at 10M); one call in each round
    still comes right after it."""
    fast()
    slow()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for fn, samples, times in ((slow, b, 1), (fast, a, fast_per_round)):
            for _ in range(times):
                started = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(a), statistics.median(b)


def _client(chain: Any) -> Any:
    from django.test import Client

    from chains.services import chain_user_create

    created = chain_user_create(chain=chain, username=f"{chain.schema_name}-rollup-bench", email="bench@example.com",
                                role="viewer", with_token=True)
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    domain = chain.domains.get(is_primary=True).domain
    return Client(HTTP_HOST=domain, HTTP_AUTHORIZATION=f"Token {created.token}")


def _no_bucket_cache() -> Any:
    """Every read recomputes the bucket sums (the first request after a rollup job)."""
    from analytics.query.cache import BUCKETS

    return BUCKETS.disabled()


def _dashboard_http(chain: Any, *, cold: bool = False) -> Callable[[], None]:
    client = _client(chain)

    def call() -> None:
        if cold:
            with _no_bucket_cache():
                response = client.get("/api/analytics/dashboard/")
        else:
            response = client.get("/api/analytics/dashboard/")
        assert response.status_code == 200, response.content[:300]

    return call


_COMPARED_AT: dict[str, Any] = {}


def _dashboard_selector(schema: str, *, raw: bool, cold: bool = False) -> Callable[[], Any]:
    from unittest import mock

    from analytics.dashboard import dashboard
    from analytics.filters import NO_FILTERS
    from analytics.params import DEFAULT_DAYS
    from analytics.periods import Period
    from analytics.query import local_today

    def call() -> Any:
        with schema_context(schema):
            period = Period.last_days(DEFAULT_DAYS, local_today())
            # One instant for every answer compared: the run rate counts today's elapsed time.
            now = _COMPARED_AT.setdefault("now", timezone.now())
            if raw:  # the same answer straight from the raw rows: no watermark, so every question goes to raw SQL
                with mock.patch("analytics.query.watermark", return_value=None):
                    return dashboard(period=period, filters=NO_FILTERS, now=now)
            if cold:
                with _no_bucket_cache():
                    return dashboard(period=period, filters=NO_FILTERS, now=now)
            return dashboard(period=period, filters=NO_FILTERS, now=now)

    return call


def _add_recent_sales(schema: str, count: int) -> None:
    """`count` sales in the last hour, as a busy chain's telemetry would push them."""
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT min(id), count(*) FROM fleet_device")
        d0, devices = cursor.fetchone()
        cursor.execute("SELECT min(id), count(*) FROM fleet_product")
        p0, products = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                    transactions, payment_method, source, ingested_at)
            SELECT 'h' || md5(random()::text || g), now() - random() * interval '55 minutes',
                   %(d0)s + g %% %(devices)s, %(p0)s + (g * 31) %% %(products)s, '', 1, 2.5, 1, 'card', 'telemetry', now()
            FROM generate_series(1, %(n)s) AS g
            """,
            {"d0": d0, "devices": devices, "p0": p0, "products": products, "n": count},
        )


def _quiet_database(limit_s: float = 120) -> None:
    """Wait until no autovacuum worker runs (the import bench before this one leaves a million fresh rows
    behind): on two cores one would take a core from the timed runs."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(1)
    waited = time.perf_counter() - started
    if waited >= 1:
        print(f"  (waited {waited:.0f} s for autovacuum to finish)")


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _bare_group_by_seconds(schema: str) -> float:
    """The baseline: one plain GROUP BY (local day, device) with the three sums over every sale, no writes."""
    with schema_context(schema), connection.cursor() as cursor:
        return _timed(lambda: cursor.execute(
            "SELECT count(*) FROM (SELECT (sold_at AT TIME ZONE %s)::date, device_id, SUM(amount), SUM(quantity),"
            " SUM(transactions) FROM fleet_sale GROUP BY 1, 2) AS x", [TIME_ZONE]))


def _rebuild_vs_baseline(schema: str, rounds: int = 3) -> tuple[float, float, Any]:
    """Median seconds of the full rebuild and of the bare GROUP BY, measured alternately (same load)."""
    from analytics.rollups.services import rollup_rebuild_all_at_once

    rebuilds: list[float] = []
    baselines: list[float] = []
    last = None
    for _ in range(rounds):
        with schema_context(schema):
            last = rollup_rebuild_all_at_once()
        rebuilds.append(last.seconds)
        baselines.append(_bare_group_by_seconds(schema))
    return statistics.median(rebuilds), statistics.median(baselines), last


def run() -> None:
    from analytics.rollups.services import rollup_hourly

    chains = {schema: ensure_bench_chain(schema, sales, days) for schema, (sales, days) in CHAINS.items()}
    print(f"catalog per chain: {DEVICES:,} devices at {LOCATIONS} locations, {PRODUCTS} products; zone {TIME_ZONE}")
    _quiet_database()

    # 1. Full rebuild of 10M sales (also the first build on a fresh machine) against a bare GROUP BY of the same rows,
    #    alternately, so both see the same load.
    rebuild_s, plain_s, rebuild = _rebuild_vs_baseline("bench_10m")
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in rebuild.stages.items())
    ratios: dict[str, str] = {}
    ratios["full rebuild / bare GROUP BY (goal <= 1.5)"] = f"{rebuild_s / plain_s:.2f}"
    print(f"full rebuild at 10M: median {rebuild_s:.1f} s (last run: {stages}; {rebuild.changed_rows:,} buckets)")
    print(f"  vs bare GROUP BY (local day, device) over the 10M rows: median {plain_s:.1f} s -> ratio "
          f"{rebuild_s / plain_s:.2f} (goal <= 1.5)")
    for schema in chains:
        with schema_context(schema):
            rollup_hourly()  # every chain up to now

    # 2. Dashboard latency through the HTTP stack, default range (last 30 days + the 30 before), 10M vs 10k:
    #    warm (bucket sums cached for the current rollup version, live delta computed) and cold (no cache).
    for label, cold in (("warm", False), ("cold", True)):
        big, small = _paired_medians(
            _dashboard_http(chains["bench_10m"], cold=cold), _dashboard_http(chains["bench_10k"], cold=cold), repeat=25
        )
        print(f"dashboard median (HTTP, {label}): 10M {big:.1f} ms, 10k {small:.1f} ms, ratio {big / small:.2f} "
              f"(goal <= 1.5)")
        ratios[f"dashboard 10M / 10k, {label} (goal <= 1.5)"] = f"{big / small:.2f}"

    # 3. The same dashboard answer straight from the raw rows in PostgreSQL.
    answer = _dashboard_selector("bench_10m", raw=False)()
    assert answer == _dashboard_selector("bench_10m", raw=True)() == _dashboard_selector("bench_10m", raw=False, cold=True)()
    for label, cold in (("warm", False), ("cold", True)):
        with_rollups, from_raw = _block_medians(
            _dashboard_selector("bench_10m", raw=False, cold=cold), _dashboard_selector("bench_10m", raw=True)
        )
        print(f"dashboard at 10M (selector, {label}): rollups {with_rollups:.1f} ms, raw rows {from_raw:.0f} ms, "
              f"rollups {from_raw / with_rollups:.0f}x faster (goal >= 100x); answers identical")
        ratios[f"raw rows / dashboard at 10M, {label} (goal >= 100)"] = f"{from_raw / with_rollups:.0f}x"

    # 4. The hourly job, each time after an hour of new sales at the big chain's rate (~25k a day).
    hourly: dict[str, list[float]] = {"bench_10m": [], "bench_100k": []}
    for _ in range(9):
        for schema, samples in hourly.items():
            _add_recent_sales(schema, 1000)
            with schema_context(schema):
                samples.append(rollup_hourly().seconds * 1000)
    big_hourly, small_hourly = statistics.median(hourly["bench_10m"]), statistics.median(hourly["bench_100k"])
    print(f"hourly job (after 1,000 new sales): 10M {big_hourly:.0f} ms, 100k {small_hourly:.0f} ms, "
          f"ratio {big_hourly / small_hourly:.2f} (goal <= 1.5)")
    ratios["hourly job 10M / 100k (goal <= 1.5)"] = f"{big_hourly / small_hourly:.2f}"
    print("ratios side by side:")
    for name, value in ratios.items():
        print(f"  {name:<48} {value:>7}")
