"""Scheduled reports across processes, against the test database and a real SMTP server on loopback:

- two `run_schedules` commands at once send one copy (the ledger's unique row and the SKIP LOCKED claim);
- a command killed after the e-mail went out and before the ledger said so: the next run sends no second copy;
- a real Celery worker SIGKILLed at the same point: the redelivered task sends no second copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from django_tenants.utils import schema_context

from reporting.subscriptions import services
from reporting.subscriptions.models import Delivery, Subscription
from tests.analytics.test_celery_rollups import BASE_DIR, _env, _process, _wait, _worker
from tests.reporting.smtp import smtp_server
from tests.reporting.test_celery_exports import private_queue  # noqa: F401 - fixture

DUE = datetime(2027, 1, 10, 7, 0, tzinfo=UTC)  # 08:00 in Stockholm
RECIPIENTS = ["a@example.com", "b@example.com"]


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def _subscribe(schema: str) -> int:
    with schema_context(schema):
        subscription = services.subscription_save(
            subscription=Subscription(name="Daily", report="dashboard", format="csv", range="previous_day",
                                      recurrence={"freq": "daily", "at": "08:00"}, recipients=RECIPIENTS),
            now=datetime(2027, 1, 9, 12, 0, tzinfo=UTC),
        )
        assert subscription.next_run_at == DUE
        return subscription.pk


def _deliveries(schema: str) -> list[Delivery]:
    with schema_context(schema):
        return list(Delivery.objects.order_by("occurrence"))


def _command(schema: str, env: dict[str, str], log: Path) -> Any:
    return _process([sys.executable, "manage.py", "run_schedules", schema, "--at", "2027-01-10T08:00:00+01:00"], env, log)


def _run(schema: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "manage.py", "run_schedules", schema, "--at", "2027-01-10T08:00:00+01:00"],
        env=env, cwd=BASE_DIR, capture_output=True, timeout=120, check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def test_two_run_schedules_at_once_send_one_copy(committed: Any, tmp_path: Path) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    _subscribe(chain.schema_name)
    with smtp_server() as (sink, port):
        env = _env("unused", [chain.schema_name], EMAIL_URL=f"smtp://127.0.0.1:{port}")
        logs = [tmp_path / "one.log", tmp_path / "two.log"]
        with _command(chain.schema_name, env, logs[0]) as one, _command(chain.schema_name, env, logs[1]) as two:
            assert one.wait(timeout=120) == 0 and two.wait(timeout=120) == 0
        outputs = [json.loads(log.read_text().strip().splitlines()[-1]) for log in logs]
    assert sorted(o["claimed"] for o in outputs) == [0, 1]
    assert sum(o["sent"] for o in outputs) == 1
    assert sorted(m["To"] for m in sink.messages) == RECIPIENTS  # one copy each
    (delivery,) = _deliveries(chain.schema_name)
    assert delivery.status == "sent" and delivery.occurrence == DUE


def test_a_run_killed_after_sending_before_the_ledger_commit_sends_no_duplicate(committed: Any, tmp_path: Path) -> None:
    chain = committed(time_zone="Europe/Stockholm")
    _subscribe(chain.schema_name)
    hold = tmp_path / "hold"
    hold.write_text("park")
    with smtp_server() as (sink, port):
        env = _env("unused", [chain.schema_name], EMAIL_URL=f"smtp://127.0.0.1:{port}")
        log = tmp_path / "first.log"
        with _command(chain.schema_name, {**env, "CVD_SCHEDULE_HOLD_FILE": str(hold)}, log) as first:
            _wait(lambda: Path(f"{hold}.reached").exists(), 60, "the first run to park after sending", [log])
            assert len(sink.messages) == 2
            (parked,) = _deliveries(chain.schema_name)
            assert parked.status == "pending" and parked.file  # rendered, mailed, not yet recorded as sent
            # Meanwhile a second run finds nothing due and the delivery busy.
            assert _run(chain.schema_name, env) == {
                "schema": chain.schema_name, "at": "2027-01-10T07:00:00+00:00", "due": 0, "claimed": 0, "missed": 0,
                "sent": 0, "failed": 0, "busy": 1,
            }
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        hold.unlink()
        after = _run(chain.schema_name, env)  # the next run finishes what the killed one left pending
        assert (after["due"], after["sent"]) == (0, 1)
        assert len(sink.messages) == 2
    (delivery,) = _deliveries(chain.schema_name)
    assert delivery.status == "sent" and delivery.attempts == 2 and delivery.recipients == RECIPIENTS


def test_a_worker_killed_mid_send_sends_no_duplicate_on_redelivery(
    committed: Any, private_queue: str, tmp_path: Path  # noqa: F811
) -> None:
    from reporting.subscriptions.tasks import schedules_run_task

    chain = committed(time_zone="Europe/Stockholm")
    _subscribe(chain.schema_name)
    hold = tmp_path / "hold"
    hold.write_text("park")
    log = tmp_path / "worker.log"
    with smtp_server() as (sink, port):
        env = _env(private_queue, [chain.schema_name], CVD_SCHEDULE_HOLD_FILE=str(hold),
                   EMAIL_URL=f"smtp://127.0.0.1:{port}", CVD_MAIL_RETRY_BACKOFF="1")
        with _worker(private_queue, env, log) as worker:
            with schema_context(chain.schema_name):
                schedules_run_task.apply_async(kwargs={"at": DUE.isoformat()})
            _wait(lambda: Path(f"{hold}.reached").exists(), 90, "the delivery task to park after sending", [log])
            assert len(sink.messages) == 2
            assert _deliveries(chain.schema_name)[0].status == "pending"
            children = psutil.Process(worker.pid).children(recursive=True)
            assert children, "the prefork worker has a pool process"
            for child in children:
                os.kill(child.pid, signal.SIGKILL)
            hold.unlink()
            _wait(lambda: _deliveries(chain.schema_name)[0].status == "sent", 90, "the redelivered task", [log])
        assert sorted(m["To"] for m in sink.messages) == RECIPIENTS
    (delivery,) = _deliveries(chain.schema_name)
    assert delivery.attempts == 2 and delivery.occurrence == DUE
