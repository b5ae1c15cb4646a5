"""The forms of /reports/ and /alerts/ in Chromium: a manager creates a scheduled report and an alert rule through the
forms and sees them listed (a refused value is named next to its field), edits the rule, a viewer sees no forms, and
hostile names stay text — under the strict CSP, with no console errors.

Each section is also saved as a PNG (to $CVD_SCREENSHOT_DIR when set, else the test's tmp_path) for a look by eye.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pages.conftest import Site, Visit
from tests.pages.test_pages_browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

HOSTILE_NAME = "<script>alert('x')</script> Daily <img src=x onerror=alert(2)>"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("CVD_SCREENSHOT_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def clean(site: Site) -> Iterator[None]:
    """What the forms made goes again after the test (the session's chain is shared by the browser tests)."""
    yield

    def drop() -> None:
        from reporting.alerts.models import AlertRule
        from reporting.subscriptions.models import Subscription

        Subscription.objects.all().delete()
        AlertRule.objects.filter(name__startswith="<script>").delete()

    committed(site, drop)


def open_page(visit: Visit, site: Site, path: str) -> None:
    response = visit.page.goto(site.url(path))
    assert response is not None and response.status == 200, (path, response and response.status)
    visit.page.wait_for_selector("html[data-ready=true]", state="attached")


def submitted(visit: Visit, selector: str) -> int:
    """Click a form's submit button; the status of the page the post lands on (after a redirect, the final one)."""
    with visit.page.expect_navigation() as navigation:
        visit.page.click(selector)
    response = navigation.value
    visit.page.wait_for_selector("html[data-ready=true]", state="attached")
    return int(response.status) if response is not None else 0


def no_script_ran(visit: Visit) -> None:
    """No hostile markup ran, nothing was refused by the CSP or fetched from outside; Chromium logs the refused
    form's own 400 page as "Failed to load resource", which is expected and the only console error allowed."""
    assert visit.page.locator("img[src=x]").count() == 0
    refused = "Failed to load resource: the server responded with a status of 400"
    assert visit.dialogs == [] and [e for e in visit.errors if not e.startswith(refused)] == [] and visit.outside == []


def test_a_manager_schedules_a_report_through_the_form(site: Site, visit: Callable[..., Visit], shots: Path,
                                                        clean: None) -> None:
    seen = visit("manager")
    open_page(seen, site, "/reports/")
    form = "form[data-form=subscription]"
    # first a refused value: the message sits next to its field, the other values stay
    seen.page.fill(f"{form} [name=name]", HOSTILE_NAME)
    seen.page.select_option(f"{form} [name=report]", "asset-sales")
    seen.page.select_option(f"{form} [name=format]", "xlsx")
    seen.page.select_option(f"{form} [name=range]", "previous_week")
    seen.page.select_option(f"{form} [name=freq]", "weekly")
    seen.page.fill(f"{form} [name=at]", "07:30")
    seen.page.fill(f"{form} [name=recipients]", "ops@example.com\nnot-an-address")
    assert submitted(seen, "[data-submit=subscription]") == 400
    error = seen.page.locator("[data-error-for=weekday]")
    assert "weekday" in error.inner_text()
    assert "not-an-address" in seen.page.locator("[data-error-for=recipients]").inner_text()
    assert seen.page.input_value(f"{form} [name=name]") == HOSTILE_NAME
    assert seen.page.locator(f"{form} [name=recipients][aria-invalid=true]").count() == 1
    seen.page.locator("[data-section=subscriptions]").screenshot(path=str(shots / "reports-subscriptions-errors.png"))
    # corrected: saved, listed with its local recurrence, recipients and next occurrence
    seen.page.select_option(f"{form} [name=weekday]", "1")
    seen.page.fill(f"{form} [name=recipients]", "ops@example.com, board@example.com")
    assert submitted(seen, "[data-submit=subscription]") == 200
    assert "/reports/#subscription-" in seen.page.url
    rows = seen.page.locator("table[data-table=subscriptions] tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert HOSTILE_NAME in row and "Asset sales" in row and "XLSX" in row and "previous week" in row
    assert f"Weekly on Monday at 07:30 ({site.time_zone})" in row
    assert "ops@example.com" in row and "board@example.com" in row and "Active" in row and "none yet" in row
    seen.page.locator("[data-section=subscriptions]").screenshot(path=str(shots / "reports-subscriptions.png"))
    # pause from the row: it says Paused and offers Resume
    assert submitted(seen, "table[data-table=subscriptions] [data-action=pause]") == 200
    assert "Paused" in rows.first.inner_text()
    assert seen.page.locator("table[data-table=subscriptions] [data-action=resume]").count() == 1
    no_script_ran(seen)
    assert (shots / "reports-subscriptions.png").stat().st_size > 5000


def test_a_manager_adds_and_edits_an_alert_rule_through_the_form(site: Site, visit: Callable[..., Visit], shots: Path,
                                                                  clean: None) -> None:
    seen = visit("manager")
    open_page(seen, site, "/alerts/")
    form = "form[data-form=alert-rule]"
    seen.page.fill(f"{form} [name=name]", "<script>alert(1)</script> silent")
    seen.page.select_option(f"{form} [name=metric]", "hours_without_sales")
    seen.page.select_option(f"{form} [name=scope_kind]", "device")
    seen.page.fill(f"{form} [name=scope_code]", "NO-SUCH")
    seen.page.select_option(f"{form} [name=condition]", "above")
    seen.page.fill(f"{form} [name=threshold]", "4")
    seen.page.select_option(f"{form} [name=window]", "hour")
    seen.page.fill(f"{form} [name=recipients]", "ops@example.com")
    seen.page.fill(f"{form} [name=snoozed_until]", "2030-12-24T18:00")
    assert submitted(seen, "[data-submit=alert-rule]") == 400
    assert "NO-SUCH" in seen.page.locator("[data-error-for=scope_kind]").inner_text()
    seen.page.locator("[data-section=alert-rule-form]").screenshot(path=str(shots / "alerts-rule-form-errors.png"))
    seen.page.fill(f"{form} [name=scope_code]", "VM-1")
    assert submitted(seen, "[data-submit=alert-rule]") == 200
    assert "/alerts/#rule-" in seen.page.url
    row = seen.page.locator("table[data-table=alert-rules] tbody tr", has_text="silent")
    assert row.count() == 1
    text = row.inner_text()
    assert "<script>alert(1)</script> silent" in text and "device VM-1" in text and "2030-12-24 18:00" in text
    seen.page.locator("[data-section=alert-rules]").screenshot(path=str(shots / "alerts-rules.png"))
    # edit it: the form comes filled in; every device, threshold 6
    with seen.page.expect_navigation():
        row.locator("[data-action=edit]").click()
    seen.page.wait_for_selector("html[data-ready=true]", state="attached")
    assert seen.page.input_value(f"{form} [name=threshold]") == "4"
    assert seen.page.input_value(f"{form} [name=scope_code]") == "VM-1"
    seen.page.locator("[data-section=alert-rule-form]").screenshot(path=str(shots / "alerts-rule-form-edit.png"))
    seen.page.select_option(f"{form} [name=scope_kind]", "every_device")
    seen.page.fill(f"{form} [name=scope_code]", "")
    seen.page.fill(f"{form} [name=threshold]", "6")
    assert submitted(seen, "[data-submit=alert-rule]") == 200
    text = seen.page.locator("table[data-table=alert-rules] tbody tr", has_text="silent").inner_text()
    assert "every device" in text and "6" in text
    seen.page.locator("[data-section=alert-rule-form]").screenshot(path=str(shots / "alerts-rule-form.png"))
    no_script_ran(seen)


def test_a_viewer_sees_no_forms(site: Site, visit: Callable[..., Visit], shots: Path) -> None:
    seen = visit("viewer")
    open_page(seen, site, "/reports/")
    assert seen.page.locator("[data-section=subscriptions]").count() == 0
    assert seen.page.locator("form[data-form]").count() == 0
    open_page(seen, site, "/alerts/")
    assert seen.page.locator("form[data-form]").count() == 0
    assert seen.page.locator("[data-action]").count() == 0
    assert seen.page.locator("table[data-table=alert-rules]").count() == 1  # the rules, read only
    seen.page.locator("[data-section=alert-rules]").screenshot(path=str(shots / "alerts-rules-viewer.png"))
    status = seen.page.evaluate(
        "() => fetch('/alerts/rules/', {method: 'POST', credentials: 'same-origin', headers: {'X-CSRFToken': "
        "document.cookie.replace(/(?:(?:^|.*;\\s*)csrftoken\\s*=\\s*([^;]*).*$)|^.*$/, '$1')}}).then(r => r.status)")
    assert status == 403
    # the refused fetch logs a console error in Chromium ("Failed to load resource"): nothing else may
    assert [e for e in seen.errors if "403" not in e] == []


def test_the_forms_fit_a_phone(site: Site, visit: Callable[..., Visit], shots: Path) -> None:
    seen = visit("manager", width=390, height=844)
    for path, section in (("/reports/", "subscriptions"), ("/alerts/", "alert-rule-form")):
        open_page(seen, site, path)
        widths = seen.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] == 390, (path, widths)
        seen.page.locator(f"[data-section={section}]").screenshot(path=str(shots / f"phone-{section}.png"))
    assert seen.errors == []
