"""The board pack: every figure equals the API's for the month (text read back from the PDF), A4 portrait, numbered."""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pypdf import PdfReader

from reporting.alerts.models import Alert, AlertRule
from tests.analytics import api_factories as f
from tests.reporting import data
from tests.reporting.support import api, export, pdf_text

MONTH = {"start": "2026-03-01", "end": "2026-03-31"}
FEBRUARY = {"start": "2026-02-01", "end": "2026-02-28"}
LABELS = {
    "revenue": "Revenue", "units": "Units", "transactions": "Transactions", "avg_transaction_value": "Average transaction",
    "active_devices": "Active devices", "revenue_run_rate": "Revenue run rate", "bookings": "Bookings",
    "no_show_rate": "No-show rate", "utilization": "Utilization", "booking_revenue": "Booking revenue", "nps": "NPS",
}


def shown(value: Any, rate: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value} ({value * 100:.1f} %)" if rate else str(value)


def lines_after(text: str, heading: str) -> list[str]:
    return text.split(heading, 1)[1].splitlines()[1:]


def seed_alerts() -> None:
    """Transitions around March in Stockholm time: two just outside it, one alert firing in February and resolving in
    March (its resolution counts, its fire does not), one firing on the 31st at 23:59, a hostile rule name."""
    low = AlertRule.objects.create(name="Low revenue", metric="revenue", condition="below", threshold=Decimal("50"),
                                   window="day", scope={})
    silent = AlertRule.objects.create(name="<script>Silent</script>", metric="hours_without_sales", condition="above",
                                      threshold=Decimal("4"), window="hour", scope={})

    def alert(rule: AlertRule, subject: str, fired: str, resolved: str | None, value: str) -> None:
        fired_at = f.local(fired)
        Alert.objects.create(rule=rule, scope_key=f"device:{subject}", subject=subject,
                             state="resolved" if resolved else "firing", value=Decimal(value), threshold=rule.threshold,
                             window_start=fired_at, window_end=fired_at, fired_at=fired_at,
                             resolved_at=f.local(resolved) if resolved else None)

    alert(low, "Test A", "2026-02-28 23:30", "2026-03-01 00:10", "12.5")  # resolved in March only
    alert(low, "Test A", "2026-03-10 08:00", "2026-03-11 08:00", "20")
    alert(silent, "A-1", "2026-03-31 23:59", None, "6")
    alert(silent, "A-2", "2026-02-20 10:00", "2026-02-28 23:59", "7")  # all in February
    alert(silent, "A-2", "2026-04-01 00:00", None, "9")  # April


def month_transitions(client: Any, start: str, end: str) -> list[tuple[str, str, str, str, str, str]]:
    """The month's transitions by the alerts API: its list, filtered by fired_at / resolved_at in local March."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    response = client.get("/api/reporting/alerts/", {"limit": 1000})
    assert response.status_code == 200
    zone = ZoneInfo("Europe/Stockholm")
    out = []
    for item in response.json():
        for transition, key in (("fired", "fired_at"), ("resolved", "resolved_at")):
            if item[key] is None:
                continue
            when = datetime.fromisoformat(item[key]).astimezone(zone)
            if start <= when.date().isoformat() <= end:
                out.append((when.strftime("%Y-%m-%d %H:%M"), transition, item["rule_name"], item["subject"],
                            item["value"], item["threshold"]))
    return sorted(out)


def test_board_pack_figures_equal_the_api_for_the_month(in_chain_a: Any) -> None:
    data.seed()
    seed_alerts()
    client = in_chain_a.client("manager")
    status, body, response = export(client, "board-pack", "pdf", {"month": "2026-03"})
    assert status == 200, body[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="test_a-board-pack-2026-03-01-2026-03-31.pdf"'
    text = pdf_text(body)
    board, before = api(client, "dashboard", MONTH), api(client, "dashboard", FEBRUARY)
    kpis = board["kpis"]
    # By hand from data.seed, the sales of March: units 2 × 4 + 1 + 1 (A-1) + 2 + 2 + 4 (A-2) + 1 (-A3) = 19, ten sales,
    # 10.00 × 4 + 99 + 99 + 5 + 7 + 12 + 6.005 = 268.005; bookings not cancelled 20 + 30 (by start time).
    assert (kpis["units"], kpis["transactions"], kpis["active_devices"], kpis["bookings"]) == (19, 10, 3, 3)
    hand = Decimal("268.005") + (Decimal(50) if "booking_revenue" in kpis else 0)
    assert kpis["revenue"] == str(hand.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    # The KPI strip: this month as the API says, February as the API says for February.
    for key, label in LABELS.items():
        if key not in kpis:
            continue
        rate = key in ("no_show_rate", "utilization")
        line = re.search(rf"^{re.escape(label)} (.+)$", text, re.MULTILINE)
        assert line, (label, text[:2000])
        assert line.group(1).startswith(f"{shown(kpis[key], rate)} {shown(before['kpis'][key], rate)} "), (key, line.group(1))
    # Top devices, products and locations: the rows of asset-sales / product-sales / locations for the month.
    devices = sorted(api(client, "asset-sales", MONTH)["devices"], key=lambda d: (-float(d["total_revenue"]), d["asset"]))
    rows = lines_after(text, "Device Location Revenue Units Transactions")[: len(devices)]
    assert rows == [
        f"{d['asset']} {d['location_name']} {d['total_revenue']} {d['total_units']} {d['total_transactions']}" for d in devices
    ]
    assert [row.split()[0] for row in rows] == ["A-1", "A-2", "-A3", "A-4"]
    products = api(client, "product-sales", MONTH)["products"]
    rows = lines_after(text, "SKU Product Revenue Units ABC")[: len(products)]
    assert rows == [f"{p['sku']} {p['name']} {p['revenue']} {p['units']} {p['abc_class']}" for p in products]
    locations = api(client, "locations", MONTH)["locations"]
    rows = lines_after(text, "Code Location Revenue Units Transactions")[: len(locations)]
    assert rows == [f"{loc['code']} {loc['name']} {loc['revenue']} {loc['units']} {loc['transactions']}" for loc in locations]
    regions = api(client, "revenue", {**MONTH, "group_by": "region"})["groups"]
    rows = lines_after(text, "Revenue by region")[1: 1 + len(regions)]
    assert rows == [f"{g['key']} {g['name']} {g['revenue']} {g['units']} {g['transactions']}" for g in regions]
    assert sum(Decimal(g["revenue"]) for g in regions) == Decimal("268.01")  # 238.00 + 30.01 (6.005 + 24 rounded once)
    # Venues: utilization per resource and for the chain, the funnel, the cohorts.
    usage = api(client, "utilization", MONTH)
    total = usage["total"]
    assert (f"{total['bookings']} {total['no_shows']} {shown(total['no_show_rate'], True)} "
            f"{shown(total['utilization'], True)} {total['revenue']}") in text
    funnel = api(client, "conversion", MONTH)["steps"]
    rows = lines_after(text, "Step Sessions Conversion Drop-off")[: len(funnel)]
    assert rows == [
        f"{s['step']} {s['sessions']} {shown(s['conversion'], True)} {shown(s['drop_off'], True)}" for s in funnel
    ]
    assert [s["sessions"] for s in funnel] == [3, 2, 1, 1]  # s1 all four steps, s2 two, s3 one
    cohorts = api(client, "customers", MONTH)["cohorts"]
    rows = lines_after(text, "Month First-time Repeat")[: len(cohorts)]
    assert rows == [f"{c['month']} {c['first_time']} {c['repeat']}" for c in cohorts]
    # The cover, the contents with page numbers, A4 portrait, every page numbered.
    assert "Test A\n2026-03\n" in text and "Currency SEK" in text
    reader = PdfReader(io.BytesIO(body))
    pages = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 portrait
        assert f"Page {number} of {pages}" in (page.extract_text() or "")
    # Alerts of the month: the API's transitions of local March, with their counts (by hand from seed_alerts: fired
    # on the 10th and the 31st, resolved on the 1st and the 11th; Low revenue 1 fired 2 resolved, Silent 1 and 0).
    transitions = month_transitions(client, "2026-03-01", "2026-03-31")
    assert [(t[0], t[1]) for t in transitions] == [
        ("2026-03-01 00:10", "resolved"), ("2026-03-10 08:00", "fired"), ("2026-03-11 08:00", "resolved"),
        ("2026-03-31 23:59", "fired")]
    fired = sum(1 for t in transitions if t[1] == "fired")
    resolved = len(transitions) - fired
    assert (fired, resolved) == (2, 2)
    assert f"Alert transitions: {fired} fired, {resolved} resolved" in text
    rows = lines_after(text, "When Transition Rule Scope Value Threshold")[: len(transitions)]
    assert rows == [" ".join(t) for t in transitions]
    assert "<script>Silent</script> 1 0" in text and "Low revenue 1 2" in text and f"All rules {fired} {resolved}" in text
    toc_names = ("Key figures", "Daily revenue", "Top and bottom devices", "Regions", "Venues", "Alerts of the month")
    toc = re.findall(rf"^({'|'.join(toc_names)}) \.+ +(\d+)$", text, re.MULTILINE)
    assert [name for name, _ in toc] == list(toc_names)
    for name, page_number in toc:
        assert name in (reader.pages[int(page_number) - 1].extract_text() or "")


def test_board_pack_is_pdf_only_and_needs_a_month(in_chain_a: Any) -> None:
    client = in_chain_a.client("manager")
    for params, field in (({"month": "2026-13"}, "month"), ({}, "month"), ({"month": "2999-01"}, "month"),
                          ({"month": "2026-03", "start": "2026-03-01"}, "start")):
        status, body, response = export(client, "board-pack", "pdf", params)
        assert status == 400 and field in response.json(), (params, body)
    status, _, response = export(client, "board-pack", "csv", {"month": "2026-03"})
    assert status == 400 and "format" in response.json()
    assert export(in_chain_a.client("viewer"), "board-pack", "pdf", {"month": "2026-03"})[0] == 403


def test_board_pack_of_a_month_without_alerts_says_so(in_chain_a: Any) -> None:
    data.seed()
    seed_alerts()  # transitions in February, March and April, none in January
    client = in_chain_a.client("manager")
    assert month_transitions(client, "2026-01-01", "2026-01-31") == []
    status, body, _ = export(client, "board-pack", "pdf", {"month": "2026-01"})
    assert status == 200
    text = pdf_text(body)
    assert "Alert transitions: 0 fired, 0 resolved" in text
    assert text.count("No alert fired or resolved this month.") == 2
    assert re.search(r"^Alerts of the month \.+ +\d+$", text, re.MULTILINE)
