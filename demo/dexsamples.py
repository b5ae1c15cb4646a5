"""The seven real DEX reads shipped in samples/dex/: the demo vending chain has a machine for each.

The first devices of the demo fleet take the samples' serials (ID101, or the DXS communication id
when ID101 is empty, as ingestion does) and their slot codes, so each sample uploads to a demo
machine and its follow-up reads (demo.dexfollowup) book sales against real planogram slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from django.conf import settings

from fleet.dex.parser import parse_dex

# Installed before every dated sample read (the 2007 and 2037 ones aside): their reads are not "before install".
SAMPLE_INSTALLED = date(2025, 1, 1)


def samples_dir() -> Path:
    return Path(settings.BASE_DIR) / "samples" / "dex"


@dataclass(frozen=True)
class SampleMachine:
    file: str
    serial: str
    model: str | None
    slots: tuple[str, ...]
    read_at: datetime | None


@cache
def sample_machines() -> tuple[SampleMachine, ...]:
    """One machine per sample file, in file-name order (empty when the folder is missing)."""
    folder = samples_dir()
    machines = []
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        read = parse_dex(path.read_bytes())
        machines.append(
            SampleMachine(
                file=path.name, serial=read.serial or read.comm_id or "", model=read.model,
                slots=tuple(slot.code for slot in read.slots), read_at=read.read_at,
            )
        )
    return tuple(machines)
