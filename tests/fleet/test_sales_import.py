"""Sales imports (CSV, XLSX, JSON batches): exact rows, idempotence, and the bad-input matrix.

After every rejection nothing is stored: no sale, no customer, no dirty range.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from analytics.models import DirtyRange
from fleet.models import Customer, Sale
from fleet.services.sales import sales_import, sales_push
from tests.fleet.conftest import Catalog

HEADER = "transaction_id,sold_at,device,product,quantity,amount,payment_method,customer,slot"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def stored() -> tuple[int, int, int]:
    return Sale.objects.count(), Customer.objects.count(), DirtyRange.objects.count()


def test_a_valid_file_becomes_exactly_its_sales(catalog: Catalog) -> None:
    data = csv(
        "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,card,c1,1",
        "t2,2026-03-01T23:59:59.5-05:00,D-002,CHIPS,1,1.0000,,c1,",
        "t3,2026-02-28T08:00:00Z,D-001,WATER,3,3.60,CASH,c2,3",
    )
    report = sales_import(data=data, file_name="sales.csv")
    assert report.as_dict() == {
        "file": "sales.csv", "status": "imported", "rows": 3, "created": 3, "duplicates": 0, "errors": [], "warnings": [],
    }
    t1 = Sale.objects.get(external_id="t1")
    assert (t1.sold_at, t1.device, t1.product, t1.quantity, t1.amount, t1.transactions) == (
        datetime(2026, 3, 1, 11, 30, tzinfo=UTC), catalog.dev1, catalog.cola, 2, Decimal("3.00"), 1,
    )
    assert (t1.payment_method, t1.slot_code, t1.source, t1.customer.external_ref) == ("card", "1", "import", "c1")
    assert Sale.objects.get(external_id="t3").payment_method == "cash"
    assert Sale.objects.get(external_id="t2").sold_at == datetime(2026, 3, 2, 4, 59, 59, 500000, tzinfo=UTC)
    # first_seen is the customer's earliest sale.
    assert Customer.objects.get(external_ref="c1").first_seen == datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    dirty = DirtyRange.objects.get(kind="sales")
    assert dirty.starts_at == datetime(2026, 2, 28, 8, 0, tzinfo=UTC)
    assert dirty.ends_at == datetime(2026, 3, 2, 4, 59, 59, 500001, tzinfo=UTC)


def test_reimporting_creates_nothing_and_counts_duplicates(catalog: Catalog) -> None:
    data = csv("t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,,,", "t2,2026-03-01T12:31:00+01:00,D-001,COLA,1,1.50,,,")
    sales_import(data=data, file_name="a.csv")
    dirty = DirtyRange.objects.count()
    report = sales_import(data=data, file_name="a.csv")
    assert (report.rows, report.created, report.duplicates) == (2, 0, 2)
    assert Sale.objects.count() == 2
    assert DirtyRange.objects.count() == dirty  # nothing written, nothing to refresh


def test_identical_repeat_inside_a_file_is_a_duplicate(catalog: Catalog) -> None:
    row = "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,,,"
    report = sales_import(data=csv(row, row, "t2,2026-03-01T12:31:00+01:00,D-001,COLA,1,1.50,,,"), file_name="a.csv")
    assert (report.rows, report.created, report.duplicates) == (3, 2, 1)


def test_bom_crlf_quotes_and_formula_looking_text(catalog: Catalog) -> None:
    data = (
        "\ufeff" + HEADER + "\r\n"
        't1,2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,,"=HYPERLINK(""http://x"",""y"")",\r\n'
        "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,,@SUM(A1:A9),\r\n"
    ).encode()
    report = sales_import(data=data, file_name="excel.csv")
    assert report.created == 2, report.errors
    assert Sale.objects.get(external_id="t1").customer.external_ref == '=HYPERLINK("http://x","y")'
    assert Sale.objects.get(external_id="t2").customer.external_ref == "@SUM(A1:A9)"


GOOD = "t1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00,,,"

MATRIX = [
    ("empty file", b"", [(0, "")]),
    ("only whitespace", b"  \r\n", [(0, "")]),
    ("header only", csv(), [(0, "")]),
    ("wrong header", csv("t1,2026-03-01T12:30:00+01:00,D-001,2,3.00", header="transaction_id,sold_at,device,quantity,amount"), [(0, "product")]),
    ("unknown column", csv(GOOD + ",x", header=HEADER + ",colour"), [(0, "colour")]),
    ("semicolon separated", csv(GOOD.replace(",", ";"), header=HEADER.replace(",", ";")), [(0, "")]),
    ("date without offset", csv(GOOD, "t2,2026-03-01T12:30:00,D-001,COLA,1,1.50,,,"), [(2, "sold_at")]),
    ("date only", csv(GOOD, "t2,2026-03-01,D-001,COLA,1,1.50,,,"), [(2, "sold_at")]),
    ("impossible date", csv(GOOD, "t2,2026-02-30T12:00:00+01:00,D-001,COLA,1,1.50,,,"), [(2, "sold_at")]),
    ("not a date", csv(GOOD, "t2,yesterday,D-001,COLA,1,1.50,,,"), [(2, "sold_at")]),
    ("future date", csv(GOOD, "t2,2999-01-01T00:00:00Z,D-001,COLA,1,1.50,,,"), [(2, "sold_at")]),
    ("duplicate id with other content", csv(GOOD, "t1,2026-03-01T12:30:00+01:00,D-001,COLA,3,4.50,,,"), [(2, "transaction_id")]),
    ("unknown device", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-404,COLA,1,1.50,,,"), [(2, "device")]),
    ("unknown product", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,NOPE,1,1.50,,,"), [(2, "product")]),
    ("negative quantity", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,-1,1.50,,,"), [(2, "quantity")]),
    ("zero quantity", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,0,1.50,,,"), [(2, "quantity")]),
    ("fractional quantity", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1.5,1.50,,,"), [(2, "quantity")]),
    ("10^15 amount", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1,1000000000000000,,,"), [(2, "amount")]),
    ("negative amount", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1,-1.50,,,"), [(2, "amount")]),
    ("amount not a number", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1,1;50,,,"), [(2, "amount")]),
    ("bad payment method", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,bitcoin,,"), [(2, "payment_method")]),
    ("missing id", csv(GOOD, ",2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,,,"), [(2, "transaction_id")]),
    ("ragged row", csv(GOOD, "t2,2026-03-01T12:30:00+01:00,D-001"), [(2, "")]),
    ("not UTF-8", csv(GOOD) + "t2,2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,,Jos\xe9,\n".encode("latin-1"), [(2, "")]),
    ("UTF-16", HEADER.encode("utf-16"), [(0, "")]),
    ("several bad rows", csv("t1,x,D-404,COLA,-2,1.50,,,", GOOD.replace("t1", "t2"), "t3,2026-03-01T12:30:00+01:00,D-001,NOPE,1,1e3,,,"),
     [(1, "sold_at"), (1, "device"), (1, "quantity"), (3, "product"), (3, "amount")]),
]


@pytest.mark.parametrize(("data", "expected"), [pytest.param(d, e, id=name) for name, d, e in MATRIX])
def test_bad_input_is_rejected_with_row_and_column_and_nothing_is_stored(
    catalog: Catalog, data: bytes, expected: list[tuple[int, str]]
) -> None:
    before = stored()
    report = sales_import(data=data, file_name="bad.csv")
    assert report.rejected
    assert [(e["row"], e["column"]) for e in report.errors] == expected, report.errors
    assert all(e["message"] for e in report.errors)
    result = report.as_dict()
    assert result["status"] == "rejected" and result["created"] == 0
    assert stored() == before


def test_a_row_repeating_a_stored_id_with_other_rows_bad_still_stores_nothing(catalog: Catalog) -> None:
    sales_import(data=csv(GOOD), file_name="a.csv")
    before = stored()
    report = sales_import(data=csv(GOOD, "t9,2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50,,new-customer,", "t10,bad,D-001,COLA,1,1,,,"), file_name="b.csv")
    assert [(e["row"], e["column"]) for e in report.errors] == [(3, "sold_at")]
    assert stored() == before
    assert not Customer.objects.filter(external_ref="new-customer").exists()


def xlsx(rows: list[list[object]], text_cells: tuple[str, ...] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for ref in text_cells:
        sheet[ref].data_type = "s"  # a text cell that merely looks like a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_numbers_text_and_a_formula(catalog: Catalog) -> None:
    data = xlsx([
        HEADER.split(","),
        ["t1", "2026-03-01T12:30:00+01:00", "D-001", "COLA", 2, 3.1, "card", "=1+1", 1],
        ["t2", "2026-03-01T12:31:00+01:00", "D-001", "CHIPS", 1.0, 1, None, '=HYPERLINK("http://x")', None],
        [None] * 9,
    ], text_cells=("H3",))
    report = sales_import(data=data, file_name="sales.xlsx")
    assert (report.rows, report.created) == (2, 2), report.errors
    t1 = Sale.objects.get(external_id="t1")
    assert (t1.quantity, t1.amount, t1.slot_code) == (2, Decimal("3.1"), "1")
    # A real formula is read as its cached value only (none here): never evaluated to "2".
    assert t1.customer is None
    # Text that looks like a formula is stored as the text it is.
    assert Sale.objects.get(external_id="t2").customer.external_ref == '=HYPERLINK("http://x")'


def test_xlsx_naive_datetime_cells_are_rejected_for_lack_of_offset(catalog: Catalog) -> None:
    data = xlsx([HEADER.split(",")[:6], ["t1", datetime(2026, 3, 1, 12, 30), "D-001", "COLA", 1, 1.5]])
    report = sales_import(data=data, file_name="sales.xlsx")
    assert [(e["row"], e["column"]) for e in report.errors] == [(1, "sold_at")]
    assert "offset" in report.errors[0]["message"]


def test_xlsx_that_is_not_a_zip_or_is_a_bomb_is_refused(catalog: Catalog, settings: object) -> None:
    assert sales_import(data=b"transaction_id,sold_at", file_name="sales.xlsx").errors[0]["message"].startswith("not a valid XLSX")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    report = sales_import(data=bomb.getvalue(), file_name="bomb.xlsx")
    assert report.rejected and "zip bomb" in report.errors[0]["message"]
    assert sales_import(data=b"PK\x03\x04garbage", file_name="x.xlsx").rejected
    assert Sale.objects.count() == 0


def test_json_batch_and_single_telemetry_push(catalog: Catalog) -> None:
    report = sales_push(rows=[
        {"transaction_id": "p1", "sold_at": "2026-03-01T12:30:00+01:00", "device": "D-001", "product": "COLA", "quantity": 1, "amount": 1.5},
        {"transaction_id": "p2", "sold_at": "2026-03-01T12:31:00+01:00", "device": "D-001", "product": "COLA", "quantity": 2, "amount": "3.00"},
    ])
    assert report.created == 2
    assert Sale.objects.get(external_id="p1").source == "telemetry"
    bad = sales_push(rows=[{"transaction_id": "p3", "sold_at": "2026-03-01T12:30:00+01:00", "device": "D-001", "product": "COLA", "quantity": 1, "amount": 1, "colour": "red"}, "x"])
    assert [(e["row"], e["column"]) for e in bad.errors] == [(1, "colour"), (2, "")]
    assert Sale.objects.count() == 2


def test_import_sales_command(catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv(GOOD))
    call_command("import_sales", "test_a", str(good))
    assert json.loads(capsys.readouterr().out)["created"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv("t2,2026-03-01T12:30:00,D-001,COLA,1,1.50,,,"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_sales", "test_a", str(bad))
    assert exit_info.value.code == 1
    assert json.loads(capsys.readouterr().out)["errors"][0] == {
        "row": 1, "column": "sold_at", "message": "no UTC offset: write ISO 8601 with an offset, e.g. 2026-03-01T12:30:00+01:00",
    }


def _sale_indexes() -> set[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'fleet_sale'::regclass"
        )
        return set(cursor.fetchall())


def test_bulk_mode_rebuilds_exactly_the_same_indexes(catalog: Catalog, settings: object) -> None:
    settings.CVD_BULK_REBUILD_MIN_ROWS = 2  # type: ignore[attr-defined]
    before = _sale_indexes()
    data = csv(GOOD, "t2,2026-03-02T12:30:00+01:00,D-002,CHIPS,1,1.00,,c1,", "t3,2026-03-03T12:30:00+01:00,D-001,WATER,1,1.20,,,")
    report = sales_import(data=data, file_name="bulk.csv")
    assert (report.created, report.duplicates) == (3, 0)
    assert _sale_indexes() == before
    assert sorted(Sale.objects.values_list("external_id", flat=True)) == ["t1", "t2", "t3"]
    dirty = DirtyRange.objects.get(kind="sales")
    assert (dirty.starts_at, dirty.ends_at) == (datetime(2026, 3, 1, 11, 30, tzinfo=UTC), datetime(2026, 3, 3, 11, 30, 0, 1, tzinfo=UTC))
    # Not bulk any more (the table is as big as the file): the same file is all duplicates.
    again = sales_import(data=data, file_name="bulk.csv")
    assert (again.created, again.duplicates) == (0, 3)
    assert _sale_indexes() == before


def test_transaction_ids_sort_bytewise_and_still_match_case_insensitively(catalog: Catalog) -> None:
    # Migration 0007: external_id has LC_COLLATE "C" (a fast unique-index build) and the database's LC_CTYPE.
    ids = ["b-2", "B-10", "Ärlig-1", "ärlig-2", "a-1", "Z", "z", "é", "€-1", "10", "9"]
    rows = [f"{tx},2026-03-01T12:30:00+01:00,D-001,COLA,1,1.00,,," for tx in ids]
    assert sales_import(data=csv(*rows), file_name="ids.csv").created == len(ids)
    # The same order as the database's C.UTF-8: by code point, i.e. by UTF-8 bytes.
    assert list(Sale.objects.order_by("external_id").values_list("external_id", flat=True)) == sorted(ids)
    assert sorted(Sale.objects.filter(external_id__icontains="ÄRLIG").values_list("external_id", flat=True)) == [
        "Ärlig-1", "ärlig-2",
    ]
    assert Sale.objects.filter(external_id__iexact="B-2").count() == 1
    assert Sale.objects.filter(external_id="b-2").count() == 1
