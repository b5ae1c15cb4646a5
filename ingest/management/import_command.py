"""The shape every file-import command shares: read the file, import it inside the chain, print the report."""

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


class ImportFileCommand(BaseCommand):
    """`<command> <schema> FILE`: prints the JSON import report; exits 1 when the file was rejected."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("file")

    def import_file(self, *, data: bytes, file_name: str) -> Any:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        schema = chain_schema(options["schema"])
        data = read_file(options["file"])
        with tenant_context(Chain.objects.get(schema_name=schema)):
            report = self.import_file(data=data, file_name=options["file"])
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
        if report.rejected:
            raise SystemExit(1)
