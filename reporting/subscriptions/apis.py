"""Scheduled reports API: the chain's subscriptions (CRUD, pause, resume, send now), their ledger, and unsubscribe."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.query import current_chain, local_today
from chains.capabilities import ANALYTICS_EXPORT
from chains.views import CapabilityAPIView
from reporting import exports
from reporting.subscriptions import services
from reporting.subscriptions.models import MAX_RECIPIENTS, RANGES, Delivery, Subscription
from reporting.subscriptions.recurrence import FREQS

_ERRORS = {
    400: OpenApiResponse(description="bad fields: an object of field name → list of messages"),
    401: OpenApiResponse(description="no or invalid credentials"),
    403: OpenApiResponse(description="the user lacks analytics.export"),
    404: OpenApiResponse(description="no such subscription in this chain"),
}
_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_RESERVED_PARAMS = ("report", "format", "start", "end", "month")


class RecurrenceSerializer(serializers.Serializer):
    freq = serializers.ChoiceField(choices=FREQS)
    at = serializers.CharField(help_text="local time of the chain, HH:MM")
    weekday = serializers.IntegerField(min_value=1, max_value=7, required=False, allow_null=True, help_text="ISO, weekly")
    day = serializers.IntegerField(
        min_value=-1, max_value=31, required=False, allow_null=True,
        help_text="monthly: 1–28, or -1 for the last day (29–31 run on the last day of shorter months)",
    )

    def validate_at(self, value: str) -> str:
        if not _AT.match(value):
            raise serializers.ValidationError("Expected a local time HH:MM (00:00–23:59).")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"freq": data["freq"], "at": data["at"]}
        if data["freq"] == "weekly":
            if data.get("weekday") is None:
                raise serializers.ValidationError({"weekday": ["A weekly recurrence needs its ISO weekday 1–7."]})
            out["weekday"] = data["weekday"]
        if data["freq"] == "monthly":
            day = data.get("day")
            if day is None or day == 0:
                raise serializers.ValidationError({"day": ["A monthly recurrence needs a day 1–28 or -1 (the last day)."]})
            out["day"] = day
        return out


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    report = serializers.ChoiceField(choices=exports.export_names())
    format = serializers.ChoiceField(choices=exports.FORMATS)
    params = serializers.DictField(required=False, default=dict)
    range = serializers.ChoiceField(choices=RANGES)
    recurrence = RecurrenceSerializer()
    recipients = serializers.ListField(child=serializers.CharField(max_length=254), allow_empty=False)
    active = serializers.BooleanField(required=False, default=True)
    next_run_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def validate_recipients(self, value: list[str]) -> list[str]:
        if len(value) > MAX_RECIPIENTS:
            raise serializers.ValidationError(f"At most {MAX_RECIPIENTS} recipients ({len(value)} given).")
        seen: dict[str, str] = {}
        bad = []
        for address in value:
            cleaned = address.strip()
            try:
                validate_email(cleaned)
            except DjangoValidationError:
                bad.append(cleaned[:80])
                continue
            seen.setdefault(cleaned.lower(), cleaned)
        if bad:
            raise serializers.ValidationError([f"Not an e-mail address: {address!r}." for address in bad[:10]])
        return list(seen.values())

    def validate_params(self, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(set(value) & set(_RESERVED_PARAMS))
        if reserved:
            raise serializers.ValidationError(
                f"{', '.join(reserved)} cannot be a parameter here: the range and the report are fields of their own."
            )
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        merged = {**(self.instance_json() or {}), **data}
        if merged["report"] == "board-pack" and merged["format"] != "pdf":
            raise serializers.ValidationError({"format": ["The board pack is a PDF only."]})
        probe = Subscription(report=merged["report"], format=merged["format"], params=merged.get("params") or {},
                             range=merged["range"])
        try:  # the report's own parameters, validated as its API does, for the range as of today
            services.delivery_spec(probe, today=local_today())
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"params": error.detail}) from error
        return data

    def instance_json(self) -> dict[str, Any] | None:
        instance = self.instance
        if not isinstance(instance, Subscription):
            return None
        return {"report": instance.report, "format": instance.format, "params": instance.params, "range": instance.range}


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurrence = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    recipients = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    manual = serializers.BooleanField()
    rows = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    download_url = serializers.CharField(allow_null=True)


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "name": subscription.name,
        "report": subscription.report,
        "format": subscription.format,
        "params": subscription.params,
        "range": subscription.range,
        "recurrence": subscription.recurrence,
        "recipients": subscription.recipients,
        "active": subscription.active,
        "next_run_at": subscription.next_run_at.isoformat() if subscription.next_run_at else None,
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    url = f"/api/reporting/subscriptions/{delivery.subscription_id}/deliveries/{delivery.pk}/download/"
    return {
        "id": delivery.pk,
        "occurrence": delivery.occurrence.isoformat(),
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
        "recipients": delivery.recipients,
        "status": delivery.status,
        "manual": delivery.manual,
        "rows": delivery.rows,
        "error": delivery.error,
        "download_url": url if delivery.file else None,
    }


def _subscription(subscription_id: int) -> Subscription:
    # The connection is in the caller's chain schema: another chain's subscriptions are not even visible.
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404("No such subscription.")
    return subscription


def _apply(subscription: Subscription, data: dict[str, Any]) -> None:
    for key in ("name", "report", "format", "params", "range", "recurrence", "recipients", "active"):
        if key in data:
            setattr(subscription, key, data[key])


def subscription_create(data: Any, *, owner_id: int | None) -> Subscription:
    """Validate (ValidationError → 400 naming the field) and save a new subscription: the API's and the page's way."""
    serializer = SubscriptionSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    subscription = Subscription(owner_id=owner_id)
    _apply(subscription, dict(serializer.validated_data))
    return services.subscription_save(subscription=subscription)


def subscription_get(subscription_id: int) -> Subscription:
    """The chain's subscription, or Http404 (another chain's is not in this schema)."""
    return _subscription(subscription_id)


def subscription_resume_checked(subscription: Subscription) -> Subscription:
    if not subscription.recipients:
        raise serializers.ValidationError({"recipients": ["Add a recipient before resuming."]})
    return services.subscription_resume(subscription=subscription)


def subscription_send_checked(subscription: Subscription) -> Delivery:
    if not subscription.recipients:
        raise serializers.ValidationError({"recipients": ["Nobody to send it to."]})
    return services.delivery_send_now(subscription=subscription)


class SubscriptionListApi(CapabilityAPIView):
    """The chain's scheduled reports (any manager of the chain sees and edits them), and creating one."""

    required_capabilities = {"GET": ANALYTICS_EXPORT, "POST": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_list", responses={200: SubscriptionSerializer(many=True), **_ERRORS})
    def get(self, request: Request) -> Response:
        return Response([subscription_json(s) for s in Subscription.objects.order_by("name", "id")[:1000]])

    @extend_schema(operation_id="reporting_subscriptions_create", request=SubscriptionSerializer,
                   responses={201: SubscriptionSerializer, **_ERRORS})
    def post(self, request: Request) -> Response:
        return Response(subscription_json(subscription_create(request.data, owner_id=request.user.pk)), status=201)


class SubscriptionDetailApi(CapabilityAPIView):
    required_capabilities = {"GET": ANALYTICS_EXPORT, "PUT": ANALYTICS_EXPORT, "PATCH": ANALYTICS_EXPORT,
                             "DELETE": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_retrieve", responses={200: SubscriptionSerializer, **_ERRORS})
    def get(self, request: Request, subscription_id: int) -> Response:
        return Response(subscription_json(_subscription(subscription_id)))

    def _update(self, request: Request, subscription_id: int, *, partial: bool) -> Response:
        subscription = _subscription(subscription_id)
        serializer = SubscriptionSerializer(subscription, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        _apply(subscription, dict(serializer.validated_data))
        services.subscription_save(subscription=subscription)
        return Response(subscription_json(subscription))

    @extend_schema(operation_id="reporting_subscriptions_update", request=SubscriptionSerializer,
                   responses={200: SubscriptionSerializer, **_ERRORS})
    def put(self, request: Request, subscription_id: int) -> Response:
        return self._update(request, subscription_id, partial=False)

    @extend_schema(operation_id="reporting_subscriptions_partial_update", request=SubscriptionSerializer,
                   responses={200: SubscriptionSerializer, **_ERRORS})
    def patch(self, request: Request, subscription_id: int) -> Response:
        return self._update(request, subscription_id, partial=True)

    @extend_schema(operation_id="reporting_subscriptions_destroy", responses={204: None, **_ERRORS})
    def delete(self, request: Request, subscription_id: int) -> Response:
        _subscription(subscription_id).delete()
        return Response(status=204)


class SubscriptionPauseApi(CapabilityAPIView):
    required_capabilities = {"POST": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_pause", request=None, responses={200: SubscriptionSerializer, **_ERRORS})
    def post(self, request: Request, subscription_id: int) -> Response:
        return Response(subscription_json(services.subscription_pause(subscription=_subscription(subscription_id))))


class SubscriptionResumeApi(CapabilityAPIView):
    required_capabilities = {"POST": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_resume", request=None, responses={200: SubscriptionSerializer, **_ERRORS})
    def post(self, request: Request, subscription_id: int) -> Response:
        return Response(subscription_json(subscription_resume_checked(_subscription(subscription_id))))


class SubscriptionSendApi(CapabilityAPIView):
    """Send now: the report for the range as of today goes to every recipient (a ledger row marked manual)."""

    required_capabilities = {"POST": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_send", request=None, responses={202: DeliverySerializer, **_ERRORS})
    def post(self, request: Request, subscription_id: int) -> Response:
        return Response(delivery_json(subscription_send_checked(_subscription(subscription_id))), status=202)


class SubscriptionDeliveriesApi(CapabilityAPIView):
    """The ledger of a subscription, newest occurrence first: sent, missed, failed, pending."""

    required_capabilities = {"GET": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_deliveries", responses={200: DeliverySerializer(many=True), **_ERRORS})
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = _subscription(subscription_id)
        return Response([delivery_json(d) for d in subscription.deliveries.order_by("-occurrence", "-id")[:500]])


class DeliveryDownloadApi(CapabilityAPIView):
    """The rendered file of a delivery (the link an e-mail carries when the file is too large to attach)."""

    required_capabilities = {"GET": ANALYTICS_EXPORT}

    @extend_schema(operation_id="reporting_subscriptions_delivery_download",
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **_ERRORS})
    def get(self, request: Request, subscription_id: int, delivery_id: int) -> Any:
        delivery = Delivery.objects.filter(pk=delivery_id, subscription_id=subscription_id).select_related("subscription").first()
        if delivery is None or not delivery.file:
            raise Http404("No such file.")
        filename = PurePosixPath(str(delivery.file.name)).name  # made from the schema, registry names and dates only
        response = FileResponse(delivery.file.open("rb"), content_type=exports.CONTENT_TYPES[delivery.subscription.format])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


@csrf_exempt  # the signed token in the URL is the proof (scoped to one subscription, one address, this chain)
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirmation page (mail scanners follow links, so GET changes nothing); POST: unsubscribe.

    Works without signing in; RFC 8058 one-click (List-Unsubscribe-Post) posts here too.
    """
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    chain = current_chain()
    read = services.unsubscribe_read(token)
    subscription = Subscription.objects.filter(pk=read[0]).first() if read else None
    if read is None or subscription is None:
        return render(request, "reporting/unsubscribe.html", {"chain": chain, "invalid": True}, status=404)
    address = read[1]
    subscribed = any(r.lower() == address for r in subscription.recipients)
    done = False
    if request.method == "POST" and subscribed:
        services.unsubscribe(subscription_id=subscription.pk, address=address)
        done = True
    context = {"chain": chain, "subscription": subscription, "address": address, "subscribed": subscribed, "done": done}
    response = render(request, "reporting/unsubscribe.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return response
