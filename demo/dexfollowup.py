"""A later read of the same machine, made from a DEX file: the counters move on, the read's date moves forward.

Every selection with a price sells some vends (a fixed number, or 0–10 drawn from a seed): its PA2
lifetime counters (PA201 vends, PA202 value) and, when the machine keeps them, its since-reset
counters (PA203/PA204) rise by the vends and vends × PA102 price; VA1's paid totals (VA101..VA104)
rise by the sums, so the slots and VA1 move consistently. The read's date (ID5, and EA3 with its
"previous read" fields set to the original read) moves forward, EA301 counts one read more, and the
SE record count and G85 CRC are recomputed when the original had them right (a wrong one stays wrong,
as the machine wrote it). Nothing else changes, not even line ends or trailing spaces.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from fleet.dex.parser import crc16_arc, parse_dex

_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
_DIGITS = re.compile(r"[0-9]+")
MAX_RANDOM_VENDS = 10


@dataclass(frozen=True)
class SlotSale:
    code: str
    vends: int
    value: Decimal


@dataclass
class Followup:
    data: bytes
    read_at: datetime | None  # the new read time (None: the read carries no date; its upload time counts)
    previous_read_at: datetime | None
    slots: list[SlotSale] = field(default_factory=list)
    record_count_recomputed: bool = False
    crc_recomputed: bool = False

    @property
    def units(self) -> int:
        return sum(slot.vends for slot in self.slots)

    @property
    def amount(self) -> Decimal:
        return sum((slot.value for slot in self.slots), Decimal(0))

    def summary(self) -> dict[str, object]:
        return {
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "previous_read_at": self.previous_read_at.isoformat() if self.previous_read_at else None,
            "units": self.units,
            "amount": str(self.amount),
            "slots": {slot.code: {"vends": slot.vends, "value": str(slot.value)} for slot in self.slots if slot.vends},
            "record_count_recomputed": self.record_count_recomputed,
            "crc_recomputed": self.crc_recomputed,
        }


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    stripped = text.strip()
    return int(stripped) if _DIGITS.fullmatch(stripped) else None


def _field(fields: list[str], index: int) -> str | None:
    return fields[index] if index < len(fields) else None


def _add(fields: list[str], index: int, amount: int) -> None:
    """Add to a numeric field in place, keeping its zero padding; empty or non-numeric fields stay as they are."""
    value = _int(_field(fields, index))
    if value is None:
        return
    width = len(fields[index].strip())
    fields[index] = str(value + amount).zfill(width)


def _parse_date(date_text: str, time_text: str | None) -> datetime | None:
    date_text = date_text.strip()
    formats = {6: "%y%m%d", 8: "%Y%m%d"}
    if len(date_text) not in formats or not date_text.isdigit():
        return None
    day = datetime.strptime(date_text, formats[len(date_text)])
    time_text = (time_text or "").strip()
    if len(time_text) in (4, 6) and time_text.isdigit():
        day = day.replace(hour=int(time_text[:2]), minute=int(time_text[2:4]), second=int(time_text[4:6] or 0))
    return day


def _format_date(moment: datetime, like: str) -> str:
    return moment.strftime("%y%m%d" if len(like.strip()) == 6 else "%Y%m%d")


def _format_time(moment: datetime, like: str) -> str:
    width = len(like.strip())
    return moment.strftime("%H%M%S") if width == 6 else moment.strftime("%H%M") if width == 4 else like


def _crc_variant(lines: list[str], declared: int, codec: str) -> tuple[bool, str] | None:
    """How the machine checksummed (trailing spaces kept or not, which codec), as the parser checks it."""
    for strip in (False, True):
        for candidate in (codec, "latin-1"):
            joined = "".join((line.rstrip() if strip else line) + "\r\n" for line in lines)
            if crc16_arc(joined.encode(candidate, errors="replace")) == declared:
                return strip, candidate
    return None


def dex_followup(
    data: bytes, *, days: int = 7, at: datetime | None = None, vends: int | None = None, seed: int = 1
) -> Followup:
    """The follow-up read of `data` (see the module docstring). `at` sets the new read time, else `days` later;
    `vends` sells exactly that many of every priced selection, else 0–10 each from `seed`."""
    original = parse_dex(data)
    text, codec = _decode(data)
    parts = _LINE_BREAK.split(text)
    lines, breaks = parts[0::2], parts[1::2] + [""] * (len(parts[0::2]) - len(parts[1::2]))
    records = [line.split("*") for line in lines]
    tags = [fields[0].strip() for fields in records]
    draw = random.Random(seed)
    new_time = at or (original.read_at + timedelta(days=days) if original.read_at else None)
    followup = Followup(data=b"", read_at=new_time, previous_read_at=original.read_at)

    seen: set[str] = set()
    block: tuple[str, int | None] | None = None  # (code, price) of the PA1 whose PA2 is still to come
    va1_index: int | None = None
    for index, fields in enumerate(records):
        tag = tags[index]
        if tag == "PA1":
            code = (_field(fields, 1) or "").strip()
            block = None if code in seen or not code else (code, _int(_field(fields, 2)))
            seen.add(code)
        elif tag == "PA2" and block is not None:
            code, price = block
            block = None
            if _int(_field(fields, 1)) is None or _int(_field(fields, 2)) is None:
                continue
            sold = 0 if not price else vends if vends is not None else draw.randint(0, MAX_RANDOM_VENDS)
            value = sold * (price or 0)
            for position, amount in ((1, sold), (2, value), (3, sold), (4, value)):
                _add(fields, position, amount)
            followup.slots.append(SlotSale(code=code, vends=sold, value=Decimal(value).scaleb(-original.decimals)))
        elif tag == "VA1" and va1_index is None:
            va1_index = index
        elif tag in ("ID5", "EA3") and new_time is not None:
            date_at, time_at = (1, 2) if tag == "ID5" else (2, 3)
            date_text = _field(fields, date_at)
            if date_text is None or _parse_date(date_text, _field(fields, time_at)) is None:
                continue
            if tag == "EA3":
                _add(fields, 1, 1)
                while len(fields) <= 6:
                    fields.append("")
                fields[5], fields[6] = fields[2], fields[3]
            fields[date_at] = _format_date(new_time, date_text)
            if _field(fields, time_at) is not None:
                fields[time_at] = _format_time(new_time, fields[time_at])
    if va1_index is not None:
        minor_units = int(followup.amount.scaleb(original.decimals))
        for position, amount in ((1, minor_units), (2, followup.units), (3, minor_units), (4, followup.units)):
            _add(records[va1_index], position, amount)

    st = tags.index("ST") if "ST" in tags else None
    se = tags.index("SE", st) if st is not None and "SE" in tags[st:] else None
    if st is not None and se is not None:
        if original.record_count_ok and len(records[se]) > 1:
            records[se][1] = str(se - st + 1)
            followup.record_count_recomputed = True
        g85 = next((i for i in range(st, se) if tags[i] == "G85"), None)
        declared = _field(records[g85], 1) if g85 is not None else None
        if g85 is not None and declared is not None and original.crc_ok:
            variant = _crc_variant(lines[st:g85], int(declared.strip(), 16), codec)
            if variant is not None:
                strip, crc_codec = variant
                covered = ["*".join(fields) for fields in records[st:g85]]
                joined = "".join((line.rstrip() if strip else line) + "\r\n" for line in covered)
                crc = f"{crc16_arc(joined.encode(crc_codec, errors='replace')):04X}"
                records[g85][1] = crc.lower() if any(c in "abcdef" for c in declared) else crc
                followup.crc_recomputed = True
    followup.data = "".join("*".join(fields) + end for fields, end in zip(records, breaks, strict=True)).encode(codec)
    return followup
