"""make_dex_followup FILE --out F [--days N | --at YYYY-MM-DDTHH:MM] [--vends N] [--seed N]: a later read of the same machine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.dexfollowup import dex_followup
from fleet.dex.parser import DexError


class Command(BaseCommand):
    help = (
        "Write a follow-up read of a DEX file: every priced selection sells some vends (PA2 and VA1 rise together), "
        "the read's date moves forward, SE and G85 are recomputed when they were right. Prints what it sold (JSON): "
        "uploading the original and then the follow-up books exactly those sales."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--out", type=Path, required=True, help="where to write the follow-up read")
        parser.add_argument("--days", type=int, default=7, help="days after the original read (default 7)")
        parser.add_argument("--at", type=datetime.fromisoformat, help="the follow-up's read time (machine-local), instead of --days")
        parser.add_argument("--vends", type=int, help="vends of every priced selection (default: 0-10 each, from --seed)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["file"]
        if not source.is_file():
            raise CommandError(f"file: {source} does not exist")
        if options["vends"] is not None and options["vends"] < 0:
            raise CommandError("--vends: must be 0 or more (counters never go back)")
        if options["days"] < 0:
            raise CommandError("--days: must be 0 or more (a follow-up comes after its read)")
        try:
            followup = dex_followup(
                source.read_bytes(), days=options["days"], at=options["at"], vends=options["vends"], seed=options["seed"]
            )
        except DexError as exc:
            raise CommandError(f"file: {source} is not a usable DEX read: {exc}") from exc
        options["out"].write_bytes(followup.data)
        self.stdout.write(json.dumps({"file": str(source), "out": str(options["out"]), **followup.summary()}))
