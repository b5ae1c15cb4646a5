"""The one authentication backend of every sign-in form: lock-out, password check, weak passwords on loopback only.

It sits at the backend level, so every form that calls `django.contrib.auth.authenticate(request, ...)`
(the admin's, the chain's /login/, anything added later) is covered without wiring of its own.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from axes.backends import AxesBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from chains.throttles import client_address

logger = logging.getLogger(__name__)


def is_loopback(address: str) -> bool:
    if address.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def password_is_weak(password: str, user: Any) -> bool:
    try:
        validate_password(password, user)
    except ValidationError:
        return True
    return False


class SignInBackend(AxesBackend):
    """django-axes' lock-out check, then ModelBackend; a weak password signs in from loopback only.

    Without a request (management commands, code calling authenticate() directly) there is no address
    to lock out or to judge, so only the password is checked: every web form passes its request.
    """

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> AbstractBaseUser | None:
        if request is None:
            return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        # Raises AxesBackendPermissionDenied (a PermissionDenied) when this username is locked out here.
        super().authenticate(request, username=username, password=password, **kwargs)
        user = ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        if user is None or password is None:
            return user
        address = client_address(request)
        loopback_ok = bool(getattr(settings, "CVD_WEAK_PASSWORDS_FROM_LOOPBACK", False)) and is_loopback(address)
        if not loopback_ok and password_is_weak(password, user):
            logger.warning("sign-in of %s with a weak password refused from %s", user.get_username(), address)
            # Counted as a failed sign-in (Django sends user_login_failed; axes counts it).
            raise PermissionDenied("This account's password is too weak to sign in from this address.")
        return user
