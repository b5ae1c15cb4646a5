"""Service routes: drivers, routes with their stops, route runs, service visits and slot fills."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from fleet.models import Device, PlanogramSlot, money_field


class Driver(models.Model):
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Route(models.Model):
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    driver = models.ForeignKey(Driver, on_delete=models.SET_NULL, null=True, blank=True, related_name="routes")
    devices = models.ManyToManyField(Device, through="RouteStop", related_name="routes")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RouteStop(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="route_stops")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["route", "position"]
        constraints = [
            models.UniqueConstraint(fields=["route", "device"], name="route_stop_device_once"),
            models.UniqueConstraint(fields=["route", "position"], name="route_stop_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.route.code}#{self.position} {self.device}"


class RouteRun(models.Model):
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="runs")
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, null=True, blank=True, related_name="runs")
    scheduled_for = models.DateField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stops_planned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-scheduled_for"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(started_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="route_run_finishes_after_start",
            ),
            models.UniqueConstraint(fields=["route", "scheduled_for"], name="route_run_once_a_day"),
        ]
        indexes = [models.Index(fields=["scheduled_for"])]

    def __str__(self) -> str:
        return f"{self.route.code} {self.scheduled_for}"


class ServiceVisit(models.Model):
    # Indexed by visit_run_cover (Meta.indexes), which also holds what a run's totals read.
    route_run = models.ForeignKey(
        RouteRun, on_delete=models.CASCADE, null=True, blank=True, related_name="visits", db_index=False
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="service_visits")
    visited_at = models.DateTimeField()
    completed = models.BooleanField(default=True)
    cash_collected = money_field(default=0)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-visited_at"]
        constraints = [
            models.CheckConstraint(condition=Q(cash_collected__gte=0), name="visit_cash_not_negative"),
        ]
        # With the id: a machine's visits newest first in (visited_at, id) order straight from the index (its last
        # fill of a slot, its previous visit) without sorting every visit it ever had.
        indexes = [
            models.Index(fields=["device", "visited_at", "id"], name="visit_device_time_id"),
            # A range's runs: their visits' machine, time, completion and cash from the index alone.
            models.Index(fields=["route_run"], include=["id", "device", "visited_at", "completed", "cash_collected"],
                         name="visit_run_cover"),
        ]

    def __str__(self) -> str:
        return f"{self.device} {self.visited_at:%Y-%m-%d %H:%M}"


class SlotFill(models.Model):
    """How a visit left one slot: the starting point of the stock estimate."""

    visit = models.ForeignKey(ServiceVisit, on_delete=models.CASCADE, related_name="fills")
    slot = models.ForeignKey(PlanogramSlot, on_delete=models.CASCADE, related_name="fills")
    units_added = models.PositiveIntegerField(default=0)
    level_after = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "slot"], name="fill_slot_once_per_visit")]

    def __str__(self) -> str:
        return f"{self.slot} → {self.level_after}"

    def clean(self) -> None:
        # The stock estimate finds a slot's last fill among its own machine's visits (analytics.query.stock_and_visits).
        if self.visit_id and self.slot_id and self.visit.device_id != self.slot.device_id:
            raise ValidationError({"slot": "A visit fills the slots of the machine it visited."})

