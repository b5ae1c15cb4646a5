"""The alerts API: rules (alerts.manage), the alert list (analytics.read) and acknowledge (alerts.manage)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from chains.capabilities import ALERTS_MANAGE, ANALYTICS_READ
from chains.permissions import CapabilityPermission
from chains.views import CapabilityAPIView
from reporting.alerts.models import Alert, AlertRule
from reporting.alerts.selectors import alert_rules_list, alerts_for_center
from reporting.alerts.serializers import AlertFilterSerializer, AlertRuleSerializer, AlertSerializer
from reporting.alerts.services import alert_acknowledge

_MANAGE = {method: ALERTS_MANAGE for method in ("GET", "POST", "PUT", "PATCH", "DELETE")}


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules of the chain: list, create, retrieve, update, delete."""

    permission_classes = [CapabilityPermission]
    required_capabilities = _MANAGE
    serializer_class = AlertRuleSerializer

    def get_queryset(self) -> Any:
        return alert_rules_list()

    def perform_create(self, serializer: BaseSerializer) -> None:
        alert_rule_save(serializer, user=self.request.user)

    def perform_update(self, serializer: BaseSerializer) -> None:
        alert_rule_save(serializer)


def alert_rule_validated(data: Any, *, instance: AlertRule | None = None, partial: bool = False) -> AlertRuleSerializer:
    """The API's serializer, validated (ValidationError → 400 naming the field): the API's and the page's checks."""
    serializer = AlertRuleSerializer(instance, data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer


def alert_rule_save(serializer: BaseSerializer, *, user: Any = None) -> AlertRule:
    if serializer.instance is None:
        rule: AlertRule = serializer.save(created_by=user)
    else:
        # A changed rule is judged afresh at the next evaluation, even for a window it saw before.
        rule = serializer.save(evaluated_window_start=None)
    return rule


class AlertListApi(CapabilityAPIView):
    required_capabilities = {"GET": ANALYTICS_READ}

    @extend_schema(parameters=[AlertFilterSerializer], responses=AlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = AlertFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        alerts = alerts_for_center(
            state=values.get("state"), rule=values.get("rule"), device=values.get("device"), limit=values["limit"]
        )
        return Response(AlertSerializer(alerts, many=True).data)


class AlertAcknowledgeApi(CapabilityAPIView):
    required_capabilities = {"POST": ALERTS_MANAGE}

    @extend_schema(request=None, responses=AlertSerializer)
    def post(self, request: Request, pk: int) -> Response:
        alert = get_object_or_404(Alert, pk=pk)
        return Response(AlertSerializer(alert_acknowledge(alert=alert, user=request.user)).data)


__all__ = ["AlertAcknowledgeApi", "AlertListApi", "AlertRule", "AlertRuleViewSet"]
