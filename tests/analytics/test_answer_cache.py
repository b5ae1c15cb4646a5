"""The cache of whole report answers (analytics.query.answers): a repeated question is answered without reading
the sales, and any write to the chain's domain tables (ORM, raw SQL, COPY, TRUNCATE, a rename in the catalog,
a transaction committing while an answer is computed) is seen by the next answer. Figures are by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.query import current_chain, local_today
from analytics.query.answers import LIVE_SECONDS, STALE_SECONDS, WAIT_SECONDS, cached_answer
from analytics.query.cache import ANSWERS, caches_disabled
from analytics.query.changes import TRACKED_PREFIXES, TRIGGER, compact_changes, data_signature, tracked_tables
from analytics.reports import get_report
from analytics.rollups.services import rollup_hourly
from tests.analytics.api_factories import device, location, product, sale
from tests.conftest import ChainFixture


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: Any, committed_chain: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    with django_db_blocker.unblock():
        yield committed_chain


def _reads_sales(queries: CaptureQueriesContext) -> bool:
    return any("fleet_sale" in query["sql"] for query in queries.captured_queries)


def _dashboard(client: Any, day: str) -> tuple[str, bool]:
    """The revenue KPI of one past day, and whether answering it read the sales."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/analytics/dashboard/", {"start": day, "end": day})
    assert response.status_code == 200, response.content
    return response.json()["kpis"]["sales_revenue"], _reads_sales(queries)


def test_every_domain_table_carries_the_change_trigger(in_chain_a: ChainFixture) -> None:
    models = [model for label in ("fleet", "bookings", "routes") for model in apps.get_app_config(label).get_models()]
    tables = {model._meta.db_table for model in models} | {
        field.remote_field.through._meta.db_table for model in models for field in model._meta.local_many_to_many
    }
    assert all(table.startswith(TRACKED_PREFIXES) for table in tables)
    assert tables <= set(tracked_tables())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s AND c.relnamespace = current_schema()::regnamespace",
            [TRIGGER],
        )
        triggered = {row[0] for row in cursor.fetchall()}
    assert triggered == set(tracked_tables())


def test_the_signature_moves_with_every_kind_of_write_and_not_with_a_rollup(in_chain_a: ChainFixture) -> None:
    seen = [data_signature()]

    def moved() -> bool:
        seen.append(data_signature())
        return seen[-1] != seen[-2]

    at = location("SIG")
    assert moved()  # ORM insert
    machine = device("SIG-1", at)
    item = product("SIG-P")
    sale(machine, item, timezone.now() - timedelta(days=2), "2.50")
    assert moved()
    assert not moved()  # reading changes nothing
    with connection.cursor() as cursor:
        cursor.execute("UPDATE fleet_sale SET amount = amount + 1 WHERE device_id = %s", [machine.id])
        assert moved()
        with cursor.copy(  # type: ignore[attr-defined]  # psycopg 3's COPY
            "COPY fleet_sale (external_id, sold_at, device_id, product_id, quantity, amount, transactions, source,"
            " slot_code, payment_method, ingested_at) FROM STDIN"
        ) as copy:
            copy.write_row(("sig-copy", timezone.now() - timedelta(days=1), machine.id, item.id, 1, "4.00", 1, "telemetry", "",
                            "card", timezone.now()))
        assert moved()
        cursor.execute("DELETE FROM fleet_sale WHERE external_id = 'sig-copy'")
        assert moved()
    rollup_hourly()
    assert not moved()  # buckets are not data: every answer stays what it was
    assert compact_changes(above=0)
    assert moved()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_datachange")
        assert cursor.fetchone()[0] == 1
        cursor.execute("TRUNCATE fleet_sale CASCADE")
    assert moved()


def test_a_repeated_question_is_answered_without_the_sales_until_they_change(chain_a: ChainFixture) -> None:
    client = chain_a.client("viewer")
    with schema_context(chain_a.schema):
        yesterday = local_today() - timedelta(days=1)
        at = location("CACHE")
        machine = device("CACHE-1", at)
        item = product("CACHE-P")
        noon = timezone.now().astimezone(chain_a.chain.tz).replace(hour=12, minute=0) - timedelta(days=1)
        sale(machine, item, noon, "3.00")
        sale(machine, item, noon + timedelta(minutes=5), "4.25")
    day = yesterday.isoformat()
    first = _dashboard(client, day)
    assert first == ("7.25", True)
    assert _dashboard(client, day) == ("7.25", False)  # the same question: the answer cache

    with schema_context(chain_a.schema):
        sale(machine, item, noon + timedelta(minutes=9), "1.50")
    assert _dashboard(client, day) == ("8.75", True)  # a new sale: read again
    with schema_context(chain_a.schema), connection.cursor() as cursor:
        cursor.execute("UPDATE fleet_sale SET amount = 10 WHERE device_id = %s AND amount = 1.50", [machine.id])
    assert _dashboard(client, day) == ("17.25", True)  # a correction behind the ORM's back

    with schema_context(chain_a.schema):
        rollup_hourly()
    assert _dashboard(client, day) == ("17.25", False)  # a rollup job changes no answer, so keeps the entry

    # A rename in the catalog is in the next answer.
    assets = client.get("/api/analytics/asset-sales/", {"start": day, "end": day}).json()
    assert [row["location_name"] for row in assets["devices"] if row["asset"] == "CACHE-1"] == [at.name]
    with schema_context(chain_a.schema):
        at.name = "Renamed"
        at.save(update_fields=["name"])
    assets = client.get("/api/analytics/asset-sales/", {"start": day, "end": day}).json()
    assert [row["location_name"] for row in assets["devices"] if row["asset"] == "CACHE-1"] == ["Renamed"]

    # Another chain asking the same question gets its own answer.
    assert chain_a.client("viewer").get("/api/analytics/dashboard/", {"start": day, "end": day}).json()["kpis"]["sales_revenue"] == "17.25"


def test_the_same_question_on_another_chain_is_its_own_answer(chain_a: ChainFixture, chain_b: ChainFixture) -> None:
    day = "2026-06-10"
    for fixture, amount in ((chain_a, "5.00"), (chain_b, "6.00")):
        with schema_context(fixture.schema):
            machine = device("TWIN-1", location("TWIN"))
            sale(machine, product("TWIN-P"), datetime(2026, 6, 10, 12, tzinfo=fixture.chain.tz), amount)
    assert _dashboard(chain_a.client("viewer"), day)[0] == "5.00"
    assert _dashboard(chain_b.client("viewer"), day)[0] == "6.00"
    assert _dashboard(chain_a.client("viewer"), day) == ("5.00", False)
    assert _dashboard(chain_b.client("viewer"), day) == ("6.00", False)


def test_an_answer_about_now_is_fresh_for_a_minute_then_refreshed_by_one_request(in_chain_a: ChainFixture) -> None:
    calls: list[int] = []

    def compute() -> dict[str, Any]:
        calls.append(1)
        return {"n": len(calls)}

    def at(seconds: float) -> Any:
        return mock.patch("analytics.query.answers.timezone.now", return_value=start + timedelta(seconds=seconds))

    start = timezone.now()
    question = ("test", start.isoformat())
    with at(0):
        assert cached_answer("t-live", question, live=True, compute=compute) == {"n": 1}
        assert cached_answer("t-live", question, live=True, compute=compute) == {"n": 1}
        assert cached_answer("t-past", question, live=False, compute=compute) == {"n": 2}
    with at(LIVE_SECONDS + 1):
        assert cached_answer("t-past", question, live=False, compute=compute) == {"n": 2}  # the clock is not in it
        live_key = ANSWERS.key("t-live", digest_of=_digest(question))
        cache.add(f"{live_key}:computing", 1, 30)  # another request is refreshing it: the last answer meanwhile
        assert cached_answer("t-live", question, live=True, compute=compute) == {"n": 1}
        cache.delete(f"{live_key}:computing")
        assert cached_answer("t-live", question, live=True, compute=compute) == {"n": 3}  # this one refreshes it
        assert cached_answer("t-live", question, live=True, compute=compute) == {"n": 3}
    with at(LIVE_SECONDS + 1 + STALE_SECONDS):
        cache.add(f"{live_key}:computing", 1, 30)  # a refresh that never ends does not hold an old answer forever
        assert cached_answer("t-live", question, live=True, compute=compute) == {"n": 4}
    with caches_disabled():
        assert cached_answer("t-past", question, live=False, compute=compute) == {"n": 5}


def test_a_miss_waits_for_the_request_already_computing_it(in_chain_a: ChainFixture) -> None:
    question = ("wait", timezone.now().isoformat())
    key = ANSWERS.key("t-wait", digest_of=_digest(question))
    cache.add(f"{key}:computing", 1, 30)

    schema = in_chain_a.schema

    def other_request() -> None:
        with schema_context(schema):
            ANSWERS.set(key, (timezone.now().timestamp(), {"from": "the other request"}))

    def other_gives_up() -> None:
        with schema_context(schema):
            cache.delete(f"{key}:computing")

    timer = threading.Timer(0.3, other_request)
    timer.start()
    assert cached_answer("t-wait", question, live=False, compute=lambda: {"from": "here"}) == {"from": "the other request"}
    timer.join()
    # The other request gave up without an answer: this one computes it, without waiting out WAIT_SECONDS.
    question = ("gave up", timezone.now().isoformat())
    key = ANSWERS.key("t-wait", digest_of=_digest(question))
    cache.add(f"{key}:computing", 1, 30)
    threading.Timer(0.2, other_gives_up).start()
    started = time.monotonic()
    assert cached_answer("t-wait", question, live=False, compute=lambda: {"from": "here"}) == {"from": "here"}
    assert time.monotonic() - started < WAIT_SECONDS


def _digest(question: Any) -> Any:
    """The key's question part, as cached_answer makes it."""
    chain = current_chain()
    return (question, data_signature(), chain.time_zone, chain.currency, local_today(chain))


def _other_connection(schema: str) -> psycopg.Connection[Any]:
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=db["USER"], dbname=db["NAME"])
    other.execute(f'SET search_path TO "{schema}", public')
    return other


def _insert_sale(other: psycopg.Connection[Any], external_id: str, amount: str, at: Any) -> None:
    other.execute(
        "INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, quantity, amount, transactions, source,"
        " slot_code, payment_method, ingested_at) SELECT %s, %s, d.id, p.id, 1, %s, 1, 'telemetry', '', 'card', now()"
        " FROM fleet_device d, fleet_product p WHERE d.asset = 'RACE-1' AND p.sku = 'RACE-P'",
        [external_id, at, amount],
    )


def test_transactions_committing_around_an_answer_are_never_hidden_by_the_cache(committed: Any) -> None:
    """An answer computed while a write is in flight is stored under the signature it read; when the write
    commits, before or after a newer one, the next answer sees it."""
    chain = committed(time_zone="UTC")
    with schema_context(chain.schema_name):
        machine = device("RACE-1", location("RACE"))
        sale(machine, product("RACE-P"), timezone.now() - timedelta(days=1), "1.00")
        day = (local_today() - timedelta(days=1)).isoformat()
        at = timezone.now() - timedelta(days=1)

    def revenue() -> Decimal:
        with schema_context(chain.schema_name):
            return Decimal(get_report("dashboard").run({"start": day, "end": day})["kpis"]["sales_revenue"])

    assert revenue() == Decimal("1.00")
    first, second = _other_connection(chain.schema_name), _other_connection(chain.schema_name)
    try:
        _insert_sale(first, "race-1", "2.00", at)  # begun first (the older log id), committed last
        assert revenue() == Decimal("1.00")  # not committed: not seen, and cached under the signature without it
        _insert_sale(second, "race-2", "4.00", at)
        second.commit()
        assert revenue() == Decimal("5.00")
        first.commit()  # an older transaction committing after a newer one: the count moves, the newest id not
        assert revenue() == Decimal("7.00")
        assert revenue() == Decimal("7.00")
        _insert_sale(first, "race-3", "8.00", at)
        first.commit()
        assert revenue() == Decimal("15.00")
    finally:
        first.close()
        second.close()


def test_a_whole_list_too_long_to_hold_is_computed_each_time(in_chain_a: ChainFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("analytics.reports.MAX_CACHED_ROWS", 2)
    at = location("LONG")
    for i in range(3):
        device(f"LONG-{i}", at)
    report = get_report("asset-sales")
    day = (local_today() - timedelta(days=3)).isoformat()
    for paged, data, reads in ((True, {"limit": "2"}, False), (False, {}, True)):
        params, values = report.validate({"start": day, "end": day, **data})
        report.result(params, values, paged=paged)
        with CaptureQueriesContext(connection) as queries:
            again = report.result(params, values, paged=paged)
        assert len(again["devices"]) == (2 if paged else 3)
        assert any("fleet_device" in query["sql"] for query in queries.captured_queries) is reads
