"""The typed rows of every analytics report: each answer and each of its lists, declared once.

Each key is `Annotated[<python type>, <field>]` (analytics.reports.fields): the type is what the selector puts
there (Decimal money, dates, floats), the field says how it is documented and presented. The OpenAPI response
schemas and the report columns are generated from these declarations; there is no other description of a shape.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, NotRequired, TypedDict

from analytics.reports.fields import (
    Choice,
    Count,
    Day,
    Instant,
    Integer,
    Money,
    Nested,
    Number,
    Percent,
    Rate,
    Text,
    Texts,
)
from analytics.selectors.heatmap import HEATMAP_METRICS
from analytics.selectors.revenue import GROUP_BY_CHOICES
from analytics.selectors.trends import TREND_METRICS


class TopProductRow(TypedDict):
    product_id: Annotated[int, Integer('database id of the product')]
    sku: Annotated[str, Text('product SKU', label='SKU')]
    name: Annotated[str, Text('display name')]
    revenue: Annotated[Decimal, Money('Σ sale amount of this product in this device')]
    units: Annotated[int, Count('Σ quantity')]


class DailyRevenueRow(TypedDict):
    date: Annotated[dt.date, Day('local date')]
    revenue: Annotated[Decimal, Money('Σ sale amount of the fleet on this local day')]


class ScoreComponents(TypedDict):
    revenue: Annotated[float, Percent('percentile rank of total revenue in the fleet')]
    consistency: Annotated[float, Percent('percentile rank of the coefficient of variation of daily revenue, low CV ranks high')]
    growth: Annotated[float, Percent('percentile rank of the slope of daily revenue')]
    efficiency: Annotated[float, Percent('percentile rank of revenue per unit')]


class DeviceSalesRow(TypedDict):
    device_id: Annotated[int, Integer('database id of the device (use it as a ?device= filter)')]
    asset: Annotated[str, Text('asset number')]
    location_name: Annotated[str, Text('name of the location')]
    total_revenue: Annotated[Decimal, Money('Σ sale amount')]
    total_units: Annotated[int, Count('Σ sale quantity')]
    total_transactions: Annotated[int, Count('Σ sale transactions')]
    avg_transaction_value: Annotated[Decimal, Money('total_revenue / total_transactions, 0 when no transactions')]
    daily_revenue: Annotated[Decimal, Money('total_revenue / days in the range')]
    revenue_per_unit: Annotated[Decimal, Money('total_revenue / total_units, 0 when no units')]
    active_days: Annotated[int, Count('local days with at least one sale')]
    first_sale: Annotated[dt.date | None, Day('local date of the first sale in the range', nullable=True)]
    last_sale: Annotated[dt.date | None, Day('local date of the last sale in the range', nullable=True)]
    top_products: Annotated[list[TopProductRow], Nested("the device's 5 best products by revenue (then SKU)")]
    daily: NotRequired[Annotated[list[DailyRevenueRow], Nested('revenue for every local day of the range; only with ?daily_series=true')]]
    daily_trend: Annotated[float, Number('least-squares slope of daily revenue against the day index (revenue per day, per day)')]
    daily_revenue_cv: Annotated[float, Number('population std / |mean| of daily revenue (days without sales are 0)')]
    score_components: Annotated[ScoreComponents, Nested('the four percentile ranks the performance score weighs')]
    performance_score: Annotated[float, Percent('0.40·revenue + 0.25·consistency + 0.20·growth + 0.15·efficiency percentiles')]
    fleet_rank: Annotated[int, Integer('1 = best score; equal scores by asset number', min_value=1)]
    percentile: Annotated[float, Percent('percentile rank of the score in the fleet: (rank_avg − 1) / (n − 1) · 100')]


class FleetSummary(TypedDict):
    device_count: Annotated[int, Count('devices in scope (installed by the end of the range, not retired before it)')]
    active_devices: Annotated[int, Count('devices with at least one sale in the range')]
    total_revenue: Annotated[Decimal, Money('Σ revenue of all devices')]
    total_units: Annotated[int, Count('Σ units')]
    total_transactions: Annotated[int, Count('Σ transactions')]
    avg_transaction_value: Annotated[Decimal, Money('total_revenue / total_transactions')]
    daily_revenue: Annotated[Decimal, Money('total_revenue / days')]
    revenue_per_unit: Annotated[Decimal, Money('total_revenue / total_units')]
    mean_revenue_per_device: Annotated[Decimal, Money('total_revenue / device_count')]
    median_revenue_per_device: Annotated[float, Number("median of the devices' revenue")]


class BenchmarkRow(TypedDict):
    metric: Annotated[str, Choice('what is measured', choices=('revenue', 'units', 'transactions', 'avg_transaction_value', 'avg_daily_revenue'))]
    p25: Annotated[float, Number('25th percentile across devices (linear interpolation)')]
    median: Annotated[float, Number('median across devices')]
    p75: Annotated[float, Number('75th percentile across devices')]


class AssetSalesAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    days: Annotated[int, Count('days in the range (a local day may be 23 or 25 hours)')]
    devices: Annotated[list[DeviceSalesRow], Nested('every device in scope ordered by fleet_rank')]
    fleet_summary: Annotated[FleetSummary, Nested('totals and averages over every device in scope (never truncated by limit)')]
    benchmarks: Annotated[list[BenchmarkRow], Nested('quartiles of the per-device metrics')]
    daily: Annotated[list[DailyRevenueRow], Nested('fleet revenue per local day, every day of the range; per month when series_grain is month')]
    series_grain: Annotated[str, Choice(
        'day, or month for a range longer than 733 days: daily and devices[].daily then hold one row per month'
        ' (dated its first day in the range)',
        choices=('day', 'month'),
    )]


class ProductRow(TypedDict):
    product_id: Annotated[int, Integer('database id of the product')]
    sku: Annotated[str, Text('product SKU', label='SKU')]
    name: Annotated[str, Text('display name')]
    category: Annotated[str, Text("category name, 'Uncategorized' when none")]
    revenue: Annotated[Decimal, Money('Σ sale amount')]
    units: Annotated[int, Count('Σ quantity')]
    transactions: Annotated[int, Count('Σ transactions')]
    devices_stocking: Annotated[int, Count('devices in scope whose planogram carried the product during the range')]
    units_per_device: Annotated[float, Number('units / devices_stocking (0 when not stocked)')]
    velocity: Annotated[float, Number('units / (days · devices_stocking): units per machine per day')]
    velocity_rank: Annotated[int, Integer('1 = highest velocity (ties by SKU)', min_value=1)]
    revenue_per_unit: Annotated[Decimal, Money('revenue / units')]
    margin: Annotated[Decimal | None, Money('revenue − units · unit cost; null when the cost is unknown', nullable=True)]
    margin_pct: Annotated[float | None, Number('margin / revenue (fraction); null when unknown or no revenue', nullable=True)]
    abc_class: Annotated[str, Choice('by revenue desc then SKU: A while the cumulative share before the product < 80 %, B while < 95 %, else C', choices=('A', 'B', 'C'))]
    revenue_share: Annotated[float, Rate('revenue / total revenue')]
    cumulative_share: Annotated[float, Rate('cumulative revenue share up to and including this product')]


class CategoryRow(TypedDict):
    category: Annotated[str, Text('category name')]
    revenue: Annotated[Decimal, Money("Σ revenue of the category's products")]
    units: Annotated[int, Count('Σ units')]
    transactions: Annotated[int, Count('Σ transactions')]
    products: Annotated[int, Count('products listed in the category')]
    share: Annotated[float, Rate('category revenue / total revenue')]


class AbcSummaryRow(TypedDict):
    abc_class: Annotated[str, Choice('ABC class', choices=('A', 'B', 'C'))]
    products: Annotated[int, Count('products in the class')]
    revenue: Annotated[Decimal, Money('Σ revenue of the class')]
    share: Annotated[float, Rate('class revenue / total revenue')]


class SlowMoverRow(TypedDict):
    product_id: Annotated[int, Integer('database id of the product')]
    sku: Annotated[str, Text('product SKU', label='SKU')]
    name: Annotated[str, Text('display name')]
    last_sold_on: Annotated[dt.date | None, Day('local date of the last sale ever (null: never)', nullable=True)]
    days_since_last_sale: Annotated[int | None, Integer('end − last_sold_on', nullable=True)]
    bucket: Annotated[int, Choice('largest of 30/60/90 reached', choices=(30, 60, 90))]


class TopMoverRow(TypedDict):
    product_id: Annotated[int, Integer('database id of the product')]
    sku: Annotated[str, Text('product SKU', label='SKU')]
    name: Annotated[str, Text('display name')]
    current_units: Annotated[int, Count('units in the range')]
    previous_units: Annotated[int, Count('units in the previous period of equal length')]
    current_velocity: Annotated[float, Number('units / (days · devices stocking) in the range')]
    previous_velocity: Annotated[float, Number('the same in the previous period')]
    velocity_change: Annotated[float, Number('current_velocity − previous_velocity (> 0)')]
    velocity_change_pct: Annotated[float, Number('velocity_change / previous_velocity · 100 (0 when previous is 0)')]


class AffinityRow(TypedDict):
    antecedent: Annotated[str, Text('SKU A of the rule A → B')]
    consequent: Annotated[str, Text('SKU B')]
    pair_count: Annotated[int, Count('baskets (one customer, one local day) with both')]
    support: Annotated[float, Rate('pair_count / baskets')]
    confidence: Annotated[float, Rate('pair_count / baskets with A')]
    lift: Annotated[float, Number('confidence / (baskets with B / baskets)')]


class SlotRevenueRow(TypedDict):
    slot: Annotated[str, Text("slot code (the same position in every machine); '' when unknown")]
    revenue: Annotated[Decimal, Money('Σ sale amount from the slot')]
    units: Annotated[int, Count('Σ quantity')]
    transactions: Annotated[int, Count('Σ transactions')]
    share: Annotated[float, Rate('slot revenue / total revenue')]


class ProductSalesAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    products: Annotated[list[ProductRow], Nested('by revenue desc, then SKU')]
    categories: Annotated[list[CategoryRow], Nested('revenue per product category')]
    abc_summary: Annotated[list[AbcSummaryRow], Nested('products and revenue per ABC class')]
    slow_movers: Annotated[list[SlowMoverRow], Nested('stocked at end, no sale in the last 30/60/90 days')]
    top_movers: Annotated[list[TopMoverRow], Nested('largest velocity increase vs the previous period')]
    affinity: Annotated[list[AffinityRow], Nested('association rules, highest lift first (pairs seen ≥ 2 times)')]
    slots: Annotated[list[SlotRevenueRow], Nested('revenue by slot position')]


class RevenueTotal(TypedDict):
    revenue: Annotated[Decimal, Money('Σ revenue of all groups')]
    units: Annotated[int, Count('Σ units')]
    transactions: Annotated[int, Count('Σ transactions')]


class RevenueGroupRow(TypedDict):
    key: Annotated[str, Text('location code, region, device type, category name, product SKU, resource code or resource type', blank=True)]
    name: Annotated[str, Text('display name')]
    id: Annotated[int | None, Integer('database id of the group when it has one', nullable=True)]
    revenue: Annotated[Decimal, Money('Σ sale amount (resources: Σ amount of non-cancelled bookings)')]
    units: Annotated[int, Count('Σ quantity (resources: non-cancelled bookings)')]
    transactions: Annotated[int, Count('Σ transactions (resources: non-cancelled bookings)')]
    share: Annotated[float, Rate('group revenue / total revenue')]


class RevenueAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    group_by: Annotated[str, Choice('the dimension the groups are of', choices=GROUP_BY_CHOICES)]
    total: Annotated[RevenueTotal, Nested('the same measures over everything in scope (never truncated by limit)')]
    groups: Annotated[list[RevenueGroupRow], Nested('by revenue desc, then key')]


class LocationRow(TypedDict):
    location_id: Annotated[int, Integer('database id of the location')]
    code: Annotated[str, Text('code of the row (location or resource code)')]
    name: Annotated[str, Text('display name')]
    city: Annotated[str, Text('city of the location', blank=True)]
    region: Annotated[str, Text('region of the location', blank=True)]
    country: Annotated[str, Text('ISO 3166-1 alpha-2 country', blank=True)]
    venue_type: Annotated[str, Text('kind of venue (office, school, gym …)', blank=True)]
    latitude: Annotated[float | None, Number('WGS 84', nullable=True)]
    longitude: Annotated[float | None, Number('WGS 84', nullable=True)]
    revenue: Annotated[Decimal, Money('sales_revenue + booking_revenue')]
    sales_revenue: Annotated[Decimal, Money("Σ sale amount of the location's machines")]
    booking_revenue: Annotated[Decimal, Money('Σ amount of non-cancelled bookings of its resources')]
    units: Annotated[int, Count('Σ units sold')]
    transactions: Annotated[int, Count('Σ transactions')]
    bookings: Annotated[int, Count('non-cancelled bookings')]
    devices: Annotated[int, Count('devices in scope at the location')]
    active_devices: Annotated[int, Count('devices with at least one sale')]
    revenue_per_device: Annotated[Decimal, Money('sales_revenue / devices')]
    percentile: Annotated[float, Percent('percentile rank of revenue among the locations listed')]


class GeoGroupRow(TypedDict):
    name: Annotated[str, Text('display name', blank=True)]
    locations: Annotated[int, Count('locations in the group')]
    revenue: Annotated[Decimal, Money('Σ revenue')]
    units: Annotated[int, Count('Σ units')]
    transactions: Annotated[int, Count('Σ transactions')]
    bookings: Annotated[int, Count('Σ non-cancelled bookings')]


class LocationsAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    locations: Annotated[list[LocationRow], Nested('by revenue desc, then code')]
    regions: Annotated[list[GeoGroupRow], Nested('locations rolled up by region')]
    cities: Annotated[list[GeoGroupRow], Nested('locations rolled up by city')]


class HeatmapCellRow(TypedDict):
    weekday: Annotated[int, Integer('ISO weekday, 1 = Monday', min_value=1, max_value=7)]
    hour: Annotated[int, Integer('local hour of the chain', min_value=0, max_value=23)]
    value: Annotated[float, Number('revenue (rounded half-up to cents), units, transactions, non-cancelled bookings by start, or utilization = booked minutes in the cell / open minutes of the cell')]


class HeatmapAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    metric: Annotated[str, Choice('what is measured', choices=HEATMAP_METRICS)]
    cells: Annotated[list[HeatmapCellRow], Nested('all 168 cells, weekday-major')]
    peak: Annotated[HeatmapCellRow | None, Nested('the cell with the largest value; null when all are 0', nullable=True)]


class ResourceUtilizationRow(TypedDict):
    resource_id: Annotated[int, Integer('database id of the resource')]
    code: Annotated[str, Text('code of the row (location or resource code)')]
    name: Annotated[str, Text('display name')]
    resource_type: Annotated[str, Text('resource type, e.g. court or room', blank=True)]
    location_name: Annotated[str, Text('name of the location')]
    bookings: Annotated[int, Count('bookings starting in the range, all statuses')]
    cancelled: Annotated[int, Count('cancelled bookings')]
    no_shows: Annotated[int, Count('no-show bookings')]
    no_show_rate: Annotated[float, Rate('no_shows / (bookings − cancelled), 0 when none')]
    booked_minutes: Annotated[float, Number('minutes of non-cancelled bookings (no-shows occupy their slot)')]
    open_minutes: Annotated[int, Count('minutes open in the range from the weekly opening hours (local)')]
    utilization: Annotated[float, Number('booked_minutes / open_minutes (fraction, 0 when never open)', min_value=0)]
    revenue: Annotated[Decimal, Money('Σ amount of non-cancelled bookings')]


class UtilizationTotal(TypedDict):
    bookings: Annotated[int, Count('all bookings')]
    cancelled: Annotated[int, Count('cancelled')]
    no_shows: Annotated[int, Count('no-shows')]
    no_show_rate: Annotated[float, Rate('Σ no_shows / Σ (bookings − cancelled)')]
    booked_minutes: Annotated[float, Number('Σ booked minutes')]
    open_minutes: Annotated[int, Count('Σ open minutes')]
    utilization: Annotated[float, Number('Σ booked / Σ open minutes', min_value=0)]
    revenue: Annotated[Decimal, Money('Σ booking revenue')]


class NoShowDayRow(TypedDict):
    date: Annotated[dt.date, Day('local date')]
    bookings: Annotated[int, Count('bookings starting that local day')]
    no_shows: Annotated[int, Count('no-shows')]
    no_show_rate: Annotated[float, Rate('no_shows / (bookings − cancelled)')]


class UtilizationAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    resources: Annotated[list[ResourceUtilizationRow], Nested('by utilization desc, then code')]
    total: Annotated[UtilizationTotal, Nested('the same measures over everything in scope (never truncated by limit)')]
    no_show_trend: Annotated[list[NoShowDayRow], Nested('every day of the range')]
    no_show_trend_slope: Annotated[float, Number('least-squares slope of the daily no-show rate (per day)')]


class FunnelStepRow(TypedDict):
    step: Annotated[str, Choice('funnel step', choices=('visit', 'wizard_start', 'submit', 'paid'))]
    step_number: Annotated[int, Integer('1-based position of the step in the funnel', min_value=1, max_value=4)]
    sessions: Annotated[int, Count('sessions with events for every step 1..k in time order, each once')]
    conversion: Annotated[float, Rate('sessions_k / sessions_1')]
    drop_off: Annotated[float, Rate('1 − sessions_k / sessions_(k−1); 0 for the first step')]


class ConversionAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    steps: Annotated[list[FunnelStepRow], Nested('in funnel order')]
    sessions: Annotated[int, Count('distinct sessions with any funnel event in the range')]
    overall_conversion: Annotated[float, Rate('paid sessions / visit sessions')]
    step_names: Annotated[list[str], Texts('the funnel steps in order')]


class CohortRow(TypedDict):
    month: Annotated[str, Text('YYYY-MM, local', pattern=r'^\d{4}-\d{2}$')]
    first_time: Annotated[int, Count('active customers whose first ever purchase or booking is in this month')]
    repeat: Annotated[int, Count('active customers who started in an earlier month')]
    active: Annotated[int, Count('first_time + repeat')]


class SegmentRow(TypedDict):
    segment: Annotated[str, Choice('RFM segment', choices=('Champions', 'Loyal', 'New', 'At Risk', 'Hibernating'))]
    customers: Annotated[int, Count('customers in the segment')]
    monetary: Annotated[Decimal, Money('Σ monetary of the segment')]


class LifetimeValue(TypedDict):
    customers: Annotated[int, Count('customers with a purchase up to the end of the range')]
    total: Annotated[Decimal, Money('Σ lifetime value')]
    average: Annotated[Decimal, Money('total / customers')]
    median: Annotated[Decimal, Money('median lifetime value')]


class Churn(TypedDict):
    high_risk_customers: Annotated[int, Count('customers with churn_risk ≥ 0.5')]
    average_risk: Annotated[float, Rate('mean churn_risk')]


class RfmRow(TypedDict):
    customer_id: Annotated[int, Integer('database id of the customer')]
    customer: Annotated[str, Text('external customer reference')]
    first_purchase: Annotated[dt.date, Day("local date of the customer's first purchase or booking")]
    last_purchase: Annotated[dt.date, Day("local date of the customer's last purchase or booking up to the end of the range")]
    recency_days: Annotated[int, Count('end − last purchase, days')]
    frequency: Annotated[int, Count('purchases: Σ sale transactions + non-cancelled bookings, to the end of the range')]
    monetary: Annotated[Decimal, Money('Σ sale amount + non-cancelled booking amount')]
    r_score: Annotated[int, Integer('quintile of −recency', min_value=1, max_value=5)]
    f_score: Annotated[int, Integer('quintile of frequency', min_value=1, max_value=5)]
    m_score: Annotated[int, Integer('quintile of monetary', min_value=1, max_value=5)]
    segment: Annotated[str, Choice('New: first purchase < 30 days ago; Champions: R≥4 and F≥4; At Risk: R≤2 and F≥3; Loyal: F≥4 or (R≥3 and F≥3); else Hibernating', choices=('Champions', 'Loyal', 'New', 'At Risk', 'Hibernating'))]
    lifetime_value: Annotated[Decimal, Money('historical lifetime value = monetary')]
    average_order_value: Annotated[Decimal, Money('monetary / frequency')]
    purchases_per_30_days: Annotated[float, Number('frequency / max(tenure days, 30) · 30')]
    typical_gap_days: Annotated[float, Number('(last − first purchase) / (frequency − 1); one-time buyers: the median gap')]
    churn_risk: Annotated[float, Rate('clip((recency_days / typical_gap_days − 1) / 2, 0, 1)')]


class CustomersAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    cohorts: Annotated[list[CohortRow], Nested('months of the range with activity, ascending')]
    segments: Annotated[list[SegmentRow], Nested('customers and money per RFM segment')]
    lifetime_value: Annotated[LifetimeValue, Nested('lifetime value over all customers')]
    churn: Annotated[Churn, Nested('churn risk over all customers')]
    rfm: Annotated[list[RfmRow], Nested('by monetary desc, then customer')]


class RouteRunRow(TypedDict):
    run_id: Annotated[int, Integer('database id of the route run')]
    route_id: Annotated[int, Integer('database id of the route')]
    route: Annotated[str, Text('route code')]
    route_name: Annotated[str, Text('route name')]
    driver: Annotated[str | None, Text("driver name (the run's, else the route's)", nullable=True)]
    driver_id: Annotated[int | None, Integer('database id of the driver', nullable=True)]
    scheduled_for: Annotated[dt.date, Day("the run's scheduled local date")]
    started_at: Annotated[dt.datetime | None, Instant('when the run started', nullable=True)]
    finished_at: Annotated[dt.datetime | None, Instant('when the run finished', nullable=True)]
    stops_planned: Annotated[int, Count("planned stops (the route's stops when the run does not say)")]
    stops_completed: Annotated[int, Count('completed service visits of the run')]
    completion_rate: Annotated[float, Number('stops_completed / stops_planned', min_value=0)]
    duration_minutes: Annotated[float | None, Number('finished_at − started_at in minutes', nullable=True)]
    minutes_per_stop: Annotated[float | None, Number('duration_minutes / stops_completed', nullable=True)]
    cash_collected: Annotated[Decimal, Money("Σ cash collected at the run's visits")]
    serviced_revenue: Annotated[Decimal, Money('Σ sales of each visited machine since its previous service visit')]


class DriverConsistencyRow(TypedDict):
    driver_id: Annotated[int, Integer('database id of the driver')]
    driver: Annotated[str | None, Text("driver name (the run's, else the route's)", nullable=True)]
    runs: Annotated[int, Count('runs in the range')]
    stops_completed: Annotated[int, Count('Σ completed stops')]
    avg_completion_rate: Annotated[float, Number('mean completion rate of the runs', min_value=0)]
    avg_minutes_per_stop: Annotated[float, Number('mean minutes per stop over runs with a duration')]
    minutes_per_stop_cv: Annotated[float, Number('population std / mean of minutes per stop')]
    consistency: Annotated[float | None, Rate('1 − CV, clipped; null with fewer than two timed runs', nullable=True)]
    cash_collected: Annotated[Decimal, Money('Σ cash collected')]


class RouteTotal(TypedDict):
    runs: Annotated[int, Count('runs in the range')]
    stops_planned: Annotated[int, Count('Σ planned stops')]
    stops_completed: Annotated[int, Count('Σ completed stops')]
    completion_rate: Annotated[float, Number('Σ completed / Σ planned', min_value=0)]
    minutes_per_stop: Annotated[float, Number('Σ minutes / Σ completed stops of timed runs')]
    cash_collected: Annotated[Decimal, Money('Σ cash collected')]
    serviced_revenue: Annotated[Decimal, Money('Σ serviced revenue')]


class RoutesAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day('last local date of the range, inclusive')]
    runs: Annotated[list[RouteRunRow], Nested('newest first')]
    drivers: Annotated[list[DriverConsistencyRow], Nested('one line per driver with runs in the range')]
    total: Annotated[RouteTotal, Nested('the same measures over everything in scope (never truncated by limit)')]


class SeriesPointRow(TypedDict):
    date: Annotated[dt.date, Day('local date')]
    value: Annotated[float, Number('the metric on this local day (0 when nothing happened)')]


class TrendFit(TypedDict):
    slope: Annotated[float, Number('least-squares slope per day: Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²')]
    intercept: Annotated[float, Number('ȳ − slope·x̄ (day 0 = start)')]
    r_squared: Annotated[float, Number('1 − SS_res / SS_tot (0 for a constant series)')]


class SeasonalityRow(TypedDict):
    weekday: Annotated[int, Integer('ISO weekday', min_value=1, max_value=7)]
    mean: Annotated[float, Number('mean of the metric on this weekday')]
    factor: Annotated[float, Number('weekday mean / overall mean (1 when undefined)')]


class ForecastPointRow(TypedDict):
    date: Annotated[dt.date, Day('local date')]
    forecast: Annotated[float, Number('(intercept + slope·t) · weekday factor, ≥ 0')]
    lower: Annotated[float, Number('forecast − 1.96·σ of the in-sample residuals, ≥ 0')]
    upper: Annotated[float, Number('forecast + 1.96·σ')]


class Backtest(TypedDict):
    holdout_days: Annotated[int, Count('last days held out: min(14, n // 3)')]
    mae: Annotated[float, Number('mean |actual − forecast| on the held-out days')]
    mape: Annotated[float, Number('mean |actual − forecast| / |actual| · 100 over held-out days with actual ≠ 0')]


class TrendsAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day("last day modelled: the range's end, or yesterday when the range reaches today")]
    metric: Annotated[str, Choice('what is measured', choices=TREND_METRICS)]
    series: Annotated[list[SeriesPointRow], Nested('the metric for every local day of the range')]
    trend: Annotated[TrendFit, Nested('least-squares line through the daily series')]
    seasonality: Annotated[list[SeasonalityRow], Nested('weekday factors, Monday first')]
    forecast: Annotated[list[ForecastPointRow], Nested('the 30 days after end')]
    backtest: Annotated[Backtest, Nested('forecast error when the last days are held out')]


class AnomalyRow(TypedDict):
    device_id: Annotated[int, Integer('database id of the device (use it as a ?device= filter)')]
    asset: Annotated[str, Text("the device's asset number")]
    date: Annotated[dt.date, Day('local date')]
    revenue: Annotated[Decimal, Money("the device's revenue that local day")]
    mean: Annotated[float, Number('mean daily revenue of the device over the range (days without sales are 0)')]
    std: Annotated[float, Number('population standard deviation of the daily revenue')]
    z: Annotated[float, Number('(revenue − mean) / std')]
    direction: Annotated[str, Choice("high: above the device's mean; low: below", choices=('high', 'low'))]
    severity: Annotated[str, Choice('medium |z| ≤ 3, high ≤ 4, critical > 4', choices=('medium', 'high', 'critical'))]


class AnomaliesAnswer(TypedDict):
    start: Annotated[dt.date, Day('first local date of the range, inclusive')]
    end: Annotated[dt.date, Day("last day judged: the range's end, or yesterday when the range reaches today")]
    z_threshold: Annotated[float, Number('days with |z| above this are anomalies')]
    devices_checked: Annotated[int, Count('devices whose daily series were checked')]
    anomalies: Annotated[list[AnomalyRow], Nested('largest |z| first')]


class SlotStockRow(TypedDict):
    slot_id: Annotated[int, Integer('database id of the planogram slot')]
    device_id: Annotated[int, Integer('database id of the device (use it as a ?device= filter)')]
    asset: Annotated[str, Text("the device's asset number")]
    slot: Annotated[str, Text('slot code in the machine')]
    product_id: Annotated[int, Integer('database id of the product')]
    sku: Annotated[str, Text('product SKU', label='SKU')]
    product_name: Annotated[str, Text('product name')]
    capacity: Annotated[int, Count('slot capacity')]
    par_level: Annotated[int, Count('par level')]
    last_fill_at: Annotated[dt.datetime | None, Instant("the service visit of the slot's last fill", nullable=True)]
    level_after_fill: Annotated[int | None, Integer('units in the slot after that fill', nullable=True)]
    sold_since_fill: Annotated[int, Count("Σ quantity of the device's sales from this slot since the fill")]
    estimated_stock: Annotated[int | None, Integer('max(0, level_after_fill − sold_since_fill)', nullable=True)]
    daily_velocity: Annotated[float, Number('units sold from the slot in the last 14 local days / 14')]
    days_until_empty: Annotated[float | None, Number('estimated_stock / daily_velocity; null when nothing sells', nullable=True)]
    risk: Annotated[str, Choice('out: stock 0; high: ≤ 2 days; medium: ≤ 7 days; unknown: never filled; else low', choices=('out', 'high', 'medium', 'unknown', 'low'))]


class RiskSummary(TypedDict):
    out: Annotated[int, Count('slots with estimated stock 0')]
    high: Annotated[int, Count('slots empty within 2 days')]
    medium: Annotated[int, Count('slots empty within 7 days')]
    unknown: Annotated[int, Count('slots never filled')]
    low: Annotated[int, Count('the rest')]


class PickItemRow(TypedDict):
    device_id: Annotated[int, Integer('database id of the device (use it as a ?device= filter)')]
    asset: Annotated[str, Text("the device's asset number")]
    slot: Annotated[str, Text('slot code in the machine')]
    sku: Annotated[str, Text('product SKU', label='SKU')]
    product_name: Annotated[str, Text('product name')]
    projected_stock: Annotated[float, Number('max(0, estimated stock − velocity · days until the run)')]
    units: Annotated[int, Count('⌈capacity − projected_stock⌉')]


class PickProductRow(TypedDict):
    sku: Annotated[str, Text('product SKU', label='SKU')]
    product_name: Annotated[str, Text('product name')]
    units: Annotated[int, Count('Σ units to pick')]


class PickList(TypedDict):
    route_id: Annotated[int, Integer('database id of the route')]
    route: Annotated[str, Text('route code')]
    run_id: Annotated[int | None, Integer('the next unfinished run, null when none is scheduled', nullable=True)]
    run_date: Annotated[dt.date, Day('its date (today when none is scheduled)')]
    items: Annotated[list[PickItemRow], Nested('what to load, per slot')]
    by_product: Annotated[list[PickProductRow], Nested('what to load, per product')]
    total_units: Annotated[int, Count('Σ units')]


class InventoryAnswer(TypedDict):
    as_of: Annotated[dt.datetime, Instant('when the estimate was made')]
    today: Annotated[dt.date, Day("the chain's local date")]
    slots: Annotated[list[SlotStockRow], Nested('most urgent first')]
    risk_summary: Annotated[RiskSummary, Nested('number of slots per out-of-stock risk')]
    pick_list: Annotated[PickList | None, Nested('present when ?route= is given', nullable=True)]



# --- dashboard -------------------------------------------------------------------------------


class DashboardKpis(TypedDict):
    revenue: Annotated[Decimal, Money("sales_revenue + booking_revenue")]
    sales_revenue: Annotated[Decimal, Money("Σ sale amount")]
    booking_revenue: Annotated[Decimal, Money("Σ amount of the bookings not cancelled, by booking start time")]
    units: Annotated[int, Count("Σ sale quantity")]
    transactions: Annotated[int, Count("Σ sale transactions")]
    avg_transaction_value: Annotated[Decimal, Money("sales_revenue / transactions, 0 when no transactions")]
    active_devices: Annotated[int, Count("devices with at least one sale in the range")]
    revenue_run_rate: Annotated[Decimal, Money(
        "revenue of the month of the range's end through the end / its elapsed days × days in the month; a range"
        " reaching today counts today's elapsed local time as a fraction of the day, an earlier range whole days"
    )]
    bookings: Annotated[int, Count("bookings starting in the range, all statuses")]
    no_show_rate: Annotated[float, Rate("no-shows / bookings not cancelled, 0 when none")]
    utilization: Annotated[float, Number("booked minutes of non-cancelled bookings / open minutes of the resources", min_value=0)]
    nps: Annotated[float | None, Number(
        "% promoters (9–10) − % detractors (0–6) of the NPS responses in the range; null without responses",
        label="NPS", nullable=True,
    )]


class DashboardChange(TypedDict):
    revenue: Annotated[float | None, Number("change of revenue in %; null when the previous value is 0", nullable=True)]
    sales_revenue: Annotated[float | None, Number("change of sales_revenue in %", nullable=True)]
    booking_revenue: Annotated[float | None, Number("change of booking_revenue in %", nullable=True)]
    units: Annotated[float | None, Number("change of units in %", nullable=True)]
    transactions: Annotated[float | None, Number("change of transactions in %", nullable=True)]
    avg_transaction_value: Annotated[float | None, Number("change of avg_transaction_value in %", nullable=True)]
    active_devices: Annotated[float | None, Number("change of active_devices in %", nullable=True)]
    revenue_run_rate: Annotated[float | None, Number("change of revenue_run_rate in %", nullable=True)]
    bookings: Annotated[float | None, Number("change of bookings in %", nullable=True)]
    no_show_rate: Annotated[float | None, Number("change of no_show_rate in %", nullable=True)]
    utilization: Annotated[float | None, Number("change of utilization in %", nullable=True)]
    nps: Annotated[float | None, Number("change of nps in %; null when either has no responses", nullable=True)]


class DashboardDayRow(TypedDict):
    date: Annotated[dt.date, Day("local date")]
    revenue: Annotated[Decimal, Money("Σ sale amount that local day")]
    units: Annotated[int, Count("Σ sale quantity")]
    transactions: Annotated[int, Count("Σ sale transactions")]


class TopDeviceRow(TypedDict):
    device_id: Annotated[int, Integer("database id of the device (use it as a ?device= filter)")]
    asset: Annotated[str | None, Text("the device's asset number", nullable=True)]
    location_name: Annotated[str | None, Text("name of the location", nullable=True)]
    revenue: Annotated[Decimal, Money("Σ sale amount")]
    units: Annotated[int, Count("Σ sale quantity")]
    transactions: Annotated[int, Count("Σ sale transactions")]


class TopProductSummaryRow(TypedDict):
    product_id: Annotated[int, Integer("database id of the product")]
    sku: Annotated[str | None, Text("product SKU", label="SKU", nullable=True)]
    name: Annotated[str | None, Text("product name", nullable=True)]
    category: Annotated[str | None, Text("category name; null when none", nullable=True)]
    revenue: Annotated[Decimal, Money("Σ sale amount")]
    units: Annotated[int, Count("Σ sale quantity")]
    transactions: Annotated[int, Count("Σ sale transactions")]


class TopLocationRow(TypedDict):
    location_id: Annotated[int, Integer("database id of the location")]
    code: Annotated[str | None, Text("location code", nullable=True)]
    name: Annotated[str | None, Text("location name", nullable=True)]
    region: Annotated[str | None, Text("region of the location", blank=True, nullable=True)]
    revenue: Annotated[Decimal, Money("Σ sale amount of its machines")]
    units: Annotated[int, Count("Σ sale quantity")]
    transactions: Annotated[int, Count("Σ sale transactions")]


class DashboardAnswer(TypedDict):
    start: Annotated[dt.date, Day("first local date of the range, inclusive")]
    end: Annotated[dt.date, Day("last local date of the range, inclusive")]
    currency: Annotated[str, Text("the chain's currency (ISO 4217)")]
    kpis: Annotated[DashboardKpis, Nested("the KPIs of the range")]
    previous: Annotated[DashboardKpis, Nested("the same KPIs for the previous period of equal length")]
    previous_start: Annotated[dt.date, Day("first local date of the previous period")]
    previous_end: Annotated[dt.date, Day("last local date of the previous period (the day before start)")]
    change_pct: Annotated[DashboardChange, Nested("(current − previous) / previous × 100 per KPI, rounded to 2 places")]
    series: Annotated[list[DashboardDayRow], Nested(
        "sales for every local day of the range; by month (each row dated its first day in the range) when"
        " series_grain is month"
    )]
    series_grain: Annotated[str, Choice(
        "day, or month for a range longer than 733 days (the months of the range, cut at its ends)",
        choices=("day", "month"),
    )]
    top_devices: Annotated[list[TopDeviceRow], Nested("the best devices by revenue (then id), `limit` rows (default 10)")]
    top_products: Annotated[list[TopProductSummaryRow], Nested("the best products by revenue (then id)")]
    top_locations: Annotated[list[TopLocationRow], Nested("the best locations by their machines' revenue (then id)")]


# --- paging (added to the answer of every paged report by analytics.reports.Report.page) ----------------


class PageInfo(TypedDict):
    key: Annotated[str, Text('the key of the paged list in this answer (rfm, slots, devices, …)')]
    total: Annotated[int, Count('rows the whole list has for these parameters (every page together)')]
    offset: Annotated[int, Count('rows skipped before this page')]
    limit: Annotated[int, Integer('rows asked for (the default when not given)', min_value=1)]
    returned: Annotated[int, Count('rows in this page: min(limit, total − offset)')]
    next_offset: Annotated[int | None, Integer('the offset of the next page; null on the last page', nullable=True)]
    next: NotRequired[Annotated[str | None, Text('the address of the next page (GET); null on the last page', nullable=True)]]
