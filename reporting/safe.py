"""Safe output: text that a spreadsheet would run as a formula is neutralised, in Python and in SQL alike."""

from __future__ import annotations

# A cell that begins with one of these is a formula (or DDE) to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text as it goes into a CSV or XLSX cell: a leading ' when it would start a formula; numbers never pass here."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_sql(expression: str) -> str:
    """The same rule as `neutralise`, for a text expression in SQL (NULL stays NULL)."""
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN '''' || {expression} ELSE {expression} END"
    )
