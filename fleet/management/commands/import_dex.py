"""import_dex <schema> FILE…: ingest DEX reads in the given order; prints a JSON list, exits 1 if any was rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import tenant_context

from chains.models import Chain
from ingest.management.import_command import chain_schema, read_file


class Command(BaseCommand):
    help = "Ingest DEX/UCS reads into a chain (one report per file, as a JSON list)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("files", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        from fleet.services.dex import dex_read_ingest

        schema = chain_schema(options["schema"])
        reports = []
        with tenant_context(Chain.objects.get(schema_name=schema)):
            for name in options["files"]:
                data = read_file(name)
                reports.append(dex_read_ingest(data=data, file_name=Path(name).name))
        self.stdout.write(json.dumps([report.as_dict() for report in reports], indent=2))
        if any(report.rejected for report in reports):
            raise SystemExit(1)
