"""CVD project wiring: settings, URLs, the Celery app and the embedded-services launcher."""
from cvd.celery import app as celery_app

__all__ = ["celery_app"]
