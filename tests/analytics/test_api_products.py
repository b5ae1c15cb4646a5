"""product-sales: ABC at exactly 80 % and 95 %, stocking and velocity, slow and top movers, affinity, slots."""

from __future__ import annotations

import pytest

from tests.analytics import api_factories as f
from tests.conftest import ChainFixture

URL = "/api/analytics/product-sales/"
APRIL = {"start": "2026-04-01", "end": "2026-04-30"}  # previous period: 2026-03-02 .. 2026-03-31


@pytest.fixture
def catalog(in_chain_a: ChainFixture) -> None:
    here = f.location("L")
    d1, d2 = f.device("D1", here), f.device("D2", here)
    snacks, drinks = f.category("Snacks"), f.category("Drinks")
    p1 = f.product("P1", category=snacks, cost="2.00")
    p2 = f.product("P2", category=snacks)
    p3 = f.product("P3", category=drinks)
    p4 = f.product("P4")
    p5, p6, p7 = f.product("P5"), f.product("P6"), f.product("P7")
    since = f.local("2026-01-01 00:00")
    for machine, code, item in ((d1, "A1", p1), (d1, "A2", p2), (d1, "A3", p5), (d1, "A4", p6),
                                (d2, "A1", p1), (d2, "B1", p3), (d2, "B2", p7)):
        f.slot(machine, code, item, since)
    c1, c2, c3, c4 = (f.customer(ref) for ref in ("C1", "C2", "C3", "C4"))
    # April: P1 50.00 / 10 units, P2 30.00 / 6, P3 15.00 / 5, P4 5.00 / 5 → total 100.00.
    f.sale(d1, p1, f.local("2026-04-10 10:00"), "5.00", slot="A1", buyer=c1)
    f.sale(d1, p1, f.local("2026-04-11 10:00"), "5.00", slot="A1", buyer=c2)
    f.sale(d1, p1, f.local("2026-04-12 10:00"), "5.00", slot="A1", buyer=c3)
    f.sale(d2, p1, f.local("2026-04-15 10:00"), "35.00", quantity=7, slot="A1")
    f.sale(d1, p2, f.local("2026-04-10 18:00"), "5.00", slot="A2", buyer=c1)
    f.sale(d1, p2, f.local("2026-04-11 18:00"), "5.00", slot="A2", buyer=c2)
    f.sale(d1, p2, f.local("2026-04-16 10:00"), "20.00", quantity=4, slot="A2")
    f.sale(d2, p3, f.local("2026-04-12 12:00"), "3.00", slot="B1", buyer=c4)
    f.sale(d2, p3, f.local("2026-04-20 12:00"), "3.00", slot="B1", buyer=c1)
    f.sale(d2, p3, f.local("2026-04-21 12:00"), "9.00", quantity=3, slot="B1")
    f.sale(d1, p4, f.local("2026-04-22 12:00"), "5.00", quantity=5)
    # Before the range: P1 in the previous period; P6 45 days before the end; P7 exactly 60 days before.
    f.sale(d1, p1, f.local("2026-03-20 10:00"), "20.00", quantity=4, slot="A1")
    f.sale(d1, p6, f.local("2026-03-16 10:00"), "2.00", slot="A4")
    f.sale(d2, p7, f.local("2026-03-01 23:30"), "2.00", slot="B2")


def _body(chain: ChainFixture, **extra: object) -> dict:
    response = chain.client("viewer").get(URL, {**APRIL, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def test_product_metrics_and_abc_edges(chain_a: ChainFixture, catalog: None) -> None:
    body = _body(chain_a)
    products = {row["sku"]: row for row in body["products"]}
    assert [row["sku"] for row in body["products"]][:4] == ["P1", "P2", "P3", "P4"]
    assert {sku: row["revenue"] for sku, row in products.items()} == {
        "P1": "50.00", "P2": "30.00", "P3": "15.00", "P4": "5.00", "P5": "0.00", "P6": "0.00", "P7": "0.00"
    }
    # Cumulative share before: P1 0 %, P2 50 %, P3 exactly 80 % → B, P4 exactly 95 % → C.
    assert {sku: row["abc_class"] for sku, row in products.items()} == {
        "P1": "A", "P2": "A", "P3": "B", "P4": "C", "P5": "C", "P6": "C", "P7": "C"
    }
    assert products["P3"]["cumulative_share"] == pytest.approx(0.95)
    p1 = products["P1"]
    assert (p1["units"], p1["devices_stocking"], p1["units_per_device"]) == (10, 2, 5.0)
    assert p1["velocity"] == pytest.approx(10 / (2 * 30))
    assert (p1["margin"], p1["margin_pct"]) == ("30.00", pytest.approx(0.6))
    assert products["P2"]["margin"] is None
    assert products["P4"]["devices_stocking"] == 0 and products["P4"]["velocity"] == 0
    velocity_order = sorted(products.values(), key=lambda r: r["velocity_rank"])
    assert [row["sku"] for row in velocity_order][:3] == ["P2", "P1", "P3"]  # 0.2, 0.1667, 0.1667 (tie → SKU)
    categories = {row["category"]: row for row in body["categories"]}
    assert categories["Snacks"]["revenue"] == "80.00" and categories["Snacks"]["share"] == pytest.approx(0.8)
    assert categories["Drinks"]["revenue"] == "15.00"
    assert categories["Uncategorized"]["revenue"] == "5.00" and categories["Uncategorized"]["products"] == 4
    assert [(row["abc_class"], row["products"], row["revenue"]) for row in body["abc_summary"]] == [
        ("A", 2, "80.00"), ("B", 1, "15.00"), ("C", 4, "5.00")
    ]


def test_slow_and_top_movers(chain_a: ChainFixture, catalog: None) -> None:
    body = _body(chain_a)
    assert [(row["sku"], row["bucket"], row["days_since_last_sale"], row["last_sold_on"]) for row in body["slow_movers"]] == [
        ("P5", 90, None, None),
        ("P7", 60, 60, "2026-03-01"),
        ("P6", 30, 45, "2026-03-16"),
    ]
    movers = [(row["sku"], row["velocity_change"]) for row in body["top_movers"]]
    assert [sku for sku, _ in movers] == ["P2", "P3", "P1"]
    assert movers[0][1] == pytest.approx(6 / 30)
    assert movers[2][1] == pytest.approx(10 / 60 - 4 / 60)
    assert body["top_movers"][2]["previous_units"] == 4


def test_affinity_baskets_are_customer_days(chain_a: ChainFixture, catalog: None) -> None:
    body = _body(chain_a)
    # Baskets: C1 04-10 {P1,P2}, C2 04-11 {P1,P2}, C3 04-12 {P1}, C4 04-12 {P3}, C1 04-20 {P3} → N = 5.
    rules = {(row["antecedent"], row["consequent"]): row for row in body["affinity"]}
    assert set(rules) == {("P1", "P2"), ("P2", "P1")}
    forward, backward = rules[("P1", "P2")], rules[("P2", "P1")]
    assert forward["pair_count"] == 2 and forward["support"] == pytest.approx(2 / 5)
    assert forward["confidence"] == pytest.approx(2 / 3) and backward["confidence"] == pytest.approx(1.0)
    assert forward["lift"] == pytest.approx(2 * 5 / (3 * 2))


def test_revenue_by_slot_position(chain_a: ChainFixture, catalog: None) -> None:
    body = _body(chain_a)
    assert [(row["slot"], row["revenue"], row["units"]) for row in body["slots"]] == [
        ("A1", "50.00", 10), ("A2", "30.00", 6), ("B1", "15.00", 5), ("", "5.00", 5)
    ]


def test_category_filter_and_empty_range(chain_a: ChainFixture, catalog: None) -> None:
    from fleet.models import Category

    drinks = Category.objects.get(name="Drinks")
    body = _body(chain_a, category=drinks.id)
    assert [(row["sku"], row["revenue"], row["abc_class"]) for row in body["products"]] == [("P3", "15.00", "A")]
    empty = chain_a.client("viewer").get(URL, {"start": "2025-06-01", "end": "2025-06-30"}).json()
    assert all(row["revenue"] == "0.00" for row in empty["products"])
    assert empty["affinity"] == [] and empty["top_movers"] == [] and empty["slots"] == []


def test_basket_items_match_customer_days_of_raw_sales(in_chain_a: ChainFixture, catalog: None) -> None:
    # Parity of the integer basket keys with the definition over raw rows: one key per (customer, local day).
    from datetime import date

    from analytics.filters import Filters
    from analytics.periods import Period
    from analytics.query import current_chain
    from analytics.query.histories import BASKET_DAYS, basket_items
    from fleet.models import Sale

    buyer = f.customer("C5")  # a purchase just after local midnight belongs to the new local day
    some = Sale.objects.select_related("device", "product").first()
    assert some is not None
    f.sale(some.device, some.product, f.local("2026-04-11 00:05"), "1.00", buyer=buyer)
    tz = current_chain().tz
    expected = {
        (sale.customer_id * BASKET_DAYS + (sale.sold_at.astimezone(tz).date() - date(1970, 1, 1)).days, sale.product_id)
        for sale in Sale.objects.filter(customer__isnull=False)
        if date(2026, 4, 1) <= sale.sold_at.astimezone(tz).date() <= date(2026, 4, 30)
    }
    baskets, products = basket_items(period=Period(date(2026, 4, 1), date(2026, 4, 30)), filters=Filters())
    items = list(zip(baskets.tolist(), products.tolist(), strict=True))
    assert set(items) == expected
    assert len({basket for basket, _ in items}) == 6  # the five customer days of the fixture and C5's
