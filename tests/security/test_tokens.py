"""API tokens: digests at rest, shown once, expiring; made and revoked by their owner; the chain admin may
revoke but not read or mint one, and cannot grant superuser."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from tests.conftest import ChainFixture


def _me(chain: ChainFixture, key: str) -> int:
    return Client(HTTP_HOST=chain.domain, HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/").status_code


def _signed_in(chain: ChainFixture, role: str) -> Client:
    """A browser session (viewers are not staff, so not through the admin's sign-in form)."""
    client = chain.client()
    with schema_context(chain.schema):
        client.force_login(get_user_model().objects.get(username=f"{chain.schema}-{role}"))
    return client


def test_tokens_are_stored_as_digests_and_still_authenticate(chain_a: ChainFixture) -> None:
    key = chain_a.token("viewer")
    with schema_context(chain_a.schema):
        stored = Token.objects.get(user__username=f"{chain_a.schema}-viewer").key
        all_keys = set(Token.objects.values_list("key", flat=True))
    assert stored == hashlib.sha256(key.encode()).hexdigest()[:40]
    assert key not in all_keys, "the clear key is stored nowhere"
    assert _me(chain_a, key) == 200
    assert _me(chain_a, stored) == 401, "the digest itself is not a credential"


def test_an_expired_token_is_refused(chain_a: ChainFixture, settings: object) -> None:
    key = chain_a.token("viewer")
    with schema_context(chain_a.schema):
        token = Token.objects.filter(user__username=f"{chain_a.schema}-viewer")
        token.update(created=timezone.now() - timedelta(days=89, hours=23))
        assert _me(chain_a, key) == 200
        token.update(created=timezone.now() - timedelta(days=90, seconds=1))
    response = Client(HTTP_HOST=chain_a.domain, HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    settings.CVD_API_TOKEN_TTL_DAYS = 365  # type: ignore[attr-defined]
    assert _me(chain_a, key) == 200


def test_the_owner_makes_a_token_once_and_revokes_it(chain_a: ChainFixture) -> None:
    browser = _signed_in(chain_a, "viewer")
    old = chain_a.token("viewer")
    made = browser.post("/api/me/token/")
    assert made.status_code == 201
    new = made.json()["token"]
    assert new != old and _me(chain_a, new) == 200 and _me(chain_a, old) == 401, "making one replaces the old"
    status = browser.get("/api/me/token/").json()
    assert status["exists"] is True and "token" not in status, "never shown again"
    # A token cannot make another (a leaked key must not renew itself).
    assert Client(HTTP_HOST=chain_a.domain, HTTP_AUTHORIZATION=f"Token {new}").post("/api/me/token/").status_code == 403
    # Revoking with the token itself works, and then it is gone.
    assert Client(HTTP_HOST=chain_a.domain, HTTP_AUTHORIZATION=f"Token {new}").delete("/api/me/token/").status_code == 204
    assert _me(chain_a, new) == 401
    assert browser.get("/api/me/token/").json()["exists"] is False


def test_the_token_page_shows_the_key_once(chain_a: ChainFixture) -> None:
    browser = _signed_in(chain_a, "manager")
    page = browser.post("/account/token/", {"action": "make"})
    assert page.status_code == 200
    key = page.context["issued"].key
    assert key.encode() in page.content and _me(chain_a, key) == 200
    again = browser.get("/account/token/")
    assert key.encode() not in again.content and b"You have a token" in again.content
    browser.post("/account/token/", {"action": "revoke"})
    assert _me(chain_a, key) == 401
    assert chain_a.client().get("/account/token/").status_code == 302, "signed-out visitors go to sign in"


def test_the_chain_admin_can_revoke_but_not_read_or_mint_tokens(chain_a: ChainFixture) -> None:
    admin = _signed_in(chain_a, "admin")
    viewer_key = chain_a.token("viewer")
    listing = admin.get("/admin/authtoken/tokenproxy/")
    assert listing.status_code == 200 and b"expires" in listing.content
    assert viewer_key.encode() not in listing.content
    assert admin.get("/admin/authtoken/tokenproxy/add/").status_code == 403
    with schema_context(chain_a.schema):
        viewer = get_user_model().objects.get(username=f"{chain_a.schema}-viewer")
        manager = get_user_model().objects.get(username=f"{chain_a.schema}-manager")
        before = Token.objects.count()
    assert admin.post("/admin/authtoken/tokenproxy/add/", {"user": manager.pk}).status_code == 403
    change = admin.post(f"/admin/authtoken/tokenproxy/{viewer.pk}/change/", {"user": manager.pk})
    assert change.status_code in (302, 403)
    with schema_context(chain_a.schema):
        assert Token.objects.count() == before
        assert Token.objects.get(user=viewer).user_id == viewer.pk
    deleted = admin.post(f"/admin/authtoken/tokenproxy/{viewer.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert _me(chain_a, viewer_key) == 401, "revoked"


def _user_form(user: object, **changes: object) -> dict[str, object]:
    data = {
        "username": user.username, "email": user.email, "first_name": "", "last_name": "",  # type: ignore[attr-defined]
        "is_active": "on", "is_staff": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
        "groups": [g.pk for g in user.groups.all()],  # type: ignore[attr-defined]
    }
    data.update(changes)
    return data


def test_a_chain_admin_cannot_grant_or_touch_superuser(chain_a: ChainFixture) -> None:
    admin = _signed_in(chain_a, "admin")
    with schema_context(chain_a.schema):
        viewer = get_user_model().objects.get(username=f"{chain_a.schema}-viewer")
        form = _user_form(viewer, is_superuser="on")
    page = admin.get(f"/admin/auth/user/{viewer.pk}/change/")
    assert page.status_code == 200 and b'name="is_superuser"' not in page.content, "shown read-only"
    admin.post(f"/admin/auth/user/{viewer.pk}/change/", form)
    with schema_context(chain_a.schema):
        viewer.refresh_from_db()
        assert viewer.is_superuser is False
        operator = get_user_model().objects.create_superuser("operator", "op@cvd.example", "an-operator-passphrase")
    # An existing superuser cannot be edited (a password reset would be a takeover) or deleted by a chain Admin.
    assert admin.get(f"/admin/auth/user/{operator.pk}/change/").status_code in (200, 403)
    assert admin.post(f"/admin/auth/user/{operator.pk}/password/", {"password1": "x" * 20, "password2": "x" * 20}).status_code == 403
    assert admin.post(f"/admin/auth/user/{operator.pk}/delete/", {"post": "yes"}).status_code == 403
    # The platform operator (a superuser) can grant it.
    as_operator = chain_a.client()
    as_operator.force_login(operator)
    as_operator.post(f"/admin/auth/user/{viewer.pk}/change/", form)
    with schema_context(chain_a.schema):
        viewer.refresh_from_db()
        assert viewer.is_superuser is True


def test_create_chain_user_prints_a_token_once(chain_a: ChainFixture) -> None:
    out = io.StringIO()
    call_command("create_chain_user", chain_a.schema, "script-bot", "--email", "bot@chain-a.localhost", "--role", "viewer",
                 "--token", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert len(key) == 64 and _me(chain_a, key) == 200
    with schema_context(chain_a.schema):
        assert Token.objects.get(user__username="script-bot").key == hashlib.sha256(key.encode()).hexdigest()[:40]


@pytest.mark.parametrize("header", ["Token ", "Token a b", "Token \u00e9\u00e9", "Token " + "0" * 5000])
def test_malformed_token_headers_are_401(chain_a: ChainFixture, header: str) -> None:
    assert Client(HTTP_HOST=chain_a.domain, HTTP_AUTHORIZATION=header).get("/api/me/").status_code == 401
