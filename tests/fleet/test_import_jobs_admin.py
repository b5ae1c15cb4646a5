"""Background import jobs (the Celery task calls the same service) and the ingestion admin pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from fleet.models import DexRead, Sale
from ingest.jobs import import_job_create, import_job_progress, import_job_run
from ingest.tasks import import_job_run_task
from tests.conftest import ChainFixture
from tests.fleet.conftest import Catalog

SALES = b"transaction_id,sold_at,device,product,quantity,amount\nj1,2026-03-01T12:30:00+01:00,D-001,COLA,2,3.00\nj2,2026-03-01T12:31:00+01:00,D-002,CHIPS,1,1.00\n"
VENDO = (Path(__file__).resolve().parents[2] / "samples" / "dex" / "vendo-721.txt").read_bytes()


def test_a_job_runs_the_import_and_keeps_the_report(catalog: Catalog) -> None:
    job = import_job_create(kind="sales", upload=SimpleUploadedFile("big.csv", SALES), requested_by="me")
    assert job.status == "queued" and job.upload.name
    assert import_job_progress(job=job) == {"phase": "", "progress": 0.0}
    done = import_job_run(job_id=job.pk)
    assert done is not None
    assert (done.status, done.report["created"], done.progress) == ("imported", 2, 1.0)
    assert not done.upload  # the copy is gone once the report is kept
    assert Sale.objects.filter(external_id__in=["j1", "j2"]).count() == 2
    # Running it again (a redelivered task) is nothing to do.
    assert import_job_run(job_id=job.pk).status == "imported"  # type: ignore[union-attr]
    assert import_job_run(job_id=999_999) is None


def test_a_rejected_job_keeps_the_errors(catalog: Catalog) -> None:
    job = import_job_create(kind="bookings", upload=SimpleUploadedFile("b.csv", b"booking_id\nx\n"))
    done = import_job_run(job_id=job.pk)
    assert done is not None and done.status == "rejected"
    assert {e["column"] for e in done.report["errors"]} == {"resource", "starts_at", "ends_at", "status"}


def test_the_task_refuses_to_run_without_a_chain(catalog: Catalog) -> None:
    job = import_job_create(kind="sales", upload=SimpleUploadedFile("big.csv", SALES))
    assert import_job_run_task.run(job.pk) == "imported"
    connection.set_schema_to_public()
    with pytest.raises(RuntimeError):
        import_job_run_task.run(job.pk)


def admin_client(chain: ChainFixture, role: str = "admin") -> Client:
    client = chain.client()
    client.force_login(get_user_model().objects.get(username=f"{chain.schema}-{role}"))
    return client


def test_admin_dex_upload(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = admin_client(in_chain_a)
    changelist = client.get("/admin/fleet/dexread/")
    assert changelist.status_code == 200 and b"Upload DEX" in changelist.content
    page = client.post("/admin/fleet/dexread/upload/", {"dex_files": [SimpleUploadedFile("vendo.txt", VENDO)]})
    assert page.status_code == 200
    assert b"baseline" in page.content and b"D-001" in page.content
    assert DexRead.objects.get().status == "baseline"
    assert client.get("/admin/fleet/sale/").status_code == 200


# The admin's file import (preview, confirm, background jobs) is tested in tests/admin/test_import_preview.py.


def test_admin_upload_needs_the_ingest_capability(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    viewer = admin_client(in_chain_a, "viewer")  # not staff: the admin sends it to the login page
    assert viewer.get("/admin/fleet/dexread/upload/").status_code == 302


def test_admin_pages_render(catalog: Catalog, in_chain_a: ChainFixture) -> None:
    client = admin_client(in_chain_a)
    for path in ("/admin/ingest/importjob/", "/admin/ingest/importjob/add/?kind=bookings", "/admin/fleet/dexread/upload/"):
        assert client.get(path).status_code == 200, path
    assert b"Import sales file" in client.get("/admin/fleet/sale/").content
