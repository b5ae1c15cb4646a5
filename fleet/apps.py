"""App configuration of the fleet app."""

from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "Fleet and sales"

    def ready(self) -> None:
        # The ingestion admin (DEX reads, sales, import jobs) lives apart from the catalog admin in fleet/admin.py.
        from chains.admin_site import section_probe_register
        from fleet import admin_ingest  # noqa: F401
        from fleet.models import Device

        section_probe_register("vending", lambda: Device.objects.exists())  # the admin shows what a chain runs
