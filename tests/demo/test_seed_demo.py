"""seed_demo: the same seed and day give the same rows, another seed other rows; the data hangs together."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import get_tenant_model, schema_context

from chains.models import Chain

TODAY = "2026-03-29"  # the day Central Europe moves its clocks forward: a 23-hour local day
SALES_CHECKSUM = """
    SELECT COUNT(*), COALESCE(SUM(s.amount), 0), COUNT(s.customer_id),
           md5(string_agg(s.external_id || '|' || s.sold_at || '|' || d.asset || '|' || p.sku || '|' || s.quantity
                          || '|' || s.amount || '|' || s.payment_method || '|' || COALESCE(c.external_ref, ''),
                          ',' ORDER BY s.external_id))
    FROM fleet_sale s JOIN fleet_device d ON d.id = s.device_id JOIN fleet_product p ON p.id = s.product_id
    LEFT JOIN fleet_customer c ON c.id = s.customer_id
"""
VENUE_CHECKSUM = """
    SELECT (SELECT COUNT(*) FROM bookings_booking), (SELECT SUM(amount) FROM bookings_booking),
           (SELECT md5(string_agg(external_id || '|' || starts_at || '|' || status || '|' || amount, ',' ORDER BY external_id))
              FROM bookings_booking),
           (SELECT COUNT(*) FROM bookings_funnelevent),
           (SELECT md5(string_agg(external_id || '|' || session_id || '|' || step || '|' || occurred_at, ',' ORDER BY external_id))
              FROM bookings_funnelevent)
"""


def seed_into(chain: Chain, *, kind: str, seed: int, extra: tuple[str, ...] = ()) -> dict:
    out = io.StringIO()
    call_command(
        "seed_demo", "--into", chain.schema_name, "--kind", kind, "--seed", str(seed), "--today", TODAY,
        "--days", "12", "--devices", "5", "--resources", "6", *extra, stdout=out,
    )
    return json.loads(out.getvalue())


def query(schema: str, sql: str, params: tuple = ()) -> list[tuple]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def unblocked(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        yield


def test_vending_demo_is_deterministic_and_the_seed_matters(
    committed_chain: Callable[..., Chain], unblocked: None
) -> None:
    first, second, other = (committed_chain(time_zone="Europe/Stockholm", currency="SEK") for _ in range(3))

    outcome = seed_into(first, kind="vending", seed=7)
    seed_into(second, kind="vending", seed=7)
    seed_into(other, kind="vending", seed=8)

    checksums = [query(chain.schema_name, SALES_CHECKSUM)[0] for chain in (first, second, other)]
    assert outcome["status"] == "seeded"
    assert checksums[0][0] > 500  # 5 machines × 12 days of real demand
    assert checksums[0] == checksums[1]
    assert checksums[0] != checksums[2]


def test_vending_demo_hangs_together(committed_chain: Callable[..., Chain], unblocked: None) -> None:
    chain = committed_chain(time_zone="Europe/Stockholm", currency="SEK")
    seed_into(chain, kind="vending", seed=3)
    schema = chain.schema_name
    stockholm = ZoneInfo("Europe/Stockholm")
    window_start = datetime(2026, 3, 18, tzinfo=stockholm)  # 12 days ending on TODAY
    window_end = datetime(2026, 3, 30, tzinfo=stockholm)

    (count, first, last, bad_amounts), = query(
        schema, "SELECT COUNT(*), MIN(sold_at), MAX(sold_at), COUNT(*) FILTER (WHERE amount <= 0) FROM fleet_sale"
    )
    (off_planogram,), = query(
        schema,
        """SELECT COUNT(*) FROM fleet_sale s WHERE NOT EXISTS (
               SELECT 1 FROM fleet_planogramslot p WHERE p.device_id = s.device_id AND p.slot_code = s.slot_code
               AND p.product_id = s.product_id AND p.valid_from <= s.sold_at AND (p.valid_to IS NULL OR p.valid_to > s.sold_at))""",
    )
    (price_mismatch,), = query(
        schema,
        """SELECT COUNT(*) FROM fleet_sale s JOIN fleet_planogramslot p ON p.device_id = s.device_id
               AND p.slot_code = s.slot_code AND p.valid_from <= s.sold_at AND (p.valid_to IS NULL OR p.valid_to > s.sold_at)
           WHERE s.amount <> p.price * s.quantity""",
    )
    # Cash: each completed visit empties the cash box, so per machine the visits together collect every
    # cash sale up to the machine's last completed visit (a missed visit leaves it for the next one).
    (cash_sales, cash_collected, visits), = query(
        schema,
        """SELECT (SELECT SUM(s.amount) FROM fleet_sale s
                     JOIN (SELECT device_id, MAX(visited_at) AS last FROM routes_servicevisit WHERE completed GROUP BY device_id) v
                       ON v.device_id = s.device_id AND s.sold_at <= v.last
                    WHERE s.payment_method = 'cash'),
                  (SELECT SUM(cash_collected) FROM routes_servicevisit),
                  (SELECT COUNT(*) FROM routes_servicevisit)""",
    )
    (customers_without_first_seen, customers_unused), = query(
        schema,
        """SELECT COUNT(*) FILTER (WHERE first_seen IS NULL),
                  COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM fleet_sale s WHERE s.customer_id = c.id))
           FROM fleet_customer c""",
    )
    dirty = query(schema, "SELECT kind, starts_at, ends_at FROM analytics_dirtyrange")
    (duplicate_runs,), = query(schema, "SELECT COUNT(*) - COUNT(DISTINCT (route_id, scheduled_for)) FROM routes_routerun")

    assert count > 0 and bad_amounts == 0
    assert window_start <= first and last < window_end
    assert off_planogram == 0 and price_mismatch == 0
    assert visits > 0 and cash_collected == cash_sales > 0
    assert (customers_without_first_seen, customers_unused) == (0, 0)
    assert dirty == [("sales", first, last + timedelta(seconds=1))]
    assert duplicate_runs == 0


def test_venue_demo_is_deterministic(committed_chain: Callable[..., Chain], unblocked: None) -> None:
    first, second = (committed_chain(time_zone="Europe/London", currency="GBP") for _ in range(2))

    seed_into(first, kind="venues", seed=11)
    seed_into(second, kind="venues", seed=11)

    a, b = (query(chain.schema_name, VENUE_CHECKSUM)[0] for chain in (first, second))
    assert a == b and a[0] > 100 and a[3] > a[0]
    # Funnel: each step reaches fewer sessions than the one before, and every paid step has its booking.
    steps = dict(query(first.schema_name, "SELECT step, COUNT(DISTINCT session_id) FROM bookings_funnelevent GROUP BY step"))
    (paid_without_booking,), = query(
        first.schema_name, "SELECT COUNT(*) FROM bookings_funnelevent WHERE step = 'paid' AND booking_id IS NULL"
    )
    (bad_outcomes,), = query(
        first.schema_name,
        "SELECT COUNT(*) FROM bookings_booking WHERE (status = 'cancelled' AND amount <> 0) OR booked_at > starts_at",
    )
    assert steps["visit"] > steps["wizard_start"] > steps["submit"] > steps["paid"] > 0
    assert paid_without_booking == 0 and bad_outcomes == 0


def test_seed_demo_creates_the_chains_and_users_and_leaves_seeded_chains_alone(
    unblocked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demo import seed
    from demo.vending import VendingSpec
    from demo.venues import VenueSpec

    suffix = datetime.now(UTC).strftime("%H%M%S%f")
    acme = seed.DemoChain(f"t_acme{suffix}", "Acme Test", f"acme{suffix}.localhost", "Europe/Stockholm", "SEK", "vending")
    playhub = seed.DemoChain(f"t_ph{suffix}", "PlayHub Test", f"ph{suffix}.localhost", "Europe/London", "GBP", "venues")
    monkeypatch.setattr(seed, "ACME", acme)
    monkeypatch.setattr(seed, "PLAYHUB", playhub)
    monkeypatch.setattr(seed, "SMALL_VENDING", VendingSpec(days=5, devices=3))
    monkeypatch.setattr(seed, "SMALL_VENUES", VenueSpec(days=5, resources=4, customers=300))
    try:
        first = seed.demo_seed(seed=42, today=date(2026, 3, 1))
        again = seed.demo_seed(seed=42, today=date(2026, 3, 1))
        chain = Chain.objects.get(schema_name=acme.schema)
        with schema_context(acme.schema):
            admin = authenticate(username=f"{acme.schema}-admin", password="demo")
            viewer = authenticate(username=f"{acme.schema}-viewer", password="demo")
            roles = sorted(g.name for g in admin.groups.all()) if admin else []  # type: ignore[union-attr]
    finally:
        with schema_context("public"):
            for demo in (acme, playhub):
                made = get_tenant_model().objects.filter(schema_name=demo.schema).first()
                if made is not None:
                    made.domains.all().delete()
                    made.delete(force_drop=True)

    assert [o.status for o in first] == ["seeded", "seeded"]
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert (chain.time_zone, chain.currency) == ("Europe/Stockholm", "SEK")
    assert admin is not None and admin.is_staff and roles == ["Admin"]
    assert viewer is not None and not viewer.is_staff


def test_a_fixed_sales_target_is_met_exactly_across_chunks(committed_chain: Callable[..., Chain], unblocked: None) -> None:
    from demo.seed import demo_data_seed
    from demo.vending import VendingSpec

    chain = committed_chain(time_zone="Europe/Stockholm", currency="SEK")
    spec = VendingSpec(days=9, devices=4, products=90, sites=14, target_sales=2_000, routes=False, chunk_days=2, prefix="BLK")
    # The large demo's shape in miniature: a sales target, catalog variants beyond the base catalog, more sites.
    outcome = demo_data_seed(chain=chain, kind="vending", seed=5, today=date(2026, 3, 29), vending=spec)

    (count, distinct_ids, first_id, last_id, first, last), = query(
        chain.schema_name,
        "SELECT COUNT(*), COUNT(DISTINCT external_id), MIN(id), MAX(id), MIN(sold_at), MAX(sold_at) FROM fleet_sale",
    )
    (products, locations), = query(chain.schema_name, "SELECT (SELECT COUNT(*) FROM fleet_product), (SELECT COUNT(*) FROM fleet_location)")
    stockholm = ZoneInfo("Europe/Stockholm")
    assert outcome.counts is not None and outcome.counts["sales"] == 2_000
    assert (count, distinct_ids, first_id, last_id) == (2_000, 2_000, 1, 2_000)
    # A target-sized window ends the day before "today", so no sale is cut off by the clock.
    assert datetime(2026, 3, 20, tzinfo=stockholm) <= first and last < datetime(2026, 3, 29, tzinfo=stockholm)
    assert (products, locations) == (90, 14)
