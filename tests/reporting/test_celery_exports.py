"""Export jobs under a real Celery worker on Redis, against the test database, with a real SMTP server on loopback.

- a worker SIGKILLed in the middle of writing the file: the redelivered task (acks_late +
  reject_on_worker_lost) writes it again: one file in storage, one e-mail;
- an SMTP server that refuses the first attempts: the task retries with backoff, the job's e-mail
  says "retrying" meanwhile, and exactly one message arrives.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from chains.services import chain_user_create
from cvd.celery import app
from reporting.models import ExportJob, MailDelivery
from tests.analytics.test_celery_rollups import _env, _wait, _worker
from tests.reporting.smtp import smtp_server

SALES = 25_000  # three fetches of 10,000: the kill lands after the first


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def _seed(schema: str) -> tuple[Client, Decimal]:
    """SALES sales over 150 days (2026-01-01 …) and a manager with a token; returns its client and the sum."""
    with schema_context(schema):
        from fleet.models import Device, Location, Product

        here = Location.objects.create(code="L1", name="Here")
        machine = Device.objects.create(asset="K-1", location=here)
        item = Product.objects.create(sku="K-P", name="Item", price=Decimal("1.00"))
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                        transactions, payment_method, source, ingested_at)
                SELECT 'k' || g, timestamptz '2026-01-01 08:00+00' + (g * interval '517 seconds'), %s, %s, '', 1,
                       (g %% 7) + 0.25, 1, 'card', 'telemetry', now()
                FROM generate_series(1, %s) AS g
                """,
                [machine.pk, item.pk, SALES],
            )
            cursor.execute("SELECT sum(amount) FROM fleet_sale")
            total = cursor.fetchone()[0]
    with schema_context("public"):
        from chains.models import Chain, Domain

        chain = Chain.objects.get(schema_name=schema)
        created = chain_user_create(chain=chain, username="boss", email="boss@example.com", role="manager", with_token=True)
        # A host name may not hold the schema's underscore: the chain's primary domain gets a hyphen.
        chain.domains.update(is_primary=False)
        Domain.objects.create(domain=host(schema), tenant=chain, is_primary=True)
    client = Client(HTTP_HOST=host(schema), HTTP_AUTHORIZATION=f"Token {created.token}")
    return client, total


def host(schema: str) -> str:
    return f"{schema.replace('_', '-')}.localhost"


def _job(schema: str, job_id: int) -> ExportJob:
    with schema_context(schema):
        return ExportJob.objects.get(pk=job_id)


def _delivery(schema: str, key: str) -> MailDelivery | None:
    with schema_context(schema):
        return MailDelivery.objects.filter(key=key).first()


@pytest.fixture
def private_queue() -> Iterator[str]:
    """Tasks sent from this process (the API's job) go to the test worker's own queue."""
    queue = f"export-{uuid.uuid4().hex[:8]}"
    before = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = before


def test_worker_killed_mid_export_leaves_one_file_and_sends_one_email(
    committed: Any, private_queue: str, tmp_path: Path
) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    client, total = _seed(chain.schema_name)
    hold = tmp_path / "hold"
    hold.write_text("park")
    log = tmp_path / "worker.log"
    with smtp_server() as (sink, port):
        env = _env(private_queue, [chain.schema_name], CVD_EXPORT_HOLD_FILE=str(hold),
                   EMAIL_URL=f"smtp://127.0.0.1:{port}", CVD_MAIL_RETRY_BACKOFF="1")
        with _worker(private_queue, env, log) as worker:
            response = client.post(
                "/api/analytics/export/", {"report": "sales", "format": "csv", "start": "2026-01-01", "end": "2026-05-31"},
                content_type="application/json",
            )
            assert response.status_code == 202, response.content
            job_id = response.json()["id"]
            _wait(lambda: Path(f"{hold}.reached").exists(), 60, "the export to park after its first rows", [log])
            running = _job(chain.schema_name, job_id)
            assert running.status == "running" and running.attempts == 1 and 0 < running.progress < 1
            assert client.get(f"/api/reporting/exports/{job_id}/").json()["status"] == "running"
            children = psutil.Process(worker.pid).children(recursive=True)
            assert children, "the prefork worker has a pool process"
            for child in children:
                os.kill(child.pid, signal.SIGKILL)  # the process writing the file
            hold.unlink()  # the redelivered run goes straight through
            _wait(lambda: _job(chain.schema_name, job_id).status == "done", 90, "the redelivered export", [log])
            _wait(lambda: (d := _delivery(chain.schema_name, f"export-job:{job_id}")) is not None and d.status == "sent",
                  60, "the e-mail", [log])
        job = _job(chain.schema_name, job_id)
        assert job.attempts == 2 and job.rows == SALES and job.progress == 1
        folder = f"exports/{chain.schema_name}/{job_id}"
        _, files = default_storage.listdir(folder)
        assert files == [f"{chain.schema_name}-sales-2026-01-01-2026-05-31.csv"]
        with default_storage.open(f"{folder}/{files[0]}", "rb") as stored:
            rows = list(csv.DictReader(io.StringIO(stored.read().decode())))
        assert len(rows) == SALES and len({row["transaction_id"] for row in rows}) == SALES
        assert sum(Decimal(row["amount"]) for row in rows) == total
        assert len(sink.messages) == 1
        (message,) = sink.messages
        assert message["To"] == "boss@example.com"
        assert f"http://{host(chain.schema_name)}:8000/api/reporting/exports/{job_id}/download/" in (
            message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        )
        assert [a.get_filename() for a in message.iter_attachments()] == [files[0]]


def test_smtp_down_for_a_while_retries_with_backoff_and_sends_once(
    committed: Any, private_queue: str, tmp_path: Path
) -> None:
    chain = committed(time_zone="UTC")
    client, _ = _seed(chain.schema_name)
    log = tmp_path / "worker.log"
    with smtp_server(refuse_first=3) as (sink, port):
        env = _env(private_queue, [chain.schema_name], EMAIL_URL=f"smtp://127.0.0.1:{port}", CVD_MAIL_RETRY_BACKOFF="1")
        with _worker(private_queue, env, log):
            response = client.post(
                "/api/analytics/export/", {"report": "asset-sales", "format": "pdf", "start": "2026-01-01", "end": "2026-05-31"},
                content_type="application/json",
            )
            assert response.status_code == 202, response.content
            job_id = response.json()["id"]
            key = f"export-job:{job_id}"
            _wait(lambda: (d := _delivery(chain.schema_name, key)) is not None and d.status == "retrying", 90,
                  "a refused attempt", [log])
            seen = client.get(f"/api/reporting/exports/{job_id}/").json()
            assert seen["status"] == "done" and seen["email"]["status"] == "retrying" and "421" in seen["email"]["error"]
            _wait(lambda: (d := _delivery(chain.schema_name, key)) is not None and d.status == "sent", 90, "the e-mail", [log])
        delivery = _delivery(chain.schema_name, key)
        assert delivery is not None and delivery.attempts == 4
        assert sink.attempts == 4 and len(sink.messages) == 1
        (message,) = sink.messages
        assert [a.get_filename() for a in message.iter_attachments()] == [
            f"{chain.schema_name}-asset-sales-2026-01-01-2026-05-31.pdf"
        ]
