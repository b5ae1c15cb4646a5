"""Seed the demo chains: create chain, users and data, then tell analytics which ranges changed."""

from __future__ import annotations

import time as clock
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import numpy as np
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context

from chains.models import Chain
from chains.services import chain_create, chain_user_create
from demo.vending import VendingSpec, vending_seed
from demo.venues import VenueSpec, venue_seed
from fleet.models import Location
from ingest.signals import raw_data_changed

Kind = Literal["vending", "venues"]
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo login


@dataclass(frozen=True)
class DemoChain:
    schema: str
    name: str
    domain: str
    time_zone: str
    currency: str
    kind: Kind


ACME = DemoChain("acme", "Acme Vending", "acme.localhost", "Europe/Stockholm", "SEK", "vending")
PLAYHUB = DemoChain("playhub", "PlayHub", "playhub.localhost", "Europe/London", "GBP", "venues")
# The ten-million-sale chain stays separate, so the everyday demo remains quick to browse.
BULK = DemoChain("bulk", "Bulk Vending", "bulk.localhost", "Europe/Stockholm", "SEK", "vending")

SMALL_VENDING = VendingSpec()
LARGE_VENDING = VendingSpec(
    devices=2000, products=500, sites=120, target_sales=10_000_000, routes=False, chunk_days=20, prefix="BLK",
    dex_samples=False,  # the benchmarks' chain stays as it was
)
SMALL_VENUES = VenueSpec()


@dataclass
class SeedOutcome:
    schema: str
    status: str  # "seeded" | "skipped"
    seconds: float = 0.0
    counts: dict[str, Any] | None = None


def demo_cutoff(*, today: date, chain: Chain, now: datetime | None = None) -> datetime:
    """Data ends at the end of `today` (local), or now when that is earlier: the demo never has future sales."""
    end_of_today = datetime.combine(today + timedelta(days=1), time(0), tzinfo=chain.tz)
    return min(now or timezone.now(), end_of_today)


def demo_chain_ensure(demo: DemoChain, *, reset: bool = False, verbosity: int = 1) -> Chain:
    chain = Chain.objects.filter(schema_name=demo.schema).first()
    if chain is not None and reset:
        chain.domains.all().delete()
        get_tenant_model().objects.get(pk=chain.pk).delete(force_drop=True)
        chain = None
    if chain is None:
        with schema_context("public"):
            chain = chain_create(
                schema=demo.schema, name=demo.name, domain=demo.domain, time_zone=demo.time_zone, currency=demo.currency,
                verbosity=verbosity,
            )
    for role in ("admin", "manager", "viewer"):
        chain_user_create(
            chain=chain, username=f"{demo.schema}-{role}", email=f"{role}@{demo.domain}", role=role, password=DEMO_PASSWORD
        )
    return chain


def demo_data_seed(
    *,
    chain: Chain,
    kind: Kind,
    seed: int,
    today: date,
    vending: VendingSpec | None = None,
    venues: VenueSpec | None = None,
    now: datetime | None = None,
    log: Any = None,
) -> SeedOutcome:
    """Fill an empty chain with demo data; a chain that already has catalog rows is left alone."""
    started = clock.monotonic()
    with schema_context(chain.schema_name):
        if Location.objects.exists():
            return SeedOutcome(schema=chain.schema_name, status="skipped")
        rng = np.random.default_rng(seed)
        cutoff = demo_cutoff(today=today, chain=chain, now=now)
        with transaction.atomic():
            if kind == "vending":
                summary: Any = vending_seed(spec=vending or VendingSpec(), rng=rng, today=today, tz=chain.tz, cutoff=cutoff, log=log)
                ranges = {"sales": summary.sales_range}
            else:
                summary = venue_seed(spec=venues or VenueSpec(), rng=rng, today=today, tz=chain.tz, cutoff=cutoff, log=log)
                ranges = {"bookings": summary.bookings_range, "funnel": summary.funnel_range}
            # Rollups learn about the new history exactly as they would about any late import.
            for data_kind, span in ranges.items():
                if span is not None:
                    raw_data_changed.send(sender=demo_data_seed, kind=data_kind, starts_at=span[0], ends_at=span[1])
    counts = {k: (len(v) if isinstance(v, list) else v) for k, v in asdict(summary).items() if not k.endswith("_range")}
    return SeedOutcome(schema=chain.schema_name, status="seeded", seconds=clock.monotonic() - started, counts=counts)


def demo_chains(scale: str = "small") -> list[tuple[DemoChain, VendingSpec | None]]:
    """The demo chains of a scale, in seeding order, with the vending spec of each (None for venues)."""
    demos: list[tuple[DemoChain, VendingSpec | None]] = [(ACME, SMALL_VENDING), (PLAYHUB, None)]
    if scale == "large":
        demos.append((BULK, LARGE_VENDING))
    return demos


def demo_seed(
    *, scale: str = "small", seed: int = 42, today: date | None = None, reset: bool = False, log: Any = None
) -> list[SeedOutcome]:
    """Create the demo chains `acme` and `playhub` (and `bulk` at the large scale) with their users and data."""
    outcomes = []
    for demo, spec in demo_chains(scale):
        chain = demo_chain_ensure(demo, reset=reset)
        chain_today = today or timezone.now().astimezone(chain.tz).date()
        if log is not None:
            log.write(f"{demo.schema}: seeding (seed {seed}, today {chain_today}) …")
        outcomes.append(
            demo_data_seed(
                chain=chain, kind=demo.kind, seed=seed, today=chain_today, vending=spec, venues=SMALL_VENUES, log=log
            )
        )
    return outcomes
