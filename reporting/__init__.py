"""Exports, export jobs, scheduled reports and alerts (built on the analytics query layer)."""
