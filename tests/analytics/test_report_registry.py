"""The report registry: every report's answer has exactly the keys its typed rows declare, and the columns,
OpenAPI shapes and labels all come from those declarations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, get_args, get_origin

import pytest
from django_tenants.utils import schema_context

from analytics.reports import REPORTS, Column, get_report
from analytics.reports.fields import Nested, columns_of, row_fields, serializer_for
from analytics.reports.rows import DashboardKpis, DeviceSalesRow
from routes.models import Route, RouteRun, RouteStop, ServiceVisit, SlotFill
from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

SEEDED = {"start": "2026-02-01", "end": "2026-02-28"}


def _world() -> dict[str, Any]:
    here = f.location("REG", name="Registry", region="North", latitude="59.3", longitude="18.0")
    machine = f.device("REG-1", here)
    item = f.product("REG-P", cost="0.50")
    other = f.product("REG-Q")
    buyer = f.customer("REG-C")
    for day in range(1, 28):
        f.sale(machine, item, f.local(f"2026-02-{day:02d} 12:00"), f"{day}.25", quantity=day % 3 + 1, slot="A1", buyer=buyer)
        f.sale(machine, other, f.local(f"2026-02-{day:02d} 12:05"), "1.00", slot="A2", buyer=buyer)
    f.sale(machine, other, f.local("2026-02-15 13:00"), "900.00", slot="A2")  # an anomalous day
    f.slot(machine, "A1", item, f.local("2026-01-01 00:00"), capacity=10, par_level=5)
    court = f.resource("REG-R", here, "court", {d: ("08:00", "20:00") for d in range(1, 8)})
    f.booking(court, f.local("2026-02-10 10:00"), 60, "no_show", "15.00", buyer=buyer)
    f.booking(court, f.local("2026-02-11 10:00"), 60, "paid", "25.00", buyer=buyer)
    f.funnel("REG-S", "visit", f.local("2026-02-10 09:00"))
    f.funnel("REG-S", "wizard_start", f.local("2026-02-10 09:01"))
    route = Route.objects.create(code="R1", name="Route 1")
    RouteStop.objects.create(route=route, device=machine, position=1)
    run = RouteRun.objects.create(
        route=route, scheduled_for=f.local("2026-02-12 08:00").date(), started_at=f.local("2026-02-12 08:00"),
        finished_at=f.local("2026-02-12 09:00"), stops_planned=1,
    )
    visit = ServiceVisit.objects.create(route_run=run, device=machine, visited_at=f.local("2026-02-12 08:30"))
    SlotFill.objects.create(visit=visit, slot=machine.slots.get(), units_added=5, level_after=10)
    return {"route": route}


def _check(value: Any, row: type, where: str) -> None:
    """`value` has exactly the declared keys (optional ones may be missing), recursively."""
    assert isinstance(value, dict), where
    declared = {key: (python_type, field, required) for key, python_type, field, required in row_fields(row)}
    required = {key for key, (_, _, needed) in declared.items() if needed}
    assert required <= set(value), f"{where}: missing {sorted(required - set(value))}"
    assert set(value) <= set(declared), f"{where}: undeclared {sorted(set(value) - set(declared))}"
    for key, (python_type, field, _) in declared.items():
        if key not in value or not isinstance(field, Nested) or value[key] is None:
            continue
        if get_origin(python_type) is list:
            (child,) = get_args(python_type)
            for index, item in enumerate(value[key][:3]):
                _check(item, child, f"{where}.{key}[{index}]")
        else:
            inner = [arg for arg in get_args(python_type) if arg is not type(None)] or [python_type]
            _check(value[key], inner[0], f"{where}.{key}")


def test_every_report_answers_exactly_its_declared_rows(chain_a: ChainFixture) -> None:
    with schema_context(chain_a.schema):
        world = _world()
        extra: dict[str, dict[str, Any]] = {
            "asset-sales": {"daily_series": True}, "revenue": {"group_by": "product"}, "inventory": {"route": world["route"].id},
        }
        for name, report in REPORTS.items():
            answer = report.run({**SEEDED, **extra.get(name, {})})
            _check(answer, report.answer, name)
            assert report.table(answer), f"{name}: the seeded world should fill the main list"
            assert all(column.key in report.table(answer)[0] for column in report.columns), name


def test_columns_come_from_the_row_declarations() -> None:
    report = get_report("asset-sales")
    assert report.row is DeviceSalesRow
    assert report.columns[:4] == (
        Column("device_id", "Device id", "integer"), Column("asset", "Asset", "text"),
        Column("location_name", "Location name", "text"), Column("total_revenue", "Total revenue", "money"),
    )
    kinds = {column.key: column.kind for column in report.columns}
    assert kinds["percentile"] == "percent" and kinds["first_sale"] == "date" and "top_products" not in kinds
    assert {c.key: c.label for c in get_report("product-sales").columns}["sku"] == "SKU"
    assert [c.key for c in get_report("dashboard").columns] == ["date", "revenue", "units", "transactions"]
    assert {c.key: c.kind for c in columns_of(DashboardKpis)}["nps"] == "number"
    for report in REPORTS.values():
        assert report.columns, report.name
        assert report.kpis is None or report.kpis in {key for key, *_ in row_fields(report.answer)}


def test_the_documented_shape_is_generated_from_the_rows() -> None:
    serializer = serializer_for(DashboardKpis)()
    revenue = serializer.fields["revenue"]
    assert revenue.help_text == "sales_revenue + booking_revenue (money, 2 decimals)"
    assert serializer.fields["nps"].allow_null
    assert serializer_for(DashboardKpis) is REPORTS["dashboard"].response().fields["kpis"].__class__
    daily = serializer_for(DeviceSalesRow)().fields["daily"]
    assert daily.required is False  # NotRequired: only with ?daily_series=true


def test_a_row_key_without_a_declaration_is_refused() -> None:
    from typing import TypedDict

    class Bare(TypedDict):
        revenue: Decimal

    with pytest.raises(TypeError, match=r"Bare\.revenue needs Annotated"):
        row_fields(Bare)


def test_the_dashboard_has_a_documented_response_schema(chain_a: ChainFixture) -> None:
    schema = chain_a.client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    ok = schema["paths"]["/api/analytics/dashboard/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert ref == "DashboardAnswer"
    kpis = components["DashboardKpis"]["properties"]
    assert set(kpis) == {key for key, *_ in row_fields(DashboardKpis)}
    assert kpis["nps"]["nullable"] is True and "promoters" in kpis["nps"]["description"]
    undocumented = [
        f"{name}.{key}" for name in ("DashboardAnswer", "DashboardKpis", "DashboardChange", "DashboardDayRow",
                                     "TopDeviceRow", "TopProductSummaryRow", "TopLocationRow")
        for key, spec in components[name]["properties"].items()
        if not (spec.get("description") or any("description" in part for part in spec.get("allOf", [])))
    ]
    assert not undocumented
