"""API URLs of the fleet app."""

from django.urls import path

from fleet.apis import DexReadUploadApi, SalesPushApi

urlpatterns = [
    path("dex-reads/", DexReadUploadApi.as_view(), name="fleet-dex-reads"),
    path("sales/", SalesPushApi.as_view(), name="fleet-sales"),
]
