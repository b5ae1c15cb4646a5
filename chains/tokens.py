"""API tokens: stored as SHA-256 digests, shown once when made, expiring, made and revoked by their owner.

The `Authorization: Token <key>` header is unchanged; the database keeps only the digest of the key (in
rest_framework.authtoken's `Token.key` column), so neither the admin nor a database dump can show or
replay a key. A key expires `CVD_API_TOKEN_TTL_DAYS` after it was made. Each user has at most one token:
making one replaces the previous one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

# Token.key is 40 characters: the first 160 bits of the SHA-256 digest (hex) of a 256-bit random key.
_DIGEST_LENGTH = 40


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_LENGTH]


def token_ttl() -> timedelta:
    return timedelta(days=int(getattr(settings, "CVD_API_TOKEN_TTL_DAYS", 90)))


def token_expires_at(token: Token) -> datetime:
    return token.created + token_ttl()


@dataclass(frozen=True)
class IssuedToken:
    key: str  # the clear key: shown to its owner this once, stored nowhere
    expires_at: datetime


@transaction.atomic
def token_issue(*, user: Any) -> IssuedToken:
    """Make a new token for `user` (replacing any previous one) and return its clear key."""
    Token.objects.filter(user=user).delete()
    key = secrets.token_hex(32)
    token = Token.objects.create(user=user, key=token_digest(key))
    return IssuedToken(key=key, expires_at=token_expires_at(token))


def token_revoke(*, user: Any) -> bool:
    """Delete `user`'s token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0


def token_of(user: Any) -> Token | None:
    return Token.objects.filter(user=user).first()


class DigestTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, looked up by the key's digest; an expired key is a 401."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        token = Token.objects.select_related("user").filter(key=token_digest(key)).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if token_expires_at(token) <= timezone.now():
            raise AuthenticationFailed("Token expired; sign in and make a new one at /account/token/.")
        return token.user, token
