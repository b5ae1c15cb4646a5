"""Export benchmark: a 1,000,000-row raw sales CSV beside PostgreSQL's own COPY (SELECT …) TO STDOUT of the
same rows, with peak memory growth; the same rows as XLSX; the product-sales PDF for 500 products.

Runs in its own chain `bench_exports` (created and filled on first use: 1,000,000 sales over 200 devices
and 500 products, one every 7 seconds from 2026-01-01, i.e. 81 days: a sync export). Memory is the
process's resident set sampled every 10 ms, less what it held before the export started.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
from django.db import connection
from django_tenants.utils import tenant_context

SCHEMA = "bench_exports"
ROWS = 1_000_000
DEVICES = 200
PRODUCTS = 500
RANGE = {"start": "2026-01-01", "end": "2026-03-23"}
ROUNDS = 3  # CSV and COPY alternate this many times on a shared machine; medians printed


def _chain() -> Any:
    from chains.models import Chain
    from chains.services import chain_create

    chain = Chain.objects.filter(schema_name=SCHEMA).first()
    if chain is None:
        chain = chain_create(schema=SCHEMA, name="Bench exports", domain="bench-exports.localhost", time_zone="Europe/Stockholm")
    return chain


def _fill() -> None:
    from decimal import Decimal

    from fleet.models import Device, Location, Product

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM fleet_sale")
        if cursor.fetchone()[0] == ROWS:
            return
        cursor.execute("TRUNCATE fleet_sale, fleet_customer RESTART IDENTITY CASCADE")
    location, _ = Location.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    Device.objects.bulk_create([Device(asset=f"B-{i:04d}", location=location) for i in range(DEVICES)], ignore_conflicts=True)
    Product.objects.bulk_create(
        [Product(sku=f"P-{i:04d}", name=f"Product {i}", price=Decimal("1.50")) for i in range(PRODUCTS)],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                    transactions, payment_method, source, ingested_at)
            SELECT 'tx' || g, timestamptz '2026-01-01 00:00+00' + g * interval '7 seconds',
                   (SELECT min(id) FROM fleet_device) + ((g::bigint * 7919) %% %(devices)s)::int,
                   (SELECT min(id) FROM fleet_product) + ((g::bigint * 104729) %% %(products)s)::int,
                   ((g %% 40) + 1)::text, 1 + g %% 3, (1 + g %% 3) * 1.5, 1,
                   (ARRAY['cash', 'card', 'mobile', ''])[1 + g %% 4], 'telemetry', now() - interval '1 day'
            FROM generate_series(0, %(rows)s - 1) AS g
            """,
            {"devices": DEVICES, "products": PRODUCTS, "rows": ROWS},
        )
        cursor.execute("ANALYZE fleet_sale")
    from analytics.rollups.services import rollup_rebuild

    rollup_rebuild()


class _PeakRss:
    """The process's peak resident set above its level at the start, sampled every 10 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.base = self.process.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 1024 / 1024


def _timed(fn: Callable[[], int]) -> tuple[float, int, float]:
    with _PeakRss() as rss:
        started = time.perf_counter()
        produced = fn()
        seconds = time.perf_counter() - started
    return seconds, produced, rss.growth_mb


def run() -> None:
    chain = _chain()
    with tenant_context(chain):
        _fill()
        bench_csv(chain)
        bench_xlsx(chain)
        bench_pdf(chain)


def bench_csv(chain: Any) -> None:
    from reporting.exports import export_csv_stream, export_validate
    from reporting.raw import RAW_REPORTS

    spec = export_validate({"report": "sales", "format": "csv", **RANGE})
    sql, params = RAW_REPORTS["sales"].sql(spec.analytics.filters)
    starts_at, ends_at = spec.analytics.period.bounds(chain.tz)
    params.update(starts_at=starts_at, ends_at=ends_at, tz=chain.time_zone)

    def csv_export() -> int:
        size = 0
        for chunk in export_csv_stream(spec, chain):
            size += len(chunk)
        return size

    def copy_out() -> int:
        size = 0
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, false)", [chain.time_zone])  # as the export does
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params) as copy:
                for block in copy:
                    size += len(block)
            cursor.execute("SELECT set_config('TimeZone', 'UTC', false)")
        return size

    csv_runs, copy_runs = [], []
    for _ in range(ROUNDS):
        csv_runs.append(_timed(csv_export))
        copy_runs.append(_timed(copy_out))
    csv_s = statistics.median(r[0] for r in csv_runs)
    copy_s = statistics.median(r[0] for r in copy_runs)
    print(f"raw sales CSV, {ROWS:,} rows ({csv_runs[0][1] / 1e6:.0f} MB), median of {ROUNDS}:")
    print(f"  export (StreamingHttpResponse body)  {csv_s:6.2f} s  {ROWS / csv_s:>10,.0f} rows/s  "
          f"peak memory growth {max(r[2] for r in csv_runs):.0f} MB")
    print(f"  PostgreSQL COPY (SELECT …) TO STDOUT {copy_s:6.2f} s  {ROWS / copy_s:>10,.0f} rows/s  "
          f"peak memory growth {max(r[2] for r in copy_runs):.0f} MB")
    print(f"  export rate / COPY rate: {copy_s / csv_s:.2f} (goal ≥ 0.5)")


def bench_xlsx(chain: Any) -> None:
    from reporting.exports import export_validate, export_write

    xlsx = export_validate({"report": "sales", "format": "xlsx", **RANGE})

    def xlsx_export() -> int:
        with tempfile.TemporaryFile() as target:
            export_write(xlsx, chain, target)
            return target.tell()

    cpu = time.process_time()
    seconds, size, growth = _timed(xlsx_export)
    cpu = time.process_time() - cpu
    print(f"raw sales XLSX, {ROWS:,} rows ({size / 1e6:.0f} MB): {seconds:.1f} s, {ROWS / seconds:,.0f} rows/s "
          f"[{cpu:.1f} s CPU, {ROWS / cpu:,.0f} rows/s], peak memory growth {growth:.0f} MB")


def bench_pdf(chain: Any) -> None:
    from reporting.exports import export_validate, export_write

    pdf = export_validate({"report": "product-sales", "format": "pdf", "start": "2026-03-01", "end": "2026-03-23"})

    def pdf_export() -> int:
        with tempfile.TemporaryFile() as target:
            return export_write(pdf, chain, target)

    from analytics.reports import get_report

    started = time.perf_counter()
    get_report("product-sales").compute(pdf.analytics, pdf.values)
    computing = time.perf_counter() - started
    import weasyprint  # noqa: F401 - imported once a process (about 1 s of CPU), not part of a render

    cpu = time.process_time()
    seconds, products, growth = _timed(pdf_export)
    cpu = time.process_time() - cpu
    print(f"product-sales PDF, {products} products: {seconds:.1f} s [{cpu:.1f} s CPU] (goal < 5 s), peak memory growth "
          f"{growth:.0f} MB; the report's own answer (as the API computes it, just before) took {computing:.1f} s")
