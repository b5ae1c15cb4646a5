"""The vending demo: a fleet with planograms, months of sales with real patterns, routes and service visits.

Everything random comes from one seeded numpy Generator, drawn in a fixed order, so a seed and a
"today" give the same rows every time. Big tables are generated as numpy arrays in chunks of days
and loaded with COPY; the few hundred catalog rows go through the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from demo import data
from demo.copy import bulk_load, copy_frame, copy_staged, next_id, sequence_sync
from demo.dexsamples import SAMPLE_INSTALLED, SampleMachine, sample_machines
from fleet.models import Category, Customer, Device, DeviceType, Location, Product

EPOCH = date(1970, 1, 1)
CASHLESS_CUSTOMER_SHARE = 0.55  # card/mobile sales that carry a loyalty/app customer reference
ROUTE_WEEKDAYS = ((0, 2, 4), (1, 3), (0, 3))  # Mon/Wed/Fri, Tue/Thu, Mon/Thu
SALES_SELECT = """
    (id, external_id, sold_at, device_id, product_id, slot_code, quantity, amount, transactions, payment_method,
     customer_id, source, ingested_at)
    SELECT id, 'demo-' || n, to_timestamp(t), dev, prod, (%s::text[])[slot + 1], qty, cents / 100.0, 1,
           (ARRAY['cash', 'card', 'mobile', 'other'])[pay + 1], NULLIF(cust, 0),
           (ARRAY['telemetry', 'import'])[src + 1], to_timestamp(ing)
    FROM {stage}
"""
ROW_APPEAL = {"A": 0.8, "B": 1.15, "C": 1.2, "D": 1.0, "E": 0.85, "F": 0.75}  # eye level sells best


@dataclass
class VendingSpec:
    days: int = 400
    devices: int = 60
    products: int = 80
    sites: int = 12
    target_sales: int | None = None  # None: Poisson demand (~20 vends a device-day); else exactly this many
    routes: bool = True
    chunk_days: int = 400
    prefix: str = "ACM"
    dex_samples: bool = True  # the first devices take the serials and slot codes of samples/dex/ (demo.dexsamples)


@dataclass
class VendingSummary:
    locations: int = 0
    devices: int = 0
    products: int = 0
    slots: int = 0
    customers: int = 0
    sales: int = 0
    route_runs: int = 0
    service_visits: int = 0
    slot_fills: int = 0
    sales_range: tuple[datetime, datetime] | None = None
    anomalies: list[str] = field(default_factory=list)


def _epoch_days(day: date) -> int:
    return (day - EPOCH).days


def _utc_offsets(tz: ZoneInfo, first_day: date, days: int) -> np.ndarray:
    """Seconds east of UTC for every (day, local hour) of the window; DST-gap hours take the earlier offset."""
    offsets = np.empty((days, 24), dtype=np.int64)
    for d in range(days):
        day = first_day + timedelta(days=d)
        for hour in range(24):
            offset = datetime.combine(day, time(hour, 30), tzinfo=tz).utcoffset()
            offsets[d, hour] = int(offset.total_seconds()) if offset is not None else 0
    return offsets


def _sites(spec: VendingSpec, rng: np.random.Generator) -> list[data.Site]:
    base = list(data.ACME_SITES)
    sites = base[: spec.sites]
    k = 1
    while len(sites) < spec.sites:  # the large demo: more sites in the same cities, nearby
        for site in base:
            if len(sites) >= spec.sites:
                break
            lat, lon = rng.normal(0, 0.012, 2)
            sites.append(
                data.Site(
                    f"{site.code}-{k:02d}", f"{site.name} #{k + 1}", site.city, site.region, site.country,
                    round(site.latitude + lat, 6), round(site.longitude + lon, 6), site.address, site.venue_type,
                    site.weight * 0.8,
                )
            )
        k += 1
    return sites


def _catalog(spec: VendingSpec) -> list[tuple[str, str, float, float, float]]:
    """(category, name, price, cost, popularity); beyond the base catalog, variants of its products."""
    base = [(category, *item) for category, items in data.CATALOG.items() for item in items]
    products = list(base)
    variant = 0
    while len(products) < spec.products:
        label = data.PRODUCT_VARIANTS[variant % len(data.PRODUCT_VARIANTS)]
        for category, name, price, cost, popularity in base:
            if len(products) >= spec.products:
                break
            factor = {"Mini": 0.7, "XL": 1.4, "Family Pack": 2.2, "Duo": 1.8}.get(label, 1.1)
            suffix = f" {label}" if variant < len(data.PRODUCT_VARIANTS) else f" {label} {variant}"
            products.append((category, name + suffix, round(price * factor), round(cost * factor, 2), popularity * 0.4))
        variant += 1
    return products[: spec.products]


def vending_seed(
    *, spec: VendingSpec, rng: np.random.Generator, today: date, tz: ZoneInfo, cutoff: datetime, log: object = None
) -> VendingSummary:
    """Create the fleet and its history in the current (empty) chain schema; return what was made."""
    summary = VendingSummary()
    # A fixed number of sales cannot include a day that is still running: that window ends yesterday.
    last_day = today - timedelta(days=1) if spec.target_sales else today
    first_day = last_day - timedelta(days=spec.days - 1)
    window_days = spec.days
    say = getattr(log, "write", None) or (lambda _m: None)

    # --- catalog: sites, machine types, categories, products (ORM: a few hundred rows) -----------------
    sites = _sites(spec, rng)
    locations = Location.objects.bulk_create(
        [
            Location(
                code=s.code, name=s.name, city=s.city, region=s.region, country=s.country, latitude=s.latitude,
                longitude=s.longitude, address=s.address, venue_type=s.venue_type,
            )
            for s in sites
        ]
    )
    summary.locations = len(locations)
    types = DeviceType.objects.bulk_create([DeviceType(name=t.name) for t in data.MACHINE_TYPES])
    catalog = _catalog(spec)
    category_names = sorted({c for c, *_ in catalog}, key=list(data.CATALOG).index)
    categories = {c.name: c for c in Category.objects.bulk_create([Category(name=n) for n in category_names])}
    products = Product.objects.bulk_create(
        [
            Product(sku=f"SKU-{i + 1:05d}", name=name, category=categories[cat], price=price, cost=cost)
            for i, (cat, name, price, cost, _pop) in enumerate(catalog)
        ]
    )
    summary.products = len(products)
    product_ids = np.array([p.pk for p in products], dtype=np.int64)
    product_price = np.array([c[2] for c in catalog], dtype=np.float64)
    product_pop = np.array([c[4] for c in catalog], dtype=np.float64)
    product_cat = np.array([category_names.index(c[0]) for c in catalog], dtype=np.int64)

    # --- devices -------------------------------------------------------------------------------------
    n = spec.devices
    site_weight = np.array([s.weight for s in sites])
    # Every site gets a device first, the rest follow the site weights.
    dev_site = np.concatenate([np.arange(min(n, len(sites))), rng.choice(len(sites), size=max(0, n - len(sites)), p=site_weight / site_weight.sum())])
    dev_site = np.sort(dev_site)
    type_share = np.array([t.share for t in data.MACHINE_TYPES])
    dev_type = rng.choice(len(types), size=n, p=type_share / type_share.sum())
    installed_offset = np.where(
        rng.random(n) < 0.85, -rng.integers(30, 1500, n), rng.integers(0, max(1, int(window_days * 0.8)), n)
    )
    retire = rng.random(n) < 0.04
    retired_offset = np.where(retire, rng.integers(int(window_days * 0.5), max(int(window_days * 0.5) + 1, int(window_days * 0.95)), n), -1)
    retired_offset = np.where(retired_offset <= installed_offset, -1, retired_offset)
    serial_base = rng.integers(0, 7919, n)
    # The sample machines were installed on SAMPLE_INSTALLED, before their reads, and are not retired (the random
    # draws stay as they were).
    samples: tuple[SampleMachine, ...] = sample_machines()[:n] if spec.dex_samples else ()
    for i in range(len(samples)):
        installed_offset[i] = (SAMPLE_INSTALLED - first_day).days
        retired_offset[i] = -1
    devices = Device.objects.bulk_create(
        [
            Device(
                asset=f"{spec.prefix}-{i + 1:05d}",
                serial=samples[i].serial if i < len(samples) else str(300_000_000 + i * 7919 + int(serial_base[i])),
                device_type=types[int(dev_type[i])],
                location=locations[int(dev_site[i])],
                cooler=data.MACHINE_TYPES[int(dev_type[i])].cooler,
                installed_at=first_day + timedelta(days=int(installed_offset[i])),
                retired_at=first_day + timedelta(days=int(retired_offset[i])) if retired_offset[i] >= 0 else None,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    summary.devices = n
    device_ids = np.array([d.pk for d in devices], dtype=np.int64)
    say(f"  {len(locations)} locations, {n} devices, {len(products)} products")

    # --- planograms: every slot of every device; some slots change product during the window ------------
    slot_dev, slot_code, slot_prod_a, slot_prod_b, slot_swap, slot_cap, slot_weight = [], [], [], [], [], [], []
    products_by_cat = {c: np.flatnonzero(product_cat == c) for c in range(len(category_names))}
    for i in range(n):
        machine = data.MACHINE_TYPES[int(dev_type[i])]
        pool = np.concatenate(
            [products_by_cat[category_names.index(c)] for c in machine.categories if c in category_names] or [np.arange(len(catalog))]
        )
        codes = (
            list(samples[i].slots) if i < len(samples)
            else [f"{row}{col}" for row in machine.rows for col in range(1, machine.columns + 1)]
        )
        weights = product_pop[pool] / product_pop[pool].sum()
        chosen = rng.choice(pool, size=len(codes), replace=len(pool) < len(codes), p=weights)
        swaps = rng.random(len(codes)) < 0.08
        swap_day = np.where(swaps, rng.integers(7, max(8, window_days - 3), len(codes)), -1)
        # A swap can only happen while the machine stands there.
        swap_day = np.where((swap_day > installed_offset[i]) & ((retired_offset[i] < 0) | (swap_day < retired_offset[i])), swap_day, -1)
        replacement = rng.choice(pool, size=len(codes), p=weights)
        appeal = rng.lognormal(0, 0.35, len(codes))
        capacity = {"Coffee Bar": 150, "Fresh Food Locker": 6, "Cold Drinks Cooler": 10}.get(machine.name, 12)
        for j, code in enumerate(codes):
            slot_dev.append(i)
            slot_code.append(code)
            slot_prod_a.append(chosen[j])
            same = replacement[j] == chosen[j]
            slot_prod_b.append(replacement[j])
            slot_swap.append(-1 if same else swap_day[j])
            slot_cap.append(capacity)
            slot_weight.append(product_pop[chosen[j]] * ROW_APPEAL.get(code[0], 1.0) * appeal[j])
    slot_dev_a = np.array(slot_dev, dtype=np.int64)
    slot_prod_a_a = np.array(slot_prod_a, dtype=np.int64)
    slot_prod_b_a = np.array(slot_prod_b, dtype=np.int64)
    slot_swap_a = np.array(slot_swap, dtype=np.int64)
    slot_cap_a = np.array(slot_cap, dtype=np.int64)
    slot_weight_a = np.array(slot_weight, dtype=np.float64)
    slot_code_a = np.array(slot_code, dtype=object)
    n_slots = len(slot_dev_a)
    # Slot prices follow the site's price level, in whole kronor.
    site_price = np.array([data.SITE_PRICE[s.venue_type] for s in sites])[dev_site]
    price_a = np.round(product_price[slot_prod_a_a] * site_price[slot_dev_a])
    price_b = np.round(product_price[slot_prod_b_a] * site_price[slot_dev_a])

    # Planogram rows: the first assignment from installation, and for swapped slots a second one.
    installed_day = np.maximum(installed_offset, -3000)
    offsets = _utc_offsets(tz, first_day, window_days)
    midnight_utc = lambda d: (_epoch_days(first_day) + d) * 86400 - offsets[np.clip(d, 0, window_days - 1), 0]  # noqa: E731
    swapped = slot_swap_a >= 0
    first_row_id = next_id("fleet_planogramslot")
    row_a_id = first_row_id + np.arange(n_slots)
    row_b_id = first_row_id + n_slots + np.cumsum(swapped) - 1
    valid_from_a = midnight_utc(installed_day[slot_dev_a])
    swap_at = np.where(swapped, midnight_utc(np.maximum(slot_swap_a, 0)), 0)
    planogram = pd.DataFrame(
        {
            "id": np.concatenate([row_a_id, row_b_id[swapped]]),
            "device_id": device_ids[np.concatenate([slot_dev_a, slot_dev_a[swapped]])],
            "slot_code": np.concatenate([slot_code_a, slot_code_a[swapped]]),
            "product_id": product_ids[np.concatenate([slot_prod_a_a, slot_prod_b_a[swapped]])],
            "capacity": np.concatenate([slot_cap_a, slot_cap_a[swapped]]),
            "par_level": np.concatenate([slot_cap_a, slot_cap_a[swapped]]) * 6 // 10,
            "price": np.concatenate([price_a, price_b[swapped]]),
            "valid_from": pd.to_datetime(np.concatenate([valid_from_a, swap_at[swapped]]), unit="s"),
            "valid_to": pd.to_datetime(np.concatenate([np.where(swapped, swap_at, np.nan), np.full(swapped.sum(), np.nan)]), unit="s"),
        }
    )
    summary.slots = copy_frame("fleet_planogramslot", planogram)
    sequence_sync("fleet_planogramslot")

    # --- demand: expected vends per device and day ------------------------------------------------------
    day_index = np.arange(window_days)
    day_dates = [first_day + timedelta(days=int(d)) for d in day_index]
    iso_weekday = np.array([d.isoweekday() for d in day_dates]) - 1
    doy = np.array([d.timetuple().tm_yday for d in day_dates])
    month_day = np.array([d.month * 100 + d.day for d in day_dates])
    venue = [sites[int(s)].venue_type for s in dev_site]
    machines = [data.MACHINE_TYPES[int(t)] for t in dev_type]
    base = np.array([m.daily_vends * data.SITE_DEMAND[v] for m, v in zip(machines, venue, strict=True)]) * rng.lognormal(0, 0.3, n)
    weekday = np.array([data.WEEKDAY_PROFILE[v] for v in venue])[:, iso_weekday]
    cooler = np.array([m.cooler for m in machines])[:, None]
    season = np.where(cooler, 1 + 0.25 * np.cos(2 * np.pi * (doy - 196) / 365.25), 1 + 0.08 * np.cos(2 * np.pi * (doy - 15) / 365.25))
    summer_break = (month_day >= 615) & (month_day <= 815)
    christmas = (month_day >= 1222) | (month_day <= 106)
    is_school = np.array([v == "school" for v in venue])[:, None]
    is_office = np.array([v == "office" for v in venue])[:, None]
    holidays = np.where(is_school & summer_break, 0.25, 1.0) * np.where((is_school | is_office) & christmas, 0.4, 1.0)
    # Growth and decline: a fifth of the fleet grows, a sixth declines, the rest drifts a little.
    kind = rng.random(n)
    start = np.where(kind < 0.2, rng.uniform(0.6, 0.8, n), np.where(kind < 0.37, rng.uniform(1.2, 1.35, n), rng.uniform(0.93, 1.07, n)))
    end = np.where(kind < 0.2, rng.uniform(1.25, 1.5, n), np.where(kind < 0.37, rng.uniform(0.45, 0.65, n), rng.uniform(0.93, 1.07, n)))
    trend = start[:, None] + (end - start)[:, None] * (day_index / max(1, window_days - 1))[None, :]
    rates = base[:, None] * weekday * season * holidays * trend
    active = (day_index[None, :] >= installed_offset[:, None]) & ((retired_offset[:, None] < 0) | (day_index[None, :] < retired_offset[:, None]))
    rates = np.where(active, rates, 0.0)
    # A few anomalies the analytics must find: outages (a broken machine) and event days (a concert crowd).
    n_anomalies = max(2, n // 6)
    anomaly_dev = rng.integers(0, n, n_anomalies)
    anomaly_day = rng.integers(max(0, window_days - 120), window_days - 1, n_anomalies) if window_days > 2 else np.zeros(n_anomalies, int)
    anomaly_factor = np.where(rng.random(n_anomalies) < 0.5, 0.0, rng.uniform(3.5, 5.0, n_anomalies))
    for d, day, f in zip(anomaly_dev, anomaly_day, anomaly_factor, strict=True):
        if rates[d, day] > 0:
            rates[d, day] *= f
            summary.anomalies.append(f"{devices[int(d)].asset} {day_dates[int(day)]} {'outage' if f == 0 else f'x{f:.1f}'}")
    if spec.target_sales is None:
        counts = rng.poisson(rates)
    else:
        counts = rng.multinomial(spec.target_sales, (rates / rates.sum()).ravel()).reshape(rates.shape)

    # --- cumulative slot weights per device, for picking a slot per sale (vectorised inverse CDF) ------------
    order = np.argsort(slot_dev_a, kind="stable")
    assert (order == np.arange(n_slots)).all()  # slots were created device by device
    slot_start = np.searchsorted(slot_dev_a, np.arange(n))
    cum = np.zeros(n_slots)
    for i in range(n):
        lo, hi = slot_start[i], (slot_start[i + 1] if i + 1 < n else n_slots)
        w = slot_weight_a[lo:hi]
        cum[lo:hi] = i + np.cumsum(w) / w.sum()
        cum[hi - 1] = i + 1.0
    hour_profiles = list(data.HOUR_PROFILE)
    hour_cdf = np.array([np.cumsum(data.HOUR_PROFILE[v]) / np.sum(data.HOUR_PROFILE[v]) for v in hour_profiles])
    hour_cdf[:, -1] = 1.0
    flat_hour_cdf = (np.arange(len(hour_profiles))[:, None] + hour_cdf).ravel()
    dev_profile = np.array([hour_profiles.index(v) for v in venue])

    # Customers: a pool per site that fills up over the window (new customers keep arriving) and whose
    # low numbers come back again and again (returning customers).
    site_devices = np.bincount(dev_site, minlength=len(sites))
    pool_size = np.maximum(50, site_devices * 220)
    pool_offset = np.concatenate([[0], np.cumsum(pool_size)[:-1]])
    first_customer_id = next_id("fleet_customer")
    customers = pd.DataFrame(
        {
            "id": first_customer_id + np.arange(pool_size.sum()),
            "external_ref": [f"{spec.prefix}-C{k + 1:07d}" for k in range(int(pool_size.sum()))],
        }
    )
    copy_frame("fleet_customer", customers)

    window_start_s = midnight_utc(0)
    cutoff_s = int(cutoff.timestamp())
    sale_id = next_id("fleet_sale")
    external_n = 1
    kept: list[pd.DataFrame] = []  # sales needed for route computations (small demo only)
    first_sold = last_sold = None
    dev_source = (rng.random(n) < 0.3).astype(np.int64)  # 30% of machines report through file imports
    slot_code_names, slot_code_index = np.unique(slot_code_a.astype(str), return_inverse=True)
    slot_code_names = slot_code_names.tolist()
    with bulk_load("fleet_sale"):
        for chunk_start in range(0, window_days, spec.chunk_days):
            chunk = counts[:, chunk_start : chunk_start + spec.chunk_days]
            dev_rep, day_rep = np.nonzero(chunk)
            reps = chunk[dev_rep, day_rep]
            dev_of = np.repeat(dev_rep, reps)
            day_of = np.repeat(day_rep + chunk_start, reps)
            m = len(dev_of)
            if m == 0:
                continue
            u_hour = rng.random(m)
            hour = np.searchsorted(flat_hour_cdf, dev_profile[dev_of] + u_hour, side="right") - dev_profile[dev_of] * 24
            hour = np.clip(hour, 0, 23)
            second = rng.integers(0, 3600, m)
            sold_s = (_epoch_days(first_day) + day_of) * 86400 + hour * 3600 + second - offsets[day_of, hour]
            slot = np.searchsorted(cum, dev_of + rng.random(m) * 0.999999, side="right")
            slot = np.minimum(slot, n_slots - 1)
            after_swap = (slot_swap_a[slot] >= 0) & (day_of >= slot_swap_a[slot])
            product = np.where(after_swap, slot_prod_b_a[slot], slot_prod_a_a[slot])
            unit_price = np.where(after_swap, price_b[slot], price_a[slot])
            quantity = 1 + (rng.random(m) < 0.06).astype(np.int64) + (rng.random(m) < 0.01).astype(np.int64)
            frac = day_of / max(1, window_days - 1)
            cash_share = 0.2 - 0.08 * frac
            card_share = 0.5
            mobile_share = 0.28 + 0.08 * frac
            u_pay = rng.random(m)
            payment = np.where(u_pay < cash_share, 0, np.where(u_pay < cash_share + card_share, 1, np.where(u_pay < cash_share + card_share + mobile_share, 2, 3)))
            has_customer = (payment == 1) | (payment == 2)
            has_customer &= rng.random(m) < CASHLESS_CUSTOMER_SHARE
            site = dev_site[dev_of]
            active_pool = np.maximum(1, (pool_size[site] * (0.35 + 0.65 * frac)).astype(np.int64))
            customer_index = pool_offset[site] + np.minimum(active_pool - 1, (active_pool * rng.random(m) ** 2.5).astype(np.int64))
            delay = np.where(dev_source[dev_of] == 0, rng.integers(2, 90, m), rng.integers(6 * 3600, 30 * 3600, m))
            keep = sold_s <= cutoff_s
            time_order = np.argsort(sold_s, kind="stable")
            time_order = time_order[keep[time_order]]
            k = len(time_order)
            ids = sale_id + np.arange(k)
            o = time_order
            copy_staged(
                "fleet_sale",
                {
                    "id": ids,
                    "n": external_n + np.arange(k),
                    "t": sold_s[o],
                    "dev": device_ids[dev_of[o]],
                    "prod": product_ids[product[o]],
                    "slot": slot_code_index[slot[o]],
                    "qty": quantity[o],
                    "cents": np.round(unit_price[o] * 100).astype(np.int64) * quantity[o],
                    "pay": payment[o],
                    "cust": np.where(has_customer[o], first_customer_id + customer_index[o], 0),
                    "src": dev_source[dev_of[o]],
                    "ing": np.minimum(sold_s + delay, cutoff_s)[o],
                },
                SALES_SELECT,
                [slot_code_names],
            )
            sale_id += k
            external_n += k
            summary.sales += k
            if k:
                lo_s, hi_s = int(sold_s[time_order[0]]), int(sold_s[time_order[-1]])
                first_sold = lo_s if first_sold is None else min(first_sold, lo_s)
                last_sold = hi_s if last_sold is None else max(last_sold, hi_s)
            if spec.routes:
                kept.append(
                    pd.DataFrame(
                        {
                            "dev": dev_of[time_order],
                            "slot": slot[time_order],
                            "after_swap": after_swap[time_order],
                            "t": sold_s[time_order],
                            "qty": quantity[time_order],
                            "cash": np.where(payment[time_order] == 0, unit_price[time_order] * quantity[time_order], 0.0),
                        }
                    )
                )
            say(f"  sales: {summary.sales:,}")
    sequence_sync("fleet_sale")
    # first_seen from the sales themselves, and customers who never bought are not kept.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE fleet_customer c SET first_seen = s.first FROM "
            "(SELECT customer_id, MIN(sold_at) AS first FROM fleet_sale WHERE customer_id IS NOT NULL GROUP BY customer_id) s "
            "WHERE c.id = s.customer_id"
        )
        cursor.execute("DELETE FROM fleet_customer WHERE first_seen IS NULL AND id >= %s", [first_customer_id])
    summary.customers = Customer.objects.count()
    if first_sold is not None and last_sold is not None:
        summary.sales_range = (datetime.fromtimestamp(first_sold, UTC), datetime.fromtimestamp(last_sold + 1, UTC))

    if spec.routes and kept:
        _routes_seed(
            rng=rng, summary=summary, sales=pd.concat(kept, ignore_index=True), sites=sites, dev_site=dev_site,
            device_ids=device_ids, installed_offset=installed_offset, retired_offset=retired_offset,
            slot_dev=slot_dev_a, slot_swap=slot_swap_a, slot_cap=slot_cap_a, row_a_id=row_a_id, row_b_id=row_b_id,
            first_day=first_day, today=today, window_days=window_days, offsets=offsets, cutoff_s=cutoff_s,
            window_start_s=int(window_start_s),
        )
    return summary


def _routes_seed(
    *,
    rng: np.random.Generator,
    summary: VendingSummary,
    sales: pd.DataFrame,
    sites: list[data.Site],
    dev_site: np.ndarray,
    device_ids: np.ndarray,
    installed_offset: np.ndarray,
    retired_offset: np.ndarray,
    slot_dev: np.ndarray,
    slot_swap: np.ndarray,
    slot_cap: np.ndarray,
    row_a_id: np.ndarray,
    row_b_id: np.ndarray,
    first_day: date,
    today: date,
    window_days: int,
    offsets: np.ndarray,
    cutoff_s: int,
    window_start_s: int,
) -> None:
    """Three routes with drivers; runs on fixed weekdays, visits that collect cash and refill every slot."""
    from routes.models import Driver, Route, RouteStop

    drivers = Driver.objects.bulk_create(
        [Driver(code=f"DRV-{i + 1:02d}", name=name) for i, name in enumerate(data.DRIVER_NAMES)]
    )
    # Routes by region: Stockholm and Uppsala, West, South and East.
    groups = (("Stockholm", "Uppsala"), ("Västra Götaland",), ("Skåne", "Östergötland"))
    names = (("R-STO", "Stockholm & Uppsala"), ("R-WEST", "Göteborg"), ("R-SOUTH", "Malmö & Linköping"))
    n = len(device_ids)
    route_of_device = np.full(n, -1)
    for r, regions in enumerate(groups):
        route_of_device[[sites[int(s)].region in regions for s in dev_site]] = r
    routes = Route.objects.bulk_create(
        [Route(code=code, name=name, driver=drivers[r]) for r, (code, name) in enumerate(names)]
    )
    stops = []
    for r, route in enumerate(routes):
        members = np.flatnonzero(route_of_device == r)
        stops += [RouteStop(route=route, device_id=int(device_ids[d]), position=p + 1) for p, d in enumerate(members)]
    RouteStop.objects.bulk_create(stops)

    run_rows: list[tuple[int, int, int, date, int | None, int | None, int]] = []
    visit_rows: list[tuple[int, int, int, int, bool]] = []
    run_id = next_id("routes_routerun")
    visit_id = next_id("routes_servicevisit")
    today_index = (today - first_day).days
    for day in range(window_days + 7):  # the past runs, and a week of planned ones
        weekday = (first_day + timedelta(days=day)).weekday()
        for r, route in enumerate(routes):
            if weekday not in ROUTE_WEEKDAYS[r]:
                continue
            members = np.flatnonzero(route_of_device == r)
            members = members[(installed_offset[members] <= day) & ((retired_offset[members] < 0) | (retired_offset[members] > day))]
            if len(members) == 0:
                continue
            driver = drivers[3] if rng.random() < 0.1 else drivers[r]
            scheduled = first_day + timedelta(days=day)
            if day >= today_index:  # planned: not started yet
                run_rows.append((run_id, route.pk, driver.pk, scheduled, None, None, len(members)))
                run_id += 1
                continue
            local_midnight = (_epoch_days(first_day) + day) * 86400 - int(offsets[day, 7])
            t = local_midnight + 7 * 3600 + int(rng.integers(0, 40 * 60))
            started = t
            for d in members:
                t += int(rng.integers(6 * 60, 22 * 60))
                completed = bool(rng.random() < 0.96)
                visit_rows.append((visit_id, run_id, int(d), t, completed))
                visit_id += 1
                t += int(rng.integers(5 * 60, 15 * 60))
            run_rows.append((run_id, route.pk, driver.pk, scheduled, started, t + 600, len(members)))
            run_id += 1
    runs = pd.DataFrame(run_rows, columns=["id", "route_id", "driver_id", "scheduled_for", "started_at", "finished_at", "stops_planned"])
    for column in ("started_at", "finished_at"):
        runs[column] = pd.to_datetime(runs[column], unit="s")
    summary.route_runs = copy_frame("routes_routerun", runs)
    sequence_sync("routes_routerun")
    if not visit_rows:
        return
    visits = pd.DataFrame(visit_rows, columns=["id", "route_run_id", "dev", "t", "completed"])
    visits = visits[visits["t"] <= cutoff_s].sort_values(["dev", "t"], kind="stable").reset_index(drop=True)

    # Cash: the cash sales of the machine since its previous completed visit (cumulative sums per machine).
    sales = sales.sort_values(["dev", "t"], kind="stable")
    stride = np.int64(1) << 36
    sale_key = sales["dev"].to_numpy() * stride + (sales["t"].to_numpy() - window_start_s + 86400 * 4000)
    cum_cash = np.concatenate([[0.0], np.cumsum(sales["cash"].to_numpy())])
    done = visits[visits["completed"]].copy()
    done_key = done["dev"].to_numpy() * stride + (done["t"].to_numpy() - window_start_s + 86400 * 4000)
    at = cum_cash[np.searchsorted(sale_key, done_key, side="right")]
    previous = done.groupby("dev")["t"].shift(1)
    device_start = cum_cash[np.searchsorted(sale_key, done["dev"].to_numpy() * stride, side="left")]
    at_previous = pd.Series(at, index=done.index).groupby(done["dev"]).shift(1).to_numpy()
    done["cash"] = np.round(at - np.where(np.isnan(at_previous), device_start, at_previous), 2)
    visits["cash_collected"] = 0.0
    visits.loc[done.index, "cash_collected"] = done["cash"]
    notes = np.array(["", "Machine blocked by a delivery", "Site closed", "No access card"], dtype=object)
    visits["notes"] = np.where(visits["completed"], "", notes[rng.integers(1, 4, len(visits))])
    visit_frame = pd.DataFrame(
        {
            "id": visits["id"],
            "route_run_id": visits["route_run_id"],
            "device_id": device_ids[visits["dev"].to_numpy()],
            "visited_at": pd.to_datetime(visits["t"], unit="s"),
            "completed": visits["completed"],
            "cash_collected": visits["cash_collected"],
            "notes": visits["notes"],
        }
    )
    summary.service_visits = copy_frame("routes_servicevisit", visit_frame)
    sequence_sync("routes_servicevisit")

    # Fills: every slot in force at the visit is topped up; units added = units sold since the last visit.
    swapped = slot_swap >= 0
    rows = pd.DataFrame(
        {
            "row_id": np.concatenate([row_a_id, row_b_id[swapped]]),
            "slot": np.concatenate([np.arange(len(slot_dev)), np.flatnonzero(swapped)]),
            "second": np.concatenate([np.zeros(len(slot_dev), bool), np.ones(swapped.sum(), bool)]),
            "dev": np.concatenate([slot_dev, slot_dev[swapped]]),
            "from_day": np.concatenate([np.full(len(slot_dev), -10**6), slot_swap[swapped]]),
            "to_day": np.concatenate([np.where(swapped, slot_swap, 10**6), np.full(swapped.sum(), 10**6)]),
            "capacity": np.concatenate([slot_cap, slot_cap[swapped]]),
        }
    )
    done["day"] = (done["t"] - window_start_s) // 86400
    done["previous_t"] = previous.fillna(-(10**12)).astype(np.int64)
    pairs = done[["id", "dev", "t", "previous_t", "day"]].merge(rows, on="dev")
    pairs = pairs[(pairs["day"] >= pairs["from_day"]) & (pairs["day"] < pairs["to_day"])]
    # Units per planogram row: sales keyed by (slot, which assignment, time).
    sale_row = sales["slot"].to_numpy() * 2 + sales["after_swap"].to_numpy().astype(np.int64)
    order = np.lexsort((sales["t"].to_numpy(), sale_row))
    row_key = sale_row[order] * stride + (sales["t"].to_numpy()[order] - window_start_s + 86400 * 4000)
    cum_units = np.concatenate([[0], np.cumsum(sales["qty"].to_numpy()[order])])
    pair_row = pairs["slot"].to_numpy() * 2 + pairs["second"].to_numpy().astype(np.int64)
    base = pair_row * stride
    upto = cum_units[np.searchsorted(row_key, base + (pairs["t"].to_numpy() - window_start_s + 86400 * 4000), side="right")]
    since = np.maximum(pairs["previous_t"].to_numpy() - window_start_s + 86400 * 4000, 0)
    before = cum_units[np.searchsorted(row_key, base + since, side="right")]
    fills = pd.DataFrame(
        {
            "visit_id": pairs["id"].to_numpy(),
            "slot_id": pairs["row_id"].to_numpy(),
            "units_added": np.minimum(upto - before, pairs["capacity"].to_numpy()),
            "level_after": pairs["capacity"].to_numpy(),
        }
    )
    with bulk_load("routes_slotfill"):
        summary.slot_fills = copy_frame("routes_slotfill", fills)
    sequence_sync("routes_slotfill")
