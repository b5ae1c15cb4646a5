"""Export jobs in-process: a long range is a job (202), the requester alone sees it, the file and exactly one
e-mail through a real SMTP server (content, absolute link, attachment or why not), SMTP away then back, expiry."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import schema_context

from reporting import services
from reporting.mail import MailNotSent
from reporting.models import ExportJob, MailDelivery
from tests.conftest import ChainFixture
from tests.reporting import data
from tests.reporting.smtp import smtp_server, use_smtp
from tests.reporting.support import EXPORT_URL, csv_rows, export

LONG = {"start": "2026-01-01", "end": "2026-04-30"}  # 120 days: past the 92 a request answers


@pytest.fixture
def seeded(in_chain_a: ChainFixture) -> ChainFixture:
    data.seed()
    return in_chain_a


def _job(chain: ChainFixture, report: str = "sales", fmt: str = "csv", params: dict[str, Any] | None = None,
         role: str = "manager") -> ExportJob:
    response = chain.client(role).post(
        EXPORT_URL, {"report": report, "format": fmt, **(params or LONG)}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"id", "status", "progress", "url"}
    assert (body["status"], body["progress"], body["url"]) == ("queued", 0, f"/api/reporting/exports/{body['id']}/")
    return ExportJob.objects.get(pk=body["id"])


def test_a_long_range_is_a_job_with_a_file_and_one_email(seeded: ChainFixture, settings: Any) -> None:
    job = _job(seeded)
    assert (job.report, job.format, job.params) == ("sales", "csv", {"start": "2026-01-01", "end": "2026-04-30"})
    client = seeded.client("manager")
    assert client.get(f"/api/reporting/exports/{job.pk}/").json()["status"] == "queued"
    assert client.get(f"/api/reporting/exports/{job.pk}/download/").status_code == 404  # no file yet

    services.export_job_run(job_id=job.pk)
    detail = client.get(f"/api/reporting/exports/{job.pk}/").json()
    # Ten sales in the 120 days (the two 99.00 ones included), in the import format.
    assert (detail["status"], detail["progress"], detail["rows"], detail["error"]) == ("done", 1.0, 10, "")
    assert detail["download_url"] == f"/api/reporting/exports/{job.pk}/download/"
    assert detail["email"] is None  # not sent yet
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="test_a-sales-2026-01-01-2026-04-30.csv"'
    file_bytes = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert len(csv_rows(file_bytes)[1]) == 10
    assert [j["id"] for j in client.get("/api/reporting/exports/").json()] == [job.pk]

    with smtp_server() as (sink, port):
        use_smtp(settings, port)
        services.export_job_notify(job_id=job.pk)
        services.export_job_notify(job_id=job.pk)  # a redelivered task: nothing new
        services.export_job_run(job_id=job.pk)  # a redelivered run of a finished job: nothing new either
        services.export_job_notify(job_id=job.pk)
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["To"] == "manager@chain-a.localhost"
    assert message["Subject"] == "Your export is ready: Sales (raw rows), 2026-01-01 to 2026-04-30"
    link = f"http://chain-a.localhost:8000/api/reporting/exports/{job.pk}/download/"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert link in text and f'href="{link}"' in html
    assert "10 rows" in text and "is attached" in text
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["test_a-sales-2026-01-01-2026-04-30.csv"]
    assert attachments[0].get_content_type() == "text/csv"
    content = attachments[0].get_content()
    assert (content.encode() if isinstance(content, str) else content) == file_bytes
    delivery = MailDelivery.objects.get(key=f"export-job:{job.pk}")
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert client.get(f"/api/reporting/exports/{job.pk}/").json()["email"]["status"] == "sent"


def test_a_file_of_10_mb_or_more_is_linked_not_attached(seeded: ChainFixture, settings: Any) -> None:
    job = _job(seeded, "asset-sales", "xlsx")
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    settings.CVD_EXPORT_ATTACH_MAX_BYTES = job.size  # the limit is "under": a file of exactly the limit is too big
    with smtp_server() as (sink, port):
        use_smtp(settings, port)
        services.export_job_notify(job_id=job.pk)
    (message,) = sink.messages
    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "is not attached because it is" in text and "download it from the link above" in text
    assert f"/api/reporting/exports/{job.pk}/download/" in text


def test_smtp_refusing_then_accepting_sends_one_email_and_the_job_says_so(seeded: ChainFixture, settings: Any) -> None:
    job = _job(seeded)
    services.export_job_run(job_id=job.pk)
    client = seeded.client("manager")
    with smtp_server(refuse_first=2) as (sink, port):
        use_smtp(settings, port)
        for attempt in (1, 2):
            with pytest.raises(MailNotSent):
                services.export_job_notify(job_id=job.pk)
            email = client.get(f"/api/reporting/exports/{job.pk}/").json()["email"]
            assert (email["status"], email["attempts"]) == ("retrying", attempt)
            assert "421" in email["error"]
        services.export_job_notify(job_id=job.pk)
        services.export_job_notify(job_id=job.pk)
    assert sink.attempts == 3 and len(sink.messages) == 1
    email = client.get(f"/api/reporting/exports/{job.pk}/").json()["email"]
    assert (email["status"], email["attempts"], email["error"]) == ("sent", 3, "")


def test_smtp_away_altogether_is_retried_then_failed(seeded: ChainFixture, settings: Any) -> None:
    from tests.reporting.smtp import free_port

    job = _job(seeded)
    services.export_job_run(job_id=job.pk)
    use_smtp(settings, free_port())  # nothing listens there
    with pytest.raises(MailNotSent):
        services.export_job_notify(job_id=job.pk)
    with pytest.raises(MailNotSent):
        services.export_job_notify(job_id=job.pk, final_attempt=True)
    delivery = MailDelivery.objects.get(key=job.mail_key)
    assert (delivery.status, delivery.attempts) == ("failed", 2) and "Connection refused" in delivery.last_error


def test_jobs_are_the_requesters_alone(seeded: ChainFixture, chain_b: ChainFixture) -> None:
    job = _job(seeded)
    services.export_job_run(job_id=job.pk)
    own = seeded.client("manager")
    other = seeded.client("admin")  # same chain, more rights, not the requester
    for path in (f"/api/reporting/exports/{job.pk}/", f"/api/reporting/exports/{job.pk}/download/"):
        assert own.get(path).status_code == 200
        assert other.get(path).status_code == 404
        assert seeded.client("viewer").get(path).status_code == 403
    assert other.get("/api/reporting/exports/").json() == []
    # Another chain: the same id on chain B's domain is another table; chain B's manager sees nothing.
    for path in (f"/api/reporting/exports/{job.pk}/", f"/api/reporting/exports/{job.pk}/download/"):
        assert chain_b.client("manager").get(path).status_code == 404
    # Chain A's token on chain B's domain is no account at all.
    foreign = chain_b.client()
    foreign.defaults["HTTP_AUTHORIZATION"] = f"Token {seeded.token('manager')}"
    assert foreign.get(f"/api/reporting/exports/{job.pk}/").status_code == 401


def test_viewer_cannot_start_a_job(seeded: ChainFixture) -> None:
    status, _, _ = export(seeded.client("viewer"), "sales", "csv", LONG)
    assert status == 403
    assert not ExportJob.objects.exists()


def test_a_job_with_a_parameter_gone_bad_fails_and_says_why(seeded: ChainFixture, settings: Any) -> None:
    job = _job(seeded, "revenue", "csv", {**LONG, "group_by": "region"})
    ExportJob.objects.filter(pk=job.pk).update(params={**job.params, "group_by": "planet"})
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "group_by" in job.error
    with smtp_server() as (sink, port):
        use_smtp(settings, port)
        services.export_job_notify(job_id=job.pk)
    (message,) = sink.messages
    assert message["Subject"].startswith("Your export failed")


def test_expired_after_seven_days_file_deleted(seeded: ChainFixture) -> None:
    job = _job(seeded, "product-sales", "pdf")
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.expires_at is not None and job.finished_at is not None
    assert job.expires_at - job.finished_at == timedelta(days=7)
    name = job.file.name
    assert default_storage.exists(name)
    assert services.exports_expire(now=job.expires_at - timedelta(seconds=1)) == 0
    assert services.exports_expire(now=job.expires_at + timedelta(seconds=1)) == 1
    job.refresh_from_db()
    assert job.status == "expired" and not job.file and not default_storage.exists(name)
    assert seeded.client("manager").get(f"/api/reporting/exports/{job.pk}/download/").status_code == 404


def test_admin_lists_jobs(seeded: ChainFixture) -> None:
    job = _job(seeded)
    from django.test import Client

    admin = Client(HTTP_HOST=seeded.domain)
    with schema_context(seeded.schema):
        from django.contrib.auth import get_user_model

        admin.force_login(get_user_model().objects.get(username="test_a-admin"))
    response = admin.get("/admin/reporting/exportjob/")
    assert response.status_code == 200
    assert f">{job.pk}<" in response.content.decode()


def test_the_daily_expiry_is_scheduled() -> None:
    from cvd.celery import app

    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["reporting-exports-expire"]["task"] == "reporting.exports_expire_fanout"
    assert "analytics-rollup-hourly" in schedule


def test_a_job_csv_equals_the_sync_csv_for_the_same_rows(seeded: ChainFixture) -> None:
    job = _job(seeded, "sales", "csv", {"start": "2026-03-27", "end": "2026-06-30"})
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    with job.file.open("rb") as source:
        from_job = list(csv.reader(io.StringIO(source.read().decode())))
    _, body, _ = export(seeded.client("manager"), "sales", "csv", {"start": "2026-03-27", "end": "2026-06-26"})  # 92 days: answered in the request
    assert from_job == list(csv.reader(io.StringIO(body.decode())))
    assert timezone.now() < job.expires_at  # type: ignore[operator]


def test_development_mail_lands_in_var_mail() -> None:
    """Without EMAIL_URL (make run) the messages are files under var/mail/, the mailbox the README names."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "EMAIL_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "cvd.settings.base"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.EMAIL_BACKEND); print(settings.EMAIL_FILE_PATH)"],
        env=env, cwd=root, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out == ["django.core.mail.backends.filebased.EmailBackend", str(root / "var" / "mail")]
