"""Alert evaluation benchmark: one pass of 1,000 rules (a mix of metrics, windows and scopes, "every device" rules
among them) on the 10M-sale chain of bench_analytics (goal < 5 s).

The rules are snoozed (transitions are recorded, nothing is sent) and everything is rolled back at the end,
so the chain is left as it was. Each round forgets the windows evaluated, so every round evaluates all rules.
CVD_BENCH_ALERTS_SCHEMA=<schema> runs it on another chain (e.g. the demo's acme) instead.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

RULES = 1000
ROUNDS = 3
GOAL_S = 5.0


class _RollBack(Exception):
    pass


def _rules(devices: list[str], locations: list[str], products: list[str]) -> list[dict[str, Any]]:
    """1,000 rules: device, location and product KPIs over days and hours, chain KPIs with changes, and per-device
    metrics for every device, per location and per device."""
    specs: list[dict[str, Any]] = []
    chain_metrics = ("revenue", "units", "transactions", "avg_transaction_value", "active_devices", "revenue_run_rate")

    def add(metric: str, scope: dict[str, str], condition: str, threshold: str, window: str) -> None:
        specs.append({"metric": metric, "scope": scope, "condition": condition, "threshold": Decimal(threshold),
                      "window": window})

    for i in range(300):
        add(("revenue", "units", "transactions")[i % 3], {"device": devices[i % len(devices)]}, "below", "50", "day")
    for i in range(100):
        add("revenue", {"device": devices[(i * 7) % len(devices)]}, "below", "1", "hour")
    for i in range(100):
        add(chain_metrics[i % len(chain_metrics)], {}, ("above", "below", "change_above", "change_below")[i % 4],
            ("100000", "10", "20", "-20")[i % 4], ("day", "week", "month")[i % 3])
    for i in range(150):
        add(("revenue", "transactions")[i % 2], {"location": locations[i % len(locations)]}, "below", "100", ("day", "week")[i % 2])
    for i in range(100):
        add("units", {"product": products[i % len(products)]}, "change_below", "-30", "day")
    for i in range(10):
        add("hours_without_sales", {}, "above", str(24 + i), "hour")  # every device
    for _ in range(5):
        add("anomaly", {}, "above", "2.5", "day")  # every device
    for _ in range(5):
        add("days_to_empty", {}, "below", "2", "day")  # every device
    for i in range(100):
        add("hours_without_sales", {"location": locations[i % len(locations)]}, "above", "12", "hour")
    for i in range(RULES - len(specs)):
        add("hours_without_sales", {"device": devices[(i * 13) % len(devices)]}, "above", "6", "hour")
    return specs[:RULES]


def run() -> None:
    from analytics.reports import get_report
    from bench.bench_analytics import _bench_chain, _ensure_rollups
    from chains.models import Chain
    from fleet.models import Device, Location, Product
    from reporting.alerts.models import Alert, AlertRule
    from reporting.alerts.services import alerts_evaluate

    only = os.environ.get("CVD_BENCH_ALERTS_SCHEMA")  # e.g. acme: a quick figure without the 10M chain
    chain = Chain.objects.get(schema_name=only) if only else _bench_chain()
    with schema_context(chain.schema_name):
        _ensure_rollups()
        devices = list(Device.objects.order_by("asset").values_list("asset", flat=True))
        locations = list(Location.objects.order_by("code").values_list("code", flat=True))
        products = list(Product.objects.order_by("sku").values_list("sku", flat=True))
        specs = _rules(devices, locations, products)
        families: dict[str, int] = {}
        for spec in specs:
            kind = next(iter(spec["scope"]), "every device" if spec["metric"] in ("hours_without_sales", "anomaly", "days_to_empty") else "chain")
            families[f"{spec['metric']}/{kind}"] = families.get(f"{spec['metric']}/{kind}", 0) + 1
        print(f"chain {chain.schema_name}: {len(devices):,} devices, {len(locations):,} locations, {len(products):,} products; "
              f"{len(specs)} rules in {len(families)} metric/scope kinds; median of {ROUNDS} passes after a warm-up", flush=True)
        timings: list[float] = []
        report = None
        try:
            with transaction.atomic():
                snooze = timezone.now() + timedelta(days=365)
                AlertRule.objects.update(active=False)  # the chain's own rules stay out (and unchanged: rolled back)
                AlertRule.objects.bulk_create(
                    [AlertRule(name=f"bench {i}", recipients=["bench@example.com"], snoozed_until=snooze, **spec)
                     for i, spec in enumerate(specs)]
                )
                for round_ in range(ROUNDS + 1):
                    AlertRule.objects.update(evaluated_window_start=None)
                    Alert.objects.filter(rule__name__startswith="bench ").delete()  # every round fires afresh (heavier)
                    started = time.perf_counter()
                    report = alerts_evaluate()
                    if round_:
                        timings.append(time.perf_counter() - started)
                    else:
                        print(f"  warm-up (cold plans and caches): {time.perf_counter() - started:.2f} s", flush=True)
                raise _RollBack
        except _RollBack:
            pass
        assert report is not None and report.evaluated == len(specs), report
        median = statistics.median(timings)
        verdict = "ok" if median < GOAL_S else f"over the {GOAL_S:.0f} s goal"
        print(f"  evaluation pass of {len(specs)} rules: median {median:.2f} s (min {min(timings):.2f}, max {max(timings):.2f}); "
              f"{report.fired} alerts fired  {verdict}", flush=True)
        # The one read no alert code can make cheaper: the inventory page's stock estimate behind days_to_empty.
        started = time.perf_counter()
        get_report("inventory").run({})
        print(f"  of which the inventory report alone (days_to_empty, as the /inventory/ page reads it): "
              f"{time.perf_counter() - started:.2f} s", flush=True)
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' backend
