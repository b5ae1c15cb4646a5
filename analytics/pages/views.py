"""The pages: each one runs reports of the registry with the page's query string and presents their answers.

No figure is computed here. A page validates its query string with the same parameter serializers as the
API (`Report.run`), so a bad value is a 400 naming the field, and every figure shown is the report's own
value, with `data-value` exactly what the API gives (`presentation.value_attr`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from rest_framework.exceptions import ValidationError

from analytics.pages.context import cleaned_query, filter_bar, filter_query, page_context
from analytics.pages.panels import dashboard_panels
from analytics.pages.presentation import Col, Formatter, Table, chart, heat_class, kpis, table
from analytics.reports import Column, get_report
from bookings.models import Resource
from chains.capabilities import ANALYTICS_READ
from fleet.models import Device, DexRead, Location, PlanogramSlot, Product
from routes.models import Route

Row = Mapping[str, Any]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def home(request: HttpRequest) -> HttpResponse:
    return redirect("pages:dashboard" if request.user.is_authenticated else "login")


class Links:
    """Drill-down links that keep the page's range and filters."""

    def __init__(self, query: QueryDict) -> None:
        keep = filter_query(query)
        self.suffix = f"?{keep}" if keep else ""

    def device(self, asset: Any) -> str | None:
        return f"/assets/{quote(str(asset), safe='')}/{self.suffix}" if asset else None

    def product(self, sku: Any) -> str | None:
        return f"/products/{quote(str(sku), safe='')}/{self.suffix}" if sku else None

    def location(self, code: Any) -> str | None:
        return f"/locations/{quote(str(code), safe='')}/{self.suffix}" if code else None

    def resource(self, code: Any) -> str | None:
        return f"/venues/{quote(str(code), safe='')}/{self.suffix}" if code else None

    def by(self, kind: str, key: str) -> Callable[[Row], str | None]:
        method: Callable[[Any], str | None] = getattr(self, kind)
        return lambda row: method(row.get(key))


def with_params(query: QueryDict, **overrides: Any) -> QueryDict:
    data = query.copy()
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data.setlist(key, [str(item) for item in value] if isinstance(value, (list, tuple)) else [str(value)])
    return data


def api_url(report: str, data: QueryDict) -> str:
    encoded = data.urlencode()
    return f"/api/analytics/{report}/" + (f"?{encoded}" if encoded else "")


COMMON_LABELS = {"sku": "SKU", "z": "z", "rfm": "RFM", "code": "Code", "product_name": "Product"}
# Fractions the registry types as plain numbers (they may pass 1), shown as percentages.
SHOWN_AS_RATE = {"utilization", "completion_rate"}


def report_cols(report: str, keys: list[str], links: Mapping[str, Callable[[Row], str | None]] | None = None,
                labels: Mapping[str, str] | None = None) -> list[Col]:
    """Columns of a report's main list, typed by the registry."""
    declared = {column.key: column for column in get_report(report).columns}
    cols = []
    for key in keys:
        # A column the registry no longer declares shows as text rather than failing the page.
        column = declared.get(key) or Column(key, key.replace("_", " ").capitalize(), "text")
        label = (labels or {}).get(key) or COMMON_LABELS.get(key, column.label)
        kind = "rate" if key in SHOWN_AS_RATE else column.kind
        cols.append(Col(key, label, kind, (links or {}).get(key)))
    return cols


def heat_kind(metric: str) -> str:
    return {"revenue": "money", "utilization": "rate"}.get(metric, "integer")


class Page(View):
    """A page that needs analytics.read; subclasses build their sections from report answers."""

    active = "dashboard"
    title = ""
    export_report: str | None = None  # the report the export controls ask for
    template_name = "pages/page.html"

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(ANALYTICS_READ):
            raise PermissionDenied("You need the analytics.read capability for CVD's pages.")
        context = page_context(request, active=self.active)
        fmt: Formatter = context["fmt"]
        query = cleaned_query(request)
        self.query = query
        self.fmt = fmt
        self.links = Links(query)
        self.context = context
        self.live: dict[str, Any] | None = None
        self.extra_controls: list[dict[str, Any]] = []
        self.heading = self.title
        self.subtitle = ""
        self.export_overrides: dict[str, Any] = {}
        status = 200
        errors: list[tuple[str, str]] = []
        sections: list[dict[str, Any]] = []
        start = end = None
        try:
            params, _ = get_report("dashboard").validate(query, today=context["today"])
            start, end = params.period.start, params.period.end
            self.period_includes_today = start <= context["today"] <= end
            sections = self.build(**kwargs)
        except ValidationError as exc:
            status = 400
            errors = _field_errors(exc.detail)
        context.update({
            "title": self.heading,
            "subtitle": self.subtitle,
            "sections": sections,
            "errors": errors,
            "filter": filter_bar(query, start=start, end=end, today=context["today"]),
            "extra_controls": self.extra_controls,
            "export_report": self.export_report,
            "export_params": _export_params(with_params(query, **self.export_overrides)),
            "live": self.live,
            "rendered_at": timezone.now().astimezone(fmt_zone(fmt)).strftime("%H:%M"),
            "period": (start, end),
        })
        return render(request, self.template_name, context, status=status)

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    # --- helpers for the sections --------------------------------------------------------------

    def run(self, report: str, *, paged: bool = True, **overrides: Any) -> dict[str, Any]:
        """The report for this page's query: one page of its main list (the address's ?limit= and ?offset=, default
        the registry's page) with the total, unless `paged=False` asks for the whole list."""
        return get_report(report).run(with_params(self.query, **overrides), today=self.context["today"], paged=paged)

    def shown(self, answer: Mapping[str, Any], caption: str = "") -> str:
        """The caption of a paged table: what it shows of how many, and where the rest is."""
        page = answer.get("page")
        if not page or page["returned"] >= page["total"]:
            return caption
        first = page["offset"] + 1 if page["returned"] else page["offset"]
        count = self.fmt.text(page["total"], "integer")
        if page["offset"]:
            span = f"Showing {first}–{page['offset'] + page['returned']} of {count}"
        else:
            span = f"Showing {page['returned']} of {count}"
        return " ".join(part for part in (caption, f"{span} — export for all (or page with ?offset=).") if part)

    def go_live(self, report: str, key: str, *, change: str | None = None, **overrides: Any) -> None:
        """Refresh this page's KPI cards from the API every minute while the range includes today."""
        if self.period_includes_today:
            self.live = {"url": api_url(report, with_params(self.query, **overrides)), "key": key, "change": change or ""}

    def kpi_section(self, title: str, spec: list[tuple[str, str, str]], values: Mapping[str, Any], *,
                    change: Mapping[str, Any] | None = None, previous: Mapping[str, Any] | None = None,
                    live: bool = False, report: str = "") -> dict[str, Any]:
        cards = kpis(self.fmt, spec, values, change=change, previous=previous)
        return {"type": "kpis", "title": title, "cards": cards, "live": live and self.live is not None, "report": report}

    def table_section(self, tbl: Table, *, wide: bool = True) -> dict[str, Any]:
        return {"type": "table", "table": tbl, "wide": wide}

    def chart_section(self, spec: dict[str, Any], tbl: Table, *, wide: bool = True) -> dict[str, Any]:
        return {"type": "chart", "chart": spec, "id": f"chart-{spec['name']}", "table": tbl, "wide": wide}

    def map_section(self, name: str, title: str, points: list[dict[str, Any]], tbl: Table | None,
                    legend: str) -> dict[str, Any]:
        from django.conf import settings
        from django.templatetags.static import static

        config = {"points": points, "tile_url": getattr(settings, "CVD_MAP_TILE_URL", ""),
                  "outline_urls": [static("pages/vendor/countries-50m.json"), static("pages/vendor/us-states-10m.json")]}
        return {"type": "map", "name": name, "title": title, "id": f"map-{name}", "config": config, "table": tbl,
                "legend": legend, "wide": True}

    def heatmap_section(self, report: str, title: str, answer: Mapping[str, Any], kind: str) -> dict[str, Any]:
        peak = (answer.get("peak") or {}).get("value")
        by_cell = {(cell["weekday"], cell["hour"]): cell["value"] for cell in answer.get("cells", [])}
        rows = []
        for weekday in range(1, 8):
            cells = []
            for hour in range(24):
                value = by_cell.get((weekday, hour))
                cells.append({"value": _attr(value), "text": self.fmt.text(value, kind), "css": heat_class(value, peak),
                              "hour": hour})
            rows.append({"label": WEEKDAYS[weekday - 1], "weekday": weekday, "cells": cells})
        return {"type": "heatmap", "report": report, "title": title, "rows": rows, "hours": list(range(24)),
                "metric": answer.get("metric", ""), "wide": True}

    def note(self, title: str, text: str, links: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        return {"type": "note", "title": title, "text": text, "links": links or [], "wide": True}

    def series_chart(self, name: str, title: str, report: str, rows: list[Row], key: str, *, list_key: str = "",
                     date_key: str = "date", value_kind: str = "money", label: str = "Revenue",
                     cols: list[Col] | None = None) -> dict[str, Any]:
        spec = chart(name, title, [row[date_key] for row in rows], [(label, [row[key] for row in rows])],
                     value_kind=value_kind)
        columns = cols or [Col(date_key, "Date", "date"), Col(key, label, value_kind)]
        return self.chart_section(spec, table(self.fmt, report, title, columns, rows, key=list_key))


def fmt_zone(fmt: Formatter) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(fmt.time_zone)


def _attr(value: Any) -> str:
    from analytics.pages.presentation import value_attr

    return value_attr(value)


def _field_errors(detail: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(detail, Mapping):
        out: list[tuple[str, str]] = []
        for key, value in detail.items():
            out.extend(_field_errors(value, key if key != "non_field_errors" else prefix))
        return out
    if isinstance(detail, (list, tuple)):
        out = []
        for item in detail:
            out.extend(_field_errors(item, prefix))
        return out
    return [(prefix or "parameters", str(detail))]


def _export_params(query: QueryDict) -> dict[str, Any]:
    return {key: values[0] if len(values) == 1 else values for key, values in query.lists()}


# --- the pages ---------------------------------------------------------------------------------------

DASHBOARD_SALES_KPIS = [
    ("revenue", "Revenue", "money"), ("sales_revenue", "Sales revenue", "money"),
    ("booking_revenue", "Booking revenue", "money"), ("units", "Units", "integer"),
    ("transactions", "Transactions", "integer"), ("avg_transaction_value", "Avg transaction", "money"),
    ("active_devices", "Active devices", "integer"), ("revenue_run_rate", "Revenue run rate", "money"),
]
DASHBOARD_VENUE_KPIS = [
    ("bookings", "Bookings", "integer"), ("no_show_rate", "No-show rate", "rate"),
    ("utilization", "Utilization", "rate"), ("nps", "NPS", "number"),
]


class DashboardPage(Page):
    active = "dashboard"
    title = "Dashboard"
    export_report = "dashboard"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("dashboard")
        self.go_live("dashboard", "kpis", change="change_pct")
        spec = list(DASHBOARD_SALES_KPIS)
        if not self.context["has_devices"]:
            spec = [item for item in spec if item[0] in ("revenue", "booking_revenue")]
        if self.context["has_resources"]:
            spec += DASHBOARD_VENUE_KPIS
        else:
            spec = [item for item in spec if item[0] not in ("sales_revenue", "booking_revenue")]
        sections = [self.kpi_section(
            "Key figures", spec, answer["kpis"], change=answer.get("change_pct"), previous=answer.get("previous"),
            live=True, report="dashboard",
        )]
        link = self.links
        if self.context["has_resources"]:
            venues = self.run("utilization", limit=10)
            sections.append(self.kpi_section("Venues", VENUE_KPIS, venues["total"], report="utilization"))
            sections.append(self.table_section(table(self.fmt, "utilization", "Top resources by utilization", report_cols(
                "utilization", ["code", "name", "location_name", "bookings", "no_show_rate", "utilization", "revenue"],
                {"code": link.by("resource", "code")}), venues["resources"], empty="No resources in scope."),
                wide=not self.context["has_devices"]))
        if self.context["has_devices"]:
            sections.append(self.series_chart(
                "revenue-daily", "Revenue per day", "dashboard", answer["series"], "revenue",
                cols=[Col(c.key, c.label, c.kind) for c in get_report("dashboard").columns],
            ))
            sections.append(self.table_section(table(self.fmt, "dashboard", "Top devices", [
                Col("asset", "Device", "text", link.by("device", "asset")), Col("location_name", "Location"),
                Col("revenue", "Revenue", "money"), Col("units", "Units", "integer"),
                Col("transactions", "Transactions", "integer"),
            ], answer.get("top_devices", []), key="top_devices"), wide=False))
            sections.append(self.table_section(table(self.fmt, "dashboard", "Top products", [
                Col("sku", "SKU", "text", link.by("product", "sku")), Col("name", "Product"), Col("category", "Category"),
                Col("revenue", "Revenue", "money"), Col("units", "Units", "integer"),
            ], answer.get("top_products", []), key="top_products"), wide=False))
            sections.append(self.table_section(table(self.fmt, "dashboard", "Top locations", [
                Col("code", "Code", "text", link.by("location", "code")), Col("name", "Location"),
                Col("region", "Region"), Col("revenue", "Revenue", "money"),
                Col("transactions", "Transactions", "integer"),
            ], answer.get("top_locations", []), key="top_locations"), wide=False))
        for panel in dashboard_panels():
            sections.extend(panel(self))
        return sections


DEVICE_COLUMNS = ["fleet_rank", "asset", "location_name", "total_revenue", "total_units", "total_transactions",
                  "avg_transaction_value", "daily_revenue", "revenue_per_unit", "active_days", "last_sale",
                  "performance_score", "percentile"]
FLEET_KPIS = [
    ("total_revenue", "Revenue", "money"), ("total_units", "Units", "integer"),
    ("total_transactions", "Transactions", "integer"), ("avg_transaction_value", "Avg transaction", "money"),
    ("daily_revenue", "Revenue per day", "money"), ("device_count", "Devices", "integer"),
    ("active_devices", "Active devices", "integer"), ("median_revenue_per_device", "Median per device", "money"),
]


def _score_legend() -> str:
    return "Colour by performance score: green ≥ 67, amber 34–66, red ≤ 33."


def device_points(rows: list[Row], links: Links, fmt: Formatter) -> list[dict[str, Any]]:
    """Map markers of devices, at their location's coordinates (catalog lookup, no figures)."""
    ids = [row["device_id"] for row in rows]
    where = {
        pk: (lat, lon, code, name)
        for pk, lat, lon, code, name in Device.objects.filter(id__in=ids).values_list(
            "id", "location__latitude", "location__longitude", "location__code", "location__name")
    }
    points = []
    for row in rows:
        lat, lon, _code, name = where.get(row["device_id"], (None, None, "", ""))
        if lat is None or lon is None:
            continue
        points.append({"lat": float(lat), "lon": float(lon), "label": str(row["asset"]), "href": links.device(row["asset"]),
                       "detail": f"{name} · {fmt.money(row['total_revenue'])} · score {fmt.text(row['performance_score'], 'percent')}",
                       "score": float(row["performance_score"])})
    return points


class AssetsPage(Page):
    active = "assets"
    title = "Devices"
    export_report = "asset-sales"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("asset-sales")
        self.go_live("asset-sales", "fleet_summary", top_products="false")
        link = self.links
        devices_table = table(self.fmt, "asset-sales", "Devices", report_cols("asset-sales", DEVICE_COLUMNS, {
            "asset": link.by("device", "asset")}, {"fleet_rank": "Rank", "asset": "Device", "location_name": "Location",
                                                   "performance_score": "Score"}), answer["devices"],
            caption=self.shown(answer, "Devices in scope by fleet rank; score and percentile run 0–100."))
        return [
            self.kpi_section("Fleet", FLEET_KPIS, answer["fleet_summary"], live=True, report="asset-sales"),
            self.map_section("devices", "Device map", device_points(answer["devices"], link, self.fmt), None, _score_legend()),
            self.table_section(devices_table),
            self.series_chart("fleet-daily", "Fleet revenue per day", "asset-sales", answer.get("daily", []), "revenue",
                              list_key="daily"),
            self.table_section(table(self.fmt, "asset-sales", "Benchmarks (quartiles across devices)", [
                Col("metric", "Metric"), Col("p25", "25th percentile", "number"), Col("median", "Median", "number"),
                Col("p75", "75th percentile", "number"),
            ], answer.get("benchmarks", []), key="benchmarks")),
        ]


DEVICE_KPIS = [
    ("total_revenue", "Revenue", "money"), ("total_units", "Units", "integer"),
    ("total_transactions", "Transactions", "integer"), ("avg_transaction_value", "Avg transaction", "money"),
    ("daily_revenue", "Revenue per day", "money"), ("revenue_per_unit", "Revenue per unit", "money"),
    ("active_days", "Active days", "integer"), ("first_sale", "First sale", "date"), ("last_sale", "Last sale", "date"),
]
RANK_KPIS = [("performance_score", "Performance score", "percent"), ("fleet_rank", "Fleet rank", "integer"),
             ("percentile", "Percentile", "percent")]


class AssetPage(Page):
    active = "assets"
    title = "Device"
    export_report = "asset-sales"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        device = get_object_or_404(Device.objects.select_related("location", "device_type"), asset=kwargs["asset"])
        self.heading = f"Device {device.asset}"
        self.subtitle = f"{device.location.name} · {device.device_type.name if device.device_type else 'no type'}"
        self.export_overrides = {"device": device.id}
        link = self.links
        own = self.run("asset-sales", device=device.id, daily_series="true")
        row = next((item for item in own["devices"] if item["device_id"] == device.id), None)
        self.go_live("asset-sales", "devices.0", device=device.id, top_products="false")
        # Score, rank and percentile are relative to the fleet in scope, so they come from the fleet's answer.
        fleet = self.run("asset-sales", paged=False, top_products="false")
        ranked = next((item for item in fleet["devices"] if item["device_id"] == device.id), None)
        sections: list[dict[str, Any]] = [self.note("Where", "", [(f"Location {device.location.name}", link.location(device.location.code) or "")])]
        if row is None:
            sections.append(self.note("No figures", "This device is not in scope for the range and filters."))
            return sections
        sections.append(self.kpi_section("Device figures", DEVICE_KPIS, row, live=True, report="asset-sales"))
        if ranked is not None:
            sections.append(self.kpi_section("In the fleet", RANK_KPIS, ranked, report="asset-sales"))
        sections.append(self.series_chart("device-daily", "Revenue per day", "asset-sales", row.get("daily", []),
                                          "revenue", list_key="devices.daily"))
        sections.append(self.table_section(table(self.fmt, "asset-sales", "Top products", [
            Col("sku", "SKU", "text", link.by("product", "sku")), Col("name", "Product"),
            Col("revenue", "Revenue", "money"), Col("units", "Units", "integer"),
        ], row.get("top_products", []), key="devices.top_products"), wide=False))
        found = self.run("anomalies", device=device.id)
        sections.append(self.table_section(table(self.fmt, "anomalies", "Anomalies", report_cols("anomalies", [
            "date", "revenue", "mean", "z", "direction", "severity"]), found["anomalies"],
            empty="No anomalous days in this range."), wide=False))
        stock = self.run("inventory", device=device.id)
        sections.append(self.table_section(table(self.fmt, "inventory", "Slots and stock", report_cols("inventory", [
            "slot", "sku", "product_name", "capacity", "par_level", "last_fill_at", "estimated_stock", "daily_velocity",
            "days_until_empty", "risk"], {"sku": link.by("product", "sku")}), stock["slots"],
            empty="No planogram for this device.")))
        reads = DexRead.objects.filter(device=device).order_by("-uploaded_at")[:10]
        sections.append(self.table_section(table(self.fmt, "dex-reads", "Recent DEX reads", [
            Col("uploaded_at", "Uploaded", "datetime"), Col("read_at", "Read at", "datetime"), Col("status", "Status"),
            Col("file_name", "File"), Col("flags", "Flags"),
        ], [{"uploaded_at": r.uploaded_at, "read_at": r.read_at, "status": r.status, "file_name": r.file_name,
             "flags": ", ".join(str(flag) for flag in r.flags) if r.flags else ""} for r in reads],
            empty="No DEX reads for this device.")))
        return sections


PRODUCT_COLUMNS = ["sku", "name", "category", "revenue", "units", "transactions", "devices_stocking", "velocity",
                   "velocity_rank", "revenue_per_unit", "margin", "abc_class", "revenue_share"]


class ProductsPage(Page):
    active = "products"
    title = "Products"
    export_report = "product-sales"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("product-sales")
        link = self.links
        categories = answer.get("categories", [])
        category_chart = chart("category-revenue", "Revenue by category", [row["category"] for row in categories],
                               [("Revenue", [row["revenue"] for row in categories])], kind="bar")
        return [
            self.table_section(table(self.fmt, "product-sales", "Products", report_cols("product-sales", PRODUCT_COLUMNS, {
                "sku": link.by("product", "sku")}, {"abc_class": "ABC"}), answer["products"], caption=self.shown(answer))),
            self.chart_section(category_chart, table(self.fmt, "product-sales", "Categories", [
                Col("category", "Category"), Col("revenue", "Revenue", "money"), Col("units", "Units", "integer"),
                Col("products", "Products", "integer"), Col("share", "Share", "rate"),
            ], categories, key="categories")),
            self.table_section(table(self.fmt, "product-sales", "ABC classes", [
                Col("abc_class", "Class"), Col("products", "Products", "integer"), Col("revenue", "Revenue", "money"),
                Col("share", "Share", "rate")], answer.get("abc_summary", []), key="abc_summary"), wide=False),
            self.table_section(table(self.fmt, "product-sales", "Slow movers", [
                Col("sku", "SKU", "text", link.by("product", "sku")), Col("name", "Product"),
                Col("last_sold_on", "Last sold", "date"), Col("days_since_last_sale", "Days since", "integer"),
                Col("bucket", "Bucket", "integer")], answer.get("slow_movers", []), key="slow_movers",
                empty="No slow movers."), wide=False),
            self.table_section(table(self.fmt, "product-sales", "Top movers", [
                Col("sku", "SKU", "text", link.by("product", "sku")), Col("name", "Product"),
                Col("current_units", "Units", "integer"), Col("previous_units", "Previous", "integer"),
                Col("velocity_change_pct", "Velocity change %", "number")], answer.get("top_movers", []),
                key="top_movers", empty="No product sped up."), wide=False),
            self.table_section(table(self.fmt, "product-sales", "Bought together", [
                Col("antecedent", "If", "text", link.by("product", "antecedent")),
                Col("consequent", "Then", "text", link.by("product", "consequent")),
                Col("pair_count", "Baskets", "integer"), Col("support", "Support", "rate"),
                Col("confidence", "Confidence", "rate"), Col("lift", "Lift", "number")], answer.get("affinity", []),
                key="affinity", empty="No pairs seen twice."), wide=False),
            self.table_section(table(self.fmt, "product-sales", "Revenue by slot position", [
                Col("slot", "Slot"), Col("revenue", "Revenue", "money"), Col("units", "Units", "integer"),
                Col("share", "Share", "rate")], answer.get("slots", []), key="slots"), wide=False),
        ]


PRODUCT_KPIS = [
    ("revenue", "Revenue", "money"), ("units", "Units", "integer"), ("transactions", "Transactions", "integer"),
    ("devices_stocking", "Devices stocking", "integer"), ("velocity", "Units per machine per day", "number"),
    ("velocity_rank", "Velocity rank", "integer"), ("margin", "Margin", "money"), ("abc_class", "ABC class", "text"),
]


class ProductPage(Page):
    active = "products"
    title = "Product"
    export_report = "product-sales"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        product = get_object_or_404(Product.objects.select_related("category"), sku=kwargs["sku"])
        self.heading = f"{product.name} ({product.sku})"
        self.subtitle = product.category.name if product.category else "Uncategorized"
        answer = self.run("product-sales")
        row = next((item for item in answer["products"] if item["product_id"] == product.id), None)
        sections: list[dict[str, Any]] = []
        if row is None:
            sections.append(self.note("No figures", "This product has no sales in scope for the range and filters."))
        else:
            sections.append(self.kpi_section("Product figures", PRODUCT_KPIS, row, report="product-sales"))
        # Which machines carry it now: the planogram in force (catalog, not a figure).
        slots = (PlanogramSlot.objects.filter(product=product, valid_to__isnull=True)
                 .select_related("device__location").order_by("device__asset", "slot_code"))
        link = self.links
        sections.append(self.table_section(table(self.fmt, "planogram", "Devices that stock it", [
            Col("asset", "Device", "text", link.by("device", "asset")),
            Col("location", "Location", "text", link.by("location", "location_code")), Col("slot", "Slot"),
            Col("capacity", "Capacity", "integer"), Col("par_level", "Par level", "integer"),
        ], [{"asset": s.device.asset, "location": s.device.location.name, "location_code": s.device.location.code,
             "slot": s.slot_code, "capacity": s.capacity, "par_level": s.par_level} for s in slots],
            empty="No device stocks it now.")))
        return sections


class LocationsPage(Page):
    active = "locations"
    title = "Locations"
    export_report = "locations"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("locations")
        link = self.links
        points = [
            {"lat": float(row["latitude"]), "lon": float(row["longitude"]), "label": f"{row['name']} ({row['code']})",
             "href": link.location(row["code"]), "score": float(row["percentile"]),
             "detail": f"{row['city']} · {self.fmt.money(row['revenue'])}"}
            for row in answer["locations"] if row.get("latitude") is not None and row.get("longitude") is not None
        ]
        geo = [Col("name", "Name"), Col("locations", "Locations", "integer"), Col("revenue", "Revenue", "money"),
               Col("units", "Units", "integer"), Col("transactions", "Transactions", "integer"),
               Col("bookings", "Bookings", "integer")]
        return [
            self.map_section("locations", "Location map", points, None,
                             "Colour by revenue percentile among the locations: green ≥ 67, amber 34–66, red ≤ 33."),
            self.table_section(table(self.fmt, "locations", "Locations", report_cols("locations", [
                "code", "name", "city", "region", "revenue", "sales_revenue", "booking_revenue", "units", "transactions",
                "bookings", "devices", "active_devices", "revenue_per_device", "percentile"], {
                "code": link.by("location", "code")}), answer["locations"], caption=self.shown(answer))),
            self.table_section(table(self.fmt, "locations", "Regions", geo, answer.get("regions", []), key="regions"),
                               wide=False),
            self.table_section(table(self.fmt, "locations", "Cities", geo, answer.get("cities", []), key="cities"),
                               wide=False),
        ]


class LocationPage(Page):
    active = "locations"
    title = "Location"
    export_report = "asset-sales"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        location = get_object_or_404(Location, code=kwargs["code"])
        self.export_overrides = {"location": location.id}
        self.heading = f"{location.name} ({location.code})"
        self.subtitle = ", ".join(part for part in (location.address, location.city, location.region) if part)
        answer = self.run("dashboard", location=location.id)
        self.go_live("dashboard", "kpis", change="change_pct", location=location.id)
        spec = list(DASHBOARD_SALES_KPIS[:1] + DASHBOARD_SALES_KPIS[3:])
        if self.context["has_resources"]:
            spec += DASHBOARD_VENUE_KPIS
        link = self.links
        sections = [
            self.kpi_section("Location figures", spec, answer["kpis"], change=answer.get("change_pct"),
                             previous=answer.get("previous"), live=True, report="dashboard"),
            self.series_chart("location-daily", "Revenue per day", "dashboard", answer["series"], "revenue",
                              cols=[Col(c.key, c.label, c.kind) for c in get_report("dashboard").columns]),
        ]
        if location.devices.exists():
            devices = self.run("asset-sales", location=location.id)
            sections.append(self.table_section(table(self.fmt, "asset-sales", "Devices here", report_cols(
                "asset-sales", DEVICE_COLUMNS, {"asset": link.by("device", "asset")},
                {"fleet_rank": "Rank", "asset": "Device", "location_name": "Location", "performance_score": "Score"}),
                devices["devices"], caption=self.shown(devices, "Rank, score and percentile among the devices of this location."))))
        if location.resources.exists():
            venue = self.run("utilization", location=location.id)
            sections.append(self.table_section(table(self.fmt, "utilization", "Resources here", report_cols(
                "utilization", ["code", "name", "resource_type", "bookings", "no_shows", "no_show_rate", "utilization",
                                "revenue"], {"code": link.by("resource", "code")}), venue["resources"], caption=self.shown(venue))))
        return sections


class TrendsPage(Page):
    active = "trends"
    title = "Trends"
    export_report = "trends"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        from analytics.selectors.heatmap import HEATMAP_METRICS
        from analytics.selectors.trends import TREND_METRICS

        metric = self.query.get("metric", "revenue")
        self.extra_controls = [{"name": "metric", "label": "Metric", "blank": "", "options": [
            {"value": m, "label": m.replace("_", " "), "selected": m == metric} for m in TREND_METRICS]}]
        answer = self.run("trends")
        kind = "money" if answer["metric"] == "revenue" else "number"
        series = answer["series"]
        forecast = answer.get("forecast", [])
        spec = chart("trend-forecast", "Daily series and 30-day forecast",
                     [row["date"] for row in series] + [row["date"] for row in forecast],
                     [("Actual", [row["value"] for row in series] + [None] * len(forecast)),
                      ("Forecast", [None] * len(series) + [row["forecast"] for row in forecast]),
                      ("Lower", [None] * len(series) + [row["lower"] for row in forecast]),
                      ("Upper", [None] * len(series) + [row["upper"] for row in forecast])], value_kind=kind)
        heat_metric = metric if metric in HEATMAP_METRICS else "revenue"
        heat = self.run("heatmap", metric=heat_metric)
        return [
            self.kpi_section("Trend", [("slope", "Slope per day", "number"), ("intercept", "Intercept", "number"),
                                       ("r_squared", "R²", "number")], answer.get("trend", {}), report="trends"),
            self.chart_section(spec, table(self.fmt, "trends", "Daily series", [
                Col("date", "Date", "date"), Col("value", answer["metric"].capitalize(), kind)], series)),
            self.table_section(table(self.fmt, "trends", "Forecast", [
                Col("date", "Date", "date"), Col("forecast", "Forecast", "number"), Col("lower", "Lower", "number"),
                Col("upper", "Upper", "number")], forecast, key="forecast"), wide=False),
            self.table_section(table(self.fmt, "trends", "Seasonality (weekday factors)", [
                Col("weekday", "Weekday", "weekday"), Col("mean", "Mean", "number"), Col("factor", "Factor", "number")],
                answer.get("seasonality", []), key="seasonality"), wide=False),
            self.kpi_section("Backtest", [("holdout_days", "Held-out days", "integer"), ("mae", "MAE", "number"),
                                          ("mape", "MAPE %", "number")], answer.get("backtest", {}), report="trends"),
            self.heatmap_section("heatmap", f"Weekday × hour ({heat_metric})", heat, heat_kind(heat_metric)),
        ]


class AnomaliesPage(Page):
    active = "anomalies"
    title = "Anomalies"
    export_report = "anomalies"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("anomalies")
        return [
            self.kpi_section("Checked", [("devices_checked", "Devices checked", "integer"),
                                         ("z_threshold", "|z| threshold", "number")], answer, report="anomalies"),
            self.table_section(table(self.fmt, "anomalies", "Anomalous device days", report_cols("anomalies", [
                "asset", "date", "revenue", "mean", "std", "z", "direction", "severity"], {
                "asset": self.links.by("device", "asset")}, {"asset": "Device"}), answer["anomalies"],
                empty="No device day is more than the threshold away from its mean.", caption=self.shown(answer))),
        ]


class RoutesPage(Page):
    active = "routes"
    title = "Routes and drivers"
    export_report = "routes"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("routes")
        return [
            self.kpi_section("Route runs", [
                ("runs", "Runs", "integer"), ("stops_planned", "Stops planned", "integer"),
                ("stops_completed", "Stops completed", "integer"), ("completion_rate", "Completion", "rate"),
                ("minutes_per_stop", "Minutes per stop", "number"), ("cash_collected", "Cash collected", "money"),
                ("serviced_revenue", "Serviced revenue", "money")], answer["total"], report="routes"),
            self.table_section(table(self.fmt, "routes", "Runs", report_cols("routes", [
                "scheduled_for", "route", "route_name", "driver", "stops_planned", "stops_completed", "completion_rate",
                "duration_minutes", "minutes_per_stop", "cash_collected", "serviced_revenue"]), answer["runs"],
                empty="No route runs in this range.", caption=self.shown(answer))),
            self.table_section(table(self.fmt, "routes", "Drivers", [
                Col("driver", "Driver"), Col("runs", "Runs", "integer"), Col("stops_completed", "Stops", "integer"),
                Col("avg_completion_rate", "Completion", "rate"), Col("avg_minutes_per_stop", "Minutes per stop", "number"),
                Col("consistency", "Consistency", "rate"), Col("cash_collected", "Cash", "money")],
                answer.get("drivers", []), key="drivers", empty="No drivers with runs.")),
        ]


INVENTORY_LIMIT = 200


class InventoryPage(Page):
    active = "inventory"
    title = "Inventory"
    export_report = "inventory"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        route = self.query.get("route", "")
        self.extra_controls = [{"name": "route", "label": "Pick list for route", "blank": "None", "options": [
            {"value": str(pk), "label": f"{name} ({code})", "selected": str(pk) == route}
            for pk, code, name in Route.objects.order_by("code").values_list("id", "code", "name")]}]
        # Every slot of the chain can be thousands of rows: the page lists the most urgent unless ?limit= says
        # otherwise (the risk counts always cover every slot, and the export holds them all).
        limit = self.query.get("limit") or str(INVENTORY_LIMIT)
        answer = self.run("inventory", limit=limit)
        link = self.links
        sections = [
            self.kpi_section("Out-of-stock risk", [("out", "Empty", "integer"), ("high", "Empty within 2 days", "integer"),
                                                   ("medium", "Within 7 days", "integer"), ("unknown", "Never filled", "integer"),
                                                   ("low", "Low risk", "integer")], answer["risk_summary"],
                             report="inventory"),
            self.table_section(table(self.fmt, "inventory", "Stock per slot (most urgent first)", report_cols("inventory", [
                "asset", "slot", "sku", "product_name", "capacity", "estimated_stock", "daily_velocity",
                "days_until_empty", "risk", "last_fill_at"], {"asset": link.by("device", "asset"),
                                                              "sku": link.by("product", "sku")}, {"asset": "Device"}),
                answer["slots"], empty="No planogram slots.",
                caption=self.shown(answer, "Most urgent first; add ?limit=N to the address for more (at most 1000)."))),
        ]
        pick = answer.get("pick_list")
        if pick:
            sections.append(self.kpi_section(f"Pick list for {pick['route']} on {self.fmt.text(pick['run_date'], 'date')}",
                                             [("total_units", "Units to load", "integer")], pick, report="inventory"))
            sections.append(self.table_section(table(self.fmt, "inventory", "Pick list per product", [
                Col("sku", "SKU", "text", link.by("product", "sku")), Col("product_name", "Product"),
                Col("units", "Units", "integer")], pick.get("by_product", []), key="pick_list.by_product"), wide=False))
            sections.append(self.table_section(table(self.fmt, "inventory", "Pick list per slot", [
                Col("asset", "Device", "text", link.by("device", "asset")), Col("slot", "Slot"), Col("sku", "SKU"),
                Col("projected_stock", "Projected stock", "number"), Col("units", "Units", "integer")],
                pick.get("items", []), key="pick_list.items"), wide=False))
        return sections


VENUE_KPIS = [("bookings", "Bookings", "integer"), ("no_shows", "No-shows", "integer"),
              ("no_show_rate", "No-show rate", "rate"), ("utilization", "Utilization", "rate"),
              ("revenue", "Booking revenue", "money")]


class VenuesPage(Page):
    active = "venues"
    title = "Venues"
    export_report = "utilization"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        answer = self.run("utilization")
        link = self.links
        funnel = self.run("conversion")
        heat = self.run("heatmap", metric="bookings")
        people = self.run("customers")
        steps = funnel.get("steps", [])
        cohorts = people.get("cohorts", [])
        self.go_live("utilization", "total")
        return [
            self.kpi_section("Venues", VENUE_KPIS, answer["total"], live=True, report="utilization"),
            self.table_section(table(self.fmt, "utilization", "Resources", report_cols("utilization", [
                "code", "name", "resource_type", "location_name", "bookings", "cancelled", "no_shows", "no_show_rate",
                "booked_minutes", "open_minutes", "utilization", "revenue"], {"code": link.by("resource", "code")}),
                answer["resources"], empty="No resources in scope.", caption=self.shown(answer))),
            self.series_chart("no-show-trend", "No-show rate per day", "utilization", answer.get("no_show_trend", []),
                              "no_show_rate", list_key="no_show_trend", value_kind="rate", label="No-show rate",
                              cols=[Col("date", "Date", "date"), Col("bookings", "Bookings", "integer"),
                                    Col("no_shows", "No-shows", "integer"), Col("no_show_rate", "No-show rate", "rate")]),
            self.heatmap_section("heatmap", "Peak times (bookings by weekday × hour)", heat, "integer"),
            self.chart_section(chart("funnel", "Booking funnel", [row["step"] for row in steps],
                                     [("Sessions", [row["sessions"] for row in steps])], kind="bar", value_kind="integer"),
                               table(self.fmt, "conversion", "Funnel", report_cols("conversion", [
                                   "step", "sessions", "conversion", "drop_off"]), steps)),
            self.chart_section(chart("cohorts", "Customers: first-time and repeat", [row["month"] for row in cohorts],
                                     [("First-time", [row["first_time"] for row in cohorts]),
                                      ("Repeat", [row["repeat"] for row in cohorts])], kind="bar", value_kind="integer"),
                               table(self.fmt, "customers", "Cohorts", [
                                   Col("month", "Month"), Col("first_time", "First-time", "integer"),
                                   Col("repeat", "Repeat", "integer"), Col("active", "Active", "integer")],
                                   cohorts, key="cohorts")),
        ]


class VenuePage(Page):
    active = "venues"
    title = "Resource"
    export_report = "utilization"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        resource = get_object_or_404(Resource.objects.select_related("location"), code=kwargs["code"])
        self.export_overrides = {"resource": resource.id}
        self.heading = f"{resource.name} ({resource.code})"
        self.subtitle = f"{resource.resource_type or 'resource'} at {resource.location.name}"
        answer = self.run("utilization", resource=resource.id)
        self.go_live("utilization", "resources.0", resource=resource.id)
        row = next((item for item in answer["resources"] if item["resource_id"] == resource.id), None)
        heat = self.run("heatmap", metric="utilization", resource=resource.id)
        sections: list[dict[str, Any]] = [self.note("Where", "", [(f"Location {resource.location.name}",
                                                                     self.links.location(resource.location.code) or "")])]
        if row is not None:
            sections.append(self.kpi_section("Resource figures", [*VENUE_KPIS, ("booked_minutes", "Booked minutes", "number"),
                                                                 ("open_minutes", "Open minutes", "integer")], row,
                                             live=True, report="utilization"))
        sections.append(self.series_chart("no-show-trend", "No-show rate per day", "utilization",
                                          answer.get("no_show_trend", []), "no_show_rate", list_key="no_show_trend",
                                          value_kind="rate", label="No-show rate",
                                          cols=[Col("date", "Date", "date"), Col("bookings", "Bookings", "integer"),
                                                Col("no_shows", "No-shows", "integer"),
                                                Col("no_show_rate", "No-show rate", "rate")]))
        sections.append(self.heatmap_section("heatmap", "Utilization by weekday × hour", heat, "rate"))
        return sections


CUSTOMERS_LIMIT = 100


class CustomersPage(Page):
    active = "customers"
    title = "Customers"
    export_report = "customers"

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        # The RFM list holds every customer; the page lists the most valuable unless ?limit= says otherwise
        # (segments, lifetime value and churn always cover everyone).
        limit = self.query.get("limit") or str(CUSTOMERS_LIMIT)
        answer = self.run("customers", limit=limit)
        segments = answer.get("segments", [])
        return [
            self.kpi_section("Lifetime value", [("customers", "Customers", "integer"), ("total", "Total", "money"),
                                                ("average", "Average", "money"), ("median", "Median", "money")],
                             answer.get("lifetime_value", {}), report="customers"),
            self.kpi_section("Churn", [("high_risk_customers", "High-risk customers", "integer"),
                                       ("average_risk", "Average risk", "rate")], answer.get("churn", {}),
                             report="customers"),
            self.chart_section(chart("segments", "RFM segments", [row["segment"] for row in segments],
                                     [("Customers", [row["customers"] for row in segments])], kind="bar",
                                     value_kind="integer"),
                               table(self.fmt, "customers", "Segments", [
                                   Col("segment", "Segment"), Col("customers", "Customers", "integer"),
                                   Col("monetary", "Monetary", "money")], segments, key="segments")),
            self.table_section(table(self.fmt, "customers", "Cohorts", [
                Col("month", "Month"), Col("first_time", "First-time", "integer"), Col("repeat", "Repeat", "integer"),
                Col("active", "Active", "integer")], answer.get("cohorts", []), key="cohorts"), wide=False),
            self.table_section(table(self.fmt, "customers", "Customers (RFM)", report_cols("customers", [
                "customer", "segment", "recency_days", "frequency", "monetary", "lifetime_value", "average_order_value",
                "churn_risk", "first_purchase", "last_purchase"]), answer["rfm"],
                caption=self.shown(answer, "The most valuable first; add ?limit=N to the address for more (at most 1000)."),
                empty="No customers in this range.")),
        ]
