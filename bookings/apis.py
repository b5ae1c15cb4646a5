"""Ingestion API of the bookings app: booking and funnel-event batches, capability fleet.ingest."""

from __future__ import annotations

from bookings.services import (
    BOOKINGS_KIND,
    FUNNEL_KIND,
    booking_import,
    booking_push,
    funnel_event_import,
    funnel_event_push,
)
from ingest.apis import BatchImportApi


class BookingPushApi(BatchImportApi):
    """POST bookings (interfaces.md venue format) as JSON, up to 10,000 rows, or a file."""

    key = "booking_id"
    job_kind = BOOKINGS_KIND
    push = staticmethod(booking_push)
    file_import = staticmethod(booking_import)


class FunnelEventPushApi(BatchImportApi):
    """POST funnel events as JSON, up to 10,000 rows (one event is a batch of one), or a file."""

    key = "event_id"
    job_kind = FUNNEL_KIND
    push = staticmethod(funnel_event_push)
    file_import = staticmethod(funnel_event_import)
