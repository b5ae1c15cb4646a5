"""The Celery application: tenant-aware (every task runs inside the schema it was sent from)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvd.settings.base")

app = CeleryApp("cvd")
app.config_from_object("django.conf:settings", namespace="CELERY")
# A private queue name keeps a test run's worker and beat apart from any other on the same broker.
if os.environ.get("CVD_CELERY_QUEUE"):
    app.conf.task_default_queue = os.environ["CVD_CELERY_QUEUE"]
app.autodiscover_tasks()


@app.on_after_configure.connect
def _beat_schedule(sender: CeleryApp, **kwargs: object) -> None:
    from analytics.schedule import BEAT_SCHEDULE
    from fleet.schedule import BEAT_SCHEDULE as FLEET_SCHEDULE
    from reporting.alerts.schedule import BEAT_SCHEDULE as ALERTS_SCHEDULE
    from reporting.schedule import BEAT_SCHEDULE as REPORTING_SCHEDULE

    sender.conf.beat_schedule = {
        **BEAT_SCHEDULE, **FLEET_SCHEDULE, **REPORTING_SCHEDULE, **ALERTS_SCHEDULE, **(sender.conf.beat_schedule or {})
    }
