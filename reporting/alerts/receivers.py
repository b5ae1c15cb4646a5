"""Evaluate the chain's alert rules after each hourly rollup, so they read the buckets it just wrote."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from analytics.signals import rollup_hourly_finished


@receiver(rollup_hourly_finished)
def alerts_after_rollup(sender: Any, *, schema: str, **kwargs: Any) -> None:
    from reporting.alerts.tasks import alerts_evaluate_task

    # Sent from the rollup task inside the chain's schema: the new task carries that schema.
    transaction.on_commit(lambda: alerts_evaluate_task.apply_async())
