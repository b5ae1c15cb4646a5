"""Import reports: the JSON shape every import (CLI, admin, API) returns, see interfaces.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A 1,000,000-row file of garbage must not produce a 100 MB report; the total is still counted.
MAX_REPORTED_ERRORS = 10_000


@dataclass
class ImportReport:
    """What became of one tabular file (or API batch): rows read, created, duplicates, row errors."""

    file: str
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors_total: int = 0
    # A dry run (the admin's preview) writes nothing: created and duplicates say what an import would do.
    dry_run: bool = False

    @property
    def rejected(self) -> bool:
        return self.errors_total > 0

    def add_error(self, *, row: int, column: str, message: str) -> None:
        """Record a bad row; row 0 is the header or the file as a whole."""
        self.errors_total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": column, "message": message})

    def as_dict(self) -> dict[str, Any]:
        if self.dry_run:
            # The would-be figures stay even for a rejected file: they tell what fixing the errors would give.
            status, created, duplicates = ("rejected" if self.rejected else "ready"), self.created, self.duplicates
        else:
            status = "rejected" if self.rejected else "imported"
            created, duplicates = (0, 0) if self.rejected else (self.created, self.duplicates)
        result: dict[str, Any] = {
            "file": self.file,
            "status": status,
            "rows": self.rows,
            "created": created,
            "duplicates": duplicates,
            "errors": self.errors,
            "warnings": self.warnings,
        }
        if self.dry_run:
            result["dry_run"] = True
        if self.errors_total > len(self.errors):
            result["errors_total"] = self.errors_total
        return result


class FileRejected(Exception):
    """The file as a whole cannot be read (encoding, format, size, header); nothing is stored."""

    def __init__(self, message: str, *, row: int = 0, column: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column
