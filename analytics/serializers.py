"""Serializers of the analytics API: endpoint parameters (validation → 400) and the documented response shapes.

The response serializers describe what the views return for the OpenAPI schema (every field with
its formula); the views build the payload with `analytics.apis._base.present`, which renders money
as a 2-decimal string (half-up), dates as ISO 8601 and rates as fractions, much faster than
running thousands of rows through DRF fields. The schemathesis test checks the two agree.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rest_framework import serializers

from analytics.params import AnalyticsParamsSerializer
from analytics.selectors.heatmap import HEATMAP_METRICS
from analytics.selectors.products import PRODUCT_SECTIONS
from analytics.selectors.revenue import GROUP_BY_CHOICES
from analytics.selectors.trends import TREND_METRICS

# --- parameters ------------------------------------------------------------------------------

# Dates outside these bounds are typos, and they would overflow the time arithmetic (pandas
# timestamps stop in 2262), so they are refused with a field error instead.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2199, 12, 31)


PARAMETER_HELP = {
    "location": "location ids (repeatable or comma-separated); only these locations",
    "device": "device ids (repeatable or comma-separated)",
    "device_type": "device type ids (repeatable or comma-separated)",
    "category": "product category ids (repeatable or comma-separated); narrows sales to these categories",
    "resource": "venue resource ids (repeatable or comma-separated); selects bookings, excludes machine sales",
    "region": "location region names (repeatable or comma-separated)",
    "resource_type": "resource types such as court or room (repeatable); selects bookings, excludes machine sales",
    "limit": "return at most this many rows in the main list (totals and summaries always cover everything)",
    "start": "first local date, inclusive (YYYY-MM-DD, 1970-01-01 … 2199-12-31); default: 29 days before end",
    "end": "last local date, inclusive (YYYY-MM-DD); default: today in the chain's time zone; at most 733 days after start",
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
    route = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text="route ids (repeatable)"
    )


class InventoryParamsSerializer(ApiParamsSerializer):
    route = serializers.IntegerField(
        min_value=1, required=False, help_text="a route id: adds the pick list for the route's next run"
    )


# --- field helpers ---------------------------------------------------------------------------


def money(help_text: str, **kwargs: Any) -> serializers.DecimalField:
    """Money: a string with exactly two decimals, rounded half-up when presented."""
    return serializers.DecimalField(
        max_digits=20, decimal_places=2, coerce_to_string=True, help_text=f"{help_text} (money, 2 decimals)", **kwargs
    )


def rate(help_text: str, **kwargs: Any) -> serializers.FloatField:
    """A fraction 0–1."""
    return serializers.FloatField(min_value=0, max_value=1, help_text=f"{help_text} (fraction 0–1)", **kwargs)


def pct(help_text: str, **kwargs: Any) -> serializers.FloatField:
    """A value 0–100."""
    return serializers.FloatField(min_value=0, max_value=100, help_text=f"{help_text} (0–100)", **kwargs)


def count(help_text: str, **kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, help_text=help_text, **kwargs)


def number(help_text: str, **kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(help_text=help_text, **kwargs)


class RangeSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="first local date of the range, inclusive")
    end = serializers.DateField(help_text="last local date of the range, inclusive")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False, help_text="why the request was refused")


# --- asset-sales -----------------------------------------------------------------------------


class DailyRevenueSerializer(serializers.Serializer):
    date = serializers.DateField()
    revenue = money("Σ sale amount of the fleet on this local day")


class TopProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    revenue = money("Σ sale amount of this product in this device")
    units = count("Σ quantity")


class ScoreComponentsSerializer(serializers.Serializer):
    revenue = pct("percentile rank of total revenue in the fleet")
    consistency = pct("percentile rank of the coefficient of variation of daily revenue, low CV ranks high")
    growth = pct("percentile rank of the slope of daily revenue")
    efficiency = pct("percentile rank of revenue per unit")


class DeviceSalesSerializer(serializers.Serializer):
    device_id = serializers.IntegerField()
    asset = serializers.CharField(help_text="asset number")
    location_name = serializers.CharField()
    total_revenue = money("Σ sale amount")
    total_units = count("Σ sale quantity")
    total_transactions = count("Σ sale transactions")
    avg_transaction_value = money("total_revenue / total_transactions, 0 when no transactions")
    daily_revenue = money("total_revenue / days in the range")
    revenue_per_unit = money("total_revenue / total_units, 0 when no units")
    active_days = count("local days with at least one sale")
    first_sale = serializers.DateField(allow_null=True, help_text="local date of the first sale in the range")
    last_sale = serializers.DateField(allow_null=True, help_text="local date of the last sale in the range")
    top_products = TopProductSerializer(many=True, help_text="the device's 5 best products by revenue (then SKU)")
    daily = DailyRevenueSerializer(
        many=True, required=False, help_text="revenue for every local day of the range; only with ?daily_series=true"
    )
    daily_trend = number("least-squares slope of daily revenue against the day index (revenue per day, per day)")
    daily_revenue_cv = number("population std / |mean| of daily revenue (days without sales are 0)")
    score_components = ScoreComponentsSerializer()
    performance_score = pct("0.40·revenue + 0.25·consistency + 0.20·growth + 0.15·efficiency percentiles")
    fleet_rank = serializers.IntegerField(min_value=1, help_text="1 = best score; equal scores by asset number")
    percentile = pct("percentile rank of the score in the fleet: (rank_avg − 1) / (n − 1) · 100")


class FleetSummarySerializer(serializers.Serializer):
    device_count = count("devices in scope (installed by the end of the range, not retired before it)")
    active_devices = count("devices with at least one sale in the range")
    total_revenue = money("Σ revenue of all devices")
    total_units = count("Σ units")
    total_transactions = count("Σ transactions")
    avg_transaction_value = money("total_revenue / total_transactions")
    daily_revenue = money("total_revenue / days")
    revenue_per_unit = money("total_revenue / total_units")
    mean_revenue_per_device = money("total_revenue / device_count")
    median_revenue_per_device = number("median of the devices' revenue")


class BenchmarkSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(
        choices=["revenue", "units", "transactions", "avg_transaction_value", "avg_daily_revenue"]
    )
    p25 = number("25th percentile across devices (linear interpolation)")
    median = number("median across devices")
    p75 = number("75th percentile across devices")


class AssetSalesSerializer(RangeSerializer):
    days = count("days in the range (a local day may be 23 or 25 hours)")
    devices = DeviceSalesSerializer(many=True, help_text="every device in scope ordered by fleet_rank")
    fleet_summary = FleetSummarySerializer()
    benchmarks = BenchmarkSerializer(many=True, help_text="quartiles of the per-device metrics")
    daily = DailyRevenueSerializer(many=True, help_text="fleet revenue per local day, every day of the range")


# --- product-sales ---------------------------------------------------------------------------


class ProductRowSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField(help_text="category name, 'Uncategorized' when none")
    revenue = money("Σ sale amount")
    units = count("Σ quantity")
    transactions = count("Σ transactions")
    devices_stocking = count("devices in scope whose planogram carried the product during the range")
    units_per_device = number("units / devices_stocking (0 when not stocked)")
    velocity = number("units / (days · devices_stocking): units per machine per day")
    velocity_rank = serializers.IntegerField(min_value=1, help_text="1 = highest velocity (ties by SKU)")
    revenue_per_unit = money("revenue / units")
    margin = money("revenue − units · unit cost; null when the cost is unknown", allow_null=True)
    margin_pct = number("margin / revenue (fraction); null when unknown or no revenue", allow_null=True)
    abc_class = serializers.ChoiceField(
        choices=["A", "B", "C"],
        help_text="by revenue desc then SKU: A while the cumulative share before the product < 80 %, B while < 95 %, else C",
    )
    revenue_share = rate("revenue / total revenue")
    cumulative_share = rate("cumulative revenue share up to and including this product")


class CategoryRowSerializer(serializers.Serializer):
    category = serializers.CharField()
    revenue = money("Σ revenue of the category's products")
    units = count("Σ units")
    transactions = count("Σ transactions")
    products = count("products listed in the category")
    share = rate("category revenue / total revenue")


class AbcSummarySerializer(serializers.Serializer):
    abc_class = serializers.ChoiceField(choices=["A", "B", "C"])
    products = count("products in the class")
    revenue = money("Σ revenue of the class")
    share = rate("class revenue / total revenue")


class SlowMoverSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    last_sold_on = serializers.DateField(allow_null=True, help_text="local date of the last sale ever (null: never)")
    days_since_last_sale = serializers.IntegerField(allow_null=True, help_text="end − last_sold_on")
    bucket = serializers.ChoiceField(choices=[30, 60, 90], help_text="largest of 30/60/90 reached")


class TopMoverSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    current_units = count("units in the range")
    previous_units = count("units in the previous period of equal length")
    current_velocity = number("units / (days · devices stocking) in the range")
    previous_velocity = number("the same in the previous period")
    velocity_change = number("current_velocity − previous_velocity (> 0)")
    velocity_change_pct = number("velocity_change / previous_velocity · 100 (0 when previous is 0)")


class AffinitySerializer(serializers.Serializer):
    antecedent = serializers.CharField(help_text="SKU A of the rule A → B")
    consequent = serializers.CharField(help_text="SKU B")
    pair_count = count("baskets (one customer, one local day) with both")
    support = rate("pair_count / baskets")
    confidence = rate("pair_count / baskets with A")
    lift = number("confidence / (baskets with B / baskets)")


class SlotRevenueSerializer(serializers.Serializer):
    slot = serializers.CharField(help_text="slot code (the same position in every machine); '' when unknown")
    revenue = money("Σ sale amount from the slot")
    units = count("Σ quantity")
    transactions = count("Σ transactions")
    share = rate("slot revenue / total revenue")


class ProductSalesSerializer(RangeSerializer):
    products = ProductRowSerializer(many=True, help_text="by revenue desc, then SKU")
    categories = CategoryRowSerializer(many=True)
    abc_summary = AbcSummarySerializer(many=True)
    slow_movers = SlowMoverSerializer(many=True, help_text="stocked at end, no sale in the last 30/60/90 days")
    top_movers = TopMoverSerializer(many=True, help_text="largest velocity increase vs the previous period")
    affinity = AffinitySerializer(many=True, help_text="association rules, highest lift first (pairs seen ≥ 2 times)")
    slots = SlotRevenueSerializer(many=True, help_text="revenue by slot position")


# --- revenue ---------------------------------------------------------------------------------


class RevenueGroupSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_blank=True,
        help_text="location code, region, device type, category name, product SKU, resource code or resource type",
    )
    name = serializers.CharField()
    id = serializers.IntegerField(allow_null=True, help_text="database id of the group when it has one")
    revenue = money("Σ sale amount (resources: Σ amount of non-cancelled bookings)")
    units = count("Σ quantity (resources: non-cancelled bookings)")
    transactions = count("Σ transactions (resources: non-cancelled bookings)")
    share = rate("group revenue / total revenue")


class RevenueTotalSerializer(serializers.Serializer):
    revenue = money("Σ revenue of all groups")
    units = count("Σ units")
    transactions = count("Σ transactions")


class RevenueSerializer(RangeSerializer):
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES)
    total = RevenueTotalSerializer()
    groups = RevenueGroupSerializer(many=True, help_text="by revenue desc, then key")


# --- heatmap ---------------------------------------------------------------------------------


class HeatmapCellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=1, max_value=7, help_text="ISO weekday, 1 = Monday")
    hour = serializers.IntegerField(min_value=0, max_value=23, help_text="local hour of the chain")
    value = number(
        "revenue (rounded half-up to cents), units, transactions, non-cancelled bookings by start, or "
        "utilization = booked minutes in the cell / open minutes of the cell"
    )


class HeatmapSerializer(RangeSerializer):
    metric = serializers.ChoiceField(choices=HEATMAP_METRICS)
    cells = HeatmapCellSerializer(many=True, help_text="all 168 cells, weekday-major")
    peak = HeatmapCellSerializer(allow_null=True, help_text="the cell with the largest value; null when all are 0")


# --- utilization -----------------------------------------------------------------------------


class ResourceUtilizationSerializer(serializers.Serializer):
    resource_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    resource_type = serializers.CharField(allow_blank=True)
    location_name = serializers.CharField()
    bookings = count("bookings starting in the range, all statuses")
    cancelled = count("cancelled bookings")
    no_shows = count("no-show bookings")
    no_show_rate = rate("no_shows / (bookings − cancelled), 0 when none")
    booked_minutes = number("minutes of non-cancelled bookings (no-shows occupy their slot)")
    open_minutes = count("minutes open in the range from the weekly opening hours (local)")
    utilization = number("booked_minutes / open_minutes (fraction, 0 when never open)", min_value=0)
    revenue = money("Σ amount of non-cancelled bookings")


class UtilizationTotalSerializer(serializers.Serializer):
    bookings = count("all bookings")
    cancelled = count("cancelled")
    no_shows = count("no-shows")
    no_show_rate = rate("Σ no_shows / Σ (bookings − cancelled)")
    booked_minutes = number("Σ booked minutes")
    open_minutes = count("Σ open minutes")
    utilization = number("Σ booked / Σ open minutes", min_value=0)
    revenue = money("Σ booking revenue")


class NoShowDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    bookings = count("bookings starting that local day")
    no_shows = count("no-shows")
    no_show_rate = rate("no_shows / (bookings − cancelled)")


class UtilizationSerializer(RangeSerializer):
    resources = ResourceUtilizationSerializer(many=True, help_text="by utilization desc, then code")
    total = UtilizationTotalSerializer()
    no_show_trend = NoShowDaySerializer(many=True, help_text="every day of the range")
    no_show_trend_slope = number("least-squares slope of the daily no-show rate (per day)")


# --- conversion ------------------------------------------------------------------------------


class FunnelStepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=["visit", "wizard_start", "submit", "paid"])
    step_number = serializers.IntegerField(min_value=1, max_value=4)
    sessions = count("sessions with events for every step 1..k in time order, each once")
    conversion = rate("sessions_k / sessions_1")
    drop_off = rate("1 − sessions_k / sessions_(k−1); 0 for the first step")


class ConversionSerializer(RangeSerializer):
    steps = FunnelStepSerializer(many=True, help_text="in funnel order")
    sessions = count("distinct sessions with any funnel event in the range")
    overall_conversion = rate("paid sessions / visit sessions")
    step_names = serializers.ListField(child=serializers.CharField())


# --- customers -------------------------------------------------------------------------------


class CohortSerializer(serializers.Serializer):
    month = serializers.RegexField(r"^\d{4}-\d{2}$", help_text="YYYY-MM, local")
    first_time = count("active customers whose first ever purchase or booking is in this month")
    repeat = count("active customers who started in an earlier month")
    active = count("first_time + repeat")


class SegmentSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=["Champions", "Loyal", "New", "At Risk", "Hibernating"])
    customers = count("customers in the segment")
    monetary = money("Σ monetary of the segment")


class RfmSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customer = serializers.CharField(help_text="external customer reference")
    first_purchase = serializers.DateField()
    last_purchase = serializers.DateField()
    recency_days = count("end − last purchase, days")
    frequency = count("purchases: Σ sale transactions + non-cancelled bookings, to the end of the range")
    monetary = money("Σ sale amount + non-cancelled booking amount")
    r_score = serializers.IntegerField(min_value=1, max_value=5, help_text="quintile of −recency")
    f_score = serializers.IntegerField(min_value=1, max_value=5, help_text="quintile of frequency")
    m_score = serializers.IntegerField(min_value=1, max_value=5, help_text="quintile of monetary")
    segment = serializers.ChoiceField(
        choices=["Champions", "Loyal", "New", "At Risk", "Hibernating"],
        help_text="New: first purchase < 30 days ago; Champions: R≥4 and F≥4; At Risk: R≤2 and F≥3; "
        "Loyal: F≥4 or (R≥3 and F≥3); else Hibernating",
    )
    lifetime_value = money("historical lifetime value = monetary")
    average_order_value = money("monetary / frequency")
    purchases_per_30_days = number("frequency / max(tenure days, 30) · 30")
    typical_gap_days = number("(last − first purchase) / (frequency − 1); one-time buyers: the median gap")
    churn_risk = rate("clip((recency_days / typical_gap_days − 1) / 2, 0, 1)")


class LifetimeValueSerializer(serializers.Serializer):
    customers = count("customers with a purchase up to the end of the range")
    total = money("Σ lifetime value")
    average = money("total / customers")
    median = money("median lifetime value")


class ChurnSerializer(serializers.Serializer):
    high_risk_customers = count("customers with churn_risk ≥ 0.5")
    average_risk = rate("mean churn_risk")


class CustomersSerializer(RangeSerializer):
    cohorts = CohortSerializer(many=True, help_text="months of the range with activity, ascending")
    segments = SegmentSerializer(many=True)
    lifetime_value = LifetimeValueSerializer()
    churn = ChurnSerializer()
    rfm = RfmSerializer(many=True, help_text="by monetary desc, then customer")


# --- routes ----------------------------------------------------------------------------------


class RouteRunSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    route_id = serializers.IntegerField()
    route = serializers.CharField(help_text="route code")
    route_name = serializers.CharField()
    driver = serializers.CharField(allow_null=True)
    driver_id = serializers.IntegerField(allow_null=True)
    scheduled_for = serializers.DateField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    stops_planned = count("planned stops (the route's stops when the run does not say)")
    stops_completed = count("completed service visits of the run")
    completion_rate = number("stops_completed / stops_planned", min_value=0)
    duration_minutes = number("finished_at − started_at in minutes", allow_null=True)
    minutes_per_stop = number("duration_minutes / stops_completed", allow_null=True)
    cash_collected = money("Σ cash collected at the run's visits")
    serviced_revenue = money("Σ sales of each visited machine since its previous service visit")


class DriverConsistencySerializer(serializers.Serializer):
    driver_id = serializers.IntegerField()
    driver = serializers.CharField(allow_null=True)
    runs = count("runs in the range")
    stops_completed = count("Σ completed stops")
    avg_completion_rate = number("mean completion rate of the runs", min_value=0)
    avg_minutes_per_stop = number("mean minutes per stop over runs with a duration")
    minutes_per_stop_cv = number("population std / mean of minutes per stop")
    consistency = rate("1 − CV, clipped; null with fewer than two timed runs", allow_null=True)
    cash_collected = money("Σ cash collected")


class RouteTotalSerializer(serializers.Serializer):
    runs = count("runs in the range")
    stops_planned = count("Σ planned stops")
    stops_completed = count("Σ completed stops")
    completion_rate = number("Σ completed / Σ planned", min_value=0)
    minutes_per_stop = number("Σ minutes / Σ completed stops of timed runs")
    cash_collected = money("Σ cash collected")
    serviced_revenue = money("Σ serviced revenue")


class RoutesSerializer(RangeSerializer):
    runs = RouteRunSerializer(many=True, help_text="newest first")
    drivers = DriverConsistencySerializer(many=True)
    total = RouteTotalSerializer()


# --- trends ----------------------------------------------------------------------------------


class SeriesPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = number("the metric on this local day (0 when nothing happened)")


class TrendFitSerializer(serializers.Serializer):
    slope = number("least-squares slope per day: Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²")
    intercept = number("ȳ − slope·x̄ (day 0 = start)")
    r_squared = number("1 − SS_res / SS_tot (0 for a constant series)")


class SeasonalitySerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=1, max_value=7, help_text="ISO weekday")
    mean = number("mean of the metric on this weekday")
    factor = number("weekday mean / overall mean (1 when undefined)")


class ForecastPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    forecast = number("(intercept + slope·t) · weekday factor, ≥ 0")
    lower = number("forecast − 1.96·σ of the in-sample residuals, ≥ 0")
    upper = number("forecast + 1.96·σ")


class BacktestSerializer(serializers.Serializer):
    holdout_days = count("last days held out: min(14, n // 3)")
    mae = number("mean |actual − forecast| on the held-out days")
    mape = number("mean |actual − forecast| / |actual| · 100 over held-out days with actual ≠ 0")


class TrendsSerializer(RangeSerializer):
    end = serializers.DateField(help_text="last day modelled: the range's end, or yesterday when the range reaches today")
    metric = serializers.ChoiceField(choices=TREND_METRICS)
    series = SeriesPointSerializer(many=True)
    trend = TrendFitSerializer()
    seasonality = SeasonalitySerializer(many=True)
    forecast = ForecastPointSerializer(many=True, help_text="the 30 days after end")
    backtest = BacktestSerializer()


# --- anomalies -------------------------------------------------------------------------------


class AnomalySerializer(serializers.Serializer):
    device_id = serializers.IntegerField()
    asset = serializers.CharField()
    date = serializers.DateField()
    revenue = money("the device's revenue that local day")
    mean = number("mean daily revenue of the device over the range (days without sales are 0)")
    std = number("population standard deviation of the daily revenue")
    z = number("(revenue − mean) / std")
    direction = serializers.ChoiceField(choices=["high", "low"])
    severity = serializers.ChoiceField(
        choices=["medium", "high", "critical"], help_text="medium |z| ≤ 3, high ≤ 4, critical > 4"
    )


class AnomaliesSerializer(RangeSerializer):
    end = serializers.DateField(help_text="last day judged: the range's end, or yesterday when the range reaches today")
    z_threshold = number("days with |z| above this are anomalies")
    devices_checked = count("devices whose daily series were checked")
    anomalies = AnomalySerializer(many=True, help_text="largest |z| first")


# --- inventory -------------------------------------------------------------------------------


class SlotStockSerializer(serializers.Serializer):
    slot_id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    asset = serializers.CharField()
    slot = serializers.CharField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    capacity = count("slot capacity")
    par_level = count("par level")
    last_fill_at = serializers.DateTimeField(allow_null=True, help_text="the service visit of the slot's last fill")
    level_after_fill = serializers.IntegerField(allow_null=True, help_text="units in the slot after that fill")
    sold_since_fill = count("Σ quantity of the device's sales from this slot since the fill")
    estimated_stock = serializers.IntegerField(allow_null=True, help_text="max(0, level_after_fill − sold_since_fill)")
    daily_velocity = number("units sold from the slot in the last 14 local days / 14")
    days_until_empty = number("estimated_stock / daily_velocity; null when nothing sells", allow_null=True)
    risk = serializers.ChoiceField(
        choices=["out", "high", "medium", "unknown", "low"],
        help_text="out: stock 0; high: ≤ 2 days; medium: ≤ 7 days; unknown: never filled; else low",
    )


class PickItemSerializer(serializers.Serializer):
    device_id = serializers.IntegerField()
    asset = serializers.CharField()
    slot = serializers.CharField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    projected_stock = number("max(0, estimated stock − velocity · days until the run)")
    units = count("⌈capacity − projected_stock⌉")


class PickProductSerializer(serializers.Serializer):
    sku = serializers.CharField()
    product_name = serializers.CharField()
    units = count("Σ units to pick")


class PickListSerializer(serializers.Serializer):
    route_id = serializers.IntegerField()
    route = serializers.CharField()
    run_id = serializers.IntegerField(allow_null=True, help_text="the next unfinished run, null when none is scheduled")
    run_date = serializers.DateField(help_text="its date (today when none is scheduled)")
    items = PickItemSerializer(many=True)
    by_product = PickProductSerializer(many=True)
    total_units = count("Σ units")


class RiskSummarySerializer(serializers.Serializer):
    out = count("slots with estimated stock 0")
    high = count("slots empty within 2 days")
    medium = count("slots empty within 7 days")
    unknown = count("slots never filled")
    low = count("the rest")


class InventorySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    today = serializers.DateField(help_text="the chain's local date")
    slots = SlotStockSerializer(many=True, help_text="most urgent first")
    risk_summary = RiskSummarySerializer()
    pick_list = PickListSerializer(allow_null=True, help_text="present when ?route= is given")


# --- locations -------------------------------------------------------------------------------


class LocationRowSerializer(serializers.Serializer):
    location_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    city = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True)
    venue_type = serializers.CharField(allow_blank=True)
    latitude = number("WGS 84", allow_null=True)
    longitude = number("WGS 84", allow_null=True)
    revenue = money("sales_revenue + booking_revenue")
    sales_revenue = money("Σ sale amount of the location's machines")
    booking_revenue = money("Σ amount of non-cancelled bookings of its resources")
    units = count("Σ units sold")
    transactions = count("Σ transactions")
    bookings = count("non-cancelled bookings")
    devices = count("devices in scope at the location")
    active_devices = count("devices with at least one sale")
    revenue_per_device = money("sales_revenue / devices")
    percentile = pct("percentile rank of revenue among the locations listed")


class GeoGroupSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    locations = count("locations in the group")
    revenue = money("Σ revenue")
    units = count("Σ units")
    transactions = count("Σ transactions")
    bookings = count("Σ non-cancelled bookings")


class LocationsSerializer(RangeSerializer):
    locations = LocationRowSerializer(many=True, help_text="by revenue desc, then code")
    regions = GeoGroupSerializer(many=True)
    cities = GeoGroupSerializer(many=True)


# --- descriptions of the plain identifying fields --------------------------------------------

COMMON_HELP = {
    "device_id": "database id of the device (use it as a ?device= filter)",
    "asset": "the device's asset number",
    "location_id": "database id of the location",
    "location_name": "name of the location",
    "product_id": "database id of the product",
    "sku": "product SKU",
    "name": "display name",
    "product_name": "product name",
    "slot_id": "database id of the planogram slot",
    "slot": "slot code in the machine",
    "resource_id": "database id of the resource",
    "code": "code of the row (location or resource code)",
    "resource_type": "resource type, e.g. court or room",
    "customer_id": "database id of the customer",
    "first_purchase": "local date of the customer's first purchase or booking",
    "last_purchase": "local date of the customer's last purchase or booking up to the end of the range",
    "route_id": "database id of the route",
    "route": "route code",
    "route_name": "route name",
    "run_id": "database id of the route run",
    "driver_id": "database id of the driver",
    "driver": "driver name (the run's, else the route's)",
    "scheduled_for": "the run's scheduled local date",
    "started_at": "when the run started",
    "finished_at": "when the run finished",
    "date": "local date",
    "city": "city of the location",
    "region": "region of the location",
    "country": "ISO 3166-1 alpha-2 country",
    "venue_type": "kind of venue (office, school, gym …)",
    "category": "category name",
    "segment": "RFM segment",
    "abc_class": "ABC class",
    "metric": "what is measured",
    "group_by": "the dimension the groups are of",
    "step": "funnel step",
    "step_number": "1-based position of the step in the funnel",
    "step_names": "the funnel steps in order",
    "direction": "high: above the device's mean; low: below",
    "as_of": "when the estimate was made",
    "items": "what to load, per slot",
    "by_product": "what to load, per product",
    "fleet_summary": "totals and averages over every device in scope (never truncated by limit)",
    "score_components": "the four percentile ranks the performance score weighs",
    "total": "the same measures over everything in scope (never truncated by limit)",
    "segments": "customers and money per RFM segment",
    "lifetime_value": "lifetime value over all customers",
    "churn": "churn risk over all customers",
    "categories": "revenue per product category",
    "abc_summary": "products and revenue per ABC class",
    "regions": "locations rolled up by region",
    "cities": "locations rolled up by city",
    "drivers": "one line per driver with runs in the range",
    "risk_summary": "number of slots per out-of-stock risk",
    "series": "the metric for every local day of the range",
    "trend": "least-squares line through the daily series",
    "seasonality": "weekday factors, Monday first",
    "backtest": "forecast error when the last days are held out",
}


def _document_plain_fields() -> None:
    """Give every declared field without its own help text the common description of its name."""
    for candidate in list(globals().values()):
        if isinstance(candidate, type) and issubclass(candidate, serializers.Serializer):
            for field_name, field in candidate._declared_fields.items():
                if not field.help_text and field_name in COMMON_HELP:
                    # DRF re-creates fields from their constructor arguments when it copies them.
                    field.help_text = COMMON_HELP[field_name]
                    field._kwargs["help_text"] = field.help_text  # type: ignore[attr-defined]


_document_plain_fields()
