"""API URLs of the alerts (mounted under /api/reporting/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reporting.alerts.apis import AlertAcknowledgeApi, AlertListApi, AlertRuleViewSet

router = SimpleRouter()
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")

urlpatterns: list = [
    path("alerts/", AlertListApi.as_view(), name="reporting-alerts"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledgeApi.as_view(), name="reporting-alert-acknowledge"),
    *router.urls,
]
