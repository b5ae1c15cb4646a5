"""File writers of exports: CSV (streamed in chunks) and XLSX (XlsxWriter constant-memory), cell by column kind.

Two kinds of rows arrive: a report's typed values (Decimal money, dates, floats: formatted here exactly
as the API presents them) and raw rows the database already formatted and neutralised (`preformatted`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from analytics.apis._base import present
from analytics.reports import Column
from reporting.safe import neutralise

CENT = Decimal("0.01")
XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows a sheet, less the header
CSV_CHUNK_CHARS = 256 * 1024

Rows = Iterable[Sequence[Any]]


def csv_cell(kind: str, value: Any) -> str:
    """One CSV cell: the API's presentation (money with two decimals, ISO dates); text neutralised."""
    if value is None:
        return ""
    shown = present(value)
    if shown is None:
        return ""
    if isinstance(shown, bool):
        return "true" if shown else "false"
    if isinstance(shown, (list, dict)):
        shown = json.dumps(shown, ensure_ascii=False)
    if kind == "text":
        return neutralise(str(shown))
    return str(shown)


def csv_chunks(
    columns: Sequence[Column], batches: Iterable[Rows], *, preformatted: bool, lines: bool = False
) -> Iterator[str]:
    """The CSV text in chunks of about 256 KB: the header with the API's field names, then every row.

    `lines`: each row is a 1-tuple holding its finished CSV line (the database wrote it, quoting and all).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.key for column in columns])
    kinds = [column.kind for column in columns]
    for batch in batches:
        if lines:
            buffer.write("".join([row[0] for row in batch]))
        elif preformatted:
            writer.writerows(batch)
        else:
            writer.writerows([csv_cell(kind, value) for kind, value in zip(kinds, row, strict=True)] for row in batch)
        if buffer.tell() >= CSV_CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _money(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return float(value)  # a raw row's exact amount
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    number = present(value)
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return number if isinstance(number, (int, float)) else float(number)


def write_xlsx(
    target: Any,
    *,
    columns: Sequence[Column],
    batches: Iterable[Rows],
    preformatted: bool,
    about: Sequence[tuple[str, str]],
    tz: ZoneInfo,
    max_rows: int = XLSX_MAX_DATA_ROWS,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write the workbook to `target` (a path or a binary file); returns the number of data rows.

    Numbers are numbers, money a number with two decimals shown, dates and times real Excel dates (in
    the chain's zone); text is neutralised. Past `max_rows` data rows the rows go on in "Data 2", ….
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = workbook.add_format({"bold": True})
    money_format = workbook.add_format({"num_format": "0.00##" if preformatted else "0.00"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    about_sheet = workbook.add_worksheet("About")  # first in the workbook, written last (its row count)

    def writer(kind: str) -> Callable[[Any, int, int, Any], None]:
        if kind == "money":
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                number = _money(v)
                if number is not None:
                    sheet.write_number(r, c, number, money_format)
        elif kind in ("integer", "number", "rate", "percent"):
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                number = _number(v)
                if number is not None:
                    sheet.write_number(r, c, number)
        elif kind == "date":
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                if isinstance(v, str) and v:
                    v = date.fromisoformat(v)
                if isinstance(v, date):
                    sheet.write_datetime(r, c, datetime(v.year, v.month, v.day), date_format)
        elif kind == "datetime":
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                if isinstance(v, str) and v:
                    v = datetime.fromisoformat(v)
                if isinstance(v, datetime):
                    local = v.astimezone(tz).replace(tzinfo=None) if v.tzinfo else v
                    sheet.write_datetime(r, c, local, datetime_format)
        elif kind == "boolean":
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                if v is not None:
                    sheet.write_boolean(r, c, bool(v))
        elif preformatted:
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                if v:
                    sheet.write_string(r, c, v)  # already neutralised by the database
        else:
            def cell(sheet: Any, r: int, c: int, v: Any) -> None:
                text = csv_cell("text", v)
                if text:
                    sheet.write_string(r, c, text)
        return cell

    writers = [writer(column.kind) for column in columns]
    sheets = 0
    sheet: Any = None
    row_in_sheet = max_rows  # forces the first sheet
    total = 0

    def new_sheet() -> Any:
        nonlocal sheets
        sheets += 1
        made = workbook.add_worksheet("Data" if sheets == 1 else f"Data {sheets}")
        for index, column in enumerate(columns):
            made.write_string(0, index, column.key, bold)
        return made

    for batch in batches:
        for row in batch:
            if row_in_sheet >= max_rows:
                sheet = new_sheet()
                row_in_sheet = 0
            row_in_sheet += 1
            total += 1
            for index, value in enumerate(row):
                writers[index](sheet, row_in_sheet, index, value)
        if on_rows is not None:
            on_rows(total)
    if sheet is None:
        new_sheet()

    about_rows = [*about, ("rows", f"{total}"), ("sheets", f"{max(sheets, 1)}")]
    about_sheet.set_column(0, 0, 18)
    about_sheet.set_column(1, 1, 60)
    for index, (label, value) in enumerate(about_rows):
        about_sheet.write_string(index, 0, label, bold)
        about_sheet.write_string(index, 1, neutralise(value))
    workbook.close()
    return total
