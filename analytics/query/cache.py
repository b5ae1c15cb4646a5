"""The query layer's caches, behind one interface: a namespace, a lifetime, tenant-prefixed keys.

Three caches use it, all keyed so that a stale entry can never be served:

- ANSWERS (analytics.query.answers): whole report answers, keyed by the question, the chain's data signature
  (analytics.query.changes), its settings and the local day (an answer about now also carries when it was made);

- BUCKETS (analytics.query.rollup): the bucket part of an answer, and answers that include the live delta,
  keyed by the rollup version and the question (plus the live delta's fingerprint where it is included):
  buckets cannot change until a job moves the version.
- STABLE_PARTS (analytics.query.stable_parts): raw-row sums of the part of a range before the marks, keyed by
  the question alone; each entry records the version, marks and dirty-range signature it was read at, and the
  reader advances or discards it when those moved.

Keys go through Django's cache, whose KEY_FUNCTION (django_tenants.cache.make_key) prefixes the schema, so
chains never share an entry. `disabled()` makes every lookup miss (benchmarks of the uncached path).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache as django_cache

CACHE_SECONDS = 2 * 3600  # longer than the hourly job: an entry usually lives until the marks move past it


class QueryCache:
    def __init__(self, namespace: str, *, seconds: int = CACHE_SECONDS) -> None:
        self.namespace = namespace
        self.seconds = seconds
        self._off = 0

    def key(self, *parts: Any, digest_of: Any) -> str:
        """`namespace:part:…:digest` where the digest stands for the (long) question `digest_of`."""
        digest = hashlib.sha256(repr(digest_of).encode()).hexdigest()[:32]
        return ":".join([self.namespace, *(str(part) for part in parts), digest])

    def get(self, key: str) -> Any | None:
        return None if self._off else django_cache.get(key)

    @property
    def on(self) -> bool:
        return not self._off

    def set(self, key: str, value: Any, *, seconds: int | None = None) -> None:
        if not self._off:
            django_cache.set(key, value, self.seconds if seconds is None else seconds)

    @contextmanager
    def disabled(self) -> Iterator[None]:
        self._off += 1
        try:
            yield
        finally:
            self._off -= 1


BUCKETS = QueryCache("rollup-answer")
STABLE_PARTS = QueryCache("analytics-stable:v3")
ANSWERS = QueryCache("report-answer:v1", seconds=3600)


@contextmanager
def caches_disabled() -> Iterator[None]:
    """No query cache at all inside (a range or filter set nobody asked for since the last job)."""
    with BUCKETS.disabled(), STABLE_PARTS.disabled(), ANSWERS.disabled():
        yield
