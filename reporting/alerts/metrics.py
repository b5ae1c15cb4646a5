"""What a rule measures, read from the analytics query layer and its report registry: the numbers the pages show.

Rules are grouped by metric family and window, and each family answers all its rules with one read
(one dashboard, one asset-sales, one locations, one product-sales, one utilization, one inventory, one
anomalies, or one last-sale probe per window), never one read per rule. A "family" is the report whose
rows carry the metric for the rule's kind of scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from analytics.filters import NO_FILTERS, Filters
from analytics.periods import Period, local_midnight
from analytics.query.instants import bookings_between, device_last_sales, sales_between
from analytics.reports import get_report
from reporting.alerts.models import AlertRule
from reporting.alerts.windows import AlertWindow

SALES_METRICS = ("revenue", "units", "transactions", "avg_transaction_value")
DASHBOARD_METRICS = (
    *SALES_METRICS, "sales_revenue", "booking_revenue", "active_devices", "revenue_run_rate", "bookings", "no_show_rate",
    "utilization", "nps",
)
PER_DEVICE_METRICS = ("hours_without_sales", "days_to_empty", "anomaly")
ANOMALY_LOOKBACK_DAYS = 30  # the anomalies page's default range: the same z for the same day

# metric → scope kind ("" = the chain; for per-device metrics "" = every device) → windows it can be read for.
ALL = ("hour", "day", "week", "month")
DAYS = ("day", "week", "month")
SUPPORTED: dict[str, dict[str, tuple[str, ...]]] = {
    **{m: {"": ALL, "device": ALL, "location": ALL, "product": ALL} for m in ("revenue", "units", "transactions")},
    "avg_transaction_value": {"": ALL, "device": ALL, "location": ALL},
    "sales_revenue": {"": ALL},
    "booking_revenue": {"": DAYS},
    "nps": {"": DAYS},
    "active_devices": {"": ALL, "location": ALL},
    "revenue_run_rate": {"": DAYS},
    "bookings": {"": DAYS, "location": DAYS, "resource": DAYS},
    "no_show_rate": {"": DAYS, "resource": DAYS},
    "utilization": {"": DAYS, "resource": DAYS},
    "hours_without_sales": {"": ALL, "device": ALL, "location": ALL},
    "days_to_empty": {"": ALL, "device": ALL, "location": ALL},
    "anomaly": {"": DAYS, "device": DAYS, "location": DAYS},
}
SCOPE_KINDS = ("device", "location", "product", "resource")


def scope_kind(scope: Mapping[str, str]) -> str:
    return next(iter(scope), "")


@dataclass(frozen=True)
class Subject:
    """What one alert is about: the chain, a device, a location, a product or a resource."""

    key: str  # the scope key of the alert: "chain", "device:ACM-00012", …
    label: str  # as people call it (asset, code, chain name)
    device_id: int | None = None
    location_id: int | None = None


@dataclass
class Reading:
    subject: Subject
    value: Decimal | None  # None: nothing to compare (see note)
    previous: Decimal | None = None
    note: str = ""


@dataclass
class Catalog:
    """Ids and labels of the chain's scope codes, read once per evaluation."""

    chain_name: str
    devices: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (asset, location id)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → code → id
    codes: dict[str, dict[int, str]] = field(default_factory=dict)  # kind → id → code


def catalog_load(*, chain_name: str, rules: Sequence[AlertRule]) -> Catalog:
    from bookings.models import Resource
    from fleet.models import Device, Location, Product

    catalog = Catalog(chain_name=chain_name)
    models: dict[str, tuple[Any, str]] = {
        "device": (Device, "asset"), "location": (Location, "code"), "product": (Product, "sku"), "resource": (Resource, "code"),
    }
    wanted: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        kind = scope_kind(rule.scope)
        if kind:
            wanted[kind].add(rule.scope[kind])
    if any(rule.metric in PER_DEVICE_METRICS for rule in rules):
        catalog.devices = {pk: (asset, loc) for pk, asset, loc in Device.objects.values_list("id", "asset", "location_id")}
    for kind, (model, code_field) in models.items():
        rows = model.objects.filter(**{f"{code_field}__in": sorted(wanted[kind])}).values_list("id", code_field) if wanted[kind] else []
        catalog.ids[kind] = {code: pk for pk, code in rows}
        catalog.codes[kind] = {pk: code for code, pk in catalog.ids[kind].items()}
    return catalog


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _period_params(period: Period, filters: Mapping[str, Sequence[int]] | None = None, **extra: Any) -> dict[str, Any]:
    chosen = {key: list(values) for key, values in (filters or {}).items() if values}
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), **chosen, **extra}


class Family:
    """One read answering every rule of a group (same family, same window)."""

    def __init__(self, window: AlertWindow, rules: Sequence[AlertRule], catalog: Catalog) -> None:
        self.window = window
        self.rules = rules
        self.catalog = catalog
        self.wants_previous = any(rule.condition.startswith("change_") for rule in rules)

    def ids(self, kind: str) -> list[int]:
        return sorted({self.catalog.ids[kind][rule.scope[kind]] for rule in self.rules if rule.scope.get(kind) in self.catalog.ids[kind]})

    def readings(self) -> dict[int, list[Reading]]:
        raise NotImplementedError


def _missing(rule: AlertRule, kind: str, catalog: Catalog) -> Reading | None:
    code = rule.scope.get(kind)
    if code is not None and code not in catalog.ids.get(kind, {}):
        return Reading(Subject(f"{kind}:{code}", code), None, note=f"{kind} {code!r} does not exist in this chain")
    return None


class KpiFamily(Family):
    """Sales, booking and venue KPIs of the chain or of one device, location, product or resource."""

    kind = ""

    def values(self, window: AlertWindow) -> dict[int | None, dict[str, Decimal]]:
        """scope id (None for the chain) → metric → value."""
        raise NotImplementedError

    def readings(self) -> dict[int, list[Reading]]:
        current = self.values(self.window)
        previous = self.values(self.window.previous()) if self.wants_previous else {}
        out: dict[int, list[Reading]] = {}
        for rule in self.rules:
            missing = _missing(rule, self.kind, self.catalog) if self.kind else None
            if missing is not None:
                out[rule.id] = [missing]
                continue
            pk = self.catalog.ids[self.kind][rule.scope[self.kind]] if self.kind else None
            code = rule.scope.get(self.kind, "") if self.kind else ""
            subject = Subject(
                f"{self.kind}:{code}" if self.kind else "chain",
                code or self.catalog.chain_name,
                device_id=pk if self.kind == "device" else None,
                location_id=pk if self.kind == "location" else None,
            )
            # A subject without a row had nothing in the window (0); a chain figure the dashboard leaves empty
            # (nps without responses) has no value to compare.
            zero: Decimal | None = None if rule.metric == "nps" else Decimal(0)
            value = current.get(pk, {}).get(rule.metric, zero)
            before = previous.get(pk, {}).get(rule.metric, zero) if self.wants_previous else None
            note = "" if value is not None else f"no {rule.metric} in this window"
            out[rule.id] = [Reading(subject, value, before, note=note)]
        return out


def _sales_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    revenue = units = transactions = Decimal(0)
    for row in rows:
        revenue += _dec(row["revenue"] or 0)
        units += _dec(row["units"] or 0)
        transactions += _dec(row["transactions"] or 0)
    return {
        "revenue": revenue, "units": units, "transactions": transactions,
        "avg_transaction_value": revenue / transactions if transactions else Decimal(0),
    }


class ChainKpis(KpiFamily):
    def values(self, window: AlertWindow) -> dict[int | None, dict[str, Decimal]]:
        if window.period is None:  # an hour: the raw rows of the hour by device (active devices come with them)
            rows = sales_between(starts_at=window.starts_at, ends_at=window.ends_at, by=["device"])
            sales = _sales_rows(rows)
            booked = bookings_between(starts_at=window.starts_at, ends_at=window.ends_at)
            booking_revenue = _dec(booked[0]["revenue"]) if booked else Decimal(0)
            # As the dashboard defines them: revenue counts bookings too, the average sales alone.
            return {None: {**sales, "sales_revenue": sales["revenue"], "revenue": sales["revenue"] + booking_revenue,
                           "active_devices": Decimal(len(rows))}}
        kpis = get_report("dashboard").run(_period_params(window.period, limit=1))["kpis"]
        return {None: {key: _dec(kpis[key]) for key in DASHBOARD_METRICS if kpis.get(key) is not None}}


class DeviceKpis(KpiFamily):
    kind = "device"

    def values(self, window: AlertWindow) -> dict[int | None, dict[str, Decimal]]:
        ids = self.ids("device")
        if not ids:
            return {}
        if window.period is None:
            rows = sales_between(starts_at=window.starts_at, ends_at=window.ends_at, filters=Filters(devices=tuple(ids)), by=["device"])
            return {row["device"]: _sales_rows([row]) for row in rows}
        answer = get_report("asset-sales").run(_period_params(window.period, {"device": ids}, top_products=False))
        return {
            row["device_id"]: {
                "revenue": _dec(row["total_revenue"]), "units": _dec(row["total_units"]),
                "transactions": _dec(row["total_transactions"]), "avg_transaction_value": _dec(row["avg_transaction_value"]),
            }
            for row in answer["devices"]
        }


class LocationKpis(KpiFamily):
    kind = "location"

    def values(self, window: AlertWindow) -> dict[int | None, dict[str, Decimal]]:
        ids = self.ids("location")
        if not ids:
            return {}
        if window.period is None:
            rows = sales_between(
                starts_at=window.starts_at, ends_at=window.ends_at, filters=Filters(locations=tuple(ids)), by=["location", "device"]
            )
            grouped: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
            for row in rows:
                grouped[row["location"]].append(row)
            return {pk: {**_sales_rows(group), "active_devices": Decimal(len(group))} for pk, group in grouped.items()}
        answer = get_report("locations").run(_period_params(window.period, {"location": ids}))
        out: dict[int | None, dict[str, Decimal]] = {}
        for row in answer["locations"]:
            transactions = _dec(row["transactions"])
            out[row["location_id"]] = {
                "revenue": _dec(row["revenue"]), "units": _dec(row["units"]), "transactions": transactions,
                "avg_transaction_value": _dec(row["sales_revenue"]) / transactions if transactions else Decimal(0),
                "active_devices": _dec(row["active_devices"]), "bookings": _dec(row["bookings"]),
            }
        return out


class ProductKpis(KpiFamily):
    kind = "product"

    def values(self, window: AlertWindow) -> dict[int | None, dict[str, Decimal]]:
        ids = self.ids("product")
        if not ids:
            return {}
        if window.period is None:
            rows = sales_between(starts_at=window.starts_at, ends_at=window.ends_at, filters=Filters(products=tuple(ids)),
                                 by=["product"])
            return {row["product"]: _sales_rows([row]) for row in rows}
        answer = get_report("product-sales").run(_period_params(window.period, {"product": ids}, sections=["slow_movers"]))
        return {
            row["product_id"]: {"revenue": _dec(row["revenue"]), "units": _dec(row["units"]), "transactions": _dec(row["transactions"])}
            for row in answer["products"] if row["product_id"] in ids
        }


class ResourceKpis(KpiFamily):
    kind = "resource"

    def values(self, window: AlertWindow) -> dict[int | None, dict[str, Decimal]]:
        ids = self.ids("resource")
        if not ids or window.period is None:
            return {}
        answer = get_report("utilization").run(_period_params(window.period, {"resource": ids}))
        return {
            row["resource_id"]: {
                "bookings": _dec(row["bookings"]), "no_show_rate": _dec(row["no_show_rate"]),
                "utilization": _dec(row["utilization"]), "revenue": _dec(row["revenue"]),
            }
            for row in answer["resources"]
        }


class PerDeviceFamily(Family):
    """A per-device metric: a rule without a scope means every device (one alert each), a location rule every
    device of the location."""

    def filters(self) -> Filters:
        kinds = {scope_kind(rule.scope) for rule in self.rules}
        if kinds == {"device"}:
            return Filters(devices=tuple(self.ids("device")))
        if kinds == {"location"}:
            return Filters(locations=tuple(self.ids("location")))
        return NO_FILTERS

    def device_values(self) -> dict[int, tuple[Decimal | None, str]]:
        """device id → (value, note)."""
        raise NotImplementedError

    def readings(self) -> dict[int, list[Reading]]:
        values = self.device_values()
        out: dict[int, list[Reading]] = {}
        for rule in self.rules:
            kind = scope_kind(rule.scope)
            missing = _missing(rule, kind, self.catalog) if kind else None
            if missing is not None:
                out[rule.id] = [missing]
                continue
            if kind == "device":
                devices = [self.catalog.ids["device"][rule.scope["device"]]]
            elif kind == "location":
                location = self.catalog.ids["location"][rule.scope["location"]]
                devices = [pk for pk in values if self.catalog.devices.get(pk, ("", 0))[1] == location]
            else:
                devices = list(values)
            readings = []
            for pk in sorted(devices, key=lambda pk: self.catalog.devices.get(pk, ("",))[0]):
                asset, location_id = self.catalog.devices.get(pk, (str(pk), None))  # type: ignore[arg-type]
                value, note = values.get(pk, (None, "not in service in this window"))
                readings.append(Reading(Subject(f"device:{asset}", asset, device_id=pk, location_id=location_id), value, note=note))
            out[rule.id] = readings
        return out


class HoursWithoutSales(PerDeviceFamily):
    """Hours from a device's last sale to the end of the window (to its installation when it never sold)."""

    def device_values(self) -> dict[int, tuple[Decimal | None, str]]:
        from fleet.models import Device

        end = self.window.ends_at
        last = device_last_sales(before=end, filters=self.filters())
        never = [pk for pk, at in last.items() if at is None]
        installed = dict(Device.objects.filter(id__in=never).values_list("id", "installed_at")) if never else {}
        out: dict[int, tuple[Decimal | None, str]] = {}
        for pk, at in last.items():
            since: datetime | None = at
            note = ""
            installed_on = installed.get(pk)
            if since is None and installed_on is not None:
                since, note = local_midnight(installed_on, self.window.tz), "no sale since it was installed"
            if since is None:
                out[pk] = (None, "never sold and no installation date: nothing to measure")
                continue
            out[pk] = (Decimal((end - since) / timedelta(hours=1)).quantize(Decimal("0.01")), note)
        return out


class DaysToEmpty(PerDeviceFamily):
    """A device's first slot to run out (the inventory page's days_until_empty; 0 for an empty slot)."""

    def device_values(self) -> dict[int, tuple[Decimal | None, str]]:
        filters = self.filters()
        data: dict[str, Any] = {}
        if filters.devices:
            data["device"] = list(filters.devices)
        if filters.locations:
            data["location"] = list(filters.locations)
        slots = get_report("inventory").run(data)["slots"]
        best: dict[int, Decimal] = {}
        for slot in slots:
            days = Decimal(0) if slot["estimated_stock"] == 0 else slot["days_until_empty"]
            if days is None:
                continue
            days = _dec(days)
            if slot["device_id"] not in best or days < best[slot["device_id"]]:
                best[slot["device_id"]] = days
        return {pk: (value, "") for pk, value in best.items()}


class Anomaly(PerDeviceFamily):
    """The largest |z| of a device's anomalous days in the window (the anomalies page over the 30 days
    ending with the window; 0 when none of its days is anomalous)."""

    def device_values(self) -> dict[int, tuple[Decimal | None, str]]:
        period = self.window.period
        assert period is not None
        lookback = Period(min(period.start, period.end - timedelta(days=ANOMALY_LOOKBACK_DAYS - 1)), period.end)
        filters = self.filters()
        data = _period_params(lookback, {"device": filters.devices, "location": filters.locations})
        answer = get_report("anomalies").run(data)
        out: dict[int, tuple[Decimal | None, str]] = {pk: (Decimal(0), "") for pk in self.catalog.devices}
        for row in answer["anomalies"]:
            if period.start <= row["date"] <= period.end:
                z = abs(_dec(row["z"])).quantize(Decimal("0.0001"))
                current = out.get(row["device_id"], (Decimal(0), ""))[0] or Decimal(0)
                if z > current:
                    out[row["device_id"]] = (z, f"{row['direction']} on {row['date']}")
        return out


_KPI_FAMILIES: dict[str, type[KpiFamily]] = {
    "": ChainKpis, "device": DeviceKpis, "location": LocationKpis, "product": ProductKpis, "resource": ResourceKpis,
}
_PER_DEVICE: dict[str, type[PerDeviceFamily]] = {
    "hours_without_sales": HoursWithoutSales, "days_to_empty": DaysToEmpty, "anomaly": Anomaly,
}


def family_of(rule: AlertRule) -> type[Family]:
    if rule.metric in _PER_DEVICE:
        return _PER_DEVICE[rule.metric]
    return _KPI_FAMILIES[scope_kind(rule.scope)]
