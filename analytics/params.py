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

from collections.abc import Mapping
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
# Dates outside these bounds are typos, and they would overflow the date arithmetic (the default range,
# the previous period, pandas timestamps that stop in 2262): a field error instead.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# More values than this in one filter (or any list parameter) is a 400: the lists become SQL arrays, and
# 300,000 ids held a worker for seconds. settings.CVD_MAX_FILTER_VALUES overrides.
DEFAULT_MAX_FILTER_VALUES = 1000


def max_filter_values() -> int:
    from django.conf import settings

    return int(getattr(settings, "CVD_MAX_FILTER_VALUES", DEFAULT_MAX_FILTER_VALUES))


def _too_many(count: int) -> serializers.ValidationError:
    return serializers.ValidationError(f"at most {max_filter_values()} values; this has {count}.")

_ID_FILTERS = ("location", "device", "device_type", "category", "resource")
_NAME_FILTERS = ("region", "resource_type")


class _CommaListField(serializers.ListField):
    """A repeatable query parameter that also accepts comma-separated values."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, (list, tuple)):
            # A JSON body may carry a bare value ({"location": 5}): one value, not a server error.
            data = [data]
        limit = max_filter_values()
        if len(data) > limit:
            raise _too_many(len(data))
        items: list[str] = []
        for value in data:
            if isinstance(value, (dict, list, tuple)):
                raise serializers.ValidationError("each value must be a number or a name, not an object or a list.")
            items.extend(part.strip() for part in str(value).split(",") if part.strip())
            if len(items) > limit:
                raise _too_many(len(items))
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

    def to_internal_value(self, data: Any) -> Any:
        # Every list parameter of every subclass (route, sections, …) is capped before its items are parsed.
        if not isinstance(data, Mapping):  # a QueryDict is one; a JSON body may be anything
            raise serializers.ValidationError({"body": ["Send a JSON object of parameters."]})
        limit = max_filter_values()
        errors: dict[str, list[str]] = {}
        for name, field in self.fields.items():
            if isinstance(field, serializers.ListField) and not isinstance(field, _CommaListField):
                value = field.get_value(data)
                if isinstance(value, (list, tuple)) and len(value) > limit:
                    errors[name] = [str(_too_many(len(value)).detail[0])]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate_start(self, value: date) -> date:
        return within_date_bounds(value)

    def validate_end(self, value: date) -> date:
        return within_date_bounds(value)

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


def within_date_bounds(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(f"dates run from {EARLIEST_DATE} to {LATEST_DATE}.")
    return value


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
