"""The chain admin for venues: resources with opening hours (import/export), bookings, funnel events, NPS."""

from __future__ import annotations

from django.contrib import admin

from bookings.models import Booking, FunnelEvent, NpsResponse, OpeningHours, Resource
from bookings.resources import ResourceResource
from fleet.admin import CatalogAdmin


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    fields = ["weekday", "opens", "closes"]


@admin.register(Resource)
class ResourceAdmin(CatalogAdmin):
    resource_classes = [ResourceResource]
    list_display = ["code", "name", "location", "resource_type", "capacity"]
    list_filter = ["resource_type", "location"]
    search_fields = ["code", "name", "location__code", "location__name"]
    list_select_related = ["location"]
    autocomplete_fields = ["location"]
    inlines = [OpeningHoursInline]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["external_id", "resource", "starts_at", "ends_at", "status", "amount", "customer", "booked_at"]
    list_filter = ["status", "resource__resource_type", "resource__location"]
    search_fields = ["external_id", "resource__code", "customer__external_ref"]
    list_select_related = ["resource", "customer"]
    autocomplete_fields = ["resource", "customer"]
    date_hierarchy = "starts_at"
    readonly_fields = ["ingested_at"]
    # Venue chains collect bookings by the hundred thousand: skip the second COUNT(*) per page.
    show_full_result_count = False


@admin.register(FunnelEvent)
class FunnelEventAdmin(admin.ModelAdmin):
    list_display = ["external_id", "session_id", "step", "occurred_at", "customer", "booking"]
    list_filter = ["step"]
    search_fields = ["external_id", "session_id", "customer__external_ref", "booking__external_id"]
    list_select_related = ["customer", "booking"]
    autocomplete_fields = ["customer", "booking"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["ingested_at"]
    show_full_result_count = False


@admin.register(NpsResponse)
class NpsResponseAdmin(admin.ModelAdmin):
    list_display = ["responded_at", "score", "location", "customer"]
    list_filter = ["score", "location"]
    search_fields = ["customer__external_ref", "location__code", "location__name"]
    list_select_related = ["location", "customer"]
    autocomplete_fields = ["location", "customer"]
    date_hierarchy = "responded_at"
