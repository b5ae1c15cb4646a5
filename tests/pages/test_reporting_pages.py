"""The reporting side's pages over HTTP: the alert center (order, filters, acknowledge, escaping), the dashboard's
latest alerts and the caller's exports."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from fleet.models import Device
from reporting.alerts.models import Alert, AlertRule
from reporting.models import ExportJob
from tests.conftest import ChainFixture
from tests.pages.test_pages_http import hooks, signed_in
from tests.pages.world import HOSTILE, World, build_world

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def world(chain_a: ChainFixture) -> World:
    with schema_context(chain_a.schema):
        return build_world(chain_a.chain.time_zone)


def make_alert(rule: AlertRule, device: Device, *, fired: datetime, state: str = "firing",
               resolved: datetime | None = None) -> Alert:
    return Alert.objects.create(
        rule=rule, scope_key=f"device:{device.asset}", subject=device.asset, device=device, state=state,
        value=Decimal("3.5"), threshold=rule.threshold, window_start=fired - timedelta(hours=1), window_end=fired,
        fired_at=fired, resolved_at=resolved,
    )


@pytest.fixture
def alerts(chain_a: ChainFixture, world: World) -> dict[str, int]:
    now = timezone.now().replace(microsecond=0)
    with schema_context(chain_a.schema):
        low = AlertRule.objects.create(name="Low revenue", metric="revenue", condition="below", threshold=Decimal("10"),
                                       window="day", scope={})
        idle = AlertRule.objects.create(name="Idle device", metric="hours_without_sales", condition="above",
                                        threshold=Decimal("4"), window="hour", scope={})
        vm1 = Device.objects.get(asset="VM-1")
        hostile = Device.objects.get(asset=HOSTILE)
        # The resolved one fired most recently: "firing first" must beat "newest first".
        resolved = make_alert(low, vm1, fired=now - timedelta(minutes=5), state="resolved", resolved=now)
        older_firing = make_alert(idle, vm1, fired=now - timedelta(hours=5))
        newer_firing = make_alert(low, hostile, fired=now - timedelta(hours=2))
        return {"resolved": resolved.id, "older": older_firing.id, "newer": newer_firing.id, "low": low.id,
                "idle": idle.id}


def row_ids(html: str) -> list[int]:
    body = html.split('data-table="alerts"', 1)[1].split("</table>", 1)[0]
    return [int(found) for found in re.findall(r'<tr id="alert-(\d+)"', body)]


def test_alert_center_lists_firing_first_then_resolved(chain_a: ChainFixture, alerts: dict[str, int]) -> None:
    response = signed_in(chain_a, "viewer").get("/alerts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "alerts" in hooks(html).tables
    assert row_ids(html) == [alerts["newer"], alerts["older"], alerts["resolved"]]
    assert 'href="/assets/VM-1/"' in html and "Low revenue" in html and "hours_without_sales" in html
    # a viewer sees no acknowledge buttons, the rules read only (no actions) and no rule form
    assert "data-acknowledge" not in html and 'data-table="alert-rules"' in html
    assert "data-action=" not in html and 'data-form="alert-rule"' not in html


def test_alert_center_filters_by_state_rule_and_device(chain_a: ChainFixture, alerts: dict[str, int]) -> None:
    client = signed_in(chain_a, "viewer")
    assert row_ids(client.get("/alerts/", {"state": "resolved"}).content.decode()) == [alerts["resolved"]]
    assert row_ids(client.get("/alerts/", {"state": "firing"}).content.decode()) == [alerts["newer"], alerts["older"]]
    assert row_ids(client.get("/alerts/", {"rule": alerts["low"]}).content.decode()) == [alerts["newer"],
                                                                                          alerts["resolved"]]
    assert row_ids(client.get("/alerts/", {"device": "VM-1", "state": "firing"}).content.decode()) == [alerts["older"]]
    html = client.get("/alerts/", {"state": "firing"}).content.decode()
    assert '<option value="firing" selected>' in html
    bad = client.get("/alerts/", {"state": "exploded"})
    assert bad.status_code == 400 and b'data-field="state"' in bad.content
    bad = client.get("/alerts/", {"rule": "x"})
    assert bad.status_code == 400 and b'data-field="rule"' in bad.content


def test_a_manager_acknowledges_once_and_a_viewer_gets_403(chain_a: ChainFixture, alerts: dict[str, int]) -> None:
    viewer = signed_in(chain_a, "viewer")
    assert viewer.post(f"/alerts/{alerts['newer']}/acknowledge/").status_code == 403
    manager = signed_in(chain_a, "manager")
    html = manager.get("/alerts/").content.decode()
    # buttons only on firing, unacknowledged alerts, each a POST form with the CSRF token
    assert sorted(int(x) for x in re.findall(r'data-acknowledge="(\d+)"', html)) == sorted([alerts["newer"],
                                                                                            alerts["older"]])
    form = html.split(f'data-acknowledge="{alerts["newer"]}"', 1)[1].split("</form>", 1)[0]
    assert "csrfmiddlewaretoken" in form
    assert 'data-table="alert-rules"' in html and f'href="/alerts/?edit={alerts["idle"]}#rule-form"' in html
    response = manager.post(f"/alerts/{alerts['newer']}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == f"/alerts/#alert-{alerts['newer']}"
    with schema_context(chain_a.schema):
        first = Alert.objects.select_related("acknowledged_by").get(pk=alerts["newer"])
        assert first.acknowledged_by is not None and first.acknowledged_by.username == f"{chain_a.schema}-manager"
        assert first.acknowledged_at is not None
        untouched = Alert.objects.get(pk=alerts["older"])
        assert untouched.acknowledged_at is None
    # again, by the admin: the first acknowledgement stays
    assert signed_in(chain_a, "admin").post(f"/alerts/{alerts['newer']}/acknowledge/").status_code == 302
    with schema_context(chain_a.schema):
        again = Alert.objects.select_related("acknowledged_by").get(pk=alerts["newer"])
        assert again.acknowledged_at == first.acknowledged_at
        assert again.acknowledged_by is not None and again.acknowledged_by.username == f"{chain_a.schema}-manager"
    html = manager.get("/alerts/").content.decode()
    assert re.findall(r'data-acknowledge="(\d+)"', html) == [str(alerts["older"])]
    row = html.split(f'id="alert-{alerts["newer"]}"', 1)[1].split("</tr>", 1)[0]
    assert f"{chain_a.schema}-manager" in row
    assert manager.post("/alerts/999999/acknowledge/").status_code == 404


def test_the_acknowledge_form_needs_the_csrf_token(chain_a: ChainFixture, alerts: dict[str, int]) -> None:
    client = Client(HTTP_HOST=chain_a.domain, enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    assert client.post("/login/", {"username": f"{chain_a.schema}-manager", "password": "pw",
                                   "csrfmiddlewaretoken": token}).status_code == 302
    assert client.post(f"/alerts/{alerts['older']}/acknowledge/").status_code == 403
    with schema_context(chain_a.schema):
        assert Alert.objects.get(pk=alerts["older"]).acknowledged_at is None


def test_a_hostile_device_name_is_escaped(chain_a: ChainFixture, alerts: dict[str, int]) -> None:
    for role in ("viewer", "manager"):
        html = signed_in(chain_a, role).get("/alerts/").content.decode()
        assert HOSTILE not in html
        assert ESCAPED in html
        assert 'href="/assets/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/"' in html
    dashboard = signed_in(chain_a, "viewer").get("/dashboard/").content.decode()
    assert HOSTILE not in dashboard and ESCAPED in dashboard


def test_dashboard_shows_the_latest_firing_alerts(chain_a: ChainFixture, alerts: dict[str, int]) -> None:
    html = signed_in(chain_a, "viewer").get("/dashboard/").content.decode()
    panel = html.split('data-panel="latest-alerts"', 1)[1].split("</section>", 1)[0]
    listed = [int(found) for found in re.findall(r'data-alert="(\d+)"', panel)]
    assert listed == [alerts["newer"], alerts["older"]]  # firing only, newest first
    assert f'href="/alerts/#alert-{alerts["newer"]}"' in panel and 'href="/alerts/"' in panel


def test_dashboard_lists_at_most_five(chain_a: ChainFixture, world: World) -> None:
    now = timezone.now()
    with schema_context(chain_a.schema):
        rule = AlertRule.objects.create(name="Many", metric="revenue", condition="below", threshold=Decimal("1"),
                                        window="day", scope={})
        made = [Alert.objects.create(rule=rule, scope_key=f"location:L{n}", subject=f"L{n}", state="firing",
                                     threshold=Decimal("1"), window_start=now, window_end=now,
                                     fired_at=now - timedelta(minutes=n)).id for n in range(7)]
    html = signed_in(chain_a, "viewer").get("/dashboard/").content.decode()
    panel = html.split('data-panel="latest-alerts"', 1)[1].split("</section>", 1)[0]
    assert [int(found) for found in re.findall(r'data-alert="(\d+)"', panel)] == made[:5]


def test_dashboard_without_alerts_says_so(chain_a: ChainFixture, world: World) -> None:
    html = signed_in(chain_a, "viewer").get("/dashboard/").content.decode()
    assert "No alert is firing." in html


def test_reports_page_lists_only_the_callers_jobs(chain_a: ChainFixture, world: World) -> None:
    now = timezone.now()
    with schema_context(chain_a.schema):
        users = get_user_model().objects
        manager = users.get(username=f"{chain_a.schema}-manager")
        admin = users.get(username=f"{chain_a.schema}-admin")
        old = ExportJob.objects.create(requester=manager, report="assets", format="csv", status="done", progress=1,
                                       rows=42, params={"start": "2026-01-01", "end": "2026-01-31"},
                                       created_at=now - timedelta(hours=3), finished_at=now - timedelta(hours=3),
                                       expires_at=now + timedelta(days=7))
        new = ExportJob.objects.create(requester=manager, report=HOSTILE, format="xlsx", status="running",
                                       progress=0.25, created_at=now - timedelta(hours=1))
        theirs = ExportJob.objects.create(requester=admin, report="secret-report", format="pdf", status="done",
                                          progress=1, created_at=now)
    html = signed_in(chain_a, "manager").get("/reports/").content.decode()
    assert "exports" in hooks(html).tables
    body = html.split('data-table="exports"', 1)[1].split("</table>", 1)[0]
    ids = [int(found) for found in re.findall(r'<tr><td data-value="(\d+)" class="num">', body)]
    assert ids == [new.id, old.id]
    assert "secret-report" not in html and f"/api/reporting/exports/{theirs.id}/download/" not in html
    assert f'href="/api/reporting/exports/{old.id}/download/"' in body
    assert f"/api/reporting/exports/{new.id}/download/" not in body  # not done: no link
    assert "2026-01-01 – 2026-01-31" in body and 'data-value="0.25"' in body and "25.0 %" in body
    assert HOSTILE not in html and ESCAPED in html
    # a viewer (no analytics.export) gets the page without the list
    viewer = signed_in(chain_a, "viewer").get("/reports/")
    assert viewer.status_code == 200 and 'data-table="exports"' not in viewer.content.decode()
    assert b"analytics.export" in viewer.content
