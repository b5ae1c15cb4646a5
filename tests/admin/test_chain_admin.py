"""The chain admin: every registered model's pages load for an Admin, no one else gets in, chains stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse
from django_tenants.utils import schema_context

from analytics.models import DirtyRange
from bookings.models import Booking, FunnelEvent, NpsResponse, OpeningHours, Resource
from fleet.models import Category, Customer, Device, DeviceType, Location, PlanogramSlot, Product
from routes.models import Driver, Route, RouteRun, RouteStop, ServiceVisit, SlotFill
from tests.conftest import ChainFixture

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
IMPORT_EXPORT_MODELS = (Location, DeviceType, Device, Category, Product, PlanogramSlot, Resource)


def admin_client(chain: ChainFixture, role: str = "admin") -> Client:
    client = chain.client()
    response = client.post("/admin/login/", {"username": f"{chain.schema}-{role}", "password": "pw", "next": "/admin/"})
    assert response.status_code == 302, response.content[:500]
    return client


def make_one_of_everything() -> dict[type[models.Model], models.Model]:
    location = Location.objects.create(code="STO-1", name="Stockholm Central", city="Stockholm", country="SE")
    device_type = DeviceType.objects.create(name="Snack Tower")
    device = Device.objects.create(asset="A-1", serial="S-1", device_type=device_type, location=location)
    category = Category.objects.create(name="Chocolate")
    product = Product.objects.create(sku="SKU-1", name="Kexchoklad", category=category, price=Decimal("15.00"))
    slot = PlanogramSlot.objects.create(device=device, slot_code="A1", product=product, capacity=10, par_level=6)
    customer = Customer.objects.create(external_ref="C-1", first_seen=WHEN)
    driver = Driver.objects.create(code="D-1", name="Johan")
    route = Route.objects.create(code="R-1", name="City", driver=driver)
    RouteStop.objects.create(route=route, device=device, position=1)
    run = RouteRun.objects.create(route=route, driver=driver, scheduled_for=WHEN.date(), started_at=WHEN, stops_planned=1)
    visit = ServiceVisit.objects.create(route_run=run, device=device, visited_at=WHEN, cash_collected=Decimal("120.00"))
    SlotFill.objects.create(visit=visit, slot=slot, units_added=4, level_after=10)
    resource = Resource.objects.create(code="PAD1", name="Padel 1", location=location, resource_type="padel_court")
    OpeningHours.objects.create(resource=resource, weekday=1, opens=time(7), closes=time(23))
    booking = Booking.objects.create(
        external_id="B-1", resource=resource, customer=customer, starts_at=WHEN, ends_at=WHEN + timedelta(hours=1), status="paid"
    )
    event = FunnelEvent.objects.create(external_id="E-1", session_id="s1", step="paid", occurred_at=WHEN, booking=booking)
    nps = NpsResponse.objects.create(customer=customer, location=location, score=9, responded_at=WHEN)
    dirty = DirtyRange.objects.create(kind="sales", starts_at=WHEN, ends_at=WHEN + timedelta(hours=1))
    return {
        Location: location, DeviceType: device_type, Device: device, Category: category, Product: product,
        PlanogramSlot: slot, Customer: customer, Driver: driver, Route: route, RouteRun: run, ServiceVisit: visit,
        Resource: resource, Booking: booking, FunnelEvent: event, NpsResponse: nps, DirtyRange: dirty,
    }


def test_every_catalog_and_operations_model_is_registered() -> None:
    registered = {model.__name__ for model in admin.site._registry}
    expected = {
        "Location", "DeviceType", "Device", "Category", "Product", "PlanogramSlot", "Customer",
        "Driver", "Route", "RouteRun", "ServiceVisit", "Resource", "Booking", "FunnelEvent", "NpsResponse", "DirtyRange",
        "User", "Group",
    }
    assert expected <= registered


def test_every_registered_model_has_working_admin_pages(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        objects = make_one_of_everything()
        client = admin_client(chain_a)
        request = RequestFactory().get("/admin/")
        request.user = _user(chain_a, "admin")
        failures = []
        for model in admin.site._registry:
            opts = model._meta
            changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
            if changelist.status_code != 200:
                failures.append((opts.label, "changelist", changelist.status_code))
            obj = objects.get(model) or model._default_manager.first()
            if obj is not None:
                change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
                if change.status_code != 200:
                    failures.append((opts.label, "change", change.status_code))
            add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
            # Read-only admins (dirty ranges, DEX reads, import jobs) refuse the add page by design.
            expected_add = 200 if admin.site._registry[model].has_add_permission(request) else 403
            if add.status_code != expected_add:
                failures.append((opts.label, "add", add.status_code))
        for model in IMPORT_EXPORT_MODELS:
            opts = model._meta
            for page in ("import", "export"):
                response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}"))
                if response.status_code != 200:
                    failures.append((opts.label, page, response.status_code))
    assert failures == []


def test_changelists_show_the_rows_with_their_columns(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        make_one_of_everything()
        client = admin_client(chain_a)
        devices = client.get("/admin/fleet/device/").content.decode()
        bookings = client.get("/admin/bookings/booking/").content.decode()
        search = client.get("/admin/fleet/product/", {"q": "kexcho"}).content.decode()
    assert "A-1" in devices and "Snack Tower" in devices and "STO-1 Stockholm Central" in devices
    assert "B-1" in bookings and "PAD1 Padel 1" in bookings
    assert "SKU-1" in search


def test_dirty_ranges_are_read_only(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        dirty = make_one_of_everything()[DirtyRange]
        client = admin_client(chain_a)
        response = client.post(
            f"/admin/analytics/dirtyrange/{dirty.pk}/change/",
            {"kind": "funnel", "starts_at_0": "2020-01-01", "starts_at_1": "00:00", "ends_at_0": "2020-01-02", "ends_at_1": "00:00"},
        )
        dirty.refresh_from_db()
    assert response.status_code == 403
    assert dirty.kind == "sales"


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_viewer_and_manager_cannot_enter_the_admin(chain_a: ChainFixture, role: str) -> None:
    client = chain_a.client()
    login = client.post("/admin/login/", {"username": f"test_a-{role}", "password": "pw", "next": "/admin/"})
    # Signed in through the API's session login instead, they are still not staff.
    client.force_login(_user(chain_a, role))
    page = client.get("/admin/fleet/location/")

    assert login.status_code == 200  # the login form again
    assert page.status_code == 302 and "/admin/login/" in page["Location"]


def _user(chain: ChainFixture, role: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    with schema_context(chain.schema):
        return get_user_model().objects.get(username=f"{chain.schema}-{role}")


def test_a_chain_admin_sees_none_of_another_chains_rows(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    with schema_context(chain_b.schema):
        other = Location.objects.create(code="NYC-ONLY", name="Brooklyn Warehouse B", city="New York")
    with schema_context(chain_a.schema):
        same_pk_here = Location.objects.filter(pk=other.pk).exists()
        client = admin_client(chain_a)
        changelist = client.get("/admin/fleet/location/").content.decode()
        change = client.get(f"/admin/fleet/location/{other.pk}/change/")
        search = client.get("/admin/fleet/location/", {"q": "NYC-ONLY"}).content.decode()

    assert "NYC-ONLY" not in changelist and "Brooklyn" not in changelist
    assert "Brooklyn" not in change.content.decode()
    if not same_pk_here:
        assert change.status_code == 302 and change["Location"] == "/admin/"
    assert "0 locations" in search or "0 results" in search
