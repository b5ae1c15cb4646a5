"""The named capabilities that API endpoints declare, and the roles that bundle them."""

from __future__ import annotations

from typing import Final

ANALYTICS_READ: Final = "analytics.read"
ANALYTICS_EXPORT: Final = "analytics.export"
FLEET_INGEST: Final = "fleet.ingest"
ALERTS_MANAGE: Final = "alerts.manage"
# Not a permission: any signed-in user of the chain (used by /api/me/).
AUTHENTICATED: Final = "authenticated"

ALL_CAPABILITIES: Final = (ANALYTICS_READ, ANALYTICS_EXPORT, FLEET_INGEST, ALERTS_MANAGE)

VIEWER: Final = "Viewer"
MANAGER: Final = "Manager"
ADMIN: Final = "Admin"

ROLE_CAPABILITIES: Final[dict[str, tuple[str, ...]]] = {
    VIEWER: (ANALYTICS_READ,),
    MANAGER: (ANALYTICS_READ, ANALYTICS_EXPORT, ALERTS_MANAGE),
    ADMIN: (ANALYTICS_READ, ANALYTICS_EXPORT, FLEET_INGEST, ALERTS_MANAGE),
}
ROLE_BY_NAME: Final = {"viewer": VIEWER, "manager": MANAGER, "admin": ADMIN}

# Apps whose models an Admin may manage in the chain's Django admin.
# axes: an Admin sees failed sign-ins and can lift a lock-out (delete the attempt).
ADMIN_MANAGED_APPS: Final = ("ingest", "fleet", "routes", "bookings", "analytics", "reporting", "alerts", "auth", "authtoken", "axes")


def user_capabilities(user: object) -> list[str]:
    has_perm = getattr(user, "has_perm", None)
    if has_perm is None or not getattr(user, "is_authenticated", False):
        return []
    return [capability for capability in ALL_CAPABILITIES if has_perm(capability)]
