"""Pure metric functions over already-aggregated pandas frames (no Django, no ORM)."""
