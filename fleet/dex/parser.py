"""Parser for vending-machine DEX/UCS (EVA-DTS) audit reads: pure Python, no Django.

Entry point: :func:`parse_dex`. It rejects (raises :class:`DexError`) only what
cannot be a usable read: empty input, text that is not DEX, or a read whose
envelope (DXS, ST … SE, DXE) is incomplete, i.e. truncated. Anything a real
machine commonly gets wrong (SE record count, G85 checksum, slot totals that do
not add up to VA1, odd fields) is reported in ``DexRead.warnings`` instead.

Decisions worth knowing:

* Money fields are integers in minor units scaled by ID401 (decimal places,
  2 when ID4 is absent or unusable) into :class:`~decimal.Decimal`.
  Empty fields become ``None``; a non-numeric field becomes ``None`` plus a
  warning.
* Slots come in file order. A repeated PA1 for a slot code already seen keeps
  the first block and ignores the repeat (and the PA2/PA5 that follow it),
  with a warning: repeats seen in the field are duplicated blocks, and adding
  them would double-count the slot.
* A PA2 with no PA1 before it (or a second PA2 for the same PA1) cannot be
  attributed to a slot, so it is dropped with a warning.
* PA5 is exposed as ``DexSlot.sold_out_at`` / ``sold_out_selections``: in the
  samples its date/time coincides with the slot's ELB (lane empty) event and
  its third field counts selections made while sold out, so it is the time
  the slot last sold out, not the time of its last sale.
* ``read_at`` comes from ID5 (ID501 date, ID502 time) when present, else from
  EA3 (EA302 date, EA303 time). It is naive machine-local time.
* The G85 CRC-16/ARC covers the lines from ST up to (excluding) G85, each ended
  by CRLF. A missing G85 is not a warning (the record is optional); ``crc_ok``
  is then ``None``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

__all__ = [
    "DexError",
    "DexEvent",
    "DexRead",
    "DexSlot",
    "content_hash",
    "crc16_arc",
    "parse_dex",
    "reconciles_with_va1",
    "slot_totals",
]

_T = TypeVar("_T")

DEFAULT_DECIMALS = 2
# ID401 beyond this is a corrupt field, not a currency.
MAX_DECIMALS = 6
# Python refuses int() on very long digit strings; no DEX counter is this long.
MAX_DIGITS = 18

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"[A-Z]{1,3}[0-9]{0,3}", re.ASCII)
_INT = re.compile(r"-?[0-9]+", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}", re.ASCII)
_UTF8_BOM = b"\xef\xbb\xbf"

# Tags whose presence shows the text is meant to be DEX at all; used only to
# tell "garbage" apart from "a DEX read with a broken envelope".
_DEX_TAGS = frozenset({"DXS", "ST", "SE", "DXE", "G85", "ID1", "ID4", "ID5", "VA1", "PA1", "PA2"})
# Records that should occur once per read; later copies are ignored.
_SINGLETONS = frozenset({"ID1", "ID4", "ID5", "VA1", "VA2", "VA3", "CA2", "CA3", "DA2", "EA3", "G85"})


def _crc_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


# Byte-at-a-time table: reads are re-checked on every upload, and the bitwise
# loop is several times slower in pure Python.
_CRC_TABLE = _crc_table()


class DexError(ValueError):
    """The input is not a usable DEX read (empty, not DEX, or truncated)."""


@dataclass(frozen=True, slots=True)
class DexSlot:
    """One selection: its PA1 block (PA1, PA2, PA5)."""

    code: str  # PA101, as written (letters and inner spaces kept)
    price: Decimal | None  # PA102
    product_id: str | None  # PA103
    vends: int | None  # PA201, paid vends since initialisation
    value: Decimal | None  # PA202, paid value since initialisation
    vends_since_reset: int | None  # PA203
    value_since_reset: Decimal | None  # PA204
    sold_out_at: datetime | None = None  # PA501 + PA502
    sold_out_selections: int | None = None  # PA503


@dataclass(frozen=True, slots=True)
class DexEvent:
    """An EA1 (single event) or EA2 (event counters) record."""

    record: str  # "EA1" or "EA2"
    code: str  # EA101 / EA201, may be empty
    occurred_at: datetime | None  # EA1 only: EA102 + EA103
    count_since_reset: int | None  # EA2 only: EA202
    count_total: int | None  # EA2 only: EA203
    fields: tuple[str, ...]  # all fields after the tag, as read


@dataclass(frozen=True, slots=True)
class DexRead:
    """The parsed content of one DEX read."""

    serial: str  # ID101; "" when the machine leaves it empty (warned)
    model: str | None  # ID102
    build_standard: str | None  # ID103
    location: str | None  # ID104
    asset_number: str | None  # ID106
    comm_id: str | None  # DXS01, the data carrier's communication id
    decimals: int  # ID401
    read_at: datetime | None
    previous_read_at: datetime | None  # EA305 + EA306
    paid_value: Decimal | None  # VA101
    paid_vends: int | None  # VA102
    paid_value_since_reset: Decimal | None  # VA103
    paid_vends_since_reset: int | None  # VA104
    test_value: Decimal | None  # VA201
    test_vends: int | None  # VA202
    free_value: Decimal | None  # VA301
    free_vends: int | None  # VA302
    cash_value: Decimal | None  # CA201, cash sales
    cash_vends: int | None  # CA202
    cashless_value: Decimal | None  # DA201, cashless device 1 sales
    cashless_vends: int | None  # DA202
    cash_in: Decimal | None  # CA305, cash in since initialisation
    cash_in_since_reset: Decimal | None  # CA301
    slots: tuple[DexSlot, ...]
    events: tuple[DexEvent, ...]
    warnings: tuple[str, ...]
    record_count_ok: bool  # SE01 equals the number of records ST..SE
    crc_ok: bool | None  # None when the read has no G85

    def slot(self, code: str) -> DexSlot | None:
        """Return the slot with this PA101 code, or None."""
        for slot in self.slots:
            if slot.code == code:
                return slot
        return None


# ---------------------------------------------------------------- public helpers


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC (poly 0xA001 reflected, init 0), the checksum G85 carries."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def content_hash(data: str | bytes) -> str:
    """SHA-256 hex digest of the normalised read.

    Normalisation is what the parser ignores anyway: encoding quirks and BOM,
    line endings, trailing whitespace and blank lines, so the same read
    uploaded through different tools hashes the same.
    """
    text, _ = _decode(data)
    lines = [line.rstrip() for line in _LINE_BREAK.split(text)]
    normalised = "".join(line + "\n" for line in lines if line)
    # surrogatepass: a str input may hold lone surrogates; hash them, don't crash.
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


def slot_totals(read: DexRead) -> tuple[int, Decimal]:
    """Σ PA201 and Σ PA202 over all slots (missing values count as zero)."""
    return _totals(read.slots)


def reconciles_with_va1(read: DexRead) -> bool:
    """True when Σ slot vends equals VA102 and Σ slot value equals VA101.

    False when VA1 is missing, since nothing can then be confirmed.
    """
    return _reconciles(read.slots, read.paid_vends, read.paid_value)


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Line:
    number: int  # 1-based line number in the input, for messages
    raw: str  # without line terminator, trailing whitespace kept (for G85)
    fields: tuple[str, ...]  # split on "*" after stripping trailing whitespace

    @property
    def tag(self) -> str:
        return self.fields[0]


@dataclass(slots=True)
class _SlotBuilder:
    code: str
    price: Decimal | None
    product_id: str | None
    vends: int | None = None
    value: Decimal | None = None
    vends_since_reset: int | None = None
    value_since_reset: Decimal | None = None
    sold_out_at: datetime | None = None
    sold_out_selections: int | None = None
    has_pa2: bool = False
    has_pa5: bool = False
    ignored: bool = False  # a duplicate PA1: its records are swallowed

    def build(self) -> DexSlot:
        return DexSlot(
            code=self.code,
            price=self.price,
            product_id=self.product_id,
            vends=self.vends,
            value=self.value,
            vends_since_reset=self.vends_since_reset,
            value_since_reset=self.value_since_reset,
            sold_out_at=self.sold_out_at,
            sold_out_selections=self.sold_out_selections,
        )


@dataclass(slots=True)
class _Context:
    decimals: int = DEFAULT_DECIMALS
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def as_text(self, line: _Line, index: int) -> str | None:
        """Field ``index`` (1-based, as in "PA102") stripped; None when empty."""
        if index >= len(line.fields):
            return None
        value = line.fields[index].strip()
        return value or None

    def as_int(self, line: _Line, index: int) -> int | None:
        value = self.as_text(line, index)
        if value is None:
            return None
        if _INT.fullmatch(value) is None or len(value) > MAX_DIGITS:
            self.warn(f"line {line.number}: {line.tag}{index:02d} {value!r} is not a number, ignored")
            return None
        return int(value)

    def as_money(self, line: _Line, index: int) -> Decimal | None:
        minor = self.as_int(line, index)
        if minor is None:
            return None
        return Decimal(minor).scaleb(-self.decimals)

    def as_datetime(self, line: _Line, date_index: int, time_index: int) -> datetime | None:
        date = self.as_text(line, date_index)
        if date is None:
            return None
        time = self.as_text(line, time_index)
        parsed = _parse_datetime(date, time)
        if parsed is None and date.strip("0") == "":
            # All-zero dates are how machines say "never"; not worth a warning.
            return None
        if parsed is None:
            self.warn(f"line {line.number}: {line.tag} date/time {date!r}/{time!r} is not valid, ignored")
        return parsed


def parse_dex(data: str | bytes) -> DexRead:
    """Parse one DEX/UCS read; raise :class:`DexError` if it is unusable."""
    text, encoding = _decode(data)
    lines = _split_lines(text)
    if not lines:
        raise DexError("empty DEX read: no records")
    if not any(line.tag in _DEX_TAGS for line in lines):
        raise DexError("not a DEX read: no DXS, ST, ID1, VA1 or PA1 record found")

    dxs, st, se, dxe = _envelope(lines)
    ctx = _Context()
    if dxs > 0:
        ctx.warn(f"{dxs} line(s) before DXS ignored")
    if dxe < len(lines) - 1:
        ctx.warn(f"{len(lines) - 1 - dxe} line(s) after DXE ignored")
    if st > dxs + 1:
        ctx.warn(f"{st - dxs - 1} line(s) between DXS and ST ignored")
    if dxe > se + 1:
        ctx.warn(f"{dxe - se - 1} line(s) between SE and DXE ignored")

    body = lines[st : se + 1]
    record_count_ok = _check_record_count(ctx, lines[st], lines[se], se - st + 1)
    crc_ok = _check_crc(ctx, body, encoding)

    singles: dict[str, _Line] = {}
    for line in body[1:-1]:
        if line.tag in _SINGLETONS:
            if line.tag in singles:
                ctx.warn(f"line {line.number}: repeated {line.tag} ignored")
            else:
                singles[line.tag] = line

    # Money depends on ID4 wherever it sits, so settle decimals first.
    ctx.decimals = _decimals(ctx, singles.get("ID4"))
    slots, events = _slots_and_events(ctx, body[1:-1])

    id1 = singles.get("ID1")
    serial = ctx.as_text(id1, 1) if id1 is not None else None
    if id1 is None:
        ctx.warn("no ID1 record: machine serial unknown")
    elif serial is None:
        ctx.warn("ID1 has no serial (ID101 empty)")

    va1 = singles.get("VA1")
    va2 = singles.get("VA2")
    va3 = singles.get("VA3")
    ca2 = singles.get("CA2")
    ca3 = singles.get("CA3")
    da2 = singles.get("DA2")
    ea3 = singles.get("EA3")

    # ID5 is the machine's own clock record; EA3 only stands in for it.
    read_at = _opt_datetime(ctx, singles.get("ID5"), 1, 2)
    if read_at is None:
        read_at = _opt_datetime(ctx, ea3, 2, 3)

    paid_value = _opt(ctx.as_money, va1, 1)
    paid_vends = _opt(ctx.as_int, va1, 2)
    if va1 is None:
        ctx.warn("no VA1 record: machine totals unknown")
    elif slots and not _reconciles(slots, paid_vends, paid_value):
        vends, value = _totals(slots)
        ctx.warn(f"slot totals ({vends} vends, {value}) do not match VA1 ({paid_vends} vends, {paid_value})")

    return DexRead(
        serial=serial or "",
        model=_opt(ctx.as_text, id1, 2),
        build_standard=_opt(ctx.as_text, id1, 3),
        location=_opt(ctx.as_text, id1, 4),
        asset_number=_opt(ctx.as_text, id1, 6),
        comm_id=ctx.as_text(lines[dxs], 1),
        decimals=ctx.decimals,
        read_at=read_at,
        previous_read_at=_opt_datetime(ctx, ea3, 5, 6),
        paid_value=paid_value,
        paid_vends=paid_vends,
        paid_value_since_reset=_opt(ctx.as_money, va1, 3),
        paid_vends_since_reset=_opt(ctx.as_int, va1, 4),
        test_value=_opt(ctx.as_money, va2, 1),
        test_vends=_opt(ctx.as_int, va2, 2),
        free_value=_opt(ctx.as_money, va3, 1),
        free_vends=_opt(ctx.as_int, va3, 2),
        cash_value=_opt(ctx.as_money, ca2, 1),
        cash_vends=_opt(ctx.as_int, ca2, 2),
        cashless_value=_opt(ctx.as_money, da2, 1),
        cashless_vends=_opt(ctx.as_int, da2, 2),
        cash_in=_opt(ctx.as_money, ca3, 5),
        cash_in_since_reset=_opt(ctx.as_money, ca3, 1),
        slots=slots,
        events=events,
        warnings=tuple(ctx.warnings),
        record_count_ok=record_count_ok,
        crc_ok=crc_ok,
    )


# ---------------------------------------------------------------- internals


def _decode(data: str | bytes) -> tuple[str, str]:
    """Text plus the encoding to re-encode it with for the CRC."""
    if isinstance(data, bytes):
        data = data.removeprefix(_UTF8_BOM)
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"
    return data.removeprefix("\ufeff"), "utf-8"


def _split_lines(text: str) -> list[_Line]:
    # Not str.splitlines(): it also breaks on form feeds, NEL, U+2028 …,
    # which are data inside a DEX line, not line ends.
    result: list[_Line] = []
    for number, raw in enumerate(_LINE_BREAK.split(text), start=1):
        stripped = raw.rstrip()
        if stripped:
            fields = tuple(stripped.split("*"))
            result.append(_Line(number, raw, (fields[0].strip(), *fields[1:])))
    return result


def _first(lines: Sequence[_Line], tag: str, start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].tag == tag:
            return index
    return None


def _envelope(lines: Sequence[_Line]) -> tuple[int, int, int, int]:
    """Indexes of DXS, ST, SE, DXE, each after the previous, or DexError."""
    found: list[int] = []
    missing: list[str] = []
    start = 0
    for tag in ("DXS", "ST", "SE", "DXE"):
        index = _first(lines, tag, start)
        if index is None:
            missing.append(tag)
        else:
            found.append(index)
            start = index + 1
    if missing:
        raise DexError("truncated DEX read: " + ", ".join(f"no {tag} record" for tag in missing))
    dxs, st, se, dxe = found
    return dxs, st, se, dxe


def _check_record_count(ctx: _Context, st: _Line, se: _Line, actual: int) -> bool:
    declared = ctx.as_int(se, 1)
    st_control, se_control = ctx.as_text(st, 2), ctx.as_text(se, 2)
    if st_control != se_control:
        ctx.warn(f"SE control number {se_control!r} does not match ST {st_control!r}")
    if declared is None:
        ctx.warn(f"SE has no record count; ST..SE holds {actual} records")
        return False
    if declared != actual:
        ctx.warn(f"SE declares {declared} records but ST..SE holds {actual}")
        return False
    return True


def _check_crc(ctx: _Context, body: Sequence[_Line], encoding: str) -> bool | None:
    g85_at = next((i for i, line in enumerate(body) if line.tag == "G85"), None)
    if g85_at is None:
        return None
    g85 = body[g85_at]
    declared = ctx.as_text(g85, 1)
    if declared is None or _HEX4.fullmatch(declared) is None:
        ctx.warn(f"line {g85.number}: G85 value {declared!r} is not 4 hex digits")
        return False
    expected = int(declared, 16)
    covered = body[:g85_at]
    # Machines checksum the bytes they sent, trailing spaces included (the
    # Royal sample needs them). The trimmed form is tried too because an
    # upload path may have padded lines. A read whose trailing spaces were
    # trimmed away cannot verify: the checksummed bytes are gone.
    variants = (
        [line.raw for line in covered],
        [line.raw.rstrip() for line in covered],
    )
    for texts in variants:
        joined = "".join(text + "\r\n" for text in texts)
        for codec in (encoding, "latin-1"):
            try:
                payload = joined.encode(codec)
            except UnicodeEncodeError:
                continue
            if crc16_arc(payload) == expected:
                return True
    actual = crc16_arc("".join(line.raw + "\r\n" for line in covered).encode(encoding, errors="replace"))
    ctx.warn(f"G85 checksum mismatch: read says {declared.upper()}, computed {actual:04X}")
    return False


def _decimals(ctx: _Context, id4: _Line | None) -> int:
    if id4 is None:
        return DEFAULT_DECIMALS
    value = ctx.as_int(id4, 1)
    if value is None:
        ctx.warn(f"ID4 has no decimal places; assuming {DEFAULT_DECIMALS}")
        return DEFAULT_DECIMALS
    if not 0 <= value <= MAX_DECIMALS:
        ctx.warn(f"ID4 decimal places {value} out of range; assuming {DEFAULT_DECIMALS}")
        return DEFAULT_DECIMALS
    return value


def _slots_and_events(ctx: _Context, records: Iterable[_Line]) -> tuple[tuple[DexSlot, ...], tuple[DexEvent, ...]]:
    builders: list[_SlotBuilder] = []
    seen: set[str] = set()
    current: _SlotBuilder | None = None
    events: list[DexEvent] = []
    for line in records:
        tag = line.tag
        if tag == "PA1":
            code = ctx.as_text(line, 1)
            if code is None:
                ctx.warn(f"line {line.number}: PA1 without a slot code ignored")
                current = _SlotBuilder("", None, None, ignored=True)
                continue
            current = _SlotBuilder(code, ctx.as_money(line, 2), ctx.as_text(line, 3))
            if code in seen:
                ctx.warn(f"line {line.number}: repeated PA1 for slot {code!r} ignored (first block kept)")
                current.ignored = True
            else:
                seen.add(code)
                builders.append(current)
        elif tag == "PA2":
            if current is None or current.has_pa2:
                ctx.warn(f"line {line.number}: PA2 without a preceding PA1 ignored")
                continue
            current.has_pa2 = True
            if current.ignored:
                continue
            current.vends = ctx.as_int(line, 1)
            current.value = ctx.as_money(line, 2)
            current.vends_since_reset = ctx.as_int(line, 3)
            current.value_since_reset = ctx.as_money(line, 4)
        elif tag == "PA5":
            if current is None or current.has_pa5:
                ctx.warn(f"line {line.number}: PA5 without a preceding PA1 ignored")
                continue
            current.has_pa5 = True
            if current.ignored:
                continue
            current.sold_out_at = ctx.as_datetime(line, 1, 2)
            current.sold_out_selections = ctx.as_int(line, 3)
        elif tag in ("EA1", "EA2"):
            events.append(_event(ctx, line))
        elif _TAG.fullmatch(tag) is None:
            ctx.warn(f"line {line.number}: not a DEX record, ignored")
    return tuple(b.build() for b in builders), tuple(events)


def _event(ctx: _Context, line: _Line) -> DexEvent:
    code = ctx.as_text(line, 1) or ""
    fields = tuple(f.strip() for f in line.fields[1:])
    if line.tag == "EA1":
        return DexEvent("EA1", code, _quiet_datetime(ctx, line, 2, 3), None, None, fields)
    return DexEvent("EA2", code, None, _quiet_int(ctx, line, 2), _quiet_int(ctx, line, 3), fields)


def _quiet_int(ctx: _Context, line: _Line, index: int) -> int | None:
    # Event records carry vendor-specific junk; it is kept in ``fields`` and
    # not worth a warning.
    value = ctx.as_text(line, index)
    if value is None or _INT.fullmatch(value) is None or len(value) > MAX_DIGITS:
        return None
    return int(value)


def _quiet_datetime(ctx: _Context, line: _Line, di: int, ti: int) -> datetime | None:
    date = ctx.as_text(line, di)
    return None if date is None else _parse_datetime(date, ctx.as_text(line, ti))


def _parse_datetime(date: str, time: str | None) -> datetime | None:
    """YYMMDD or YYYYMMDD plus HHMM or HHMMSS (midnight if no time)."""
    if _DIGITS.fullmatch(date) is None or len(date) not in (6, 8):
        return None
    if len(date) == 8:
        year = int(date[:4])
    else:
        # Two-digit years: the POSIX %y pivot (69 → 1969, 68 → 2068).
        yy = int(date[:2])
        year = 2000 + yy if yy < 69 else 1900 + yy
    month, day = int(date[-4:-2]), int(date[-2:])
    hour = minute = second = 0
    if time is not None:
        if _DIGITS.fullmatch(time) is None or len(time) not in (4, 6):
            return None
        hour, minute = int(time[:2]), int(time[2:4])
        second = int(time[4:6]) if len(time) == 6 else 0
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _opt(getter: Callable[[_Line, int], _T | None], line: _Line | None, index: int) -> _T | None:
    return None if line is None else getter(line, index)


def _reconciles(slots: Iterable[DexSlot], paid_vends: int | None, paid_value: Decimal | None) -> bool:
    if paid_vends is None or paid_value is None:
        return False
    vends, value = _totals(slots)
    return vends == paid_vends and value == paid_value


def _opt_datetime(ctx: _Context, line: _Line | None, date_index: int, time_index: int) -> datetime | None:
    return None if line is None else ctx.as_datetime(line, date_index, time_index)


def _totals(slots: Iterable[DexSlot]) -> tuple[int, Decimal]:
    vends = 0
    value = Decimal(0)
    for slot in slots:
        vends += slot.vends or 0
        if slot.value is not None:
            value += slot.value
    return vends, value
