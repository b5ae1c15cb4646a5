"""evaluate_alerts <schema> [--at ISO]: evaluate every active rule for its last complete window before the instant."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_tenants.utils import tenant_context

from chains.models import Chain


class Command(BaseCommand):
    help = "Evaluate a chain's alert rules for their last complete window before --at (default now); prints a JSON report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("--at", help="an ISO 8601 instant with offset (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        from reporting.alerts.services import alerts_evaluate

        chain = Chain.objects.exclude(schema_name="public").filter(schema_name=options["schema"]).first()
        if chain is None:
            raise CommandError(f"No chain with the schema {options['schema']!r}.")
        at = None
        if options["at"]:
            try:
                at = datetime.fromisoformat(options["at"])
            except ValueError:
                raise CommandError(f"--at: {options['at']!r} is not an ISO 8601 instant.") from None
            if timezone.is_naive(at):
                raise CommandError("--at: give an offset (e.g. 2026-10-05T08:00:00+02:00).")
        with tenant_context(chain):
            report = alerts_evaluate(at=at)
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
