"""URLs on a chain's domain: the chain's admin, its API, the API schema, sign-in and the pages."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from chains.apis import MeApi, MyTokenApi
from chains.pages import account_token
from reporting.apis import ExportApi
from reporting.pages import AlertAcknowledgePage, AlertRuleActionPage, AlertsPage, ReportsPage, SubscriptionActionPage
from reporting.subscriptions.apis import unsubscribe_page

admin.site.site_header = "CVD"
admin.site.site_title = "CVD"
admin.site.index_title = "Chain administration"

# PostgreSQL or Redis out of reach: a 503 with a message, never a stack trace (cvd.errors).
handler500 = "cvd.errors.server_error"

urlpatterns = [
    # Import jobs moved from the fleet app to ingest (issue 10): a bookmarked page of theirs still opens.
    re_path(
        r"^admin/fleet/importjob/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/ingest/importjob/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/me/", MeApi.as_view(), name="api-me"),
    path("api/me/token/", MyTokenApi.as_view(), name="api-me-token"),
    path("account/token/", account_token, name="account-token"),
    path("api/fleet/", include("fleet.urls")),
    path("api/bookings/", include("bookings.urls")),
    path("api/analytics/export/", ExportApi.as_view(), name="analytics-export"),
    path("api/analytics/", include("analytics.urls")),
    path("api/reporting/", include("reporting.urls")),
    path("api/reporting/", include("reporting.alerts.urls")),
    # A scheduled report's unsubscribe link: no sign-in, the signed token is the proof.
    path("unsubscribe/<str:token>/", unsubscribe_page, name="reporting-unsubscribe"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page runs under the CSP's
    # script-src 'self'; only its one inline <style> block needs 'unsafe-inline' styles, on this page alone.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    # The reporting side's pages (analytics never imports reporting, so they are routed here).
    path("alerts/", AlertsPage.as_view(), name="alerts-page"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledgePage.as_view(), name="alert-acknowledge-page"),
    # The pages' forms post here (POST only; a refused value renders the page again with the messages, 400).
    path("alerts/rules/", AlertsPage.as_view(http_method_names=["post"]), name="alert-rule-create-page"),
    path("alerts/rules/<int:pk>/", AlertsPage.as_view(http_method_names=["post"]), name="alert-rule-edit-page"),
    path("alerts/rules/<int:pk>/<str:action>/", AlertRuleActionPage.as_view(), name="alert-rule-action-page"),
    path("reports/", ReportsPage.as_view(), name="reports-page"),
    path("reports/subscriptions/", ReportsPage.as_view(http_method_names=["post"]), name="subscription-create-page"),
    path("reports/subscriptions/<int:pk>/<str:action>/", SubscriptionActionPage.as_view(),
         name="subscription-action-page"),
    path("", include("analytics.pages.urls")),
]
