"""The real DEX samples on the demo vending chain: each uploads to its demo machine (a baseline), a follow-up
made by make_dex_followup books exactly the sales it reports, and implausible read dates are flagged.

Hand-computed case: vendo-721.txt has eight priced selections, PA1 prices 1.50 (slots 1, 2, 3, 4, 5, 9),
1.75 (slot 6) and 2.00 (slot 7). A follow-up with 3 vends per selection sells 8 × 3 = 24 units worth
3 × (6 × 1.50 + 1.75 + 2.00) = 3 × 12.75 = 38.25; slot 1 sells 4.50, slot 6 5.25, slot 7 6.00.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from chains.models import Chain
from demo.dexfollowup import dex_followup
from demo.dexsamples import SAMPLE_INSTALLED, sample_machines
from demo.seed import demo_data_seed
from demo.vending import VendingSpec
from fleet.dex.parser import parse_dex
from fleet.models import UNASSIGNED_SKU, Device, DexRead, Sale

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dex"
NAMES = sorted(path.name for path in SAMPLES.glob("*.txt"))
TODAY = date(2026, 3, 29)
# ID101, or the DXS communication id where ID101 is empty (dixie-narco-501e), read off the files.
SERIALS = {
    "ams-39-vcf.txt": "TW20185083",
    "ams-sensit-iii.txt": "TX09200905",
    "crane-national-187.txt": "301021333",
    "dixie-narco-501e.txt": "6150210000",
    "dixie-narco-5800.txt": "DIX",
    "royal-660.txt": "0799139808",
    "vendo-721.txt": "D0451879",
}


@pytest.fixture
def demo_chain(committed_chain: Callable[..., Chain], django_db_blocker: pytest.FixtureRequest) -> Iterator[Chain]:
    """A small vending demo chain (what seed_demo makes, with fewer machines and days)."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        chain = committed_chain(time_zone="Europe/Stockholm", currency="SEK")
        demo_data_seed(chain=chain, kind="vending", seed=42, today=TODAY, vending=VendingSpec(days=12, devices=9, products=80))
        yield chain


def import_dex(chain: Chain, *paths: Path) -> list[dict]:
    out = io.StringIO()
    call_command("import_dex", chain.schema_name, *map(str, paths), stdout=out)
    return json.loads(out.getvalue())


def pa2_totals(text: str) -> dict[str, tuple[int, int]]:
    """Slot → (PA201, PA202) straight from the lines, first PA2 after each slot's first PA1 (a simpler reading)."""
    totals: dict[str, tuple[int, int]] = {}
    slot = None
    for line in text.splitlines():
        fields = line.split("*")
        if fields[0] == "PA1":
            slot = fields[1].strip() if fields[1].strip() not in totals else None
        elif fields[0] == "PA2" and slot is not None and fields[1].strip().isdigit():
            totals[slot] = (int(fields[1]), int(fields[2]))
            slot = None
    return totals


def test_the_demo_machines_carry_the_sample_serials_and_slot_codes(demo_chain: Chain) -> None:
    with schema_context(demo_chain.schema_name):
        devices = {d.serial: d for d in Device.objects.filter(serial__in=SERIALS.values())}
        codes = {
            serial: set(device.slots.values_list("slot_code", flat=True)) for serial, device in devices.items()
        }
    assert sorted(SERIALS) == NAMES
    assert [m.serial for m in sample_machines()] == [SERIALS[name] for name in NAMES]
    assert set(devices) == set(SERIALS.values())
    assert all(d.installed_at == SAMPLE_INSTALLED and d.retired_at is None for d in devices.values())
    assert codes["D0451879"] == {"1", "2", "3", "4", "5", "6", "7", "9"}
    assert codes["TW20185083"] == set(pa2_totals((SAMPLES / "ams-39-vcf.txt").read_text()))


def test_every_sample_uploads_to_its_demo_machine_as_a_baseline(demo_chain: Chain) -> None:
    reports = {r["file"].rsplit("/", 1)[-1]: r for r in import_dex(demo_chain, *(SAMPLES / n for n in NAMES))}
    with schema_context(demo_chain.schema_name):
        stored = {r.file_name.rsplit("/", 1)[-1]: r for r in DexRead.objects.all()}
        assets = dict(Device.objects.values_list("serial", "asset"))

    assert {name: r["status"] for name, r in reports.items()} == dict.fromkeys(NAMES, "baseline")
    assert {name: r["device"] for name, r in reports.items()} == {name: assets[SERIALS[name]] for name in NAMES}
    assert all(r["errors"] == [] and r["sales_created"] == 0 for r in reports.values())
    codes = {name: {f["code"] for f in r["flags"]} for name, r in reports.items()}
    # 2037-07-10 is in the future; 2007-06-07 is before the machine was installed (2025-01-01).
    assert "future_read_time" in codes["dixie-narco-501e.txt"]
    assert "read_before_install" in codes["dixie-narco-5800.txt"]
    quality = {"future_read_time", "read_before_install", "read_after_retirement"}
    assert {name for name, c in codes.items() if c & quality} == {"dixie-narco-501e.txt", "dixie-narco-5800.txt"}
    # The flag is stored on the read too, with the dates it compared.
    future = next(f for f in stored["dixie-narco-501e.txt"].flags if f["code"] == "future_read_time")
    assert future["read_at"].startswith("2037-07-10T05:43:00")
    early = next(f for f in stored["dixie-narco-5800.txt"].flags if f["code"] == "read_before_install")
    assert (early["read_date"], early["installed_at"]) == ("2007-06-07", "2025-01-01")


def test_a_follow_up_books_exactly_the_hand_computed_sales(demo_chain: Chain, tmp_path: Path) -> None:
    later = tmp_path / "vendo-later.txt"
    out = io.StringIO()
    call_command("make_dex_followup", str(SAMPLES / "vendo-721.txt"), "--out", str(later), "--vends", "3", stdout=out)
    made = json.loads(out.getvalue())

    baseline, followup = import_dex(demo_chain, SAMPLES / "vendo-721.txt", later)
    with schema_context(demo_chain.schema_name):
        sales = {
            s.slot_code: (s.quantity, s.amount, s.product.sku)
            for s in Sale.objects.filter(dex_read_id=followup["read_id"]).select_related("product")
        }

    assert (made["units"], made["amount"]) == (24, "38.25")
    assert (baseline["status"], followup["status"]) == ("baseline", "ingested")
    assert (followup["sales_created"], followup["units"], followup["amount"]) == (8, 24, "38.25")
    assert {code: (q, a) for code, (q, a, _sku) in sales.items()} == {
        "1": (3, Decimal("4.50")), "2": (3, Decimal("4.50")), "3": (3, Decimal("4.50")), "4": (3, Decimal("4.50")),
        "5": (3, Decimal("4.50")), "6": (3, Decimal("5.25")), "7": (3, Decimal("6.00")), "9": (3, Decimal("4.50")),
    }
    # Every slot is on the demo machine's planogram, and the slots move with VA1: no unassigned, no mismatch.
    assert UNASSIGNED_SKU not in {sku for *_rest, sku in sales.values()}
    assert not {f["code"] for f in followup["flags"]} & {"unmapped_slot", "va1_mismatch", "new_slot"}


def test_a_dated_follow_up_books_its_random_sales_a_week_later(demo_chain: Chain, tmp_path: Path) -> None:
    source = SAMPLES / "ams-39-vcf.txt"
    later = tmp_path / "ams-later.txt"
    out = io.StringIO()
    call_command("make_dex_followup", str(source), "--out", str(later), "--seed", "7", stdout=out)
    made = json.loads(out.getvalue())
    before, after = pa2_totals(source.read_text()), pa2_totals(later.read_text())
    units = sum(after[c][0] - before[c][0] for c in before)
    amount = Decimal(sum(after[c][1] - before[c][1] for c in before)) / 100

    _baseline, followup = import_dex(demo_chain, source, later)
    with schema_context(demo_chain.schema_name):
        sold_at = set(Sale.objects.filter(dex_read_id=followup["read_id"]).values_list("sold_at", flat=True))

    assert units > 0 and (made["units"], Decimal(made["amount"])) == (units, amount)
    assert (followup["status"], followup["units"], Decimal(followup["amount"])) == ("ingested", units, amount)
    # ID5 2025-07-09 20:00 machine-local (Stockholm) moved 7 days on.
    assert sold_at == {datetime(2025, 7, 16, 20, 0, tzinfo=ZoneInfo("Europe/Stockholm"))}
    assert "va1_mismatch" not in {f["code"] for f in followup["flags"]}


@pytest.mark.parametrize("name", NAMES)
def test_a_follow_up_keeps_the_envelope_checks_as_they_were(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    original = parse_dex(data)
    made = dex_followup(data, seed=3)
    later = parse_dex(made.data)

    assert (later.crc_ok, later.record_count_ok) == (original.crc_ok, original.record_count_ok)
    assert later.serial == original.serial and len(later.slots) == len(original.slots)
    assert later.read_at == (original.read_at + timedelta(days=7) if original.read_at else None)
    deltas = {
        s.code: ((t.vends or 0) - (s.vends or 0), (t.value or 0) - (s.value or 0))
        for s, t in zip(original.slots, later.slots, strict=True)
    }
    assert {c: d for c, d in deltas.items() if d != (0, 0)} == {s.code: (s.vends, s.value) for s in made.slots if s.vends}
    assert (later.paid_vends - original.paid_vends, later.paid_value - original.paid_value) == (made.units, made.amount)  # type: ignore[operator]
    # Apart from the counters, dates and checksums, the file is byte for byte the original.
    changed = {"PA2", "VA1", "ID5", "EA3", "SE", "G85"}
    kept = [line for line in data.split(b"\n") if line.split(b"*")[0].strip().decode() not in changed]
    assert kept == [line for line in made.data.split(b"\n") if line.split(b"*")[0].strip().decode() not in changed]


def test_make_dex_followup_names_the_bad_argument(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--vends"):
        call_command("make_dex_followup", str(SAMPLES / "vendo-721.txt"), "--out", str(tmp_path / "x"), "--vends", "-1")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("make_dex_followup", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "x"))
