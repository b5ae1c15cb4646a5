"""Presentation of report answers for the pages: figures formatted for the chain, cells, tables, KPI cards.

Nothing here computes a figure: every value comes from a report's answer as it is, `data-value` is
`analytics.apis._base.present(value)` (what the API gives for the same field) and the text is that
value formatted for people (currency symbol, thousands separators, the chain's time zone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from analytics.apis._base import present

# Symbol and whether it goes after the number; other currencies show their ISO code before it.
CURRENCY_SYMBOLS: dict[str, tuple[str, bool]] = {
    "USD": ("$", False), "EUR": ("€", False), "GBP": ("£", False), "JPY": ("¥", False), "CAD": ("CA$", False),
    "AUD": ("A$", False), "SEK": ("kr", True), "NOK": ("kr", True), "DKK": ("kr", True), "CHF": ("CHF", False),
    "PLN": ("zł", True),
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Formatter:
    """Formats presented values for one chain."""

    currency: str
    time_zone: str

    @property
    def symbol(self) -> tuple[str, bool]:
        return CURRENCY_SYMBOLS.get(self.currency, (self.currency, False))

    def js_config(self) -> dict[str, Any]:
        symbol, after = self.symbol
        return {"currency": self.currency, "symbol": symbol, "symbol_after": after, "time_zone": self.time_zone}

    def money(self, value: Any) -> str:
        try:
            amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
        except (InvalidOperation, ValueError):
            return "–"
        sign = "-" if amount < 0 else ""
        number = f"{abs(amount):,.2f}"
        symbol, after = self.symbol
        return f"{sign}{number} {symbol}" if after else f"{sign}{symbol}{number}"

    def text(self, value: Any, kind: str) -> str:
        """The figure as people read it; `value` is the raw answer (Decimal, int, float, date, str…)."""
        if value is None or value == "":
            return "–"
        if kind == "money":
            return self.money(value)
        if kind == "integer":
            try:
                return f"{int(value):,}"
            except (TypeError, ValueError):
                return str(value)
        if kind == "number":
            return f"{float(value):,.2f}"
        if kind == "rate":
            return f"{float(value) * 100:,.1f} %"
        if kind == "percent":
            return f"{float(value):,.1f}"
        if kind == "change":
            number = float(value)
            return f"{'+' if number > 0 else ''}{number:,.1f} %"
        if kind == "weekday":
            return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[int(value) - 1] if 1 <= int(value) <= 7 else str(value)
        if kind == "boolean":
            return "yes" if value else "no"
        if kind == "datetime" and isinstance(value, datetime):
            return value.astimezone(ZoneInfo(self.time_zone)).strftime("%-d %b %Y %H:%M")
        if kind in ("date", "datetime") and isinstance(value, date):
            return value.strftime("%-d %b %Y")
        return str(value)


def value_attr(value: Any) -> str:
    """The `data-value` of a figure: exactly what the API gives for it, as text."""
    shown = present(value)
    if shown is None:
        return ""
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return str(shown)


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    kind: str = "text"
    link: Callable[[Mapping[str, Any]], str | None] | None = None
    numeric: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "numeric", self.kind in ("money", "integer", "number", "rate", "percent", "change"))


@dataclass(frozen=True)
class Cell:
    value: str
    text: str
    numeric: bool
    href: str | None = None
    css: str = ""


@dataclass(frozen=True)
class Table:
    name: str  # the report (data-table)
    title: str
    columns: Sequence[Col]
    rows: list[list[Cell]]
    key: str = ""  # which list of the answer, when not the report's main list (data-list)
    empty: str = "Nothing in this range."
    caption: str = ""


def table(
    fmt: Formatter, name: str, title: str, columns: Sequence[Col], rows: Iterable[Mapping[str, Any]], *, key: str = "",
    caption: str = "", empty: str = "Nothing in this range.", css: Callable[[Col, Any], str] | None = None,
) -> Table:
    built = []
    for row in rows:
        cells = []
        for col in columns:
            raw = row.get(col.key)
            cells.append(Cell(
                value=value_attr(raw), text=fmt.text(raw, col.kind), numeric=col.numeric,
                href=col.link(row) if col.link else None, css=css(col, raw) if css else "",
            ))
        built.append(cells)
    return Table(name=name, title=title, columns=columns, rows=built, key=key, caption=caption, empty=empty)


@dataclass(frozen=True)
class Kpi:
    field: str
    label: str
    kind: str
    value: str
    text: str
    change: str | None = None  # change_pct as the API gives it
    change_text: str = ""
    previous_text: str = ""
    direction: str = ""


def kpis(
    fmt: Formatter, spec: Sequence[tuple[str, str, str]], values: Mapping[str, Any],
    *, change: Mapping[str, Any] | None = None, previous: Mapping[str, Any] | None = None,
) -> list[Kpi]:
    cards = []
    for key, label, kind in spec:
        if key not in values:
            continue
        raw_change = change.get(key) if change is not None else None
        direction = ""
        if raw_change is not None:
            direction = "up" if float(raw_change) > 0 else "down" if float(raw_change) < 0 else "flat"
        cards.append(Kpi(
            field=key, label=label, kind=kind, value=value_attr(values[key]), text=fmt.text(values[key], kind),
            change=None if change is None else value_attr(raw_change),
            change_text=fmt.text(raw_change, "change") if raw_change is not None else "n/a",
            previous_text=fmt.text(previous.get(key), kind) if previous is not None else "",
            direction=direction,
        ))
    return cards


def chart(name: str, title: str, labels: Sequence[Any], series: Sequence[tuple[str, Sequence[Any]]], *, kind: str = "line",
          value_kind: str = "money") -> dict[str, Any]:
    """A chart's data for the browser (json_script): labels and series as the API gives them."""
    return {
        "name": name, "title": title, "type": kind, "value_kind": value_kind,
        "labels": [value_attr(label) for label in labels],
        "datasets": [{"label": label, "data": [_number(value) for value in values]} for label, values in series],
    }


def _number(value: Any) -> float | None:
    shown = present(value)
    if shown is None:
        return None
    try:
        return float(shown)
    except (TypeError, ValueError):
        return None


def heat_class(value: Any, peak: Any) -> str:
    """One of ten shade classes for a heatmap cell (a stylesheet class: no inline styles under the CSP)."""
    try:
        top = float(peak or 0)
        share = float(value or 0) / top if top > 0 else 0.0
    except (TypeError, ValueError):
        share = 0.0
    return f"heat-{min(9, max(0, int(share * 9.999)))}"
