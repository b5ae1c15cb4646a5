"""URLs on the platform's own domain (public schema): chain management only."""

from django.urls import path

from chains.admin import platform_site

urlpatterns = [
    path("admin/", platform_site.urls),
]
