"""The base of every analytics view: the read capability, parameter validation and presentation of results."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import numpy as np
import orjson
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.params import AnalyticsParams, params_from_validated
from analytics.query import local_today
from analytics.reports import get_report
from chains.capabilities import ANALYTICS_READ
from chains.views import CapabilityAPIView

CENT = Decimal("0.01")

ERROR_RESPONSES = {
    400: OpenApiResponse(description="bad parameters: an object of field name → list of messages"),
    401: OpenApiResponse(description="no or invalid credentials"),
    403: OpenApiResponse(description="the user lacks analytics.read"),
}


# Leaves that are already JSON-ready: most of a 2,000-device answer, so they are passed through without a call.
_PLAIN = frozenset({str, int, bool, type(None)})


def present(value: Any) -> Any:
    """Render a selector's result as JSON-ready data.

    Decimal is money: a string with two decimals, rounded half-up here and nowhere else; dates and
    datetimes become ISO 8601; numpy scalars become Python numbers; NaN/inf (never expected) become null.
    """
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _PLAIN else present(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [item if type(item) in _PLAIN else present(item) for item in value]
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return present(float(value))
    if isinstance(value, Decimal):
        return present(Decimal(value))
    if isinstance(value, dict):
        return {key: present(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):  # a truncated list (analytics.selectors._common.Truncated)
        return [present(item) for item in value]
    return value


class AnalyticsApi(CapabilityAPIView):
    """An analytics read: GET needs analytics.read."""

    required_capabilities = {"GET": ANALYTICS_READ}

    def validated(
        self, request: Request, serializer_class: type[serializers.Serializer], *, from_body: bool = False
    ) -> tuple[AnalyticsParams, dict[str, Any]]:
        """Validate the query string (or the JSON body, whatever it holds) with `serializer_class`; a bad
        value is a 400 with field errors."""
        serializer = serializer_class(
            data=request.data if from_body else request.query_params, context={"today": local_today()}
        )
        serializer.is_valid(raise_exception=True)
        return params_from_validated(serializer.validated_data), dict(serializer.validated_data)


class PresentedJSONRenderer(JSONRenderer):
    """JSON of an answer `present()` made (str, int, float, bool, None, lists and dicts with text keys) by orjson,
    ten times faster than the standard library on a 100 KB answer; the same bytes DRF's renderer writes (compact,
    UTF-8, U+2028/U+2029 escaped). Anything else takes DRF's own path."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        try:
            rendered = orjson.dumps(data)
        except TypeError:  # not a presented answer (an error's detail, a number too big for orjson)
            return super().render(data, accepted_media_type, renderer_context)  # type: ignore[no-any-return]
        return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


class ReportApi(AnalyticsApi):
    """An analytics report of the registry (analytics.reports): validate its parameters, run it, present it."""

    report_name: ClassVar[str]
    renderer_classes = [PresentedJSONRenderer, BrowsableAPIRenderer]

    def answer(self, request: Request, *, from_body: bool = False) -> Response:
        report = get_report(self.report_name)
        params, values = self.validated(request, report.params, from_body=from_body)
        result = report.result(params, values, paged=True, finish=present)  # cached as JSON-ready data
        page = result.get("page")
        if page is not None:
            # The next page's address: this query with the offset moved on (a POST's body is the caller's to resend).
            page["next"] = None
            if page["next_offset"] is not None and not from_body:
                query = request.query_params.copy()
                query["offset"] = str(page["next_offset"])
                page["next"] = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(result)
