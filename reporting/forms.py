"""The pages' forms as plain HTML posts: what a form posts becomes the API's JSON, validated by the API's own
serializer, and the serializer's errors come back as messages next to the form's fields.

There is no second set of rules here: a value the API refuses the form refuses with the same message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import QueryDict

from reporting.alerts.metrics import PER_DEVICE_METRICS

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SPLIT = re.compile(r"[\s,;]+")
EVERY_DEVICE = "every_device"
SCOPE_CHOICES = (("chain", "The chain"), (EVERY_DEVICE, "Every device"), ("location", "A location"),
                 ("device", "A device"), ("product", "A product"), ("resource", "A resource"))


def addresses(text: str) -> list[str]:
    """The recipients field: addresses separated by new lines, commas, semicolons or spaces."""
    return [item for item in _SPLIT.split(text or "") if item]


def form_values(post: QueryDict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: post.get(name, "") for name in names}


def field_errors(detail: Any, *, rename: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The serializer's error detail flattened to form field → messages ("recurrence.at" → "at", list items joined)."""
    out: dict[str, list[str]] = {}

    def walk(node: Any, key: str) -> None:
        if isinstance(node, Mapping):
            for child, value in node.items():
                child = str(child)
                if child == "non_field_errors" or child.isdigit():  # a list item's errors belong to the list field
                    walk(value, key)
                else:
                    walk(value, child if key in ("", "recurrence") else key)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item, key)
        else:
            name = (rename or {}).get(key, key) or "form"
            out.setdefault(name, []).append(str(node))

    walk(detail, "")
    return out


# --- scheduled reports ------------------------------------------------------------------------------------

SUBSCRIPTION_FIELDS = ("name", "report", "format", "range", "freq", "at", "weekday", "day", "recipients")


def subscription_payload(post: QueryDict) -> dict[str, Any]:
    """The form's fields as the body of POST /api/reporting/subscriptions/."""
    recurrence: dict[str, Any] = {"freq": post.get("freq", ""), "at": post.get("at", "")}
    for key in ("weekday", "day"):
        value = post.get(key, "").strip()
        if value:
            recurrence[key] = value  # the serializer checks it is a whole number in range
    return {
        "name": post.get("name", ""), "report": post.get("report", ""), "format": post.get("format", ""),
        "range": post.get("range", ""), "recurrence": recurrence, "recipients": addresses(post.get("recipients", "")),
    }


def recurrence_text(recurrence: Mapping[str, Any], time_zone: str) -> str:
    at = recurrence.get("at", "")
    freq = recurrence.get("freq")
    if freq == "weekly":
        weekday = recurrence.get("weekday")
        name = WEEKDAY_NAMES[weekday - 1] if isinstance(weekday, int) and 1 <= weekday <= 7 else "?"
        when = f"Weekly on {name}"
    elif freq == "monthly":
        day = recurrence.get("day")
        when = "Monthly on the last day" if day == -1 else f"Monthly on day {day}"
    else:
        when = "Daily"
    return f"{when} at {at} ({time_zone})"


# --- alert rules -------------------------------------------------------------------------------------------

RULE_FIELDS = ("name", "metric", "scope_kind", "scope_code", "condition", "threshold", "window", "recipients",
               "active", "snoozed_until", "repeat_hours")


def rule_payload(post: QueryDict, tz: ZoneInfo) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The rule form as the body of POST /api/reporting/alert-rules/, and the errors of what only the form has
    (the scope picker, the local snooze time) — the rule's own checks stay the serializer's."""
    errors: dict[str, list[str]] = {}
    kind = post.get("scope_kind", "chain")
    code = post.get("scope_code", "").strip()
    metric = post.get("metric", "")
    scope: dict[str, str] = {}
    if kind in ("chain", EVERY_DEVICE):
        if code:
            errors["scope_code"] = ["Leave the code empty for the chain or every device."]
        if kind == EVERY_DEVICE and metric and metric not in PER_DEVICE_METRICS:
            errors["scope_kind"] = [f"{metric} is a chain figure; every device applies to "
                                    f"{', '.join(sorted(PER_DEVICE_METRICS))}."]
        if kind == "chain" and metric in PER_DEVICE_METRICS:
            errors["scope_kind"] = [f"{metric} is measured per device: choose every device or a device."]
    elif kind in ("location", "device", "product", "resource"):
        scope = {kind: code}  # an empty or unknown code is the serializer's error
    else:
        errors["scope_kind"] = ["Choose the chain, every device, a location, a device, a product or a resource."]
    snoozed: str | None = None
    raw = post.get("snoozed_until", "").strip()
    if raw:
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            errors["snoozed_until"] = ["Expected a local date and time (YYYY-MM-DDTHH:MM)."]
        else:
            snoozed = (local if local.tzinfo else local.replace(tzinfo=tz)).isoformat()
    repeat = post.get("repeat_hours", "").strip()
    payload: dict[str, Any] = {
        "name": post.get("name", ""), "metric": metric, "scope": scope, "condition": post.get("condition", ""),
        "threshold": post.get("threshold", "").strip(), "window": post.get("window", ""),
        "recipients": addresses(post.get("recipients", "")), "active": post.get("active") == "on",
        "snoozed_until": snoozed, "repeat_hours": repeat or None,
    }
    return payload, errors


def rule_values(rule: Any, tz: ZoneInfo) -> dict[str, str]:
    """A stored rule as the form's values (to edit it)."""
    kind, code = next(iter(rule.scope.items()), ("", ""))
    if not kind:
        kind = EVERY_DEVICE if rule.metric in PER_DEVICE_METRICS else "chain"
    snoozed = rule.snoozed_until.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if rule.snoozed_until else ""
    return {
        "name": rule.name, "metric": rule.metric, "scope_kind": kind, "scope_code": code, "condition": rule.condition,
        "threshold": f"{rule.threshold.normalize():f}", "window": rule.window, "recipients": "\n".join(rule.recipients),
        "active": "on" if rule.active else "", "snoozed_until": snoozed,
        "repeat_hours": str(rule.repeat_hours) if rule.repeat_hours else "",
    }
