"""Typed access to the tenant django-tenants puts on the database connection."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django_tenants.utils import get_public_schema_name


def current_schema() -> str:
    return str(connection.schema_name)  # type: ignore[attr-defined]


def current_tenant() -> Any:
    return connection.tenant  # type: ignore[attr-defined]


class TenantLost(RuntimeError):
    """Work that belongs to a chain found itself in the public schema (e.g. a task sent without its chain).
    Never retried: the same message would land in the same place again."""


def require_chain(what: str) -> str:
    """The current chain's schema name; TenantLost when the connection is in the public schema (or none).

    The one tenant guard: analytics queries, Celery tasks and role setup call it before touching chain tables,
    so a lost tenant fails loudly instead of reading or writing the public schema."""
    schema = str(getattr(connection, "schema_name", "") or "")
    if not schema or schema == get_public_schema_name():
        raise TenantLost(f"{what} must run inside a chain's schema, not the public schema")
    return schema


def chain_migrated(sender: Any) -> bool:
    """For a post_migrate receiver: True once per migrate of a chain's schema (post_migrate fires once per app;
    this is the last app, so every table and permission exists), never in the public schema."""
    from django.apps import apps

    return sender is list(apps.get_app_configs())[-1] and current_schema() != get_public_schema_name()
