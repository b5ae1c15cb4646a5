"""Scheduled reports: subscriptions, their recurrence in the chain's local time, the delivery ledger, the board pack."""
