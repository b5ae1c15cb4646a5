"""seed_demo [--scale small|large] [--seed N] [--today YYYY-MM-DD] [--reset]: deterministic demo chains."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chains.models import Chain
from demo.seed import LARGE_VENDING, DemoChain, demo_data_seed, demo_seed
from demo.startup import rollups_bring_up
from demo.vending import VendingSpec
from demo.venues import VenueSpec


class Command(BaseCommand):
    help = (
        "Create the demo chains acme (vending) and playhub (venues) with users <schema>-admin|manager|viewer "
        "(password 'demo') and deterministic data; --scale large adds the chain 'bulk' with 10 million sales. "
        "Chains that already have data are skipped unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["small", "large"], default="small")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--today", type=date.fromisoformat, help="the last day of the data (default: today)")
        parser.add_argument("--reset", action="store_true", help="drop and recreate the demo chains first")
        # Internal (tests, experiments): seed one existing, empty chain with a smaller data set.
        parser.add_argument("--into", metavar="SCHEMA", help="seed only this existing chain")
        parser.add_argument("--kind", choices=["vending", "venues"], default="vending")
        parser.add_argument("--days", type=int, default=400)
        parser.add_argument("--devices", type=int, default=60)
        parser.add_argument("--products", type=int, default=80)
        parser.add_argument("--resources", type=int, default=40)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["into"]:
            chain = Chain.objects.filter(schema_name=options["into"]).exclude(schema_name="public").first()
            if chain is None:
                raise CommandError(f"No chain with schema {options['into']!r}.")
            today = options["today"]
            if today is None:
                raise CommandError("--into needs --today, so that the data is reproducible.")
            outcome = demo_data_seed(
                chain=chain,
                kind=options["kind"],
                seed=options["seed"],
                today=today,
                vending=LARGE_VENDING
                if options["scale"] == "large"
                else VendingSpec(days=options["days"], devices=options["devices"], products=options["products"]),
                venues=VenueSpec(days=options["days"], resources=options["resources"]),
            )
            self.stdout.write(json.dumps(outcome.__dict__, default=str))
            return
        for outcome in demo_seed(
            scale=options["scale"], seed=options["seed"], today=options["today"], reset=options["reset"], log=self.stdout
        ):
            if outcome.status == "skipped":
                self.stdout.write(f"{outcome.schema}: already has data, left as it is (use --reset to recreate).")
            else:
                self.stdout.write(f"{outcome.schema}: seeded in {outcome.seconds:.1f} s: {json.dumps(outcome.counts)}")
                # Built now with the full rebuild (seconds), not left to beat's hourly catch-up over all history.
                self.stdout.write(f"{outcome.schema}: building its rollups (full parallel rebuild) …")
                report = rollups_bring_up(Chain.objects.get(schema_name=outcome.schema), "rebuild")
                self.stdout.write(f"  {report.changed_rows:,} bucket rows in {report.seconds:.1f} s")
        self.stdout.write("Demo logins (password 'demo'): <schema>-admin, <schema>-manager, <schema>-viewer")


__all__ = ["Command", "DemoChain"]
