"""URLs on a chain's domain: the chain's admin, its API and the API schema."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chains.apis import MeApi

admin.site.site_header = "CVD"
admin.site.site_title = "CVD"
admin.site.index_title = "Chain administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/me/", MeApi.as_view(), name="api-me"),
    path("api/fleet/", include("fleet.urls")),
    path("api/bookings/", include("bookings.urls")),
    path("api/analytics/", include("analytics.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
