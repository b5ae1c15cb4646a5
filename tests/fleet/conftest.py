"""Catalog rows the ingestion tests build on: one location, two devices, three products, a planogram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fleet.models import Device, Location, PlanogramSlot, Product
from tests.conftest import ChainFixture


@dataclass
class Catalog:
    location: Location
    dev1: Device
    dev2: Device
    cola: Product
    chips: Product
    water: Product


@pytest.fixture
def catalog(in_chain_a: ChainFixture) -> Catalog:
    location = Location.objects.create(code="L1", name="Main station")
    dev1 = Device.objects.create(asset="D-001", serial="D0451879", location=location)
    dev2 = Device.objects.create(asset="D-002", serial="SER-2", location=location)
    cola = Product.objects.create(sku="COLA", name="Cola", price=Decimal("1.50"))
    chips = Product.objects.create(sku="CHIPS", name="Chips", price=Decimal("1.00"))
    water = Product.objects.create(sku="WATER", name="Water", price=Decimal("1.20"))
    since = datetime(2020, 1, 1, tzinfo=UTC)
    for code, product in (("1", cola), ("2", chips), ("3", water)):
        PlanogramSlot.objects.create(device=dev1, slot_code=code, product=product, valid_from=since)
    return Catalog(location, dev1, dev2, cola, chips, water)
