"""The venue demo: venues with courts, lanes and rooms, bookings with real outcomes, a booking funnel and NPS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db import connection

from bookings.models import NpsResponse, OpeningHours, Resource
from demo import data
from demo.copy import bulk_load, copy_frame, copy_staged, next_id, sequence_sync
from fleet.models import Location

EPOCH = date(1970, 1, 1)
DAYS_AHEAD = 14  # bookings are taken up to two weeks ahead
# Funnel: share of sessions that go on to the next step (visit → wizard_start → submit → paid).
STEP_RATES = (0.45, 0.55, 0.8)
ONLINE_SHARE = 0.75
BOOKING_STATUSES = ("confirmed", "paid", "completed", "cancelled", "no_show")
FUNNEL_STEPS = ("visit", "wizard_start", "submit", "paid")
BOOKINGS_SELECT = """
    (id, external_id, resource_id, customer_id, starts_at, ends_at, status, amount, booked_at, ingested_at)
    SELECT id, 'demo-b' || n, res, NULLIF(cust, 0), to_timestamp(starts), to_timestamp(ends), (%s::text[])[status + 1],
           cents / 100.0, to_timestamp(booked), to_timestamp(ing)
    FROM {stage}
"""
FUNNEL_SELECT = """
    (id, external_id, session_id, step, occurred_at, customer_id, booking_id, ingested_at)
    SELECT id, 'demo-e' || n, 'ph-s' || session, (%s::text[])[step + 1], to_timestamp(t), NULLIF(cust, 0),
           NULLIF(booking, 0), to_timestamp(ing)
    FROM {stage}
"""  # bookings made through the public booking wizard (the rest by phone or at the desk)


@dataclass
class VenueSpec:
    days: int = 400
    resources: int = 40
    customers: int = 9000


@dataclass
class VenueSummary:
    locations: int = 0
    resources: int = 0
    customers: int = 0
    bookings: int = 0
    funnel_events: int = 0
    nps_responses: int = 0
    bookings_range: tuple[datetime, datetime] | None = None
    funnel_range: tuple[datetime, datetime] | None = None


def _offsets(tz: ZoneInfo, first_day: date, days: int) -> np.ndarray:
    out = np.empty((days, 24), dtype=np.int64)
    for d in range(days):
        day = first_day + timedelta(days=d)
        for hour in range(24):
            offset = datetime.combine(day, time(hour, 30), tzinfo=tz).utcoffset()
            out[d, hour] = int(offset.total_seconds()) if offset is not None else 0
    return out


def venue_seed(
    *, spec: VenueSpec, rng: np.random.Generator, today: date, tz: ZoneInfo, cutoff: datetime, log: object = None
) -> VenueSummary:
    """Create venues, resources and their history in the current (empty) chain schema."""
    summary = VenueSummary()
    say = getattr(log, "write", None) or (lambda _m: None)
    first_day = today - timedelta(days=spec.days - 1)
    total_days = spec.days + DAYS_AHEAD
    offsets = _offsets(tz, first_day, total_days)
    cutoff_s = int(cutoff.timestamp())
    today_index = spec.days - 1
    today_start_s = ((first_day - EPOCH).days + today_index) * 86400 - int(offsets[today_index, 0])

    locations = Location.objects.bulk_create(
        [
            Location(
                code=v.code, name=v.name, city=v.city, region=v.region, country="GB", latitude=v.latitude,
                longitude=v.longitude, address=v.address, venue_type="leisure venue",
            )
            for v in data.PLAYHUB_VENUES
        ]
    )
    summary.locations = len(locations)
    resources: list[Resource] = []
    kinds: list[data.ResourceType] = []
    resource_venue: list[int] = []
    for v, venue in enumerate(data.PLAYHUB_VENUES):
        for type_name, count in venue.resources:
            kind = data.RESOURCE_TYPES[type_name]
            for k in range(count):
                if len(resources) >= spec.resources:
                    break
                abbreviation = type_name.split("_")[0][:3].upper()
                resources.append(
                    Resource(
                        code=f"{venue.code}-{abbreviation}{k + 1}", name=f"{kind.label} {k + 1}", location=locations[v],
                        resource_type=type_name, capacity=kind.capacity,
                    )
                )
                kinds.append(kind)
                resource_venue.append(v)
    resources = Resource.objects.bulk_create(resources)
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(resource=r, weekday=w, opens=time(kind.opens), closes=time(kind.closes))
            for r, kind in zip(resources, kinds, strict=True)
            for w in range(1, 8)
        ]
    )
    summary.resources = len(resources)
    resource_ids = np.array([r.pk for r in resources], dtype=np.int64)
    location_ids = np.array([loc.pk for loc in locations], dtype=np.int64)

    # --- every bookable slot of every resource on every day, and whether someone booked it ---------------
    res_idx, day_idx, minute_idx = [], [], []
    for r, kind in enumerate(kinds):
        starts = np.arange(kind.opens * 60, kind.closes * 60 - kind.slot_minutes + 1, kind.slot_minutes)
        res_idx.append(np.repeat(r, len(starts) * total_days))
        day_idx.append(np.repeat(np.arange(total_days), len(starts)))
        minute_idx.append(np.tile(starts, total_days))
    res = np.concatenate(res_idx)
    day = np.concatenate(day_idx)
    minute = np.concatenate(minute_idx)
    hour = minute // 60
    profile = np.array(["work" if k.name == "meeting_room" else "leisure" for k in kinds])
    hours_table = {name: np.array(values) for name, values in data.BOOKING_HOURS.items()}
    weekdays_table = {name: np.array(values) for name, values in data.BOOKING_WEEKDAYS.items()}
    day_dates = [first_day + timedelta(days=int(d)) for d in range(total_days)]
    iso_weekday = np.array([d.isoweekday() for d in day_dates]) - 1
    doy = np.array([d.timetuple().tm_yday for d in day_dates])
    is_work = profile[res] == "work"
    hour_factor = np.where(is_work, hours_table["work"][hour], hours_table["leisure"][hour])
    weekday_factor = np.where(is_work, weekdays_table["work"][iso_weekday[day]], weekdays_table["leisure"][iso_weekday[day]])
    popularity = rng.uniform(0.75, 1.15, len(kinds))
    demand = np.array([k.demand for k in kinds])
    # Winter is indoor season; the chain grows by a quarter over the window; upcoming days fill up as they approach.
    season = 1 + 0.12 * np.cos(2 * np.pi * (doy - 20) / 365.25)
    growth = 0.8 + 0.25 * np.minimum(day, spec.days) / max(1, spec.days)
    fill_up = np.where(day > today_index, np.clip(1 - (day - today_index) / (DAYS_AHEAD + 2), 0.2, 1), 1.0)
    probability = np.clip(demand[res] * popularity[res] * hour_factor * weekday_factor * season[day] * growth * fill_up, 0, 0.95)
    booked = rng.random(len(res)) < probability
    res, day, minute, hour = res[booked], day[booked], minute[booked], hour[booked]
    m = len(res)
    slot_minutes = np.array([k.slot_minutes for k in kinds])[res]
    starts_s = ((first_day - EPOCH).days + day) * 86400 + minute * 60 - offsets[day, hour]
    ends_s = starts_s + slot_minutes * 60
    order = np.argsort(starts_s, kind="stable")
    res, day, hour, starts_s, ends_s, slot_minutes = res[order], day[order], hour[order], starts_s[order], ends_s[order], slot_minutes[order]

    # Outcomes: past bookings completed, cancelled or no-show (more no-shows early in the day); upcoming paid or confirmed.
    past = starts_s < today_start_s
    u = rng.random(m)
    no_show_rate = 0.045 + np.where(hour < 10, 0.04, 0.0) + np.where(iso_weekday[day] == 0, 0.015, 0.0)
    status = np.where(
        past,
        np.where(u < 0.09, "cancelled", np.where(u < 0.09 + no_show_rate, "no_show", "completed")),
        np.where(u < 0.08, "cancelled", np.where(u < 0.8, "paid", "confirmed")),
    ).astype(object)
    peak = (iso_weekday[day] >= 5) | (hour >= 17)
    price = np.array([k.price for k in kinds])[res] * np.where(peak, 1.25, 1.0)
    amount = np.where(status == "cancelled", 0.0, np.round(price, 2))
    lead = (rng.exponential(2.5 * 86400, m) + 1800).astype(np.int64)
    booked_at = starts_s - lead
    booked_at = np.where(past, booked_at, np.minimum(booked_at, today_start_s - rng.integers(60, 4 * 3600, m)))
    frac = np.clip(day / max(1, spec.days - 1), 0, 1)
    has_customer = rng.random(m) < 0.85
    active_pool = np.maximum(1, (spec.customers * (0.25 + 0.75 * frac)).astype(np.int64))
    customer_index = np.minimum(active_pool - 1, (active_pool * rng.random(m) ** 2.2).astype(np.int64))
    first_customer_id = next_id("fleet_customer")
    copy_frame(
        "fleet_customer",
        pd.DataFrame(
            {
                "id": first_customer_id + np.arange(spec.customers),
                "external_ref": [f"PH-C{k + 1:07d}" for k in range(spec.customers)],
            }
        ),
    )
    booking_id = next_id("bookings_booking") + np.arange(m)
    customer_id = np.where(has_customer, first_customer_id + customer_index, 0)
    status_code = np.select([status == name for name in BOOKING_STATUSES], np.arange(len(BOOKING_STATUSES)))
    with bulk_load("bookings_booking"):
        summary.bookings = copy_staged(
            "bookings_booking",
            {
                "id": booking_id,
                "n": np.arange(1, m + 1),
                "res": resource_ids[res],
                "cust": customer_id,
                "starts": starts_s,
                "ends": ends_s,
                "status": status_code,
                "cents": np.round(amount * 100).astype(np.int64),
                "booked": booked_at,
                "ing": np.minimum(booked_at + 5, cutoff_s),
            },
            BOOKINGS_SELECT,
            [list(BOOKING_STATUSES)],
        )
    sequence_sync("bookings_booking")
    if m:
        summary.bookings_range = (datetime.fromtimestamp(int(starts_s.min()), UTC), datetime.fromtimestamp(int(ends_s.max()), UTC))
    say(f"  {len(locations)} venues, {len(resources)} resources, {m:,} bookings")

    # --- the booking funnel: converted sessions end in a booking, many more drop off on the way -------------
    online = rng.random(m) < ONLINE_SHARE
    conv_at = booked_at[online]
    submit_at = conv_at - rng.integers(20, 180, len(conv_at))
    wizard_at = submit_at - rng.integers(60, 600, len(conv_at))
    visit_at = wizard_at - rng.integers(10, 300, len(conv_at))
    converted = len(conv_at)
    reached_submit = round(converted / STEP_RATES[2])
    reached_wizard = round(reached_submit / STEP_RATES[1])
    reached_visit = round(reached_wizard / STEP_RATES[0])
    # Dropped sessions happen at the times people browse: resample the converted sessions' visit times.
    dropped = reached_visit - converted
    if converted:
        base = visit_at[rng.integers(0, converted, dropped)] + rng.integers(-3 * 86400, 3 * 86400, dropped)
    else:
        base = np.zeros(dropped, dtype=np.int64)
    last_step = np.concatenate(
        [np.full(reached_visit - reached_wizard, 1), np.full(reached_wizard - reached_submit, 2), np.full(reached_submit - converted, 3)]
    )
    rng.shuffle(last_step)
    drop_visit = base
    drop_wizard = drop_visit + rng.integers(10, 300, dropped)
    drop_submit = drop_wizard + rng.integers(60, 900, dropped)
    session_visit = np.concatenate([visit_at, drop_visit])
    n_sessions = len(session_visit)
    session_steps = np.concatenate([np.full(converted, 4), last_step])
    times = np.stack([session_visit, np.concatenate([wizard_at, drop_wizard]), np.concatenate([submit_at, drop_submit]), np.concatenate([conv_at, np.zeros(dropped, np.int64)])], axis=1)
    session_of = np.repeat(np.arange(n_sessions), session_steps)
    step_of = np.concatenate([np.arange(k) for k in session_steps]) if n_sessions else np.zeros(0, np.int64)
    occurred = times[session_of, step_of]
    # One in ten sessions reloads the landing page: a second visit event the funnel must count once.
    reload = np.flatnonzero(rng.random(n_sessions) < 0.1)
    session_of = np.concatenate([session_of, reload])
    step_of = np.concatenate([step_of, np.zeros(len(reload), np.int64)])
    occurred = np.concatenate([occurred, session_visit[reload] + rng.integers(5, 120, len(reload))])
    online_booking = booking_id[online]
    online_customer = customer_id[online]
    is_converted = session_of < converted
    # The submit and paid events of a converted session carry its booking and customer.
    linked = is_converted & (step_of >= 2)
    converted_index = np.minimum(session_of, max(converted - 1, 0))
    event_booking = np.where(linked, online_booking[converted_index], 0) if converted else np.zeros(len(session_of), np.int64)
    event_customer = np.where(linked, online_customer[converted_index], 0) if converted else np.zeros(len(session_of), np.int64)
    # Whole sessions only: one that began before the window would start mid-funnel.
    keep = (occurred <= cutoff_s) & (session_visit[session_of] >= (first_day - EPOCH).days * 86400 - int(offsets[0, 0]))
    order = np.argsort(occurred, kind="stable")
    order = order[keep[order]]
    k = len(order)
    with bulk_load("bookings_funnelevent"):
        summary.funnel_events = copy_staged(
            "bookings_funnelevent",
            {
                "id": next_id("bookings_funnelevent") + np.arange(k),
                "n": np.arange(1, k + 1),
                "session": session_of[order],
                "step": step_of[order],
                "t": occurred[order],
                "cust": event_customer[order],
                "booking": event_booking[order],
                "ing": np.minimum(occurred[order] + 2, cutoff_s),
            },
            FUNNEL_SELECT,
            [list(FUNNEL_STEPS)],
        )
    sequence_sync("bookings_funnelevent")
    if k:
        summary.funnel_range = (datetime.fromtimestamp(int(occurred[order[0]]), UTC), datetime.fromtimestamp(int(occurred[order[-1]]) + 1, UTC))

    # --- customers: first seen at their first booking; pool members who never booked are not kept -----------
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE fleet_customer c SET first_seen = b.first FROM "
            "(SELECT customer_id, MIN(booked_at) AS first FROM bookings_booking WHERE customer_id IS NOT NULL GROUP BY customer_id) b "
            "WHERE c.id = b.customer_id"
        )
        cursor.execute("DELETE FROM fleet_customer WHERE first_seen IS NULL AND id >= %s", [first_customer_id])
        cursor.execute("SELECT COUNT(*) FROM fleet_customer")
        summary.customers = int(cursor.fetchone()[0])

    # --- NPS: a few guests answer the day after a completed visit; Leeds trails the others -------------------
    completed = np.flatnonzero(status == "completed")
    answering = completed[rng.random(len(completed)) < 0.05]
    responded = ends_s[answering] + rng.integers(3600, 48 * 3600, len(answering))
    venue_of = np.array(resource_venue)[res[answering]]
    promoter_bias = np.where(venue_of == len(data.PLAYHUB_VENUES) - 1, -1.2, 0.0)
    scores = np.clip(np.round(rng.normal(8.3 + promoter_bias, 1.7)), 0, 10).astype(int)
    # Drawn before the cut at "now", so the answers given so far never depend on the time of seeding.
    answered = responded <= cutoff_s
    answering, responded, venue_of, scores = answering[answered], responded[answered], venue_of[answered], scores[answered]
    nps = [
        NpsResponse(
            customer_id=int(customer_id[i]) or None,
            location_id=int(location_ids[v]),
            score=int(s),
            responded_at=datetime.fromtimestamp(int(t), UTC),
        )
        for i, v, s, t in zip(answering, venue_of, scores, responded, strict=True)
    ]
    NpsResponse.objects.bulk_create(nps, batch_size=2000)
    summary.nps_responses = len(nps)
    say(f"  {summary.funnel_events:,} funnel events, {summary.nps_responses} NPS responses, {summary.customers} customers")
    return summary
