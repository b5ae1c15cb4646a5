"""Keep every chain's role groups current after its schema is migrated."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from chains.tenancy import current_schema


@receiver(post_migrate)
def roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate fires once per app; act on the last app so every permission exists.
    from django.apps import apps

    if sender is not list(apps.get_app_configs())[-1] or current_schema() == "public":
        return
    from chains.roles import roles_ensure

    roles_ensure()
