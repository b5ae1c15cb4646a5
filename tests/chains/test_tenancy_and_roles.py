"""Roles, /api/me/ and the walls between chains."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from tests.conftest import ChainFixture

EXPECTED_CAPABILITIES = {
    "viewer": ["analytics.read"],
    "manager": ["analytics.read", "analytics.export", "alerts.manage"],
    "admin": ["analytics.read", "analytics.export", "fleet.ingest", "alerts.manage"],
}


@pytest.mark.parametrize("role", ["viewer", "manager", "admin"])
def test_me_answers_user_chain_and_capabilities(chain_a: ChainFixture, role: str) -> None:
    response = chain_a.client(role).get("/api/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == f"test_a-{role}"
    assert body["chain"] == {"schema": "test_a", "name": "Test A", "time_zone": "Europe/Stockholm", "currency": "SEK"}
    assert body["capabilities"] == EXPECTED_CAPABILITIES[role]
    assert body["roles"] == [role.title()]


def test_me_without_credentials_is_401(chain_a: ChainFixture) -> None:
    assert chain_a.client().get("/api/me/").status_code == 401


def test_a_token_of_one_chain_is_unknown_on_another_chains_domain(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    client = chain_b.client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {chain_a.token('admin')}"

    assert client.get("/api/me/").status_code == 401


def test_a_user_of_one_chain_cannot_log_in_on_another(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    credentials = {"username": "test_a-admin", "password": "pw", "next": "/admin/"}

    on_own_domain = chain_a.client().post("/admin/login/", credentials)
    on_other_domain = chain_b.client().post("/admin/login/", credentials)

    assert on_own_domain.status_code == 302
    assert on_other_domain.status_code == 200  # the login form again, with an error
    assert "correct username and password" in on_other_domain.content.decode()


def test_users_and_tokens_live_in_the_chain_schema(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    with schema_context("test_a"):
        a_users = set(Token.objects.values_list("user__username", flat=True))
    with schema_context("test_b"):
        b_users = set(Token.objects.values_list("user__username", flat=True))
    with schema_context("public"):
        public_tables = connection.introspection.table_names()

    assert {"test_a-viewer", "test_a-manager", "test_a-admin"} <= a_users
    assert not any(name.startswith("test_a") for name in b_users)
    assert "fleet_sale" not in public_tables


def test_viewer_and_manager_cannot_enter_the_chain_admin(chain_a: ChainFixture) -> None:
    for role, expected in (("viewer", 200), ("manager", 200), ("admin", 302)):
        response = chain_a.client().post(
            "/admin/login/", {"username": f"test_a-{role}", "password": "pw", "next": "/admin/"}
        )
        assert response.status_code == expected, role


def test_unknown_host_is_404(db: None) -> None:
    from django.test import Client

    assert Client(HTTP_HOST="nobody.localhost").get("/api/me/").status_code == 404


def test_cache_keys_carry_the_chain_schema(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    from django.core.cache import cache

    with schema_context("test_a"):
        cache.set("dashboard", "numbers of A", 30)
    with schema_context("test_b"):
        seen_from_b = cache.get("dashboard")
        cache.set("dashboard", "numbers of B", 30)
    with schema_context("test_a"):
        seen_from_a = cache.get("dashboard")
        cache.delete("dashboard")
    with schema_context("test_b"):
        cache.delete("dashboard")

    assert seen_from_b is None
    assert seen_from_a == "numbers of A"
