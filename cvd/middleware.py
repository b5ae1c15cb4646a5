"""Project middleware: no caching of tenant answers, a sign-in rate per address, a time limit on analytics reads."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from rest_framework.throttling import SimpleRateThrottle

from chains.throttles import client_address, throttle_rates, window_count

logger = logging.getLogger(__name__)

Handler = Callable[[HttpRequest], HttpResponse]


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every dynamic answer that did not choose its own caching.

    API answers and pages carry one chain's data for one user: no shared cache, proxy or browser history
    may keep them. Static files are served by WhiteNoise before this runs and keep their long max-age.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/") or not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class AdminStyleCSPMiddleware:
    """The Django admin (and django-import-export's pages) and DRF's browsable API use inline <style> blocks and
    style="" attributes; on those pages the CSP allows inline *styles* (never scripts), so they lay out as designed."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        browsable = request.path.startswith("/api/") and response.get("Content-Type", "").startswith("text/html")
        if (request.path.startswith("/admin/") or browsable) and not hasattr(response, "_csp_update"):
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # type: ignore[attr-defined]
        return response


def signin_paths() -> tuple[str, ...]:
    return tuple(getattr(settings, "CVD_SIGNIN_PATHS", ("/admin/login/", "/login/")))


class SignInThrottleMiddleware:
    """At most `CVD_THROTTLE_RATES["signin"]` sign-in POSTs per address, on every sign-in form.

    This caps the pace of guessing; the lock-out after repeated failures (django-axes, at the
    authentication backend) stops a guess that is right after too many wrong ones.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rate = throttle_rates().get("signin")
        if rate and request.method == "POST" and request.path in signin_paths():
            allowed, duration = SimpleRateThrottle.parse_rate(None, rate)  # type: ignore[arg-type]
            assert allowed is not None and duration is not None
            count, _ = window_count(f"signin-throttle:{client_address(request)}", duration)
            if count > allowed:
                return too_many(request, duration)
        return self.get_response(request)


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = TemplateResponse(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response.render()


def _is_statement_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and cause is not None and type(cause).__name__ == "QueryCanceled"


class StatementTimeoutMiddleware:
    """Analytics reads run under a PostgreSQL statement_timeout; one that runs out answers 503, not a held worker.

    The limit is `CVD_ANALYTICS_STATEMENT_TIMEOUT_MS` (0: none) for paths under `CVD_STATEMENT_TIMEOUT_PATHS`
    except those under `CVD_STATEMENT_TIMEOUT_EXEMPT` (exports, which have their own job path).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def _applies(self, request: HttpRequest) -> bool:
        path = request.path
        return (
            int(getattr(settings, "CVD_ANALYTICS_STATEMENT_TIMEOUT_MS", 0)) > 0
            and path.startswith(tuple(getattr(settings, "CVD_STATEMENT_TIMEOUT_PATHS", ())))
            and not path.startswith(tuple(getattr(settings, "CVD_STATEMENT_TIMEOUT_EXEMPT", ())))
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._applies(request):
            return self.get_response(request)
        milliseconds = int(settings.CVD_ANALYTICS_STATEMENT_TIMEOUT_MS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{milliseconds}ms"])
        try:
            return self.get_response(request)
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")
            except Exception:  # a broken connection is discarded at the end of the request anyway
                logger.warning("could not reset statement_timeout", exc_info=True)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not (self._applies(request) and _is_statement_timeout(exception)):
            return None
        seconds = int(settings.CVD_ANALYTICS_STATEMENT_TIMEOUT_MS) / 1000
        logger.warning("analytics read over %ss: %s", seconds, request.get_full_path())
        return JsonResponse(
            {"detail": f"This analysis took longer than {seconds:g} s and was stopped. Narrow the dates or filters, "
             "or use an export, which runs in the background."},
            status=503,
            headers={"Retry-After": "30"},
        )
