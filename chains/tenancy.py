"""Typed access to the tenant django-tenants puts on the database connection."""

from __future__ import annotations

from typing import Any

from django.db import connection


def current_schema() -> str:
    return str(connection.schema_name)  # type: ignore[attr-defined]


def current_tenant() -> Any:
    return connection.tenant  # type: ignore[attr-defined]
