"""Analytics-owned tables: the capabilities it grants and the ranges ingestion marked changed."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q


class Capability(models.Model):
    """Carries the analytics capabilities as permissions; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("read", "Can browse dashboards and the analytics API"),
            ("export", "Can export reports (CSV, XLSX, PDF)"),
        ]

    def __str__(self) -> str:
        return "analytics capabilities"


class DirtyRange(models.Model):
    """A time range whose raw rows changed since the rollups last covered it (late data, backfills)."""

    class Kind(models.TextChoices):
        SALES = "sales"
        BOOKINGS = "bookings"
        FUNNEL = "funnel"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="exclusive")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="dirty_range_not_empty")]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"


class RollupGrain(models.TextChoices):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Monday in local time
    MONTH = "month"


class _Bucket(models.Model):
    """A local-time bucket: its UTC bounds (a local day is 23, 24 or 25 hours) and its local labels.

    Every bucket only ever holds raw rows with sold_at/starts_at before the chain's watermark and
    ingested before its ingestion mark (see RollupWatermark); the bucket that contains the
    watermark is "open" and holds the part before it.
    """

    grain = models.CharField(max_length=5, choices=RollupGrain.choices, db_collation="C")  # see migration 0005
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    local_date = models.DateField(help_text="local date the bucket starts on")
    local_hour = models.PositiveSmallIntegerField(default=0, help_text="local hour the bucket starts at (hour grain)")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.grain} {self.local_date:%Y-%m-%d} {self.local_hour:02d}h"


class _SalesMetrics(models.Model):
    revenue = models.DecimalField(max_digits=20, decimal_places=4)
    units = models.BigIntegerField()
    transactions = models.BigIntegerField()

    class Meta:
        abstract = True


class SalesChainRollup(_Bucket, _SalesMetrics):
    """Chain totals per hour, day, week and month: daily series, totals, hour-of-day heatmaps."""

    class Meta:
        # The metrics ride along in the key's index, so reads are index-only scans. The bucket start leads
        # the key: sorting it for an index build uses abbreviated (integer) keys, where a leading grain
        # ('day' for most rows) made every comparison fall through to the next column (migration 0006).
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "grain"], name="sales_chain_rollup_bucket",
                include=["local_date", "local_hour", "revenue", "units", "transactions"],
            )
        ]


class SalesDeviceRollup(_Bucket, _SalesMetrics):
    """Per device per day, week and month; locations, regions, cities and device types join through the device."""

    device_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "grain", "device_id"], name="sales_device_rollup_bucket",
                include=["local_date", "revenue", "units", "transactions"],
            )
        ]


class SalesDeviceSeries(models.Model):
    """Each device's daily revenue of one local month in one row (analytics.rollups.device_series), derived from its
    day buckets: bit d - 1 of `days` is set when the day bucket of day d exists, and `revenue_e4` holds those days'
    revenue in 1/10,000, as big-endian 64-bit integers in day order. A 30-day range's daily series of 2,000 devices
    are 4,000 rows, not 60,000 day buckets."""

    month = models.DateField()  # the first local day of the month
    device_id = models.BigIntegerField()
    days = models.IntegerField()
    revenue_e4 = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "device_id"], name="sales_device_series_month", include=["days", "revenue_e4"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} device {self.device_id}: {bin(self.days).count('1')} days"


class SalesProductRollup(_Bucket, _SalesMetrics):
    """Per product per day, week and month; categories join through the product."""

    product_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "grain", "product_id"], name="sales_product_rollup_bucket",
                include=["local_date", "revenue", "units", "transactions"],
            )
        ]


class SalesSlotCodeRollup(_Bucket, _SalesMetrics):
    """Per slot code per day, week and month across the fleet: revenue by slot position (the same code is the same
    place in every machine) with no filter, a row a code a bucket instead of a row a planogram slot."""

    slot_code = models.CharField(max_length=20, db_collation="C")  # blank when the sale named no slot

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "grain", "slot_code"], name="sales_slot_code_rollup_bucket",
                include=["local_date", "revenue", "units", "transactions"],
            )
        ]


class SalesSlotRollup(_Bucket, _SalesMetrics):
    """Per device, slot and product per day, week and month: a device's best sellers, revenue by slot position,
    a slot's recent units, and any question mixing devices (or their places) with products (or categories)."""

    device_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    slot_code = models.CharField(max_length=20, db_collation="C")  # blank when the sale named no slot

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "grain", "device_id", "product_id", "slot_code"], name="sales_slot_rollup_bucket",
                include=["local_date", "revenue", "units", "transactions"],
            )
        ]


class BookingRollup(_Bucket):
    """Bookings by start time per resource and status per day, week and month."""

    resource_id = models.BigIntegerField()
    status = models.CharField(max_length=10)
    bookings = models.BigIntegerField()
    # Seconds, exact to the microsecond: minutes = seconds / 60 is only taken when read, so sums stay exact.
    booked_seconds = models.DecimalField(max_digits=24, decimal_places=6)
    revenue = models.DecimalField(max_digits=20, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "grain", "resource_id", "status"], name="booking_rollup_bucket",
                include=["local_date", "bookings", "booked_seconds", "revenue"],
            )
        ]


class CustomerHistoryRollup(models.Model):
    """Per customer, everything up to the end of each whole third of a local month (cumulative): the first and last
    sale, transactions and amount (analytics.rollups.customers). A history over all time reads a row per customer
    and the raw sales of ten days at most, instead of every sale the customer ever made."""

    starts_on = models.DateField(help_text="first day of the third of a month (the 1st, 11th or 21st)")
    customer_id = models.BigIntegerField()
    first_at = models.DateTimeField(help_text="the customer's first sale ever")
    last_at = models.DateTimeField(help_text="the customer's last sale before the end of the third")
    transactions = models.BigIntegerField()
    # Exact integers of 1/10,000 (money keeps 4 decimal places): summing bigints is several times cheaper than numeric.
    amount_e4 = models.BigIntegerField(help_text="Σ amount × 10,000")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_on", "customer_id"], name="customer_history_rollup_bucket",
                include=["first_at", "last_at", "transactions", "amount_e4"],
            )
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} through the third from {self.starts_on:%Y-%m-%d}"


class BasketDaySeries(models.Model):
    """Each local day's basket counts in one row (analytics.rollups.baskets), derived from its BasketDayRollup
    rows in the same statement run that writes them: their product_a, product_b and baskets as packed columns
    (big-endian 64-bit integers, in the same row order). A 30-day range's affinity reads 30 rows, not 57,000."""

    local_date = models.DateField(unique=True)
    product_a = models.BinaryField()
    product_b = models.BinaryField()
    baskets = models.BinaryField()

    def __str__(self) -> str:
        return f"{self.local_date:%Y-%m-%d}: {len(self.baskets) // 8} counts"


class BasketDayRollup(models.Model):
    """Product affinity's counts per whole local day (analytics.rollups.baskets): a basket is one customer's
    purchases on one local day, so the counts of a range are the sums of its days'. product_a = product_b = 0:
    the day's baskets; product_b = 0: the baskets with product_a; otherwise the baskets with both (a < b)."""

    local_date = models.DateField()
    product_a = models.BigIntegerField()
    product_b = models.BigIntegerField()
    baskets = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["local_date", "product_a", "product_b"], name="basket_day_rollup_bucket", include=["baskets"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.local_date:%Y-%m-%d} {self.product_a}/{self.product_b}: {self.baskets}"


class SlotStockRollup(models.Model):
    """Per planogram slot, at the rollup marks it carries (analytics.rollups.slot_stock): its last fill, the units sold
    from it since, and its units per local day of the 14 days up to the watermark's, cumulative. The inventory
    reads a row per slot and the sales the marks leave out, instead of each slot's sales of two weeks. Rows of other
    marks, and the slots of a machine whose visits or fills changed since (SlotStockDirty), are read raw."""

    slot_id = models.BigIntegerField(primary_key=True)
    filled_at = models.DateTimeField(null=True, help_text="the visit of the slot's last fill (none: never filled)")
    level_after = models.IntegerField(null=True)
    sold_since = models.BigIntegerField(help_text="units sold from the slot after the fill, before the watermark")
    first_day = models.DateField(help_text="the local day `cumulative` starts on")
    cumulative = ArrayField(models.BigIntegerField(), help_text="units sold from first_day through each day, before the watermark")
    covered_until = models.DateTimeField()
    ingested_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"slot {self.slot_id} through {self.covered_until:%Y-%m-%d %H:%M}"


class VisitRevenueRollup(models.Model):
    """Per completed service visit before the watermark: the revenue its machine took since its previous completed
    visit, over the sales ingested before the marks' I (analytics.rollups.visits). The route runs read a row per
    visit and the late sales, instead of each visit's sales; a machine marked in SlotStockDirty is read raw."""

    visit_id = models.BigIntegerField(primary_key=True)
    route_run_id = models.BigIntegerField(null=True)
    device_id = models.BigIntegerField(db_index=True)
    previous_at = models.DateTimeField(help_text="the machine's previous completed visit")
    visited_at = models.DateTimeField()
    revenue = models.DecimalField(max_digits=20, decimal_places=4)

    class Meta:
        # A range's runs read their visits' rows from the index alone.
        indexes = [
            models.Index(fields=["route_run_id"], include=["visit_id", "device_id", "previous_at", "visited_at", "revenue"],
                         name="visit_revenue_run_cover"),
        ]

    def __str__(self) -> str:
        return f"visit {self.visit_id}: {self.revenue}"


class SlotStockDirty(models.Model):
    """A machine whose service visits or slot fills changed since the slot stock rows were computed: written by
    database triggers on routes_servicevisit and routes_slotfill (migration 0013), cleared by the next rollup job."""

    device_id = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"device {self.device_id}: slot stock to recompute"


class RollupWatermark(models.Model):
    """One row per chain (id 1): how far the rollups cover the raw rows.

    Buckets hold exactly the raw rows with event time < covered_until that were ingested before
    ingested_until; the query layer adds the rest (event time >= covered_until, or ingested since)
    from raw rows, so a late row counts at once and lands in its bucket at the next hourly run.
    """

    covered_until = models.DateTimeField()
    ingested_until = models.DateTimeField()
    closed_through = models.DateField(null=True, blank=True, help_text="last local day the daily close finished")
    month_closed_through = models.DateField(null=True, blank=True, help_text="first day of the last closed month")
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rollups through {self.covered_until:%Y-%m-%d %H:%M}"


class RollupRun(models.Model):
    """A log of rollup jobs: what ran, for which range, how long, and whether it finished."""

    kind = models.CharField(max_length=20)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=100, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class DataChange(models.Model):
    """One row per statement that wrote a domain table (fleet, bookings, routes): written by a statement
    trigger (analytics.query.changes), never by code. Its count and newest id are the chain's data signature,
    which keys the cache of whole report answers; the hourly rollup job compacts it to one row past 1,000."""

    txid = models.BigIntegerField(null=True, help_text="the writing transaction's id (none: a compaction)")
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"change {self.pk} at {self.at:%Y-%m-%d %H:%M:%S}"
