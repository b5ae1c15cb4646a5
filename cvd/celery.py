"""The Celery application: tenant-aware (every task runs inside the schema it was sent from)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvd.settings.base")

app = CeleryApp("cvd")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
