"""What every page shares: the chain, the navigation the role may use, the filter bar and the export controls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from analytics.pages.presentation import Formatter
from analytics.query import current_chain, local_today
from bookings.models import Resource
from chains.capabilities import ANALYTICS_EXPORT
from fleet.models import Category, Device, DeviceType, Location

# The query parameters of the filter bar: shared by every page and carried by every drill-down link.
FILTER_PARAMS = ("start", "end", "location", "region", "device_type", "category")


def cleaned_query(request: HttpRequest) -> QueryDict:
    """The query string without empty values (an empty select means "all", not a bad value)."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        kept = [value for value in values if value.strip()]
        if kept:
            query.setlist(key, kept)
    return query


def filter_query(query: QueryDict) -> str:
    """The filter bar's part of a query string, for drill-down links that keep the range and filters."""
    return urlencode([(key, value) for key in FILTER_PARAMS for value in query.getlist(key)])


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str


# Pages served by the reporting side (analytics does not import it): routed in cvd/urls.py, linked by path.
ROUTED_ELSEWHERE = {"alerts": "/alerts/", "reports": "/reports/"}


def navigation(*, has_devices: bool, has_resources: bool) -> list[NavItem]:
    items = [("dashboard", "Dashboard", True), ("assets", "Devices", has_devices), ("products", "Products", has_devices),
             ("locations", "Locations", True), ("trends", "Trends", True), ("anomalies", "Anomalies", has_devices),
             ("routes", "Routes", has_devices), ("inventory", "Inventory", has_devices),
             ("venues", "Venues", has_resources), ("customers", "Customers", True), ("alerts", "Alerts", True),
             ("reports", "Reports", True)]
    return [NavItem(key, label, ROUTED_ELSEWHERE.get(key) or reverse(f"pages:{key}")) for key, label, shown in items if shown]


def presets(today: date) -> list[tuple[str, str, date, date]]:
    first_of_month = today.replace(day=1)
    last_of_previous = first_of_month - timedelta(days=1)
    return [
        ("today", "Today", today, today),
        ("7d", "7 days", today - timedelta(days=6), today),
        ("30d", "30 days", today - timedelta(days=29), today),
        ("90d", "90 days", today - timedelta(days=89), today),
        ("mtd", "Month to date", first_of_month, today),
        ("prev-month", "Previous month", last_of_previous.replace(day=1), last_of_previous),
        ("ytd", "Year to date", today.replace(month=1, day=1), today),
    ]


def filter_bar(query: QueryDict, *, start: date | None, end: date | None, today: date) -> dict[str, Any]:
    others = [(key, value) for key in FILTER_PARAMS[2:] for value in query.getlist(key)]
    preset_links = []
    for key, label, first, last in presets(today):
        href = "?" + urlencode([("start", first.isoformat()), ("end", last.isoformat()), *others])
        preset_links.append({"key": key, "label": label, "href": href, "active": (first, last) == (start, end)})
    selected = {key: set(query.getlist(key)) for key in FILTER_PARAMS[2:]}

    def options(pairs: list[tuple[Any, str]], key: str) -> list[dict[str, Any]]:
        return [{"value": str(value), "label": label, "selected": str(value) in selected[key]} for value, label in pairs]

    regions = sorted({region for region in Location.objects.exclude(region="").values_list("region", flat=True)})
    return {
        "presets": preset_links,
        "start": start.isoformat() if start else "",
        "end": end.isoformat() if end else "",
        "selects": [
            {"name": "location", "label": "Location",
             "options": options([(pk, f"{name} ({code})") for pk, code, name in Location.objects.order_by("name").values_list("id", "code", "name")], "location")},
            {"name": "region", "label": "Region", "options": options([(region, region) for region in regions], "region")},
            {"name": "device_type", "label": "Device type",
             "options": options(list(DeviceType.objects.order_by("name").values_list("id", "name")), "device_type")},
            {"name": "category", "label": "Category",
             "options": options(list(Category.objects.order_by("name").values_list("id", "name")), "category")},
        ],
    }


def page_context(request: HttpRequest, *, active: str) -> dict[str, Any]:
    chain = current_chain()
    has_devices = Device.objects.exists()
    has_resources = Resource.objects.exists()
    fmt = Formatter(currency=chain.currency, time_zone=chain.time_zone)
    return {
        "chain": chain,
        "fmt": fmt,
        "format_config": fmt.js_config(),
        "nav": navigation(has_devices=has_devices, has_resources=has_resources),
        "active": active,
        "has_devices": has_devices,
        "has_resources": has_resources,
        "can_export": request.user.has_perm(ANALYTICS_EXPORT),
        "today": local_today(chain),
    }
