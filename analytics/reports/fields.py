"""The field declarations of typed report rows, and what is generated from them: OpenAPI serializers and columns.

A row is a TypedDict whose every key is `Annotated[<python type>, <field>]`, e.g.::

    class TopProductRow(TypedDict):
        sku: Annotated[str, Text("product SKU", label="SKU")]
        revenue: Annotated[Decimal, Money("Σ sale amount of this product in this device")]

That one declaration is the row's type (for mypy and readers), its documented shape (`serializer_for` builds
the DRF serializer drf-spectacular describes; nothing renders through it, `analytics.apis._base.present`
does) and its table columns with their kinds and labels (`columns_of`, for pages and exports). Adding a
column to a report is one edit: a key in its row.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, NotRequired, Union, get_args, get_origin, get_type_hints

from rest_framework import serializers

ColumnKind = Literal["money", "integer", "number", "rate", "percent", "date", "datetime", "text", "boolean"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind


def default_label(key: str) -> str:
    return key.replace("_", " ").capitalize()


class Field:
    """One key of a row: its description (with the formula where there is one), label and nullability.
    Subclasses add their own options (`Integer(..., min_value=1)`) as class attributes with defaults."""

    kind: ClassVar[ColumnKind | None] = None  # None: not a flat column (nested lists and objects)
    label: str | None = None
    nullable: bool = False

    def __init__(self, help: str, **options: Any) -> None:
        self.help = help
        for name, value in options.items():
            if not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__} has no option {name!r}")
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.help!r})"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        raise NotImplementedError

    def _common(self, *, required: bool) -> dict[str, Any]:
        options: dict[str, Any] = {"help_text": self.help, "required": required}
        if self.nullable:
            options["allow_null"] = True
        return options


class Money(Field):
    """Exact Decimal; presented as a string with exactly two decimals, rounded half-up."""

    kind = "money"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        options = self._common(required=required) | {"help_text": f"{self.help} (money, 2 decimals)"}
        return serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True, **options)


class Rate(Field):
    """A fraction 0–1."""

    kind = "rate"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        options = self._common(required=required) | {"help_text": f"{self.help} (fraction 0–1)"}
        return serializers.FloatField(min_value=0, max_value=1, **options)


class Percent(Field):
    """A value 0–100."""

    kind = "percent"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        options = self._common(required=required) | {"help_text": f"{self.help} (0–100)"}
        return serializers.FloatField(min_value=0, max_value=100, **options)


class Number(Field):
    kind = "number"
    min_value: float | None = None

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.FloatField(min_value=self.min_value, **self._common(required=required))


class Count(Field):
    """A whole number ≥ 0."""

    kind = "integer"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.IntegerField(min_value=0, **self._common(required=required))


class Integer(Field):
    kind = "integer"
    min_value: int | None = None
    max_value: int | None = None

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.IntegerField(
            min_value=self.min_value, max_value=self.max_value, **self._common(required=required)
        )


class Flag(Field):
    kind = "boolean"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.BooleanField(**self._common(required=required))


class Day(Field):
    """A local date, ISO 8601."""

    kind = "date"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.DateField(**self._common(required=required))


class Instant(Field):
    """An aware instant, ISO 8601 with its offset."""

    kind = "datetime"

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.DateTimeField(**self._common(required=required))


class Text(Field):
    kind = "text"
    blank: bool = False
    pattern: str | None = None

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        if self.pattern is not None:
            return serializers.RegexField(self.pattern, **self._common(required=required))
        return serializers.CharField(allow_blank=self.blank, **self._common(required=required))


class Choice(Field):
    """One of a fixed set of values."""

    kind = "text"
    choices: Sequence[Any] = ()

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.ChoiceField(choices=list(self.choices), **self._common(required=required))


class Texts(Field):
    """A list of strings."""

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        return serializers.ListField(child=serializers.CharField(), **self._common(required=required))


class Nested(Field):
    """A row inside the row (`SomeRow`, `SomeRow | None`) or a list of them (`list[SomeRow]`)."""

    def drf(self, python_type: Any, *, required: bool) -> serializers.Field:
        options = self._common(required=required)
        if get_origin(python_type) is list:
            (row,) = get_args(python_type)
            return serializer_for(row)(many=True, **options)
        return serializer_for(_without_none(python_type))(**options)


def _without_none(python_type: Any) -> Any:
    if get_origin(python_type) in (Union, types.UnionType):
        (row,) = [arg for arg in get_args(python_type) if arg is not type(None)]
        return row
    return python_type


def row_fields(row: type) -> list[tuple[str, Any, Field, bool]]:
    """(key, python type, field declaration, required) of a row TypedDict, in declaration order."""
    hints = get_type_hints(row, include_extras=True)
    out = []
    for key, hint in hints.items():
        # Read from the hint, not __required_keys__: with postponed annotations Python 3.11 counts every key required.
        required = get_origin(hint) is not NotRequired
        if not required:
            (hint,) = get_args(hint)
        if get_origin(hint) is not Annotated:
            raise TypeError(f"{row.__name__}.{key} needs Annotated[<type>, <field>]")
        python_type, *extras = get_args(hint)
        declared = [extra for extra in extras if isinstance(extra, Field)]
        if len(declared) != 1:
            raise TypeError(f"{row.__name__}.{key} needs exactly one field declaration")
        out.append((key, python_type, declared[0], required))
    return out


@cache
def serializer_for(row: type) -> type[serializers.Serializer]:
    """The DRF serializer describing `row` (OpenAPI component `<row name>`); generated once per row."""
    attrs: dict[str, Any] = {
        key: field.drf(python_type, required=required) for key, python_type, field, required in row_fields(row)
    }
    attrs["__doc__"] = row.__doc__
    attrs["__module__"] = row.__module__
    return type(f"{row.__name__}Serializer", (serializers.Serializer,), attrs)


def columns_of(row: type) -> tuple[Column, ...]:
    """The flat columns of `row` in declaration order (nested lists and objects are left to the JSON answer)."""
    return tuple(
        Column(key=key, label=field.label or default_label(key), kind=field.kind)
        for key, _, field, _ in row_fields(row)
        if field.kind is not None
    )


def list_row(answer: type, key: str) -> type | None:
    """The row type of the list `key` of an answer TypedDict."""
    for name, python_type, _, _ in row_fields(answer):
        if name == key and get_origin(python_type) is list:
            (row,) = get_args(python_type)
            return row if isinstance(row, type) else None
    return None
