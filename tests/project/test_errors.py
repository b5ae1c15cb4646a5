"""cvd.errors.server_error: an unreachable PostgreSQL or Redis is a 503 with a message (JSON under /api/), anything
else the 500 page; neither shows the error."""

from __future__ import annotations

import json

import pytest
import redis
from django.db.utils import OperationalError
from django.test import RequestFactory

from cvd.errors import server_error


def _answer(path: str, error: Exception) -> tuple[int, str, str, str | None]:
    request = RequestFactory().get(path)
    try:
        raise error
    except Exception:  # Django calls handler500 inside the except block of the failed request
        response = server_error(request)
    return response.status_code, response["Content-Type"], response.content.decode(), response.get("Retry-After")


@pytest.mark.parametrize("error", [OperationalError("connection refused: secret-host"),
                                   redis.ConnectionError("Error 2 connecting to unix socket: secret-path")])
def test_an_unreachable_service_is_a_503_with_a_message(error: Exception) -> None:
    status, content_type, body, retry = _answer("/api/analytics/dashboard/", error)
    assert (status, content_type, retry) == (503, "application/json", "5")
    assert "not answering" in json.loads(body)["detail"] and "secret" not in body
    status, content_type, body, retry = _answer("/dashboard/", error)
    assert status == 503 and content_type.startswith("text/html") and "Temporarily unavailable" in body
    assert "secret" not in body and retry == "5"


def test_an_error_raised_from_a_database_error_counts_as_it() -> None:
    try:
        raise OperationalError("server closed the connection")
    except OperationalError as cause:
        wrapped = RuntimeError("while rendering")
        wrapped.__cause__ = cause
    assert _answer("/api/me/", wrapped)[0] == 503


def test_any_other_error_is_the_500_page() -> None:
    status, _, body, retry = _answer("/api/me/", ValueError("secret detail"))
    assert status == 500 and "Something went wrong" in body and "secret" not in body and retry is None
