"""The answer to an uncaught error: 503 with a short message when PostgreSQL or Redis is out of reach, else the 500 page.

Django calls the URLconf's `handler500` inside the `except` block of the failed request, so the error is
`sys.exc_info()` here. An unreachable database or Redis (a restart, a crash, a hung server past its timeout) is
a temporary condition: the client gets `503 Service Unavailable` with `Retry-After`, as JSON under /api/ and as a
plain page elsewhere, never a stack trace. The next request reconnects by itself (CONN_HEALTH_CHECKS for the
database, redis-py's pool for Redis), so service resumes as soon as the server is back.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

RETRY_AFTER_S = 5
MESSAGE = "A service CVD depends on (its database or its cache) is not answering right now. Try again in a few seconds."


def _unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` (or an error it was raised from) means PostgreSQL or Redis could not be reached or answered."""
    from django.db.utils import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError | BrokerError | RedisConnectionError | RedisTimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    if not _unavailable(sys.exc_info()[1]):
        return HttpResponse(loader.get_template("500.html").render(), status=500)
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MESSAGE}, status=503, headers=headers)
    return HttpResponse(loader.get_template("503.html").render({"message": MESSAGE}), status=503, headers=headers)
