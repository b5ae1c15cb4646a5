"""The forms of /reports/ (scheduled reports) and /alerts/ (alert rules) over HTTP: what a manager posts is saved
as the API would save it, what the API refuses the form refuses with the API's own messages next to the fields,
viewers see no forms and get 403 on every post, the CSRF token is required, hostile names stay text, and an id of
chain A is a 404 in chain B."""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from reporting.alerts.models import AlertRule
from reporting.subscriptions.models import Delivery, Subscription
from tests.conftest import ChainFixture
from tests.pages.test_pages_http import signed_in
from tests.pages.world import HOSTILE, World, build_world

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def world(chain_a: ChainFixture) -> World:
    with schema_context(chain_a.schema):
        return build_world(chain_a.chain.time_zone)


def form_errors(page: str) -> dict[str, list[str]]:
    """The messages shown next to each field (data-error-for), as text."""
    found: dict[str, list[str]] = {}
    for name, body in re.findall(r'<ul class="field-error" id="[^"]*" data-error-for="([^"]+)">(.*?)</ul>', page, re.S):
        found.setdefault(name, []).extend(htmllib.unescape(item) for item in re.findall(r"<li>(.*?)</li>", body, re.S))
    return found


def api_errors(body: Any, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The API's 400 body as field → messages, by hand: recurrence's keys are the form's, list items join their field."""
    out: dict[str, list[str]] = {}

    def add(field: str, node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                add(field, value)
        elif isinstance(node, list):
            for value in node:
                add(field, value)
        else:
            out.setdefault((rename or {}).get(field, field), []).append(str(node))

    for key, value in body.items():
        if key == "recurrence" and isinstance(value, dict):
            for inner, messages in value.items():
                add(inner, messages)
        else:
            add(key, value)
    return out


def subscription_form(**overrides: str) -> dict[str, str]:
    return {"name": "Weekly assets", "report": "asset-sales", "format": "xlsx", "range": "previous_week",
            "freq": "weekly", "weekday": "1", "day": "", "at": "07:30",
            "recipients": "ops@example.com\nBoard@Example.com, board@example.com", **overrides}


def as_api(form: dict[str, str]) -> dict[str, Any]:
    """The same request written by hand as the API's JSON (the reference the form must agree with)."""
    recurrence: dict[str, Any] = {"freq": form["freq"], "at": form["at"]}
    for key in ("weekday", "day"):
        if form.get(key):
            recurrence[key] = form[key]
    return {"name": form["name"], "report": form["report"], "format": form["format"], "range": form["range"],
            "recurrence": recurrence, "recipients": [a for a in re.split(r"[\s,;]+", form["recipients"]) if a]}


# --- scheduled reports ------------------------------------------------------------------------------------


def test_a_manager_creates_a_weekly_subscription_through_the_form(chain_a: ChainFixture, world: World) -> None:
    manager = signed_in(chain_a, "manager")
    response = manager.post("/reports/subscriptions/", subscription_form())
    assert response.status_code == 302
    with schema_context(chain_a.schema):
        made = Subscription.objects.get()
        assert response["Location"] == f"/reports/#subscription-{made.pk}"
        assert (made.name, made.report, made.format, made.range) == ("Weekly assets", "asset-sales", "xlsx", "previous_week")
        assert made.recurrence == {"freq": "weekly", "at": "07:30", "weekday": 1}
        assert made.recipients == ["ops@example.com", "Board@Example.com"]  # the duplicate dropped, as the API does
        assert made.active and made.owner is not None and made.owner.username == f"{chain_a.schema}-manager"
        # the next Monday 07:30 in Stockholm after now, computed here by stepping days
        now = timezone.now().astimezone(STOCKHOLM)
        day = now.date()
        while True:
            candidate = datetime(day.year, day.month, day.day, 7, 30, tzinfo=STOCKHOLM)
            if candidate.isoweekday() == 1 and candidate > now:
                break
            day += timedelta(days=1)
        assert made.next_run_at == candidate
    page = manager.get("/reports/").content.decode()
    row = page.split(f'id="subscription-{made.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Weekly assets" in row and "Weekly on Monday at 07:30 (Europe/Stockholm)" in row and "XLSX" in row
    assert "ops@example.com" in row and "Board@Example.com" in row and "Active" in row and "none yet" in row
    assert candidate.strftime("%-d %b %Y 07:30") in row  # the next occurrence, local, as the pages show times


def test_monthly_on_the_last_day_and_the_board_pack(chain_a: ChainFixture, world: World) -> None:
    manager = signed_in(chain_a, "manager")
    form = subscription_form(name="Board", report="board-pack", format="pdf", range="previous_month", freq="monthly",
                             weekday="", day="-1", at="18:00", recipients="board@example.com")
    assert manager.post("/reports/subscriptions/", form).status_code == 302
    with schema_context(chain_a.schema):
        made = Subscription.objects.get()
        assert made.recurrence == {"freq": "monthly", "at": "18:00", "day": -1}
        assert made.next_run_at is not None
        local = made.next_run_at.astimezone(STOCKHOLM)
        assert (local.hour, local.minute) == (18, 0) and (local + timedelta(days=1)).day == 1  # the month's last day
    row = manager.get("/reports/").content.decode().split(f'id="subscription-{made.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Board pack" in row and "Monthly on the last day at 18:00" in row


@pytest.mark.parametrize("overrides", [
    {"at": "25:00"},
    {"weekday": ""},  # weekly without its weekday
    {"freq": "monthly", "weekday": "", "day": ""},
    {"recipients": "ops@example.com, not-an-address"},
    {"recipients": "\n".join(f"r{n}@example.com" for n in range(51))},
    {"recipients": ""},
    {"report": "board-pack", "format": "csv"},
    {"report": "no-such-report", "name": ""},
    {"range": "next_year", "freq": "hourly"},
])
def test_the_form_refuses_what_the_api_refuses_with_its_messages(chain_a: ChainFixture, world: World,
                                                                  overrides: dict[str, str]) -> None:
    form = subscription_form(**overrides)
    api = chain_a.client("manager").post("/api/reporting/subscriptions/", as_api(form), content_type="application/json")
    assert api.status_code == 400
    expected = api_errors(api.json())
    response = signed_in(chain_a, "manager").post("/reports/subscriptions/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert form_errors(page) == expected
    assert "data-form-errors" in page
    # the values stay in the form, and nothing was saved
    assert f'value="{form["at"]}"' in page
    with schema_context(chain_a.schema):
        assert not Subscription.objects.exists()


def make_subscription(name: str = "Daily", **extra: Any) -> Subscription:
    from reporting.subscriptions.services import subscription_save

    return subscription_save(subscription=Subscription(
        name=name, report="dashboard", format="pdf", range="previous_day", recurrence={"freq": "daily", "at": "08:00"},
        recipients=["ops@example.com"], **extra))


def test_row_actions_pause_resume_send_now_delete(chain_a: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        made = make_subscription()
    manager = signed_in(chain_a, "manager")
    base = f"/reports/subscriptions/{made.pk}"
    assert manager.post(f"{base}/pause/")["Location"] == f"/reports/#subscription-{made.pk}"
    with schema_context(chain_a.schema):
        made.refresh_from_db()
        assert not made.active and made.next_run_at is None
    row = manager.get("/reports/").content.decode().split(f'id="subscription-{made.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Paused" in row and 'data-action="resume"' in row and 'data-action="pause"' not in row
    assert manager.post(f"{base}/resume/").status_code == 302
    with schema_context(chain_a.schema):
        made.refresh_from_db()
        assert made.active and made.next_run_at is not None
    assert manager.post(f"{base}/send/").status_code == 302
    with schema_context(chain_a.schema):
        sent = Delivery.objects.get(subscription=made)
        assert sent.manual and sent.recipients == ["ops@example.com"]
    assert manager.post(f"{base}/explode/").status_code == 404
    assert manager.post(f"{base}/delete/")["Location"] == "/reports/#t-subscriptions"
    with schema_context(chain_a.schema):
        assert not Subscription.objects.filter(pk=made.pk).exists()
    assert manager.post(f"{base}/pause/").status_code == 404


def test_resume_without_recipients_says_why_next_to_the_row(chain_a: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        made = make_subscription()
        Subscription.objects.filter(pk=made.pk).update(recipients=[], active=False, next_run_at=None)
    response = signed_in(chain_a, "manager").post(f"/reports/subscriptions/{made.pk}/resume/")
    assert response.status_code == 400
    row = response.content.decode().split(f'id="subscription-{made.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Add a recipient before resuming." in row
    with schema_context(chain_a.schema):
        assert not Subscription.objects.get(pk=made.pk).active


def test_the_last_three_deliveries_from_the_ledger(chain_a: ChainFixture, world: World) -> None:
    now = timezone.now().replace(microsecond=0)
    with schema_context(chain_a.schema):
        made = make_subscription(HOSTILE)
        for days, status, error in ((4, "sent", ""), (3, "missed", "not sent: late"), (2, "sent", ""),
                                    (1, "failed", "SMTP 550 <b>no</b>")):
            Delivery.objects.create(subscription=made, occurrence=now - timedelta(days=days), status=status, error=error)
    page = signed_in(chain_a, "manager").get("/reports/").content.decode()
    row = page.split(f'id="subscription-{made.pk}"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'data-status="(\w+)"', row) == ["failed", "sent", "missed"]  # newest first, three
    assert "SMTP 550 &lt;b&gt;no&lt;/b&gt;" in row and "<b>no</b>" not in row
    assert ESCAPED in row and HOSTILE not in page


def test_a_viewer_sees_no_section_and_gets_403_on_every_post(chain_a: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        made = make_subscription()
    viewer = signed_in(chain_a, "viewer")
    page = viewer.get("/reports/").content.decode()
    assert 'data-section="subscriptions"' not in page and 'data-form="subscription"' not in page
    assert viewer.post("/reports/subscriptions/", subscription_form()).status_code == 403
    for action in ("pause", "resume", "send", "delete"):
        assert viewer.post(f"/reports/subscriptions/{made.pk}/{action}/").status_code == 403
    with schema_context(chain_a.schema):
        assert Subscription.objects.get().active and not Delivery.objects.exists()
    anonymous = Client(HTTP_HOST=chain_a.domain)
    assert anonymous.post("/reports/subscriptions/", subscription_form())["Location"].startswith("/login/")
    assert signed_in(chain_a, "manager").get("/reports/subscriptions/").status_code == 405


def test_the_forms_need_the_csrf_token(chain_a: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        made = make_subscription()
        rule = AlertRule.objects.create(name="R", metric="revenue", condition="below", threshold=Decimal("1"),
                                        window="day", recipients=["a@example.com"])
    client = Client(HTTP_HOST=chain_a.domain, enforce_csrf_checks=True)
    token = client.get("/login/").cookies["csrftoken"].value
    assert client.post("/login/", {"username": f"{chain_a.schema}-manager", "password": "pw",
                                   "csrfmiddlewaretoken": token}).status_code == 302
    page = client.get("/reports/").content.decode()
    form = page.split('data-form="subscription"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in form
    assert client.post("/reports/subscriptions/", subscription_form()).status_code == 403
    assert client.post(f"/reports/subscriptions/{made.pk}/delete/").status_code == 403
    assert client.post("/alerts/rules/", {"name": "x"}).status_code == 403
    assert client.post(f"/alerts/rules/{rule.pk}/delete/").status_code == 403
    with schema_context(chain_a.schema):
        assert Subscription.objects.filter(pk=made.pk).exists() and AlertRule.objects.filter(pk=rule.pk).exists()


def test_a_subscription_of_chain_a_is_a_404_in_chain_b(chain_a: ChainFixture, chain_b: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        made = make_subscription("Chain A only")
    with schema_context(chain_b.schema):
        assert not Subscription.objects.filter(pk=made.pk).exists()
    other = signed_in(chain_b, "manager")
    for action in ("pause", "resume", "send", "delete"):
        assert other.post(f"/reports/subscriptions/{made.pk}/{action}/").status_code == 404
    assert "Chain A only" not in other.get("/reports/").content.decode()
    with schema_context(chain_a.schema):
        again = Subscription.objects.get(pk=made.pk)
        assert again.active and not Delivery.objects.exists()


# --- alert rules ----------------------------------------------------------------------------------------------


def rule_form(**overrides: str) -> dict[str, str]:
    return {"name": "VM-1 slow day", "metric": "revenue", "scope_kind": "device", "scope_code": "VM-1",
            "condition": "below", "threshold": "12.5", "window": "day", "recipients": "ops@example.com",
            "active": "on", "snoozed_until": "", "repeat_hours": "", **overrides}


def test_a_manager_creates_and_edits_a_rule_through_the_form(chain_a: ChainFixture, world: World) -> None:
    manager = signed_in(chain_a, "manager")
    response = manager.post("/alerts/rules/", rule_form(snoozed_until="2026-12-24T18:00"))
    assert response.status_code == 302
    with schema_context(chain_a.schema):
        rule = AlertRule.objects.get()
        assert response["Location"] == f"/alerts/#rule-{rule.pk}"
        assert (rule.name, rule.metric, rule.scope, rule.condition, rule.threshold, rule.window) == (
            "VM-1 slow day", "revenue", {"device": "VM-1"}, "below", Decimal("12.5"), "day")
        assert rule.recipients == ["ops@example.com"] and rule.active and rule.repeat_hours is None
        assert rule.snoozed_until == datetime(2026, 12, 24, 18, 0, tzinfo=STOCKHOLM)  # local time of the chain
        assert rule.created_by is not None and rule.created_by.username == f"{chain_a.schema}-manager"
    page = manager.get("/alerts/").content.decode()
    row = page.split(f'id="rule-{rule.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "device VM-1" in row and "2026-12-24 18:00" in row and "ops@example.com" in row
    # the edit form comes filled in with the rule
    page = manager.get(f"/alerts/?edit={rule.pk}").content.decode()
    form = page.split('data-form="alert-rule"', 1)[1].split("</form>", 1)[0]
    assert f'action="/alerts/rules/{rule.pk}/" class="form-grid" data-form="alert-rule"' in page
    assert 'value="VM-1 slow day"' in form
    assert 'value="12.5"' in form and 'value="2026-12-24T18:00"' in form
    assert '<option value="device" selected>' in form and 'checked' in form
    # edited: every device, hours without sales, inactive, not snoozed, repeat every 6 hours
    edited = rule_form(name="Silent machines", metric="hours_without_sales", scope_kind="every_device", scope_code="",
                       condition="above", threshold="4", window="hour", recipients="a@example.com\nb@example.com",
                       active="", repeat_hours="6")
    del edited["active"]  # an unchecked box is not posted
    assert manager.post(f"/alerts/rules/{rule.pk}/", edited).status_code == 302
    with schema_context(chain_a.schema):
        rule.refresh_from_db()
        assert (rule.name, rule.metric, rule.scope, rule.condition, rule.threshold, rule.window) == (
            "Silent machines", "hours_without_sales", {}, "above", Decimal("4"), "hour")
        assert rule.recipients == ["a@example.com", "b@example.com"] and not rule.active
        assert rule.snoozed_until is None and rule.repeat_hours == 6
    row = manager.get("/alerts/").content.decode().split(f'id="rule-{rule.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "every device" in row and 'data-action="activate"' in row


@pytest.mark.parametrize("overrides", [
    {"scope_code": "NO-SUCH"},
    {"scope_kind": "resource", "scope_code": "N-1"},  # revenue is not measured per resource
    {"threshold": "abc", "recipients": "ops@example.com, nope"},
    {"metric": "anomaly", "scope_kind": "device", "condition": "change_above"},
    {"metric": "nps", "scope_kind": "chain", "scope_code": "", "window": "hour"},
    {"repeat_hours": "0", "name": ""},
    {"recipients": ""},
])
def test_the_rule_form_refuses_what_the_api_refuses(chain_a: ChainFixture, world: World, overrides: dict[str, str]) -> None:
    form = rule_form(**overrides)
    kind, code = form["scope_kind"], form["scope_code"]
    body = {"name": form["name"], "metric": form["metric"], "scope": {kind: code} if kind not in ("chain", "every_device") else {},
            "condition": form["condition"], "threshold": form["threshold"], "window": form["window"],
            "recipients": [a for a in re.split(r"[\s,;]+", form["recipients"]) if a], "active": True,
            "snoozed_until": None, "repeat_hours": form["repeat_hours"] or None}
    api = chain_a.client("manager").post("/api/reporting/alert-rules/", body, content_type="application/json")
    assert api.status_code == 400
    response = signed_in(chain_a, "manager").post("/alerts/rules/", form)
    assert response.status_code == 400
    assert form_errors(response.content.decode()) == api_errors(api.json(), rename={"scope": "scope_kind"})
    with schema_context(chain_a.schema):
        assert not AlertRule.objects.exists()


def test_every_device_is_for_per_device_metrics_and_a_bad_snooze_time_is_named(chain_a: ChainFixture, world: World) -> None:
    manager = signed_in(chain_a, "manager")
    response = manager.post("/alerts/rules/", rule_form(scope_kind="every_device", scope_code="",
                                                        snoozed_until="tomorrow"))
    assert response.status_code == 400
    errors = form_errors(response.content.decode())
    assert errors["scope_kind"][0].startswith("revenue is a chain figure")
    assert errors["snoozed_until"] == ["Expected a local date and time (YYYY-MM-DDTHH:MM)."]
    response = manager.post("/alerts/rules/", rule_form(metric="days_to_empty", scope_kind="chain", scope_code=""))
    assert response.status_code == 400 and "scope_kind" in form_errors(response.content.decode())
    with schema_context(chain_a.schema):
        assert not AlertRule.objects.exists()


def test_deactivate_activate_and_delete_a_rule(chain_a: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        rule = AlertRule.objects.create(name="R", metric="revenue", condition="below", threshold=Decimal("1"),
                                        window="day", recipients=["a@example.com"])
    manager = signed_in(chain_a, "manager")
    assert manager.post(f"/alerts/rules/{rule.pk}/deactivate/")["Location"] == f"/alerts/#rule-{rule.pk}"
    with schema_context(chain_a.schema):
        assert not AlertRule.objects.get(pk=rule.pk).active
    assert manager.post(f"/alerts/rules/{rule.pk}/activate/").status_code == 302
    with schema_context(chain_a.schema):
        assert AlertRule.objects.get(pk=rule.pk).active
    assert manager.post(f"/alerts/rules/{rule.pk}/snap/").status_code == 404
    assert manager.post(f"/alerts/rules/{rule.pk}/delete/").status_code == 302
    with schema_context(chain_a.schema):
        assert not AlertRule.objects.filter(pk=rule.pk).exists()
    assert manager.get(f"/alerts/?edit={rule.pk}").status_code == 404


def test_a_viewer_reads_rules_and_gets_403_on_rule_posts(chain_a: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        rule = AlertRule.objects.create(name=HOSTILE, metric="revenue", condition="below", threshold=Decimal("1"),
                                        window="day", recipients=["a@example.com"])
    viewer = signed_in(chain_a, "viewer")
    page = viewer.get(f"/alerts/?edit={rule.pk}").content.decode()
    assert f'id="rule-{rule.pk}"' in page and 'data-form="alert-rule"' not in page and "data-action=" not in page
    assert ESCAPED in page and HOSTILE not in page
    assert viewer.post("/alerts/rules/", rule_form()).status_code == 403
    assert viewer.post(f"/alerts/rules/{rule.pk}/", rule_form()).status_code == 403
    for action in ("deactivate", "activate", "delete"):
        assert viewer.post(f"/alerts/rules/{rule.pk}/{action}/").status_code == 403
    with schema_context(chain_a.schema):
        assert AlertRule.objects.get(pk=rule.pk).name == HOSTILE


def test_a_rule_of_chain_a_is_a_404_in_chain_b(chain_a: ChainFixture, chain_b: ChainFixture, world: World) -> None:
    with schema_context(chain_a.schema):
        rule = AlertRule.objects.create(name="Chain A rule", metric="revenue", condition="below",
                                        threshold=Decimal("1"), window="day", recipients=["a@example.com"])
    with schema_context(chain_b.schema):
        assert not AlertRule.objects.filter(pk=rule.pk).exists()
    other = signed_in(chain_b, "manager")
    assert other.post(f"/alerts/rules/{rule.pk}/", rule_form(scope_kind="chain", scope_code="")).status_code == 404
    for action in ("deactivate", "delete"):
        assert other.post(f"/alerts/rules/{rule.pk}/{action}/").status_code == 404
    assert other.get(f"/alerts/?edit={rule.pk}").status_code == 404
    with schema_context(chain_a.schema):
        assert AlertRule.objects.get(pk=rule.pk).active
