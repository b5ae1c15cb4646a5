"""Settings shared by every environment, read from the environment (django-environ).

Without DATABASE_URL / REDIS_URL the embedded PostgreSQL and Redis under var/ are started.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ

from cvd import services

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()


def _dev_secret_key() -> str:
    """A random key kept in var/secret_key: stable across restarts of one checkout, never shared or committed."""
    import secrets

    path = services.VAR_DIR / "secret_key"
    with services._file_lock("secret_key"):  # web, worker and beat start at the same moment
        if not path.exists():
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(secrets.token_urlsafe(64))
        return path.read_text().strip()


# Off unless asked (DEBUG=1): the debug pages show settings, URLconfs and frame locals to whoever reaches the port.
DEBUG = env.bool("DEBUG", default=False)
# Without SECRET_KEY (a developer's machine) a random key is made once per checkout under var/; production
# settings require the variable and never reach this fallback.
SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1", "testserver"])

SHARED_APPS = [
    "django_tenants",
    "chains",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "chains.admin_apps.ChainAdminConfig",  # django.contrib.admin with the chain admin site
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
]
# Users, groups, permissions, sessions, the admin log and API tokens exist in every chain's schema,
# so an account of one chain does not exist on another chain's domain.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "chains.admin_apps.ChainAdminConfig",  # django.contrib.admin with the chain admin site
    "rest_framework.authtoken",
    # Sign-in failures are counted per chain, in the chain's schema, like its users.
    "axes",
    "import_export",
    # The generic import engine; ImportJob rows are per chain like the rows they import.
    "ingest",
    "fleet",
    "routes",
    "bookings",
    "analytics",
    "analytics.pages",
    "reporting",
    "reporting.alerts",
    # No tables: the demo chains' data and `bootstrap`/`seed_demo`, built on every domain app above.
    "demo",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "chains.Chain"
TENANT_DOMAIN_MODEL = "chains.Domain"
PUBLIC_SCHEMA_URLCONF = "cvd.urls_public"
ROOT_URLCONF = "cvd.urls"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# Send `SET search_path` only when the schema changes, not before every query.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files first: they are the same for every chain, so no domain lookup (a query) per file.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chains.middleware.ChainMiddleware",  # django-tenants' TenantMainMiddleware, the host's chain kept 5 s
    "chains.middleware.ChainTimeZoneMiddleware",
    "csp.middleware.CSPMiddleware",
    "cvd.middleware.AdminStyleCSPMiddleware",
    "cvd.middleware.NoStoreMiddleware",
    "cvd.middleware.SignInThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cvd.middleware.StatementTimeoutMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "cvd.wsgi.application"

# --- Database -------------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    DATABASES = {"default": services.embedded_postgres()}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Persistent connections: one per web thread, kept for CONN_MAX_AGE seconds (a new one costs ~10–20 ms a request).
# django-tenants re-sends `SET search_path` whenever a request sets another chain (set_tenant forgets the last one),
# so a connection reused by the next request for another chain never sees the previous chain's tables.
# CONN_HEALTH_CHECKS tests a reused connection at the start of each request, so one cut by a database restart is
# replaced instead of failing that request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that does not answer fails a request in seconds (a clear 503), not after the OS's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("CVD_DB_CONNECT_TIMEOUT_S", default=3))
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="") or services.embedded_redis_url()
REDIS_DB_OFFSET = env.int("REDIS_DB_OFFSET", default=0)  # the test settings move to other databases
REDIS_TIMEOUT_S = env.float("CVD_REDIS_TIMEOUT_S", default=2.0)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": services.redis_url_with_db(REDIS_URL, REDIS_DB_OFFSET + 1),
        # Every cache key carries the chain's schema, so no entry is ever shared between chains.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        # A Redis that is down or hung fails the request within these seconds (a 503), never holds a thread.
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S},
    }
}
CELERY_BROKER_URL = services.celery_broker_url(REDIS_URL, REDIS_DB_OFFSET + 0)
CELERY_RESULT_BACKEND = services.celery_broker_url(REDIS_URL, REDIS_DB_OFFSET + 2)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Through a Redis restart: a task is acknowledged only when it finished (acks_late) and is put back when its worker
# process dies (reject_on_worker_lost); a task whose worker lost the broker mid-run is cancelled and redelivered
# rather than finished without an acknowledgement; an unacknowledged task comes back after the visibility timeout
# (an hour: longer than a full rebuild at 10M sales, about 2 minutes). The embedded Redis keeps an append-only file, so queued tasks survive its restart.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CVD_CELERY_VISIBILITY_TIMEOUT_S", default=3600),
    "socket_connect_timeout": REDIS_TIMEOUT_S,
    "socket_timeout": max(REDIS_TIMEOUT_S, 5.0),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": max(REDIS_TIMEOUT_S, 5.0)}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT_S
CELERY_REDIS_SOCKET_TIMEOUT = max(REDIS_TIMEOUT_S, 5.0)
# Sending a task while the broker is down fails after a short retry (a 503 to the request that sent it).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

# --- Auth -----------------------------------------------------------------------------------
# Applied wherever a password is set: the admin's forms, create_chain_user, password changes and resets.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One backend for every sign-in form (admin, /login/, password reset): lock-out first (django-axes), then
# the usual username/password check, then the refusal of weak passwords from outside this machine.
AUTHENTICATION_BACKENDS = ["chains.auth.SignInBackend"]
# A password that fails the validators above (the demo accounts' "demo", anything set before them) signs
# in from a loopback address only; production refuses it from everywhere.
CVD_WEAK_PASSWORDS_FROM_LOOPBACK = env.bool("CVD_WEAK_PASSWORDS_FROM_LOOPBACK", default=True)
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/login/"
# A tile server for the pages' maps ({z}/{x}/{y} template); empty: only the shipped country/state outlines.
CVD_MAP_TILE_URL = env.str("CVD_MAP_TILE_URL", default="")

# Lock-out (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that
# username is refused from that address for AXES_COOLOFF_TIME, right password or not (429).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "chains.throttles.client_address"
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False
# Behind this many reverse proxies, the client address is taken from X-Forwarded-For; 0 trusts no header.
CVD_TRUSTED_PROXIES = env.int("CVD_TRUSTED_PROXIES", default=0)

# API tokens are stored as SHA-256 digests and expire this many days after they were made.
CVD_API_TOKEN_TTL_DAYS = env.int("CVD_API_TOKEN_TTL_DAYS", default=90)

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if not env.str("EMAIL_URL", default=""):
    # Development: every message is a file under var/mail/ (the local mailbox `make run` points to).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Absolute links in e-mails: <scheme>://<the chain's primary domain>[:<port>].
CVD_LINK_SCHEME = env.str("CVD_LINK_SCHEME", default="http")
CVD_LINK_PORT = env.str("CVD_LINK_PORT", default=env.str("PORT", default="8000"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CVD <reports@cvd.localhost>")

# --- Uploads --------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CVD_MAX_UPLOAD_BYTES = env.int("CVD_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
CVD_MAX_DEX_BYTES = env.int("CVD_MAX_DEX_BYTES", default=2 * 1024 * 1024)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header turns a missing credential into 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "chains.tokens.DigestTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["chains.permissions.CapabilityPermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PARSER_CLASSES": [
        "chains.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "chains.throttles.AnonymousAddressThrottle",
        "chains.throttles.UserThrottle",
        "chains.throttles.AddressThrottle",
    ],
    "NUM_PROXIES": CVD_TRUSTED_PROXIES,
    "EXCEPTION_HANDLER": "chains.exceptions.api_exception_handler",
}
# Requests per period (DRF syntax: N/second|minute|hour|day); a scope set to "" is not throttled.
# anon: API requests without valid credentials, per address; user: per signed-in user; address: every API
# request per address; signin: sign-in form POSTs per address (admin and /login/).
CVD_THROTTLE_RATES: dict[str, str | None] = {
    "anon": env.str("CVD_THROTTLE_ANON", default="60/minute") or None,
    "user": env.str("CVD_THROTTLE_USER", default="600/minute") or None,
    "address": env.str("CVD_THROTTLE_ADDRESS", default="1200/minute") or None,
    "signin": env.str("CVD_THROTTLE_SIGNIN", default="20/minute") or None,
}
# Filter lists (location, device, …) longer than this are a 400, not a scan of the whole fleet.
CVD_MAX_FILTER_VALUES = env.int("CVD_MAX_FILTER_VALUES", default=1000)
# JSON bodies nested deeper than this are a 400.
CVD_JSON_MAX_DEPTH = env.int("CVD_JSON_MAX_DEPTH", default=32)
# Analytics reads that run longer are stopped by PostgreSQL and answer 503 with a message (0: no limit).
CVD_ANALYTICS_STATEMENT_TIMEOUT_MS = env.int("CVD_ANALYTICS_STATEMENT_TIMEOUT_MS", default=20_000)
# Seconds each web process remembers a host's chain (chains.middleware.ChainMiddleware); 0: looked up every request.
CVD_TENANT_CACHE_SECONDS = env.float("CVD_TENANT_CACHE_SECONDS", default=5.0)
CVD_STATEMENT_TIMEOUT_PATHS = ("/api/analytics/",)
CVD_STATEMENT_TIMEOUT_EXEMPT = ("/api/analytics/export",)
# Sales / bookings / funnel files posted to the API above this size (or with more rows than a JSON batch)
# become background import jobs (202) instead of being imported inside the request.
CVD_API_SYNC_IMPORT_BYTES = env.int("CVD_API_SYNC_IMPORT_BYTES", default=2 * 1024 * 1024)
# Rejected DEX reads are deleted this many days after their upload by a daily task.
CVD_DEX_REJECTED_RETENTION_DAYS = env.int("CVD_DEX_REJECTED_RETENTION_DAYS", default=30)

# --- Content-Security-Policy (django-csp): the project's own scripts, styles and images only --------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# The admin's exports (django-import-export): a cell starting with "=" is written as text, not a formula.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
SPECTACULAR_SETTINGS = {
    "TITLE": "CVD analytics API",
    "DESCRIPTION": "Operations analytics for vending operators and venue chains.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI assets are served from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}
