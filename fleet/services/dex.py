"""DEX ingestion: keep every read, turn consecutive reads of a machine into per-slot sales.

The rules are product.md's "DEX rules". How a read that is older than the newest stored read of its
machine (an out-of-order upload) is handled: it is inserted between its neighbours in read-time
order. The sales that the next read had booked for the interval prev→next are deleted and booked
again as prev→old (on the old read, at its read time) and old→next (on the next read, at its read
time). Lifetime counters make this exact: Δ(prev→old) + Δ(old→next) = Δ(prev→next) for every slot
without a reset, so no unit is lost or counted twice, and the sales land at the times the
machine really reported them. A read older than every stored read becomes the new baseline and
the former baseline books the interval from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from chains.models import Chain
from fleet.dex.parser import DexError, content_hash, parse_dex
from fleet.dex.parser import DexRead as ParsedRead
from fleet.models import UNASSIGNED_SKU, Device, DexRead, PlanogramSlot, Product, Sale
from ingest.signals import raw_data_changed

logger = logging.getLogger(__name__)

ACCEPTED = (DexRead.Status.BASELINE, DexRead.Status.INGESTED)
# A machine clock this far ahead of the upload is wrong, not drifting: the read is flagged (product.md "DEX rules").
FUTURE_TOLERANCE = timedelta(hours=1)


def max_dex_bytes() -> int:
    return int(getattr(settings, "CVD_MAX_DEX_BYTES", 2 * 1024 * 1024))


@dataclass
class DexImportReport:
    """What became of one DEX file (interfaces.md shape, plus the read's id and time)."""

    file: str
    device: str | None = None
    status: str = DexRead.Status.REJECTED
    sales_created: int = 0
    units: int = 0
    amount: Decimal = Decimal(0)
    flags: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read_id: int | None = None
    read_at: datetime | None = None
    serial: str = ""

    @property
    def rejected(self) -> bool:
        return self.status == DexRead.Status.REJECTED

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "device": self.device,
            "serial": self.serial,
            "status": str(self.status),
            "read_id": self.read_id,
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "sales_created": self.sales_created,
            "units": self.units,
            "amount": str(self.amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            "flags": self.flags,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def chain_tz() -> tzinfo:
    """The current chain's time zone (schema_context sets a stand-in tenant without one)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Chain):
        return tenant.tz
    chain = Chain.objects.filter(schema_name=getattr(connection, "schema_name", "")).first()
    return chain.tz if chain is not None else timezone.get_current_timezone()


def flag(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    # PostgreSQL text cannot hold NUL; the raw read is for people, the hash keeps the original bytes.
    return text.replace("\x00", "\ufffd")


def _parsed_json(read: ParsedRead, read_at_source: str) -> dict[str, Any]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "decimals": read.decimals,
        "model": read.model,
        "paid_vends": read.paid_vends,
        "paid_value": money(read.paid_value),
        "record_count_ok": read.record_count_ok,
        "crc_ok": read.crc_ok,
        "read_at_source": read_at_source,
        "slots": {
            slot.code: {"vends": slot.vends, "value": money(slot.value), "price": money(slot.price)}
            for slot in read.slots
        },
    }


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _planogram(device: Device, at: datetime) -> dict[str, int]:
    """Slot code → product id of the planogram in force at `at`."""
    slots = PlanogramSlot.objects.filter(device=device, valid_from__lte=at).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=at)
    )
    mapping: dict[str, int] = {}
    for code, product_id in slots.values_list("slot_code", "product_id"):
        mapping[code.strip()] = product_id
        mapping.setdefault(code.strip().upper(), product_id)
    return mapping


def _unassigned_product() -> Product:
    product, _ = Product.objects.get_or_create(
        sku=UNASSIGNED_SKU, defaults={"name": "Unassigned (DEX slot without planogram)", "price": Decimal(0)}
    )
    return product


def _book_interval(*, device: Device, earlier: DexRead, later: DexRead) -> tuple[list[Sale], list[dict[str, Any]]]:
    """Create the sales between two accepted reads of one machine (attached to the later one) and its flags."""
    assert later.read_at is not None
    before: dict[str, Any] = earlier.parsed.get("slots", {})
    after: dict[str, Any] = later.parsed.get("slots", {})
    planogram = _planogram(device, later.read_at)
    flags: list[dict[str, Any]] = []
    sales: list[Sale] = []
    sum_vends = 0
    sum_value = Decimal(0)
    unassigned: Product | None = None
    for code, now in after.items():
        was = before.get(code)
        if was is None:
            flags.append(flag("new_slot", f"slot {code} first seen in this read: its counters are its baseline", slot=code))
            continue
        vends_now, vends_was = now.get("vends"), was.get("vends")
        value_now, value_was = _dec(now.get("value")), _dec(was.get("value"))
        if vends_now is None or vends_was is None or value_now is None or value_was is None:
            flags.append(flag("no_counters", f"slot {code} lacks PA2 counters in one of the reads", slot=code))
            continue
        units = vends_now - vends_was
        value = value_now - value_was
        sum_vends += units
        sum_value += value
        if units < 0 or value < 0:
            flags.append(
                flag(
                    "counter_reset",
                    f"slot {code} counters went back ({vends_was} → {vends_now} vends, {value_was} → {value_now}): "
                    "treated as a reset, no sales booked, re-baselined",
                    slot=code,
                )
            )
            continue
        if units == 0:
            if value != 0:
                flags.append(flag("value_without_vends", f"slot {code} value rose by {value} without a vend", slot=code))
            continue
        product_id = planogram.get(code.strip()) or planogram.get(code.strip().upper())
        if product_id is None:
            if unassigned is None:
                unassigned = _unassigned_product()
            product_id = unassigned.pk
            flags.append(
                flag("unmapped_slot", f"slot {code} has no planogram entry at the read time: booked to {UNASSIGNED_SKU}", slot=code)
            )
        sales.append(
            Sale(
                external_id=f"dex:{later.pk}:{code}",
                sold_at=later.read_at,
                device=device,
                product_id=product_id,
                slot_code=code[:20],
                quantity=units,
                transactions=units,
                amount=value,
                source=Sale.Source.DEX,
                dex_read=later,
            )
        )
    va1_vends_before, va1_vends_after = earlier.parsed.get("paid_vends"), later.parsed.get("paid_vends")
    va1_value_before, va1_value_after = _dec(earlier.parsed.get("paid_value")), _dec(later.parsed.get("paid_value"))
    if None not in (va1_vends_before, va1_vends_after, va1_value_before, va1_value_after):
        delta_vends = va1_vends_after - va1_vends_before  # type: ignore[operator]
        delta_value = va1_value_after - va1_value_before  # type: ignore[operator]
        if delta_vends != sum_vends or delta_value != sum_value:
            flags.append(
                flag(
                    "va1_mismatch",
                    f"slot deltas ({sum_vends} vends, {sum_value}) do not match the VA1 delta "
                    f"({delta_vends} vends, {delta_value})",
                    slot_vends=sum_vends, slot_value=str(sum_value), va1_vends=delta_vends, va1_value=str(delta_value),
                )
            )
    else:
        flags.append(flag("va1_missing", "VA1 totals missing in one of the reads: not reconciled"))
    Sale.objects.bulk_create(sales)
    return sales, flags


def _read_time_flags(*, device: Device, read_at: datetime, uploaded_at: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """Data-quality flags of a read time the machine's clock gave: in the future, before installation, after retirement.

    The read is still stored and used (its counters are right even when its clock is not); the flag is
    in the import report and on the read, for people to look at.
    """
    flags = []
    local_day = read_at.astimezone(tz).date()
    if read_at > uploaded_at + FUTURE_TOLERANCE:
        flags.append(
            flag(
                "future_read_time",
                f"the read is dated {read_at:%Y-%m-%d %H:%M}, after its upload ({uploaded_at.astimezone(tz):%Y-%m-%d %H:%M}): "
                "the machine's clock is wrong",
                read_at=read_at.isoformat(), uploaded_at=uploaded_at.isoformat(),
            )
        )
    if device.installed_at is not None and local_day < device.installed_at:
        flags.append(
            flag(
                "read_before_install",
                f"the read is dated {local_day}, before {device.asset} was installed ({device.installed_at})",
                read_date=local_day.isoformat(), installed_at=device.installed_at.isoformat(),
            )
        )
    if device.retired_at is not None and local_day > device.retired_at:
        flags.append(
            flag(
                "read_after_retirement",
                f"the read is dated {local_day}, after {device.asset} was retired ({device.retired_at})",
                read_date=local_day.isoformat(), retired_at=device.retired_at.isoformat(),
            )
        )
    return flags


def _reject(report: DexImportReport, read: DexRead, code: str, message: str, **extra: Any) -> DexImportReport:
    read.status = DexRead.Status.REJECTED
    read.errors = [{"code": code, "message": message, **extra}]
    read.flags = report.flags
    read.save()
    report.status = DexRead.Status.REJECTED
    report.errors = read.errors
    report.read_id = read.pk
    return report


@transaction.atomic
def dex_read_ingest(*, data: bytes, file_name: str, uploaded_at: datetime | None = None) -> DexImportReport:
    """Store one DEX read and book the sales since the machine's previous read (see the module docstring)."""
    uploaded_at = uploaded_at or timezone.now()
    report = DexImportReport(file=file_name)
    digest = content_hash(data)
    read = DexRead(file_name=file_name[:255], raw_text=_decode(data), content_hash=digest, uploaded_at=uploaded_at)
    if len(data) > max_dex_bytes():
        read.raw_text = ""
        return _reject(report, read, "too_large", f"the file has {len(data)} bytes, more than {max_dex_bytes()}")
    try:
        parsed = parse_dex(data)
    except DexError as exc:
        return _reject(report, read, "unreadable", str(exc))
    report.warnings = list(parsed.warnings)
    read.warnings = report.warnings
    serial = parsed.serial
    if not serial and parsed.comm_id:
        # Some machines leave ID101 empty (the Dixie-Narco 501E sample); the DXS communication id is then
        # the only stable identifier the read carries.
        serial = parsed.comm_id
        report.flags.append(flag("serial_from_dxs", f"ID101 is empty: the DXS communication id {serial!r} is used as the serial"))
    report.serial = read.serial = serial[:50]
    tz = chain_tz()
    if parsed.read_at is not None:
        read_at = parsed.read_at.replace(tzinfo=tz)
        source = "file"
    else:
        read_at = uploaded_at
        source = "upload"
        report.flags.append(flag("no_read_time", "the read has no ID5/EA3 time: the upload time is used"))
    read.read_at = report.read_at = read_at
    read.parsed = _parsed_json(parsed, source)
    if not serial:
        return _reject(report, read, "no_serial", "the read has no machine serial (ID101)")
    # The row lock serialises ingestion per machine, so two uploads cannot both take the same predecessor.
    device = Device.objects.select_for_update().filter(serial=serial).first()
    if device is None:
        return _reject(report, read, "unknown_serial", f"no device has the serial {serial!r}", serial=serial)
    read.device = device
    report.device = device.asset
    if source == "file":
        report.flags.extend(_read_time_flags(device=device, read_at=read_at, uploaded_at=uploaded_at, tz=tz))

    original = DexRead.objects.filter(device=device, content_hash=digest, status__in=ACCEPTED).first()
    if original is not None:
        report.status = read.status = DexRead.Status.DUPLICATE
        # The original holds the text; the repeat keeps only the pointer (and its own upload's metadata).
        read.duplicate_of, read.raw_text = original, ""
        report.flags.append(flag("duplicate", f"the same read was stored as read #{original.pk}: no sales booked", original=original.pk))
        read.flags = report.flags
        read.save()
        report.read_id = read.pk
        return report

    accepted = DexRead.objects.filter(device=device, status__in=ACCEPTED)
    previous = accepted.filter(read_at__lte=read_at).order_by("-read_at", "-id").first()
    following = accepted.filter(read_at__gt=read_at).order_by("read_at", "id").first()
    read.status = report.status = DexRead.Status.BASELINE if previous is None else DexRead.Status.INGESTED
    read.save()
    report.read_id = read.pk
    touched = [read_at]
    if previous is not None:
        if previous.read_at == read_at:
            report.flags.append(flag("same_read_time", f"read #{previous.pk} has the same read time", other=previous.pk))
        sales, flags = _book_interval(device=device, earlier=previous, later=read)
        report.flags.extend(flags)
        report.sales_created = len(sales)
        report.units = sum(sale.quantity for sale in sales)
        report.amount = sum((sale.amount for sale in sales), Decimal(0))
    else:
        report.flags.append(flag("baseline", "first read of this machine: it only sets the baseline"))
    if following is not None:
        assert following.read_at is not None
        # Out of order: the next read's interval is split at this read (see the module docstring).
        deleted, _ = Sale.objects.filter(dex_read=following).delete()
        resplit, following_flags = _book_interval(device=device, earlier=read, later=following)
        following.status = DexRead.Status.INGESTED
        following.flags = [
            *[f for f in following.flags if f.get("code") not in _INTERVAL_FLAGS],
            *following_flags,
            flag("resplit", f"interval re-split by the older read #{read.pk}", by=read.pk),
        ]
        following.save(update_fields=["status", "flags"])
        report.flags.append(
            flag(
                "out_of_order",
                f"older than read #{following.pk} of this machine: inserted before it; its {deleted} sale(s) were "
                f"re-booked as {len(resplit)} sale(s) from this read on",
                next_read=following.pk, next_sales_deleted=deleted, next_sales_created=len(resplit),
            )
        )
        touched.append(following.read_at)
    read.flags = report.flags
    read.save(update_fields=["flags"])
    if report.sales_created or following is not None:
        raw_data_changed.send(
            sender=DexRead, kind="sales", starts_at=min(touched), ends_at=max(touched) + timedelta(microseconds=1)
        )
    return report


# Flags that describe a read's interval; recomputed when the interval changes.
_INTERVAL_FLAGS = frozenset(
    {"new_slot", "no_counters", "counter_reset", "value_without_vends", "unmapped_slot", "va1_mismatch", "va1_missing", "baseline"}
)
