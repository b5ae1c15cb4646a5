"""The documentation in the repository: its example files import as documented, and every link resolves."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from bookings.models import Booking, FunnelEvent, Resource
from chains.models import Chain
from fleet.models import Device, PlanogramSlot, Sale

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
CATALOG_ORDER = ("locations", "device_types", "devices", "categories", "products", "planogram", "resources")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def run(command: str, *args: str) -> dict:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_example_files_import_as_the_docs_say(committed_chain: Callable[..., Chain], django_db_blocker: pytest.FixtureRequest) -> None:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        chain = committed_chain(time_zone="Europe/Stockholm", currency="SEK")
        schema = chain.schema_name
        catalog = {kind: run("import_catalog", schema, kind, str(EXAMPLES / f"{kind}.csv")) for kind in CATALOG_ORDER}
        sales = run("import_sales", schema, str(EXAMPLES / "sales.csv"))
        bookings = run("import_bookings", schema, str(EXAMPLES / "bookings.csv"))
        funnel = run("import_funnel_events", schema, str(EXAMPLES / "funnel_events.csv"))
        again = run("import_sales", schema, str(EXAMPLES / "sales.csv"))
        with schema_context(schema):
            counts = (Device.objects.count(), PlanogramSlot.objects.count(), Resource.objects.count())
            revenue = sum(s.amount for s in Sale.objects.all())
            statuses = sorted(Booking.objects.values_list("status", flat=True))
            paid_event = FunnelEvent.objects.get(external_id="E-4")
            paid_booking = paid_event.booking.external_id if paid_event.booking else None

    assert {kind: (r["errors"], r["created"]) for kind, r in catalog.items()} == {
        "locations": ([], 2), "device_types": ([], 2), "devices": ([], 2), "categories": ([], 2),
        "products": ([], 3), "planogram": ([], 3), "resources": ([], 2),
    }
    assert counts == (2, 3, 2)
    assert (sales["errors"], sales["created"], revenue) == ([], 3, Decimal("7.50"))  # 1.50 + 4.00 + 2.00
    assert (again["created"], again["duplicates"]) == (0, 3)
    assert (bookings["errors"], bookings["created"], statuses) == ([], 3, ["cancelled", "no_show", "paid"])
    assert (funnel["errors"], funnel["created"], paid_booking) == ([], 5, "B-5001")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL (http://…, mailto:) or an anchor on the page
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() or ROOT not in path.parents:
            broken.append(target)
    assert broken == []
