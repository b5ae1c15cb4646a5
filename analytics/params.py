"""The query parameters every analytics endpoint shares: a date range and the repeatable filters.

Usage in a view::

    params = analytics_params(request)          # raises ValidationError -> 400 with field errors
    sales_by(period=params.period, filters=params.filters, by=["day"])

`start`/`end` are inclusive local dates in the chain's time zone (default: the last 30 days ending
today, local). Filters repeat (`?location=1&location=2`) or take a comma list (`?location=1,2`):
ids (integers) for location, device, device_type, category and resource; names for region and
resource_type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from analytics.filters import Filters
from analytics.periods import Period

DEFAULT_DAYS = 30
# Long enough for year-over-year views, short enough that one request cannot scan a decade.
MAX_DAYS = 2 * 366 + 1
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000

_ID_FILTERS = ("location", "device", "device_type", "category", "resource")
_NAME_FILTERS = ("region", "resource_type")


class _CommaListField(serializers.ListField):
    """A repeatable query parameter that also accepts comma-separated values."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, (list, tuple)):
            # A JSON body may carry a bare value ({"location": 5}): one value, not a server error.
            data = [data]
        items: list[str] = []
        for value in data:
            items.extend(part.strip() for part in str(value).split(",") if part.strip())
        return super().to_internal_value(items)


class AnalyticsParamsSerializer(serializers.Serializer):
    """Validates start/end/filters/limit; pass `context={"today": <local date>}` for the default range."""

    start = serializers.DateField(required=False, help_text="first local date, inclusive (YYYY-MM-DD)")
    end = serializers.DateField(required=False, help_text="last local date, inclusive (YYYY-MM-DD)")
    location = _CommaListField(child=serializers.IntegerField(min_value=1), required=False)
    device = _CommaListField(child=serializers.IntegerField(min_value=1), required=False)
    device_type = _CommaListField(child=serializers.IntegerField(min_value=1), required=False)
    category = _CommaListField(child=serializers.IntegerField(min_value=1), required=False)
    resource = _CommaListField(child=serializers.IntegerField(min_value=1), required=False)
    region = _CommaListField(child=serializers.CharField(max_length=100), required=False)
    resource_type = _CommaListField(child=serializers.CharField(max_length=50), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today: date = self.context.get("today") or date.today()
        start: date | None = attrs.get("start")
        end: date | None = attrs.get("end")
        if end is None:
            end = today if start is None else min(max(today, start), start + timedelta(days=DEFAULT_DAYS - 1))
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise serializers.ValidationError({"end": ["end must not be before start."]})
        if (end - start).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"end": [f"the range may span at most {MAX_DAYS} days."]})
        attrs["start"], attrs["end"] = start, end
        return attrs


@dataclass(frozen=True)
class AnalyticsParams:
    period: Period
    filters: Filters
    limit: int | None

    def limit_or(self, default: int) -> int:
        return self.limit if self.limit is not None else default


def analytics_params(request: Request, *, today: date | None = None, data: Any = None) -> AnalyticsParams:
    """Validate the request's query parameters (or `data`, e.g. a POST body) into a Period and Filters.

    Raises rest_framework's ValidationError (a 400 with field errors) on bad input. `today` defaults
    to the current chain's local date.
    """
    if today is None:
        from analytics.query import local_today

        today = local_today()
    serializer = AnalyticsParamsSerializer(data=request.query_params if data is None else data, context={"today": today})
    serializer.is_valid(raise_exception=True)
    return params_from_validated(serializer.validated_data)


def params_from_validated(values: dict[str, Any]) -> AnalyticsParams:
    ids = {name: tuple(dict.fromkeys(values.get(name) or ())) for name in (*_ID_FILTERS, *_NAME_FILTERS)}
    filters = Filters(
        locations=ids["location"],
        devices=ids["device"],
        device_types=ids["device_type"],
        categories=ids["category"],
        regions=ids["region"],
        resources=ids["resource"],
        resource_types=ids["resource_type"],
    )
    return AnalyticsParams(period=Period(values["start"], values["end"]), filters=filters, limit=values.get("limit"))
