"""Venue imports (bookings, funnel events): exact rows, idempotence, references, all or nothing, the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from analytics.models import DirtyRange
from bookings.models import Booking, FunnelEvent, Resource
from bookings.services import booking_import, funnel_event_import
from fleet.models import Customer, Location
from tests.conftest import ChainFixture

BOOKINGS = "booking_id,resource,starts_at,ends_at,status,amount,customer,created_at"
FUNNEL = "event_id,session_id,step,occurred_at,customer,booking_id"


def csv(header: str, *rows: str) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


@pytest.fixture
def court(in_chain_a: ChainFixture) -> Resource:
    location = Location.objects.create(code="V1", name="Venue")
    return Resource.objects.create(code="C1", name="Court 1", location=location, resource_type="court")


def stored() -> tuple[int, int, int, int]:
    return Booking.objects.count(), FunnelEvent.objects.count(), Customer.objects.count(), DirtyRange.objects.count()


def test_bookings_import_exactly_and_idempotently(court: Resource) -> None:
    data = csv(
        BOOKINGS,
        "b1,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:30:00+01:00,paid,250.00,cust-1,2026-02-20T08:00:00+01:00",
        "b2,C1,2026-03-02T10:00:00+01:00,2026-03-02T11:00:00+01:00,NO_SHOW,,cust-1,",
    )
    report = booking_import(data=data, file_name="b.csv")
    assert (report.rows, report.created, report.duplicates, report.errors) == (2, 2, 0, [])
    b1 = Booking.objects.get(external_id="b1")
    assert (b1.resource, b1.starts_at, b1.ends_at, b1.status, b1.amount) == (
        court, datetime(2026, 3, 1, 9, 0, tzinfo=UTC), datetime(2026, 3, 1, 10, 30, tzinfo=UTC), "paid", Decimal("250.00"),
    )
    assert b1.booked_at == datetime(2026, 2, 20, 7, 0, tzinfo=UTC)
    assert Booking.objects.get(external_id="b2").status == "no_show"
    assert Customer.objects.get(external_ref="cust-1").first_seen == datetime(2026, 2, 20, 7, 0, tzinfo=UTC)
    dirty = DirtyRange.objects.get(kind="bookings")
    assert (dirty.starts_at, dirty.ends_at) == (datetime(2026, 3, 1, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 10, 0, 0, 1, tzinfo=UTC))
    again = booking_import(data=data, file_name="b.csv")
    assert (again.created, again.duplicates) == (0, 2)


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("b9,NOPE,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,paid,,,", "resource"),
        ("b9,C1,2026-03-01T10:00:00+01:00,2026-03-01T09:00:00+01:00,paid,,,", "ends_at"),
        ("b9,C1,2026-03-01T10:00:00,2026-03-01T11:00:00+01:00,paid,,,", "starts_at"),
        ("b9,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,maybe,,,", "status"),
        ("b9,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,paid,-5,,", "amount"),
        ("b9,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,paid,1000000000000000,,", "amount"),
        ("b1,C1,2026-03-01T10:00:00+01:00,2026-03-01T12:00:00+01:00,paid,,,", "booking_id"),  # b1 repeated, other content
    ],
)
def test_a_bad_booking_row_rejects_the_file(court: Resource, row: str, column: str) -> None:
    before = stored()
    good = "b1,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,paid,10,new-customer,"
    report = booking_import(data=csv(BOOKINGS, good, row), file_name="bad.csv")
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, column)]
    assert stored() == before


def test_funnel_events_reference_bookings(court: Resource) -> None:
    booking_import(data=csv(BOOKINGS, "b1,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,paid,,,"), file_name="b.csv")
    data = csv(
        FUNNEL,
        "e1,s1,visit,2026-02-28T09:00:00+01:00,,",
        "e2,s1,wizard_start,2026-02-28T09:01:00+01:00,,",
        "e3,s1,paid,2026-02-28T09:05:00+01:00,cust-9,b1",
    )
    report = funnel_event_import(data=data, file_name="f.csv")
    assert report.created == 3, report.errors
    paid = FunnelEvent.objects.get(external_id="e3")
    assert (paid.session_id, paid.step, paid.booking.external_id, paid.customer.external_ref) == ("s1", "paid", "b1", "cust-9")
    assert funnel_event_import(data=data, file_name="f.csv").duplicates == 3
    before = stored()
    bad = funnel_event_import(data=csv(FUNNEL, "e4,s2,visit,2026-02-28T09:00:00+01:00,,", "e5,s2,paid,2026-02-28T09:05:00+01:00,,b404", "e6,s2,checkout,2026-02-28T09:06:00+01:00,,"), file_name="g.csv")
    assert [(e["row"], e["column"]) for e in bad.errors] == [(2, "booking_id"), (3, "step")]
    assert stored() == before


def test_commands_and_api(court: Resource, chain_a: ChainFixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(csv(BOOKINGS, "b1,C1,2026-03-01T10:00:00+01:00,2026-03-01T11:00:00+01:00,paid,,,"))
    call_command("import_bookings", "test_a", str(path))
    assert json.loads(capsys.readouterr().out)["created"] == 1
    bad = tmp_path / "f.csv"
    bad.write_bytes(csv(FUNNEL, "e1,s1,visit,yesterday,,"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_funnel_events", "test_a", str(bad))
    assert exit_info.value.code == 1
    assert json.loads(capsys.readouterr().out)["errors"][0]["column"] == "occurred_at"
    client = chain_a.client("admin")
    response = client.post(
        "/api/bookings/funnel-events/",
        data=json.dumps({"event_id": "api-e1", "session_id": "s9", "step": "visit", "occurred_at": "2026-03-01T10:00:00Z"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    response = client.post(
        "/api/bookings/bookings/",
        data=json.dumps([{"booking_id": "b2", "resource": "C1", "starts_at": "2026-03-01T10:00:00Z", "ends_at": "2026-03-01T09:00:00Z", "status": "paid"}]),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["column"] == "ends_at"
    with schema_context(chain_a.schema):
        assert FunnelEvent.objects.filter(external_id="api-e1").exists()
