"""Create the chain's role groups (Viewer, Manager, Admin) with their capabilities."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from chains.capabilities import ADMIN, ADMIN_MANAGED_APPS, ROLE_CAPABILITIES
from chains.tenancy import require_chain


def _permission(capability: str) -> Permission:
    app_label, codename = capability.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def roles_ensure() -> dict[str, Group]:
    """Idempotently create the role groups in the current chain schema."""
    require_chain("Role setup")  # roles belong to a chain
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    groups: dict[str, Group] = {}
    for role, capabilities in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [_permission(capability) for capability in capabilities]
        if role == ADMIN:
            permissions += list(Permission.objects.filter(content_type__app_label__in=ADMIN_MANAGED_APPS))
        group.permissions.set(set(permissions))
        groups[role] = group
    return groups
