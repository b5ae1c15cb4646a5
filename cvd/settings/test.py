"""Settings for the test suite: the same services, other Redis databases, fast hashing."""

from cvd.settings.base import *  # noqa: F403
from cvd.settings.base import BASE_DIR, REDIS_URL, env, services

DEBUG = False
REDIS_DB_OFFSET = 4
CACHES["default"]["LOCATION"] = services.redis_url_with_db(REDIS_URL, REDIS_DB_OFFSET + 1)  # noqa: F405
CELERY_BROKER_URL = services.celery_broker_url(REDIS_URL, REDIS_DB_OFFSET + 0)
CELERY_RESULT_BACKEND = services.celery_broker_url(REDIS_URL, REDIS_DB_OFFSET + 2)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the e-mail tests set a real SMTP server
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# Unthrottled: the suite fires thousands of requests from one address; the throttle tests switch rates on.
CVD_THROTTLE_RATES = {}  # type: ignore[no-redef]
# Tests change chains and domains between requests; tests/chains/test_tenant_cache.py switches the cache on.
CVD_TENANT_CACHE_SECONDS = 0.0
