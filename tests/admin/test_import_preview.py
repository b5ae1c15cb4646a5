"""The admin's file import: upload → dry-run preview (rows, created, duplicates, errors) → "Confirm import", once.

Figures are counted by hand from the files below, not taken from the import's own report.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from analytics.models import DirtyRange
from bookings.models import Booking, Resource
from chains.services import chain_user_create
from fleet.models import Customer, Sale
from ingest.jobs import import_job_preview_run, import_job_run
from ingest.models import ImportJob
from tests.conftest import ChainFixture
from tests.fleet.conftest import Catalog

HEADER = "transaction_id,sold_at,device,product,quantity,amount,payment_method,customer,slot\n"
STORED = "p1,2026-03-01T09:00:00+01:00,D-001,COLA,1,1.50,cash,,1\n"
# Row 1 repeats a stored sale, row 4 repeats row 2 word for word: 2 duplicates. Row 5 names an unknown device.
WITH_DUPLICATES_AND_A_BAD_ROW = (
    HEADER
    + "p1,2026-03-01T09:00:00+01:00,D-001,COLA,1,1.50,cash,,1\n"
    + "n1,2026-03-01T10:15:00+01:00,D-001,CHIPS,2,2.00,card,C-9,2\n"
    + "n2,2026-03-01T10:20:00+01:00,D-002,COLA,1,1.50,,,\n"
    + "n1,2026-03-01T10:15:00+01:00,D-001,CHIPS,2,2.00,card,C-9,2\n"
    + "n3,2026-03-01T10:25:00+01:00,D-404,COLA,1,1.50,,,\n"
    + "n4,2026-03-01T10:30:00+01:00,D-002,WATER,3,3.60,mobile,,\n"
)
# The same file without its bad row: 5 rows, 3 new (n1, n2, n4), 2 duplicates.
CLEAN = WITH_DUPLICATES_AND_A_BAD_ROW.replace("n3,2026-03-01T10:25:00+01:00,D-404,COLA,1,1.50,,,\n", "")


def login(chain: ChainFixture, username: str | None = None) -> Client:
    client = chain.client()
    client.force_login(get_user_model().objects.get(username=username or f"{chain.schema}-admin"))
    return client


def counts(page: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def upload(client: Client, text: str, kind: str = "sales", name: str = "sales.csv") -> ImportJob:
    response = client.post("/admin/ingest/importjob/add/", {"kind": kind, "file": SimpleUploadedFile(name, text.encode())})
    assert response.status_code == 302, response.content[:2000]
    job = ImportJob.objects.order_by("-pk").first()
    assert job is not None and response["Location"] == f"/admin/ingest/importjob/{job.pk}/change/"
    return job


def store_one_sale(catalog: Catalog) -> None:
    Sale.objects.create(
        external_id="p1", sold_at=datetime(2026, 3, 1, 8, tzinfo=UTC), device=catalog.dev1, product=catalog.cola,
        quantity=1, amount=Decimal("1.50"), source="import",
    )


def test_the_preview_counts_duplicates_and_names_the_bad_row_and_imports_nothing(
    catalog: Catalog, in_chain_a: ChainFixture
) -> None:
    store_one_sale(catalog)
    dirty_before = DirtyRange.objects.count()
    client = login(in_chain_a)

    job = upload(client, WITH_DUPLICATES_AND_A_BAD_ROW)
    page = client.get(f"/admin/ingest/importjob/{job.pk}/change/").content.decode()
    job.refresh_from_db()

    assert counts(page) == {"rows": 6, "created": 3, "duplicates": 2, "errors": 1}
    assert "<td>5</td><td>device</td><td>unknown device &#x27;D-404&#x27;</td>" in page
    assert "would be rejected" in page and 'id="confirm-import"' not in page
    assert job.status == "rejected" and not job.upload  # nothing of it can be imported: the copy is gone
    assert (job.started_at, job.finished_at) == (None, None) and job.previewed_at is not None
    assert list(Sale.objects.values_list("external_id", flat=True)) == ["p1"]
    assert DirtyRange.objects.count() == dirty_before
    # Confirming a rejected preview (a hand-made POST) imports nothing either.
    refused = client.post(f"/admin/ingest/importjob/{job.pk}/confirm/")
    assert refused.status_code == 302 and Sale.objects.count() == 1


def test_a_clean_preview_imports_once_on_confirm_and_a_second_confirm_imports_nothing(
    catalog: Catalog, in_chain_a: ChainFixture
) -> None:
    store_one_sale(catalog)
    client = login(in_chain_a)
    before = timezone.now()

    job = upload(client, CLEAN)
    preview_page = client.get(f"/admin/ingest/importjob/{job.pk}/change/").content.decode()
    after_preview = set(Sale.objects.values_list("external_id", flat=True))
    job.refresh_from_db()
    stored_name = job.upload.name

    assert counts(preview_page) == {"rows": 5, "created": 3, "duplicates": 2, "errors": 0}
    assert 'id="confirm-import"' in preview_page and "Confirm import" in preview_page
    assert after_preview == {"p1"} and job.status == "previewed" and stored_name
    assert not Customer.objects.filter(external_ref="C-9").exists()  # the dry run wrote nothing, customers neither

    confirmed = client.post(f"/admin/ingest/importjob/{job.pk}/confirm/", follow=True)
    after_confirm = set(Sale.objects.values_list("external_id", flat=True))
    job.refresh_from_db()
    again = client.post(f"/admin/ingest/importjob/{job.pk}/confirm/", follow=True)
    after_again = Sale.objects.count()

    assert confirmed.status_code == 200 and "imported" in confirmed.content.decode()
    assert after_confirm == {"p1", "n1", "n2", "n4"}
    assert (job.status, job.report["created"], job.report["duplicates"], job.report["rows"]) == ("imported", 3, 2, 5)
    assert job.started_at is not None and job.finished_at is not None
    assert before <= job.started_at <= job.finished_at <= timezone.now()
    assert not job.upload and not job.upload.storage.exists(stored_name)
    assert "already confirmed" in again.content.decode() and after_again == 4
    assert ImportJob.objects.count() == 1  # one upload, one job: the confirm did not need the file again
    assert Sale.objects.get(external_id="n1").customer.external_ref == "C-9"  # type: ignore[union-attr]
    n4 = Sale.objects.get(external_id="n4")
    assert (n4.quantity, n4.amount, n4.payment_method, n4.device.asset) == (3, Decimal("3.60"), "mobile", "D-002")


def test_only_the_uploader_can_confirm(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    chain_user_create(chain=in_chain_a.chain, username="test_a-admin2", email="a2@x.test", role="admin", password="pw")
    job = upload(login(in_chain_a), CLEAN)
    other = login(in_chain_a, "test_a-admin2")

    page = other.get(f"/admin/ingest/importjob/{job.pk}/change/").content.decode()
    refused = other.post(f"/admin/ingest/importjob/{job.pk}/confirm/")
    job.refresh_from_db()

    assert 'id="confirm-import"' not in page and "Waiting for test_a-admin" in page
    assert refused.status_code == 403 and job.status == "previewed" and Sale.objects.count() == 0


def test_confirm_is_post_only(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    job = upload(client, CLEAN)
    assert client.get(f"/admin/ingest/importjob/{job.pk}/confirm/").status_code == 405
    assert Sale.objects.count() == 0


def test_a_file_changed_between_preview_and_confirm_is_not_imported(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    job = upload(client, CLEAN)
    with open(job.upload.path, "a", encoding="utf-8") as handle:
        handle.write("x9,2026-03-01T11:00:00+01:00,D-001,COLA,1,1.50,,,\n")

    page = client.post(f"/admin/ingest/importjob/{job.pk}/confirm/", follow=True).content.decode()
    job.refresh_from_db()

    assert job.status == "failed" and "not the one that was uploaded" in page
    assert Sale.objects.count() == 0


def test_a_file_that_went_bad_after_its_preview_imports_nothing_at_all(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    job = upload(client, CLEAN.replace("p1,", "p0,", 1))  # 4 new rows, 1 duplicate
    catalog.dev2.delete()  # its rows (n2, n4) now name an unknown device

    client.post(f"/admin/ingest/importjob/{job.pk}/confirm/")
    job.refresh_from_db()

    assert job.status == "rejected" and job.report["created"] == 0
    assert {e["row"] for e in job.report["errors"]} == {3, 5}
    assert Sale.objects.count() == 0  # all or nothing: not even the rows of D-001


def test_a_file_without_a_required_column_is_rejected_by_its_preview(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    job = upload(client, "transaction_id,sold_at,device,product,quantity\nz1,2026-03-01T10:15:00+01:00,D-001,COLA,1\n")
    page = client.get(f"/admin/ingest/importjob/{job.pk}/change/").content.decode()

    assert "<td>0</td><td>amount</td><td>required column missing from the header</td>" in page
    assert 'id="confirm-import"' not in page and Sale.objects.count() == 0


def test_a_large_file_is_previewed_and_imported_in_the_background(
    catalog: Catalog, in_chain_a: ChainFixture, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = login(in_chain_a)
    with override_settings(CVD_ADMIN_SYNC_IMPORT_BYTES=10), django_capture_on_commit_callbacks() as queued:
        job = upload(client, CLEAN)
        waiting = client.get(f"/admin/ingest/importjob/{job.pk}/change/").content.decode()
    assert len(queued) == 1 and 'http-equiv="refresh"' in waiting and "Confirm import" not in waiting

    import_job_preview_run(job_id=job.pk)  # what the queued task does
    page = client.get(f"/admin/ingest/importjob/{job.pk}/change/").content.decode()
    assert counts(page) == {"rows": 5, "created": 4, "duplicates": 1, "errors": 0}  # no stored p1 here: only n1 repeats
    with override_settings(CVD_ADMIN_SYNC_IMPORT_BYTES=10), django_capture_on_commit_callbacks() as queued:
        client.post(f"/admin/ingest/importjob/{job.pk}/confirm/")
        client.post(f"/admin/ingest/importjob/{job.pk}/confirm/")
    assert len(queued) == 1  # one task for two clicks
    job.refresh_from_db()
    assert job.status == "queued" and Sale.objects.count() == 0
    import_job_run(job_id=job.pk)
    assert set(Sale.objects.values_list("external_id", flat=True)) == {"p1", "n1", "n2", "n4"}


def test_venue_files_take_the_same_preview(in_chain_a: ChainFixture) -> None:
    from fleet.models import Location

    location = Location.objects.create(code="L1", name="Hall")
    Resource.objects.create(code="PAD1", name="Padel 1", location=location, resource_type="padel_court")
    header = "booking_id,resource,starts_at,ends_at,status,amount,customer,created_at\n"
    good = "b1,PAD1,2026-03-01T18:00:00+01:00,2026-03-01T19:00:00+01:00,paid,400.00,C-1,2026-02-20T09:12:00+01:00\n"
    bad = "b2,PAD9,2026-03-01T18:00:00+01:00,2026-03-01T19:00:00+01:00,paid,400.00,,\n"
    client = login(in_chain_a)

    rejected = upload(client, header + good + good + bad, kind="bookings", name="bookings.csv")
    rejected_page = client.get(f"/admin/ingest/importjob/{rejected.pk}/change/").content.decode()
    clean = upload(client, header + good + good, kind="bookings", name="bookings.csv")
    clean_page = client.get(f"/admin/ingest/importjob/{clean.pk}/change/").content.decode()
    before_confirm = Booking.objects.count()
    client.post(f"/admin/ingest/importjob/{clean.pk}/confirm/")

    assert counts(rejected_page) == {"rows": 3, "created": 1, "duplicates": 1, "errors": 1}
    assert "<td>3</td><td>resource</td><td>unknown resource &#x27;PAD9&#x27;</td>" in rejected_page
    assert counts(clean_page) == {"rows": 2, "created": 1, "duplicates": 1, "errors": 0}
    assert before_confirm == 0
    assert list(Booking.objects.values_list("external_id", "amount")) == [("b1", Decimal("400.00"))]


SALES_FILE_DOC = [  # interfaces.md, "Sales file": column, required
    ("transaction_id", True), ("sold_at", True), ("device", True), ("product", True), ("quantity", True),
    ("amount", True), ("payment_method", False), ("customer", False), ("slot", False),
]


def test_the_import_page_shows_the_expected_columns_and_a_template(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    page = client.get("/admin/ingest/importjob/add/?kind=sales").content.decode()
    template = client.get("/admin/ingest/importjob/template/sales.csv")

    table = page[page.index('data-table="columns-sales"') : page.index("</table>", page.index('data-table="columns-sales"'))]
    shown = re.findall(r"<tr><td>(<strong>)?<code>(\w+)</code>", table)
    assert [(name, bool(bold)) for bold, name in shown] == SALES_FILE_DOC
    assert template.status_code == 200 and template["Content-Type"].startswith("text/csv")
    assert template["Content-Disposition"] == 'attachment; filename="sales-template.csv"'
    assert template.content.decode() == ",".join(name for name, _ in SALES_FILE_DOC) + "\r\n"
    assert client.get("/admin/ingest/importjob/template/nope.csv").status_code == 404
    # The template itself, uploaded as it is, is a header without rows: rejected, nothing imported.
    job = upload(client, template.content.decode())
    assert job.status == "rejected" and job.report["errors"][0]["message"] == "the file has a header but no data rows"


def test_import_job_times_are_listed(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    job = upload(client, CLEAN)
    client.post(f"/admin/ingest/importjob/{job.pk}/confirm/")
    ImportJob.objects.filter(pk=job.pk).update(
        started_at=datetime(2026, 3, 1, 9, 15, tzinfo=UTC), finished_at=datetime(2026, 3, 1, 9, 15, tzinfo=UTC) + timedelta(minutes=2)
    )
    listing = client.get("/admin/ingest/importjob/").content.decode()
    # Stockholm is UTC+1 in March: 09:15 UTC started, 09:17 UTC finished.
    assert "March 1, 2026, 10:15 a.m." in listing and "March 1, 2026, 10:17 a.m." in listing
    assert "column-started_at" in listing and "column-finished_at" in listing and "120.0 s" in listing


def test_the_import_pages_old_admin_address_leads_to_the_new_one(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    # Import jobs moved from the fleet app to ingest: /admin/fleet/importjob/… bookmarks still open the page.
    client = login(in_chain_a)
    job = upload(client, CLEAN)
    listing = client.get("/admin/fleet/importjob/")
    add = client.get("/admin/fleet/importjob/add/?kind=sales")
    change = client.get(f"/admin/fleet/importjob/{job.pk}/change/", follow=True)

    assert (listing.status_code, listing["Location"]) == (301, "/admin/ingest/importjob/")
    assert (add.status_code, add["Location"]) == (301, "/admin/ingest/importjob/add/?kind=sales")
    assert change.redirect_chain == [(f"/admin/ingest/importjob/{job.pk}/change/", 301)]
    assert change.status_code == 200 and job.file_name in change.content.decode()
    # The redirect is no way around sign-in: the new address still asks for it.
    anonymous = in_chain_a.client().get("/admin/fleet/importjob/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/admin/login/")


def test_the_listing_names_each_kind_by_its_registered_label_and_filters_by_it(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = login(in_chain_a)
    job = upload(client, CLEAN)
    ImportJob.objects.create(kind="funnel", file_name="events.csv", status="imported")

    listing = client.get("/admin/ingest/importjob/").content.decode()
    only_funnel = client.get("/admin/ingest/importjob/?kind=funnel").content.decode()

    assert '<td class="field-kind_display">Sales</td>' in listing
    assert '<td class="field-kind_display">Funnel events</td>' in listing
    assert "events.csv" in only_funnel and job.file_name not in only_funnel
