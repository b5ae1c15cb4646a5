"""import_catalog <schema> <kind> FILE: import catalog rows with the admin's resources; prints a JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from chains.models import Chain
from fleet.resources import catalog_import, catalog_resources


class Command(BaseCommand):
    help = "Import a catalog CSV/XLSX file (all-or-nothing) and print a JSON report; exit 1 when rejected."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("kind", choices=list(catalog_resources()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = Chain.objects.filter(schema_name=options["schema"]).first()
        if chain is None or chain.schema_name == "public":
            raise CommandError(f"No chain with schema {options['schema']!r}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with schema_context(chain.schema_name):
            report = catalog_import(kind=options["kind"], path=path, dry_run=options["dry_run"])
        self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        if report.rejected:
            raise CommandError(f"{path}: rejected, {len(report.errors)} error(s); nothing was imported.", returncode=1)
