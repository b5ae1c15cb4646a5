"""Tiny factories for the analytics API tests: rows made with the ORM inside a chain's schema, times in local time."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bookings.models import Booking, FunnelEvent, OpeningHours, Resource
from fleet.models import Category, Customer, Device, DeviceType, Location, PlanogramSlot, Product, Sale

STOCKHOLM = ZoneInfo("Europe/Stockholm")
_ids = itertools.count(1)


def local(text: str, tz: ZoneInfo = STOCKHOLM) -> datetime:
    """'2026-03-29 23:30' in the chain's zone → an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def location(code: str, **fields: Any) -> Location:
    fields.setdefault("name", f"Location {code}")
    return Location.objects.create(code=code, **fields)


def device(asset: str, at: Location, **fields: Any) -> Device:
    return Device.objects.create(asset=asset, location=at, **fields)


def device_type(name: str) -> DeviceType:
    return DeviceType.objects.create(name=name)


def category(name: str) -> Category:
    return Category.objects.create(name=name)


def product(sku: str, price: str = "1.00", **fields: Any) -> Product:
    fields.setdefault("name", f"Product {sku}")
    return Product.objects.create(sku=sku, price=Decimal(price), **fields)


def customer(ref: str) -> Customer:
    return Customer.objects.create(external_ref=ref)


def sale(
    machine: Device,
    item: Product,
    at: datetime,
    amount: str,
    quantity: int = 1,
    transactions: int = 1,
    slot: str = "",
    buyer: Customer | None = None,
) -> Sale:
    return Sale.objects.create(
        external_id=f"t{next(_ids)}",
        sold_at=at,
        device=machine,
        product=item,
        quantity=quantity,
        amount=Decimal(amount),
        transactions=transactions,
        slot_code=slot,
        customer=buyer,
        source=Sale.Source.TELEMETRY,
    )


def slot(machine: Device, code: str, item: Product, valid_from: datetime, **fields: Any) -> PlanogramSlot:
    return PlanogramSlot.objects.create(device=machine, slot_code=code, product=item, valid_from=valid_from, **fields)


def resource(code: str, at: Location, resource_type: str = "court", hours: dict[int, tuple[str, str]] | None = None) -> Resource:
    made = Resource.objects.create(code=code, name=f"Resource {code}", location=at, resource_type=resource_type)
    for weekday, (opens, closes) in (hours or {}).items():
        OpeningHours.objects.create(resource=made, weekday=weekday, opens=opens, closes=closes)
    return made


def booking(
    where: Resource, starts: datetime, minutes: int, status: str, amount: str = "0", buyer: Customer | None = None
) -> Booking:
    return Booking.objects.create(
        external_id=f"b{next(_ids)}",
        resource=where,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        status=status,
        amount=Decimal(amount),
        customer=buyer,
    )


def funnel(session: str, step: str, at: datetime) -> FunnelEvent:
    return FunnelEvent.objects.create(external_id=f"e{next(_ids)}", session_id=session, step=step, occurred_at=at)
