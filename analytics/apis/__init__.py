"""Analytics API views, one module per endpoint family; all of them are thin: validate, call one selector, present."""

from analytics.apis.anomalies import AnomaliesApi
from analytics.apis.assets import AssetSalesApi
from analytics.apis.customers import CustomersApi
from analytics.apis.heatmap import HeatmapApi
from analytics.apis.inventory import InventoryApi
from analytics.apis.locations import LocationsApi
from analytics.apis.products import ProductSalesApi
from analytics.apis.revenue import RevenueApi
from analytics.apis.routes import RoutesApi
from analytics.apis.trends import TrendsApi
from analytics.apis.venues import ConversionApi, UtilizationApi

__all__ = [
    "AnomaliesApi",
    "AssetSalesApi",
    "ConversionApi",
    "CustomersApi",
    "HeatmapApi",
    "InventoryApi",
    "LocationsApi",
    "ProductSalesApi",
    "RevenueApi",
    "RoutesApi",
    "TrendsApi",
    "UtilizationApi",
]
