"""A large admin upload under a real Celery worker: the preview and the confirmed import both run as tasks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from chains.models import Domain
from chains.services import chain_user_create
from cvd.celery import app
from fleet.models import Device, Location, Product, Sale
from ingest.models import ImportJob
from tests.admin.test_import_preview import CLEAN, counts
from tests.analytics.test_celery_rollups import _env, _wait, _worker


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def test_preview_and_confirm_run_in_the_worker_and_a_double_confirm_imports_once(
    committed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = committed(time_zone="Europe/Stockholm", currency="SEK")
    schema = chain.schema_name
    # A host name may not hold the schema's underscore: the chain gets a second domain for the browser.
    domain = f"import-{uuid.uuid4().hex[:8]}.localhost"
    Domain.objects.create(domain=domain, tenant=chain, is_primary=False)
    chain_user_create(chain=chain, username=f"{schema}-admin", email="a@x.test", role="admin", password="pw")
    with schema_context(schema):
        location = Location.objects.create(code="L1", name="Main")
        for asset in ("D-001", "D-002"):
            Device.objects.create(asset=asset, location=location)
        for sku in ("COLA", "CHIPS", "WATER"):
            Product.objects.create(sku=sku, name=sku.title(), price=Decimal("1.00"))
        user = get_user_model().objects.get(username=f"{schema}-admin")
    queue = f"test-import-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    log = tmp_path / "worker.log"

    def job_status() -> str:
        with schema_context(schema):
            return ImportJob.objects.get().status

    with _worker(queue, _env(queue, [schema]), log), override_settings(CVD_ADMIN_SYNC_IMPORT_BYTES=10):
        client = Client(HTTP_HOST=domain)
        with schema_context(schema):  # the session lives in the chain's schema
            client.force_login(user)
        uploaded = client.post("/admin/ingest/importjob/add/", {"kind": "sales", "file": SimpleUploadedFile("big.csv", CLEAN.encode())})
        assert uploaded.status_code == 302
        _wait(lambda: job_status() == "previewed", 60, "the worker's preview", [log])
        page = client.get(uploaded["Location"]).content.decode()
        with schema_context(schema):
            assert Sale.objects.count() == 0
        first = client.post(uploaded["Location"].replace("/change/", "/confirm/"))
        second = client.post(uploaded["Location"].replace("/change/", "/confirm/"))
        _wait(lambda: job_status() == "imported", 60, "the worker's import", [log])

    with schema_context(schema):
        job = ImportJob.objects.get()
        sales = sorted(Sale.objects.values_list("external_id", flat=True))
    # CLEAN holds p1, n1, n2, n1 again (word for word) and n4; nothing of it was stored before.
    assert counts(page) == {"rows": 5, "created": 4, "duplicates": 1, "errors": 0}
    assert first.status_code == second.status_code == 302
    assert sales == ["n1", "n2", "n4", "p1"]
    assert (job.report["created"], job.report["duplicates"]) == (4, 1)
    assert job.previewed_at is not None and job.started_at is not None and job.finished_at is not None
    assert job.previewed_at <= job.started_at <= job.finished_at
    assert not job.upload
