"""Production settings: every secret and address must come from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

# Checked before the base settings load: without DATABASE_URL / REDIS_URL they would start the embedded servers.
_REQUIRED = ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "EMAIL_URL", "DEFAULT_FROM_EMAIL"]
_missing = [name for name in _REQUIRED if not os.environ.get(name, "").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

from cvd.settings.base import *  # noqa: E402, F403
from cvd.settings.base import env  # noqa: E402

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with at least 5 distinct ones.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Weak passwords (the demo's, any set before the validators) never sign in, from any address.
CVD_WEAK_PASSWORDS_FROM_LOOPBACK = False
CVD_LINK_SCHEME = env.str("CVD_LINK_SCHEME", default="https")
CVD_LINK_PORT = env.str("CVD_LINK_PORT", default="")
