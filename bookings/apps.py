from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Venues and bookings"

    def ready(self) -> None:
        # The import engine (ingest) knows nothing of bookings: bookings hands it its importers, and fleet its catalog kind.
        from bookings import services
        from bookings.resources import ResourceResource
        from fleet.resources import catalog_resource_register
        from ingest.jobs import importer_register

        importer_register(
            services.BOOKINGS_KIND, services.booking_import, services.booking_spec, label="Bookings", section="venue",
            meanings=services.BOOKING_MEANINGS, example=services.BOOKING_EXAMPLE,
        )
        importer_register(
            services.FUNNEL_KIND, services.funnel_event_import, services.funnel_spec, label="Funnel events",
            section="venue", meanings=services.FUNNEL_MEANINGS, example=services.FUNNEL_EXAMPLE,
        )
        catalog_resource_register("resources", ResourceResource)

        from bookings.models import Resource
        from chains.admin_site import section_probe_register

        section_probe_register("venue", lambda: Resource.objects.exists())  # the admin shows what a chain runs
