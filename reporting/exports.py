"""Exports: any report of the registry (or the raw sales / bookings rows) as CSV, XLSX or PDF.

Every figure comes from the report registry (`analytics.reports`), computed with the same parameters
the API validates, and is rendered per column kind: the file says what the API says. A request is
validated once into an `ExportSpec` (400 with field errors, the report's own included); the spec is
plain JSON data, so a job stores it and runs it later in a worker with the same range.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework import serializers

from analytics.apis._base import present
from analytics.params import AnalyticsParams, params_from_validated
from analytics.reports import REPORTS, Column, UnknownReport, get_report
from chains.models import Chain
from reporting import svg
from reporting.raw import RAW_REPORTS, RawReport
from reporting.writers import csv_cell, csv_chunks, write_xlsx

FORMATS = ("csv", "xlsx", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
SYNC_MAX_DAYS = 92
PDF_MAX_ROWS = 2_000  # a PDF is for reading: longer lists say where the rest is
CHART_MAX_BARS = 15
Progress = Callable[[float, int], None]


BOARD_PACK = "board-pack"


def export_names() -> list[str]:
    return [*REPORTS, *RAW_REPORTS, BOARD_PACK]


@dataclass(frozen=True)
class ExportSpec:
    report: str
    format: str
    params: dict[str, Any]  # the report's own parameters, JSON-safe, start/end resolved
    analytics: AnalyticsParams = field(compare=False)
    values: dict[str, Any] = field(compare=False)

    @property
    def start(self) -> date:
        return self.analytics.period.start

    @property
    def end(self) -> date:
        return self.analytics.period.end

    @property
    def days(self) -> int:
        return self.analytics.period.days

    @property
    def is_sync(self) -> bool:
        return self.days <= SYNC_MAX_DAYS

    @property
    def is_raw(self) -> bool:
        return self.report in RAW_REPORTS

    def filename(self, schema: str) -> str:
        # Only the schema (a validated identifier), a registry name and dates: nothing tenant-typed.
        return f"{schema}-{self.report}-{self.start.isoformat()}-{self.end.isoformat()}.{self.format}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def _json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (date, datetime)):
            safe[key] = value.isoformat()
        elif isinstance(value, (list, tuple)):
            safe[key] = [item.isoformat() if isinstance(item, (date, datetime)) else item for item in value]
        else:
            safe[key] = value
    return safe


def export_validate(data: Any, *, today: date | None = None) -> ExportSpec:
    """Validate an export request (report, format and the report's own parameters); ValidationError → 400."""
    if not isinstance(data, Mapping):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    report = data.get("report")
    fmt = data.get("format")
    if not isinstance(report, str) or report not in export_names():
        errors["report"] = [f"Unknown report {str(report)[:60]!r}; one of: {', '.join(export_names())}."]
    if not isinstance(fmt, str) or fmt not in FORMATS:
        errors["format"] = [f"Unknown format {str(fmt)[:20]!r}; one of: {', '.join(FORMATS)}."]
    if errors:
        raise serializers.ValidationError(errors)
    assert isinstance(report, str) and isinstance(fmt, str)
    given = {key: value for key, value in data.items() if key not in ("report", "format")}
    if today is None:
        from analytics.query import local_today

        today = local_today()
    if report == BOARD_PACK:
        from reporting import boardpack

        if fmt != "pdf":
            raise serializers.ValidationError({"format": ["The board pack is a PDF only."]})
        analytics, values, params = boardpack.validate(given, today=today)
        return ExportSpec(report=report, format=fmt, params=params, analytics=analytics, values=values)
    if report in RAW_REPORTS:
        from analytics.serializers import ApiParamsSerializer  # the API's shared parameters, the same validation

        serializer = ApiParamsSerializer(data=given, context={"today": today})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        analytics = params_from_validated(values)
    else:
        analytics, values = get_report(report).validate(given, today=today)
    params = {**_json_safe(given), "start": analytics.period.start.isoformat(), "end": analytics.period.end.isoformat()}
    return ExportSpec(report=report, format=fmt, params=params, analytics=analytics, values=values)


def export_spec_load(*, report: str, format: str, params: Mapping[str, Any]) -> ExportSpec:
    """A stored job's spec again (its start/end are explicit, so `today` does not matter)."""
    return export_validate({"report": report, "format": format, **params})


# --- What a file holds ---------------------------------------------------------------------------


@dataclass
class Content:
    title: str
    columns: tuple[Column, ...]
    batches: Iterator[list[Any]]
    preformatted: bool
    result: dict[str, Any] | None = None  # a registry report's answer (for the PDF's KPIs and charts)
    total: int | None = None
    lines: bool = False  # each row a finished CSV line (raw rows for a CSV: the database formats them)


def _content(spec: ExportSpec, chain: Chain, *, count: bool = False, in_transaction: bool = True) -> Content:
    if spec.is_raw:
        raw: RawReport = RAW_REPORTS[spec.report]
        period, filters = spec.analytics.period, spec.analytics.filters
        total = raw.count(period=period, filters=filters, tz=chain.time_zone) if count else None
        lines = spec.format == "csv"
        return Content(
            title=raw.title, columns=raw.columns, preformatted=True, total=total, lines=lines,
            batches=raw.rows(
                period=period, filters=filters, tz=chain.time_zone, in_transaction=in_transaction, csv_lines=lines
            ),
        )
    try:
        report = get_report(spec.report)
    except UnknownReport:  # validated before; a stored job of a report since removed
        raise serializers.ValidationError({"report": [f"Unknown report {spec.report!r}."]}) from None
    result = report.compute(spec.analytics, spec.values)
    rows = report.table(result)
    columns = report.columns
    table = [tuple(row.get(column.key) for column in columns) for row in rows]
    return Content(
        title=report.title, columns=columns, preformatted=False, result=result, total=len(table), batches=iter([table]),
    )


def about(spec: ExportSpec, chain: Chain, title: str) -> list[tuple[str, str]]:
    """What the file is: for the XLSX "About" sheet and the PDF's header."""
    filters = [
        f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in spec.params.items() if key not in ("start", "end")
    ]
    return [
        ("report", f"{title} ({spec.report})"),
        ("chain", f"{chain.name} ({chain.schema_name})"),
        ("range", f"{spec.start.isoformat()} – {spec.end.isoformat()} (local dates, inclusive)"),
        ("time zone", chain.time_zone),
        ("currency", chain.currency),
        ("filters", "; ".join(filters) or "none"),
        ("generated at", timezone.now().astimezone(chain.tz).isoformat(timespec="seconds")),
    ]


def export_csv_stream(spec: ExportSpec, chain: Chain) -> Iterator[bytes]:
    """The CSV as a stream of byte chunks (for a StreamingHttpResponse): never the whole file in memory.

    A report is computed here, before the response starts (its errors are still a proper 4xx); raw rows
    are read as the stream is consumed.
    """
    content = _content(spec, chain)
    chunks = csv_chunks(content.columns, content.batches, preformatted=content.preformatted, lines=content.lines)
    return (chunk.encode("utf-8") for chunk in chunks)


def export_write(spec: ExportSpec, chain: Chain, target: BinaryIO, *, progress: Progress | None = None) -> int:
    """Write the whole file to `target`; returns the number of rows. `progress(fraction, rows)` is called as it goes.

    With `progress` (a job) raw rows are read through a holdable cursor, so progress can be committed
    while the rows stream; without it (a request) the cursor lives in one transaction.
    """
    report = progress or (lambda fraction, rows: None)
    if spec.report == BOARD_PACK:
        from reporting import boardpack

        rows = boardpack.board_pack_write(chain, str(spec.params["month"]), target)
        report(1.0, rows)
        return rows
    content = _content(spec, chain, count=progress is not None, in_transaction=progress is None)
    total = content.total or 0
    report(0.05 if content.preformatted else 0.5, 0)

    def on_rows(rows: int) -> None:
        report(min(0.99, 0.05 + 0.9 * rows / total) if total else 0.95, rows)

    if spec.format == "csv":
        counter = _Counted(content.batches, on_rows)
        for chunk in csv_chunks(content.columns, counter, preformatted=content.preformatted, lines=content.lines):
            target.write(chunk.encode("utf-8"))
        report(1.0, counter.rows)
        return counter.rows
    if spec.format == "xlsx":
        rows = write_xlsx(
            target, columns=content.columns, batches=content.batches, preformatted=content.preformatted,
            about=about(spec, chain, content.title), tz=chain.tz, on_rows=on_rows,
        )
        report(1.0, rows)
        return rows
    from reporting.pdf import render_pdf

    html, rows = export_pdf_html(spec, chain, content)
    target.write(render_pdf(html))
    report(1.0, rows)
    return rows


class _Counted:
    """Batches passed through, counting rows and telling `on_rows` after each batch."""

    def __init__(self, batches: Iterator[list[Any]], on_rows: Callable[[int], None]) -> None:
        self.batches, self.on_rows, self.rows = batches, on_rows, 0

    def __iter__(self) -> Iterator[list[Any]]:
        for batch in self.batches:
            yield batch
            self.rows += len(batch)
            self.on_rows(self.rows)


# --- PDF -------------------------------------------------------------------------------------------


def _pdf_cell(value: Any) -> str:
    shown = present(value)
    if shown is None:
        return ""
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return str(shown)


def _kpis(result: Mapping[str, Any] | None, key: str | None) -> list[tuple[str, str, str]]:
    if not result or not key or not isinstance(result.get(key), Mapping):
        return []
    return [
        (name, name.replace("_", " "), _pdf_cell(value))
        for name, value in result[key].items()
        if not isinstance(value, (Mapping, list, tuple))
    ]


def _as_float(value: Any) -> float | None:
    shown = present(value)
    if isinstance(shown, bool) or shown is None:
        return None
    try:
        return float(shown)
    except (TypeError, ValueError):
        return None


def _charts(title: str, columns: tuple[Column, ...], table: list[tuple[Any, ...]]) -> list[Any]:
    """A line when the list is a series (its first column a date), else bars of the first money (or count) column."""
    if not table or not columns:
        return []
    kinds = [column.kind for column in columns]
    measure = next((i for i, k in enumerate(kinds) if k == "money"), None)
    if measure is None:
        measure = next((i for i, k in enumerate(kinds) if k in ("integer", "number")), None)
    if measure is None:
        return []
    name = f"{title}: {columns[measure].key}"
    if kinds[0] == "date":  # a series (one row a day, week or month): a line
        points = [(str(present(row[0])), _as_float(row[measure]) or 0.0) for row in table]
        return [svg.line_chart([p[0] for p in points], [p[1] for p in points], title=name)]
    label = next((i for i, k in enumerate(kinds) if k == "text"), None)
    if label is None:  # e.g. the heatmap's cells: nothing to name a bar by
        return []
    bars = [(_pdf_cell(row[label]), _as_float(row[measure]) or 0.0) for row in table[:CHART_MAX_BARS]]
    return [svg.bar_chart([b[0] for b in bars], [b[1] for b in bars], title=name)]


# The PDF's list is a grid of monospaced text: one line box per row instead of a table cell (and its cascade,
# line breaking and drawing) per value, which is what WeasyPrint's time went on (about 2 ms a cell: 17 s for
# 500 products × 17 columns; bench_exports prints the figure). Columns are padded to their widest value, numbers
# right-aligned; a text value longer than its column is cut there with "…" and shown whole on a line of its own
# under the row ("↳ name: …"), so every value is in the PDF as it is. Rows are `white-space: pre` (never
# wrapped: half the layout time of pre-wrap); only those whole-value lines may wrap.
GRID_GAP = "  "
GRID_TEXT_MAX = 40  # characters a text column grows to; a longer value is cut there and shown whole below
# A4 landscape less the page margins and the row padding, and 5 % to spare: the shaped advance of a glyph is a
# little over the font's nominal 0.602 em at these sizes, and a row a hair too wide would wrap onto two lines.
GRID_WIDTH_PT = (297 / 25.4 * 72 - 2 * 12 / 25.4 * 72 - 8) * 0.95
GRID_ADVANCE_EM = 0.602  # DejaVu Sans Mono's advance width
GRID_FONT_PT = (4.5, 7.5)
NUMERIC_KINDS = frozenset({"integer", "number", "money", "rate", "percent"})


def _grid_header(key: str, width: int) -> list[str]:
    """The column's key on as many lines as it needs at `width`, broken after its underscores."""
    pieces = key.split("_")
    lines, line = [], ""
    for index, piece in enumerate(pieces):
        piece += "_" if index < len(pieces) - 1 else ""
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    return [*lines, line]


@dataclass(frozen=True)
class GridRow:
    line: str  # the row's values, padded into the columns (white-space: pre: never wrapped)
    whole: list[str]  # "↳ key: value" of each value cut short in its column (these may wrap at the page's edge)


@dataclass(frozen=True)
class TextGrid:
    header: str  # the header's lines, joined by newlines
    rows: list[GridRow]
    font_pt: float


def text_grid(columns: tuple[Column, ...], cells: list[list[str]]) -> TextGrid:
    """The rows as lines of monospaced text, columns padded to a common width and the font sized to fit the page."""
    cells = [[" ".join(value.split()) for value in row] for row in cells]  # no newline or tab breaks the grid
    numeric = [column.kind in NUMERIC_KINDS for column in columns]
    widths = []
    for index, column in enumerate(columns):
        longest = max((len(row[index]) for row in cells), default=0)
        if not numeric[index]:
            longest = min(longest, GRID_TEXT_MAX)
        pieces = max(len(piece) + 1 for piece in column.key.split("_"))
        widths.append(max(longest, min(pieces, len(column.key)), 1))

    def lines(values: list[list[str]]) -> list[str]:
        height = max((len(value) for value in values), default=1)
        out = []
        for line in range(height):
            parts = []
            for index, value in enumerate(values):
                text = value[line] if line < len(value) else ""
                parts.append(text.rjust(widths[index]) if numeric[index] else text.ljust(widths[index]))
            out.append(GRID_GAP.join(parts).rstrip())
        return out

    header = lines([_grid_header(column.key, widths[index]) for index, column in enumerate(columns)])
    rows = []
    for row in cells:
        shown, whole = [], []
        for index, value in enumerate(row):
            if len(value) > widths[index]:  # only text: a numeric column is as wide as its widest value
                shown.append([value[: widths[index] - 1] + "…"])
                whole.append(f"  ↳ {columns[index].key}: {value}")
            else:
                shown.append([value])
        rows.append(GridRow(line=lines(shown)[0], whole=whole))
    characters = sum(widths) + len(GRID_GAP) * (len(widths) - 1)
    low, high = GRID_FONT_PT
    font_pt = max(low, min(high, GRID_WIDTH_PT / max(characters, 1) / GRID_ADVANCE_EM))
    return TextGrid(header="\n".join(header), rows=rows, font_pt=math.floor(font_pt * 100) / 100)


def export_pdf_html(spec: ExportSpec, chain: Chain, content: Content) -> tuple[str, int]:
    """The PDF's HTML from the project's template, and the number of rows the report holds."""
    shown: list[tuple[Any, ...]] = []
    rows = 0
    for batch in content.batches:
        for row in batch:
            rows += 1
            if len(shown) < PDF_MAX_ROWS:
                shown.append(tuple(row))
    kpis_key = None if spec.is_raw else get_report(spec.report).kpis
    context = {
        "title": content.title,
        "report": spec.report,
        "chain": chain,
        "about": about(spec, chain, content.title),
        "kpis": _kpis(content.result, kpis_key) or [("rows", "rows", str(rows))],
        "charts": [] if spec.is_raw else _charts(content.title, content.columns, shown),
        "grid": text_grid(content.columns, [[_pdf_cell(value) for value in row] for row in shown]) if shown else None,
        "total_rows": rows,
        "cut_short": rows > len(shown),
        "shown_rows": len(shown),
    }
    return render_to_string("reporting/export.html", context), rows


def hold_pending() -> bool:
    hold = os.environ.get("CVD_EXPORT_HOLD_FILE")
    return bool(hold) and Path(str(hold)).exists()


def hold_point() -> None:
    """A test hook: park here while the file named by CVD_EXPORT_HOLD_FILE exists (after touching <file>.reached)."""
    hold = os.environ.get("CVD_EXPORT_HOLD_FILE")
    if not hold or not Path(hold).exists():
        return
    Path(f"{hold}.reached").touch()
    while Path(hold).exists():
        time.sleep(0.1)


__all__ = [
    "CONTENT_TYPES", "FORMATS", "SYNC_MAX_DAYS", "ExportSpec", "about", "csv_cell", "export_csv_stream",
    "export_names", "export_spec_load", "export_validate", "export_write",
]


def export_title(report: str) -> str:
    if report == BOARD_PACK:
        return "Board pack"
    if report in RAW_REPORTS:
        return RAW_REPORTS[report].title
    return REPORTS[report].title if report in REPORTS else report
