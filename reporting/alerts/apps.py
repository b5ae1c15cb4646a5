from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Its own app label, so the capability is the permission `alerts.manage` (app label + codename)."""

    name = "reporting.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from analytics.pages.panels import register_dashboard_panel
        from reporting.alerts import receivers  # noqa: F401
        from reporting.pages import latest_alerts_panel

        register_dashboard_panel("latest-alerts", latest_alerts_panel)
