"""A real Celery worker: the hourly rollup task sends the signal, the chain's alert evaluation runs after it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.tasks import rollup_hourly_task
from reporting.alerts.models import Alert, AlertRule
from tests.analytics.api_factories import device, location, product, sale
from tests.analytics.test_celery_rollups import _env, _in, _wait, _worker
from tests.reporting.alert_support import rule


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


@pytest.mark.slow
def test_the_hourly_rollup_task_is_followed_by_the_chains_alert_evaluation(committed: Any, tmp_path: Path) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    with schema_context(chain.schema_name):
        machine = device("CW1", location("CWL"))
        sale(machine, product("CWP"), timezone.now() - timedelta(hours=10), "2.00")
        silent = rule("hours_without_sales", scope={"device": "CW1"}, window="hour", threshold="3")
    queue = f"alerts-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    with _worker(queue, _env(queue, [chain.schema_name]), log):
        with schema_context(chain.schema_name):
            rollup_hourly_task.apply_async(queue=queue)
        alert = _wait(lambda: _in(chain.schema_name, lambda: Alert.objects.filter(rule_id=silent.pk).first()), 120,
                      "the alert evaluation chained to the rollup", [log])
    assert alert.state == "firing" and alert.value is not None and alert.value >= 9
    assert _in(chain.schema_name, lambda: AlertRule.objects.get(pk=silent.pk).evaluated_at) is not None
    assert "alerts.evaluate" in log.read_text()
