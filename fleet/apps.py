"""App configuration of the fleet app."""

from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "Fleet and sales"

    def ready(self) -> None:
        # The ingestion admin (DEX reads, sales) lives apart from the catalog admin in fleet/admin.py.
        from chains.admin_site import section_probe_register
        from fleet import admin_ingest  # noqa: F401
        from fleet.models import Device
        from fleet.services import sales
        from ingest.jobs import importer_register

        # The import engine (ingest) knows no kind of file: fleet hands it the sales import.
        importer_register(
            sales.SALES_KIND, sales.sales_import, sales.sales_spec, label="Sales", section="vending",
            meanings=sales.SALES_MEANINGS, example=sales.SALES_EXAMPLE,
        )
        section_probe_register("vending", lambda: Device.objects.exists())  # the admin shows what a chain runs
