"""The alerts API: rules for alerts.manage, the alert list for analytics.read, acknowledge, 400s that name the field."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from django_tenants.utils import schema_context

from reporting.alerts.models import Alert, AlertRule
from reporting.alerts.services import alerts_evaluate
from tests.analytics.api_factories import device, location, product, sale
from tests.reporting.alert_support import at, rule

RULE = {"name": "Low", "metric": "revenue", "scope": {"device": "PD1"}, "condition": "below", "threshold": "50",
        "window": "day", "recipients": ["ops@example.com"]}


def _fired(chain: Any) -> Alert:
    with schema_context(chain.schema):
        machine, item = device("PD1", location("PL1")), product("PP1")
        sale(machine, item, at("2026-10-05T08:00:00+02:00"), "1.00")
        rule("revenue", scope={"device": "PD1"}, condition="below", threshold="50")
        alerts_evaluate(at=at("2026-10-06T00:30:00+02:00"))
        return Alert.objects.get()


def test_viewer_reads_alerts_but_cannot_touch_rules_or_acknowledge(chain_a: Any) -> None:
    alert = _fired(chain_a)
    viewer = chain_a.client("viewer")
    listed = viewer.get("/api/reporting/alerts/")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert {k: row[k] for k in ("id", "state", "value", "threshold", "acknowledged_by")} == {
        "id": alert.id, "state": "firing", "value": "1.0000", "threshold": "50.0000", "acknowledged_by": None,
    }
    assert row["window_start"] == "2026-10-04T22:00:00Z" and row["window_end"] == "2026-10-05T22:00:00Z"
    assert viewer.get("/api/reporting/alert-rules/").status_code == 403
    assert viewer.post("/api/reporting/alert-rules/", RULE, content_type="application/json").status_code == 403
    assert viewer.post(f"/api/reporting/alerts/{alert.id}/acknowledge/").status_code == 403
    assert chain_a.client().get("/api/reporting/alerts/").status_code == 401


def test_manager_acknowledges_once_and_filters_the_list(chain_a: Any) -> None:
    alert = _fired(chain_a)
    manager = chain_a.client("manager")
    done = manager.post(f"/api/reporting/alerts/{alert.id}/acknowledge/")
    assert done.status_code == 200 and done.json()["acknowledged_by"] == "test_a-manager"
    first = done.json()["acknowledged_at"]
    assert chain_a.client("admin").post(f"/api/reporting/alerts/{alert.id}/acknowledge/").json()["acknowledged_at"] == first
    assert manager.post("/api/reporting/alerts/999999/acknowledge/").status_code == 404
    assert len(manager.get("/api/reporting/alerts/?state=firing&device=PD1").json()) == 1
    assert manager.get("/api/reporting/alerts/?state=resolved").json() == []
    assert manager.get("/api/reporting/alerts/?device=OTHER").json() == []
    assert manager.get(f"/api/reporting/alerts/?rule={alert.rule_id}").json()[0]["id"] == alert.id
    bad = manager.get("/api/reporting/alerts/?state=burning")
    assert bad.status_code == 400 and "state" in bad.json()


def test_manager_writes_rules_and_bad_input_names_the_field(chain_a: Any) -> None:
    with schema_context(chain_a.schema):
        device("PD1", location("PL1"))
    manager = chain_a.client("manager")
    made = manager.post("/api/reporting/alert-rules/", RULE, content_type="application/json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert {k: body[k] for k in RULE} == {**RULE, "threshold": "50.0000"}
    assert body["active"] is True and body["snoozed_until"] is None and body["repeat_hours"] is None
    changed = manager.patch(f"/api/reporting/alert-rules/{body['id']}/", {"snoozed_until": "2026-12-24T00:00:00+01:00"},
                            content_type="application/json")
    assert changed.status_code == 200 and changed.json()["snoozed_until"] == "2026-12-23T23:00:00Z"
    cases = [
        ({"recipients": ["not-an-address"]}, "recipients"),
        ({"recipients": [f"u{i}@example.com" for i in range(51)]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"scope": {"device": "NOPE"}}, "scope"),
        ({"scope": {"galaxy": "X"}}, "scope"),
        ({"scope": {"device": "PD1", "location": "PL1"}}, "scope"),
        ({"metric": "utilization", "scope": {"device": "PD1"}}, "scope"),
        ({"metric": "bookings", "scope": {}, "window": "hour"}, "window"),
        ({"metric": "hours_without_sales", "condition": "change_above"}, "condition"),
        ({"metric": "fame"}, "metric"),
        ({"threshold": "lots"}, "threshold"),
        ({"window": "year"}, "window"),
        ({"repeat_hours": 0}, "repeat_hours"),
    ]
    for change, field in cases:
        bad = manager.post("/api/reporting/alert-rules/", {**RULE, **change}, content_type="application/json")
        assert bad.status_code == 400 and field in bad.json(), (change, bad.json())
    assert manager.delete(f"/api/reporting/alert-rules/{body['id']}/").status_code == 204
    with schema_context(chain_a.schema):
        assert not AlertRule.objects.exists()


def test_a_chain_sees_only_its_own_rules_and_alerts(chain_a: Any, chain_b: Any) -> None:
    alert = _fired(chain_a)
    other = chain_b.client("manager")
    assert other.get("/api/reporting/alerts/").json() == []
    assert other.get("/api/reporting/alert-rules/").json() == []
    assert other.post(f"/api/reporting/alerts/{alert.id}/acknowledge/").status_code == 404
    # chain A's token does not exist on chain B's domain
    foreign = chain_b.client()
    foreign.defaults["HTTP_AUTHORIZATION"] = f"Token {chain_a.token('admin')}"
    assert foreign.get("/api/reporting/alerts/").status_code == 401


def test_analytics_never_imports_reporting() -> None:
    root = Path(__file__).resolve().parents[2] / "analytics"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(name == "reporting" or name.startswith("reporting.") for name in names), path
