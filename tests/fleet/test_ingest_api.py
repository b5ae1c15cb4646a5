"""Ingestion API: capability fleet.ingest on every endpoint, 401/403/413/400, and the import reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django_tenants.utils import schema_context

from fleet.models import DexRead, Sale
from tests.conftest import ChainFixture
from tests.fleet.conftest import Catalog

VENDO = (Path(__file__).resolve().parents[2] / "samples" / "dex" / "vendo-721.txt").read_bytes()  # ID101 D0451879 = catalog.dev1
ROW = {"transaction_id": "api-1", "sold_at": "2026-03-01T12:30:00+01:00", "device": "D-001", "product": "COLA", "quantity": 1, "amount": "1.50"}


def post_json(client: object, path: str, payload: object) -> object:
    return client.post(path, data=json.dumps(payload), content_type="application/json")  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/api/fleet/dex-reads/", "/api/fleet/sales/", "/api/bookings/bookings/", "/api/bookings/funnel-events/"])
def test_every_ingest_endpoint_needs_credentials_and_the_capability(chain_a: ChainFixture, path: str) -> None:
    assert chain_a.client().post(path, data={}).status_code == 401
    assert chain_a.client("viewer").post(path, data={}).status_code == 403
    assert chain_a.client("manager").post(path, data={}).status_code == 403
    assert chain_a.client("admin").get(path).status_code == 403  # GET is not declared: closed


def test_dex_upload_answers_with_the_report(catalog: Catalog, chain_a: ChainFixture) -> None:
    client = chain_a.client("admin")
    first = client.post("/api/fleet/dex-reads/", {"file": SimpleUploadedFile("vendo.txt", VENDO)})
    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["device"], body["sales_created"], body["amount"]) == ("baseline", "D-001", 0, "0.00")
    again = client.post("/api/fleet/dex-reads/", {"file": SimpleUploadedFile("vendo.txt", VENDO)})
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    with schema_context(chain_a.schema):
        assert DexRead.objects.count() == 2


def test_dex_upload_errors(catalog: Catalog, chain_a: ChainFixture) -> None:
    client = chain_a.client("admin")
    missing = client.post("/api/fleet/dex-reads/", {})
    assert missing.status_code == 400 and "file" in missing.json()
    unknown = client.post("/api/fleet/dex-reads/", {"file": SimpleUploadedFile("x.txt", VENDO.replace(b"D0451879", b"NOPE123"))})
    assert unknown.status_code == 400
    assert "NOPE123" in unknown.json()["errors"][0]["message"]
    with override_settings(CVD_MAX_DEX_BYTES=1000):
        assert client.post("/api/fleet/dex-reads/", {"file": SimpleUploadedFile("big.txt", VENDO)}).status_code == 413
    with schema_context(chain_a.schema):
        assert Sale.objects.count() == 0


def test_sales_batch_push(catalog: Catalog, chain_a: ChainFixture) -> None:
    client = chain_a.client("admin")
    created = post_json(client, "/api/fleet/sales/", [ROW, {**ROW, "transaction_id": "api-2", "quantity": 2, "amount": 3}])
    assert created.status_code == 201
    assert created.json()["created"] == 2
    single = post_json(client, "/api/fleet/sales/", {**ROW, "transaction_id": "api-3"})  # telemetry: one transaction
    assert single.status_code == 201 and single.json()["created"] == 1
    wrapped = post_json(client, "/api/fleet/sales/", {"rows": [ROW]})
    assert wrapped.status_code == 200 and wrapped.json()["duplicates"] == 1
    bad = post_json(client, "/api/fleet/sales/", [{**ROW, "transaction_id": "api-4", "quantity": -1}, {**ROW, "transaction_id": "api-5", "device": "X"}])
    assert bad.status_code == 400
    assert [(e["row"], e["column"]) for e in bad.json()["errors"]] == [(1, "quantity"), (2, "device")]
    shape = post_json(client, "/api/fleet/sales/", "nonsense")
    assert shape.status_code == 400 and "rows" in shape.json()
    with schema_context(chain_a.schema):
        assert Sale.objects.count() == 3


def test_sales_batch_over_the_limit_is_413(catalog: Catalog, chain_a: ChainFixture) -> None:
    rows = [{**ROW, "transaction_id": f"x{i}"} for i in range(10_001)]
    assert post_json(chain_a.client("admin"), "/api/fleet/sales/", rows).status_code == 413


def test_sales_file_upload_through_the_api(catalog: Catalog, chain_a: ChainFixture) -> None:
    data = b"transaction_id,sold_at,device,product,quantity,amount\nf1,2026-03-01T12:30:00+01:00,D-001,COLA,1,1.50\n"
    client = chain_a.client("admin")
    response = client.post("/api/fleet/sales/", {"file": SimpleUploadedFile("s.csv", data)})
    assert response.status_code == 201 and response.json()["created"] == 1
    with override_settings(CVD_MAX_UPLOAD_BYTES=10):
        assert client.post("/api/fleet/sales/", {"file": SimpleUploadedFile("s.csv", data)}).status_code == 413


def test_another_chain_cannot_see_or_use_the_catalog(catalog: Catalog, chain_b: ChainFixture) -> None:
    # Chain B has no device D-001: the same batch is refused there, and chain A's token is unknown there.
    response = post_json(chain_b.client("admin"), "/api/fleet/sales/", [ROW])
    assert response.status_code == 400
    assert response.json()["errors"][0]["column"] == "device"
