"""`run_schedules <schema> [--at ISO]`: send every scheduled report due at or before the instant and not sent yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, schema_context

from chains.models import Chain
from reporting.subscriptions.services import schedules_run


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--at: not an ISO 8601 instant: {value!r}") from error
    if parsed.tzinfo is None:
        raise CommandError("--at needs an offset (e.g. 2027-03-14T08:00:00-04:00 or …Z)")
    return parsed.astimezone(UTC)


class Command(BaseCommand):
    help = "Send every scheduled report of the chain due at or before --at (default now) and not sent yet; prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("--at", help="the instant to run as, ISO 8601 with an offset (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        schema = options["schema"]
        if schema == get_public_schema_name() or not Chain.objects.filter(schema_name=schema).exists():
            raise CommandError(f"no chain with the schema {schema!r}")
        at = _instant(options["at"]) if options["at"] else None
        with schema_context(schema):
            report = schedules_run(at=at)
        self.stdout.write(json.dumps(report.as_dict()))
