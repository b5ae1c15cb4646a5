"""Alert state, once: transitions send one e-mail each through a real SMTP server, and nothing more."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django_tenants.utils import schema_context

from reporting.alerts.models import Alert, AlertEvent, AlertRule
from reporting.alerts.services import alerts_evaluate
from tests.analytics.api_factories import device, location, product, sale
from tests.reporting.alert_support import at, rule
from tests.reporting.conftest import Mailbox


def _daily(machine: Any, item: Any, amounts: dict[str, str]) -> None:
    for day, amount in amounts.items():
        sale(machine, item, at(f"{day}T12:00:00+02:00"), amount)


def test_fire_resolve_fire_sends_three_mails_and_the_same_window_again_none(in_chain_a: Any, smtp: Mailbox) -> None:
    machine, item = device("ACM-00012", location("ML1")), product("MP1")
    _daily(machine, item, {"2026-10-05": "20.00", "2026-10-06": "80.00", "2026-10-07": "10.00"})
    low = rule("revenue", scope={"device": "ACM-00012"}, condition="below", threshold="50", name="Low machine",
               recipients=["ops@example.com", "boss@example.com"])
    for day in ("06", "07", "08"):
        alerts_evaluate(at=at(f"2026-10-{day}T00:30:00+02:00"))
    assert smtp.subjects == [
        "[Test A] FIRING: ACM-00012 revenue below 50.00 on 2026-10-05",
        "[Test A] RESOLVED: ACM-00012 revenue below 50.00 on 2026-10-06",
        "[Test A] FIRING: ACM-00012 revenue below 50.00 on 2026-10-07",
    ]
    first = smtp.messages[0]
    assert sorted(first["To"].addresses[i].addr_spec for i in range(2)) == ["boss@example.com", "ops@example.com"]
    body = first.get_body(preferencelist=("plain",)).get_content()
    assert "Value: 20.00" in body and "Threshold: below 50.00" in body and "Window: 2026-10-05" in body
    assert "http://chain-a.localhost:8000/assets/ACM-00012/" in body
    html = first.get_body(preferencelist=("html",)).get_content()
    assert 'href="http://chain-a.localhost:8000/assets/ACM-00012/"' in html

    # The same window again (later the same night), an earlier instant, and a redelivered run: nothing new.
    again = alerts_evaluate(at=at("2026-10-08T00:45:00+02:00"))
    alerts_evaluate(at=at("2026-10-07T00:30:00+02:00"))
    call_command("evaluate_alerts", "test_a", "--at", "2026-10-08T05:00:00+02:00", stdout=io.StringIO())
    assert again.skipped == 1 and again.sent == 0
    assert len(smtp.messages) == 3
    alerts = list(Alert.objects.filter(rule=low).order_by("id"))
    assert [(a.state, a.value) for a in alerts] == [("resolved", Decimal("80.0000")), ("firing", Decimal("10.0000"))]
    assert [e.transition for e in AlertEvent.objects.filter(rule=low).order_by("id")] == ["fired", "resolved", "fired"]
    assert all(e.sent_at is not None for e in AlertEvent.objects.filter(rule=low))


def test_snoozed_rule_records_the_transition_and_sends_nothing(in_chain_a: Any, smtp: Mailbox) -> None:
    machine, item = device("ZD1", location("ZL1")), product("ZP1")
    _daily(machine, item, {"2026-10-05": "20.00", "2026-10-06": "80.00"})
    snoozed = rule("revenue", scope={"device": "ZD1"}, condition="below", threshold="50",
                   snoozed_until=at("2026-10-06T12:00:00+02:00"))
    alerts_evaluate(at=at("2026-10-06T00:30:00+02:00"))
    event = AlertEvent.objects.get(rule=snoozed)
    assert (event.transition, event.notify, event.sent_at) == ("fired", False, None)
    assert Alert.objects.get(rule=snoozed).state == "firing"
    assert smtp.messages == []
    # The snooze is over by the next window: its resolution is sent.
    alerts_evaluate(at=at("2026-10-07T00:30:00+02:00"))
    assert smtp.subjects == ["[Test A] RESOLVED: ZD1 revenue below 50.00 on 2026-10-06"]


def test_change_below_with_a_zero_previous_window_does_not_fire_and_says_why(in_chain_a: Any, smtp: Mailbox) -> None:
    machine, item = device("CD1", location("CL1")), product("CP1")
    _daily(machine, item, {"2026-10-05": "50.00", "2026-10-06": "100.00", "2026-10-07": "40.00"})
    drop = rule("revenue", scope={"device": "CD1"}, condition="change_below", threshold="-20")
    report = alerts_evaluate(at=at("2026-10-05T00:30:00+02:00"))  # 2026-10-04 (0) after 2026-10-03 (0)
    assert not Alert.objects.filter(rule=drop).exists()
    drop.refresh_from_db()
    assert "the change is undefined" in drop.last_note and "the change is undefined" in report.notes[drop.id]
    alerts_evaluate(at=at("2026-10-06T00:30:00+02:00"))  # 50 after 0: still undefined
    assert not Alert.objects.filter(rule=drop).exists()
    alerts_evaluate(at=at("2026-10-07T00:30:00+02:00"))  # 100 after 50: +100 %
    assert not Alert.objects.filter(rule=drop).exists()
    alerts_evaluate(at=at("2026-10-08T00:30:00+02:00"))  # 40 after 100: −60 % < −20 %
    alert = Alert.objects.get(rule=drop)
    assert (alert.value, alert.previous_value) == (Decimal("-60.0000"), Decimal("100.0000"))
    assert smtp.subjects == ["[Test A] FIRING: CD1 revenue change below -20.00% on 2026-10-07"]


def test_repeat_while_firing_is_off_by_default_and_every_n_hours_when_set(in_chain_a: Any, smtp: Mailbox) -> None:
    machine, item = device("RD1", location("RL1")), product("RP1")
    sale(machine, item, at("2026-10-05T08:00:00+02:00"), "1.00")
    plain = rule("hours_without_sales", scope={"device": "RD1"}, window="hour", threshold="1", name="plain")
    repeating = rule("hours_without_sales", scope={"device": "RD1"}, window="hour", threshold="1", name="again", repeat_hours=2)
    start = at("2026-10-05T12:30:00+02:00")
    for hour in range(5):
        alerts_evaluate(at=start + timedelta(hours=hour))
    kinds = {r.name: [e.transition for e in AlertEvent.objects.filter(rule=r).order_by("id")] for r in (plain, repeating)}
    assert kinds == {"plain": ["fired"], "again": ["fired", "repeated", "repeated"]}
    assert len(smtp.messages) == 4
    assert sum("STILL FIRING" in s for s in smtp.subjects) == 2


def test_tenant_text_never_breaks_a_header(in_chain_a: Any, smtp: Mailbox) -> None:
    machine, item = device("EV\r\nBcc: victim@example.com", location("HL9")), product("HP9")
    sale(machine, item, at("2026-10-05T08:00:00+02:00"), "1.00")
    rule("revenue", scope={"device": machine.asset}, condition="below", threshold="50", name="x\r\nCc: a@example.com")
    alerts_evaluate(at=at("2026-10-06T00:30:00+02:00"))
    (message,) = smtp.messages
    assert message["Bcc"] is None and message["Cc"] is None
    assert "\n" not in str(message["Subject"]) and "EV Bcc: victim@example.com" in str(message["Subject"])
    assert "/assets/EV%0D%0ABcc%3A%20victim%40example.com/" in message.get_body(preferencelist=("plain",)).get_content()


def test_rules_of_chain_a_never_run_in_chain_b(chain_a: Any, chain_b: Any, smtp: Mailbox) -> None:
    with schema_context(chain_a.schema):
        machine, item = device("IA1", location("IL1")), product("IP1")
        sale(machine, item, at("2026-10-05T08:00:00+02:00"), "1.00")
        only_a = rule("revenue", scope={"device": "IA1"}, condition="below", threshold="50")
    with schema_context(chain_b.schema):
        out = io.StringIO()
        call_command("evaluate_alerts", "test_b", "--at", "2026-10-06T00:30:00-04:00", stdout=out)
        assert json.loads(out.getvalue())["rules"] == 0
        assert not Alert.objects.exists()
    with schema_context(chain_a.schema):
        assert AlertRule.objects.get(pk=only_a.pk).evaluated_at is None
        assert not Alert.objects.exists()
    assert smtp.messages == []
