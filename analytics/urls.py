"""API URLs of the analytics app."""

from django.urls import path

from analytics import apis
from analytics.apis.dashboard import DashboardApi

urlpatterns: list = [
    path("dashboard/", DashboardApi.as_view(), name="analytics-dashboard"),
    path("asset-sales/", apis.AssetSalesApi.as_view(), name="analytics-asset-sales"),
    path("product-sales/", apis.ProductSalesApi.as_view(), name="analytics-product-sales"),
    path("revenue/", apis.RevenueApi.as_view(), name="analytics-revenue"),
    path("locations/", apis.LocationsApi.as_view(), name="analytics-locations"),
    path("heatmap/", apis.HeatmapApi.as_view(), name="analytics-heatmap"),
    path("utilization/", apis.UtilizationApi.as_view(), name="analytics-utilization"),
    path("conversion/", apis.ConversionApi.as_view(), name="analytics-conversion"),
    path("customers/", apis.CustomersApi.as_view(), name="analytics-customers"),
    path("routes/", apis.RoutesApi.as_view(), name="analytics-routes"),
    path("trends/", apis.TrendsApi.as_view(), name="analytics-trends"),
    path("anomalies/", apis.AnomaliesApi.as_view(), name="analytics-anomalies"),
    path("inventory/", apis.InventoryApi.as_view(), name="analytics-inventory"),
]
