"""Dashboard panels that other apps add: analytics may not import them, so they register here (AppConfig.ready).

A panel is a callable taking the dashboard page (`analytics.pages.views.Page`, already set up: `fmt`, `links`,
`request`) and returning page sections (dicts the page template renders, e.g. `{"type": "include", ...}`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Panel = Callable[[Any], list[dict[str, Any]]]

_DASHBOARD_PANELS: dict[str, Panel] = {}


def register_dashboard_panel(name: str, panel: Panel) -> None:
    """Add (or replace, by name) a panel shown at the end of the dashboard."""
    _DASHBOARD_PANELS[name] = panel


def dashboard_panels() -> list[Panel]:
    return list(_DASHBOARD_PANELS.values())
