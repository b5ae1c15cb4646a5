"""Fuzz every operation of /api/schema/ in-process (WSGI) as a viewer of chain A: no 5xx, every response matches the schema.

Bounded examples per operation keep this well under a minute. Ingest endpoints answer a viewer
403 (documented or not, a refusal is never a server error); the analytics answers are validated
against their documented shapes, money strings and rate bounds included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

EXAMPLES_PER_OPERATION = 12
SEEDED = {"start": "2026-02-01", "end": "2026-02-28"}


@pytest.fixture
def api_schema(chain_a: ChainFixture) -> Iterator[Any]:
    """Chain A with a little of everything, and its schema loaded through the WSGI app on chain A's domain."""
    with schema_context(chain_a.schema):
        here = f.location("SCH", name="Schema", region="North", latitude="59.3", longitude="18.0")
        machine = f.device("SCH-1", here)
        item = f.product("SCH-P", cost="0.50")
        buyer = f.customer("SCH-C")
        for day in range(1, 28):
            f.sale(machine, item, f.local(f"2026-02-{day:02d} 12:00"), f"{day}.25", quantity=day % 3 + 1, slot="A1", buyer=buyer)
        court = f.resource("SCH-R", here, "court", {d: ("08:00", "20:00") for d in range(1, 8)})
        f.booking(court, f.local("2026-02-10 10:00"), 60, "no_show", "15.00", buyer=buyer)
        f.funnel("SCH-S", "visit", f.local("2026-02-10 09:00"))
    # Like Django's test client: the WSGI handler must not close the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers={"Host": chain_a.domain})
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_api_conforms_to_its_schema(api_schema: Any, chain_a: ChainFixture) -> None:
    # schemathesis' own pytest integration does not run under pytest 9 yet, so each operation gets its
    # own Hypothesis run here; every failing operation is reported, not just the first.
    headers = {"Host": chain_a.domain, "Authorization": f"Token {chain_a.token('viewer')}"}
    failures: list[str] = []
    operations = 0
    seen: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        if (operation.method.upper(), operation.path) == ("DELETE", "/api/me/token/"):
            continue  # would revoke the caller's own token mid-run; tests/security covers revoking

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case: Any) -> None:
            response = case.call(headers=headers)
            seen[(case.method, case.path)].add(response.status_code)
            checks = [not_a_server_error, response_schema_conformance]
            if case.path.startswith("/api/analytics/"):
                # Every analytics read documents its statuses (200, 400, 401, 403, 404 where it applies).
                checks.append(status_code_conformance)
            case.validate_response(response, checks=checks)

        try:
            exercise()
            if operation.method.upper() == "GET" and operation.path.startswith("/api/analytics/"):
                # Random dates mostly miss the seeded month: validate one answer full of data too.
                seeded = operation.Case(query=dict(SEEDED))
                response = seeded.call(headers=headers)
                assert response.status_code == 200, response.text
                seeded.validate_response(response, checks=[response_schema_conformance])
        except Exception as error:  # collect and report every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert operations >= 13, "the schema lost operations"
    for (method, path), statuses in seen.items():
        # The export needs analytics.export, which a viewer lacks: its 403 is the right answer here
        # (tests/reporting covers its files).
        if path.startswith("/api/analytics/") and path != "/api/analytics/export/":
            assert 200 in statuses, f"{method} {path} never answered 200: {statuses}"
    assert not failures, "\n\n".join(failures)


def test_post_operations_never_fail_with_the_ingest_capability(api_schema: Any, chain_a: ChainFixture) -> None:
    """The POST operations again as an Admin, who may ingest: random bodies reach the importers, never a 5xx."""
    headers = {"Host": chain_a.domain, "Authorization": f"Token {chain_a.token('admin')}"}
    failures: list[str] = []
    posts = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "POST":
            continue
        posts += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def exercise(case: Any) -> None:
            case.validate_response(case.call(headers=headers), checks=[not_a_server_error])

        try:
            exercise()
        except Exception as error:
            failures.append(f"POST {operation.path}: {error}")
    assert posts >= 5, "the schema lost POST operations"
    assert not failures, "\n\n".join(failures)
