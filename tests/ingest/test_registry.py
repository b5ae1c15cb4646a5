"""The import engine knows no kind of file: fleet and bookings register theirs in AppConfig.ready(), and a job
of any registered kind runs through the same preview, confirmation and report."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ingest import jobs
from ingest.import_report import ImportReport
from ingest.jobs import (
    import_job_create,
    import_job_preview_create,
    import_job_preview_run,
    import_job_run,
    importer_register,
)
from ingest.staging import ImportSpec
from tests.conftest import ChainFixture


def test_fleet_and_bookings_registered_their_kinds_in_app_order() -> None:
    registered = [(kind.kind, kind.label, kind.section) for kind in jobs.import_kinds()]
    assert registered == [("sales", "Sales", "vending"), ("bookings", "Bookings", "venue"), ("funnel", "Funnel events", "venue")]
    for kind in jobs.import_kinds():
        spec = kind.spec()
        assert spec.kind == kind.kind  # the job kind is also the kind raw_data_changed names
        # The admin page explains every column, and its example row has one value per column.
        assert set(kind.meanings) == set(spec.columns), kind.kind
        assert len(next(csv.reader([kind.example]))) == len(spec.columns), kind.kind


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        jobs.importer_for("nope")
    with pytest.raises(ValueError, match=r"longer than ImportJob\.kind allows"):
        importer_register("k" * 11, lambda **_: ImportReport(file=""), lambda: ImportSpec(kind="k", columns=(), required_columns=frozenset(), key=""))


@pytest.fixture
def counting_kind(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A kind registered for this test only: it counts the data rows of a CSV and records each call."""
    calls: list[dict[str, Any]] = []

    def importer(*, data: bytes, file_name: str, progress: Any = None, dry_run: bool = False) -> ImportReport:
        calls.append({"file_name": file_name, "dry_run": dry_run})
        rows = list(csv.reader(io.StringIO(data.decode())))[1:]
        report = ImportReport(file=file_name, rows=len(rows), created=len(rows), dry_run=dry_run)
        for number, row in enumerate(rows, start=1):
            if not row[0]:
                report.add_error(row=number, column="id", message="empty id")
        return report

    monkeypatch.setattr(jobs, "_KINDS", dict(jobs._KINDS))
    importer_register("counted", importer, lambda: ImportSpec(kind="counted", columns=("id",), required_columns=frozenset({"id"}), key="id"))
    return calls


def test_a_job_of_any_registered_kind_runs_previewed_then_imported(in_chain_a: ChainFixture, counting_kind: list[dict[str, Any]]) -> None:
    upload = SimpleUploadedFile("three.csv", b"id\na\nb\nc\n")  # 3 data rows
    job = import_job_preview_create(kind="counted", upload=upload, requested_by="me")
    previewed = import_job_preview_run(job_id=job.pk)
    assert previewed is not None and previewed.status == "previewed"
    assert (previewed.preview["status"], previewed.preview["rows"], previewed.preview["created"]) == ("ready", 3, 3)

    assert jobs.import_job_confirm(job_id=job.pk, username="me", run_now=True)
    job.refresh_from_db()
    assert (job.status, job.report["rows"], job.report["created"]) == ("imported", 3, 3)
    assert counting_kind == [{"file_name": "three.csv", "dry_run": True}, {"file_name": "three.csv", "dry_run": False}]


def test_a_rejected_file_of_a_registered_kind_keeps_its_errors(in_chain_a: ChainFixture, counting_kind: list[dict[str, Any]]) -> None:
    job = import_job_create(kind="counted", upload=SimpleUploadedFile("bad.csv", b'id\na\n""\nc\n'))  # row 2: an empty id
    done = import_job_run(job_id=job.pk)
    assert done is not None and done.status == "rejected"
    assert done.report["errors"] == [{"row": 2, "column": "id", "message": "empty id"}]
    assert not done.upload  # the stored copy is gone once the report is kept
