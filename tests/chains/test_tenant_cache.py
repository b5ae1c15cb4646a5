"""The host's chain remembered per process (chains.middleware.ChainMiddleware): no domain lookup on a repeated
host, never another chain's schema, unknown hosts still a 404, and a change seen once the seconds are up."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from chains.middleware import ChainMiddleware
from tests.conftest import ChainFixture


@pytest.fixture
def remembered() -> Iterator[None]:
    ChainMiddleware._remembered.clear()
    with override_settings(CVD_TENANT_CACHE_SECONDS=60):
        yield
    ChainMiddleware._remembered.clear()


def _me(client: Client) -> tuple[str, bool]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/me/")
    assert response.status_code == 200, response.content
    return response.json()["chain"]["schema"], any("chains_domain" in q["sql"] for q in queries.captured_queries)


def test_a_repeated_host_is_not_looked_up_and_chains_never_mix(chain_a: ChainFixture, chain_b: ChainFixture, remembered: None) -> None:
    a, b = chain_a.client("viewer"), chain_b.client("viewer")
    assert _me(a) == (chain_a.schema, True)
    assert _me(b) == (chain_b.schema, True)
    for _ in range(3):  # alternating on one connection: each request in its own chain's schema
        assert _me(a) == (chain_a.schema, False)
        assert _me(b) == (chain_b.schema, False)
    # Chain A's token on chain B's host is refused there, remembered chain or not.
    assert Client(HTTP_HOST=chain_b.domain, HTTP_AUTHORIZATION=f"Token {chain_a.token('viewer')}").get("/api/me/").status_code == 401
    assert Client(HTTP_HOST="nobody.localhost").get("/api/me/").status_code == 404


def test_a_change_is_seen_when_the_seconds_are_up(chain_a: ChainFixture, remembered: None) -> None:
    client = chain_a.client("viewer")
    assert _me(client) == (chain_a.schema, True)
    later = ChainMiddleware._remembered[chain_a.domain][0] + 61
    with mock.patch("chains.middleware.time.monotonic", return_value=later):
        assert _me(client) == (chain_a.schema, True)
    with override_settings(CVD_TENANT_CACHE_SECONDS=0):
        assert _me(client) == (chain_a.schema, True)
