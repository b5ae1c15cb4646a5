"""Route runs: stops planned and done, time per stop, completion, cash and the revenue of the serviced machines; driver consistency."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from analytics.filters import Filters
from analytics.periods import Period
from analytics.query.stock_and_visits import run_visit_totals
from analytics.selectors._common import ZERO, devices_in_scope, ratio, truncate
from routes.models import RouteRun, RouteStop, ServiceVisit


def route_efficiency(*, period: Period, filters: Filters, routes: Sequence[int] = (), limit: int | None = None) -> dict[str, Any]:
    """Runs scheduled in `period`, newest first, and one consistency line per driver.

    minutes_per_stop = (finished − started) / completed stops; completion_rate = completed /
    planned stops; serviced_revenue = sales of each completed stop's machine since its previous
    service visit, up to this one (what the driver should have found in the machine).
    consistency = 1 − CV of the driver's minutes per stop over their runs (clipped to 0–1).
    """
    runs = RouteRun.objects.filter(scheduled_for__gte=period.start, scheduled_for__lte=period.end)
    if routes:
        runs = runs.filter(route_id__in=routes)
    if filters.narrows_machines:
        runs = runs.filter(route__stops__device__in=devices_in_scope(filters=filters, period=period)).distinct()
    # Counted in correlated subqueries (one index probe each), not by joining stops × visits into every run.
    stops = RouteStop.objects.filter(route=OuterRef("route_id")).order_by().values("route").annotate(n=Count("*")).values("n")
    done = (
        ServiceVisit.objects.filter(route_run=OuterRef("pk"), completed=True)
        .order_by().values("route_run").annotate(n=Count("*")).values("n")
    )
    # Plain values, not 1,000 runs with their routes and drivers as model instances.
    run_list = list(
        runs.annotate(
            route_stops=Coalesce(Subquery(stops, output_field=IntegerField()), 0),
            completed=Coalesce(Subquery(done, output_field=IntegerField()), 0),
        )
        .order_by("-scheduled_for", "route__code")
        .values(
            "id", "route_id", "route__code", "route__name", "driver_id", "driver__name", "route__driver_id",
            "route__driver__name", "scheduled_for", "started_at", "finished_at", "stops_planned", "route_stops",
            "completed",
        )
    )
    totals = run_visit_totals(run_ids=[run["id"] for run in run_list])  # cash and serviced revenue per run

    rows: list[dict[str, Any]] = []
    for run in run_list:
        planned = run["stops_planned"] or run["route_stops"]
        completed = run["completed"]
        started_at, finished_at = run["started_at"], run["finished_at"]
        duration = (finished_at - started_at).total_seconds() / 60 if started_at and finished_at else None
        own_driver = run["driver_id"] is not None
        cash, serviced = totals.get(run["id"], (ZERO, ZERO))
        rows.append(
            {
                "run_id": run["id"],
                "route_id": run["route_id"],
                "route": run["route__code"],
                "route_name": run["route__name"],
                "driver": run["driver__name"] if own_driver else run["route__driver__name"],
                "driver_id": run["driver_id"] if own_driver else run["route__driver_id"],
                "scheduled_for": run["scheduled_for"],
                "started_at": started_at,
                "finished_at": finished_at,
                "stops_planned": planned,
                "stops_completed": completed,
                "completion_rate": ratio(completed, planned),
                "duration_minutes": duration,
                "minutes_per_stop": None if duration is None else ratio(duration, completed),
                "cash_collected": cash,
                "serviced_revenue": serviced,
            }
        )

    per_driver: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["driver_id"] is not None:
            per_driver[row["driver_id"]].append(row)
    drivers = []
    for driver_id, driver_runs in per_driver.items():
        paces = [r["minutes_per_stop"] for r in driver_runs if r["minutes_per_stop"]]
        mean_pace = statistics.fmean(paces) if paces else 0.0
        cv = statistics.pstdev(paces) / mean_pace if len(paces) >= 2 and mean_pace else 0.0
        drivers.append(
            {
                "driver_id": driver_id,
                "driver": driver_runs[0]["driver"],
                "runs": len(driver_runs),
                "stops_completed": sum(r["stops_completed"] for r in driver_runs),
                "avg_completion_rate": statistics.fmean(r["completion_rate"] for r in driver_runs),
                "avg_minutes_per_stop": mean_pace,
                "minutes_per_stop_cv": cv,
                "consistency": max(0.0, min(1.0, 1.0 - cv)) if len(paces) >= 2 else None,
                "cash_collected": sum((r["cash_collected"] for r in driver_runs), ZERO),
            }
        )
    drivers.sort(key=lambda d: (d["driver"] or "", d["driver_id"]))
    completed_total = sum(r["stops_completed"] for r in rows)
    planned_total = sum(r["stops_planned"] for r in rows)
    minutes_total = sum(r["duration_minutes"] or 0 for r in rows if r["duration_minutes"] is not None)
    completed_timed = sum(r["stops_completed"] for r in rows if r["duration_minutes"] is not None)
    return {
        "start": period.start,
        "end": period.end,
        "runs": truncate(rows, limit),
        "drivers": drivers,
        "total": {
            "runs": len(rows),
            "stops_planned": planned_total,
            "stops_completed": completed_total,
            "completion_rate": ratio(completed_total, planned_total),
            "minutes_per_stop": ratio(minutes_total, completed_timed),
            "cash_collected": sum((r["cash_collected"] for r in rows), ZERO),
            "serviced_revenue": sum((r["serviced_revenue"] for r in rows), ZERO),
        },
    }
