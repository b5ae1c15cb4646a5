"""The shared analytics parameters: dates validated into a Period, repeatable filters into Filters."""

from __future__ import annotations

from datetime import date

from django.http import QueryDict

from analytics.filters import Filters
from analytics.params import AnalyticsParamsSerializer, params_from_validated
from analytics.periods import Period

TODAY = date(2026, 11, 22)


def _parse(query: str) -> tuple[bool, object]:
    serializer = AnalyticsParamsSerializer(data=QueryDict(query), context={"today": TODAY})
    if serializer.is_valid():
        return True, params_from_validated(serializer.validated_data)
    return False, serializer.errors


def test_defaults_are_the_last_30_days_ending_today() -> None:
    ok, params = _parse("")
    assert ok and params.period == Period(date(2026, 10, 24), TODAY) and params.filters == Filters()  # type: ignore[attr-defined]
    ok, params = _parse("start=2026-03-01")
    assert ok and params.period == Period(date(2026, 3, 1), date(2026, 3, 30))  # type: ignore[attr-defined]


def test_filters_repeat_or_take_comma_lists() -> None:
    ok, params = _parse("location=1&location=2,3&location=2&region=North&device_type=7&category=9&limit=5")
    assert ok
    assert params.filters == Filters(locations=(1, 2, 3), device_types=(7,), categories=(9,), regions=("North",))  # type: ignore[attr-defined]
    assert params.limit == 5  # type: ignore[attr-defined]


def test_bad_parameters_are_field_errors() -> None:
    for query, field in (
        ("start=2026-02-30", "start"),
        ("start=2026-03-10&end=2026-03-01", "end"),
        ("start=2013-01-01&end=2026-01-01", "end"),
        ("device=abc", "device"),
        ("limit=0", "limit"),
    ):
        ok, errors = _parse(query)
        assert not ok and field in errors, (query, errors)  # type: ignore[operator]
