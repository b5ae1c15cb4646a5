"""The one-pass sales import (fleet.services.sales._fast_insert_sales) stores exactly what the detailed path stores.

Every file here is imported twice, once through the one-pass INSERT and once with it switched off (the
detailed validation and insert), and the stored sales and customers must be identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from fleet.models import Customer, Device, Product, Sale
from fleet.services import sales as sales_service
from fleet.services.sales import sales_import, sales_push
from ingest import staging
from ingest.files import csv_unpadded
from tests.fleet.conftest import Catalog

HEADER = "transaction_id,sold_at,device,product,quantity,amount,payment_method,customer,slot"


def csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    sales = sorted(
        Sale.objects.values_list(
            "external_id", "sold_at", "device__asset", "product__sku", "slot_code", "quantity", "amount",
            "transactions", "payment_method", "customer__external_ref", "source", "dex_read_id",
        )
    )
    customers = sorted(Customer.objects.values_list("external_ref", "first_seen"))
    return sales, customers


def clear() -> None:
    Sale.objects.all().delete()
    Customer.objects.all().delete()


@pytest.fixture
def one_pass_off(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    def switch(off: bool) -> None:
        if off:
            def refuse(source: str) -> staging.FastInsert:
                def fast(cursor: Any, staged: staging.Staged) -> staging.Written:
                    raise DatabaseError("one-pass import switched off for the comparison")

                return fast

            monkeypatch.setattr(sales_service, "_fast_insert_sales", refuse)
        else:
            monkeypatch.undo()

    return switch


@pytest.fixture
def detailed_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = staging.stage_errors

    def spy(*args: Any, **kwargs: Any) -> None:
        calls.append("stage_errors")
        original(*args, **kwargs)

    monkeypatch.setattr(staging, "stage_errors", spy)
    return calls


FILES = {
    "clean": csv(
        "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,card,c1,1",
        "t2,2026-03-01T23:59:59.5-05:00,D-002,CHIPS,1,1.0000,,c1,",
        "t3,2026-02-28T08:00:00Z,D-001,WATER,3,3.60,CASH,c2,3",
        "t4,2026-02-27 08:00:00+0200,D-002,WATER,10,0,Other,,A12",
        't5,2026-02-27T09:00:00+00:00,D-002,WATER,1,0.5,"",c2,""',
    ),
    "padded": csv(
        " t1 ,2026-03-01T12:30:00+01:00, D-001,COLA ,2,3.00, card ,c1 , 1",
        "t2, 2026-03-01T23:59:59.5-05:00 ,D-002,CHIPS, 1 , 1.0000 ,,  c1,",
        "t3,2026-02-28T08:00:00Z,D-001,WATER,3,3.60,CASH,c2,3",
    ),
    "padded text, plain numbers": csv(
        " p1 ,2026-03-01T12:30:00+01:00, D-001,COLA ,2,3.00, card ,c1 , 1",
        "p2,2026-03-01T12:31:00+01:00,D-002 , CHIPS,1,1.00,,  c1,",
        'p3,2026-03-01T12:32:00+01:00,D-002,CHIPS,1,1.00," CASH","c4 "," "',
    ),
    "numbers written oddly": csv(
        "t1,2026-03-01T12:30:00+01:00,D-001,COLA,+2,03.00,card,,1",
        "t2,2026-03-01T12:31:00+01:00,D-001,COLA,02,.5,card,,1",
        "t3,2026-03-01T12:32:00+01:00,D-001,COLA,2,3.,card,,1",
    ),
    "identical repeat": csv(
        "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,card,c1,1",
        "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,card,c1,1",
        "t2,2026-03-01T12:31:00+01:00,D-002,CHIPS,1,1.00,,c3,",
    ),
}


@pytest.mark.parametrize("name", list(FILES))
def test_one_pass_stores_exactly_what_the_detailed_path_stores(
    catalog: Catalog, one_pass_off: Callable[[bool], None], name: str
) -> None:
    data = FILES[name]
    one_pass = sales_import(data=data, file_name="f.csv").as_dict()
    stored_one_pass = snapshot()
    clear()
    one_pass_off(True)
    detailed = sales_import(data=data, file_name="f.csv").as_dict()
    assert one_pass == detailed
    assert stored_one_pass == snapshot()
    assert not detailed["errors"], detailed


def test_a_clean_file_is_written_in_one_pass_and_a_bad_one_validated_in_detail(
    catalog: Catalog, detailed_path_calls: list[str]
) -> None:
    assert sales_import(data=FILES["clean"], file_name="f.csv").created == 5
    # Padded text is trimmed in the one pass too (only the numbers and times must be written plainly).
    assert sales_import(data=FILES["padded text, plain numbers"], file_name="p.csv").created == 3
    assert detailed_path_calls == []
    assert Sale.objects.get(external_id="p1").device.asset == "D-001"
    bad = sales_import(data=csv("t9,2026-03-01T12:30:00+01:00,D-001,COLA,-1,1.50,,,"), file_name="b.csv")
    assert [(e["row"], e["column"]) for e in bad.errors] == [(1, "quantity")]
    assert detailed_path_calls == ["stage_errors"]


def test_reimport_into_a_filled_table_counts_duplicates_and_adds_the_new_rows(
    catalog: Catalog, one_pass_off: Callable[[bool], None]
) -> None:
    first = csv("t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,card,c1,1")
    second = csv(
        "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,card,c1,1",
        "t2,2026-02-01T12:30:00+01:00,D-002,CHIPS,1,1.00,,c1,",
    )
    results = []
    for off in (False, True):
        clear()
        one_pass_off(off)
        sales_import(data=first, file_name="a.csv")
        report = sales_import(data=second, file_name="b.csv")
        results.append(((report.rows, report.created, report.duplicates), snapshot()))
    assert results[0] == results[1]
    assert results[0][0] == (2, 1, 1)
    # c1's first sale moved earlier with the second file.
    assert dict(results[0][1][1])["c1"].isoformat() == "2026-02-01T11:30:00+00:00"


def test_a_stored_id_repeated_with_other_content_in_a_file_is_an_error(catalog: Catalog) -> None:
    sales_import(data=csv("t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,,,"), file_name="a.csv")
    before = snapshot()
    report = sales_import(
        data=csv("t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,,,", "t1,2026-03-01T12:30:00+01:00,D-001,COLA,5,9.00,,,"),
        file_name="b.csv",
    )
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "transaction_id")]
    assert snapshot() == before


def test_a_bad_row_that_repeats_a_stored_id_is_still_checked(catalog: Catalog) -> None:
    sales_import(data=csv("t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,,,"), file_name="a.csv")
    report = sales_import(data=csv("t1,2026-03-01T12:30:00+01:00,D-404,COLA,2,3.00,,,"), file_name="b.csv")
    assert [(e["row"], e["column"]) for e in report.errors] == [(1, "device")]


def test_bulk_mode_reserves_ids_and_leaves_the_sequence_ahead(catalog: Catalog, settings: object) -> None:
    settings.CVD_BULK_REBUILD_MIN_ROWS = 2  # type: ignore[attr-defined]
    rows = [f"b{i},2026-03-01T12:{i:02d}:00+01:00,D-001,COLA,1,1.50,,c{i % 3},{i}" for i in range(40)]
    report = sales_import(data=csv(*rows), file_name="bulk.csv")
    assert (report.created, report.duplicates) == (40, 0)
    ids = sorted(Sale.objects.values_list("id", flat=True))
    assert len(set(ids)) == 40 and ids[-1] - ids[0] == 39
    later = sales_push(rows=[{
        "transaction_id": "p1", "sold_at": "2026-03-02T12:30:00+01:00", "device": "D-001", "product": "COLA",
        "quantity": 1, "amount": "1.50",
    }])
    assert later.created == 1
    assert Sale.objects.get(external_id="p1").id > ids[-1]
    assert Sale.objects.get(external_id="b7").slot_code == "7"
    assert Sale.objects.filter(external_id="b7").values_list("customer__external_ref", flat=True).get() == "c1"


def test_the_reference_guard_refuses_a_big_statement_with_a_missing_device(catalog: Catalog) -> None:
    device, product = Device.objects.get(asset="D-001"), Product.objects.get(sku="COLA")
    for rows in (5, 10_001):  # the join form and the one-scan form
        with (
            pytest.raises(DatabaseError, match=r"references a missing device -1"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                """
                INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                        transactions, payment_method, source, ingested_at)
                SELECT 'g' || i, now(), CASE WHEN i = %s THEN -1 ELSE %s END, %s, '', 1, 1, 1, '', 'import', now()
                FROM generate_series(1, %s) i
                """,
                [rows, device.id, product.id, rows],
            )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                    transactions, payment_method, source, ingested_at)
            SELECT 'g' || i, now(), %s, %s, '', 1, 1, 1, '', 'import', now() FROM generate_series(1, 10001) i
            """,
            [device.id, product.id],
        )
    assert Sale.objects.count() == 10_001


@pytest.mark.parametrize(
    ("body", "unpadded"),
    [
        (b"a,b\n", True), (b"a b,c\r\n", True), (b"", True),
        (b" a,b\n", False), (b"a ,b\n", False), (b"a, b\n", False), (b"a,b \n", False), (b"a,b \r\n", False),
        (b'a," b"\n', False), (b'a,"b "\n', False), (b"a,b ", False), (b"x\n c", False),
    ],
)
def test_csv_unpadded_never_calls_a_padded_cell_clean(body: bytes, unpadded: bool) -> None:
    assert csv_unpadded(body) is unpadded


def test_row_numbers_stay_file_order_past_the_staging_sequence_cache(catalog: Catalog) -> None:
    rows = [f"n{i},2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,,," for i in range(1, 2601)]
    rows[2500] = "n2501,2026-03-01T12:30:00+01:00,D-001,COLA,0,1.50,,,"
    report = sales_import(data=csv(*rows), file_name="long.csv")
    assert [(e["row"], e["column"]) for e in report.errors] == [(2501, "quantity")]


def _sale_relfilenode() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_filenode('fleet_sale')")
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize("padded", [False, True])  # the one-pass path, the detailed path
def test_a_first_bulk_load_truncates_the_empty_table_and_a_later_one_keeps_its_rows(
    catalog: Catalog, settings: object, padded: bool
) -> None:
    settings.CVD_BULK_REBUILD_MIN_ROWS = 2  # type: ignore[attr-defined]
    pad = " " if padded else ""
    rows = [f"b{i},2026-03-01T12:{i:02d}:00+01:00,D-001,COLA,1,1.50,,{pad}c{i % 3},{i}" for i in range(40)]
    empty = _sale_relfilenode()
    report = sales_import(data=csv(*rows), file_name="bulk.csv")
    assert (report.created, report.duplicates, report.errors) == (40, 0, [])
    assert _sale_relfilenode() != empty, "a new relation file: with wal_level=minimal its rows skip WAL"
    # A table with rows is never truncated: a bigger file in bulk mode adds to them.
    filled = _sale_relfilenode()
    more = [f"m{i},2026-03-02T12:{i % 60:02d}:00+01:00,D-002,CHIPS,1,1.00,,,{pad}" for i in range(100)]
    report = sales_import(data=csv(*more), file_name="more.csv")
    assert (report.created, report.duplicates) == (100, 0)
    assert Sale.objects.count() == 140 and _sale_relfilenode() == filled


def test_a_rejected_first_bulk_load_leaves_the_empty_table_as_it_was(catalog: Catalog, settings: object) -> None:
    settings.CVD_BULK_REBUILD_MIN_ROWS = 2  # type: ignore[attr-defined]
    rows = [f"b{i},2026-03-01T12:{i:02d}:00+01:00,D-001,COLA,1,1.50,,,{i}" for i in range(40)]
    rows[30] = "b30,2026-03-01T12:30:00+01:00,D-404,COLA,1,1.50,,,30"
    empty = _sale_relfilenode()
    report = sales_import(data=csv(*rows), file_name="bulk.csv")
    assert [(e["row"], e["column"]) for e in report.errors] == [(31, "device")]
    assert not Sale.objects.exists() and _sale_relfilenode() == empty


def test_no_truncate_when_a_foreign_key_points_at_the_sales(catalog: Catalog, settings: object) -> None:
    settings.CVD_BULK_REBUILD_MIN_ROWS = 2  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_sale_note (sale_id bigint REFERENCES fleet_sale (id))")
    empty = _sale_relfilenode()
    rows = [f"b{i},2026-03-01T12:{i:02d}:00+01:00,D-001,COLA,1,1.50,,,{i}" for i in range(40)]
    report = sales_import(data=csv(*rows), file_name="bulk.csv")
    assert (report.created, report.duplicates) == (40, 0)
    assert _sale_relfilenode() == empty
