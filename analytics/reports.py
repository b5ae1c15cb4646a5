"""The report registry: every analytics report declared once, for the API, the pages, exports, schedules and alerts.

A `Report` names its parameters (a serializer: the same validation and 400 field errors everywhere), its
selector (`compute`), its main list (`rows`, the list a table, a CSV or an XLSX holds) and that list's
columns with their types. Every surface calls `Report.run()` with the same parameters, so a figure on a
page, in the API and in a file is the same number by construction::

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
from typing import Any, Literal

from rest_framework import serializers

from analytics import serializers as api
from analytics.dashboard import dashboard
from analytics.params import DEFAULT_LIMIT, AnalyticsParams, params_from_validated
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

ColumnKind = Literal["money", "integer", "number", "rate", "percent", "date", "datetime", "text", "boolean"]
Compute = Callable[[AnalyticsParams, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind


class UnknownReport(LookupError):
    pass


@dataclass(frozen=True)
class Report:
    name: str  # the API path segment (/api/analytics/<name>/) and the export's `report`
    title: str
    params: type[serializers.Serializer]
    compute: Compute
    rows: str  # the key of the main list in the answer
    response: type[serializers.Serializer] | None = None  # the documented answer (OpenAPI)
    kpis: str | None = None  # the key of a KPI mapping, for reports that have a KPI strip
    column_overrides: tuple[Column, ...] = field(default=())

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
        """The main list's flat columns in answer order (nested lists and objects are left to the JSON answer)."""
        if self.column_overrides:
            return self.column_overrides
        row_serializer = _row_serializer(self.response, self.rows) if self.response else None
        if row_serializer is None:
            return ()
        return tuple(
            Column(key=name, label=name.replace("_", " ").capitalize(), kind=kind)
            for name, item in row_serializer.fields.items()
            if (kind := _kind(item)) is not None
        )


def _row_serializer(response: type[serializers.Serializer], rows: str) -> serializers.Serializer | None:
    list_field = response().fields.get(rows)
    child = getattr(list_field, "child", None)
    return child if isinstance(child, serializers.Serializer) else None


def _kind(item: serializers.Field) -> ColumnKind | None:
    if isinstance(item, (serializers.Serializer, serializers.ListField, serializers.ListSerializer)):
        return None
    if isinstance(item, serializers.DecimalField):
        return "money"
    if isinstance(item, serializers.BooleanField):
        return "boolean"
    if isinstance(item, serializers.IntegerField):
        return "integer"
    if isinstance(item, serializers.FloatField):
        if item.max_value == 1:
            return "rate"
        if item.max_value == 100:
            return "percent"
        return "number"
    if isinstance(item, serializers.DateTimeField):
        return "datetime"
    if isinstance(item, serializers.DateField):
        return "date"
    return "text"


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


_DASHBOARD_SERIES = (
    Column("date", "Date", "date"), Column("revenue", "Revenue", "money"),
    Column("units", "Units", "integer"), Column("transactions", "Transactions", "integer"),
)

REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            name="dashboard", title="Executive dashboard", params=api.ApiParamsSerializer, rows="series", kpis="kpis",
            compute=lambda p, v: dashboard(period=p.period, filters=p.filters, limit=p.limit_or(DEFAULT_LIMIT)),
            column_overrides=_DASHBOARD_SERIES,
        ),
        Report(
            name="asset-sales", title="Asset sales", params=api.AssetSalesParamsSerializer, rows="devices",
            response=api.AssetSalesSerializer, kpis="fleet_summary", compute=_asset_sales,
        ),
        Report(
            name="product-sales", title="Product performance", params=api.ProductSalesParamsSerializer,
            rows="products", response=api.ProductSalesSerializer, compute=_product_sales,
        ),
        Report(
            name="revenue", title="Revenue by group", params=api.RevenueParamsSerializer, rows="groups",
            response=api.RevenueSerializer, kpis="total",
            compute=lambda p, v: revenue_by(period=p.period, filters=p.filters, group_by=v["group_by"], limit=p.limit),
        ),
        Report(
            name="locations", title="Locations", params=api.ApiParamsSerializer, rows="locations",
            response=api.LocationsSerializer,
            compute=lambda p, v: location_performance(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="heatmap", title="Weekday × hour heatmap", params=api.HeatmapParamsSerializer, rows="cells",
            response=api.HeatmapSerializer,
            compute=lambda p, v: heatmap(period=p.period, filters=p.filters, metric=v["metric"]),
        ),
        Report(
            name="utilization", title="Venue utilization", params=api.ApiParamsSerializer, rows="resources",
            response=api.UtilizationSerializer, kpis="total",
            compute=lambda p, v: utilization(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="conversion", title="Booking funnel", params=api.ApiParamsSerializer, rows="steps",
            response=api.ConversionSerializer,
            compute=lambda p, v: conversion(period=p.period, filters=p.filters),
        ),
        Report(
            name="customers", title="Customers", params=api.ApiParamsSerializer, rows="rfm",
            response=api.CustomersSerializer,
            compute=lambda p, v: customer_analytics(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="routes", title="Routes and drivers", params=api.RouteParamsSerializer, rows="runs",
            response=api.RoutesSerializer, kpis="total",
            compute=lambda p, v: route_efficiency(
                period=p.period, filters=p.filters, routes=tuple(v.get("route") or ()), limit=p.limit
            ),
        ),
        Report(
            name="trends", title="Trends and forecast", params=api.TrendParamsSerializer, rows="series",
            response=api.TrendsSerializer,
            compute=lambda p, v: trends(period=p.period, filters=p.filters, metric=v["metric"]),
        ),
        Report(
            name="anomalies", title="Anomalies", params=api.ApiParamsSerializer, rows="anomalies",
            response=api.AnomaliesSerializer,
            compute=lambda p, v: anomalies(period=p.period, filters=p.filters, limit=p.limit),
        ),
        Report(
            name="inventory", title="Inventory", params=api.InventoryParamsSerializer, rows="slots",
            response=api.InventorySerializer, kpis="risk_summary", compute=_inventory,
        ),
    )
}


def get_report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None
