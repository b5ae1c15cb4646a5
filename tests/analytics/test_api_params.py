"""Parameter edge cases answer 400 with field errors (or are accepted), never a server error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ChainFixture

URL = "/api/analytics/asset-sales/"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"location": 5}, 200, None),  # a bare value is one value
        ({"location": None}, 400, "location"),
        ({"location": [{"a": 1}]}, 400, "location"),
        ({"location": [[1]]}, 400, "location"),
        ({"start": 5}, 400, "start"),
        ({"top_products": "maybe"}, 400, "top_products"),
        ({"start": "0001-01-01"}, 400, "start"),
        ({"end": "9999-12-31"}, 400, "end"),
        ([1, 2], 400, None),
        ("x", 400, None),
    ],
)
def test_post_bodies(chain_a: ChainFixture, body: Any, status: int, field: str | None) -> None:
    response = chain_a.client("viewer").post(URL, body, content_type="application/json")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("location=abc", 400, "location"),
        ("location=1,,2", 200, None),
        ("limit=-1", 400, "limit"),
        ("limit=1001", 400, "limit"),
        ("location=99999999999999999999", 200, None),
        ("group_by=planet", 200, None),  # not a parameter of this endpoint: ignored
    ],
)
def test_query_strings(chain_a: ChainFixture, query: str, status: int, field: str | None) -> None:
    response = chain_a.client("viewer").get(f"{URL}?{query}")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()


def test_sections_on_product_sales(chain_a: ChainFixture) -> None:
    client = chain_a.client("viewer")
    assert client.get("/api/analytics/product-sales/?sections=slots&sections=nope").status_code == 400
    body = client.get("/api/analytics/product-sales/?sections=slots").json()
    assert body["affinity"] == [] and body["slots"] == []
