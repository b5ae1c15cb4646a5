"""Every report × format equals the API's figures for the same parameters (hand-made data, a DST day, an empty range).

The API's JSON is the reference for each report; on top of it a few figures are checked by hand
(device A-1's 40.00, the 23-hour DST day's 22.00 in the dashboard series, the raw sales rows).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from analytics.reports import REPORTS, get_report
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture
from tests.reporting import data
from tests.reporting.support import (
    api,
    as_csv_text,
    csv_rows,
    export,
    pdf_text,
    xlsx_expected,
    xlsx_sheets,
)

REPORT_NAMES = sorted(REPORTS)


@pytest.fixture
def seeded(in_chain_a: ChainFixture) -> ChainFixture:
    data.seed()
    return in_chain_a


def _api_rows(chain: ChainFixture, report: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = api(chain.client("manager"), report, params)
    return body, body[get_report(report).rows]


@pytest.mark.parametrize("params", [data.RANGE, data.EMPTY_RANGE], ids=["dst-range", "empty-range"])
@pytest.mark.parametrize("report", REPORT_NAMES)
def test_csv_equals_the_api(seeded: ChainFixture, report: str, params: dict[str, str]) -> None:
    status, body, response = export(seeded.client("manager"), report, "csv", params)
    assert status == 200, body[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="test_a-{report}-{params["start"]}-{params["end"]}.csv"'
    )
    _, expected = _api_rows(seeded, report, params)
    columns = get_report(report).columns
    header, rows = csv_rows(body)
    assert header == [column.key for column in columns]
    assert len(rows) == len(expected)
    for row, reference in zip(rows, expected, strict=True):
        for column in columns:
            assert row[column.key] == as_csv_text(column.kind, reference.get(column.key)), (report, column.key)


@pytest.mark.parametrize("params", [data.RANGE, data.EMPTY_RANGE], ids=["dst-range", "empty-range"])
@pytest.mark.parametrize("report", REPORT_NAMES)
def test_xlsx_equals_the_api(seeded: ChainFixture, report: str, params: dict[str, str]) -> None:
    status, body, _ = export(seeded.client("manager"), report, "xlsx", params)
    assert status == 200, body[:500]
    sheets = xlsx_sheets(body)
    assert list(sheets) == ["About", "Data"]
    about = dict(row[:2] for row in sheets["About"])
    assert about["chain"] == "Test A (test_a)"
    assert about["range"].startswith(f"{params['start']} – {params['end']}")
    assert about["generated at"]
    assert about["rows"] == str(len(sheets["Data"]) - 1)
    _, expected = _api_rows(seeded, report, params)
    columns = get_report(report).columns
    header, *rows = sheets["Data"]
    assert list(header) == [column.key for column in columns]
    assert len(rows) == len(expected)
    for row, reference in zip(rows, expected, strict=True):
        for index, column in enumerate(columns):
            wanted = xlsx_expected(column.kind, reference.get(column.key))
            got = row[index]
            if column.kind == "boolean" and wanted is not None:
                assert bool(got) is wanted
            elif isinstance(wanted, float):
                assert got == pytest.approx(wanted, abs=1e-9), (report, column.key)
            else:
                assert got == wanted, (report, column.key)


@pytest.mark.parametrize("params", [data.RANGE, data.EMPTY_RANGE], ids=["dst-range", "empty-range"])
@pytest.mark.parametrize("report", REPORT_NAMES)
def test_pdf_shows_the_apis_figures(seeded: ChainFixture, report: str, params: dict[str, str]) -> None:
    status, body, response = export(seeded.client("manager"), report, "pdf", params)
    assert status == 200, body[:500]
    assert body.startswith(b"%PDF") and response["Content-Type"] == "application/pdf"
    text = pdf_text(body)
    words = set(text.split())
    definition = get_report(report)
    assert definition.title.split()[0] in text
    assert "Test A" in text and params["start"] in text and params["end"] in text
    answer, expected = _api_rows(seeded, report, params)
    if not expected:
        assert "No rows in this range." in text
    for reference in expected:
        for column in definition.columns:
            value = reference.get(column.key)
            if column.kind in ("money", "integer") and value is not None:
                assert str(value) in words, (report, column.key, value)
    if definition.kpis and isinstance(answer.get(definition.kpis), dict):
        for key, value in answer[definition.kpis].items():
            if isinstance(value, str) and value.replace(".", "", 1).isdigit():
                assert value in words, (report, key, value)


def test_hand_figures_asset_sales_and_the_dst_day(seeded: ChainFixture) -> None:
    client = seeded.client("manager")
    _, body, _ = export(client, "asset-sales", "csv", data.RANGE)
    _, rows = csv_rows(body)
    devices = {row["asset"]: row for row in rows}
    # four days of 10.00; A-2: 5 + 7 + 12; -A3: 6.005 presented half-up as 6.01, neutralised as text.
    assert (devices["A-1"]["total_revenue"], devices["A-1"]["total_units"]) == ("40.00", "8")
    assert devices["A-2"]["total_revenue"] == "24.00"
    assert devices["'-A3"]["total_revenue"] == "6.01"
    _, body, _ = export(client, "dashboard", "csv", data.RANGE)
    _, series = csv_rows(body)
    # The 23-hour day: A-1 10.00 + A-2 5.00 + 7.00; the 30th: 10.00 + 12.00 (00:30 local, the 29th in UTC).
    assert {row["date"]: row["revenue"] for row in series} == {
        "2026-03-27": "16.01", "2026-03-28": "10.00", "2026-03-29": "22.00", "2026-03-30": "22.00",
    }
    sheets = xlsx_sheets(export(client, "dashboard", "xlsx", data.RANGE)[1])
    assert [row[1] for row in sheets["Data"][1:]] == [16.01, 10.0, 22.0, 22.0]  # money as numbers


def test_raw_sales_in_the_import_format(seeded: ChainFixture) -> None:
    from fleet.models import Sale

    status, body, _ = export(seeded.client("manager"), "sales", "csv", data.RANGE)
    assert status == 200
    header, rows = csv_rows(body)
    assert header == ["transaction_id", "sold_at", "device", "product", "quantity", "amount", "payment_method", "customer", "slot"]
    # Eight sales in the four local days (the 99.00 ones fall outside by a minute), oldest first.
    assert len(rows) == 8
    assert sum(Decimal(row["amount"]) for row in rows) == Decimal("70.005")
    first = rows[0]
    assert (first["sold_at"], first["device"], first["amount"]) == ("2026-03-27T00:15:00+01:00", "'-A3", "6.005")
    by_id = {row["transaction_id"]: row for row in rows}
    for sale in Sale.objects.filter(external_id__in=by_id).select_related("device", "product"):
        row = by_id[sale.external_id]
        assert datetime.fromisoformat(row["sold_at"]) == sale.sold_at
        assert Decimal(row["amount"]) == sale.amount
        assert int(row["quantity"]) == sale.quantity
    # The offset follows the DST change: +01:00 before, +02:00 from the 29th at 03:00.
    assert {row["sold_at"][-6:] for row in rows if row["sold_at"] < "2026-03-29"} == {"+01:00"}
    assert {row["sold_at"][-6:] for row in rows if row["sold_at"] >= "2026-03-29T09"} == {"+02:00"}
    sheets = xlsx_sheets(export(seeded.client("manager"), "sales", "xlsx", data.RANGE)[1])
    data_rows = sheets["Data"][1:]
    assert [row[5] for row in data_rows] == [float(row["amount"]) for row in rows]
    assert [row[4] for row in data_rows] == [int(row["quantity"]) for row in rows]
    assert all(isinstance(row[4], int) for row in data_rows)


def test_raw_bookings_and_filters(seeded: ChainFixture) -> None:
    client = seeded.client("manager")
    _, body, _ = export(client, "bookings", "csv", data.RANGE)
    header, rows = csv_rows(body)
    assert header == ["booking_id", "resource", "starts_at", "ends_at", "status", "amount", "customer", "created_at"]
    assert [(row["status"], row["amount"], row["starts_at"]) for row in rows] == [
        ("paid", "20.00", "2026-03-28T10:00:00+01:00"),
        ("no_show", "30.00", "2026-03-29T10:00:00+02:00"),
        ("cancelled", "20.00", "2026-03-30T18:00:00+02:00"),
    ]
    # A device filter narrows the sales to that device and selects no bookings; a resource filter no sales.
    d1 = data_device_id("A-1")
    _, body, _ = export(client, "sales", "csv", {**data.RANGE, "device": [d1]})
    assert {row["device"] for row in csv_rows(body)[1]} == {"A-1"} and len(csv_rows(body)[1]) == 4
    _, body, _ = export(client, "bookings", "csv", {**data.RANGE, "device": [d1]})
    assert csv_rows(body)[1] == []
    _, body, _ = export(client, "sales", "csv", {**data.RANGE, "resource": [data_resource_id("CRT")]})
    assert csv_rows(body)[1] == []
    # A region filter joins the locations: R1 is North, where A-1 and the court are.
    _, body, _ = export(client, "sales", "csv", {**data.RANGE, "region": ["R1"]})
    assert [row["device"] for row in csv_rows(body)[1]] == ["A-1"] * 4
    _, body, _ = export(client, "bookings", "xlsx", {**data.RANGE, "region": ["R1"]})
    assert len(xlsx_sheets(body)["Data"]) == 1 + 3
    _, body, _ = export(client, "bookings", "csv", {**data.RANGE, "region": ["R2"]})
    assert csv_rows(body)[1] == []


def data_device_id(asset: str) -> int:
    from fleet.models import Device

    return Device.objects.get(asset=asset).pk


def data_resource_id(code: str) -> int:
    from bookings.models import Resource

    return Resource.objects.get(code=code).pk


def test_formula_cells_are_neutralised_and_numbers_untouched(seeded: ChainFixture) -> None:
    client = seeded.client("manager")
    _, body, _ = export(client, "product-sales", "csv", data.RANGE)
    _, rows = csv_rows(body)
    assert "'@Cola" in {row["name"] for row in rows} and "@Cola" not in {row["name"] for row in rows}
    _, body, _ = export(client, "locations", "csv", data.RANGE)
    text = body.decode()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text
    sheets = xlsx_sheets(export(client, "locations", "xlsx", data.RANGE)[1])
    cells = [cell for row in sheets["Data"] for cell in row if isinstance(cell, str)]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    # Negative numbers stay numbers: the revenue change of a device can be negative.
    from reporting.writers import csv_cell

    assert csv_cell("money", Decimal("-5.005")) == "-5.01"
    assert csv_cell("number", -0.25) == "-0.25"
    assert csv_cell("text", "-0.25") == "'-0.25"
    assert csv_cell("text", "\tx") == "'\tx" and csv_cell("text", "\rx") == "'\rx" and csv_cell("text", "+1") == "'+1"


def test_bad_requests_name_the_field(seeded: ChainFixture) -> None:
    client = seeded.client("manager")
    status, _, response = export(client, "nope", "csv", data.RANGE)
    assert status == 400 and "report" in response.json() and "nope" in response.json()["report"][0]
    status, _, response = export(client, "asset-sales", "docx", data.RANGE)
    assert status == 400 and "format" in response.json()
    status, _, response = export(client, "revenue", "csv", {**data.RANGE, "group_by": "planet"})
    assert status == 400 and "group_by" in response.json()
    status, _, response = export(client, "sales", "csv", {"start": "2026-03-30", "end": "2026-03-01"})
    assert status == 400 and "end" in response.json()
    status, _, response = export(client, "asset-sales", "xlsx", {**data.RANGE, "location": ["x"]})
    assert status == 400 and "location" in response.json()
    response = client.post("/api/analytics/export/", "[1]", content_type="application/json")
    assert response.status_code == 400


def test_report_parameters_reach_the_file(seeded: ChainFixture) -> None:
    client = seeded.client("manager")
    params = {**data.RANGE, "group_by": "region"}
    _, body, _ = export(client, "revenue", "csv", params)
    _, rows = csv_rows(body)
    reference = api(client, "revenue", params)["groups"]
    assert [(row["key"], row["revenue"]) for row in rows] == [(g["key"], g["revenue"]) for g in reference]
    assert {row["key"]: row["revenue"] for row in rows} == {"R1": "40.00", "R2": "30.01"}


def test_viewer_is_refused(seeded: ChainFixture) -> None:
    status, _, _ = export(seeded.client("viewer"), "asset-sales", "csv", data.RANGE)
    assert status == 403
    status, _, _ = export(seeded.client(), "asset-sales", "csv", data.RANGE)
    assert status == 401


def test_xlsx_rows_continue_on_the_next_sheet(seeded: ChainFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import reporting.writers

    monkeypatch.setattr(reporting.writers, "XLSX_MAX_DATA_ROWS", 3)
    monkeypatch.setattr(reporting.writers.write_xlsx, "__kwdefaults__", {"max_rows": 3, "on_rows": None})
    sheets = xlsx_sheets(export(seeded.client("manager"), "sales", "xlsx", data.RANGE)[1])
    assert list(sheets) == ["About", "Data", "Data 2", "Data 3"]
    assert [len(sheets[name]) - 1 for name in ("Data", "Data 2", "Data 3")] == [3, 3, 2]
    assert all(sheets[name][0][0] == "transaction_id" for name in ("Data", "Data 2", "Data 3"))
    about = dict(row[:2] for row in sheets["About"])
    assert (about["rows"], about["sheets"]) == ("8", "3")


def test_raw_csv_lines_are_what_pythons_csv_writer_writes(seeded: ChainFixture) -> None:
    """The database writes each raw CSV line (quoting included); it must be the csv module's QUOTE_MINIMAL text."""
    import csv as csv_module
    import io

    from django.db import connection

    from reporting.raw import RAW_REPORTS

    awkward = f.customer('=1,"two"\r\nthree')
    plain = f.customer("a b;c")
    machine = f.device("Q,1", f.location("Q", name="Quote"))
    item = f.product('P"3')
    f.sale(machine, item, f.local("2026-03-28 13:00"), "2.50", buyer=awkward, slot="+B1")
    f.sale(machine, item, f.local("2026-03-28 14:00:00.250000"), "0.0001", buyer=plain)
    status, body, _ = export(seeded.client("manager"), "sales", "csv", data.RANGE)
    assert status == 200
    sql, params = RAW_REPORTS["sales"].sql(get_params_filters())
    start, end = datetime(2026, 3, 27, tzinfo=f.STOCKHOLM), datetime(2026, 3, 31, tzinfo=f.STOCKHOLM)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Europe/Stockholm'")  # as rows() runs the query
        cursor.execute(sql, {**params, "starts_at": start, "ends_at": end, "tz": "Europe/Stockholm"})
        rows = cursor.fetchall()
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
    expected = io.StringIO()
    writer = csv_module.writer(expected, lineterminator="\r\n")
    writer.writerow([c.key for c in RAW_REPORTS["sales"].columns])
    writer.writerows(rows)
    assert body.decode() == expected.getvalue()
    parsed = {row["customer"]: row for row in csv_rows(body)[1]}
    assert parsed["'=1,\"two\"\r\nthree"]["slot"] == "'+B1"
    assert parsed["'=1,\"two\"\r\nthree"]["device"] == "Q,1" and parsed["a b;c"]["product"] == 'P"3'
    assert parsed["a b;c"]["amount"] == "0.0001"
    assert parsed["a b;c"]["sold_at"] == "2026-03-28T14:00:00.250000+01:00"  # as isoformat() writes it


def get_params_filters() -> Any:
    from analytics.filters import NO_FILTERS

    return NO_FILTERS
