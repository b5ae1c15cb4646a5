"""Whole report answers, cached until something they read changes.

A report's answer is a function of its question (the validated parameters), the chain's rows in the domain
tables, the chain's settings (time zone, currency) and the clock: the local day (defaults, "yesterday") and,
for an answer about now (a range that includes today, the stock now), the moment. The key holds the question,
the data as its signature (analytics.query.changes), the settings and the local day; so a rollup job, which
changes no answer, keeps every entry, and any write to the chain's data is a miss at once.

The moment is not in the key: an answer about now is stored with the time it was computed and is fresh for
LIVE_SECONDS (the figures a page refreshes every minute). After that, one request recomputes it while the
others are answered from the entry, at most STALE_SECONDS old; on a miss, the requests that ask while one
computes wait for its answer (up to WAIT_SECONDS) instead of all computing the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache as django_cache
from django.utils import timezone

from analytics.query import current_chain, local_today
from analytics.query.cache import ANSWERS
from analytics.query.changes import data_signature

LIVE_SECONDS = 60
STALE_SECONDS = 5 * LIVE_SECONDS  # a refresh that never finished (its worker died) stops holding the others back
SETTLED_SECONDS = 3600  # an answer about past days: kept until the data changes (or an hour passes)
WAIT_SECONDS = 5.0  # longer than a warm answer takes, shorter than a request's patience
CLAIM_SECONDS = 30  # the claim of the one request computing an answer expires by itself


def cached_answer(
    report: str, question: Any, *, live: bool, compute: Callable[[], dict[str, Any]],
    keep: Callable[[dict[str, Any]], bool] = lambda answer: True,
) -> dict[str, Any]:
    """`compute()`, or the answer it gave for the same question on the same data, settings and day (and within
    LIVE_SECONDS when `live`); an answer `keep` refuses (too big to hold) is computed each time. Each call returns
    its own copy, so a caller may change what it gets."""
    if not ANSWERS.on:
        return compute()
    chain = current_chain()
    key = ANSWERS.key(report, digest_of=(question, data_signature(), chain.time_zone, chain.currency, local_today(chain)))
    asked_at = timezone.now().timestamp()
    hit = ANSWERS.get(key)
    if hit is not None:
        computed_at, answer = hit
        age = asked_at - computed_at
        if not live or age < LIVE_SECONDS or (age < STALE_SECONDS and not _claim(key)):
            return answer  # type: ignore[no-any-return]
    elif not _claim(key):
        waited = _wait_for(key)
        if waited is not None:
            return waited[1]  # type: ignore[no-any-return]
    try:
        answer = compute()
        if keep(answer):
            ANSWERS.set(key, (asked_at, answer), seconds=STALE_SECONDS if live else SETTLED_SECONDS)
    finally:
        django_cache.delete(f"{key}:computing")
    return answer


def _claim(key: str) -> bool:
    """True for the one request that may compute `key` now."""
    return bool(django_cache.add(f"{key}:computing", 1, CLAIM_SECONDS))


def _wait_for(key: str) -> Any | None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
        found = ANSWERS.get(key)
        if found is not None:
            return found
        if django_cache.get(f"{key}:computing") is None:
            return None  # the other request failed (or finished without storing): compute here
    return None
