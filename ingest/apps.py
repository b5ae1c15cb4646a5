"""App configuration of the ingest app: the generic import engine.

It registers no importer of its own: fleet and bookings register theirs (ingest.jobs.importer_register)
in their AppConfig.ready(), so ingest imports no domain app.
"""

from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "ingest"
    verbose_name = "Imports"
