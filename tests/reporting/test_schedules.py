"""Scheduled reports on hand-made data, with a real SMTP server on loopback: DST days in two zones, recurrences,
catch-up after downtime, pause, unsubscribe, the ledger API and the chain walls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from reporting.subscriptions import services
from reporting.subscriptions.models import Delivery, Subscription
from reporting.subscriptions.recurrence import Recurrence, local_instant, occurrences, report_range
from tests.reporting.smtp import SmtpSink, smtp_server, use_smtp

NY, STOCKHOLM = ZoneInfo("America/New_York"), ZoneInfo("Europe/Stockholm")
URL = "/api/reporting/subscriptions/"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    with smtp_server() as (sink, port):
        use_smtp(settings, port)
        yield sink


def make(*, now: datetime, recurrence: dict[str, Any], recipients: tuple[str, ...] = ("board@example.com",),
         report: str = "dashboard", fmt: str = "csv", range_: str = "previous_day", **extra: Any) -> Subscription:
    subscription = Subscription(name="Daily figures", report=report, format=fmt, range=range_, recurrence=recurrence,
                                recipients=list(recipients), **extra)
    return services.subscription_save(subscription=subscription, now=now)


def beat(start: datetime, end: datetime, every: timedelta = timedelta(minutes=5)) -> list[tuple[datetime, int]]:
    """Run the scheduler as beat would, every 5 minutes from `start` to `end`; returns (at, sent) of the runs that sent."""
    sent = []
    at = start
    while at <= end:
        report = services.schedules_run(at=at)
        if report.sent:
            sent.append((at, report.sent))
        at += every
    return sent


# --- Recurrence rules (pure) -----------------------------------------------------------------------------


def test_gap_time_runs_at_the_first_instant_after_it_and_ambiguous_time_once_at_the_first() -> None:
    # 2027-03-14 02:00 → 03:00 in New York: 02:30 does not exist, the first instant after the gap is 03:00 EDT.
    assert local_instant(date(2027, 3, 14), datetime.strptime("02:30", "%H:%M").time(), NY) == utc("2027-03-14T07:00")
    # 2027-11-07 01:30 happens twice (EDT, then EST): once, at the first (05:30 UTC).
    rule = Recurrence.from_json({"freq": "daily", "at": "01:30"})
    got = list(occurrences(rule, NY, after=utc("2027-11-06T12:00"), until=utc("2027-11-08T12:00")))
    assert got == [utc("2027-11-07T05:30"), utc("2027-11-08T06:30")]
    # Stockholm: 2027-03-28 02:00 → 03:00.
    rule = Recurrence.from_json({"freq": "daily", "at": "02:15"})
    got = list(occurrences(rule, STOCKHOLM, after=utc("2027-03-27T00:00"), until=utc("2027-03-29T12:00")))
    assert got == [utc("2027-03-27T01:15"), utc("2027-03-28T01:00"), utc("2027-03-29T00:15")]


def test_weekly_and_monthly_recurrences() -> None:
    weekly = Recurrence.from_json({"freq": "weekly", "at": "09:00", "weekday": 1})
    got = list(occurrences(weekly, STOCKHOLM, after=utc("2027-03-17T00:00"), until=utc("2027-04-06T00:00")))
    # Mondays 22 March (CET, UTC+1), 29 March and 5 April (CEST, UTC+2).
    assert got == [utc("2027-03-22T08:00"), utc("2027-03-29T07:00"), utc("2027-04-05T07:00")]
    for day in (31, -1):
        monthly = Recurrence.from_json({"freq": "monthly", "at": "07:00", "day": day})
        got = list(occurrences(monthly, NY, after=utc("2027-12-01T00:00"), until=utc("2028-04-02T00:00")))
        assert [g.astimezone(NY).date() for g in got] == [
            date(2027, 12, 31), date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)
        ]
    fifteenth = Recurrence.from_json({"freq": "monthly", "at": "07:00", "day": 15})
    got = list(occurrences(fifteenth, NY, after=utc("2027-01-01T00:00"), until=utc("2027-03-31T00:00")))
    assert got == [utc("2027-01-15T12:00"), utc("2027-02-15T12:00"), utc("2027-03-15T11:00")]


def test_relative_ranges() -> None:
    wednesday = date(2027, 3, 3)
    assert report_range("previous_day", wednesday) == (date(2027, 3, 2), date(2027, 3, 2))
    assert report_range("previous_week", wednesday) == (date(2027, 2, 22), date(2027, 2, 28))
    assert report_range("previous_month", wednesday) == (date(2027, 2, 1), date(2027, 2, 28))
    assert report_range("last_7_days", wednesday) == (date(2027, 2, 24), date(2027, 3, 2))
    assert report_range("last_30_days", wednesday) == (date(2027, 2, 1), date(2027, 3, 2))  # 28 + 2 days
    assert report_range("month_to_date", wednesday) == (date(2027, 3, 1), date(2027, 3, 2))
    assert report_range("month_to_date", date(2027, 3, 1)) == (date(2027, 2, 1), date(2027, 2, 28))


# --- The scheduler, with e-mail ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "zone", "days"), [
    ("chain_b", NY, (date(2027, 3, 14), date(2027, 11, 7))),
    ("chain_a", STOCKHOLM, (date(2027, 3, 28), date(2027, 10, 31))),
])
def test_daily_0800_arrives_at_0800_local_on_both_dst_days(
    request: pytest.FixtureRequest, smtp: SmtpSink, fixture: str, zone: ZoneInfo, days: tuple[date, date]
) -> None:
    chain = request.getfixturevalue(fixture)
    with schema_context(chain.schema):
        for day in days:
            smtp.messages.clear()
            start = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
            make(now=start - timedelta(minutes=1), recurrence={"freq": "daily", "at": "08:00"})
            end = datetime.combine(day + timedelta(days=2), datetime.min.time(), tzinfo=zone).astimezone(UTC)
            runs = beat(start, end, every=timedelta(minutes=15))  # a beat every 15 minutes over three local days
            # The day before, the DST day, the day after: each sent by the run at 08:00 local, no other.
            assert [(at.astimezone(zone).date(), at.astimezone(zone).strftime("%H:%M")) for at, _ in runs] == [
                (day - timedelta(days=1), "08:00"), (day, "08:00"), (day + timedelta(days=1), "08:00")
            ]
            occurrences_sent = [d.occurrence.astimezone(zone) for d in Delivery.objects.order_by("occurrence")]
            assert [(o.date(), o.strftime("%H:%M")) for o in occurrences_sent] == [
                (day - timedelta(days=1), "08:00"), (day, "08:00"), (day + timedelta(days=1), "08:00")
            ]
            # The spring day has 23 hours, the autumn day 25: the instants between the sends say so.
            instants = [o.astimezone(UTC) for o in occurrences_sent]  # (aware values in one zone subtract as wall time)
            gaps = [b - a for a, b in pairwise(instants)]
            assert gaps == [timedelta(hours=23 if day.month == 3 else 25), timedelta(hours=24)]
            assert len(smtp.messages) == 3
            Delivery.objects.all().delete()
            Subscription.objects.all().delete()


def test_email_subject_sender_attachment_and_unsubscribe_link(in_chain_a: Any, smtp: SmtpSink) -> None:
    chain = in_chain_a.chain
    chain.name = 'Acme "North"\r\nBcc: victim@example.com'
    chain.save(update_fields=["name"])
    subscription = make(now=utc("2027-01-04T00:00"), recurrence={"freq": "daily", "at": "08:00"},
                        recipients=("a@example.com", "b@example.com"))
    report = services.schedules_run(at=utc("2027-01-04T07:00"))  # 08:00 CET
    assert report.sent == 1
    assert sorted(m["To"] for m in smtp.messages) == ["a@example.com", "b@example.com"]  # one message each
    message = next(m for m in smtp.messages if m["To"] == "a@example.com")
    assert "\n" not in message["Subject"] and "Bcc" not in message
    assert message["Subject"] == 'Acme "North" Bcc: victim@example.com: Executive dashboard, previous day (2027-01-03)'
    assert message["From"].addresses[0].display_name == 'Acme "North" Bcc: victim@example.com'
    assert message["From"].addresses[0].addr_spec == "reports@cvd.localhost"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "test_a-dashboard-2027-01-03-2027-01-03.csv"
    assert attachment.get_content().startswith("date,revenue,units,transactions")
    link = message["List-Unsubscribe"].strip().strip("<>")
    assert link in message.get_body(("plain",)).get_content()
    other = next(m for m in smtp.messages if m["To"] == "b@example.com")
    assert link not in other.get_body(("plain",)).get_content()  # each recipient gets only their own link
    assert services.unsubscribe_read(link.rstrip("/").rsplit("/", 1)[1]) == (subscription.pk, "a@example.com")


def test_large_file_is_linked_not_attached(in_chain_a: Any, smtp: SmtpSink, settings: Any) -> None:
    settings.CVD_SCHEDULE_ATTACH_MAX_BYTES = 10
    subscription = make(now=utc("2027-01-04T00:00"), recurrence={"freq": "daily", "at": "08:00"})
    services.schedules_run(at=utc("2027-01-04T07:00"))
    (message,) = smtp.messages
    assert list(message.iter_attachments()) == []
    delivery = Delivery.objects.get()
    url = f"/api/reporting/subscriptions/{subscription.pk}/deliveries/{delivery.pk}/download/"
    assert url in message.get_body(("plain",)).get_content()
    response = in_chain_a.client("manager").get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"date,revenue")
    assert in_chain_a.client("viewer").get(url).status_code == 403


def test_catch_up_after_three_days_down_sends_the_latest_and_records_the_rest_missed(in_chain_a: Any, smtp: SmtpSink) -> None:
    subscription = make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"})
    assert subscription.next_run_at == utc("2027-01-10T07:00")
    report = services.schedules_run(at=utc("2027-01-13T09:30"))  # down from the 10th until 10:30 local on the 13th
    assert (report.sent, report.missed) == (1, 3)
    assert len(smtp.messages) == 1
    assert "(2027-01-12)" in smtp.messages[0]["Subject"]  # the 13th's report: the day before
    body = in_chain_a.client("manager").get(f"{URL}{subscription.pk}/deliveries/").json()
    assert [(row["occurrence"], row["status"]) for row in body] == [
        ("2027-01-13T07:00:00+00:00", "sent"), ("2027-01-12T07:00:00+00:00", "missed"),
        ("2027-01-11T07:00:00+00:00", "missed"), ("2027-01-10T07:00:00+00:00", "missed"),
    ]
    assert body[0]["recipients"] == ["board@example.com"] and body[0]["rows"] == 1 and body[0]["sent_at"]
    subscription.refresh_from_db()
    assert subscription.next_run_at == utc("2027-01-14T07:00")
    # Run again at the same instant, and later the same day: nothing new.
    assert services.schedules_run(at=utc("2027-01-13T09:30")).sent == 0
    assert services.schedules_run(at=utc("2027-01-13T20:00")).sent == 0
    assert len(smtp.messages) == 1


def test_an_occurrence_24_hours_late_is_missed_not_sent(in_chain_a: Any, smtp: SmtpSink) -> None:
    make(now=utc("2027-01-09T12:00"), recurrence={"freq": "weekly", "at": "08:00", "weekday": 7})  # Sun 10th
    report = services.schedules_run(at=utc("2027-01-11T07:00"))  # exactly 24 h late
    assert (report.sent, report.missed) == (0, 1) and smtp.messages == []
    assert Delivery.objects.get().status == "missed"


def test_pause_stops_it_and_resume_starts_from_now(in_chain_a: Any, smtp: SmtpSink) -> None:
    client = in_chain_a.client("manager")
    subscription = make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"})
    assert client.post(f"{URL}{subscription.pk}/pause/").json()["active"] is False
    assert services.schedules_run(at=utc("2027-01-12T07:00")).due == 0
    assert smtp.messages == [] and not Delivery.objects.exists()
    subscription.refresh_from_db()
    services.subscription_resume(subscription=subscription, now=utc("2027-01-12T07:30"))
    assert subscription.next_run_at == utc("2027-01-13T07:00")
    assert services.schedules_run(at=utc("2027-01-12T23:00")).sent == 0
    assert services.schedules_run(at=utc("2027-01-13T07:00")).sent == 1


def test_unsubscribe_without_signing_in_stops_that_address_only(in_chain_a: Any, smtp: SmtpSink) -> None:
    subscription = make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"},
                        recipients=("a@example.com", "b@example.com"))
    services.schedules_run(at=utc("2027-01-10T07:00"))
    link = next(m for m in smtp.messages if m["To"] == "a@example.com")["List-Unsubscribe"].strip().strip("<>")
    path = "/" + link.split("/", 3)[3]
    anonymous = Client(HTTP_HOST=in_chain_a.domain, enforce_csrf_checks=True)
    page = anonymous.get(path)
    assert page.status_code == 200 and b"data-unsubscribe" in page.content
    subscription.refresh_from_db()
    assert subscription.recipients == ["a@example.com", "b@example.com"]  # a GET (a mail scanner) changes nothing
    assert anonymous.post(path).status_code == 200
    subscription.refresh_from_db()
    assert subscription.recipients == ["b@example.com"] and subscription.active
    # A tampered token, or one for another address, does nothing.
    assert anonymous.post(path[:-3] + "xx/").status_code == 404
    smtp.messages.clear()
    services.schedules_run(at=utc("2027-01-11T07:00"))
    assert [m["To"] for m in smtp.messages] == ["b@example.com"]
    # The last address unsubscribing pauses it.
    link_b = smtp.messages[0]["List-Unsubscribe"].strip().strip("<>")
    assert anonymous.post("/" + link_b.split("/", 3)[3]).status_code == 200
    subscription.refresh_from_db()
    assert subscription.recipients == [] and not subscription.active


def test_api_validates_fields_and_needs_export(in_chain_a: Any) -> None:
    from tests.analytics import api_factories as f

    north = f.location("N", name="North", region="R1", city="Uppsala")
    client = in_chain_a.client("manager")
    good = {"name": "Weekly", "report": "asset-sales", "format": "xlsx", "params": {"location": [north.pk]},
            "range": "previous_week", "recurrence": {"freq": "weekly", "at": "07:30", "weekday": 1},
            "recipients": ["a@example.com", "A@example.com"]}
    assert in_chain_a.client("viewer").post(URL, good, content_type="application/json").status_code == 403
    assert Client(HTTP_HOST=in_chain_a.domain).get(URL).status_code == 401
    response = client.post(URL, good, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recipients"] == ["a@example.com"] and body["active"] is True
    assert datetime.fromisoformat(body["next_run_at"]).astimezone(STOCKHOLM).strftime("%u %H:%M") == "1 07:30"
    bad_cases = [
        ({"recipients": [f"u{i}@example.com" for i in range(51)]}, "recipients"),
        ({"recipients": ["not-an-address"]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"range": "yesterday"}, "range"),
        ({"recurrence": {"freq": "weekly", "at": "07:30"}}, "recurrence"),
        ({"recurrence": {"freq": "daily", "at": "24:00"}}, "recurrence"),
        ({"recurrence": {"freq": "monthly", "at": "07:00", "day": 32}}, "recurrence"),
        ({"report": "board-pack", "format": "csv"}, "format"),
        ({"report": "nope"}, "report"),
        ({"params": {"start": "2026-01-01"}}, "params"),
        ({"params": {"location": ["NOPE"]}}, "params"),
        ({"params": {"group_by": "galaxy"}, "report": "revenue"}, "params"),
    ]
    for change, field in bad_cases:
        response = client.post(URL, {**good, **change}, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), (change, response.content)
    pk = body["id"]
    patched = client.patch(f"{URL}{pk}/", {"recurrence": {"freq": "monthly", "at": "06:00", "day": -1}},
                           content_type="application/json")
    assert patched.status_code == 200, patched.content
    assert datetime.fromisoformat(patched.json()["next_run_at"]).astimezone(STOCKHOLM).strftime("%H:%M") == "06:00"
    assert [row["id"] for row in client.get(URL).json()] == [pk]
    assert client.delete(f"{URL}{pk}/").status_code == 204
    assert client.get(f"{URL}{pk}/").status_code == 404


def test_a_subscription_of_chain_a_never_runs_in_chain_b(chain_a: Any, chain_b: Any, smtp: SmtpSink) -> None:
    with schema_context(chain_a.schema):
        subscription = make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"})
        token = services.unsubscribe_token(subscription_id=subscription.pk, address="board@example.com")
    with schema_context(chain_b.schema):
        assert not Subscription.objects.exists()
        report = services.schedules_run(at=utc("2027-01-12T12:00"))
        assert report.due == 0 and smtp.messages == []
    client_b = chain_b.client("manager")
    assert client_b.get(f"{URL}{subscription.pk}/").status_code == 404
    assert client_b.post(f"{URL}{subscription.pk}/send/").status_code == 404
    assert client_b.get(f"{URL}{subscription.pk}/deliveries/").status_code == 404
    # Chain A's unsubscribe token means nothing on chain B's domain (the signature is salted with the schema).
    assert Client(HTTP_HOST=chain_b.domain).post(f"/unsubscribe/{token}/").status_code == 404
    with schema_context(chain_a.schema):
        assert services.schedules_run(at=utc("2027-01-10T07:00")).sent == 1
    assert len(smtp.messages) == 1


def test_two_runs_claim_an_occurrence_once(in_chain_a: Any, smtp: SmtpSink) -> None:
    make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"})
    first = services.schedules_claim(at=utc("2027-01-10T07:00"))
    second = services.schedules_claim(at=utc("2027-01-10T07:00"))
    assert len(first.claimed) == 1 and second.claimed == [] and second.due == 0
    # The unique (subscription, occurrence) holds even against a direct second insert.
    from django.db import IntegrityError, transaction

    delivery = Delivery.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(subscription=delivery.subscription, occurrence=delivery.occurrence)


def test_demo_subscriptions_send_the_board_pack_and_the_daily_report(in_chain_a: Any, smtp: SmtpSink) -> None:
    from reporting.subscriptions.demo import demo_subscriptions_ensure
    from tests.reporting import data
    from tests.reporting.support import pdf_text, xlsx_sheets

    data.seed()
    made = demo_subscriptions_ensure(in_chain_a.schema)
    assert [s.pk for s in demo_subscriptions_ensure(in_chain_a.schema)] == [s.pk for s in made]  # idempotent
    for subscription in made:  # as if made on 31 March 2026
        next_run = services.subscription_next_run(subscription, after=utc("2026-03-31T12:00"))
        Subscription.objects.filter(pk=subscription.pk).update(next_run_at=next_run)
    report = services.schedules_run(at=utc("2026-04-01T06:05"))  # 08:05 CEST: the pack at 07:00, the daily at 08:00
    assert report.sent == 2
    by_subject = {m["Subject"]: m for m in smtp.messages}
    pack = by_subject["Test A: Board pack, previous month (2026-03)"]
    assert pack["To"] == "manager@chain-a.localhost"
    (attachment,) = list(pack.iter_attachments())
    assert attachment.get_filename() == "test_a-board-pack-2026-03-01-2026-03-31.pdf"
    text = pdf_text(attachment.get_content())
    assert "Revenue 268.01 0.00" in text or "Revenue 318.01 0.00" in text  # sales (+ bookings once the dashboard adds them)
    daily = by_subject["Test A: Asset sales, previous day (2026-03-31)"]
    (sheet,) = list(daily.iter_attachments())
    rows = xlsx_sheets(sheet.get_content())
    devices = next(v for k, v in rows.items() if k != "About")
    assert devices[0][0] == "device_id" and len(devices) == 1 + 3  # the header and three devices (A-4 was retired)
    assert sum(row[list(devices[0]).index("total_revenue")] for row in devices[1:]) == 99.0  # A-1's sale at 00:00 on the 31st


def test_send_now_is_a_manual_ledger_row_that_leaves_the_schedule_alone(in_chain_a: Any, smtp: SmtpSink) -> None:
    subscription = make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"})
    client = in_chain_a.client("manager")
    response = client.post(f"{URL}{subscription.pk}/send/")
    assert response.status_code == 202 and response.json()["status"] == "pending" and response.json()["manual"] is True
    assert in_chain_a.client("viewer").post(f"{URL}{subscription.pk}/send/").status_code == 403
    # The worker's task is queued on commit; here the next run finishes what is pending.
    report = services.schedules_run(at=utc("2027-01-09T13:00"))
    assert (report.due, report.sent) == (0, 1) and len(smtp.messages) == 1
    subscription.refresh_from_db()
    assert subscription.next_run_at == utc("2027-01-10T07:00")
    (row,) = client.get(f"{URL}{subscription.pk}/deliveries/").json()
    assert row["status"] == "sent" and row["manual"] is True and row["rows"] is not None


def test_admin_validates_like_the_api_and_computes_next_run(in_chain_a: Any) -> None:
    from django.contrib.auth import get_user_model

    client = Client(HTTP_HOST=in_chain_a.domain)
    client.force_login(get_user_model().objects.get(username=f"{in_chain_a.schema}-admin"))
    form = {"name": "From the admin", "report": "dashboard", "format": "pdf", "params": "{}", "range": "previous_week",
            "recurrence": '{"freq": "weekly", "at": "06:45"}', "recipients": '["x@example.com"]', "active": "on",
            "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}
    response = client.post("/admin/reporting/subscription/add/", form)
    assert response.status_code == 200 and b"weekday" in response.content and not Subscription.objects.exists()
    response = client.post("/admin/reporting/subscription/add/", {**form, "recurrence": '{"freq": "weekly", "at": "06:45", "weekday": 5}'})
    assert response.status_code == 302, response.content[:3000]
    subscription = Subscription.objects.get()
    assert subscription.next_run_at is not None
    assert subscription.next_run_at.astimezone(STOCKHOLM).strftime("%u %H:%M") == "5 06:45"
    assert client.get(f"/admin/reporting/subscription/{subscription.pk}/change/").status_code == 200
    assert client.get("/admin/reporting/delivery/").status_code == 200


def test_the_due_check_is_one_query_whatever_the_number_of_subscriptions(in_chain_a: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_of_a_pass(count: int) -> list[str]:
        Subscription.objects.bulk_create([
            Subscription(name=f"S{i}", report="dashboard", format="csv", range="previous_day",
                         recurrence={"freq": "daily", "at": "08:00"}, recipients=["x@example.com"],
                         next_run_at=utc("2027-01-10T07:00") + timedelta(minutes=i))
            for i in range(count)
        ])
        with CaptureQueriesContext(connection) as captured:
            assert services.schedules_run(at=utc("2027-01-10T06:59")).due == 0
        return [q["sql"] for q in captured.captured_queries]

    services.schedules_run(at=utc("2027-01-01T00:00"))  # the chain row is loaded once per connection
    few = queries_of_a_pass(10)
    many = queries_of_a_pass(990)
    assert len(few) == len(many)
    (due,) = [sql for sql in many if "reporting_subscription" in sql]
    assert '"next_run_at" <=' in due and "SKIP LOCKED" in due


def test_a_schedule_task_without_its_chain_fails() -> None:
    from reporting.subscriptions.tasks import delivery_send_task, schedules_run_task
    from reporting.tasks import TenantLost

    with pytest.raises(TenantLost):
        schedules_run_task.run()
    with pytest.raises(TenantLost):
        delivery_send_task.run(1)


def test_an_edit_that_keeps_the_recurrence_keeps_a_due_occurrence(in_chain_a: Any, smtp: SmtpSink) -> None:
    subscription = make(now=utc("2027-01-09T12:00"), recurrence={"freq": "daily", "at": "08:00"})
    subscription.recipients = ["new@example.com"]
    services.subscription_save(subscription=subscription, now=utc("2027-01-10T07:02"))  # 08:02, before the beat
    assert subscription.next_run_at == utc("2027-01-10T07:00")
    assert services.schedules_run(at=utc("2027-01-10T07:05")).sent == 1
    assert [m["To"] for m in smtp.messages] == ["new@example.com"]
    subscription.refresh_from_db()
    subscription.recurrence = {"freq": "daily", "at": "09:00"}
    services.subscription_save(subscription=subscription, now=utc("2027-01-10T07:10"))
    assert subscription.next_run_at == utc("2027-01-10T08:00")  # a new rule: from now on
