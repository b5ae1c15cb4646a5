"""Import/export of bookable resources; `opens`/`closes` become opening hours on all seven weekdays."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields

from bookings.models import OpeningHours, Resource
from fleet.models import Location
from fleet.resources import CatalogResource, StrictIntegerWidget, natural_key, text

WEEKDAYS = range(1, 8)


def _parse_time(value: Any) -> time | None:
    """A local wall-clock time from `HH:MM` (or an XLSX time cell); None for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    text_value = str(value).strip()
    for pattern in ("%H:%M", "%H:%M:%S", "%H.%M"):
        try:
            return datetime.strptime(text_value, pattern).time()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a time (HH:MM)")


class ResourceResource(CatalogResource):
    """A resource row; `opens`/`closes` (both or neither) set the same hours on every weekday.

    A file that leaves both empty keeps the resource's existing opening hours. The export writes
    Monday's hours (the import writes the same hours on all days, so they round-trip).
    """

    code = text("code")
    name = text("name")
    location = natural_key("location", Location, "code")
    resource_type = text("resource_type")
    capacity = fields.Field(attribute="capacity", column_name="capacity", widget=StrictIntegerWidget())
    opens = fields.Field(column_name="opens")
    closes = fields.Field(column_name="closes")
    required_columns = ("code", "name", "location")

    class Meta(CatalogResource.Meta):
        model = Resource
        import_id_fields = ["code"]
        fields = ["code", "name", "location", "resource_type", "capacity", "opens", "closes"]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hours: dict[int, tuple[time, time] | None] = {}

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        errors: dict[str, str] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors.update({key: " ".join(messages) for key, messages in error.message_dict.items()})
        if instance.capacity is None:
            instance.capacity = 1
        hours: dict[str, time | None] = {}
        for column in ("opens", "closes"):
            try:
                hours[column] = _parse_time(row.get(column))
            except ValueError as error:
                errors[column] = str(error)
        if "opens" not in errors and "closes" not in errors:
            opens, closes = hours.get("opens"), hours.get("closes")
            if (opens is None) != (closes is None):
                errors["closes" if closes is None else "opens"] = "give both opens and closes, or neither"
            elif opens is not None and closes is not None and closes <= opens:
                errors["closes"] = "closes must be after opens"
        if errors:
            raise ValidationError(errors)
        self._hours[id(instance)] = (hours["opens"], hours["closes"]) if hours.get("opens") else None  # type: ignore[assignment]

    def after_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        hours = self._hours.pop(id(instance), None)
        if hours is None:
            return
        opens, closes = hours
        for weekday in WEEKDAYS:
            OpeningHours.objects.update_or_create(
                resource=instance, weekday=weekday, defaults={"opens": opens, "closes": closes}
            )

    def skip_row(self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        # Same resource fields: still not a duplicate when the file changes the opening hours.
        hours = self._hours.get(id(instance))
        if hours is None or instance.pk is None:
            return True
        current = set(OpeningHours.objects.filter(resource=instance).values_list("weekday", "opens", "closes"))
        return current == {(weekday, hours[0], hours[1]) for weekday in WEEKDAYS}

    def _monday_hours(self, resource: Resource) -> OpeningHours | None:
        return next((h for h in resource.opening_hours.all() if h.weekday == 1), None)

    def dehydrate_opens(self, resource: Resource) -> str:
        hours = self._monday_hours(resource)
        return hours.opens.strftime("%H:%M") if hours else ""

    def dehydrate_closes(self, resource: Resource) -> str:
        hours = self._monday_hours(resource)
        return hours.closes.strftime("%H:%M") if hours else ""

    def get_queryset(self) -> Any:
        return Resource.objects.select_related("location").prefetch_related("opening_hours")
