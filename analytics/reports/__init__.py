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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from rest_framework import serializers

from analytics import serializers as api
from analytics.dashboard import dashboard
from analytics.params import DEFAULT_LIMIT, AnalyticsParams, params_from_validated
from analytics.reports import rows as shapes
from analytics.reports.fields import Column, ColumnKind, columns_of, list_row, serializer_for
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

__all__ = ["REPORTS", "Column", "ColumnKind", "Report", "UnknownReport", "get_report"]

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

    @property
    def response(self) -> type[serializers.Serializer]:
        """The documented answer (OpenAPI), generated from `answer`."""
        return serializer_for(self.answer)

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
            from analytics.query import local_today

            today = local_today()
        serializer = self.params(data=data, context={"today": today})
        serializer.is_valid(raise_exception=True)
        return params_from_validated(serializer.validated_data), dict(serializer.validated_data)

    def run(self, data: Any, *, today: date | None = None) -> dict[str, Any]:
        """Validate `data` and compute the report in the current chain's schema."""
        params, values = self.validate(data, today=today)
        return self.compute(params, values)

    def table(self, result: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(result.get(self.rows) or [])

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """The main list's flat columns in declaration order (nested lists and objects are left to the JSON answer)."""
        return self.column_overrides or columns_of(self.row)


def _asset_sales(params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
    return asset_sales(
        period=params.period, filters=params.filters, limit=params.limit, top_products=values["top_products"],
        daily_series=values["daily_series"],
    )


def _product_sales(params: AnalyticsParams, values: Mapping[str, Any]) -> dict[str, Any]:
    sections = values.get("sections") or PRODUCT_SECTIONS
    return product_sales(period=params.period, filters=params.filters, limit=params.limit, sections=sections)


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
            answer=shapes.DashboardAnswer,
            compute=lambda p, v: dashboard(period=p.period, filters=p.filters, limit=p.limit_or(DEFAULT_LIMIT)),
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
            compute=lambda p, v: heatmap(period=p.period, filters=p.filters, metric=v["metric"]),
        ),
        Report(
            name="utilization", title="Venue utilization", params=api.ApiParamsSerializer, rows="resources",
            answer=shapes.UtilizationAnswer, kpis="total",
            compute=lambda p, v: utilization(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="conversion", title="Booking funnel", params=api.ApiParamsSerializer, rows="steps",
            answer=shapes.ConversionAnswer,
            compute=lambda p, v: conversion(period=p.period, filters=p.filters),
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
            compute=lambda p, v: trends(period=p.period, filters=p.filters, metric=v["metric"]),
        ),
        Report(
            name="anomalies", title="Anomalies", params=api.ApiParamsSerializer, rows="anomalies",
            answer=shapes.AnomaliesAnswer,
            compute=lambda p, v: anomalies(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="inventory", title="Inventory", params=api.InventoryParamsSerializer, rows="slots",
            answer=shapes.InventoryAnswer, kpis="risk_summary", compute=_inventory,
        ),
    )
}


def get_report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None
