"""The report registry: every analytics report declared once, for the API, the pages, exports, schedules and alerts.

A `Report` names its parameters (a serializer: the same validation and 400 field errors everywhere), its
selector (`compute`), its typed answer (`answer`, a TypedDict of analytics.reports.rows), its main list
(`rows`, the list a table, a CSV or an XLSX holds) and that list's columns with their types and labels, taken
from the row's declaration. The OpenAPI response schema (`response`) is generated from the same declaration.
Every surface calls `Report.run()` with the same parameters, so a figure on a page, in the API and in a file
is the same number by construction::

    report = get_report("asset-sales")
    result = report.run({"start": "2026-10-01", "end": "2026-10-31", "location": ["STO-CEN"]})
    for row in report.table(result): ...      # the main list, one dict per row, values un-rounded

`run()` returns the selector's answer as it is (Decimal money, dates); `analytics.apis._base.present`
renders it for JSON, and the export writers render it per format from `columns`.

Paging, one scheme for every report whose main list grows with the chain (`paged`): the API and the pages
answer `limit` rows (default PAGE_LIMIT, at most MAX_LIMIT) from `offset`, with a `page` object next to the
list (`key`, `total`, `offset`, `limit`, `returned`, `next_offset`). Exports, the board pack and alerts call
`run()`/`compute()` without paging: the full list (or the `limit` they pass). A day series longer than
SERIES_DAILY_MAX_DAYS comes by month (`series_grain`), everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any

from rest_framework import serializers

from analytics import serializers as api
from analytics.dashboard import dashboard
from analytics.params import DEFAULT_LIMIT, PAGE_LIMIT, AnalyticsParams, params_from_validated
from analytics.periods import Period
from analytics.query import local_today
from analytics.query.answers import cached_answer
from analytics.reports import rows as shapes
from analytics.reports.fields import Column, ColumnKind, columns_of, list_row, serializer_for
from analytics.selectors._common import list_total
from analytics.selectors.anomalies import anomalies
from analytics.selectors.assets import asset_sales
from analytics.selectors.conversion import conversion
from analytics.selectors.customers import customer_analytics
from analytics.selectors.heatmap import heatmap
from analytics.selectors.inventory import inventory
from analytics.selectors.locations import location_performance
from analytics.selectors.products import PRODUCT_SECTIONS, product_sales
from analytics.selectors.revenue import revenue_by
from analytics.selectors.routes import route_efficiency
from analytics.selectors.trends import trends
from analytics.selectors.venues import utilization

__all__ = ["PAGE_LIMIT", "REPORTS", "SERIES_DAILY_MAX_DAYS", "Column", "ColumnKind", "Report", "UnknownReport", "get_report"]

# A day series of a longer range is answered per month: 3,650 daily points of a decade are no chart.
SERIES_DAILY_MAX_DAYS = 733
# A whole list longer than this (an export's 20,000 customers) is not kept in the answer cache: megabytes per
# entry, for a question asked once.
MAX_CACHED_ROWS = 5000

Compute = Callable[[AnalyticsParams, Mapping[str, Any]], dict[str, Any]]


class UnknownReport(LookupError):
    pass


@dataclass(frozen=True)
class Report:
    name: str  # the API path segment (/api/analytics/<name>/) and the export's `report`
    title: str
    params: type[serializers.Serializer]
    compute: Compute
    rows: str  # the key of the main list in the answer
    answer: type  # the TypedDict of the answer (analytics.reports.rows)
    kpis: str | None = None  # the key of a KPI mapping, for reports that have a KPI strip
    column_overrides: tuple[Column, ...] = field(default=())
    paged: bool = True  # the main list grows with the chain: the API and the pages answer it a page at a time
    of_now: bool = False  # the answer is the state now whatever the range (stock): cached only for a minute

    @cached_property
    def response(self) -> type[serializers.Serializer]:
        """The documented answer (OpenAPI), generated from `answer` (plus `page` for a paged report)."""
        base = serializer_for(self.answer)
        if not self.paged:
            return base
        page = serializer_for(shapes.PageInfo)(help_text=f"the page of `{self.rows}` this answer holds, and its total")
        return type(base.__name__, (base,), {"page": page, "__doc__": base.__doc__, "__module__": base.__module__})

    @property
    def row(self) -> type:
        """The TypedDict of one row of the main list."""
        row = list_row(self.answer, self.rows)
        if row is None:
            raise TypeError(f"{self.name}: {self.answer.__name__}.{self.rows} is not a list of rows")
        return row

    def validate(self, data: Any, *, today: date | None = None) -> tuple[AnalyticsParams, dict[str, Any]]:
        """Parameters from a query string or JSON body; a bad value raises ValidationError (a 400 with field errors)."""
        if today is None:
            today = local_today()
        serializer = self.params(data=data, context={"today": today})
        serializer.is_valid(raise_exception=True)
        return params_from_validated(serializer.validated_data), dict(serializer.validated_data)

    def run(self, data: Any, *, today: date | None = None, paged: bool = False) -> dict[str, Any]:
        """Validate `data` and compute the report in the current chain's schema: the whole main list (or
        `limit` rows), or with `paged` one page of it and its `page` (what the API answers)."""
        params, values = self.validate(data, today=today)
        return self.result(params, values, paged=paged)

    def result(
        self, params: AnalyticsParams, values: Mapping[str, Any], *, paged: bool,
        finish: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """`page()` (with `paged`) or `compute()`, passed through `finish` (the API's rendering for JSON), from
        the answer cache while nothing the answer reads has changed (analytics.query.answers): the API, the
        pages, exports and alerts share its entries."""
        live = self.of_now or params.period.end >= local_today()
        question = (paged, params, sorted(values.items()), finish and f"{finish.__module__}.{finish.__qualname__}")

        def compute() -> dict[str, Any]:
            answer = self.page(params, values) if paged else self.compute(params, values)
            return answer if finish is None else finish(answer)

        return cached_answer(
            self.name, question, live=live, compute=compute,
            keep=lambda answer: len(answer.get(self.rows) or ()) <= MAX_CACHED_ROWS,
        )

    def page(self, params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
        """The answer with its main list cut to `limit` rows (default PAGE_LIMIT) from `offset`, and `page`
        saying which rows these are of how many. Reports whose lists do not grow with the chain answer whole."""
        if not self.paged:
            return self.compute(params, values)
        limit = params.limit if params.limit is not None else PAGE_LIMIT
        offset = params.offset
        # The selector is asked for the rows up to the page's end (asset-sales then reads only their best sellers).
        result = self.compute(replace(params, limit=offset + limit), values)
        rows = result.get(self.rows) or []
        total = list_total(rows)
        result[self.rows] = list(rows[offset:offset + limit])
        returned = len(result[self.rows])
        result["page"] = {
            "key": self.rows, "total": total, "offset": offset, "limit": limit, "returned": returned,
            "next_offset": offset + returned if offset + returned < total else None,
        }
        return result

    def table(self, result: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(result.get(self.rows) or [])

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """The main list's flat columns in declaration order (nested lists and objects are left to the JSON answer)."""
        return self.column_overrides or columns_of(self.row)


def series_grain(period: Period) -> str:
    return "day" if period.days <= SERIES_DAILY_MAX_DAYS else "month"


def by_month(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """A day series (`date` and summable measures, every day of `period`) as one row per month of the period,
    each dated its first day in the period; the sums are exact (Decimal money stays Decimal)."""
    months: dict[date, dict[str, Any]] = {}
    for row in rows:
        day: date = row["date"]
        key = max(day.replace(day=1), period.start)
        month = months.get(key)
        if month is None:
            months[key] = {**row, "date": key}
        else:
            for name, value in row.items():
                if name != "date":
                    month[name] += value
    return list(months.values())


def _regrained(result: dict[str, Any], period: Period, keys: tuple[str, ...], nested: tuple[str, str] | None = None) -> dict[str, Any]:
    grain = series_grain(period)
    result["series_grain"] = grain
    if grain == "month":
        for key in keys:
            result[key] = by_month(result.get(key) or [], period)
        if nested is not None:
            outer, inner = nested
            for row in result.get(outer) or []:
                if inner in row:
                    row[inner] = by_month(row[inner], period)
    return result


def _dashboard(params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
    answer = dashboard(period=params.period, filters=params.filters, limit=params.limit_or(DEFAULT_LIMIT))
    return _regrained(answer, params.period, ("series",))


def _asset_sales(params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
    answer = asset_sales(
        period=params.period, filters=params.filters, limit=params.limit, top_products=values["top_products"],
        daily_series=values["daily_series"],
    )
    return _regrained(answer, params.period, ("daily",), nested=("devices", "daily"))


def _product_sales(params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
    sections = values.get("sections") or PRODUCT_SECTIONS
    # `limit` also sizes top_movers, affinity and slots; without one given they keep their own defaults
    # (the product list is computed whole either way, so paging it costs nothing).
    limit = params.limit if values.get("limit") is not None else None
    return product_sales(period=params.period, filters=params.filters, limit=limit, sections=sections)


def _inventory(params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
    from django.http import Http404

    from routes.models import Route

    route = None
    if values.get("route") is not None:
        route = Route.objects.filter(id=values["route"]).first()
        if route is None:
            raise Http404("No such route in this chain.")
    return inventory(filters=params.filters, route=route, limit=params.limit)


REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            name="dashboard", title="Executive dashboard", params=api.ApiParamsSerializer, rows="series", kpis="kpis",
            answer=shapes.DashboardAnswer, compute=_dashboard, paged=False,
        ),
        Report(
            name="asset-sales", title="Asset sales", params=api.AssetSalesParamsSerializer, rows="devices",
            answer=shapes.AssetSalesAnswer, kpis="fleet_summary", compute=_asset_sales,
        ),
        Report(
            name="product-sales", title="Product performance", params=api.ProductSalesParamsSerializer,
            rows="products", answer=shapes.ProductSalesAnswer, compute=_product_sales,
        ),
        Report(
            name="revenue", title="Revenue by group", params=api.RevenueParamsSerializer, rows="groups",
            answer=shapes.RevenueAnswer, kpis="total",
            compute=lambda p, v: revenue_by(period=p.period, filters=p.filters, group_by=v["group_by"], limit=p.limit),
        ),
        Report(
            name="locations", title="Locations", params=api.ApiParamsSerializer, rows="locations",
            answer=shapes.LocationsAnswer,
            compute=lambda p, v: location_performance(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="heatmap", title="Weekday × hour heatmap", params=api.HeatmapParamsSerializer, rows="cells",
            answer=shapes.HeatmapAnswer,
            compute=lambda p, v: heatmap(period=p.period, filters=p.filters, metric=v["metric"]), paged=False,
        ),
        Report(
            name="utilization", title="Venue utilization", params=api.ApiParamsSerializer, rows="resources",
            answer=shapes.UtilizationAnswer, kpis="total",
            compute=lambda p, v: utilization(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="conversion", title="Booking funnel", params=api.ApiParamsSerializer, rows="steps",
            answer=shapes.ConversionAnswer,
            compute=lambda p, v: conversion(period=p.period, filters=p.filters), paged=False,
        ),
        Report(
            name="customers", title="Customers", params=api.ApiParamsSerializer, rows="rfm",
            answer=shapes.CustomersAnswer,
            compute=lambda p, v: customer_analytics(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="routes", title="Routes and drivers", params=api.RouteParamsSerializer, rows="runs",
            answer=shapes.RoutesAnswer, kpis="total",
            compute=lambda p, v: route_efficiency(
                period=p.period, filters=p.filters, routes=tuple(v.get("route") or ()), limit=p.limit
            ),
        ),
        Report(
            name="trends", title="Trends and forecast", params=api.TrendParamsSerializer, rows="series",
            answer=shapes.TrendsAnswer,
            compute=lambda p, v: trends(period=p.period, filters=p.filters, metric=v["metric"]), paged=False,
        ),
        Report(
            name="anomalies", title="Anomalies", params=api.ApiParamsSerializer, rows="anomalies",
            answer=shapes.AnomaliesAnswer,
            compute=lambda p, v: anomalies(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="inventory", title="Inventory", params=api.InventoryParamsSerializer, rows="slots",
            answer=shapes.InventoryAnswer, kpis="risk_summary", compute=_inventory, of_now=True,
        ),
    )
}


def get_report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None
