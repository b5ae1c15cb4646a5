"""The chain admin: subscriptions (editable; pause, resume, send now as actions) and their ledger (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from reporting.subscriptions import services
from reporting.subscriptions.models import Delivery, Subscription


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("occurrence", "status", "manual", "sent_at", "rows", "error")
    readonly_fields = fields
    ordering = ("-occurrence",)
    max_num = 0


class SubscriptionForm(forms.ModelForm):
    """The admin validates a subscription exactly as the API does (recurrence, recipients, the report's parameters)."""

    class Meta:
        model = Subscription
        fields = ("name", "report", "format", "params", "range", "recurrence", "recipients", "active", "owner")

    def clean(self) -> dict[str, Any]:
        from reporting.subscriptions.apis import SubscriptionSerializer

        cleaned = super().clean() or {}
        keys = ("name", "report", "format", "params", "range", "recurrence", "recipients", "active")
        serializer = SubscriptionSerializer(data={key: cleaned.get(key) for key in keys if cleaned.get(key) is not None})
        if not serializer.is_valid():
            for name, problems in serializer.errors.items():
                target = name if name in self.fields else None
                self.add_error(target, f"{name}: {problems}")
        else:
            cleaned.update({key: serializer.validated_data[key] for key in ("recurrence", "recipients", "params")})
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("name", "report", "format", "range", "active", "next_run_at", "owner")
    list_filter = ("active", "report", "format", "range")
    search_fields = ("name",)
    readonly_fields = ("next_run_at", "created_at", "updated_at")
    inlines = [DeliveryInline]
    actions = ["pause", "resume", "send_now"]

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        if obj.owner_id is None:
            obj.owner = request.user  # type: ignore[assignment]
        services.subscription_save(subscription=obj)  # next_run_at from the local rule

    @admin.action(description="Pause")
    def pause(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            services.subscription_pause(subscription=subscription)

    @admin.action(description="Resume")
    def resume(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            services.subscription_resume(subscription=subscription)

    @admin.action(description="Send now")
    def send_now(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            services.delivery_send_now(subscription=subscription)
        self.message_user(request, f"Queued {queryset.count()} report(s).", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("subscription", "occurrence", "status", "manual", "sent_at", "rows", "attempts", "error")
    list_filter = ("status", "manual")
    date_hierarchy = "occurrence"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
