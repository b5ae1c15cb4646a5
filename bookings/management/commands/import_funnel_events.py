"""import_funnel_events <schema> FILE: import a funnel-events CSV/XLSX; prints the JSON report, exits 1 when rejected."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import tenant_context

from chains.models import Chain
from fleet.management.commands.import_sales import chain_schema, read_file


class Command(BaseCommand):
    help = "Import a funnel-events file (CSV or XLSX) into a chain; prints a JSON report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        from bookings.services import funnel_event_import

        schema = chain_schema(options["schema"])
        data = read_file(options["file"])
        with tenant_context(Chain.objects.get(schema_name=schema)):
            report = funnel_event_import(data=data, file_name=options["file"])
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
        if report.rejected:
            raise SystemExit(1)
