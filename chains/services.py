"""Writes for chains: create a chain with its schema and domain, create a chain's users."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from chains.capabilities import ADMIN, ROLE_BY_NAME
from chains.models import Chain, Domain
from chains.roles import roles_ensure
from chains.tokens import token_issue


def chain_create(
    *, schema: str, name: str, domain: str, time_zone: str = "UTC", currency: str = "EUR", verbosity: int = 1
) -> Chain:
    """Create a chain, its schema (migrated: `verbosity` 0 keeps the migrations quiet), its primary domain and role groups."""
    chain = Chain(schema_name=schema, name=name, time_zone=time_zone, currency=currency)
    chain.full_clean()
    if Domain.objects.filter(domain=domain).exists():
        raise ValidationError({"domain": f"The domain {domain!r} already belongs to a chain."})
    with schema_context("public"):
        chain.save(verbosity=verbosity)  # creates and migrates the schema
        Domain.objects.create(domain=domain, tenant=chain, is_primary=True)
    with schema_context(schema):
        roles_ensure()
    return chain


@dataclass(frozen=True)
class CreatedUser:
    user: AbstractUser
    token: str | None


def chain_user_create(
    *, chain: Chain, username: str, email: str, role: str, password: str | None = None, with_token: bool = False
) -> CreatedUser:
    """Create (or update) a user of one chain in the chain's schema with exactly one role.

    `with_token` makes a new API token (replacing the user's previous one) and returns its clear key, which
    is stored nowhere. The password is set as given: callers that take it from a person validate it first
    (create_chain_user does); the loopback-only demo accounts keep their short one.
    """
    role_name = ROLE_BY_NAME.get(role.lower())
    if role_name is None:
        raise ValidationError({"role": f"Unknown role {role!r}; use viewer, manager or admin."})
    user_model = get_user_model()
    with schema_context(chain.schema_name), transaction.atomic():
        roles_ensure()
        user, _ = user_model.objects.get_or_create(username=username, defaults={"email": email})
        user.email = email
        user.is_staff = role_name == ADMIN
        if password:
            user.set_password(password)
        elif not user.has_usable_password():
            user.set_unusable_password()
        user.save()
        user.groups.set([Group.objects.get(name=role_name)])
        token = token_issue(user=user).key if with_token else None
    return CreatedUser(user=user, token=token)  # type: ignore[arg-type]
