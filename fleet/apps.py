"""App configuration of the fleet app."""

from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "Fleet and sales"

    def ready(self) -> None:
        # The ingestion admin (DEX reads, sales, import jobs) lives apart from the catalog admin in fleet/admin.py.
        from fleet import admin_ingest  # noqa: F401
