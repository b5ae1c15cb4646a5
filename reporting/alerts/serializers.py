"""Rules in and alerts out, with the checks that turn bad input into 400s naming the field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from reporting.alerts.metrics import PER_DEVICE_METRICS, SCOPE_KINDS, SUPPORTED
from reporting.alerts.models import Alert, AlertRule, Condition

MAX_RECIPIENTS = 50


def scope_code_exists(kind: str, code: str) -> bool:
    from bookings.models import Resource
    from fleet.models import Device, Location, Product

    model: Any
    model, field = {"device": (Device, "asset"), "location": (Location, "code"), "product": (Product, "sku"),
                    "resource": (Resource, "code")}[kind]
    return bool(model.objects.filter(**{field: code}).exists())


class AlertRuleSerializer(serializers.ModelSerializer):
    scope = serializers.JSONField(
        required=False, help_text='{} (the chain; for per-device metrics every device) or {"device"|"location"|"product"|"resource": "<code>"}'
    )
    recipients = serializers.ListField(child=serializers.CharField(max_length=254), allow_empty=False, max_length=MAX_RECIPIENTS)
    threshold = serializers.DecimalField(
        max_digits=16, decimal_places=4, coerce_to_string=True,
        help_text="above/below: the value; change_above/change_below: percent against the window before (-20 = a fall of 20 %)",
    )

    class Meta:
        model = AlertRule
        fields = [
            "id", "name", "metric", "scope", "condition", "threshold", "window", "recipients", "active", "snoozed_until",
            "repeat_hours", "evaluated_at", "last_note",
        ]
        read_only_fields = ["id", "evaluated_at", "last_note"]

    def validate_scope(self, value: Any) -> dict[str, str]:
        if value in (None, ""):
            return {}
        if not isinstance(value, dict) or len(value) > 1:
            raise serializers.ValidationError('Give {} or one of {"device"|"location"|"product"|"resource": "<code>"}.')
        if not value:
            return {}
        kind, code = next(iter(value.items()))
        if kind not in SCOPE_KINDS:
            raise serializers.ValidationError(f"Unknown scope {kind!r}; use one of {', '.join(SCOPE_KINDS)}.")
        if not isinstance(code, str) or not code.strip() or len(code) > 50:
            raise serializers.ValidationError(f"The {kind} code must be a non-empty text of at most 50 characters.")
        if not scope_code_exists(kind, code.strip()):
            raise serializers.ValidationError(f"No {kind} {code.strip()!r} in this chain.")
        return {kind: code.strip()}

    def validate_recipients(self, value: list[str]) -> list[str]:
        cleaned: list[str] = []
        for address in value:
            address = address.strip()
            try:
                validate_email(address)
            except DjangoValidationError:
                raise serializers.ValidationError(f"{address!r} is not an e-mail address.") from None
            if address.lower() not in (c.lower() for c in cleaned):
                cleaned.append(address)
        return cleaned

    def validate_repeat_hours(self, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 24 * 31:
            raise serializers.ValidationError("Repeat every 1 to 744 hours, or leave it empty (no repeat).")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str, default: Any = None) -> Any:
            return attrs.get(name, getattr(self.instance, name, default) if self.instance is not None else default)

        metric, window, condition = current("metric"), current("window"), current("condition")
        scope = current("scope", {}) or {}
        kind = next(iter(scope), "")
        windows = SUPPORTED.get(metric, {}).get(kind)
        if windows is None:
            allowed = ", ".join(k or "{}" for k in SUPPORTED.get(metric, {}))
            raise serializers.ValidationError({"scope": [f"{metric} is not measured per {kind or 'chain'}; use {allowed}."]})
        if window not in windows:
            raise serializers.ValidationError({"window": [f"{metric} is measured over {', '.join(windows)} windows."]})
        if metric in PER_DEVICE_METRICS and condition not in (Condition.ABOVE, Condition.BELOW):
            raise serializers.ValidationError({"condition": [f"{metric} takes above or below."]})
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    metric = serializers.CharField(source="rule.metric", read_only=True)
    condition = serializers.CharField(source="rule.condition", read_only=True)
    acknowledged_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True)
    device: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="asset", read_only=True)
    location: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "rule", "rule_name", "metric", "condition", "scope_key", "subject", "device", "location", "state", "value",
            "previous_value", "threshold", "window_start", "window_end", "fired_at", "resolved_at", "acknowledged_by",
            "acknowledged_at",
        ]
        read_only_fields = fields


class AlertFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Alert.State.choices, required=False)
    rule = serializers.IntegerField(min_value=1, required=False)
    device = serializers.CharField(max_length=50, required=False, help_text="device asset (or id)")
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=500)
