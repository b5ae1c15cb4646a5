"""The monthly board pack (`report: board-pack`, PDF, `month: YYYY-MM`): every figure from the report registry.

Each section is a registry report run for the month with the API's own parameters (dashboard, asset-sales,
product-sales, locations, revenue by region / resource type, utilization, conversion, customers), and each
figure is shown as the API presents it, so the pack equals the dashboard API for that month to the cent.
The KPI strip compares with the previous calendar month (the dashboard of that month, not the dashboard's
own "previous period" of equal length).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework import serializers

from analytics.apis._base import present
from analytics.reports import get_report
from chains.models import Chain
from reporting import svg

NAME = "board-pack"
TITLE = "Board pack"
TOP = 5
ALERTS_LISTED = 200  # transitions listed; the counts cover all of them
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

KPIS = (
    ("revenue", "Revenue", "money"), ("units", "Units", "integer"), ("transactions", "Transactions", "integer"),
    ("avg_transaction_value", "Average transaction", "money"), ("active_devices", "Active devices", "integer"),
    ("revenue_run_rate", "Revenue run rate", "money"),
)
VENUE_KPIS = (
    ("booking_revenue", "Booking revenue", "money"), ("bookings", "Bookings", "integer"),
    ("no_show_rate", "No-show rate", "rate"), ("utilization", "Utilization", "rate"), ("nps", "NPS", "number"),
)


def month_range(month: str) -> tuple[date, date]:
    match = _MONTH.match(month)
    if not match:
        raise serializers.ValidationError({"month": ["Expected the month as YYYY-MM."]})
    year, number = int(match.group(1)), int(match.group(2))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def validate(given: Mapping[str, Any], *, today: date) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(AnalyticsParams of the month, validated values, JSON params) of a board-pack request."""
    unknown = sorted(set(given) - {"month"})
    if unknown:
        raise serializers.ValidationError({name: ["The board pack takes only a month (YYYY-MM)."] for name in unknown})
    month = given.get("month")
    if not isinstance(month, str):
        raise serializers.ValidationError({"month": ["Required: the month as YYYY-MM."]})
    start, end = month_range(month)
    if start > today:
        raise serializers.ValidationError({"month": [f"{month} has not begun yet."]})
    analytics, values = get_report("dashboard").validate({"start": start.isoformat(), "end": end.isoformat()}, today=today)
    return analytics, values, {"month": month, "start": start.isoformat(), "end": end.isoformat()}


def _run(report: str, start: date, end: date, **extra: Any) -> dict[str, Any]:
    return get_report(report).run({"start": start.isoformat(), "end": end.isoformat(), **extra})


def _shown(value: Any, kind: str = "") -> str:
    shown = present(value)
    if shown is None:
        return "–"
    if kind == "rate" and isinstance(shown, (int, float)):
        return f"{shown} ({shown * 100:.1f} %)"
    return str(shown)


def _change(current: Any, previous: Any) -> str:
    try:
        now, before = float(present(current)), float(present(previous))
    except (TypeError, ValueError):
        return "–"
    if before == 0:
        return "–"
    return f"{(now - before) / before * 100:+.1f} %"


def _top_bottom(rows: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ordered = sorted(rows, key=lambda row: (-float(row.get(key) or 0), str(row.get("asset") or row.get("sku") or row.get("code"))))
    top = ordered[:TOP]
    bottom = list(reversed(ordered[-TOP:])) if len(ordered) > TOP else []
    return top, bottom


def _table(rows: list[dict[str, Any]], columns: tuple[tuple[str, str, str], ...]) -> dict[str, Any]:
    return {
        "headers": [label for _, label, _ in columns],
        "keys": [key for key, _, _ in columns],
        "rows": [[_shown(row.get(key), kind) for key, _, kind in columns] for row in rows],
    }


def _local_midnight(day: date, chain: Chain) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=chain.tz)


def alerts_section(chain: Chain, start: date, end: date) -> dict[str, Any]:
    """The month's alert transitions (fired, resolved) in local time, with counts per rule.

    Values and thresholds are the alerts API's own representation (its serializer), and the transitions are the
    alerts whose `fired_at` / `resolved_at` fall in the local month: the API's list, filtered by those times.
    """
    from reporting.alerts.selectors import alert_transitions
    from reporting.alerts.serializers import AlertSerializer

    transitions = alert_transitions(start=_local_midnight(start, chain), end=_local_midnight(end + timedelta(days=1), chain))
    counts: dict[str, dict[str, int]] = {}
    for transition, _, alert in transitions:
        counts.setdefault(alert.rule.name, {"fired": 0, "resolved": 0})[transition] += 1
    fired = sum(item["fired"] for item in counts.values())
    resolved = sum(item["resolved"] for item in counts.values())
    count_rows = [[name, str(item["fired"]), str(item["resolved"])] for name, item in sorted(counts.items())]
    if count_rows:
        count_rows.append(["All rules", str(fired), str(resolved)])
    listed = []
    for transition, when, alert in transitions[:ALERTS_LISTED]:
        shown = AlertSerializer(alert).data
        listed.append([when.astimezone(chain.tz).strftime("%Y-%m-%d %H:%M"), transition, alert.rule.name,
                       alert.subject or alert.scope_key, _shown(shown["value"]), _shown(shown["threshold"])])
    more = f" (the first {ALERTS_LISTED})" if len(transitions) > ALERTS_LISTED else ""
    empty = "No alert fired or resolved this month."
    return {"slug": "alerts", "title": "Alerts of the month", "summary": {"fired": fired, "resolved": resolved},
            "tables": [
                {"name": "alert-counts", "caption": f"Alert transitions: {fired} fired, {resolved} resolved",
                 "headers": ["Rule", "Fired", "Resolved"], "keys": ["rule", "fired", "resolved"], "rows": count_rows,
                 "empty": empty},
                {"name": "alert-transitions",
                 "caption": f"Transitions, oldest first{more}; times in {chain.time_zone}",
                 "headers": ["When", "Transition", "Rule", "Scope", "Value", "Threshold"],
                 "keys": ["when", "transition", "rule", "scope", "value", "threshold"], "rows": listed, "empty": empty},
            ]}


def board_pack_context(chain: Chain, month: str) -> dict[str, Any]:
    start, end = month_range(month)
    previous_end = start - timedelta(days=1)
    previous_start = previous_end.replace(day=1)
    board = _run("dashboard", start, end)
    before = _run("dashboard", previous_start, previous_end)
    kpis, previous = board["kpis"], before["kpis"]
    from bookings.models import Resource

    venues = Resource.objects.exists() or bool(kpis.get("bookings"))
    strip = [
        {"key": key, "label": label, "value": _shown(kpis.get(key), kind), "previous": _shown(previous.get(key), kind),
         "change": _change(kpis.get(key), previous.get(key))}
        for key, label, kind in (KPIS + VENUE_KPIS if venues else KPIS)
        if key in kpis
    ]
    series = board["series"]
    chart = svg.line_chart(
        [str(present(point["date"])) for point in series], [float(point["revenue"]) for point in series],
        title=f"Daily revenue {month} ({chain.currency})",
    )
    devices = _run("asset-sales", start, end, top_products=False)["devices"]
    products = _run("product-sales", start, end, sections=["top_movers"])["products"]
    locations = _run("locations", start, end)["locations"]
    regions = _run("revenue", start, end, group_by="region")["groups"]
    device_cols = (("asset", "Device", "text"), ("location_name", "Location", "text"),
                   ("total_revenue", "Revenue", "money"), ("total_units", "Units", "integer"),
                   ("total_transactions", "Transactions", "integer"))
    product_cols = (("sku", "SKU", "text"), ("name", "Product", "text"), ("revenue", "Revenue", "money"),
                    ("units", "Units", "integer"), ("abc_class", "ABC", "text"))
    location_cols = (("code", "Code", "text"), ("name", "Location", "text"), ("revenue", "Revenue", "money"),
                     ("units", "Units", "integer"), ("transactions", "Transactions", "integer"))
    group_cols = (("key", "Key", "text"), ("name", "Name", "text"), ("revenue", "Revenue", "money"),
                  ("units", "Units", "integer"), ("transactions", "Transactions", "integer"))
    sections: list[dict[str, Any]] = []
    for slug, title, rows, key, cols in (
        ("devices", "Devices", devices, "total_revenue", device_cols),
        ("products", "Products", products, "revenue", product_cols),
        ("locations", "Locations", locations, "revenue", location_cols),
    ):
        top, bottom = _top_bottom(rows, key)
        sections.append({"slug": slug, "title": f"Top and bottom {title.lower()}", "tables": [
            {"name": f"top-{slug}", "caption": f"Top {len(top)} of {len(rows)} by revenue", **_table(top, cols)},
            *([{"name": f"bottom-{slug}", "caption": f"Bottom {len(bottom)}", **_table(bottom, cols)}] if bottom else []),
        ]})
    sections.append({"slug": "regions", "title": "Regions", "tables": [
        {"name": "regions", "caption": "Revenue by region", **_table(regions, group_cols)}
    ], "chart": svg.bar_chart([str(g.get("name") or g.get("key")) for g in regions[:15]],
                              [float(g["revenue"]) for g in regions[:15]], title="Revenue by region") if regions else None})
    if venues:
        resource_types = _run("revenue", start, end, group_by="resource_type")["groups"]
        usage = _run("utilization", start, end)
        funnel = _run("conversion", start, end)
        customers = _run("customers", start, end)
        utilization_cols = (("code", "Resource", "text"), ("resource_type", "Type", "text"), ("bookings", "Bookings", "integer"),
                            ("no_shows", "No-shows", "integer"), ("no_show_rate", "No-show rate", "rate"),
                            ("utilization", "Utilization", "rate"), ("revenue", "Revenue", "money"))
        trend = usage.get("no_show_trend") or []
        sections.append({"slug": "venues", "title": "Venues", "tables": [
            {"name": "resource-types", "caption": "Revenue by resource type", **_table(resource_types, group_cols)},
            {"name": "utilization", "caption": "Utilization per resource", **_table(usage["resources"], utilization_cols)},
            {"name": "utilization-total", "caption": "The chain", **_table([usage["total"]], (
                ("bookings", "Bookings", "integer"), ("no_shows", "No-shows", "integer"),
                ("no_show_rate", "No-show rate", "rate"), ("utilization", "Utilization", "rate"), ("revenue", "Revenue", "money"),
            ))},
            {"name": "funnel", "caption": "Booking funnel", **_table(funnel["steps"], (
                ("step", "Step", "text"), ("sessions", "Sessions", "integer"), ("conversion", "Conversion", "rate"),
                ("drop_off", "Drop-off", "rate"),
            ))},
            {"name": "cohorts", "caption": "Customers: first-time and repeat", **_table(customers["cohorts"], (
                ("month", "Month", "text"), ("first_time", "First-time", "integer"), ("repeat", "Repeat", "integer"),
            ))},
        ], "chart": svg.line_chart([str(present(day.get("date"))) for day in trend],
                                   [float(day.get("no_show_rate") or 0) * 100 for day in trend],
                                   title="No-show rate per day (%)") if trend else None})
    sections.append(alerts_section(chain, start, end))
    return {
        "chain": chain, "month": month, "start": start, "end": end, "currency": chain.currency,
        "previous_month": previous_start.strftime("%Y-%m"), "strip": strip, "chart": chart, "sections": sections,
        "venues": venues, "generated_at": timezone.now().astimezone(chain.tz).isoformat(timespec="seconds"),
        "series_total": _shown(kpis.get("revenue"), "money"),
    }


def board_pack_write(chain: Chain, month: str, target: BinaryIO) -> int:
    """Render the pack to `target`; returns its number of table rows."""
    from reporting.pdf import render_pdf

    context = board_pack_context(chain, month)
    target.write(render_pdf(render_to_string("reporting/board_pack.html", context)))
    return sum(len(table["rows"]) for section in context["sections"] for table in section["tables"])
