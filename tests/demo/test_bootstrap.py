"""bootstrap: seeds the demo chains, builds their rollups (no catch-up over the whole history), creates the
platform admin's login, prints every login exactly once, and a second run leaves the data alone."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import get_tenant_model, schema_context

from demo import seed, startup
from demo.management.commands import bootstrap
from demo.vending import VendingSpec
from demo.venues import VenueSpec
from tests.conftest import ChainFixture


@pytest.fixture
def small_demo(
    django_db_blocker: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, settings: pytest.FixtureRequest
) -> Iterator[list[seed.DemoChain]]:
    # As under `make run` (DEBUG on): static files come from the apps, no minute-and-a-half collectstatic.
    settings.DEBUG = True  # type: ignore[attr-defined]
    suffix = datetime.now(UTC).strftime("%H%M%S%f")
    vending = seed.DemoChain(f"t_bacme{suffix}", "Acme Boot", f"bacme{suffix}.localhost", "Europe/Stockholm", "SEK", "vending")
    venues = seed.DemoChain(f"t_bph{suffix}", "PlayHub Boot", f"bph{suffix}.localhost", "Europe/London", "GBP", "venues")
    monkeypatch.setattr(bootstrap, "demo_chains", lambda: [(vending, VendingSpec(days=20, devices=3)), (venues, None)])
    monkeypatch.setattr(bootstrap, "SMALL_VENUES", VenueSpec(days=20, resources=4, customers=300))
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        had_platform_admin = get_user_model().objects.filter(username=startup.PLATFORM_ADMIN).exists()
        yield [vending, venues]
        with schema_context("public"):
            if not had_platform_admin:
                drop_platform_admin()
            for demo in (vending, venues):
                made = get_tenant_model().objects.filter(schema_name=demo.schema).first()
                if made is not None:
                    made.domains.all().delete()
                    made.delete(force_drop=True)


def drop_platform_admin() -> None:
    """Remove the public schema's platform-admin row with SQL: the ORM's cascade would also look for the
    user's rows in tenant-only tables (export jobs), which the public schema does not have."""
    with schema_context("public"), connection.cursor() as cursor:
        for statement in (
            "DELETE FROM auth_user_groups WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)",
            "DELETE FROM auth_user_user_permissions WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)",
            "DELETE FROM django_admin_log WHERE user_id IN (SELECT id FROM auth_user WHERE username = %s)",
            "DELETE FROM auth_user WHERE username = %s",
        ):
            cursor.execute(statement, [startup.PLATFORM_ADMIN])


def rows(schema: str, statement: str) -> list[tuple]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall()


def test_bootstrap_builds_the_rollups_and_prints_every_login_once(small_demo: list[seed.DemoChain]) -> None:
    vending, venues = small_demo
    drop_platform_admin()
    first, second = io.StringIO(), io.StringIO()

    call_command("bootstrap", stdout=first)
    # Raw sales against the chain's day buckets, summed independently of the query layer.
    (raw_count, raw_amount, raw_units), = rows(vending.schema, "SELECT COUNT(*), SUM(amount), SUM(quantity) FROM fleet_sale")
    (day_revenue, day_units), = rows(
        vending.schema, "SELECT SUM(revenue), SUM(units) FROM analytics_saleschainrollup WHERE grain = 'day'"
    )
    (month_revenue,), = rows(vending.schema, "SELECT SUM(revenue) FROM analytics_saleschainrollup WHERE grain = 'month'")
    (bookings, booked_buckets), = rows(
        venues.schema, "SELECT (SELECT COUNT(*) FROM bookings_booking), (SELECT COUNT(*) FROM analytics_bookingrollup)"
    )
    (dirty, watermarks), = rows(
        vending.schema, "SELECT (SELECT COUNT(*) FROM analytics_dirtyrange), (SELECT COUNT(*) FROM analytics_rollupwatermark)"
    )
    call_command("bootstrap", stdout=second)
    (raw_count_again,), = rows(vending.schema, "SELECT COUNT(*) FROM fleet_sale")

    out = first.getvalue()
    assert raw_count > 100
    assert (day_revenue, day_units) == (Decimal(raw_amount), raw_units)
    assert month_revenue == day_revenue
    assert bookings > 0 and booked_buckets > 0
    assert (dirty, watermarks) == (0, 1)  # built to now: nothing left for a catch-up
    assert f"{vending.schema}: building its rollups (full parallel rebuild) …" in out
    for demo in small_demo:
        assert out.count(f"{demo.schema}-admin") == 1
        assert out.count(f"{demo.schema}-viewer") == 1
    assert out.count("platform-admin (password 'demo')") == 1
    assert "Applying" not in out  # the new schemas' migrations stay quiet
    assert "no collectstatic needed" in out
    # The second run finds everything in place: the data stays, the rollups only catch up.
    again = second.getvalue()
    assert raw_count_again == raw_count
    assert "it already has data" in again and "bringing its rollups up to now" in again
    assert again.count(f"{vending.schema}-admin") == 1


def test_the_platform_admin_can_log_in_to_the_public_admin_and_nowhere_else(chain_a: ChainFixture) -> None:
    drop_platform_admin()

    created = startup.platform_admin_ensure()
    created_again = startup.platform_admin_ensure()
    platform = Client(HTTP_HOST="localhost")
    signed_in = platform.post("/admin/login/?next=/admin/", {"username": "platform-admin", "password": "demo"})
    index = platform.get("/admin/")
    on_a_chain = Client(HTTP_HOST=chain_a.domain).post(
        "/admin/login/?next=/admin/", {"username": "platform-admin", "password": "demo"}
    )

    assert (created, created_again) == (True, False)
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert index.status_code == 200 and b"CVD platform" in index.content
    # A chain's domain has its own users: the platform login does not exist there.
    assert on_a_chain.status_code == 200 and b"Please enter the correct username" in on_a_chain.content


def test_bootstrap_refuses_production_settings(settings: pytest.FixtureRequest) -> None:
    settings.SETTINGS_MODULE = "cvd.settings.production"  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="production"):
        call_command("bootstrap", stdout=io.StringIO())


def test_static_files_are_collected_once_until_a_source_changes(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "cvd-test.css").write_text("body { color: black; }")
    settings.STATICFILES_DIRS = [source]  # type: ignore[attr-defined]
    settings.STATIC_ROOT = tmp_path / "static"  # type: ignore[attr-defined]
    (tmp_path / "static").mkdir()

    first = startup.StaticCollection()
    needed_at_first = first.needed
    first.stamp.write_text(first.signature + "\n")  # what finish() writes once collectstatic succeeded
    unchanged = startup.StaticCollection()
    (source / "cvd-test.css").write_text("body { color: navy; }")  # another size: another signature
    changed = startup.StaticCollection()

    assert (needed_at_first, unchanged.needed, changed.needed) == (True, False, True)
