"""Every JSON endpoint and every analytics read, with every role, answers hostile input with a 4xx and field errors.

The endpoints are found by walking `cvd.urls`, so a new JSON POST is fuzzed the moment it is routed.
Bodies carry NUL, lone surrogates (in values and keys), nesting far past the recursion limit, huge
lists, wrong types, NaN, invalid UTF-8 and extreme dates; nothing may be stored by any of them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.urls import get_resolver
from django_tenants.utils import schema_context
from rest_framework.views import APIView

from bookings.models import Booking, FunnelEvent
from chains.parsers import StrictJSONParser
from fleet.models import DexRead, Sale
from ingest.models import ImportJob
from tests.conftest import ROLES, ChainFixture
from tests.fleet.conftest import Catalog
from tests.test_capabilities import _walk

# A row valid in every respect but the one being fuzzed (device D-001 and product COLA are the catalog's).
ROW = {"transaction_id": "fz-1", "sold_at": "2026-03-01T12:30:00+01:00", "device": "D-001", "product": "COLA",
       "quantity": 1, "amount": "1.50"}


def _rows_with(**changes: Any) -> str:
    return json.dumps({"rows": [{**ROW, **changes}]})


HUGE_IDS = list(range(1, 300_001))
BODIES: dict[str, bytes] = {
    # NUL and lone surrogates, escaped as JSON allows: in a value, in a key, in a filter.
    "nul_in_value": _rows_with(transaction_id="fz\\u0000x").replace("\\\\u0000", "\\u0000").encode(),
    "nul_in_filter": b'{"region": ["North\\u0000"], "rows": [{"transaction_id": "a\\u0000"}]}',
    "surrogate_in_value": b'{"rows": [{"transaction_id": "\\ud800"}], "region": "\\ud800"}',
    "surrogate_in_key": b'{"\\udfff": 1, "rows": [{"\\udfff": 1}]}',
    # Nesting: far past Python's recursion limit, and just past the configured depth.
    "deep_5000": b'{"rows":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "deep_40": b'{"rows":' + b"[" * 40 + b"]" * 40 + b"}",
    # Huge lists: 300,000 device ids (2 MB) and 10,001 rows.
    "huge_filter": json.dumps({"device": HUGE_IDS}).encode(),
    "huge_batch": json.dumps({"rows": [ROW] * 10_001}).encode(),
    # Wrong types.
    "list_of_scalars": b'[1, "a", null]',
    "bare_string": b'"rows"',
    "bare_null": b"null",
    "rows_not_a_list": b'{"rows": "abc", "start": 5, "end": [], "device": {"a": 1}, "limit": "x"}',
    "row_values_wrong": json.dumps({"rows": [{**ROW, "transaction_id": {"a": 1}, "quantity": "many", "amount": [1]}],
                                    "device": [[1, 2]], "top_products": "perhaps"}).encode(),
    "nan": b'{"rows": [{"amount": NaN}], "limit": Infinity}',
    "not_utf8": b'{"rows": [{"transaction_id": "\xff\xfe"}]}',
    "not_json": b"{'rows': [}",
    # Extreme dates.
    "far_future": json.dumps({"start": "9999-12-31", "end": "9999-12-31", "rows": [{**ROW, "sold_at": "9999-12-31T23:59:59+14:00"}]}).encode(),
    "year_one": json.dumps({"end": "0001-01-01", "rows": [{**ROW, "sold_at": "0001-01-01T00:00:00-12:00"}]}).encode(),
}

BATCH_ONLY = {"huge_batch"}

QUERIES: dict[str, str] = {
    "far_future": "start=9999-12-31",
    "year_one": "end=0001-01-01",
    "nul": "region=North%00",
    "too_many_ids": "device=" + ",".join(str(i) for i in range(1, 1_002)),
    "too_many_repeats": "&".join(f"location={i}" for i in range(1, 1_002)),
    "wrong_types": "start=yesterday&limit=-1&device=x",
}
# Undecodable bytes in a query string become U+FFFD (Django decodes with replacement): a name that matches
# nothing, so an empty answer is right; only a crash would be wrong.
HARMLESS_QUERIES = {"encoded_surrogate": "region=%ED%A0%80", "nul_name": "resource_type=%00"}


def json_post_endpoints() -> list[tuple[str, type[APIView]]]:
    found = []
    for route, callback in _walk(get_resolver("cvd.urls").url_patterns):
        view = getattr(callback, "cls", None)
        if isinstance(view, type) and issubclass(view, APIView) and hasattr(view, "post") and "<" not in route:
            parsers = view.parser_classes
            if any(isinstance(p, type) and issubclass(p, StrictJSONParser) for p in parsers):
                found.append(("/" + route, view))
    return found


def analytics_reads() -> list[str]:
    return [
        "/" + route
        for route, callback in _walk(get_resolver("cvd.urls").url_patterns)
        if route.startswith("api/analytics/") and "<" not in route and hasattr(getattr(callback, "cls", None), "get")
        and "GET" in getattr(callback.cls, "required_capabilities", {})
    ]


def has_field_errors(body: Any) -> bool:
    """Field errors: {field: [message, ...] | {...}} for at least one field, or an import report's row errors."""
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("errors"), list) and body["errors"]:
        return all(isinstance(e, dict) and e.get("message") for e in body["errors"])
    return any(key != "detail" and isinstance(value, (list, dict)) and value for key, value in body.items())


def stored(schema: str) -> tuple[int, ...]:
    with schema_context(schema):
        return tuple(model.objects.count() for model in (Sale, Booking, FunnelEvent, DexRead, ImportJob))


def test_the_walk_finds_every_json_endpoint() -> None:
    paths = {path for path, _ in json_post_endpoints()}
    assert {"/api/fleet/sales/", "/api/bookings/bookings/", "/api/bookings/funnel-events/",
            "/api/analytics/asset-sales/"} <= paths
    assert len(analytics_reads()) >= 13


@pytest.mark.parametrize("role", [None, *ROLES])
def test_hostile_json_bodies_are_4xx_with_field_errors_and_store_nothing(
    catalog: Catalog, chain_a: ChainFixture, role: str | None
) -> None:
    client = chain_a.client(role)
    before = stored(chain_a.schema)
    problems = []
    for path, view in json_post_endpoints():
        capability = view.required_capabilities.get("POST")
        for name, body in BODIES.items():
            if name in BATCH_ONLY and not getattr(view, "key", ""):
                continue  # an analytics read ignores "rows": nothing hostile reaches it
            started = time.monotonic()
            response = client.post(path, data=body, content_type="application/json")
            took = time.monotonic() - started
            code = response.status_code
            if not 400 <= code < 500:
                problems.append(f"{path} {name}: {code} {response.content[:200]!r}")
                continue
            if took > 3:
                problems.append(f"{path} {name}: took {took:.1f} s")
            refused = role is None or (capability != "authenticated" and code in (401, 403))
            if not refused and code not in (401, 403) and not has_field_errors(response.json()):
                problems.append(f"{path} {name}: {code} without field errors: {response.content[:200]!r}")
    assert stored(chain_a.schema) == before, "a refused body stored something"
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_hostile_query_strings_are_400_with_field_errors(chain_a: ChainFixture, role: str) -> None:
    client = chain_a.client(role)
    problems = []
    for path in analytics_reads():
        for name, query in QUERIES.items():
            response = client.get(f"{path}?{query}")
            if response.status_code != 400 or not has_field_errors(response.json()):
                problems.append(f"{path} {name}: {response.status_code} {response.content[:160]!r}")
        for name, query in HARMLESS_QUERIES.items():
            response = client.get(f"{path}?{query}")
            if response.status_code not in (200, 400):
                problems.append(f"{path} {name}: {response.status_code} {response.content[:160]!r}")
    assert problems == [], "\n".join(problems)
