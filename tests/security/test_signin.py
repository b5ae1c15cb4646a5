"""Sign-in: lock-out after repeated failures (any form, through the backend), the sign-in rate, weak passwords
from loopback only, and the password validators wherever a password is set."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory, override_settings
from django_tenants.utils import schema_context

from tests.conftest import ChainFixture

LIMIT = settings.AXES_FAILURE_LIMIT


def _post_login(client: Client, username: str, password: str) -> int:
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"}).status_code


def test_ten_wrong_passwords_then_the_right_one_does_not_sign_in_on_the_admin(chain_a: ChainFixture) -> None:
    client = chain_a.client()
    user = f"{chain_a.schema}-admin"
    codes = [_post_login(client, user, f"wrong-{n}") for n in range(10)]
    # The form is shown again (200) until the limit; from then on the account is locked from this address.
    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert codes[LIMIT - 1 :] == [429] * (10 - LIMIT + 1)
    right = client.post("/admin/login/", {"username": user, "password": "pw", "next": "/admin/"})
    assert right.status_code == 429
    assert b"Sign-in locked" in right.content
    assert client.get("/admin/").status_code == 302, "still signed out"
    # Another address (or another account) is not locked by this one's failures.
    elsewhere = Client(HTTP_HOST=chain_a.domain, REMOTE_ADDR="127.0.0.2")
    assert _post_login(elsewhere, user, "pw") == 302


def test_the_lock_out_covers_any_sign_in_form_through_the_backend(chain_a: ChainFixture) -> None:
    """The chain's /login/ (or any form) uses AuthenticationForm → authenticate(request, …): the same lock-out."""
    factory = RequestFactory(HTTP_HOST=chain_a.domain)
    user = f"{chain_a.schema}-viewer"
    with schema_context(chain_a.schema):
        for n in range(LIMIT):
            form = AuthenticationForm(factory.post("/login/"), data={"username": user, "password": f"nope{n}"})
            assert not form.is_valid()
        form = AuthenticationForm(factory.post("/login/"), data={"username": user, "password": "pw"})
        assert not form.is_valid(), "the right password is refused while locked out"
        assert authenticate(factory.post("/login/"), username=user, password="pw") is None


def test_locks_are_per_chain(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    client = chain_a.client()
    for n in range(LIMIT):
        _post_login(client, f"{chain_a.schema}-admin", f"x{n}")
    assert _post_login(chain_b.client(), f"{chain_b.schema}-admin", "pw") == 302


@override_settings(CVD_THROTTLE_RATES={"signin": "3/minute"})
def test_sign_in_posts_are_rate_limited_per_address(chain_a: ChainFixture) -> None:
    cache.clear()
    client = chain_a.client()
    # Different usernames, so the lock-out (per username and address) is not what stops them.
    codes = [_post_login(client, f"nobody-{n}", "whatever-it-is") for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    other = Client(HTTP_HOST=chain_a.domain, REMOTE_ADDR="127.0.0.3")
    assert _post_login(other, f"{chain_a.schema}-admin", "pw") == 302
    cache.clear()


def test_a_weak_password_signs_in_from_loopback_only(chain_a: ChainFixture) -> None:
    # The fixture users' "pw" stands for the demo accounts' "demo": shorter than the validators allow.
    user = f"{chain_a.schema}-admin"
    assert _post_login(Client(HTTP_HOST=chain_a.domain, REMOTE_ADDR="127.0.0.1"), user, "pw") == 302
    assert _post_login(Client(HTTP_HOST=chain_a.domain, REMOTE_ADDR="::1"), user, "pw") == 302
    remote = Client(HTTP_HOST=chain_a.domain, REMOTE_ADDR="203.0.113.7")
    assert _post_login(remote, user, "pw") == 200, "refused: the form is shown again"
    assert remote.get("/admin/").status_code == 302
    # A strong password signs in from anywhere.
    with schema_context(chain_a.schema):
        account = get_user_model().objects.get(username=user)
        account.set_password("a-Much-longer-passphrase-2026")
        account.save()
    assert _post_login(remote, user, "a-Much-longer-passphrase-2026") == 302


@override_settings(CVD_WEAK_PASSWORDS_FROM_LOOPBACK=False)
def test_production_refuses_weak_passwords_even_from_loopback(chain_a: ChainFixture) -> None:
    assert _post_login(Client(HTTP_HOST=chain_a.domain), f"{chain_a.schema}-admin", "pw") == 200


def test_production_settings_turn_weak_passwords_off() -> None:
    text = (settings.BASE_DIR / "cvd" / "settings" / "production.py").read_text()
    assert "CVD_WEAK_PASSWORDS_FROM_LOOPBACK = False" in text


@pytest.mark.parametrize("password", ["qz", "short1234", "1234567890123", "password123", "chain-a-admin1"])
def test_weak_passwords_fail_the_validators(password: str) -> None:
    user = get_user_model()(username="chain-a-admin1", email="admin@chain-a.localhost")
    with pytest.raises(ValidationError):
        validate_password(password, user)
    validate_password("correct horse battery staple", user)


def test_create_chain_user_refuses_a_weak_password(chain_a: ChainFixture) -> None:
    with pytest.raises(CommandError, match="at least 10 characters"):
        call_command("create_chain_user", chain_a.schema, "weakling", "--email", "w@x.example", "--role", "viewer",
                     "--password", "qz")
    with schema_context(chain_a.schema):
        assert not get_user_model().objects.filter(username="weakling").exists()


def test_the_admin_password_forms_apply_the_validators(chain_a: ChainFixture) -> None:
    client = chain_a.client()
    assert _post_login(client, f"{chain_a.schema}-admin", "pw") == 302
    with schema_context(chain_a.schema):
        viewer = get_user_model().objects.get(username=f"{chain_a.schema}-viewer")
    page = client.post(f"/admin/auth/user/{viewer.pk}/password/", {"password1": "qz", "password2": "qz"})
    assert page.status_code == 200 and b"at least 10 characters" in page.content
    own = client.post("/admin/password_change/", {"old_password": "pw", "new_password1": "qz", "new_password2": "qz"})
    assert own.status_code == 200 and b"at least 10 characters" in own.content
