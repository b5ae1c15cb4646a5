"""The parameters of the analytics reports (validation → 400 with field errors), documented for OpenAPI.

The answers' shapes are not here: each report declares its typed rows once (analytics.reports.rows) and
their OpenAPI description is generated from that declaration (analytics.reports.fields.serializer_for).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rest_framework import serializers

from analytics.params import DEFAULT_LIMIT, MAX_DAYS, MAX_LIMIT, PAGE_LIMIT, AnalyticsParamsSerializer
from analytics.selectors.heatmap import HEATMAP_METRICS
from analytics.selectors.products import PRODUCT_SECTIONS
from analytics.selectors.revenue import GROUP_BY_CHOICES
from analytics.selectors.trends import TREND_METRICS

# Dates outside these bounds are typos, and they would overflow the time arithmetic (pandas
# timestamps stop in 2262), so they are refused with a field error instead.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2199, 12, 31)


PARAMETER_HELP = {
    "limit": f"rows of the main list per page (1–{MAX_LIMIT}, default {PAGE_LIMIT}; the answer's `page` gives the"
    " total); totals and summaries always cover everything. The dashboard: rows of each top list (default"
    f" {DEFAULT_LIMIT})",
    "offset": "skip this many rows of the main list (default 0): page through with page.next_offset",
    "start": "first local date, inclusive (YYYY-MM-DD, 1970-01-01 … 2199-12-31); default: 29 days before end",
    "end": "last local date, inclusive (YYYY-MM-DD); default: today in the chain's time zone; at most"
    f" {MAX_DAYS} days after start (ten years)",
}


class ApiParamsSerializer(AnalyticsParamsSerializer):
    """The shared analytics parameters, with the dates kept to a range the product can compute over."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, text in PARAMETER_HELP.items():
            if name in self.fields:
                self.fields[name].help_text = text

    def validate_start(self, value: date) -> date:
        return _within_bounds(value)

    def validate_end(self, value: date) -> date:
        return _within_bounds(value)


def _within_bounds(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(f"dates run from {EARLIEST_DATE} to {LATEST_DATE}.")
    return value


class AssetSalesParamsSerializer(ApiParamsSerializer):
    top_products = serializers.BooleanField(
        required=False,
        default=True,
        help_text="include each device's top 5 products (the one part read from raw rows; false is faster)",
    )
    daily_series = serializers.BooleanField(
        required=False,
        default=False,
        help_text="include each device's revenue for every day of the range (devices[].daily)",
    )


class ProductSalesParamsSerializer(ApiParamsSerializer):
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=PRODUCT_SECTIONS),
        required=False,
        help_text="which optional sections to compute (repeatable; default all). slots and affinity read raw rows; "
        "a section left out comes back as an empty list",
    )


class RevenueParamsSerializer(ApiParamsSerializer):
    group_by = serializers.ChoiceField(
        choices=GROUP_BY_CHOICES, required=False, default="location", help_text="the dimension to group revenue by"
    )


class HeatmapParamsSerializer(ApiParamsSerializer):
    metric = serializers.ChoiceField(
        choices=HEATMAP_METRICS, required=False, default="revenue", help_text="the value of each weekday × hour cell"
    )


class TrendParamsSerializer(ApiParamsSerializer):
    metric = serializers.ChoiceField(
        choices=TREND_METRICS, required=False, default="revenue", help_text="the daily series to analyse"
    )


class RouteParamsSerializer(ApiParamsSerializer):
    """The routes report: the shared `route` filter (codes or ids) also picks the routes whose runs are listed."""


class InventoryParamsSerializer(ApiParamsSerializer):
    route = serializers.IntegerField(
        min_value=1, required=False, help_text="a route id: adds the pick list for the route's next run"
    )
