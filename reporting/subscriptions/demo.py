"""The demo chains' scheduled reports: the manager gets the monthly board pack and a daily report (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from reporting.subscriptions.models import Subscription
from reporting.subscriptions.services import subscription_save

DEMO = (
    {"name": "Monthly board pack", "report": "board-pack", "format": "pdf", "range": "previous_month",
     "recurrence": {"freq": "monthly", "at": "07:00", "day": 1}},
    {"name": "Daily device sales", "report": "asset-sales", "format": "xlsx", "range": "previous_day",
     "recurrence": {"freq": "daily", "at": "08:00"}},
)


def demo_subscriptions_ensure(schema: str) -> list[Subscription]:
    """Give `<schema>-manager` the demo subscriptions unless they exist; returns them."""
    with schema_context(schema):
        manager = get_user_model().objects.filter(username=f"{schema}-manager").first()
        made = []
        for spec in DEMO:
            subscription = Subscription.objects.filter(name=spec["name"]).first()
            if subscription is None:
                subscription = Subscription(
                    owner=manager, params={}, recipients=[manager.email if manager and manager.email else f"manager@{schema}.localhost"],
                    **spec,
                )
                subscription_save(subscription=subscription)
            made.append(subscription)
        return made
