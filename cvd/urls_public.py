"""URLs on the platform's own domain (public schema): chain management only."""

from django.urls import path

from chains.admin import platform_site

# PostgreSQL or Redis out of reach: a 503 with a message, never a stack trace (cvd.errors).
handler500 = "cvd.errors.server_error"

urlpatterns = [
    path("admin/", platform_site.urls),
]
