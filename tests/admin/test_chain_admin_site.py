"""The chain admin explains itself: times in the chain's zone, the sections the chain uses, no plumbing, no deleting sales."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from django_tenants.utils import schema_context

from bookings.models import Resource
from chains.middleware import ChainTimeZoneMiddleware
from fleet.models import Device, DexRead, Location, PlanogramSlot, Product, Sale
from ingest.models import ImportJob
from tests.conftest import ChainFixture
from tests.fleet.conftest import Catalog

# 10:15 in Stockholm on 1 March (UTC+1) is 09:15 UTC and 04:15 in New York (UTC-5).
SOLD_AT = datetime(2026, 3, 1, 9, 15, tzinfo=UTC)


def login(chain: ChainFixture) -> Client:
    client = chain.client()
    client.force_login(get_user_model().objects.get(username=f"{chain.schema}-admin"))
    return client


def sections(page: str) -> set[str]:
    """The section links of the index's app list (the main content, not the sidebar)."""
    main = page[page.index('id="content-main"') :]
    main = main[: main.index('id="content-related"')] if 'id="content-related"' in main else main
    return set(re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]*"[^>]*>([^<]+)</a>', main))


def sale(device: Device, product: Product, external_id: str = "s-1") -> Sale:
    return Sale.objects.create(
        external_id=external_id, sold_at=SOLD_AT, device=device, product=product, quantity=1, amount=Decimal("2.50"),
        source="import",
    )


# --- times --------------------------------------------------------------------------------------------


def test_a_stockholm_chain_sees_its_sale_at_10_15(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    one = sale(catalog.dev1, catalog.cola)
    client = login(in_chain_a)
    listing = client.get("/admin/fleet/sale/").content.decode()
    change = client.get(f"/admin/fleet/sale/{one.pk}/change/").content.decode()

    assert "March 1, 2026, 10:15 a.m." in listing and "9:15 a.m." not in listing
    assert "10:15" in change and "09:15" not in change and "9:15 a.m." not in change
    assert "Times in Europe/Stockholm" in listing


def test_a_new_york_chain_sees_the_same_instant_at_4_15(chain_b: ChainFixture) -> None:
    with schema_context(chain_b.schema):
        location = Location.objects.create(code="NY1", name="Penn Station")
        device = Device.objects.create(asset="NY-D1", location=location)
        product = Product.objects.create(sku="SODA", name="Soda", price=Decimal("2.50"))
        sale(device, product)
        listing = login(chain_b).get("/admin/fleet/sale/").content.decode()
    assert "March 1, 2026, 4:15 a.m." in listing and "Times in America/New_York" in listing


def test_the_date_filter_and_naive_input_follow_the_chains_zone(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    # 00:30 Stockholm on 2 March is still 1 March in UTC: the day drill-down must file it under the 2nd.
    late = Sale.objects.create(
        external_id="late", sold_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC), device=catalog.dev1, product=catalog.cola,
        quantity=1, amount=Decimal("1.00"), source="import",
    )
    sale(catalog.dev1, catalog.cola)
    client = login(in_chain_a)
    second = client.get("/admin/fleet/sale/", {"sold_at__day": "2", "sold_at__month": "3", "sold_at__year": "2026"})
    assert late.external_id in second.content.decode() and "s-1" not in second.content.decode()


def test_the_api_keeps_its_instants_in_utc(in_chain_a: ChainFixture) -> None:
    # The zone of the pages is for people; the API's instants keep the shape scripts know.
    seen: list[str] = []

    def probe(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse("")

    in_chain_a.activate()
    middleware = ChainTimeZoneMiddleware(probe)
    middleware(RequestFactory().get("/api/me/"))
    middleware(RequestFactory().get("/admin/"))
    assert seen == ["UTC", "Europe/Stockholm"]
    assert timezone.get_current_timezone_name() == "UTC"  # nothing leaks past the request


# --- sections -----------------------------------------------------------------------------------------

VENDING_ONLY = {"Devices", "Device types", "Planogram slots", "Products", "Categorys", "Categories", "Sales", "Dex reads",
                "DEX reads", "Drivers", "Routes", "Route runs", "Service visits"}
VENUE_ONLY = {"Resources", "Bookings", "Funnel events", "Nps responses", "NPS responses"}
EVERY_CHAIN = {"Locations", "Customers", "Import jobs"}


def test_a_vending_chain_sees_no_venue_sections(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    page = client.get("/admin/").content.decode()
    shown = sections(page)
    kinds = client.get("/admin/ingest/importjob/add/").content.decode()

    assert {"Devices", "Routes", "Sales"} | EVERY_CHAIN <= shown
    assert not shown & VENUE_ONLY
    assert "Bookings" in page[page.index('id="hidden-sections"') :]  # named, with its link, below the sections
    assert 'value="sales"' in kinds and 'value="bookings"' not in kinds and 'value="funnel"' not in kinds
    assert "D-001" in client.get(f"/admin/fleet/location/{catalog.location.pk}/change/").content.decode()


def test_a_venue_chain_sees_no_fleet_dex_or_route_sections(in_chain_a: ChainFixture) -> None:
    location = Location.objects.create(code="HALL", name="Hall")
    Resource.objects.create(code="PAD1", name="Padel 1", location=location, resource_type="padel_court")
    client = login(in_chain_a)
    page = client.get("/admin/").content.decode()
    shown = sections(page)
    fleet_index = client.get("/admin/fleet/").content.decode()
    kinds = client.get("/admin/ingest/importjob/add/").content.decode()

    assert {"Resources", "Bookings", "Funnel events"} | EVERY_CHAIN <= shown
    assert not shown & VENDING_ONLY
    assert "Devices" not in sections(fleet_index) and "Locations" in sections(fleet_index)
    assert client.get("/admin/routes/").status_code == 404  # the routes app has nothing for this chain
    assert client.get("/admin/fleet/device/").status_code == 200  # hidden, not forbidden: the first device can be added
    assert 'value="sales"' not in kinds and 'value="bookings"' in kinds and 'value="funnel"' in kinds
    assert "Devices" not in client.get(f"/admin/fleet/location/{location.pk}/change/").content.decode()


def test_a_new_chain_and_a_mixed_chain_see_everything(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    Resource.objects.create(code="PAD1", name="Padel 1", location=catalog.location, resource_type="padel_court")
    mixed = sections(client.get("/admin/").content.decode())
    Resource.objects.all().delete()
    PlanogramSlot.objects.all().delete()
    Device.objects.all().delete()
    fresh_page = client.get("/admin/").content.decode()
    fresh = sections(fresh_page)

    assert {"Devices", "Sales", "Routes", "Resources", "Bookings"} <= mixed
    assert {"Devices", "Sales", "Routes", "Resources", "Bookings"} <= fresh
    assert 'id="hidden-sections"' not in fresh_page


def test_analytics_lists_the_dashboards_not_the_plumbing(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    page = client.get("/admin/").content.decode()
    sidebar = client.get("/admin/fleet/location/").content.decode()

    assert "Dirty range" not in page and "dirtyrange" not in page and "Dirty range" not in sidebar
    assert '<a href="/dashboard/"' in page and '<a href="/api/docs/"' in page
    assert '<a href="/dashboard/"' in sidebar and "Dashboards" in sections(page)
    # The plumbing stays readable for whoever needs it, by its address.
    assert client.get("/admin/analytics/dirtyrange/").status_code == 200


# --- view-only models ---------------------------------------------------------------------------------


def test_sales_offer_no_delete(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    one = sale(catalog.dev1, catalog.cola)
    client = login(in_chain_a)
    listing = client.get("/admin/fleet/sale/").content.decode()
    action = client.post("/admin/fleet/sale/", {"action": "delete_selected", "_selected_action": [one.pk], "post": "yes"})
    page = client.get(f"/admin/fleet/sale/{one.pk}/delete/")

    assert "Delete selected" not in listing and 'name="action"' not in listing
    assert action.status_code in (200, 302) and page.status_code == 403
    assert Sale.objects.filter(pk=one.pk).exists()


def test_dex_reads_offer_no_delete(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    read = DexRead.objects.create(device=catalog.dev1, serial="D0451879", file_name="r.txt", content_hash="h", status="baseline")
    client = login(in_chain_a)
    assert "Delete selected" not in client.get("/admin/fleet/dexread/").content.decode()
    assert client.get(f"/admin/fleet/dexread/{read.pk}/delete/").status_code == 403


def test_an_import_job_in_progress_cannot_be_deleted(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    running = ImportJob.objects.create(kind="sales", file_name="a.csv", status="running")
    done = ImportJob.objects.create(kind="sales", file_name="b.csv", status="imported")
    client = login(in_chain_a)
    assert client.get(f"/admin/ingest/importjob/{running.pk}/delete/").status_code == 403
    assert client.post(f"/admin/ingest/importjob/{done.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(ImportJob.objects.values_list("file_name", flat=True)) == ["a.csv"]


def test_the_platform_admin_keeps_utc_and_all_its_sections(chain_a: ChainFixture) -> None:
    with schema_context("public"):
        operator = get_user_model().objects.create_superuser("platform-op", "op@x.test", "pw")
        client = Client(HTTP_HOST="localhost")
        client.force_login(operator)
        index = client.get("/admin/").content.decode()
        chains = client.get("/admin/chains/chain/").content.decode()
    assert "Chains" in index and "Domains" in index
    assert "Test A" in chains and "Times in" not in chains and 'id="hidden-sections"' not in index


def test_the_platform_admin_deletes_a_platform_user(chain_a: ChainFixture) -> None:
    # The chains' tables (export jobs, subscriptions, alert rules) point at users but do not exist in the
    # public schema; deleting a platform user must not look for them.
    with schema_context("public"):
        users = get_user_model().objects
        operator = users.create_superuser("platform-op", "op@x.test", "pw")
        leaver = users.create_user("platform-leaver", "leaver@x.test", "pw", is_staff=True)
        client = Client(HTTP_HOST="localhost")
        client.force_login(operator)
        confirm = client.get(f"/admin/auth/user/{leaver.pk}/delete/")
        assert confirm.status_code == 200 and "platform-leaver" in confirm.content.decode()
        assert client.post(f"/admin/auth/user/{leaver.pk}/delete/", {"post": "yes"}).status_code == 302
        other = users.create_user("platform-other", "other@x.test", "pw")
        bulk = client.post(
            "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"}
        )
        assert bulk.status_code == 302
        assert sorted(users.values_list("username", flat=True)) == ["platform-op"]
