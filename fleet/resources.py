"""Catalog import/export resources (django-import-export), shared by the admin and `import_catalog`.

Every resource speaks the column names of interfaces.md and looks foreign keys up by natural key
(location code, device asset, product SKU, category name, device type name). An unknown key is a
row validation error on its column, never a crash, and a file is imported all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.results import Result, RowResult

from fleet.models import Category, Device, DeviceType, Location, PlanogramSlot, Product

# Only CSV and XLSX are offered for catalog files, in the admin and on the command line.
CATALOG_FORMATS = [base_formats.CSV, base_formats.XLSX]


class NaturalKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key looked up by a natural key; an unknown key is a ValueError, i.e. a row error on its column."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
        try:
            return super().clean(value, row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(f"no {self.model._meta.verbose_name} with {self.field} {value!r}") from None
        except self.model.MultipleObjectsReturned:
            raise ValueError(f"{value!r} matches several {self.model._meta.verbose_name_plural}") from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        # Exports an empty cell, not the string "None", for a missing key.
        rendered = super().render(value, obj, **kwargs)
        return "" if rendered is None else rendered


class StrictBooleanWidget(widgets.BooleanWidget):
    """Booleans as people type them (yes/no, 1/0, true/false); anything else is an error, not False."""

    TRUE = {"1", "true", "yes", "y", "t"}
    FALSE = {"0", "false", "no", "n", "f"}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value)
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"{value!r} is not a yes/no value")


class StrictDecimalWidget(widgets.DecimalWidget):
    """A decimal whose unparsable value is a ValueError (a row error on its column), not a crash."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except (InvalidOperation, TypeError):
            raise ValueError(f"{value!r} is not a number") from None


class StrictIntegerWidget(widgets.IntegerWidget):
    """A whole number; "2.5" or "ten" is a row error, not a silent truncation or a crash."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if self.is_empty(value):
            return None
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, TypeError):
            raise ValueError(f"{value!r} is not a whole number") from None
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)


class CoordinateWidget(StrictDecimalWidget):
    """Latitude/longitude rounded to the 6 decimals the model stores (GPS tools print more)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        number = super().clean(value, row, **kwargs)
        if number is None:
            return None
        return Decimal(number).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


class TextWidget(widgets.CharWidget):
    """Text with surrounding blanks removed; an empty cell is an empty string (never NULL)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # XLSX turns a code like 1001 into 1001.0
        return str(value).strip()


def text(column: str, attribute: str | None = None) -> fields.Field:
    return fields.Field(attribute=attribute or column, column_name=column, widget=TextWidget())


def natural_key(column: str, model: type[models.Model], key: str, attribute: str | None = None) -> fields.Field:
    return fields.Field(attribute=attribute or column, column_name=column, widget=NaturalKeyWidget(model, field=key))


class CatalogResource(resources.ModelResource):
    """Common behaviour: strict validation, all-or-nothing, duplicates inside one file are row errors."""

    #: Columns a file must have (interfaces.md, in bold).
    required_columns: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen_keys: dict[tuple[Any, ...], int] = {}

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        headers = [str(h).strip() if h is not None else "" for h in (dataset.headers or [])]
        dataset.headers = headers
        missing = [column for column in self.required_columns if column not in headers]
        if missing:
            raise ValueError(f"missing required column(s): {', '.join(missing)}")
        self._seen_keys = {}

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        # The same key twice in one file is ambiguous (which row wins?), so it is an error on that row.
        key = tuple(str(row.get(column, "")).strip() for column in self.get_import_id_fields())
        number = kwargs.get("row_number", 0)
        if key in self._seen_keys:
            column = self.get_import_id_fields()[-1]
            raise ValidationError({column: f"duplicate of row {self._seen_keys[key]}"})
        self._seen_keys[key] = number

    def validate_instance(self, instance: Any, import_validation_errors: Any = None, validate_unique: bool = True) -> None:
        # Errors are keyed by model field (slot_code); people fix files by column (slot), in the admin too.
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                raise
            raise ValidationError(
                {(self.column_for(key) or NON_FIELD_ERRORS): messages for key, messages in error.error_dict.items()}
            ) from None

    def column_for(self, key: str) -> str | None:
        """The file column behind a model field name used in a validation error."""
        if key == NON_FIELD_ERRORS:
            return None
        for name, resource_field in self.fields.items():
            if key in (resource_field.attribute, name, resource_field.column_name):
                return resource_field.column_name
        return key

    class Meta:
        # An unchanged row is reported as a duplicate, so re-importing a file is harmless and visible.
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        skip_diff = False


class LocationResource(CatalogResource):
    code = text("code")
    name = text("name")
    city = text("city")
    region = text("region")
    country = text("country")
    latitude = fields.Field(attribute="latitude", column_name="latitude", widget=CoordinateWidget())
    longitude = fields.Field(attribute="longitude", column_name="longitude", widget=CoordinateWidget())
    address = text("address")
    venue_type = text("venue_type")
    required_columns = ("code", "name")

    class Meta(CatalogResource.Meta):
        model = Location
        import_id_fields = ["code"]
        fields = ["code", "name", "city", "region", "country", "latitude", "longitude", "address", "venue_type"]

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        if isinstance(row.get("country"), str):
            row["country"] = row["country"].strip().upper()
        super().before_import_row(row, **kwargs)


class DeviceTypeResource(CatalogResource):
    name = text("name")
    required_columns = ("name",)

    class Meta(CatalogResource.Meta):
        model = DeviceType
        import_id_fields = ["name"]
        fields = ["name"]


class DeviceResource(CatalogResource):
    asset = text("asset")
    location = natural_key("location", Location, "code")
    serial = fields.Field(attribute="serial", column_name="serial", widget=widgets.CharWidget(allow_blank=False))
    device_type = natural_key("device_type", DeviceType, "name")
    cooler = fields.Field(attribute="cooler", column_name="cooler", widget=StrictBooleanWidget())
    installed_at = fields.Field(attribute="installed_at", column_name="installed_at", widget=widgets.DateWidget())
    required_columns = ("asset", "location")

    class Meta(CatalogResource.Meta):
        model = Device
        import_id_fields = ["asset"]
        fields = ["asset", "location", "serial", "device_type", "cooler", "installed_at"]

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        # A blank serial is "no serial" (NULL), so several devices without one do not collide on uniqueness.
        if "serial" in row and (row["serial"] is None or str(row["serial"]).strip() == ""):
            row["serial"] = None
        elif "serial" in row:
            serial = row["serial"]
            if isinstance(serial, float) and serial.is_integer():
                serial = int(serial)
            row["serial"] = str(serial).strip()
        super().before_import_row(row, **kwargs)


class CategoryResource(CatalogResource):
    name = text("name")
    required_columns = ("name",)

    class Meta(CatalogResource.Meta):
        model = Category
        import_id_fields = ["name"]
        fields = ["name"]


class ProductResource(CatalogResource):
    sku = text("sku")
    name = text("name")
    price = fields.Field(attribute="price", column_name="price", widget=StrictDecimalWidget())
    category = natural_key("category", Category, "name")
    cost = fields.Field(attribute="cost", column_name="cost", widget=StrictDecimalWidget())
    required_columns = ("sku", "name", "price")

    class Meta(CatalogResource.Meta):
        model = Product
        import_id_fields = ["sku"]
        fields = ["sku", "name", "price", "category", "cost"]


class PlanogramSlotResource(CatalogResource):
    """One row = the slot as it is from now on.

    A row for a slot whose current product is the same updates capacity, par level and price in
    place. A row that puts a different product into the slot closes the current slot (valid_to =
    now) and starts a new one (valid_from = now), so sales before the change keep their product.
    Export writes the slots in force.
    """

    device = natural_key("device", Device, "asset")
    slot = text("slot", attribute="slot_code")
    product = natural_key("product", Product, "sku")
    capacity = fields.Field(attribute="capacity", column_name="capacity", widget=StrictIntegerWidget())
    par_level = fields.Field(attribute="par_level", column_name="par_level", widget=StrictIntegerWidget())
    price = fields.Field(attribute="price", column_name="price", widget=StrictDecimalWidget())
    required_columns = ("device", "slot", "product")

    class Meta(CatalogResource.Meta):
        model = PlanogramSlot
        import_id_fields = ["device", "slot"]
        fields = ["device", "slot", "product", "capacity", "par_level", "price"]

    def get_queryset(self) -> models.QuerySet[PlanogramSlot]:
        return PlanogramSlot.objects.filter(valid_to__isnull=True).select_related("device", "product")

    def get_instance(self, instance_loader: Any, row: Any) -> PlanogramSlot | None:
        asset = str(row.get("device") or "").strip()
        slot_code = str(row.get("slot") or "").strip()
        if not asset or not slot_code:
            return None
        return self.get_queryset().filter(device__asset=asset, slot_code=slot_code).first()

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        previous_product_id = instance.product_id if instance.pk else None
        super().import_instance(instance, row, **kwargs)
        if instance.pk and instance.product_id != previous_product_id:
            # A new product in the slot: the old assignment ends now and a new one starts.
            now = timezone.now()
            PlanogramSlot.objects.filter(pk=instance.pk).update(valid_to=now)
            instance.pk = None
            instance._state.adding = True
            instance.valid_from = now
            instance.valid_to = None
        # Empty capacity / par level cells mean "the defaults", not NULL.
        if instance.capacity is None:
            instance.capacity = 10
        if instance.par_level is None:
            instance.par_level = 0


# --- the command-line side: one file in, one report out ------------------------------------------

RESOURCES: dict[str, type[CatalogResource]] = {
    "locations": LocationResource,
    "device_types": DeviceTypeResource,
    "devices": DeviceResource,
    "categories": CategoryResource,
    "products": ProductResource,
    "planogram": PlanogramSlotResource,
}


# Catalog kinds of the apps that build on fleet (bookings' venue resources), registered in their AppConfig.ready().
_REGISTERED: dict[str, type[CatalogResource]] = {}


def catalog_resource_register(kind: str, resource: type[CatalogResource]) -> None:
    _REGISTERED[kind] = resource


def catalog_resources() -> dict[str, type[CatalogResource]]:
    """Every catalog kind with its resource, including the registered ones (the venue resources of `bookings`)."""
    return {**RESOURCES, **_REGISTERED}


@dataclass
class CatalogReport:
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return bool(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def catalog_dataset_read(path: Path) -> tablib.Dataset:
    """Read a CSV (UTF-8, with or without BOM) or XLSX catalog file into a dataset."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return base_formats.XLSX().create_dataset(path.read_bytes())
    return base_formats.CSV().create_dataset(path.read_text(encoding="utf-8-sig"))


def _validation_messages(error: ValidationError) -> Iterable[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            for item in errors:
                yield key, " ".join(item.messages)
    else:
        for message in error.messages:
            yield NON_FIELD_ERRORS, message


def catalog_report_from_result(*, resource: CatalogResource, result: Result, file_name: str) -> CatalogReport:
    """Turn an import-export result into the import report of interfaces.md (rows counted from 1)."""
    report = CatalogReport(file=file_name, rows=result.total_rows)
    for error in result.base_errors:
        report.errors.append({"row": None, "column": None, "message": str(error.error)})
    if report.errors:
        return report  # a file-level problem (a missing column): judging its rows would only repeat it
    for invalid in result.invalid_rows:
        for key, message in _validation_messages(invalid.error):
            report.errors.append({"row": invalid.number, "column": resource.column_for(key), "message": message})
    for number, row_errors in result.row_errors():
        for row_error in row_errors:
            report.errors.append({"row": number, "column": None, "message": str(row_error.error)})
    report.errors.sort(key=lambda e: (e["row"] or 0, e["column"] or ""))
    for row_result in result.rows:
        if row_result.import_type == RowResult.IMPORT_TYPE_NEW:
            report.created += 1
        elif row_result.import_type == RowResult.IMPORT_TYPE_UPDATE:
            report.updated += 1
        elif row_result.import_type == RowResult.IMPORT_TYPE_SKIP:
            report.duplicates += 1
    if report.rejected:
        report.created = report.updated = report.duplicates = 0
    return report


def catalog_import(*, kind: str, path: Path, dry_run: bool = False) -> CatalogReport:
    """Import one catalog file into the current chain schema, all-or-nothing; report every bad row."""
    resource_class = catalog_resources().get(kind)
    if resource_class is None:
        raise ValueError(f"unknown catalog kind {kind!r}; use one of {', '.join(catalog_resources())}")
    try:
        dataset = catalog_dataset_read(path)
    except Exception as exc:  # a broken file is a rejection, reported like any other
        return CatalogReport(file=str(path), errors=[{"row": None, "column": None, "message": f"unreadable file: {exc}"}])
    resource = resource_class()
    result = resource.import_data(
        dataset, dry_run=dry_run, raise_errors=False, use_transactions=True, rollback_on_validation_errors=True
    )
    return catalog_report_from_result(resource=resource, result=result, file_name=str(path))
