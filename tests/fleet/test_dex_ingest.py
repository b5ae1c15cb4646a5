"""DEX ingestion: baseline, per-slot deltas, resets, duplicates, unknown machines, planograms, reads out of order.

The expected sales are computed by hand from the AMS 39 VCF sample: its slot 10 reads PA2*1634*173260,
slot 12 PA2*1557*164875, slot 14 PA2*1372*145975 (ID4: 2 decimals), VA1*5524760*35325, and it was
read at ID5 2025-07-09 20:00 machine-local time (Europe/Stockholm for chain A, i.e. 18:00 UTC).
The later reads are copies of it with edited PA2 (and VA1) counters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from analytics.models import DirtyRange
from fleet.models import UNASSIGNED_SKU, Device, DexRead, Location, PlanogramSlot, Product, Sale
from fleet.services.dex import dex_read_ingest
from tests.conftest import ChainFixture

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dex"
AMS = (SAMPLES / "ams-39-vcf.txt").read_text()
SERIAL = "TW20185083"
BASE = {"10": (1634, 173260), "12": (1557, 164875), "14": (1372, 145975)}
VA1 = (5524760, 35325)


def edited(counters: dict[str, tuple[int, int]], *, date: str, time: str, va1: tuple[int, int] | None = None) -> bytes:
    """The AMS sample with slots' PA201/PA202 set to `counters`, VA1 moved by the same deltas, and a new ID5 time."""
    if va1 is None:
        value_delta = sum(counters[code][1] - BASE[code][1] for code in counters)
        vends_delta = sum(counters[code][0] - BASE[code][0] for code in counters)
        va1 = (VA1[0] + value_delta, VA1[1] + vends_delta)
    out = []
    slot = None
    for line in AMS.splitlines():
        fields = line.split("*")
        if fields[0] == "PA1":
            slot = fields[1]
        elif fields[0] == "PA2" and slot in counters:
            fields[1], fields[2] = str(counters[slot][0]), str(counters[slot][1])
        elif fields[0] == "VA1":
            fields[1], fields[2] = str(va1[0]), str(va1[1])
        elif fields[0] == "ID5":
            fields[1], fields[2] = date, time
        out.append("*".join(fields))
    return ("\r\n".join(out) + "\r\n").encode()


@pytest.fixture
def machine(in_chain_a: ChainFixture) -> Device:
    location = Location.objects.create(code="DEX-L", name="DEX location")
    device = Device.objects.create(asset="AMS-1", serial=SERIAL, location=location)
    cola = Product.objects.create(sku="COLA", name="Cola", price=Decimal("1.25"))
    chips = Product.objects.create(sku="CHIPS", name="Chips", price=Decimal("1.25"))
    since = datetime(2020, 1, 1, tzinfo=UTC)
    PlanogramSlot.objects.create(device=device, slot_code="10", product=cola, valid_from=since)
    PlanogramSlot.objects.create(device=device, slot_code="12", product=chips, valid_from=since)
    return device


def sales_of(read_id: int | None) -> dict[str, tuple[str, int, Decimal, int]]:
    return {
        s.slot_code: (s.product.sku, s.quantity, s.amount, s.transactions)
        for s in Sale.objects.filter(dex_read_id=read_id).select_related("product")
    }


def test_first_read_is_the_baseline_and_the_next_books_the_deltas(machine: Device) -> None:
    first = dex_read_ingest(data=AMS.encode(), file_name="ams.txt")
    assert first.status == "baseline"
    assert first.sales_created == 0
    assert first.device == "AMS-1"
    assert first.read_at == datetime(2025, 7, 9, 18, 0, tzinfo=UTC)
    # Slot 10: +3 vends, +375 minor; slot 12: +2 vends, +250 minor; slot 14 (no planogram): +1, +125.
    second_file = edited(
        {"10": (1637, 173635), "12": (1559, 165125), "14": (1373, 146100)}, date="250710", time="0930"
    )
    second = dex_read_ingest(data=second_file, file_name="ams-2.txt")
    assert second.status == "ingested"
    assert second.sales_created == 3
    assert second.units == 6
    assert second.amount == Decimal("7.50")
    assert second.as_dict()["amount"] == "7.50"
    assert sales_of(second.read_id) == {
        "10": ("COLA", 3, Decimal("3.75"), 3),
        "12": ("CHIPS", 2, Decimal("2.50"), 2),
        "14": (UNASSIGNED_SKU, 1, Decimal("1.25"), 1),
    }
    codes = [f["code"] for f in second.flags]
    assert "unmapped_slot" in codes
    assert "va1_mismatch" not in codes
    sale = Sale.objects.get(external_id=f"dex:{second.read_id}:10")
    assert sale.sold_at == datetime(2025, 7, 10, 7, 30, tzinfo=UTC)
    assert sale.source == "dex"
    read = DexRead.objects.get(pk=second.read_id)
    assert read.raw_text.startswith("DXS*AUTSENSIT3")
    assert read.parsed["slots"]["10"]["vends"] == 1637
    assert DirtyRange.objects.filter(kind="sales", starts_at=sale.sold_at).exists()


def test_the_same_read_twice_is_a_duplicate_without_sales(machine: Device) -> None:
    dex_read_ingest(data=AMS.encode(), file_name="a.txt")
    later = edited({"10": (1640, 174010)}, date="250710", time="1000")
    assert dex_read_ingest(data=later, file_name="b.txt").sales_created == 1
    # The same content with LF line ends and another name is still the same read.
    again = dex_read_ingest(data=later.replace(b"\r\n", b"\n"), file_name="b-copy.txt")
    assert again.status == "duplicate"
    assert again.sales_created == 0
    assert Sale.objects.count() == 1
    assert DexRead.objects.filter(status="duplicate").count() == 1


def test_unknown_machine_is_rejected_with_its_serial_and_the_read_is_kept(in_chain_a: ChainFixture) -> None:
    report = dex_read_ingest(data=AMS.encode(), file_name="ams.txt")
    assert report.rejected
    assert report.errors[0]["code"] == "unknown_serial"
    assert SERIAL in report.errors[0]["message"]
    read = DexRead.objects.get(pk=report.read_id)
    assert read.status == "rejected" and read.serial == SERIAL and read.device is None
    assert Sale.objects.count() == 0


def test_truncated_read_is_rejected_and_nothing_is_booked(machine: Device) -> None:
    dex_read_ingest(data=AMS.encode(), file_name="a.txt")
    truncated = edited({"10": (1640, 174010)}, date="250710", time="1000").split(b"SE*")[0]
    report = dex_read_ingest(data=truncated, file_name="cut.txt")
    assert report.rejected
    assert "truncated" in report.errors[0]["message"]
    assert DexRead.objects.get(pk=report.read_id).status == "rejected"
    assert Sale.objects.count() == 0


def test_wrong_se_count_is_a_warning_not_a_rejection(machine: Device) -> None:
    lines = AMS.splitlines()
    wrong = "\r\n".join("SE*9*0001" if line.startswith("SE*") else line for line in lines).encode()
    report = dex_read_ingest(data=wrong, file_name="se.txt")
    assert report.status == "baseline"
    assert any("SE declares 9 records" in w for w in report.warnings)


def test_counter_reset_is_flagged_never_negative_and_rebaselined(machine: Device) -> None:
    dex_read_ingest(data=AMS.encode(), file_name="a.txt")
    # Slot 10 was reset to 4 vends / 500; slot 12 sold 1 (+125).
    reset = dex_read_ingest(data=edited({"10": (4, 500), "12": (1558, 165000)}, date="250710", time="1000"), file_name="b.txt")
    assert sales_of(reset.read_id) == {"12": ("CHIPS", 1, Decimal("1.25"), 1)}
    assert [f["slot"] for f in reset.flags if f["code"] == "counter_reset"] == ["10"]
    # The next read counts from the reset read: 4 → 6 vends, 500 → 750.
    after = dex_read_ingest(data=edited({"10": (6, 750), "12": (1558, 165000)}, date="250711", time="1000"), file_name="c.txt")
    assert sales_of(after.read_id) == {"10": ("COLA", 2, Decimal("2.50"), 2)}
    assert Sale.objects.filter(quantity__lt=1).count() == 0


def test_va1_mismatch_is_flagged(machine: Device) -> None:
    dex_read_ingest(data=AMS.encode(), file_name="a.txt")
    report = dex_read_ingest(
        data=edited({"10": (1636, 173510)}, date="250710", time="1000", va1=(VA1[0] + 999, VA1[1] + 7)), file_name="b.txt"
    )
    mismatch = next(f for f in report.flags if f["code"] == "va1_mismatch")
    assert (mismatch["slot_vends"], mismatch["va1_vends"]) == (2, 7)
    assert report.units == 2  # still booked from the slots


def test_planogram_in_force_at_the_read_time_decides_the_product(machine: Device) -> None:
    water = Product.objects.create(sku="WATER", name="Water", price=Decimal(1))
    switch = datetime(2025, 7, 10, 0, 0, tzinfo=UTC)
    PlanogramSlot.objects.filter(device=machine, slot_code="10").update(valid_to=switch)
    PlanogramSlot.objects.create(device=machine, slot_code="10", product=water, valid_from=switch)
    dex_read_ingest(data=AMS.encode(), file_name="a.txt")
    report = dex_read_ingest(data=edited({"10": (1635, 173385)}, date="250710", time="1000"), file_name="b.txt")
    assert sales_of(report.read_id) == {"10": ("WATER", 1, Decimal("1.25"), 1)}


def test_a_read_out_of_order_resplits_the_interval_of_the_next_read(machine: Device) -> None:
    dex_read_ingest(data=AMS.encode(), file_name="r1.txt")  # t1: 1634 / 173260
    r3 = dex_read_ingest(data=edited({"10": (1644, 174510)}, date="250712", time="1000"), file_name="r3.txt")
    assert sales_of(r3.read_id) == {"10": ("COLA", 10, Decimal("12.50"), 10)}
    # r2 (between them) arrives last: 1638 / 173760 → r1→r2 = 4 units 5.00, r2→r3 = 6 units 7.50.
    r2 = dex_read_ingest(data=edited({"10": (1638, 173760)}, date="250711", time="1000"), file_name="r2.txt")
    assert r2.status == "ingested"
    assert "out_of_order" in [f["code"] for f in r2.flags]
    assert sales_of(r2.read_id) == {"10": ("COLA", 4, Decimal("5.00"), 4)}
    assert sales_of(r3.read_id) == {"10": ("COLA", 6, Decimal("7.50"), 6)}
    assert sum(s.quantity for s in Sale.objects.all()) == 10
    assert Sale.objects.get(dex_read_id=r2.read_id).sold_at == datetime(2025, 7, 11, 8, 0, tzinfo=UTC)
    assert Sale.objects.get(dex_read_id=r3.read_id).sold_at == datetime(2025, 7, 12, 8, 0, tzinfo=UTC)
    # Analytics hears about both reads' times.
    assert DirtyRange.objects.filter(starts_at=datetime(2025, 7, 11, 8, 0, tzinfo=UTC), ends_at__gt=datetime(2025, 7, 12, 8, 0, tzinfo=UTC)).exists()


def test_a_read_older_than_the_baseline_becomes_the_baseline(machine: Device) -> None:
    later = dex_read_ingest(data=edited({"10": (1637, 173635)}, date="250710", time="1000"), file_name="late.txt")
    assert later.status == "baseline"
    earlier = dex_read_ingest(data=AMS.encode(), file_name="early.txt")
    assert earlier.status == "baseline"
    assert sales_of(later.read_id) == {"10": ("COLA", 3, Decimal("3.75"), 3)}
    assert DexRead.objects.get(pk=later.read_id).status == "ingested"


def test_import_dex_command_prints_a_json_list_and_fails_on_rejection(machine: Device, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    good = tmp_path / "a.txt"
    good.write_text(AMS)
    unknown = SAMPLES / "royal-660.txt"
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_dex", "test_a", str(good), str(unknown))
    assert exit_info.value.code == 1
    reports = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in reports] == ["baseline", "rejected"]
    assert "0799139808" in reports[1]["errors"][0]["message"]
