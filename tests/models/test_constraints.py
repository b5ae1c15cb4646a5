"""Every database constraint rejects the bad row it is there for (the database guards, not only forms)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from bookings.models import Booking, FunnelEvent, NpsResponse, OpeningHours, Resource
from fleet.models import Category, Customer, Device, DeviceType, Location, PlanogramSlot, Product, Sale
from routes.models import Driver, Route, RouteRun, RouteStop, ServiceVisit, SlotFill
from tests.conftest import ChainFixture

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def base(in_chain_a: ChainFixture) -> dict[str, Any]:
    location = Location.objects.create(code="L1", name="Central", latitude=Decimal("59.3"), longitude=Decimal("18.0"))
    device_type = DeviceType.objects.create(name="Snack")
    device = Device.objects.create(asset="A1", serial="S1", location=location, device_type=device_type)
    category = Category.objects.create(name="Drinks")
    product = Product.objects.create(sku="P1", name="Cola", category=category, price=Decimal("2.50"))
    slot = PlanogramSlot.objects.create(device=device, slot_code="10", product=product, capacity=8, par_level=6)
    resource = Resource.objects.create(code="R1", name="Court 1", location=location, resource_type="court")
    booking = Booking.objects.create(
        external_id="B1", resource=resource, starts_at=NOW, ends_at=NOW + timedelta(hours=1), status="paid"
    )
    driver = Driver.objects.create(code="D1", name="Dana")
    route = Route.objects.create(code="RT1", name="North", driver=driver)
    run = RouteRun.objects.create(route=route, driver=driver, scheduled_for=date(2026, 3, 1))
    visit = ServiceVisit.objects.create(route_run=run, device=device, visited_at=NOW)
    sale = Sale.objects.create(
        external_id="T1", sold_at=NOW, device=device, product=product, quantity=1, amount=Decimal("2.50"), source="import"
    )
    return locals()


def _rejected(create: Callable[[], object]) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def _sale(b: dict[str, Any], **overrides: Any) -> Callable[[], object]:
    values = {
        "external_id": "T2", "sold_at": NOW, "device": b["device"], "product": b["product"],
        "quantity": 1, "amount": Decimal("1.00"), "source": "import",
    }
    values.update(overrides)
    return lambda: Sale.objects.create(**values)


def test_sale_constraints(base: dict[str, Any]) -> None:
    assert _rejected(_sale(base, external_id="T1")), "external transaction id is unique"
    assert _rejected(_sale(base, quantity=0)), "quantity ≥ 1"
    assert _rejected(_sale(base, amount=Decimal("-0.01"))), "no negative money"
    assert _rejected(_sale(base, transactions=0)), "transactions ≥ 1"
    assert not _rejected(_sale(base, amount=Decimal("0"))), "a free vend is allowed"


def test_catalog_uniques(base: dict[str, Any]) -> None:
    location = base["location"]
    assert _rejected(lambda: Location.objects.create(code="L1", name="dup"))
    assert _rejected(lambda: Device.objects.create(asset="A1", location=location))
    assert _rejected(lambda: Device.objects.create(asset="A2", serial="S1", location=location))
    assert not _rejected(lambda: Device.objects.create(asset="A3", serial=None, location=location))
    assert not _rejected(lambda: Device.objects.create(asset="A4", serial=None, location=location)), "many devices without serial"
    assert _rejected(lambda: Product.objects.create(sku="P1", name="dup", price=1))
    assert _rejected(lambda: Category.objects.create(name="Drinks"))
    assert _rejected(lambda: DeviceType.objects.create(name="Snack"))
    assert _rejected(lambda: Customer.objects.bulk_create([Customer(external_ref="C"), Customer(external_ref="C")]))


def test_money_and_ranges(base: dict[str, Any]) -> None:
    location = base["location"]
    assert _rejected(lambda: Product.objects.create(sku="P2", name="x", price=Decimal("-1")))
    assert _rejected(lambda: Product.objects.create(sku="P3", name="x", price=1, cost=Decimal("-0.5")))
    assert _rejected(lambda: Location.objects.create(code="L2", name="x", latitude=Decimal("91")))
    assert _rejected(lambda: Location.objects.create(code="L3", name="x", longitude=Decimal("-181")))
    assert _rejected(
        lambda: Device.objects.create(asset="A9", location=location, installed_at=date(2026, 2, 1), retired_at=date(2026, 1, 1))
    )


def test_planogram_constraints(base: dict[str, Any]) -> None:
    device, product = base["device"], base["product"]
    assert _rejected(lambda: PlanogramSlot.objects.create(device=device, slot_code="10", product=product)), "one current slot"
    assert _rejected(
        lambda: PlanogramSlot.objects.create(device=device, slot_code="11", product=product, capacity=5, par_level=6)
    )
    assert _rejected(
        lambda: PlanogramSlot.objects.create(device=device, slot_code="12", product=product, price=Decimal("-1"))
    )
    assert _rejected(
        lambda: PlanogramSlot.objects.create(
            device=device, slot_code="13", product=product, valid_from=NOW, valid_to=NOW - timedelta(days=1)
        )
    )


def test_booking_constraints(base: dict[str, Any]) -> None:
    resource = base["resource"]
    assert _rejected(
        lambda: Booking.objects.create(external_id="B2", resource=resource, starts_at=NOW, ends_at=NOW, status="paid")
    ), "ends after starts"
    assert _rejected(
        lambda: Booking.objects.create(
            external_id="B1", resource=resource, starts_at=NOW, ends_at=NOW + timedelta(hours=1), status="paid"
        )
    ), "external booking id is unique"
    assert _rejected(
        lambda: Booking.objects.create(
            external_id="B3", resource=resource, starts_at=NOW, ends_at=NOW + timedelta(hours=1), status="paid",
            amount=Decimal("-5"),
        )
    )
    assert _rejected(lambda: Resource.objects.create(code="R2", name="x", location=base["location"], capacity=0))
    assert _rejected(lambda: OpeningHours.objects.create(resource=resource, weekday=8, opens=time(9), closes=time(17)))
    assert _rejected(lambda: OpeningHours.objects.create(resource=resource, weekday=1, opens=time(17), closes=time(9)))
    OpeningHours.objects.create(resource=resource, weekday=1, opens=time(9), closes=time(17))
    assert _rejected(lambda: OpeningHours.objects.create(resource=resource, weekday=1, opens=time(10), closes=time(18)))
    FunnelEvent.objects.create(external_id="E1", session_id="s", step="visit", occurred_at=NOW)
    assert _rejected(lambda: FunnelEvent.objects.create(external_id="E1", session_id="s", step="paid", occurred_at=NOW))
    assert _rejected(lambda: NpsResponse.objects.create(score=11, responded_at=NOW))


def test_route_constraints(base: dict[str, Any]) -> None:
    route, device, run, visit, slot = base["route"], base["device"], base["run"], base["visit"], base["slot"]
    RouteStop.objects.create(route=route, device=device, position=1)
    assert _rejected(lambda: RouteStop.objects.create(route=route, device=device, position=2)), "a device once per route"
    assert _rejected(lambda: RouteRun.objects.create(route=route, scheduled_for=date(2026, 3, 1))), "one run a day"
    assert _rejected(
        lambda: RouteRun.objects.create(
            route=route, scheduled_for=date(2026, 3, 2), started_at=NOW, finished_at=NOW - timedelta(minutes=1)
        )
    )
    assert _rejected(lambda: ServiceVisit.objects.create(device=device, visited_at=NOW, cash_collected=Decimal("-1")))
    SlotFill.objects.create(visit=visit, slot=slot, units_added=3, level_after=8)
    assert _rejected(lambda: SlotFill.objects.create(visit=visit, slot=slot, units_added=1, level_after=8))
    assert run.pk


def test_deleting_history_is_protected(base: dict[str, Any]) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        base["device"].delete()
    with pytest.raises(ProtectedError):
        base["product"].delete()
    with pytest.raises(ProtectedError):
        base["location"].delete()


def test_sale_references_are_guarded_by_the_database(base: dict[str, Any]) -> None:
    from django.db import connection

    def raw(sql: str, params: list[Any]) -> Callable[[], object]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

        return run

    insert = (
        "INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,"
        " transactions, payment_method, source, ingested_at, customer_id) VALUES (%s, now(), %s, %s, '', 1, 1, 1, '', 'import', now(), %s)"
    )
    device, product = base["device"].pk, base["product"].pk
    assert _rejected(raw(insert, ["X1", 999_999, product, None])), "unknown device"
    assert _rejected(raw(insert, ["X2", device, 999_999, None])), "unknown product"
    assert _rejected(raw(insert, ["X3", device, product, 999_999])), "unknown customer"
    assert not _rejected(raw(insert, ["X4", device, product, None]))
    assert _rejected(raw("UPDATE fleet_sale SET device_id = %s WHERE external_id = 'X4'", [999_999]))
    assert _rejected(raw("DELETE FROM fleet_device WHERE id = %s", [device])), "a device with sales is protected"
    assert _rejected(raw("DELETE FROM fleet_product WHERE id = %s", [product])), "a product with sales is protected"

    customer = Customer.objects.create(external_ref="C9")
    Sale.objects.filter(external_id="X4").update(customer=customer)
    raw("DELETE FROM fleet_customer WHERE id = %s", [customer.pk])()
    assert Sale.objects.get(external_id="X4").customer_id is None, "deleting a customer detaches its sales"
