"""import_sales <schema> FILE: import a sales CSV/XLSX; prints the JSON report, exits 1 when rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from chains.models import Chain


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def chain_schema(schema: str) -> str:
    if not Chain.objects.filter(schema_name=schema).exists():
        raise CommandError(f"no chain with the schema {schema!r}")
    return schema


class Command(BaseCommand):
    help = "Import a sales file (CSV or XLSX, interfaces.md format) into a chain; prints a JSON report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        from fleet.services.sales import sales_import

        schema = chain_schema(options["schema"])
        data = read_file(options["file"])
        with tenant_context(Chain.objects.get(schema_name=schema)):
            report = sales_import(data=data, file_name=options["file"])
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
        if report.rejected:
            raise SystemExit(1)
