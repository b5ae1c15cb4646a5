"""The pages in Chromium: every role signs in, every page renders without console errors or outside requests,
figures equal the API's, drill-down lands on the device's figures, export controls by capability, hostile names
stay text, the phone width does not scroll sideways, and today's figures refresh every minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.pages.conftest import Site, Visit
from tests.pages.world import HOSTILE

# django_db: the session's databases are set up for these tests too; the test's own transaction stays empty, since
# the data is committed by the session fixture and every later write goes through `committed` (another connection).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def committed(site: Site, work: Callable[[], None]) -> None:
    """Run `work` in the chain's schema on a connection of its own, so the app's thread sees it at once."""
    import threading

    from django.db import connection

    failure: list[BaseException] = []

    def run() -> None:
        try:
            with schema_context(site.schema):
                work()
        except BaseException as exc:  # re-raised in the test
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]

PAGES = ["/dashboard/", "/assets/", "/assets/VM-1/", "/products/", "/products/COLA/", "/locations/", "/locations/N-1/",
         "/trends/", "/anomalies/", "/routes/", "/inventory/", "/venues/", "/venues/C-1/", "/customers/", "/alerts/",
         "/reports/"]


def range_query(site: Site) -> str:
    return urlencode({"start": site.world.start.isoformat(), "end": site.world.end.isoformat()})


def go(visit: Visit, site: Site, path: str, query: str = "") -> None:
    response = visit.page.goto(site.url(path) + (f"?{query}" if query else ""))
    assert response is not None and response.status == 200, (path, response and response.status)
    # the scripts ran (charts are drawn synchronously) and every map has its outlines
    visit.page.wait_for_selector("html[data-ready=true]", state="attached")
    # (a selector, not wait_for_function: Playwright evaluates a string predicate with eval, which the pages' CSP
    # refuses whenever the predicate is not already true at the first check)
    visit.page.wait_for_selector("[data-map]:not([data-rendered])", state="detached")


def api(visit: Visit, site: Site, report: str, query: str) -> dict[str, Any]:
    """The API's answer, fetched by the page itself with its session (Node's resolver knows no *.localhost)."""
    status, answer = visit.page.evaluate(
        "url => fetch(url, {credentials: 'same-origin'}).then(r => r.json().then(body => [r.status, body]))",
        site.url(f"/api/analytics/{report}/?{query}"))
    assert status == 200, answer
    return answer


def kpis_on(visit: Visit, report: str = "") -> dict[str, str]:
    """The KPI figures of a page (of one report's cards when given), the first of each name."""
    selector = f".kpis[data-report='{report}'] [data-kpi]" if report else "[data-kpi]"
    return visit.page.eval_on_selector_all(
        selector, "nodes => Object.fromEntries(nodes.reverse().map(n => [n.dataset.kpi, n.dataset.value]))")


def same_as_api(shown: str, value: Any) -> bool:
    """Money and dates are strings in the API and equal to the letter; numbers are equal as numbers (0.0 is 0)."""
    if value is None:
        return shown == ""
    if isinstance(value, bool):
        return shown == str(value).lower()
    if isinstance(value, str):
        return shown == value
    return float(shown) == float(value)


def test_sign_in_form_then_every_page_for_every_role(site: Site, visit: Callable[..., Visit]) -> None:
    # the form itself, for a viewer (not staff): lands on the dashboard
    anonymous = visit(None)
    anonymous.page.goto(site.url("/assets/"))
    assert "/login/?next=/assets/" in anonymous.page.url
    anonymous.page.fill("input[name=username]", f"{site.schema}-viewer")
    anonymous.page.fill("input[name=password]", "pw")
    anonymous.page.keyboard.press("Enter")
    anonymous.page.wait_for_url("**/assets/")
    assert anonymous.page.locator("a[href='/admin/']").count() == 0

    query = range_query(site)
    for role in ("viewer", "manager", "admin"):
        seen = visit(role)
        for path in PAGES if role != "admin" else ["/dashboard/", "/assets/VM-1/"]:
            go(seen, site, path, query)
            assert seen.page.locator(".filter-bar input[name=start]").count() == 1, path
            assert seen.page.locator(".chain-name").inner_text() == "Pages Test Chain"
            charts = seen.page.locator("canvas[data-chart]")
            for index in range(charts.count()):
                assert charts.nth(index).get_attribute("data-rendered") == "true", path
            maps = seen.page.locator("[data-map]")
            for index in range(maps.count()):
                assert maps.nth(index).get_attribute("data-rendered") == "true", path
                assert maps.nth(index).locator("path.leaflet-interactive").count() >= 1, path  # the markers
            for table in seen.page.locator("table[data-table]").all():
                assert table.locator("thead th").count() >= 1, path
        assert seen.errors == [], (role, seen.errors)
        assert seen.outside == [], seen.outside
        assert seen.hosts <= {site.base.split("//")[1].split(":")[0]}, seen.hosts
    # the venue and vending pages are in the navigation of a chain that has both
    nav = seen.page.locator("nav.main-nav a").all_inner_texts()
    assert "Venues" in nav and "Devices" in nav and "Inventory" in nav


def test_figures_on_the_pages_equal_the_api(site: Site, visit: Callable[..., Visit]) -> None:
    seen = visit("viewer")
    query = range_query(site)
    world = site.world
    checks = [
        ("/dashboard/", "dashboard", query, lambda a: a["kpis"]),
        ("/assets/", "asset-sales", query, lambda a: a["fleet_summary"]),
        ("/assets/VM-1/", "asset-sales", query + "&device=" + str(_device_id(site, "VM-1")),
         lambda a: {k: v for k, v in a["devices"][0].items() if k not in ("performance_score", "fleet_rank", "percentile")}),
        ("/locations/N-1/", "dashboard", query + "&location=" + str(_location_id(site, "N-1")), lambda a: a["kpis"]),
        ("/venues/", "utilization", query, lambda a: a["total"]),
        ("/inventory/", "inventory", query, lambda a: a["risk_summary"]),
        ("/routes/", "routes", query, lambda a: a["total"]),
    ]
    for path, report, api_query, pick in checks:
        go(seen, site, path, query)
        shown = kpis_on(seen, report)
        expected = pick(api(seen, site, report, api_query))
        compared = [key for key in shown if key in expected]
        assert compared, path
        for key in compared:
            if key == "revenue_run_rate":  # counts today's elapsed time: it moves between page and API request
                assert abs(float(shown[key]) - float(expected[key])) <= 0.01 * float(expected[key]), (path, key)
                continue
            assert same_as_api(shown[key], expected[key]), (path, key, shown[key], expected[key])
    # and the hand sums (computed in tests/pages/world.py, not by the code): the fleet's revenue and units
    go(seen, site, "/assets/", query)
    shown = kpis_on(seen)
    assert Decimal(shown["total_revenue"]) == world.revenue
    assert int(shown["total_units"]) == world.units
    assert seen.page.locator("[data-kpi=total_revenue]").inner_text() == "1,264.75 kr"
    # every device row of the table carries the API's revenue
    answer = api(seen, site, "asset-sales", query)
    rows = seen.page.eval_on_selector_all(
        "table[data-table=asset-sales]:not([data-list]) tbody tr",
        "rows => rows.map(r => [r.cells[1].innerText, r.cells[3].dataset.value])")
    assert sorted(rows) == sorted([d["asset"], d["total_revenue"]] for d in answer["devices"])
    assert {asset: Decimal(revenue) for asset, revenue in rows} == world.device_revenue
    assert seen.errors == []


def _device_id(site: Site, asset: str) -> int:
    from fleet.models import Device

    with schema_context(site.schema):
        return Device.objects.get(asset=asset).id


def _location_id(site: Site, code: str) -> int:
    from fleet.models import Location

    with schema_context(site.schema):
        return Location.objects.get(code=code).id


def test_drill_down_from_the_fleet_to_a_device_lands_on_its_figures(site: Site, visit: Callable[..., Visit]) -> None:
    seen = visit("viewer")
    query = range_query(site)
    go(seen, site, "/locations/", query)
    seen.page.click("table[data-table=locations]:not([data-list]) a:text-is('N-1')")
    seen.page.wait_for_url("**/locations/N-1/?*")
    row = seen.page.locator("table[data-table=asset-sales] tbody tr", has_text="VM-1")
    fleet_revenue = row.locator("td").nth(3).get_attribute("data-value")
    row.locator("a", has_text="VM-1").click()
    seen.page.wait_for_url("**/assets/VM-1/?*")
    seen.page.wait_for_selector("html[data-ready=true]")
    assert f"start={site.world.start.isoformat()}" in seen.page.url  # the range is kept
    assert seen.page.locator("h1").inner_text() == "Device VM-1"
    assert seen.page.get_attribute("[data-kpi=total_revenue]", "data-value") == fleet_revenue == "1250.25"
    # the device's own sections: trend, top products, anomalies, slots and stock, DEX reads
    for table in ("asset-sales", "anomalies", "inventory", "dex-reads"):
        assert seen.page.locator(f"table[data-table={table}]").count() >= 1, table
    assert seen.page.locator("canvas[data-chart=device-daily][data-rendered=true]").count() == 1
    assert "vm1-read.dex" in seen.page.locator("table[data-table=dex-reads]").inner_text()
    # product → the devices that stock it → back to a device
    seen.page.locator("table[data-table=asset-sales] a", has_text="COLA").first.click()
    seen.page.wait_for_url("**/products/COLA/?*")
    stockists = seen.page.locator("table[data-table=planogram] tbody tr").all_inner_texts()
    assert len(stockists) == 3
    assert seen.errors == []


def test_export_controls_by_capability_post_with_csrf(site: Site, visit: Callable[..., Visit]) -> None:
    query = range_query(site)
    viewer = visit("viewer")
    go(viewer, site, "/assets/", query)
    assert viewer.page.locator("[data-export]").count() == 0
    manager = visit("manager")
    go(manager, site, "/assets/", query)
    assert manager.page.locator("[data-export]").evaluate_all("nodes => nodes.map(n => n.dataset.export)") == [
        "csv", "xlsx", "pdf"]
    with manager.page.expect_request("**/api/analytics/export/") as caught:
        manager.page.click("[data-export=csv]")
    request = caught.value
    assert request.method == "POST"
    assert request.post_data_json == {"start": site.world.start.isoformat(), "end": site.world.end.isoformat(),
                                      "report": "asset-sales", "format": "csv"}
    token = request.headers.get("x-csrftoken")
    assert token and len(token) >= 32


def test_a_hostile_name_is_text(site: Site, visit: Callable[..., Visit]) -> None:
    seen = visit("viewer")
    query = range_query(site)
    for path in ("/assets/", "/products/", "/locations/", "/inventory/"):
        go(seen, site, path, query)
        assert seen.page.locator("img[src=x]").count() == 0, path
        assert seen.page.get_by_text(HOSTILE, exact=True).count() >= 1, path
    go(seen, site, "/locations/", query)
    seen.page.locator(".leaflet-interactive").last.click(force=True)  # a popup names the location too
    assert seen.page.locator("img[src=x]").count() == 0
    assert seen.dialogs == []
    assert seen.errors == []


def test_phone_width_has_no_horizontal_scroll(site: Site, visit: Callable[..., Visit]) -> None:
    seen = visit("manager", width=390, height=844)
    query = range_query(site)
    for path in ("/dashboard/", "/assets/", "/assets/VM-1/", "/products/", "/locations/", "/trends/", "/venues/",
                 "/inventory/", "/customers/"):
        go(seen, site, path, query)
        widths = seen.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] == 390, (path, widths)
    # the keyboard reaches the table sort buttons, and sorting works from the keyboard
    go(seen, site, "/assets/", query)
    button = seen.page.locator("table[data-table=asset-sales]:not([data-list]) th[data-key=total_revenue] button")
    button.focus()
    seen.page.keyboard.press("Enter")
    header = seen.page.locator("table[data-table=asset-sales]:not([data-list]) th[data-key=total_revenue]")
    assert header.get_attribute("aria-sort") == "ascending"
    first = seen.page.locator("table[data-table=asset-sales]:not([data-list]) tbody tr").first
    assert first.locator("td").nth(3).get_attribute("data-value") == "1.75"
    assert seen.errors == []


def test_todays_figures_refresh_every_minute(site: Site, visit: Callable[..., Visit]) -> None:
    from fleet.models import Device, Product, Sale

    seen = visit("viewer", clock=True)
    query = range_query(site)
    go(seen, site, "/dashboard/", query)
    before = seen.page.get_attribute("[data-kpi=revenue]", "data-value")
    assert seen.page.locator("[data-updated]").inner_text().startswith("updated ")
    committed(site, lambda: Sale.objects.create(
        external_id="page-live", sold_at=timezone.now() - timedelta(seconds=5), device=Device.objects.get(asset="VM-2"),
        product=Product.objects.get(sku="COLA"), quantity=1, amount=Decimal("10.00"), transactions=1,
        source=Sale.Source.TELEMETRY))
    try:
        with seen.page.expect_response(lambda r: "/api/analytics/dashboard/" in r.url) as answered:
            seen.page.clock.fast_forward("01:01")
        assert answered.value.status == 200
        seen.page.wait_for_selector("[data-live-url][data-refreshed]", state="attached")
        after = seen.page.get_attribute("[data-kpi=revenue]", "data-value")
        assert Decimal(after or "0") == Decimal(before or "0") + Decimal("10.00")
        assert after == api(seen, site, "dashboard", query)["kpis"]["revenue"]
        assert seen.page.locator("[data-updated]").inner_text().startswith("updated ")
    finally:
        committed(site, lambda: Sale.objects.filter(external_id="page-live").delete() and None)
    assert seen.errors == []
