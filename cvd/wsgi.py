"""WSGI entry point (gunicorn cvd.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvd.settings.base")
application = get_wsgi_application()
