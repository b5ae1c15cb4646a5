"""Helpers of the export tests: call the export and the API with the same parameters, read CSV/XLSX/PDF back."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from django.test import Client

EXPORT_URL = "/api/analytics/export/"
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def export(client: Client, report: str, fmt: str, params: dict[str, Any]) -> tuple[int, bytes, Any]:
    response = client.post(EXPORT_URL, {"report": report, "format": fmt, **params}, content_type="application/json")
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return response.status_code, body, response


def api(client: Client, report: str, params: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/analytics/{report}/", params)
    assert response.status_code == 200, (report, response.content[:500])
    body: dict[str, Any] = response.json()
    return body


def csv_rows(body: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def as_csv_text(kind: str, value: Any) -> str:
    """What a CSV cell must read for an API value (the API's JSON is the reference)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if kind == "text" and text.startswith(FORMULA):
        return "'" + text
    return text


def xlsx_sheets(body: bytes) -> dict[str, list[tuple[Any, ...]]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def xlsx_expected(kind: str, value: Any) -> Any:
    """What an XLSX cell must hold for an API value: numbers as numbers, dates as dates."""
    if value is None or value == "":
        return None
    if kind == "money":
        return float(value)
    if kind == "date":
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    if kind == "text":
        return as_csv_text(kind, value)
    return value


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
