"""Answers of a size a person can use: on a chain with 15,000 customers and 3,000 slots every default answer is
at most 1 MB, each paged list says its total (= a count over the raw rows), paging through it with offset (or
the `next` links) yields every row exactly once, and the export still holds the whole list."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from analytics.params import MAX_LIMIT, PAGE_LIMIT
from analytics.reports import REPORTS
from tests.conftest import ChainFixture

CUSTOMERS = 15_000
PAGING_CUSTOMERS = 2_500
DEVICES = 300
SLOTS_PER_DEVICE = 10  # 3,000 slots
PRODUCTS = 50
LOCATIONS = 40
ONE_MB = 1_000_000
PAGED = {name for name, report in REPORTS.items() if report.paged}


def _count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


@pytest.fixture
def big_chain(in_chain_a: ChainFixture) -> dict[str, Any]:
    return _build(CUSTOMERS)


@pytest.fixture
def paging_chain(in_chain_a: ChainFixture) -> dict[str, Any]:
    """The same chain with fewer customers: paging through it asks for the customers' answer once a page, and each
    answer computes every customer's history (about 5 s at 15,000 on this machine)."""
    return _build(PAGING_CUSTOMERS)


def _build(customers: int) -> dict[str, Any]:
    """Set-based inserts: LOCATIONS locations, DEVICES devices with SLOTS_PER_DEVICE slots each, PRODUCTS
    products, `customers` customers with one sale each over the last 20 days (inside the default range)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fleet_location (code, name, address, city, region, country, venue_type)"
            " SELECT 'L' || g, 'Location ' || g, '', 'City ' || (g %% 7), 'Region ' || (g %% 3), 'SE', ''"
            " FROM generate_series(1, %s) AS g", [LOCATIONS],
        )
        cursor.execute(
            "INSERT INTO fleet_device (asset, location_id, cooler)"
            " SELECT 'D' || lpad(g::text, 4, '0'), (SELECT id FROM fleet_location WHERE code = 'L' || (g %% %s + 1)), false"
            " FROM generate_series(1, %s) AS g", [LOCATIONS, DEVICES],
        )
        cursor.execute(
            "INSERT INTO fleet_product (sku, name, price) SELECT 'P' || lpad(g::text, 3, '0'), 'Product ' || g, 1.00"
            " FROM generate_series(1, %s) AS g", [PRODUCTS],
        )
        cursor.execute(
            "INSERT INTO fleet_planogramslot (device_id, slot_code, product_id, capacity, par_level, valid_from)"
            " SELECT d.id, s::text, (SELECT min(id) FROM fleet_product) + (d.id + s) %% %s, 10, 2,"
            " now() - interval '60 days'"
            " FROM fleet_device d CROSS JOIN generate_series(1, %s) AS s", [PRODUCTS, SLOTS_PER_DEVICE],
        )
        cursor.execute(
            "INSERT INTO fleet_customer (external_ref) SELECT 'C' || lpad(g::text, 5, '0') FROM generate_series(1, %s) AS g",
            [customers],
        )
        cursor.execute(
            """
            INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                    transactions, payment_method, customer_id, source, ingested_at)
            SELECT 'b' || c.id, date_trunc('hour', now()) - ((c.id %% 20) + 1) * interval '1 day' + (c.id %% 9) * interval '1 hour',
                   d.id, p.id, ((c.id %% %s) + 1)::text, 1 + c.id %% 3, (c.id %% 9) + 0.50, 1, 'card', c.id,
                   'telemetry', now()
            FROM fleet_customer c
            JOIN fleet_device d ON d.id = (SELECT min(id) FROM fleet_device) + c.id %% %s
            JOIN fleet_product p ON p.id = (SELECT min(id) FROM fleet_product) + c.id %% %s
            """,
            [SLOTS_PER_DEVICE, DEVICES, PRODUCTS],
        )
        for table in ("fleet_location", "fleet_device", "fleet_product", "fleet_planogramslot", "fleet_customer", "fleet_sale"):
            cursor.execute(f"ANALYZE {table}")  # plans for 15,000 rows, not for the empty tables of the session
    return {
        "customers": _count("SELECT count(DISTINCT customer_id) FROM fleet_sale WHERE customer_id IS NOT NULL"),
        "slots": _count("SELECT count(*) FROM fleet_planogramslot WHERE valid_to IS NULL"),
        "devices": _count("SELECT count(*) FROM fleet_device"),
        "products": _count("SELECT count(DISTINCT product_id) FROM fleet_sale"),
        "locations": _count("SELECT count(*) FROM fleet_location"),
        "selling_locations": _count(
            "SELECT count(DISTINCT d.location_id) FROM fleet_sale s JOIN fleet_device d ON d.id = s.device_id"
        ),
    }


def test_every_default_answer_is_at_most_one_mb_and_says_its_total(chain_a: ChainFixture, big_chain: dict[str, Any]) -> None:
    assert big_chain["customers"] == CUSTOMERS and big_chain["slots"] == DEVICES * SLOTS_PER_DEVICE
    client = chain_a.client("viewer")
    answers = {}
    for name in REPORTS:
        response = client.get(f"/api/analytics/{name}/")
        assert response.status_code == 200, (name, response.content[:300])
        assert len(response.content) <= ONE_MB, (name, len(response.content))
        answers[name] = response.json()
    for name in PAGED:
        page, key = answers[name]["page"], REPORTS[name].rows
        assert page["key"] == key and page["offset"] == 0 and page["limit"] == PAGE_LIMIT
        assert page["returned"] == len(answers[name][key]) == min(PAGE_LIMIT, page["total"])
    for name in REPORTS.keys() - PAGED:
        assert "page" not in answers[name]
    # The totals are counts over the raw rows.
    assert answers["customers"]["page"]["total"] == big_chain["customers"]
    assert answers["customers"]["lifetime_value"]["customers"] == big_chain["customers"]  # summaries cover all
    assert answers["inventory"]["page"]["total"] == big_chain["slots"]
    assert sum(answers["inventory"]["risk_summary"].values()) == big_chain["slots"]
    assert answers["asset-sales"]["page"]["total"] == big_chain["devices"]
    assert answers["asset-sales"]["fleet_summary"]["device_count"] == big_chain["devices"]
    assert answers["product-sales"]["page"]["total"] == big_chain["products"]
    assert answers["locations"]["page"]["total"] == big_chain["locations"]
    assert answers["revenue"]["page"]["total"] == big_chain["selling_locations"]
    assert answers["routes"]["page"]["total"] == 0 and answers["utilization"]["page"]["total"] == 0
    # The first page of the customers is the top of the whole list: "showing 100 of 15,000".
    assert answers["customers"]["page"]["next_offset"] == PAGE_LIMIT
    assert answers["customers"]["page"]["next"].endswith(f"/api/analytics/customers/?offset={PAGE_LIMIT}")


def _page_through(client: Any, name: str, params: dict[str, Any], id_key: str) -> tuple[list[int], int]:
    """Every id of the paged list, following `next` links from the first page; and the total it said."""
    url: str | None = f"/api/analytics/{name}/"
    seen: list[int] = []
    total = -1
    query: dict[str, Any] | None = params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        page = body["page"]
        assert page["offset"] == len(seen)
        total = page["total"]
        seen += [row[id_key] for row in body[REPORTS[name].rows]]
        url, query = page["next"], None
    return seen, total


def test_paging_through_yields_every_row_exactly_once(chain_a: ChainFixture, paging_chain: dict[str, Any]) -> None:
    client = chain_a.client("viewer")
    customers, total = _page_through(client, "customers", {"limit": MAX_LIMIT}, "customer_id")  # 1,000 + 1,000 + 500
    assert total == PAGING_CUSTOMERS and len(customers) == len(set(customers)) == PAGING_CUSTOMERS
    assert sorted(customers) == sorted(_ids("SELECT DISTINCT customer_id FROM fleet_sale WHERE customer_id IS NOT NULL"))

    slots, total = _page_through(client, "inventory", {"limit": 700}, "slot_id")  # pages of 700: the last is short
    assert total == len(slots) == len(set(slots)) == DEVICES * SLOTS_PER_DEVICE
    assert sorted(slots) == sorted(_ids("SELECT id FROM fleet_planogramslot WHERE valid_to IS NULL"))

    # Offsets by hand, and pages in the order of the whole list.
    first = client.get("/api/analytics/asset-sales/", {"limit": 120, "top_products": "false"}).json()
    second = client.get("/api/analytics/asset-sales/", {"limit": 120, "offset": 120, "top_products": "false"}).json()
    third = client.get("/api/analytics/asset-sales/", {"limit": 120, "offset": 240, "top_products": "false"}).json()
    ranks = [row["fleet_rank"] for answer in (first, second, third) for row in answer["devices"]]
    assert ranks == list(range(1, DEVICES + 1))
    assert third["page"] == {"key": "devices", "total": DEVICES, "offset": 240, "limit": 120, "returned": 60,
                             "next_offset": None, "next": None}
    beyond = client.get("/api/analytics/asset-sales/", {"offset": 5000}).json()
    assert beyond["devices"] == [] and beyond["page"]["returned"] == 0 and beyond["page"]["total"] == DEVICES
    for bad in ({"offset": "-1"}, {"offset": "x"}, {"limit": str(MAX_LIMIT + 1)}):
        response = client.get("/api/analytics/customers/", bad)
        assert response.status_code == 400 and list(response.json()) == list(bad)


def _ids(sql: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [int(row[0]) for row in cursor.fetchall()]


def test_the_export_holds_the_whole_list(chain_a: ChainFixture, big_chain: dict[str, Any]) -> None:
    client = chain_a.client("manager")
    for report, expected in (("customers", CUSTOMERS), ("inventory", DEVICES * SLOTS_PER_DEVICE)):
        response = client.post("/api/analytics/export/", {"report": report, "format": "csv"}, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        content = b"".join(response.streaming_content) if response.streaming else response.content
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        data = [row for row in rows[1:] if row]
        assert len(data) == expected, report


def test_the_pages_show_the_first_page_and_the_total(chain_a: ChainFixture, big_chain: dict[str, Any]) -> None:
    client = Client(HTTP_HOST=chain_a.domain)
    assert client.post("/login/", {"username": f"{chain_a.schema}-viewer", "password": "pw"}).status_code == 302
    body = client.get("/customers/").content.decode()
    assert "Showing 100 of 15,000 — export for all" in body
    body = client.get("/inventory/").content.decode()
    assert "Showing 200 of 3,000 — export for all" in body
