"""Hand-made data for the page tests: two locations, three devices (one with a hostile name), products, sales, a court."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings.models import Booking, OpeningHours, Resource
from fleet.models import Category, Device, DeviceType, DexRead, Location, PlanogramSlot, Product, Sale

HOSTILE = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class World:
    today: date
    start: date  # the range the tests ask for: the last 7 days ending today
    end: date
    # expected figures, summed by hand below (not by the code under test)
    revenue: Decimal
    units: int
    transactions: int
    device_revenue: dict[str, Decimal]


def build_world(tz: str) -> World:
    zone = ZoneInfo(tz)
    today = timezone.now().astimezone(zone).date()
    start = today - timedelta(days=6)

    def local(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour, 15), tzinfo=zone)

    north = Location.objects.create(code="N-1", name="North Hall", city="Stockholm", region="North", country="SE",
                                    latitude=Decimal("59.33"), longitude=Decimal("18.06"))
    south = Location.objects.create(code="S-1", name=HOSTILE, city="Uppsala", region="South", country="SE",
                                    latitude=Decimal("59.86"), longitude=Decimal("17.64"))
    kind = DeviceType.objects.create(name="Combo")
    drinks = Category.objects.create(name="Drinks")
    vm1 = Device.objects.create(asset="VM-1", location=north, device_type=kind)
    vm2 = Device.objects.create(asset="VM-2", location=north, device_type=kind)
    vm3 = Device.objects.create(asset=HOSTILE, location=south)
    cola = Product.objects.create(sku="COLA", name="Cola", price=Decimal("2.50"), category=drinks, cost=Decimal("1"))
    chips = Product.objects.create(sku="CHIPS", name=HOSTILE, price=Decimal("1.75"))
    for machine in (vm1, vm2, vm3):
        PlanogramSlot.objects.create(device=machine, slot_code="A1", product=cola, capacity=10, par_level=8,
                                     valid_from=timezone.now() - timedelta(days=60))
    PlanogramSlot.objects.create(device=vm1, slot_code="A2", product=chips, capacity=10, par_level=8,
                                 valid_from=timezone.now() - timedelta(days=60))
    # (device, product, day offset from start, amount, quantity)
    rows = [
        (vm1, cola, 0, "12.50", 5), (vm1, chips, 2, "3.50", 2), (vm1, cola, 6, "1234.25", 7),
        (vm2, cola, 1, "5.00", 2), (vm2, cola, 5, "7.75", 3),
        (vm3, chips, 3, "1.75", 1),
    ]
    for n, (machine, item, offset, amount, quantity) in enumerate(rows, start=1):
        day = start + timedelta(days=offset)
        hour = 1 if day == today else 10  # today's sale lies before now in any zone at any test hour… mostly
        when = min(local(day, hour), timezone.now() - timedelta(minutes=1))
        Sale.objects.create(external_id=f"page-{n}", sold_at=when, device=machine, product=item, quantity=quantity,
                            amount=Decimal(amount), transactions=1, slot_code="A1" if item == cola else "A2",
                            source=Sale.Source.TELEMETRY)
    # outside the range: the day before start
    Sale.objects.create(external_id="page-old", sold_at=local(start - timedelta(days=1), 10), device=vm2, product=cola,
                        quantity=1, amount=Decimal("100.00"), transactions=1, source=Sale.Source.TELEMETRY)
    DexRead.objects.create(device=vm1, serial="S1", file_name="vm1-read.dex", raw_text="DXS*", content_hash="x" * 64,
                           read_at=timezone.now() - timedelta(days=1), status=DexRead.Status.BASELINE)
    court = Resource.objects.create(code="C-1", name="Court 1", location=south, resource_type="court")
    for weekday in range(1, 8):
        OpeningHours.objects.create(resource=court, weekday=weekday, opens=time(8), closes=time(20))
    Booking.objects.create(external_id="bk-1", resource=court, starts_at=local(start + timedelta(days=1), 10),
                           ends_at=local(start + timedelta(days=1), 11), status="paid", amount=Decimal("20.00"))
    device_revenue = {"VM-1": Decimal("1250.25"), "VM-2": Decimal("12.75"), HOSTILE: Decimal("1.75")}
    return World(today=today, start=start, end=today, revenue=Decimal("1264.75"), units=20, transactions=6,
                 device_revenue=device_revenue)
