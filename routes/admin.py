"""The chain admin for service routes: drivers, routes and their stops, runs, visits and slot fills."""

from __future__ import annotations

from django.contrib import admin

from routes.models import Driver, Route, RouteRun, RouteStop, ServiceVisit, SlotFill


@admin.register(Driver)
class DriverAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


class RouteStopInline(admin.TabularInline):
    model = RouteStop
    extra = 0
    fields = ["position", "device"]
    autocomplete_fields = ["device"]
    ordering = ["position"]


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "driver"]
    list_filter = ["driver"]
    search_fields = ["code", "name", "driver__name"]
    list_select_related = ["driver"]
    autocomplete_fields = ["driver"]
    inlines = [RouteStopInline]


class ServiceVisitInline(admin.TabularInline):
    model = ServiceVisit
    extra = 0
    fields = ["device", "visited_at", "completed", "cash_collected", "notes"]
    autocomplete_fields = ["device"]
    show_change_link = True
    ordering = ["visited_at"]


@admin.register(RouteRun)
class RouteRunAdmin(admin.ModelAdmin):
    list_display = ["route", "scheduled_for", "driver", "stops_planned", "started_at", "finished_at"]
    list_filter = ["route", "driver"]
    search_fields = ["route__code", "route__name", "driver__name"]
    list_select_related = ["route", "driver"]
    autocomplete_fields = ["route", "driver"]
    date_hierarchy = "scheduled_for"
    inlines = [ServiceVisitInline]


class SlotFillInline(admin.TabularInline):
    model = SlotFill
    extra = 0
    fields = ["slot", "units_added", "level_after"]
    autocomplete_fields = ["slot"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("slot__device", "slot__product")


@admin.register(ServiceVisit)
class ServiceVisitAdmin(admin.ModelAdmin):
    list_display = ["device", "visited_at", "route_run", "completed", "cash_collected"]
    list_filter = ["completed", "route_run__route"]
    search_fields = ["device__asset", "route_run__route__code", "notes"]
    list_select_related = ["device", "route_run__route"]
    autocomplete_fields = ["device", "route_run"]
    date_hierarchy = "visited_at"
    inlines = [SlotFillInline]
