"""Ingestion benchmark: bulk COPY import of a 1,000,000-row sales CSV beside django-import-export, and DEX reads/s.

Runs in its own chain `bench_ingest` (created on first use, its sales emptied before each run), so the
figures do not depend on other benchmarks' data. The 1,000,000 rows go over 200 devices, 100 products
and 50,000 customers (a third of the rows name one), like a mid-size operator's quarter.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django_tenants.utils import tenant_context

SCHEMA = "bench_ingest"
ROWS = 1_000_000
SAMPLE_ROWS = 10_000
DEVICES = 200
PRODUCTS = 100
CUSTOMERS = 50_000
DEX_ROUNDS = 10
BULK_ROUNDS = 3  # the machine is shared: the bulk import is timed this many times, medians printed
SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "dex"  # shipped with the repository


def _chain() -> Any:
    from chains.models import Chain
    from chains.services import chain_create

    chain = Chain.objects.filter(schema_name=SCHEMA).first()
    if chain is None:
        chain = chain_create(schema=SCHEMA, name="Bench ingest", domain="bench-ingest.localhost", time_zone="Europe/Stockholm")
    return chain


def _reset_and_catalog() -> None:
    from fleet.models import Device, Location, Product

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE fleet_sale, fleet_dexread, fleet_customer RESTART IDENTITY CASCADE")
    if Device.objects.filter(asset__startswith="B-").count() < DEVICES:
        location, _ = Location.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
        Device.objects.bulk_create(
            [Device(asset=f"B-{i:04d}", location=location) for i in range(DEVICES)], ignore_conflicts=True
        )
        Product.objects.bulk_create(
            [Product(sku=f"P-{i:04d}", name=f"Product {i}", price=Decimal("1.50")) for i in range(PRODUCTS)],
            ignore_conflicts=True,
        )


def _sales_csv(rows: int, prefix: str = "tx") -> bytes:
    rng = random.Random(42)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = ["transaction_id,sold_at,device,product,quantity,amount,payment_method,customer,slot"]
    methods = ("cash", "card", "mobile", "")
    for i in range(rows):
        at = start + timedelta(seconds=i * 7)
        quantity = rng.randint(1, 3)
        customer = f"C{rng.randrange(CUSTOMERS)}" if i % 3 == 0 else ""
        lines.append(
            f"{prefix}{i},{at:%Y-%m-%dT%H:%M:%S}+00:00,B-{rng.randrange(DEVICES):04d},P-{rng.randrange(PRODUCTS):04d},"
            f"{quantity},{quantity * 1.5:.2f},{methods[i % 4]},{customer},{rng.randint(1, 40)}"
        )
    return ("\n".join(lines) + "\n").encode()


PHASES = (
    "file read, COPY into staging",
    "customers (one upsert)",
    "sales INSERT (checks, ids, reference guard)",
    "index rebuild (bulk mode)",
    "detailed validation (bad or padded files only)",
    "other statements",
    "commit (syncs what skipped WAL: wal_level=minimal)",
)


def _phase(sql: str) -> str:
    text = " ".join(sql.split())
    if text.startswith("INSERT INTO fleet_customer"):
        return PHASES[1]
    if text.startswith("INSERT INTO fleet_sale"):
        return PHASES[2]
    if text.startswith(("CREATE INDEX", "ALTER TABLE fleet_sale ADD CONSTRAINT")):
        return PHASES[3]
    if text.startswith("SELECT s.row_no, e.ord") or text.startswith("ANALYZE"):
        return PHASES[4]
    return PHASES[5]


def _timed_bulk_import(data: bytes) -> tuple[float, dict[str, float]]:
    """The whole sales_import service (file bytes in, committed), with the time of each phase.

    Statements are timed through Django's execute wrapper, the commit on its own; what neither accounts
    for is reading the file in Python and the COPY (psycopg's copy protocol).
    """
    from fleet.services.sales import sales_import

    phases = dict.fromkeys(PHASES, 0.0)

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            phases[_phase(sql)] += time.perf_counter() - started

    _reset_and_catalog()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # every round starts with the same WAL state
    started = time.perf_counter()
    # The outer atomic makes the commit a step of its own (sales_import's own atomic becomes a savepoint).
    with transaction.atomic():
        with connection.execute_wrapper(timed):
            report = sales_import(data=data, file_name="bench-1m.csv")
        committing = time.perf_counter()
    seconds = time.perf_counter() - started
    assert report.created == ROWS, report.as_dict()
    phases[PHASES[6]] = seconds - (committing - started)
    phases[PHASES[0]] = seconds - sum(phases.values())
    return seconds, phases


def _import_export_rate(data: bytes) -> float:
    """django-import-export's import of the same format (a minimal resource defined here, for the bench)."""
    import tablib
    from import_export import fields, resources, widgets

    from fleet.models import Customer, Device, Product, Sale

    class SaleResource(resources.ModelResource):
        transaction_id = fields.Field(attribute="external_id", column_name="transaction_id")
        sold_at = fields.Field(attribute="sold_at", column_name="sold_at", widget=widgets.DateTimeWidget("%Y-%m-%dT%H:%M:%S%z"))
        device = fields.Field(attribute="device", column_name="device", widget=widgets.ForeignKeyWidget(Device, "asset"))
        product = fields.Field(attribute="product", column_name="product", widget=widgets.ForeignKeyWidget(Product, "sku"))
        customer = fields.Field(attribute="customer", column_name="customer", widget=widgets.ForeignKeyWidget(Customer, "external_ref"))
        slot = fields.Field(attribute="slot_code", column_name="slot")

        class Meta:
            model = Sale
            import_id_fields = ("transaction_id",)
            fields = ("transaction_id", "sold_at", "device", "product", "quantity", "amount", "payment_method", "customer", "slot")
            skip_unchanged = True
            use_bulk = False

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            row["customer"] = None  # customers are created by the COPY path; keep the comparison about sales
            row["sold_at"] = row["sold_at"].replace("+00:00", "+0000")

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            instance.source = Sale.Source.IMPORT

    dataset = tablib.Dataset().load(data.decode(), format="csv")
    started = time.perf_counter()
    with transaction.atomic():
        result = SaleResource().import_data(dataset, dry_run=False, raise_errors=True, use_transactions=False)
    elapsed = time.perf_counter() - started
    assert not result.has_errors() and result.totals["new"] == len(dataset), result.totals
    return len(dataset) / elapsed


def _dex_variant(text: str, round_no: int) -> bytes:
    """A later read of the same machine: every PA2 counter moved on by `round_no` vends (and 100× value)."""
    def bump(match: re.Match[str]) -> str:
        vends, value = int(match.group(1) or 0), int(match.group(2) or 0)
        return f"PA2*{vends + round_no}*{value + 100 * round_no}"

    return re.sub(r"PA2\*(\d*)\*(\d*)", bump, text).encode()


def _dex_rate() -> tuple[float, float, int]:
    from fleet.dex.parser import parse_dex
    from fleet.models import Device, Location
    from fleet.services.dex import dex_read_ingest

    location = Location.objects.get(code="BENCH")
    texts = [path.read_text(encoding="latin-1") for path in sorted(SAMPLES.glob("*.txt"))]
    for number, text in enumerate(texts):
        read = parse_dex(text)
        serial = read.serial or read.comm_id or ""
        Device.objects.get_or_create(serial=serial, defaults={"asset": f"DEX-{number}", "location": location})
    started = time.perf_counter()
    for _ in range(DEX_ROUNDS):
        for text in texts:
            parse_dex(text)
    parse_rate = DEX_ROUNDS * len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    sales = 0
    for round_no in range(DEX_ROUNDS):
        for text in texts:
            report = dex_read_ingest(data=_dex_variant(text, round_no), file_name=f"r{round_no}.txt")
            assert not report.rejected, report.as_dict()
            sales += report.sales_created
    ingest_rate = DEX_ROUNDS * len(texts) / (time.perf_counter() - started)
    return parse_rate, ingest_rate, sales


def run() -> None:
    import os

    from fleet.services.sales import sales_import

    chain = _chain()
    with tenant_context(chain):
        data = _sales_csv(ROWS)
        rounds = [_timed_bulk_import(data) for _ in range(BULK_ROUNDS)]
        bulk_seconds = statistics.median(seconds for seconds, _ in rounds)
        bulk_rate = ROWS / bulk_seconds
        started = time.perf_counter()
        again = sales_import(data=data, file_name="bench-1m.csv")
        reimport_seconds = time.perf_counter() - started
        assert again.created == 0 and again.duplicates == ROWS
        sample = _sales_csv(SAMPLE_ROWS, prefix="ie")
        ie_rate = _import_export_rate(sample)
        parse_rate, dex_rate, dex_sales = _dex_rate()
        with connection.cursor() as cursor:  # now, not by autovacuum in the middle of the next benchmark
            cursor.execute("VACUUM (ANALYZE) fleet_sale, fleet_customer")
    print(f"{'what':<52}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    print(f"{'COPY bulk import (fleet.services.sales), median':<52}{ROWS:>10}{bulk_seconds:>10.2f}{bulk_rate:>12,.0f}")
    print(f"{'  rounds: ' + ', '.join(f'{seconds:.2f}' for seconds, _ in rounds) + ' s':<52}")
    print(f"{'  same file again (all duplicates)':<52}{ROWS:>10}{reimport_seconds:>10.2f}{ROWS / reimport_seconds:>12,.0f}")
    print(f"{'django-import-export ModelResource (sample)':<52}{SAMPLE_ROWS:>10}{SAMPLE_ROWS / ie_rate:>10.2f}{ie_rate:>12,.0f}")
    print(f"{'  ratio COPY / import-export':<52}{'':>10}{'':>10}{bulk_rate / ie_rate:>11,.0f}x")
    print(f"{'DEX parse only (7 samples x ' + str(DEX_ROUNDS) + ')':<52}{7 * DEX_ROUNDS:>10}{'':>10}{parse_rate:>12,.0f}")
    print(f"{'DEX parse + ingest (7 samples x ' + str(DEX_ROUNDS) + f', {dex_sales} sales)':<52}{7 * DEX_ROUNDS:>10}{'':>10}{dex_rate:>12,.0f}")
    print(f"\nbulk import phases, median of {BULK_ROUNDS} rounds (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for phase in PHASES:
        print(f"  {phase:<50}{statistics.median(phases[phase] for _, phases in rounds):>10.2f} s")
