"""Signals ingestion sends so that analytics can refresh what changed, without an importer importing analytics."""

from django.dispatch import Signal

# Sent after raw rows were written: kind ("sales" | "bookings" | "funnel"), starts_at, ends_at (exclusive).
raw_data_changed = Signal()
