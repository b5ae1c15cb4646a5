"""import_funnel_events <schema> FILE: import a funnel-events CSV/XLSX; prints the JSON report, exits 1 when rejected."""

from __future__ import annotations

from typing import Any

from ingest.management.import_command import ImportFileCommand


class Command(ImportFileCommand):
    help = "Import a funnel-events file (CSV or XLSX) into a chain; prints a JSON report."

    def import_file(self, *, data: bytes, file_name: str) -> Any:
        from bookings.services import funnel_event_import

        return funnel_event_import(data=data, file_name=file_name)
