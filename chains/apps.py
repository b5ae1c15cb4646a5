from django.apps import AppConfig


class ChainsConfig(AppConfig):
    name = "chains"
    verbose_name = "Chains"

    def ready(self) -> None:
        from chains import signals  # noqa: F401
