from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Venues and bookings"

    def ready(self) -> None:
        # fleet's import engine knows nothing of bookings: bookings hands it its importers and catalog kind.
        from bookings.resources import ResourceResource
        from bookings.services import booking_import, booking_spec, funnel_event_import, funnel_spec
        from fleet.models import ImportJob
        from fleet.resources import catalog_resource_register
        from fleet.services.jobs import importer_register

        importer_register(ImportJob.Kind.BOOKINGS, booking_import, booking_spec)
        importer_register(ImportJob.Kind.FUNNEL, funnel_event_import, funnel_spec)
        catalog_resource_register("resources", ResourceResource)

        from bookings.models import Resource
        from chains.admin_site import section_probe_register

        section_probe_register("venue", lambda: Resource.objects.exists())  # the admin shows what a chain runs
