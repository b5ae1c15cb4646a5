"""Read an uploaded CSV or XLSX into a header plus rows, refusing what is unsafe or unreadable.

CSV files are kept as bytes so that the bulk path can hand them to PostgreSQL's COPY untouched;
XLSX files are streamed by openpyxl (read-only, cached values only: formulas are never evaluated)
after their zip directory was checked for decompression bombs.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings

from ingest.import_report import FileRejected

_UTF8_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = b"PK\x03\x04"
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
# A sheet's XML rarely compresses better than this; a bomb does by orders of magnitude.
MAX_ZIP_RATIO = 200
_LINE_END = re.compile(rb"\r\n|\n|\r")
# In COPY's CSV mode a line holding only \. ends the data: such a file must not take the raw path.
_COPY_END_MARKER = re.compile(rb"(?:^|[\r\n])\\\.(?:\r?\n|\r|$)")


def max_xlsx_uncompressed_bytes() -> int:
    return int(getattr(settings, "CVD_MAX_XLSX_UNCOMPRESSED_BYTES", 512 * 1024 * 1024))


@dataclass
class TableSource:
    """A file's header (lower-cased names in file order) and its data, raw CSV bytes or rows."""

    header: list[str]
    csv_body: bytes | None = None  # UTF-8 CSV after the header line, for COPY
    text: str | None = None  # the decoded CSV (for the row-by-row fallback)
    rows: Iterator[Sequence[Any]] | None = None  # XLSX or JSON rows, values already text or None
    kind: str = "csv"
    # True when no cell can begin or end with a space (see csv_unpadded): the import may then use the
    # staged values as they are instead of trimming every one.
    unpadded: bool = False

    def iter_rows(self) -> Iterator[tuple[int, list[str | None]]]:
        """(row number from 1, values) of every data row; blank lines keep their number but are skipped."""
        if self.rows is not None:
            source: Iterator[Sequence[Any]] = self.rows
        else:
            assert self.text is not None
            reader = csv.reader(io.StringIO(self.text, newline=""))
            next(reader, None)
            source = reader
        for number, values in enumerate(source, start=1):
            cells = [cell_text(value) for value in values]
            if not any(cell not in (None, "") for cell in cells):
                continue
            yield number, cells


def cell_text(value: Any) -> str | None:
    """A cell as the text the validators read; numbers keep their exact digits."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        # Excel stores no offset: a naive value is reported as such by the timestamp check.
        return value.isoformat()
    return str(value)


# A CSV cell begins after a comma, a line end or its opening quote and ends before a comma, a line end,
# its closing quote or the end of the data: a space next to one of those is a (possibly) padded cell.
_CELL_EDGES = frozenset(b',\r\n"')
_MAX_SPACES_LOOKED_AT = 100_000


def csv_unpadded(body: bytes) -> bool:
    """True when no cell of a CSV body begins or ends with a space (conservative: may say False wrongly, never True).

    Looks only at the spaces (a file without any is answered by one scan of a few milliseconds); a body
    with very many spaces is simply called padded. Far cheaper than trimming every staged value in the
    database (0.7 s per million rows for the five text columns of a sales file).
    """
    position = body.find(b" ")
    looked_at = 0
    while position != -1:
        looked_at += 1
        if looked_at > _MAX_SPACES_LOOKED_AT or position == 0 or position == len(body) - 1:
            return False
        if body[position - 1] in _CELL_EDGES or body[position + 1] in _CELL_EDGES:
            return False
        position = body.find(b" ", position + 1)
    return True


def table_read(*, data: bytes, file_name: str) -> TableSource:
    """Open a CSV or XLSX file; raise FileRejected when it cannot be read at all."""
    if data.startswith(_ZIP_MAGIC):
        return _xlsx_read(data)
    if file_name.lower().endswith(_XLSX_SUFFIXES):
        raise FileRejected("not a valid XLSX file: it is not a zip archive")
    return _csv_read(data)


def _csv_read(data: bytes) -> TableSource:
    if not data.strip():
        raise FileRejected("the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejected("the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)")
    data = data.removeprefix(_UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line}); save it as UTF-8 (CSV UTF-8)",
            row=max(line - 1, 0),
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileRejected(f"the file contains a NUL byte on line {line}: it is not a text file", row=max(line - 1, 0))
    match = _LINE_END.search(data)
    header_line = data[: match.start()] if match else data
    body = data[match.end() :] if match else b""
    header_cells = next(csv.reader([header_line.decode("utf-8")]), [])
    header = [cell.strip().lower() for cell in header_cells]
    # The substring test first: the regular expression alone scans a 100 MB file for seconds.
    raw_ok = b"\\." not in body or _COPY_END_MARKER.search(body) is None
    return TableSource(
        header=header, csv_body=body if raw_ok else None, text=text, kind="csv", unpadded=csv_unpadded(body)
    )


def _xlsx_read(data: bytes) -> TableSource:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected("not a valid XLSX file: the zip archive is damaged") from None
    total = sum(member.file_size for member in members)
    if total > max_xlsx_uncompressed_bytes():
        raise FileRejected(
            f"the XLSX file unpacks to {total} bytes, more than the limit of {max_xlsx_uncompressed_bytes()}"
        )
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise FileRejected(f"the XLSX file looks like a zip bomb ({member.filename} is compressed {member.file_size // max(member.compress_size, 1)}:1)")
    if "[Content_Types].xml" not in archive.namelist():
        raise FileRejected("not a valid XLSX file: a zip archive, but not a spreadsheet")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise FileRejected(f"not a valid XLSX file: {exc.__class__.__name__}") from None
    if first is None or not any(cell not in (None, "") for cell in first):
        raise FileRejected("the file is empty")
    header = [str(cell).strip().lower() if cell is not None else "" for cell in first]
    while header and header[-1] == "":
        header.pop()
    width = len(header)

    def data_rows() -> Iterator[Sequence[Any]]:
        try:
            for row in rows:
                values = list(row)
                # Trailing empty cells beyond the header are formatting, not data.
                while len(values) > width and values[-1] in (None, ""):
                    values.pop()
                yield values
        finally:
            workbook.close()

    return TableSource(header=header, rows=data_rows(), kind="xlsx")


def json_rows_source(rows: Sequence[Any], columns: Sequence[str]) -> tuple[TableSource, list[tuple[int, str, str]]]:
    """An API batch (list of objects) as a table; returns structural problems as (row, column, message)."""
    problems: list[tuple[int, str, str]] = []
    header = list(columns)
    known = set(header)
    values: list[list[str | None]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append((number, "", "each row must be a JSON object"))
            values.append([None] * len(header))
            continue
        for key in row:
            if key not in known:
                problems.append((number, str(key), "unknown column"))
        cells: list[str | None] = []
        for name in header:
            value = row.get(name)
            if isinstance(value, dict | list):
                problems.append((number, name, "must be a string or a number"))
                value = None
            cells.append(cell_text(value))
        values.append(cells)
    return TableSource(header=header, rows=iter(values), kind="json"), problems
