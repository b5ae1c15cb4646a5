"""The filters every analysis accepts, and the one scope builder that turns them into SQL and ORM conditions.

**A filter only ever narrows; a venue filter selects no sales.** Each filter below adds a condition to a
query, never a row: a value that matches nothing selects nothing. Filters of different kinds combine with
AND, values of one filter with OR. The kinds:

- place (location, region): machines at those places and venue resources there; NPS answers there;
- machine (device, device type, route): those machines' sales; they select no bookings and no NPS answers;
- product (category, product): those products' sales; they select no bookings and no NPS answers;
- venue (resource, resource type): those resources' bookings; **they select no sales** and no NPS answers.

Every query that filters asks `Filters.scope(<alias set>)` for its (joins, where, params), or `Filters.q_*`
for an ORM read. An alias set names the tables of one query shape (raw sales `s`/`d`/`l`/`p`, the device and
product rollups, the slot rollup (devices and products together), raw bookings `b`/`r`/`l`, the booking rollup, planogram slots, NPS answers); each filter
declares its condition per alias set, once, in FILTERS. Adding a filter is one edit in this module: a field on
`Filters` and its entry in FILTERS (the request parameter, code lookup, SQL and ORM conditions all follow).

Values are database ids (names for region and resource type); the API resolves the codes people know
(location code, device asset, product SKU, resource code, route code, device type and category names) to
ids before a Filters is made (analytics.params).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from django.db.models import Q

Kind = Literal["place", "machine", "product", "venue"]
Domain = Literal["sales", "bookings", "nps"]

# Which kinds of filter a domain honours; any other kind selects nothing in it.
_HONOURED: dict[Domain, frozenset[Kind]] = {
    "sales": frozenset({"place", "machine", "product"}),
    "bookings": frozenset({"place", "venue"}),
    "nps": frozenset({"place"}),
}


@dataclass(frozen=True)
class AliasSet:
    """The tables of one query shape: `base` is the alias of the queried table, `joins` how to reach the others
    (alias → (JOIN clause, aliases it needs first))."""

    name: str
    domain: Domain
    joins: Mapping[str, tuple[str, tuple[str, ...]]]


RAW_SALES = AliasSet("raw_sales", "sales", {
    "d": ("JOIN fleet_device d ON d.id = s.device_id", ()),
    "l": ("JOIN fleet_location l ON l.id = d.location_id", ("d",)),
    "p": ("JOIN fleet_product p ON p.id = s.product_id", ()),
})
DEVICE_ROLLUP = AliasSet("device_rollup", "sales", {
    "d": ("JOIN fleet_device d ON d.id = r.device_id", ()),
    "l": ("JOIN fleet_location l ON l.id = d.location_id", ("d",)),
})
PRODUCT_ROLLUP = AliasSet("product_rollup", "sales", {"p": ("JOIN fleet_product p ON p.id = r.product_id", ())})
SLOT_ROLLUP = AliasSet("slot_rollup", "sales", {
    "d": ("JOIN fleet_device d ON d.id = r.device_id", ()),
    "l": ("JOIN fleet_location l ON l.id = d.location_id", ("d",)),
    "p": ("JOIN fleet_product p ON p.id = r.product_id", ()),
})
CHAIN_ROLLUP = AliasSet("chain_rollup", "sales", {})
PLANOGRAM = AliasSet("planogram", "sales", {
    "d": ("JOIN fleet_device d ON d.id = ps.device_id", ()),
    "l": ("JOIN fleet_location l ON l.id = d.location_id", ("d",)),
    "p": ("JOIN fleet_product p ON p.id = ps.product_id", ()),
})
RAW_BOOKINGS = AliasSet("raw_bookings", "bookings", {
    "r": ("JOIN bookings_resource r ON r.id = b.resource_id", ()),
    "l": ("JOIN fleet_location l ON l.id = r.location_id", ("r",)),
})
BOOKING_ROLLUP = AliasSet("booking_rollup", "bookings", {
    "res": ("JOIN bookings_resource res ON res.id = r.resource_id", ()),
    "l": ("JOIN fleet_location l ON l.id = res.location_id", ("res",)),
})
NPS = AliasSet("nps", "nps", {"l": ("JOIN fleet_location l ON l.id = n.location_id", ())})

_ON_ROUTE = "IN (SELECT rs.device_id FROM routes_routestop rs WHERE rs.route_id = ANY({v}))"
QFor = Callable[[tuple[Any, ...], str], Q]


def _path(path: str) -> QFor:
    return lambda values, prefix: Q(**{f"{prefix}{path}__in": values})


def _on_route(values: tuple[Any, ...], prefix: str) -> Q:
    from routes.models import RouteStop

    return Q(**{f"{prefix}id__in": RouteStop.objects.filter(route_id__in=values).values("device_id")})


@dataclass(frozen=True)
class FilterSpec:
    """One filter: its `Filters` field, request parameter, kind, how its codes resolve, and its condition per
    alias set (`{v}` stands for the list of values). An alias set a filter has no condition for cannot answer a
    question with it (a rollup family that does not carry it; the caller then reads raw rows)."""

    field: str
    param: str
    kind: Kind
    sql: Mapping[str, str]
    lookup: tuple[str, str] | None = None  # (app_label.Model, code field) for ids-or-codes; None: plain names
    device: QFor | None = None  # ORM condition on fleet.Device (prefix: the path to the device)
    resource: QFor | None = None  # ORM condition on bookings.Resource
    location: QFor | None = None  # ORM condition on fleet.Location
    product: QFor | None = None  # ORM condition on fleet.Product
    help: str = ""


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "locations", "location", "place", lookup=("fleet.Location", "code"),
        sql={"raw_sales": "d.location_id = ANY({v})", "slot_rollup": "d.location_id = ANY({v})", "device_rollup": "d.location_id = ANY({v})",
             "planogram": "d.location_id = ANY({v})", "raw_bookings": "r.location_id = ANY({v})",
             "booking_rollup": "res.location_id = ANY({v})", "nps": "n.location_id = ANY({v})"},
        device=_path("location_id"), resource=_path("location_id"), location=_path("id"),
        help="location codes or ids (repeatable or comma-separated); only these locations",
    ),
    FilterSpec(
        "devices", "device", "machine", lookup=("fleet.Device", "asset"),
        sql={"raw_sales": "s.device_id = ANY({v})", "slot_rollup": "r.device_id = ANY({v})", "device_rollup": "r.device_id = ANY({v})",
             "planogram": "ps.device_id = ANY({v})"},
        device=_path("id"), help="device asset numbers or ids (repeatable or comma-separated)",
    ),
    FilterSpec(
        "device_types", "device_type", "machine", lookup=("fleet.DeviceType", "name"),
        sql={"raw_sales": "d.device_type_id = ANY({v})", "slot_rollup": "d.device_type_id = ANY({v})", "device_rollup": "d.device_type_id = ANY({v})",
             "planogram": "d.device_type_id = ANY({v})"},
        device=_path("device_type_id"), help="device type names or ids (repeatable or comma-separated)",
    ),
    FilterSpec(
        "categories", "category", "product", lookup=("fleet.Category", "name"),
        sql={"raw_sales": "p.category_id = ANY({v})", "slot_rollup": "p.category_id = ANY({v})", "product_rollup": "p.category_id = ANY({v})",
             "planogram": "p.category_id = ANY({v})"},
        product=_path("category_id"),
        help="product category names or ids (repeatable or comma-separated); narrows sales to these categories",
    ),
    FilterSpec(
        "products", "product", "product", lookup=("fleet.Product", "sku"),
        sql={"raw_sales": "s.product_id = ANY({v})", "slot_rollup": "r.product_id = ANY({v})", "product_rollup": "r.product_id = ANY({v})",
             "planogram": "ps.product_id = ANY({v})"},
        product=_path("id"),
        help="product SKUs or ids (repeatable or comma-separated); narrows sales to these products",
    ),
    FilterSpec(
        "regions", "region", "place",
        sql={"raw_sales": "l.region = ANY({v})", "slot_rollup": "l.region = ANY({v})", "device_rollup": "l.region = ANY({v})", "planogram": "l.region = ANY({v})",
             "raw_bookings": "l.region = ANY({v})", "booking_rollup": "l.region = ANY({v})", "nps": "l.region = ANY({v})"},
        device=_path("location__region"), resource=_path("location__region"), location=_path("region"),
        help="location region names (repeatable or comma-separated)",
    ),
    FilterSpec(
        "resources", "resource", "venue", lookup=("bookings.Resource", "code"),
        sql={"raw_bookings": "b.resource_id = ANY({v})", "booking_rollup": "r.resource_id = ANY({v})"},
        resource=_path("id"),
        help="venue resource codes or ids (repeatable or comma-separated); selects bookings, excludes machine sales",
    ),
    FilterSpec(
        "resource_types", "resource_type", "venue",
        sql={"raw_bookings": "r.resource_type = ANY({v})", "booking_rollup": "res.resource_type = ANY({v})"},
        resource=_path("resource_type"),
        help="resource types such as court or room (repeatable); selects bookings, excludes machine sales",
    ),
    FilterSpec(
        "routes", "route", "machine", lookup=("routes.Route", "code"),
        sql={"raw_sales": f"s.device_id {_ON_ROUTE}", "slot_rollup": f"r.device_id {_ON_ROUTE}", "device_rollup": f"r.device_id {_ON_ROUTE}",
             "planogram": f"ps.device_id {_ON_ROUTE}"},
        device=_on_route, help="route codes or ids (repeatable or comma-separated); the machines on the routes' stops",
    ),
)
FILTER_BY_FIELD = {spec.field: spec for spec in FILTERS}


@dataclass(frozen=True)
class Scope:
    """What a filter set adds to one query: JOIN clauses, ` AND …` conditions and their parameters."""

    joins: str
    where: str
    params: dict[str, Any]
    nothing: bool = False  # the filters select no row of this domain (the where is ` AND FALSE`)


@dataclass(frozen=True)
class Filters:
    """Database ids of the chain's own rows (regions and resource types by name); an empty tuple means no filter.

    Ids that do not exist in the chain simply match nothing, so a foreign chain's id yields an empty answer.
    """

    locations: tuple[int, ...] = ()
    devices: tuple[int, ...] = ()
    device_types: tuple[int, ...] = ()
    categories: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    resources: tuple[int, ...] = ()
    resource_types: tuple[str, ...] = ()
    products: tuple[int, ...] = ()
    routes: tuple[int, ...] = ()

    def active(self) -> list[tuple[FilterSpec, tuple[Any, ...]]]:
        return [(spec, values) for spec in FILTERS if (values := getattr(self, spec.field))]

    def kinds(self) -> set[Kind]:
        return {spec.kind for spec, _ in self.active()}

    def selects(self, domain: Domain) -> bool:
        """False when a filter of a kind the domain does not honour is set (a venue filter and sales, …)."""
        return self.kinds() <= _HONOURED[domain]

    @property
    def selects_sales(self) -> bool:
        return self.selects("sales")

    @property
    def selects_bookings(self) -> bool:
        return self.selects("bookings")

    @property
    def narrows_products(self) -> bool:
        """A product or category filter is set: the machines in scope are those that sold the products."""
        return "product" in self.kinds()

    @property
    def narrows_machines(self) -> bool:
        return bool(self.kinds() & {"machine", "venue"}) or bool(self.locations or self.regions)

    def carried_by(self, aliases: AliasSet) -> bool:
        """Every filter set has a condition in `aliases` (or the domain selects nothing anyway)."""
        return not self.selects(aliases.domain) or all(aliases.name in spec.sql for spec, _ in self.active())

    def scope(self, aliases: AliasSet, *, joined: Iterable[str] = (), need: Iterable[str] = ()) -> Scope | None:
        """(joins, where, params) of these filters over `aliases`; None when a filter has no condition there.

        `joined`: aliases the query joins itself; `need`: aliases it needs for its own columns (joined here).
        """
        if not self.selects(aliases.domain):
            return Scope(joins=_joins(aliases, set(need), set(joined)), where=" AND FALSE", params={}, nothing=True)
        conditions: list[str] = []
        params: dict[str, Any] = {}
        wanted = set(need)
        for spec, values in self.active():
            template = spec.sql.get(aliases.name)
            if template is None:
                return None
            conditions.append(template.format(v=f"%(f_{spec.field})s"))
            params[f"f_{spec.field}"] = list(values)
            outer = template.split("(SELECT")[0]  # a subquery's own aliases are its business
            wanted |= {alias for alias in aliases.joins if re.search(rf"\b{alias}\.", outer)}
        return Scope(joins=_joins(aliases, wanted, set(joined)), where="".join(f" AND {c}" for c in conditions), params=params)

    def q_devices(self, prefix: str = "") -> Q:
        """ORM condition on fleet.Device (through `prefix`, e.g. "device__"); NOTHING when a venue filter is set."""
        return self._q("device", prefix, honoured={"place", "machine", "product"})

    def q_resources(self, prefix: str = "") -> Q:
        """ORM condition on bookings.Resource (through `prefix`); NOTHING when a machine or product filter is set."""
        return self._q("resource", prefix, honoured={"place", "venue"})

    def q_products(self, prefix: str = "") -> Q:
        """ORM condition on fleet.Product from the product filters (through `prefix`); NOTHING under a venue filter."""
        return self._q("product", prefix, honoured={"place", "machine", "product"})

    def q_locations(self, prefix: str = "") -> Q:
        """ORM condition on fleet.Location from the place filters; machine and venue filters narrow the places
        further through their devices and resources (the caller's join)."""
        return self._q("location", prefix, honoured={"place", "machine", "product", "venue"})

    def _q(self, target: str, prefix: str, *, honoured: set[str]) -> Q:
        if not self.kinds() <= honoured:
            return NOTHING
        condition = Q()
        for spec, values in self.active():
            build: QFor | None = getattr(spec, target)
            if build is not None:  # product filters narrow sales, not the machine or resource lists
                condition &= build(values, prefix)
        return condition


def _joins(aliases: AliasSet, wanted: set[str], joined: set[str]) -> str:
    out: list[str] = []

    def add(alias: str) -> None:
        if alias in joined:
            return
        clause, needs = aliases.joins[alias]
        for first in needs:
            add(first)
        joined.add(alias)
        out.append(clause)

    for alias in aliases.joins:  # declaration order: a stable statement text (cache keys)
        if alias in wanted:
            add(alias)
    return "".join(f" {clause}" for clause in out)


NO_FILTERS = Filters()
NOTHING = Q(pk__in=[])  # an ORM condition no row meets (Django answers it without a query)

assert {spec.field for spec in FILTERS} == {f.name for f in fields(Filters)}, "every Filters field needs its FILTERS entry"
