"""Tests for the pure DEX/UCS parser (no Django, no database).

Sample expectations are read by hand from samples/dex/*.txt;
the Σ PA201/PA202 figures for the two non-reconciling samples were summed
independently with awk over the PA2 lines.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.dex.parser import (
    DexError,
    DexRead,
    DexSlot,
    content_hash,
    crc16_arc,
    parse_dex,
    reconciles_with_va1,
    slot_totals,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dex"
SAMPLE_NAMES = (
    "ams-39-vcf.txt",
    "ams-sensit-iii.txt",
    "crane-national-187.txt",
    "dixie-narco-501e.txt",
    "dixie-narco-5800.txt",
    "royal-660.txt",
    "vendo-721.txt",
)

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="DEX samples not available")


def sample_text(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


@functools.cache
def sample(name: str) -> DexRead:
    # Results are frozen, so sharing one parse between tests is safe.
    return parse_dex((SAMPLES / name).read_bytes())


def slot(read: DexRead, code: str) -> DexSlot:
    found = read.slot(code)
    assert found is not None, f"no slot {code!r}"
    return found


def assert_slot(read: DexRead, code: str, price: str, vends: int, value: str) -> None:
    s = slot(read, code)
    assert (s.price, s.vends, s.value) == (Decimal(price), vends, Decimal(value))


def build_read(
    body: list[str],
    *,
    se_count: int | None = None,
    g85: str | None = "auto",
    eol: str = "\n",
    encoding: str = "utf-8",
) -> str:
    """A minimal enveloped read whose SE count and G85 are right by default."""
    lines = ["ST*001*0001", *body]
    if g85 == "auto":
        crc = crc16_arc("".join(f"{line}\r\n" for line in lines).encode(encoding))
        lines.append(f"G85*{crc:04X}")
    elif g85 is not None:
        lines.append(f"G85*{g85}")
    count = len(lines) + 1 if se_count is None else se_count
    lines.append(f"SE*{count}*0001")
    return eol.join(["DXS*TEST000001*VA*V1/1*1", *lines, "DXE*1*1", ""])


MINI_BODY = [
    "ID1*SN-42*MODEL X",
    "ID4*3",
    "VA1*12345*7",
    "PA1*A 1*1500",
    "PA2*5*7500",
    "PA1*B2*2345",
    "PA2*2*4845",
]


# ------------------------------------------------------------------ samples


def test_ams_39_vcf() -> None:
    read = sample("ams-39-vcf.txt")
    assert read.serial == "TW20185083"
    assert read.model == "AMS SENSIT III"
    assert read.decimals == 2
    assert read.read_at == datetime(2025, 7, 9, 20, 0)
    assert read.paid_value == Decimal("55247.60")
    assert read.paid_vends == 35325
    assert (read.cash_value, read.cash_vends) == (Decimal("11783.35"), 9098)
    assert (read.cashless_value, read.cashless_vends) == (Decimal("43464.25"), 26227)
    assert len(read.slots) == 43
    assert read.slots[0].code == "10"
    assert read.slots[-1].code == "67"
    assert_slot(read, "10", "1.25", 1634, "1732.60")
    assert_slot(read, "24", "2.00", 1029, "1858.75")
    assert_slot(read, "67", "3.00", 703, "2036.50")
    assert read.record_count_ok is True
    assert read.crc_ok is True
    assert read.warnings == ()


def test_ams_sensit_iii() -> None:
    read = sample("ams-sensit-iii.txt")
    assert read.serial == "TX09200905"
    assert read.decimals == 2
    assert read.read_at == datetime(2025, 7, 9, 18, 31)
    assert read.paid_value == Decimal("122728.20")
    assert read.paid_vends == 53216
    assert len(read.slots) == 39
    assert (read.slots[0].code, read.slots[-1].code) == ("10", "67")
    assert_slot(read, "10", "4.00", 942, "3465.20")
    assert_slot(read, "36", "1.50", 5611, "8549.50")
    assert_slot(read, "67", "3.25", 455, "1475.50")
    assert read.record_count_ok is True
    assert read.crc_ok is True
    assert read.warnings == ()


def test_crane_national_187() -> None:
    read = sample("crane-national-187.txt")
    assert read.serial == "301021333"
    assert read.model == "187"
    assert read.decimals == 2
    assert read.read_at == datetime(2025, 7, 9, 15, 8)
    assert read.paid_value == Decimal("64441.00")
    assert read.paid_vends == 49370
    assert (read.test_value, read.test_vends) == (Decimal("16.20"), 11)
    assert (read.free_value, read.free_vends) == (Decimal("0.00"), 0)
    assert len(read.slots) == 48
    assert (read.slots[0].code, read.slots[-1].code) == ("101", "611")
    assert_slot(read, "101", "1.25", 1049, "1206.55")
    assert_slot(read, "305", "2.00", 2002, "2981.05")
    assert_slot(read, "611", "2.00", 1267, "1924.45")
    first = read.slots[0]
    assert first.sold_out_at == datetime(2025, 7, 8, 18, 31, 45)
    assert first.sold_out_selections == 1
    assert first.product_id == "101"
    # G85 is written in lower case ("460a") and still verifies.
    assert read.crc_ok is True


def test_crane_se_count_is_a_warning_not_an_error() -> None:
    read = sample("crane-national-187.txt")
    # SE*236 but the file holds 543 records from ST to SE inclusive.
    assert read.record_count_ok is False
    assert any("236" in w and "543" in w for w in read.warnings)
    assert len(read.warnings) == 1


def test_dixie_narco_501e() -> None:
    read = sample("dixie-narco-501e.txt")
    # ID1***9985***: the machine leaves ID101 empty.
    assert read.serial == ""
    assert read.model is None
    assert read.build_standard == "9985"
    assert read.comm_id == "6150210000"
    assert any("ID101" in w for w in read.warnings)
    assert read.decimals == 2
    # No ID5; EA3**370710*0543 carries the (odd) machine clock.
    assert read.read_at == datetime(2037, 7, 10, 5, 43)
    assert read.paid_value == Decimal("60857.00")
    assert read.paid_vends == 102048
    assert len(read.slots) == 9
    assert (read.slots[0].code, read.slots[-1].code) == ("1", "9")
    assert_slot(read, "1", "1.50", 23154, "12161.10")
    assert_slot(read, "5", "1.75", 9252, "4800.65")
    assert_slot(read, "9", "2.00", 10010, "6980.85")
    assert read.slots[0].sold_out_at == datetime(2034, 11, 18, 0, 58)
    assert read.slots[0].sold_out_selections == 782
    assert read.record_count_ok is True
    assert read.crc_ok is True


def test_dixie_narco_5800() -> None:
    read = sample("dixie-narco-5800.txt")
    assert read.serial == "DIX"
    assert read.model == "DN 5800-4"
    assert read.decimals == 2
    assert read.read_at == datetime(2007, 6, 7, 10, 13)
    assert read.paid_value == Decimal("61041.25")
    assert read.paid_vends == 39888
    assert (read.test_value, read.test_vends) == (Decimal("1396.15"), 136)
    assert len(read.slots) == 45
    assert (read.slots[0].code, read.slots[-1].code) == ("A1", "E9")
    assert_slot(read, "A1", "1.75", 1131, "1797.25")
    assert_slot(read, "C5", "1.75", 1138, "1811.00")
    assert_slot(read, "E9", "1.50", 564, "845.50")
    assert read.record_count_ok is True
    assert read.crc_ok is True
    assert read.warnings == ()


def test_royal_660() -> None:
    read = sample("royal-660.txt")
    assert read.serial == "0799139808"
    assert read.model == "GIII_VENDOR 67121-3"
    assert read.decimals == 2
    assert read.read_at is None  # no ID5, EA3 has only a count
    assert read.paid_value == Decimal("137164.45")
    assert read.paid_vends == 157598
    assert len(read.slots) == 9
    assert (read.slots[0].code, read.slots[-1].code) == ("1", "12")
    assert_slot(read, "1", "1.00", 28770, "23700.30")
    assert_slot(read, "5", "1.25", 10487, "9450.15")
    assert_slot(read, "12", "2.00", 8915, "13307.50")
    assert read.record_count_ok is True
    # Its CRC covers "MA5*LANG*ENG " with the trailing space.
    assert read.crc_ok is True


def test_vendo_721() -> None:
    read = sample("vendo-721.txt")
    assert read.serial == "D0451879"
    assert read.model == "VEC 12.3"
    assert read.decimals == 2
    assert read.read_at is None
    assert read.paid_value == Decimal("32325.75")
    assert read.paid_vends == 24623
    assert (read.test_value, read.test_vends) == (Decimal("375.00"), 359)
    assert len(read.slots) == 8
    assert (read.slots[0].code, read.slots[-1].code) == ("1", "9")
    assert_slot(read, "1", "1.50", 5851, "6571.00")
    assert_slot(read, "7", "2.00", 1989, "4115.50")
    assert_slot(read, "9", "1.50", 1888, "2715.00")
    assert read.record_count_ok is True
    assert read.crc_ok is True


# ------------------------------------------------------------------ reconciliation

RECONCILING = {
    "ams-39-vcf.txt": (35325, Decimal("55247.60")),
    "ams-sensit-iii.txt": (53216, Decimal("122728.20")),
    "crane-national-187.txt": (49370, Decimal("64441.00")),
    "dixie-narco-501e.txt": (102048, Decimal("60857.00")),
    "dixie-narco-5800.txt": (39888, Decimal("61041.25")),
}
# Σ PA201 / Σ PA202 short of VA102 / VA101: slots missing from the PA blocks.
NOT_RECONCILING = {
    "royal-660.txt": (143410, Decimal("123658.20")),  # VA1: 157598, 137164.45
    "vendo-721.txt": (23749, Decimal("30961.50")),  # VA1: 24623, 32325.75
}


def test_exactly_five_samples_reconcile_with_va1() -> None:
    reconciling = {n for n in SAMPLE_NAMES if reconciles_with_va1(sample(n))}
    assert reconciling == set(RECONCILING)


@pytest.mark.parametrize("name", sorted(RECONCILING))
def test_reconciling_slot_totals(name: str) -> None:
    read = sample(name)
    assert slot_totals(read) == RECONCILING[name]
    assert slot_totals(read) == (read.paid_vends, read.paid_value)
    assert not any("do not match VA1" in w for w in read.warnings)


@pytest.mark.parametrize("name", sorted(NOT_RECONCILING))
def test_non_reconciling_samples_are_flagged_not_rejected(name: str) -> None:
    read = sample(name)
    assert slot_totals(read) == NOT_RECONCILING[name]
    assert reconciles_with_va1(read) is False
    assert [w for w in read.warnings if "do not match VA1" in w]


def test_all_samples_verify_their_crc() -> None:
    for name in SAMPLE_NAMES:
        assert sample(name).crc_ok is True, name


def test_reconciles_is_false_without_va1() -> None:
    read = parse_dex(build_read(["ID1*SN1", "PA1*1*100", "PA2*1*100"]))
    assert read.paid_vends is None
    assert reconciles_with_va1(read) is False
    assert any("VA1" in w for w in read.warnings)


# ------------------------------------------------------------------ input forms


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_crlf_and_lf_give_equal_results_and_hash(name: str) -> None:
    lf = sample_text(name)
    crlf = lf.replace("\n", "\r\n")
    assert "\r\n" in crlf
    assert parse_dex(crlf) == parse_dex(lf)
    assert parse_dex(crlf.encode()) == parse_dex(lf)
    assert content_hash(crlf) == content_hash(lf)
    assert content_hash(crlf.encode()) == content_hash(lf)


def test_content_hash_ignores_trailing_whitespace_and_blank_lines() -> None:
    text = sample_text("vendo-721.txt")
    noisy = text.replace("\n", "  \n\n")
    assert content_hash(noisy) == content_hash(text)
    assert content_hash(text) != content_hash(text.replace("5851", "5852"))


def test_royal_crc_covers_its_trailing_space() -> None:
    text = sample_text("royal-660.txt")
    assert "ENG \n" in text
    # Trimmed by some tool: same data and hash, but the checksummed byte is
    # gone, so the CRC is (rightly) flagged rather than silently passed.
    trimmed = parse_dex(text.replace("ENG \n", "ENG\n"))
    original = parse_dex(text)
    assert trimmed.crc_ok is False
    assert any("G85" in w for w in trimmed.warnings)
    assert dataclasses.replace(trimmed, crc_ok=True, warnings=original.warnings) == original
    assert content_hash(text.replace("ENG \n", "ENG\n")) == content_hash(text)


def test_padded_lines_still_verify_crc() -> None:
    text = sample_text("ams-sensit-iii.txt").replace("\n", "  \n")
    read = parse_dex(text)
    assert read.crc_ok is True
    assert read == parse_dex(sample_text("ams-sensit-iii.txt"))


def test_bytes_with_bom() -> None:
    raw = (SAMPLES / "royal-660.txt").read_bytes()
    plain = parse_dex(raw)
    assert parse_dex(b"\xef\xbb\xbf" + raw) == plain
    assert parse_dex("\ufeff" + raw.decode()) == plain
    assert content_hash(b"\xef\xbb\xbf" + raw) == content_hash(raw)


def test_latin1_bytes_fall_back_and_verify() -> None:
    text = build_read(["ID1*SN1*Caf\u00e9 Bar", "VA1*100*1"], encoding="latin-1")
    read = parse_dex(text.encode("latin-1"))  # not valid UTF-8
    assert read.model == "Caf\u00e9 Bar"
    assert read.crc_ok is True


def test_blank_lines_and_trailing_whitespace_are_ignored() -> None:
    text = build_read(MINI_BODY).replace("\n", "   \n\n")
    read = parse_dex(text)
    assert read.record_count_ok is True
    assert read.crc_ok is True
    assert read.warnings == ()


# ------------------------------------------------------------------ rejection


def test_truncated_read_is_rejected() -> None:
    lines = sample_text("ams-sensit-iii.txt").splitlines()
    half = "\n".join(lines[: len(lines) // 2])
    with pytest.raises(DexError, match="truncated") as info:
        parse_dex(half)
    assert "no SE record" in str(info.value)
    assert "no DXE record" in str(info.value)


def test_missing_dxs_is_rejected() -> None:
    lines = sample_text("vendo-721.txt").splitlines()
    assert lines[0].startswith("DXS*")
    with pytest.raises(DexError, match="no DXS record"):
        parse_dex("\n".join(lines[1:]))


def test_missing_dxe_is_rejected() -> None:
    lines = sample_text("vendo-721.txt").splitlines()
    assert lines[-1].startswith("DXE*")
    with pytest.raises(DexError, match="no DXE record") as info:
        parse_dex("\n".join(lines[:-1]))
    assert "SE" not in str(info.value)


def test_missing_st_is_rejected() -> None:
    text = build_read(MINI_BODY).replace("ST*001*0001\n", "")
    with pytest.raises(DexError, match="no ST record"):
        parse_dex(text)


@pytest.mark.parametrize(
    "garbage",
    [
        "hello world\nthis is not a vending read\n",
        "<html><body>404</body></html>",
        "a*b*c\nd*e*f",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    ],
)
def test_non_dex_garbage_is_rejected(garbage: str | bytes) -> None:
    with pytest.raises(DexError, match="not a DEX read"):
        parse_dex(garbage)


@pytest.mark.parametrize("empty", ["", b"", "\n\r\n  \n", b"\xef\xbb\xbf", "\ufeff"])
def test_empty_input_is_rejected(empty: str | bytes) -> None:
    with pytest.raises(DexError, match="empty"):
        parse_dex(empty)


def test_dex_error_is_a_value_error() -> None:
    assert issubclass(DexError, ValueError)


# ------------------------------------------------------------------ integrity warnings


def test_wrong_se_count_is_a_warning() -> None:
    text = sample_text("royal-660.txt").replace("SE*74*0001", "SE*75*0001")
    read = parse_dex(text)
    assert read.record_count_ok is False
    assert any("75" in w and "74" in w for w in read.warnings)
    assert read.crc_ok is True  # G85 does not cover SE
    assert read.paid_vends == 157598


def test_corrupted_g85_is_a_warning() -> None:
    text = sample_text("royal-660.txt").replace("G85*FD74", "G85*FD75")
    read = parse_dex(text)
    assert read.crc_ok is False
    assert any("G85" in w and "FD75" in w and "FD74" in w for w in read.warnings)
    assert read.record_count_ok is True
    assert read.paid_vends == 157598


def test_altered_content_fails_the_crc() -> None:
    text = sample_text("dixie-narco-5800.txt").replace("PA2*1131*179725*0*0", "PA2*1131*179726*0*0")
    read = parse_dex(text)
    assert read.crc_ok is False
    assert slot(read, "A1").value == Decimal("1797.26")


def test_malformed_g85_is_a_warning() -> None:
    read = parse_dex(build_read(MINI_BODY, g85="XYZ"))
    assert read.crc_ok is False
    assert any("G85" in w for w in read.warnings)


def test_missing_g85_is_not_a_warning() -> None:
    read = parse_dex(build_read(MINI_BODY, g85=None))
    assert read.crc_ok is None
    assert read.record_count_ok is True
    assert read.warnings == ()


def test_crc16_arc_check_value() -> None:
    # The catalogue check value of CRC-16/ARC.
    assert crc16_arc(b"123456789") == 0xBB3D


# ------------------------------------------------------------------ field handling


def test_id4_with_three_decimals_scales_money() -> None:
    read = parse_dex(build_read(MINI_BODY))
    assert read.serial == "SN-42"
    assert read.decimals == 3
    assert read.paid_value == Decimal("12.345")
    assert read.paid_vends == 7
    assert_slot(read, "A 1", "1.500", 5, "7.500")  # slot code with a space
    assert_slot(read, "B2", "2.345", 2, "4.845")
    assert slot_totals(read) == (7, Decimal("12.345"))
    assert reconciles_with_va1(read) is True
    assert read.crc_ok is True
    assert read.record_count_ok is True
    assert read.warnings == ()


def test_missing_id4_defaults_to_two_decimals() -> None:
    read = parse_dex(build_read(["ID1*SN1", "VA1*250*1"]))
    assert read.decimals == 2
    assert read.paid_value == Decimal("2.50")


def test_empty_fields_are_none() -> None:
    read = parse_dex(build_read(["ID1*SN1", "VA1**3", "PA1*7*", "PA2**"]))
    assert read.paid_value is None
    assert read.paid_vends == 3
    s = slot(read, "7")
    assert (s.price, s.vends, s.value, s.vends_since_reset) == (None, None, None, None)


def test_non_numeric_field_is_none_with_warning() -> None:
    read = parse_dex(build_read(["ID1*SN1", "VA1*12x*3"]))
    assert read.paid_value is None
    assert any("VA101" in w for w in read.warnings)


def test_pa2_with_missing_fields() -> None:
    read = parse_dex(build_read(["ID1*SN1", "PA1*C3*150", "PA2*4"]))
    s = slot(read, "C3")
    assert (s.vends, s.value, s.value_since_reset) == (4, None, None)


def test_duplicate_pa1_keeps_first_block() -> None:
    body = [
        "ID1*SN1",
        "VA1*300*2",
        "PA1*1*150",
        "PA2*2*300",
        "PA1*1*999",
        "PA2*50*49950",
    ]
    read = parse_dex(build_read(body))
    assert [s.code for s in read.slots] == ["1"]
    assert_slot(read, "1", "1.50", 2, "3.00")
    assert reconciles_with_va1(read) is True
    assert any("repeated PA1" in w for w in read.warnings)


def test_pa2_without_preceding_pa1_is_warned_and_dropped() -> None:
    read = parse_dex(build_read(["ID1*SN1", "PA2*9*900", "PA1*1*100", "PA2*1*100"]))
    assert [(s.code, s.vends) for s in read.slots] == [("1", 1)]
    assert any("PA2 without a preceding PA1" in w for w in read.warnings)


def test_unknown_records_are_tolerated_silently() -> None:
    body = [*MINI_BODY, "ZZ9*whatever*1", "MA5*SEL01*1,2*3", "XY*"]
    read = parse_dex(build_read(body))
    assert read.warnings == ()
    assert len(read.slots) == 2


def test_events_are_kept() -> None:
    read = sample("crane-national-187.txt")
    ea1 = [e for e in read.events if e.record == "EA1"]
    ea2 = [e for e in read.events if e.record == "EA2"]
    assert ea1[1].code == "ELB_501"
    assert ea1[1].occurred_at == datetime(2025, 7, 8, 18, 30, 58)
    egs = next(e for e in ea2 if e.code == "EGS_1")
    assert (egs.count_since_reset, egs.count_total) == (0, 1076)
    assert read.previous_read_at == datetime(2025, 7, 9, 8, 59, 48)


def test_results_are_frozen() -> None:
    read = sample("vendo-721.txt")
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.serial = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.slots[0].vends = 0  # type: ignore[misc]


# ------------------------------------------------------------------ properties

FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_dex_error(text: str) -> None:
    with contextlib.suppress(DexError):
        parse_dex(text)


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_dex_error(data: bytes) -> None:
    with contextlib.suppress(DexError):
        parse_dex(data)


_TAGS = ["ID1", "ID4", "ID5", "VA1", "VA2", "CA2", "CA3", "DA2", "PA1", "PA2", "PA5"]
_FIELD = st.one_of(
    st.text(alphabet="0123456789", max_size=25),
    st.text(alphabet="0123456789-AZaz *é\u00a0\u0660", max_size=8),
)
_RECORD = st.builds(
    lambda tag, fields: "*".join([tag, *fields]),
    st.sampled_from([*_TAGS, "EA1", "EA2", "EA3", "G85", "SE", "ST", "QQ", "x"]),
    st.lists(_FIELD, max_size=6),
)


@FAST
@given(st.lists(_RECORD, max_size=25), st.booleans())
def test_dex_shaped_junk_only_raises_dex_error(records: list[str], crlf: bool) -> None:
    text = build_read(records, eol="\r\n" if crlf else "\n")
    read = parse_dex(text)
    assert isinstance(read, DexRead)
    slot_totals(read)
    reconciles_with_va1(read)
