"""URLs of the pages on a chain's domain: sign-in, password change and reset, and the dashboards."""

from django.contrib.auth import views as auth
from django.urls import include, path

from analytics.pages import views

auth_urls = [
    path("login/", auth.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password/change/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", auth.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

page_urls = [
    path("dashboard/", views.DashboardPage.as_view(), name="dashboard"),
    path("assets/", views.AssetsPage.as_view(), name="assets"),
    path("assets/<path:asset>/", views.AssetPage.as_view(), name="asset"),
    path("products/", views.ProductsPage.as_view(), name="products"),
    path("products/<path:sku>/", views.ProductPage.as_view(), name="product"),
    path("locations/", views.LocationsPage.as_view(), name="locations"),
    path("locations/<path:code>/", views.LocationPage.as_view(), name="location"),
    path("trends/", views.TrendsPage.as_view(), name="trends"),
    path("anomalies/", views.AnomaliesPage.as_view(), name="anomalies"),
    path("routes/", views.RoutesPage.as_view(), name="routes"),
    path("inventory/", views.InventoryPage.as_view(), name="inventory"),
    path("venues/", views.VenuesPage.as_view(), name="venues"),
    path("venues/<path:code>/", views.VenuePage.as_view(), name="venue"),
    path("customers/", views.CustomersPage.as_view(), name="customers"),
]

# Included at the root of the chain's URLs (cvd/urls.py); auth views keep Django's names (login, logout, …).
urlpatterns = [path("", views.home, name="home"), *auth_urls, path("", include((page_urls, "pages")))]
