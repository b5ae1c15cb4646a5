"""import_sales <schema> FILE: import a sales CSV/XLSX; prints the JSON report, exits 1 when rejected."""

from __future__ import annotations

from typing import Any

from ingest.management.import_command import ImportFileCommand, chain_schema, read_file

__all__ = ["Command", "chain_schema", "read_file"]


class Command(ImportFileCommand):
    help = "Import a sales file (CSV or XLSX, interfaces.md format) into a chain; prints a JSON report."

    def import_file(self, *, data: bytes, file_name: str) -> Any:
        from fleet.services.sales import sales_import

        return sales_import(data=data, file_name=file_name)
