"""import_bookings <schema> FILE: import a bookings CSV/XLSX; prints the JSON report, exits 1 when rejected."""

from __future__ import annotations

from typing import Any

from ingest.management.import_command import ImportFileCommand


class Command(ImportFileCommand):
    help = "Import a bookings file (CSV or XLSX) into a chain; prints a JSON report."

    def import_file(self, *, data: bytes, file_name: str) -> Any:
        from bookings.services import booking_import

        return booking_import(data=data, file_name=file_name)
