"""The chain admin site: the sections that apply to the chain, its time zone, and the analytics pages instead of plumbing.

Which sections apply is decided by the chain's data, not by a setting: a chain with devices runs vending
machines, a chain with resources runs venues. A chain with neither (a new one) sees everything, so it can
add its first device or resource; a chain with both sees everything too. A hidden section's pages still
answer (nothing is forbidden by this), and the index names them with a link, so a vending operator who
opens a venue can add its first resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db import connection
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import capfirst

# Sections (model labels, or an app label for every model of the app) that only a vending chain uses.
# Sales need a device, products and categories exist for sales and planograms, routes visit devices.
VENDING_SECTIONS = frozenset(
    {"fleet.devicetype", "fleet.device", "fleet.planogramslot", "fleet.product", "fleet.category", "fleet.sale",
     "fleet.dexread", "routes"}
)
VENUE_SECTIONS = frozenset({"bookings"})
# Bookkeeping between ingestion and the rollup jobs: nothing a person reads or edits.
PLUMBING = frozenset({"analytics.dirtyrange"})
# What the Analytics section lists instead: the pages and the API documentation of the chain's domain.
ANALYTICS_LINKS = (
    ("Dashboards", "/dashboard/"),
    ("API documentation", "/api/docs/"),
    ("API schema (OpenAPI)", "/api/schema/"),
)


@dataclass(frozen=True)
class ChainSections:
    """What the chain's data says it runs."""

    vending: bool
    venue: bool

    def applies(self, app_label: str, model_name: str) -> bool:
        label = f"{app_label}.{model_name}"
        if label in PLUMBING:
            return False
        if label in VENDING_SECTIONS or app_label in VENDING_SECTIONS:
            return self.vending
        if label in VENUE_SECTIONS or app_label in VENUE_SECTIONS:
            return self.venue
        return True


# Whether the current chain has data of a section ("vending", "venue"): the domain apps register their probe in
# AppConfig.ready(), so chains imports none of them.
_SECTION_PROBES: dict[str, Callable[[], bool]] = {}


def section_probe_register(section: str, probe: Callable[[], bool]) -> None:
    _SECTION_PROBES[section] = probe


def _has(section: str) -> bool:
    probe = _SECTION_PROBES.get(section)
    return probe() if probe is not None else False


def chain_sections(request: HttpRequest | None = None) -> ChainSections:
    """The sections of the current chain, computed once per request (two EXISTS queries)."""
    cached = getattr(request, "_chain_sections", None)
    if isinstance(cached, ChainSections):
        return cached
    if getattr(connection, "schema_name", "public") == "public":
        sections = ChainSections(vending=True, venue=True)
    else:
        has_devices, has_resources = _has("vending"), _has("venue")
        sections = ChainSections(vending=has_devices or not has_resources, venue=has_resources or not has_devices)
    if request is not None:
        request._chain_sections = sections  # type: ignore[attr-defined]
    return sections


class ChainAdminSite(admin.AdminSite):
    site_header = "CVD"
    site_title = "CVD"
    index_title = "Chain administration"
    index_template = "admin/chain_index.html"

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["chain_time_zone"] = timezone.get_current_timezone_name()
        return context

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        sections = chain_sections(request)
        app_list = []
        for app in super().get_app_list(request, app_label):
            app["models"] = [m for m in app["models"] if sections.applies(app["app_label"], m["model"]._meta.model_name)]
            if app["app_label"] == "analytics":
                app["models"] = [*app["models"], *self._analytics_links()]
                app["app_url"] = ANALYTICS_LINKS[0][1]
            if app["models"]:
                app_list.append(app)
        return app_list

    def _analytics_links(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "object_name": name.split(" ")[0], "admin_url": url, "add_url": None, "view_only": True,
             "perms": {"view": True}}
            for name, url in ANALYTICS_LINKS
        ]

    def hidden_sections(self, request: HttpRequest) -> list[dict[str, str]]:
        """The registered models this chain's index leaves out (plumbing aside), with the link to each."""
        sections = chain_sections(request)
        hidden = []
        for model, model_admin in self._registry.items():
            opts = model._meta
            model_name = opts.model_name or ""
            if f"{opts.app_label}.{model_name}" in PLUMBING or sections.applies(opts.app_label, model_name):
                continue
            if not model_admin.has_view_or_change_permission(request):
                continue
            try:
                url = reverse(f"{self.name}:{opts.app_label}_{opts.model_name}_changelist", current_app=self.name)
            except NoReverseMatch:
                continue
            hidden.append({"name": capfirst(str(opts.verbose_name_plural)), "url": url})
        return sorted(hidden, key=lambda item: item["name"].lower())

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        sections = chain_sections(request)
        context = {
            "hidden_sections": self.hidden_sections(request),
            "hidden_because": "this chain has no devices" if not sections.vending else "this chain has no resources",
            **(extra_context or {}),
        }
        return super().index(request, context)
