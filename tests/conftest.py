"""Test fixtures: two chains created once per session, clients per role, and committed chains."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import get_tenant_model, schema_context

from chains.models import Chain
from chains.services import chain_create, chain_user_create

CHAIN_A = ("test_a", "chain-a.localhost", "Europe/Stockholm", "SEK")
CHAIN_B = ("test_b", "chain-b.localhost", "America/New_York", "USD")
ROLES = ("viewer", "manager", "admin")
# Clear API keys of the fixture users, by (schema, role): the database keeps only their digests.
_TOKENS: dict[tuple[str, str], str] = {}


def _get_or_create_chain(schema: str, domain: str, tz: str, currency: str) -> Chain:
    chain = Chain.objects.filter(schema_name=schema).first()
    if chain is None:
        chain = chain_create(schema=schema, name=schema.replace("_", " ").title(), domain=domain, time_zone=tz, currency=currency)
    for role in ROLES:
        created = chain_user_create(
            chain=chain, username=f"{schema}-{role}", email=f"{role}@{domain}", role=role, password="pw", with_token=True
        )
        assert created.token is not None
        _TOKENS[(schema, role)] = created.token
    return chain


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: pytest.FixtureRequest,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """The test database, always, with the two fixture chains.

    pytest-django sets a database up only when a collected test asks for `db`; tests on committed chains
    (`committed_chain`) ask for none, so run alone they would reach the development database instead.
    The database is kept between runs (`--reuse-db` in pyproject; `--create-db` makes it anew).
    """
    from django.test.utils import setup_databases

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"default"},
            keepdb=django_db_keepdb and not django_db_createdb,
        )
        with schema_context("public"):
            for spec in (CHAIN_A, CHAIN_B):
                _get_or_create_chain(*spec)
    yield


@pytest.fixture(autouse=True)
def _public_schema_between_tests() -> Iterator[None]:
    yield
    connection.set_schema_to_public()


@dataclass
class ChainFixture:
    chain: Chain
    domain: str

    @property
    def schema(self) -> str:
        return self.chain.schema_name

    def client(self, role: str | None = None) -> Client:
        client = Client(HTTP_HOST=self.domain)
        if role is not None:
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {self.token(role)}"
        return client

    def token(self, role: str) -> str:
        """The clear API key of the chain's `role` user (made when the session's chains were set up)."""
        return _TOKENS[(self.schema, role)]

    def activate(self) -> None:
        connection.set_tenant(self.chain)


@pytest.fixture
def chain_a(db: None) -> ChainFixture:
    chain = Chain.objects.get(schema_name=CHAIN_A[0])
    return ChainFixture(chain=chain, domain=CHAIN_A[1])


@pytest.fixture
def chain_b(db: None) -> ChainFixture:
    chain = Chain.objects.get(schema_name=CHAIN_B[0])
    return ChainFixture(chain=chain, domain=CHAIN_B[1])


@pytest.fixture
def in_chain_a(chain_a: ChainFixture) -> Iterator[ChainFixture]:
    """Run the test body inside chain A's schema."""
    with schema_context(chain_a.schema):
        yield chain_a


@pytest.fixture
def committed_chain(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[Callable[..., Chain]]:
    """Create chains whose rows are really committed (for Celery workers and other processes); dropped after."""
    made: list[Chain] = []

    def make(time_zone: str = "UTC", currency: str = "EUR") -> Chain:
        schema = f"t_{uuid.uuid4().hex[:10]}"
        with django_db_blocker.unblock(), schema_context("public"):  # type: ignore[attr-defined]
            chain = chain_create(schema=schema, name=schema, domain=f"{schema}.localhost", time_zone=time_zone, currency=currency)
        made.append(chain)
        return chain

    yield make
    with django_db_blocker.unblock(), schema_context("public"):  # type: ignore[attr-defined]
        for chain in made:
            chain.domains.all().delete()
            get_tenant_model().objects.filter(pk=chain.pk).first().delete(force_drop=True)
