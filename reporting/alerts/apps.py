from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Its own app label, so the capability is the permission `alerts.manage` (app label + codename)."""

    name = "reporting.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from reporting.alerts import receivers  # noqa: F401
