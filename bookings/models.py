"""Venue chains: bookable resources and their opening hours, bookings, funnel events and NPS."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from fleet.models import Customer, Location, money_field


class Resource(models.Model):
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="resources")
    resource_type = models.CharField(max_length=50, blank=True, help_text="court, room, table, lane …")
    capacity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_positive")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OpeningHours(models.Model):
    """Local opening time per ISO weekday (1 = Monday); a weekday without a row is closed."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(7)])
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["resource", "weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(fields=["resource", "weekday"], name="opening_hours_once_a_weekday"),
            models.CheckConstraint(condition=Q(weekday__gte=1, weekday__lte=7), name="opening_hours_iso_weekday"),
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="opening_hours_close_after_open"),
        ]

    def __str__(self) -> str:
        return f"{self.resource.code} {self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed"
        PAID = "paid"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        NO_SHOW = "no_show"

    external_id = models.CharField(max_length=100, unique=True)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    amount = money_field(default=0)
    booked_at = models.DateTimeField(null=True, blank=True, help_text="when the customer made the booking")
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_start"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="booking_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["starts_at"]),
            models.Index(fields=["resource", "starts_at"]),
            models.Index(fields=["customer", "starts_at"]),
            models.Index(fields=["ingested_at"]),
        ]

    def __str__(self) -> str:
        return self.external_id


class FunnelEvent(models.Model):
    class Step(models.TextChoices):
        VISIT = "visit"
        WIZARD_START = "wizard_start"
        SUBMIT = "submit"
        PAID = "paid"

    external_id = models.CharField(max_length=100, unique=True)
    session_id = models.CharField(max_length=100)
    step = models.CharField(max_length=15, choices=Step.choices)
    occurred_at = models.DateTimeField()
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="funnel_events")
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="funnel_events")
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["session_id", "occurred_at"]),
            models.Index(fields=["ingested_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.step}"


class NpsResponse(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="nps_responses")
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="nps_responses")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["-responded_at"]
        verbose_name = "NPS response"
        constraints = [models.CheckConstraint(condition=Q(score__lte=10), name="nps_score_0_to_10")]
        indexes = [models.Index(fields=["responded_at"])]

    def __str__(self) -> str:
        return f"{self.score} {self.responded_at:%Y-%m-%d}"
