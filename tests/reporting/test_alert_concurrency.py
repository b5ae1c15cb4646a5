"""Committed data and several connections: two evaluations at once, a redelivered task, an SMTP outage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from reporting.alerts.models import Alert, AlertEvent
from reporting.alerts.services import alert_events_deliver, alerts_evaluate
from reporting.alerts.tasks import alerts_evaluate_task
from tests.analytics.api_factories import device, location, product, sale
from tests.reporting.alert_support import at, rule
from tests.reporting.conftest import Mailbox, _free_port


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def _seed(schema: str, machines: int = 5) -> None:
    with schema_context(schema):
        here, item = location("QL1"), product("QP1")
        for i in range(machines):
            sale(device(f"Q{i}", here), item, at("2026-10-05T08:00:00+02:00"), "1.00")
        rule("revenue", scope={"device": "Q0"}, condition="below", threshold="50")
        rule("hours_without_sales", window="hour", threshold="3")  # every device: one alert each


def test_two_evaluations_at_once_send_each_notice_once(committed: Callable[..., Any], smtp: Mailbox) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    _seed(chain.schema_name)
    instant = at("2026-10-06T00:30:00+02:00")
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def evaluate() -> None:
        try:
            barrier.wait()
            with schema_context(chain.schema_name):
                alerts_evaluate(at=instant)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with schema_context(chain.schema_name):
        assert Alert.objects.count() == 6  # Q0's revenue + five silent machines
        assert AlertEvent.objects.count() == 6 and not AlertEvent.objects.filter(sent_at__isnull=True).exists()
    assert len(smtp.messages) == 6
    assert len(set(smtp.subjects)) == 6


def test_a_redelivered_task_sends_nothing_new(committed: Callable[..., Any], smtp: Mailbox) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    _seed(chain.schema_name, machines=1)
    with schema_context(chain.schema_name):
        first = alerts_evaluate_task.run(at="2026-10-06T00:30:00+02:00")
        second = alerts_evaluate_task.run(at="2026-10-06T00:30:00+02:00")
    assert (first["fired"], first["sent"]) == (2, 2)
    assert (second["fired"], second["sent"], second["skipped"]) == (0, 0, 2)
    assert len(smtp.messages) == 2


def test_a_notice_the_smtp_server_refused_goes_out_once_at_the_next_pass(
    committed: Callable[..., Any], smtp: Mailbox, settings: Any
) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    _seed(chain.schema_name, machines=1)
    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()  # nobody listens there
    with schema_context(chain.schema_name):
        report = alerts_evaluate(at=at("2026-10-06T00:30:00+02:00"))
        assert (report.fired, report.sent) == (2, 0)
        assert all(e.error and e.claimed_at is None for e in AlertEvent.objects.all())
        settings.EMAIL_PORT = working
        assert alert_events_deliver() == 2
        assert alert_events_deliver() == 0
    assert len(smtp.messages) == 2
