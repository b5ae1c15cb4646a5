"""`rollup <schema> [--rebuild] [--start D --end D]`: run the hourly rollup, or rebuild/backfill a chain's rollups."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, schema_context

from analytics.rollups import services
from chains.models import Chain


class Command(BaseCommand):
    help = (
        "Without options: bring the chain's rollups up to now (what the hourly job does). --rebuild: recompute every "
        "bucket from the raw rows, a month per transaction. --start/--end: recompute those local days only (a backfill)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("--rebuild", action="store_true", help="recompute all buckets from raw rows")
        parser.add_argument("--start", type=date.fromisoformat, help="first local date (YYYY-MM-DD) to recompute")
        parser.add_argument("--end", type=date.fromisoformat, help="last local date (YYYY-MM-DD) to recompute")
        parser.add_argument(
            "--single-transaction", action="store_true",
            help="with --rebuild: the fastest full rebuild, one connection per core (CVD_ROLLUP_REBUILD_WORKERS) into "
            "shadow tables that one transaction swaps in (readers see the old buckets until then)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        schema = options["schema"]
        if schema == get_public_schema_name() or not Chain.objects.filter(schema_name=schema).exists():
            raise CommandError(f"no chain with the schema {schema!r}")
        start, end = options["start"], options["end"]
        if start and end and end < start:
            raise CommandError("--end must not be before --start")
        with schema_context(schema):
            if options["rebuild"] and options["single_transaction"] and not (start or end):
                report = services.rollup_rebuild_all_at_once()
            elif options["rebuild"] or start or end:
                report = services.rollup_rebuild(start=start, end=end)
            else:
                report = services.rollup_hourly()
        self.stdout.write(json.dumps(report.as_dict()))
