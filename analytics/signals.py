"""Signals analytics sends for whoever builds on fresh buckets (reporting's alerts), without analytics importing them."""

from django.dispatch import Signal

# Sent in the chain's schema after an hourly rollup job committed (kwargs: schema).
rollup_hourly_finished = Signal()
