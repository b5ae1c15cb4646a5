"""Whole report answers, cached until something they read changes.

A report's answer is a function of its question (the validated parameters), the chain's rows in the domain
tables, the chain's settings (time zone, currency) and the clock: the local day (defaults, "yesterday") and,
for an answer about now (a range that includes today, the stock now), the moment. The key holds each of
them: the data as its signature (analytics.query.changes), the moment as a LIVE_SECONDS slot (the figures a
page refreshes every minute are at most that old). So a rollup job, which changes no answer, keeps every
entry, and any write to the chain's data is a miss at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from analytics.query import current_chain, local_today
from analytics.query.cache import ANSWERS
from analytics.query.changes import data_signature

LIVE_SECONDS = 60
SETTLED_SECONDS = 3600  # an answer about past days: kept until the data changes (or an hour passes)


def cached_answer(report: str, question: Any, *, live: bool, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()`, or the answer it gave for the same question on the same data, settings and day (and minute
    slot when `live`). Each call returns its own copy, so a caller may change what it gets."""
    if not ANSWERS.on:
        return compute()
    chain = current_chain()
    slot = int(timezone.now().timestamp() // LIVE_SECONDS) if live else None
    key = ANSWERS.key(
        report, digest_of=(question, data_signature(), chain.time_zone, chain.currency, local_today(chain), slot)
    )
    hit = ANSWERS.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    answer = compute()
    ANSWERS.set(key, answer, seconds=2 * LIVE_SECONDS if live else SETTLED_SECONDS)
    return answer
