"""Catalog import/export: the admin's dry-run preview and confirm, all-or-nothing files, and `import_catalog`."""

from __future__ import annotations

import io
import json
from datetime import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from bookings.models import OpeningHours, Resource
from fleet.models import Category, Device, Location, PlanogramSlot, Product
from tests.admin.test_chain_admin import admin_client
from tests.conftest import ChainFixture

LOCATIONS = (
    "code,name,city,region,country,latitude,longitude,address,venue_type\n"
    "STO-CEN,Stockholm Central,Stockholm,Stockholm,se,59.3302314159,18.0591960,Centralplan 15,transit\n"
    "GOT-CEN,Göteborg Central,Göteborg,Västra Götaland,SE,57.70887,11.97315,,transit\n"
)


def run_import(schema: str, kind: str, path: Path) -> tuple[dict, bool]:
    out = io.StringIO()
    try:
        call_command("import_catalog", schema, kind, str(path), stdout=out)
        rejected = False
    except CommandError:
        rejected = True
    return json.loads(out.getvalue()), rejected


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the admin ----------------------------------------------------------------------------------------


def test_admin_dry_run_previews_and_imports_nothing_until_confirmed(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        client = admin_client(chain_a)
        upload = SimpleUploadedFile("locations.csv", LOCATIONS.encode(), content_type="text/csv")
        preview = client.post("/admin/fleet/location/import/", {"format": "0", "import_file": upload})
        after_preview = Location.objects.filter(code__in=["STO-CEN", "GOT-CEN"]).count()
        page = preview.content.decode()
        confirm = {
            name: preview.context["confirm_form"][name].value()
            for name in ("import_file_name", "original_file_name", "format", "resource")
        }
        done = client.post("/admin/fleet/location/process_import/", confirm)
        stockholm = Location.objects.get(code="STO-CEN")
        imported = Location.objects.filter(code__in=["STO-CEN", "GOT-CEN"]).count()

    assert preview.status_code == 200
    assert "Preview" in page and "STO-CEN" in page and "GOT-CEN" in page
    assert after_preview == 0  # the dry run rolled back
    assert done.status_code == 302
    assert stockholm.country == "SE"
    assert stockholm.latitude == Decimal("59.330231")  # rounded half-up to the 6 stored decimals
    assert imported == 2


def test_admin_file_with_one_bad_row_names_it_and_imports_nothing(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        Location.objects.create(code="L1", name="One")
        client = admin_client(chain_a)
        devices = "asset,location,serial,device_type,cooler,installed_at\nD-1,L1,S-1,,yes,2025-01-02\nD-2,NOPE,S-2,,no,\n"
        upload = SimpleUploadedFile("devices.csv", devices.encode(), content_type="text/csv")
        response = client.post("/admin/fleet/device/import/", {"format": "0", "import_file": upload})
        page = response.content.decode()
        imported = Device.objects.filter(asset__in=["D-1", "D-2"]).count()

    assert response.status_code == 200
    assert "Some rows failed to validate" in page
    assert "no location with code &#x27;NOPE&#x27;" in page
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert 'name="import_file_name"' not in page  # no way to confirm a file with errors
    assert imported == 0


def test_admin_exports_catalog_as_csv_with_the_file_format_columns(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        category = Category.objects.create(name="Chocolate")
        Product.objects.create(sku="SKU-9", name="Daim", category=category, price=Decimal("15.00"), cost=Decimal("5.50"))
        client = admin_client(chain_a)
        fields = {f"productresource_{name}": "on" for name in ("sku", "name", "price", "category", "cost")}
        response = client.post("/admin/fleet/product/export/", {"format": "0", "resource": "0", **fields})
    lines = response.content.decode().splitlines()

    assert response.status_code == 200
    assert lines[0] == "sku,name,price,category,cost"
    assert "SKU-9,Daim,15.00,Chocolate,5.50" in lines


# --- the command ----------------------------------------------------------------------------------------


def test_import_catalog_reports_created_then_duplicates(in_chain_a: ChainFixture, tmp_path: Path) -> None:
    path = write(tmp_path, "locations.csv", LOCATIONS)

    first, first_rejected = run_import("test_a", "locations", path)
    second, second_rejected = run_import("test_a", "locations", path)

    assert (first_rejected, second_rejected) == (False, False)
    assert first == {"file": str(path), "rows": 2, "created": 2, "updated": 0, "duplicates": 0, "errors": [], "warnings": []}
    assert (second["created"], second["updated"], second["duplicates"]) == (0, 0, 2)
    assert Location.objects.get(code="GOT-CEN").name == "Göteborg Central"


def test_import_catalog_rejects_the_whole_file_and_names_every_bad_row(in_chain_a: ChainFixture, tmp_path: Path) -> None:
    Category.objects.create(name="Chocolate")
    path = write(
        tmp_path,
        "products.csv",
        "sku,name,price,category,cost\n"
        "SKU-1,Kexchoklad,15,Chocolate,5\n"
        "SKU-2,Daim,fifteen,Chocolate,5\n"
        "SKU-3,Twix,17,Candy bars,6\n"
        "SKU-1,Kexchoklad again,15,Chocolate,5\n"
        "SKU-4,Mars,-1,Chocolate,5\n",
    )

    report, rejected = run_import("test_a", "products", path)

    assert rejected is True
    assert report["rows"] == 5
    assert report["created"] == 0
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "price"), (3, "category"), (4, "sku"), (5, None)]
    assert "'fifteen' is not a number" in report["errors"][0]["message"]
    assert "no category with name 'Candy bars'" in report["errors"][1]["message"]
    assert "duplicate of row 1" in report["errors"][2]["message"]
    assert not Product.objects.filter(sku__in=["SKU-1", "SKU-2", "SKU-3", "SKU-4"]).exists()


def test_import_catalog_reads_xlsx_and_reports_a_missing_required_column(in_chain_a: ChainFixture, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["sku", "name", "price", "category", "cost"])
    sheet.append(["SKU-10", "Loka Citron 50 cl", 20, None, 6.5])
    sheet.append([1001, "Numeric SKU water", 16.0, None, None])
    path = tmp_path / "products.xlsx"
    book.save(path)
    no_price = write(tmp_path, "no_price.csv", "sku,name\nSKU-11,Ramlösa\n")

    report, rejected = run_import("test_a", "products", path)
    missing, missing_rejected = run_import("test_a", "products", no_price)

    assert (rejected, report["created"]) == (False, 2)
    assert Product.objects.get(sku="SKU-10").cost == Decimal("6.50")
    assert Product.objects.get(sku="1001").price == Decimal("16.00")
    assert missing_rejected is True
    assert missing["errors"] == [{"row": None, "column": None, "message": "missing required column(s): price"}]


def test_planogram_import_updates_in_place_or_starts_a_new_slot_when_the_product_changes(
    in_chain_a: ChainFixture, tmp_path: Path
) -> None:
    location = Location.objects.create(code="L1", name="One")
    Device.objects.create(asset="D-1", location=location)
    for sku in ("SKU-A", "SKU-B"):
        Product.objects.create(sku=sku, name=sku, price=Decimal("20"))
    header = "device,slot,product,capacity,par_level,price\n"

    first, _ = run_import("test_a", "planogram", write(tmp_path, "p1.csv", header + "D-1,A1,SKU-A,10,6,22\nD-1,A2,SKU-A,8,,\n"))
    same_product, _ = run_import("test_a", "planogram", write(tmp_path, "p2.csv", header + "D-1,A1,SKU-A,12,6,22\n"))
    new_product, _ = run_import("test_a", "planogram", write(tmp_path, "p3.csv", header + "D-1,A1,SKU-B,12,6,25\n"))
    bad, rejected = run_import("test_a", "planogram", write(tmp_path, "p4.csv", header + "D-1,A3,SKU-A,5,9,\nD-9,A1,SKU-A,5,1,\n"))

    a1 = list(PlanogramSlot.objects.filter(slot_code="A1").order_by("valid_from"))
    a2 = PlanogramSlot.objects.get(slot_code="A2")
    assert first["created"] == 2 and same_product["updated"] == 1 and new_product["updated"] == 1
    assert [(s.product.sku, s.capacity, s.valid_to is None) for s in a1] == [("SKU-A", 12, False), ("SKU-B", 12, True)]
    assert a1[0].valid_to == a1[1].valid_from
    assert (a2.capacity, a2.par_level, a2.price) == (8, 0, None)
    assert rejected is True
    assert [(e["row"], e["column"]) for e in bad["errors"]] == [(1, None), (2, "device")]
    assert not PlanogramSlot.objects.filter(slot_code="A3").exists()


def test_resource_import_sets_opening_hours_on_all_seven_days(in_chain_a: ChainFixture, tmp_path: Path) -> None:
    Location.objects.create(code="PH-SHO", name="Shoreditch")
    header = "code,name,location,resource_type,capacity,opens,closes\n"

    good, rejected = run_import("test_a", "resources", write(tmp_path, "r.csv", header + "PAD1,Padel 1,PH-SHO,padel_court,4,07:00,23:00\n"))
    bad, bad_rejected = run_import(
        "test_a", "resources", write(tmp_path, "r2.csv", header + "PAD2,Padel 2,PH-SHO,padel_court,4,22:00,07:00\nPAD3,Padel 3,PH-SHO,,,7am,\n")
    )

    hours = set(OpeningHours.objects.filter(resource__code="PAD1").values_list("weekday", "opens", "closes"))
    assert (rejected, good["created"]) == (False, 1)
    assert hours == {(day, time(7), time(23)) for day in range(1, 8)}
    assert bad_rejected is True
    assert [(e["row"], e["column"], e["message"]) for e in bad["errors"]] == [
        (1, "closes", "closes must be after opens"),
        (2, "opens", "'7am' is not a time (HH:MM)"),
    ]
    assert not Resource.objects.filter(code__in=["PAD2", "PAD3"]).exists()


@pytest.mark.parametrize("kind", ["locations", "device_types", "devices", "categories", "products", "planogram", "resources"])
def test_every_kind_exports_exactly_its_file_columns(kind: str, in_chain_a: ChainFixture) -> None:
    from fleet.resources import catalog_resources

    expected = {
        "locations": ["code", "name", "city", "region", "country", "latitude", "longitude", "address", "venue_type"],
        "device_types": ["name"],
        "devices": ["asset", "location", "serial", "device_type", "cooler", "installed_at"],
        "categories": ["name"],
        "products": ["sku", "name", "price", "category", "cost"],
        "planogram": ["device", "slot", "product", "capacity", "par_level", "price"],
        "resources": ["code", "name", "location", "resource_type", "capacity", "opens", "closes"],
    }[kind]
    assert catalog_resources()[kind]().export().headers == expected


def test_errors_name_the_file_column_not_the_model_field(in_chain_a: ChainFixture, tmp_path: Path) -> None:
    location = Location.objects.create(code="L1", name="One")
    Device.objects.create(asset="D-1", location=location)
    Product.objects.create(sku="SKU-A", name="A", price=Decimal("20"))
    long_slot = "X" * 25  # the model's slot_code holds 20 characters

    report, rejected = run_import(
        "test_a", "planogram", write(tmp_path, "p.csv", f"device,slot,product,capacity\nD-1,{long_slot},SKU-A,ten\n")
    )

    assert rejected is True
    assert sorted((e["row"], e["column"]) for e in report["errors"]) == [(1, "capacity"), (1, "slot")]
