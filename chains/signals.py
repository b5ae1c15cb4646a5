"""Keep every chain's role groups current after its schema is migrated."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from chains.tenancy import chain_migrated


@receiver(post_migrate)
def roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    if not chain_migrated(sender):
        return
    from chains.roles import roles_ensure

    roles_ensure()
