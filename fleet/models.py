"""Vending fleet: locations, devices, products, planograms, customers, sales and DEX reads (import jobs: ingest.models)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 4}


def money_field(**options: Any) -> models.DecimalField:  # type: ignore[type-arg]
    """Exact money: 4 decimal places kept, rounded half-up to 2 only when presented."""
    return models.DecimalField(**MONEY, **options)


UNASSIGNED_SKU = "UNASSIGNED"


class Location(models.Model):
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    venue_type = models.CharField(max_length=50, blank=True, help_text="office, school, gym, venue …")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="location_latitude_range"),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="location_longitude_range"
            ),
        ]
        indexes = [models.Index(fields=["region", "city"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DeviceType(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    asset = models.CharField(max_length=50, unique=True, help_text="asset number")
    serial = models.CharField(max_length=50, unique=True, null=True, blank=True, help_text="DEX ID1 serial")
    device_type = models.ForeignKey(DeviceType, on_delete=models.PROTECT, null=True, blank=True, related_name="devices")
    # A device's sales history stays tied to where it stood; moving it is an edit, deleting a location is not.
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="devices")
    cooler = models.BooleanField(default=False)
    installed_at = models.DateField(null=True, blank=True)
    retired_at = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["asset"]
        constraints = [
            models.CheckConstraint(
                condition=Q(retired_at__isnull=True) | Q(installed_at__isnull=True) | Q(retired_at__gte=F("installed_at")),
                name="device_retired_after_installed",
            ),
        ]

    def __str__(self) -> str:
        return self.asset


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(cost__isnull=True) | Q(cost__gte=0), name="product_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class PlanogramSlot(models.Model):
    """A product in a device's slot for a period; the slot in force at a time maps DEX slots to products."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="slots")
    slot_code = models.CharField(max_length=20)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="slots")
    capacity = models.PositiveIntegerField(default=10)
    par_level = models.PositiveIntegerField(default=0)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True, help_text="empty while in force")

    class Meta:
        ordering = ["device", "slot_code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["device", "slot_code", "valid_from"], name="slot_unique_start"),
            models.UniqueConstraint(
                fields=["device", "slot_code"], condition=Q(valid_to__isnull=True), name="slot_one_current"
            ),
            models.CheckConstraint(condition=Q(par_level__lte=F("capacity")), name="slot_par_within_capacity"),
            models.CheckConstraint(condition=Q(price__isnull=True) | Q(price__gte=0), name="slot_price_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="slot_valid_to_after_from"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device} #{self.slot_code}"


class Customer(models.Model):
    external_ref = models.CharField(max_length=100, unique=True)
    first_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["external_ref"]

    def __str__(self) -> str:
        return self.external_ref


class DexRead(models.Model):
    """One uploaded DEX/UCS file, kept verbatim once: a repeat points at the read it repeats (duplicate_of).

    Rejected reads are deleted CVD_DEX_REJECTED_RETENTION_DAYS after their upload (a daily task).
    """

    class Status(models.TextChoices):
        BASELINE = "baseline"
        INGESTED = "ingested"
        DUPLICATE = "duplicate"
        REJECTED = "rejected"

    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="dex_reads")
    serial = models.CharField(max_length=50, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    raw_text = models.TextField(blank=True, help_text="empty when the read repeats another (duplicate_of) or was too large")
    content_hash = models.CharField(max_length=64)
    # A repeat of an accepted read keeps no second copy of the text: it points at the read it repeats.
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats",
        help_text="the accepted read with the same content, whose raw text this upload repeats",
    )
    read_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices)
    warnings = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    parsed = models.JSONField(default=dict, blank=True, help_text="per-slot lifetime counters of this read")

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["device", "read_at"]), models.Index(fields=["content_hash"])]

    def __str__(self) -> str:
        return f"DEX {self.serial or '?'} {self.read_at or self.uploaded_at:%Y-%m-%d %H:%M}"


class Sale(models.Model):
    class Source(models.TextChoices):
        DEX = "dex"
        TELEMETRY = "telemetry"
        IMPORT = "import"

    class PaymentMethod(models.TextChoices):
        CASH = "cash"
        CARD = "card"
        MOBILE = "mobile"
        OTHER = "other"

    # Unique through Meta.constraints, not unique=True: that would add a second (LIKE) index to maintain.
    external_id = models.CharField(max_length=100, help_text="transaction id, unique per chain")
    sold_at = models.DateTimeField()
    # Sales are history: a device or product that has sales is retired, never deleted (PROTECT, in the ORM).
    # No per-row FOREIGN KEY constraints on this table: their trigger checks cost more than the rest of a bulk
    # insert. The database still guards the references with statement-level triggers (one anti-join per
    # statement; migration 0005), and every writer also validates existence itself to report the bad row.
    # No single-column indexes either: the (device|product|customer, sold_at) indexes serve those lookups.
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="sales", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="sales", db_constraint=False, db_index=False
    )
    slot_code = models.CharField(max_length=20, blank=True)
    quantity = models.PositiveIntegerField()
    amount = money_field()
    transactions = models.PositiveIntegerField(default=1, help_text="1, or the vend count of a DEX-derived row")
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices, blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales", db_constraint=False, db_index=False
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    dex_read = models.ForeignKey(
        DexRead, on_delete=models.PROTECT, null=True, blank=True, related_name="sales", db_constraint=False, db_index=False
    )
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sold_at"]
        permissions = [("ingest", "Can push sales, upload DEX files and import data")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="sale_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sale_amount_not_negative"),
            models.CheckConstraint(condition=Q(transactions__gte=1), name="sale_transactions_positive"),
            models.UniqueConstraint(fields=["external_id"], name="sale_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["sold_at"]),
            # Covering: a machine's revenue between two service visits is an index-only range scan.
            models.Index(fields=["device", "sold_at"], include=["amount"], name="sale_device_sold_at_cover"),
            # A slot's units since its last fill and over the velocity window (inventory), index-only too.
            models.Index(fields=["device", "slot_code", "sold_at"], include=["quantity"], name="sale_device_slot_sold_at"),
            models.Index(fields=["product", "sold_at"]),
            # Most vending sales are anonymous: only sales with a customer are worth indexing by customer; the
            # customer histories (RFM) read first/last time, transactions and amount from the index alone.
            models.Index(fields=["customer", "sold_at"], include=["transactions", "amount"], condition=Q(customer__isnull=False),
                         name="sale_customer_sold_at_cover"),
            # The customer sales of a range by time: active months (cohorts), baskets (affinity) and the part of a
            # history after its last whole month read customer, product, device, transactions and amount from the
            # index alone, without visiting the anonymous sales of the range.
            models.Index(fields=["sold_at"], include=["customer", "product", "device", "transactions", "amount"],
                         condition=Q(customer__isnull=False), name="sale_sold_at_customer_cover"),
            models.Index(fields=["ingested_at"]),
            models.Index(fields=["dex_read"], condition=Q(dex_read__isnull=False), name="sale_dex_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.amount}"
