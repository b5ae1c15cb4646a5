"""The chain admin for the vending catalog: locations, device types, devices, products, planograms, customers."""

from __future__ import annotations

import importlib.util
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin

from chains.admin_site import chain_sections
from fleet.models import Category, Customer, Device, DeviceType, Location, PlanogramSlot, Product
from fleet.resources import (
    CATALOG_FORMATS,
    CategoryResource,
    DeviceResource,
    DeviceTypeResource,
    LocationResource,
    PlanogramSlotResource,
    ProductResource,
)


class CatalogAdmin(ImportExportModelAdmin):
    """Import with a dry-run preview (the confirm step), every bad row listed, and all-or-nothing writes."""

    formats = CATALOG_FORMATS
    import_error_display = ("message", "row")

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = super().get_import_data_kwargs(**kwargs)
        # The confirmed import runs the file again; a row that went bad in between rolls everything back.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ["asset", "serial", "device_type", "cooler", "installed_at", "retired_at"]
    show_change_link = True
    autocomplete_fields = ["device_type"]


@admin.register(Location)
class LocationAdmin(CatalogAdmin):
    resource_classes = [LocationResource]
    list_display = ["code", "name", "city", "region", "country", "venue_type", "device_count"]
    list_filter = ["region", "country", "venue_type"]
    search_fields = ["code", "name", "city", "region", "address"]
    inlines = [DeviceInline]

    def get_inlines(self, request: HttpRequest, obj: Location | None) -> list[type[admin.options.InlineModelAdmin]]:
        # A venue chain's locations hold resources, not machines.
        return list(self.inlines) if chain_sections(request).vending else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[Location]:
        return super().get_queryset(request).annotate(_device_count=Count("devices"))

    @admin.display(description="devices", ordering="_device_count")
    def device_count(self, obj: Location) -> int:
        return obj._device_count  # type: ignore[attr-defined]


@admin.register(DeviceType)
class DeviceTypeAdmin(CatalogAdmin):
    resource_classes = [DeviceTypeResource]
    list_display = ["name"]
    search_fields = ["name"]


class PlanogramSlotInline(admin.TabularInline):
    model = PlanogramSlot
    extra = 0
    fields = ["slot_code", "product", "capacity", "par_level", "price", "valid_from", "valid_to"]
    autocomplete_fields = ["product"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanogramSlot]:
        # Only the slots in force: the history can be long and is browsable on the planogram page.
        return super().get_queryset(request).filter(valid_to__isnull=True).select_related("product")


@admin.register(Device)
class DeviceAdmin(CatalogAdmin):
    resource_classes = [DeviceResource]
    list_display = ["asset", "serial", "location", "device_type", "cooler", "installed_at", "retired_at"]
    list_filter = ["device_type", "cooler", "location__region", "location__city", ("retired_at", admin.EmptyFieldListFilter)]
    search_fields = ["asset", "serial", "location__code", "location__name"]
    list_select_related = ["location", "device_type"]
    autocomplete_fields = ["location", "device_type"]
    date_hierarchy = "installed_at"
    inlines = [PlanogramSlotInline]


@admin.register(Category)
class CategoryAdmin(CatalogAdmin):
    resource_classes = [CategoryResource]
    list_display = ["name", "product_count"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description="products", ordering="_product_count")
    def product_count(self, obj: Category) -> int:
        return obj._product_count  # type: ignore[attr-defined]


@admin.register(Product)
class ProductAdmin(CatalogAdmin):
    resource_classes = [ProductResource]
    list_display = ["sku", "name", "category", "price", "cost"]
    list_filter = ["category"]
    search_fields = ["sku", "name", "category__name"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]


class CurrentSlotFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "in force"), ("no", "ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PlanogramSlot]) -> QuerySet[PlanogramSlot]:
        if self.value() == "yes":
            return queryset.filter(valid_to__isnull=True)
        if self.value() == "no":
            return queryset.filter(valid_to__isnull=False)
        return queryset


@admin.register(PlanogramSlot)
class PlanogramSlotAdmin(CatalogAdmin):
    resource_classes = [PlanogramSlotResource]
    list_display = ["device", "slot_code", "product", "capacity", "par_level", "price", "valid_from", "valid_to"]
    list_filter = [CurrentSlotFilter, "device__device_type", "product__category"]
    search_fields = ["device__asset", "slot_code", "product__sku", "product__name"]
    list_select_related = ["device", "product"]
    autocomplete_fields = ["device", "product"]
    date_hierarchy = "valid_from"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_ref", "first_seen"]
    search_fields = ["external_ref"]
    date_hierarchy = "first_seen"
    # Large chains have hundreds of thousands of customers: skip the second COUNT(*) on filtered pages.
    show_full_result_count = False


# DEX reads and sales have their own admin module, owned together with ingestion (import jobs: ingest/admin.py).
if importlib.util.find_spec("fleet.admin_ingest") is not None:
    importlib.import_module("fleet.admin_ingest")
