"""The query parameters every analytics endpoint shares: a date range and the repeatable filters.

`start`/`end` are inclusive local dates in the chain's time zone (default: the last 30 days ending
today, local). Filters (analytics.filters.FILTERS) repeat (`?location=1&location=2`) or take a comma list
(`?location=STO-CEN,2`): each value is the code people use (location code, device asset, product SKU,
resource code, route code, device type or category name) or, when it is all digits, the database id; region
and resource_type take names. A code the chain does not have is a 400 naming the filter; an id it does not
have simply matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from rest_framework import serializers

from analytics.filters import FILTERS, Filters, FilterSpec
from analytics.periods import Period
from chains.tenancy import current_schema

DEFAULT_DAYS = 30
# Ten years, leap days included: a chain's whole history. Totals and rankings of a long range come from month
# buckets (analytics.query.rollup.decompose), and a day series longer than SERIES_DAILY_MAX_DAYS is answered by
# month (analytics.reports), so a decade costs about what a year does.
MAX_DAYS = 10 * 366 + 1
DEFAULT_LIMIT = 10  # the dashboard's top lists
MAX_LIMIT = 1000
# Paging of a report's main list (analytics.reports.Report.page): `limit` rows from `offset`, with the total.
PAGE_LIMIT = 100
MAX_OFFSET = 10_000_000
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


def _too_many_text(count: int) -> str:
    return f"at most {max_filter_values()} values; this has {count}."


def _too_many(count: int) -> serializers.ValidationError:
    return serializers.ValidationError(_too_many_text(count))



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


class FilterField(_CommaListField):
    """One filter of analytics.filters.FILTERS: codes or ids (or names), resolved to ids in validate()."""

    def __init__(self, spec: FilterSpec, **kwargs: Any) -> None:
        self.spec = spec
        kwargs.setdefault("help_text", spec.help)
        super().__init__(child=serializers.CharField(max_length=100), required=False, **kwargs)


class _RangeParams(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="first local date, inclusive (YYYY-MM-DD)")
    end = serializers.DateField(required=False, help_text="last local date, inclusive (YYYY-MM-DD)")


# One field per declared filter (location, device, …), in FILTERS order.
_FilterParams = serializers.SerializerMetaclass(
    "_FilterParams", (_RangeParams,), {"__module__": __name__, **{spec.param: FilterField(spec) for spec in FILTERS}}
)


class AnalyticsParamsSerializer(_FilterParams):  # type: ignore[misc,valid-type]
    """Validates start/end/filters/limit; pass `context={"today": <local date>}` for the default range."""

    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False)

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
                    errors[name] = [_too_many_text(len(value))]
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
        errors: dict[str, list[str]] = {}
        for name, field in self.fields.items():
            if isinstance(field, FilterField) and attrs.get(name):
                try:
                    attrs[name] = resolve_filter(field.spec, attrs[name])
                except serializers.ValidationError as error:
                    errors[name] = [str(message) for message in error.detail]  # type: ignore[union-attr]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def within_date_bounds(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(f"dates run from {EARLIEST_DATE} to {LATEST_DATE}.")
    return value


def resolve_filter(spec: FilterSpec, values: list[str]) -> list[Any]:
    """The ids of a filter's values: all digits is an id, anything else a code of the current chain (one query).
    Raises ValidationError naming the codes the chain does not have."""
    if spec.lookup is None:
        return list(values)
    ids = [int(value) for value in values if value.isdigit()]
    codes = [value for value in values if not value.isdigit()]
    if codes:
        model_name, code_field = spec.lookup
        found: dict[str, int] = {}
        if current_schema() != "public":  # the public schema has no chain rows: nothing resolves there
            model = apps.get_model(model_name)
            found = dict(model.objects.filter(**{f"{code_field}__in": codes}).values_list(code_field, "id"))
        missing = [code for code in codes if code not in found]
        if missing:
            noun = model_name.split(".")[1].lower()
            raise serializers.ValidationError(
                [f"no {noun} with {code_field} {code!r} in this chain (give a {code_field} or a numeric id)" for code in missing]
            )
        ids += [found[code] for code in codes]
    if any(value < 1 for value in ids):
        raise serializers.ValidationError(["ids are whole numbers ≥ 1."])
    return ids


@dataclass(frozen=True)
class AnalyticsParams:
    period: Period
    filters: Filters
    limit: int | None
    offset: int = 0

    def limit_or(self, default: int) -> int:
        return self.limit if self.limit is not None else default


def params_from_validated(values: dict[str, Any]) -> AnalyticsParams:
    """Period, Filters and limit from validated parameters. A report may give a filter's name a meaning of its
    own (inventory's single `route` picks the route of the pick list): only lists are filter values."""
    filters = Filters(**{
        spec.field: tuple(dict.fromkeys(value))
        for spec in FILTERS
        if isinstance(value := values.get(spec.param), (list, tuple))
    })
    return AnalyticsParams(
        period=Period(values["start"], values["end"]), filters=filters, limit=values.get("limit"),
        offset=values.get("offset") or 0,
    )
