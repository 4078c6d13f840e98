"""
The development project: ``python manage.py …`` works from the repository root as is.

SQLite file, eager Celery, the standalone host installed, completion tracking on.
Environment variables (all optional) switch to MariaDB and a real broker:

* ``COMPLETION_AGGREGATOR_DB=mysql`` (or ``postgresql``) with ``DB_NAME``/``DB_USER``/``DB_PASSWORD``/
  ``DB_HOST``/``DB_PORT``
* ``CELERY_BROKER_URL`` (a real broker: tasks are no longer eager)
"""
import os
from pathlib import Path

from completion_aggregator.settings import common as aggregator_common

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "waffle",
    "eventtracking.django.apps.EventTrackingConfig",
    "completion",
    "completion_aggregator",
    "completion_aggregator.standalone",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crum.CurrentRequestUserMiddleware",
]

ROOT_URLCONF = "devsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "devsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "devsite.wsgi.application"

if os.environ.get("COMPLETION_AGGREGATOR_DB") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("DB_NAME", "completion_aggregator"),
            "USER": os.environ.get("DB_USER", "postgres"),
            "PASSWORD": os.environ.get("DB_PASSWORD", ""),
            "HOST": os.environ.get("DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DB_PORT", "5432"),
            "TEST": {"NAME": os.environ.get("DB_TEST_NAME", "test_completion_aggregator")},
        }
    }
elif os.environ.get("COMPLETION_AGGREGATOR_DB") == "mysql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ.get("DB_NAME", "completion_aggregator"),
            "USER": os.environ.get("DB_USER", "root"),
            "PASSWORD": os.environ.get("DB_PASSWORD", ""),
            "HOST": os.environ.get("DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DB_PORT", "3306"),
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {
                "NAME": os.environ.get("DB_TEST_NAME", "test_completion_aggregator"),
                "CHARSET": "utf8mb4",
                "COLLATION": "utf8mb4_unicode_ci",
            },
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_DIR"):  # a cache shared between processes without Redis (tests)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ["CACHE_DIR"],
        }
    }
if os.environ.get("REDIS_CACHE_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_CACHE_URL"]}
    }

# event-tracking: events go to the Python log (``eventtracking`` logger) in development.
EVENT_TRACKING_ENABLED = True
EVENT_TRACKING_BACKENDS = {
    "logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend", "OPTIONS": {"name": "tracking"}},
}
EVENT_TRACKING_PROCESSORS = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "/static/"
# One login page for every user, learners included (devsite/urls.py); the admin's refuses non-staff.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Celery: eager unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = "CELERY_BROKER_URL" not in os.environ
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# How long a task taken by a worker that died stays invisible before redelivery (Redis broker).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}

# completion_aggregator: every default, then the development choices.
for _name, _value in aggregator_common.DEFAULTS.items():
    globals()[_name] = _value.copy() if isinstance(_value, (set, dict)) else _value
COMPLETION_AGGREGATOR_ADAPTER = "completion_aggregator.standalone.adapter.StandaloneAdapter"
# With a real broker the project runs as production does: completions only enqueue and
# run_aggregator_service (cron) turns the queue into tasks for the workers.
COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = not CELERY_TASK_ALWAYS_EAGER
# The standalone host commits a structure before announcing it: no need to wait.
COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN = 0

# edx-completion records nothing unless the switch ``completion.enable_completion_tracking`` is on:
# here every switch without a database row counts as on (the project has no other switches).
WAFFLE_SWITCH_DEFAULT = True

# ---------------------------------------------------------------------------------------
# REST API (completion_aggregator.rest_api): OpenAPI schema, and JWTs signed with a
# development key (``python manage.py create_api_token USERNAME`` prints one).
# ---------------------------------------------------------------------------------------
import base64  # noqa: E402
import json  # noqa: E402

if "drf_spectacular" not in INSTALLED_APPS:  # noqa: F821
    INSTALLED_APPS += ["drf_spectacular"]  # noqa: F821  (its Swagger UI templates)
# Swagger UI's JavaScript and CSS from this site (static files), not a CDN: api/docs/ works offline.
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # noqa: F821
REST_FRAMEWORK = {
    **globals().get("REST_FRAMEWORK", {}),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Completion aggregator API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
_JWT_DEV_SECRET = os.environ.get("JWT_SECRET_KEY", "completion-aggregator-dev-jwt-secret-not-for-production")
_JWT_DEV_ISSUER = "http://127.0.0.1:8000/oauth2"
_JWT_DEV_AUDIENCE = "completion-aggregator-dev"
# The dev key is also listed as the (only) verification key: edx-drf-extensions first verifies
# against JWT_PUBLIC_SIGNING_JWK_SET and, when that set is empty, accepts the signature without
# checking it (a token signed with any key would pass). Never leave the set empty.
_JWT_DEV_JWK_SET = json.dumps(
    {"keys": [{"kty": "oct", "k": base64.urlsafe_b64encode(_JWT_DEV_SECRET.encode()).decode().rstrip("=")}]}
)
JWT_AUTH = {
    "JWT_PUBLIC_SIGNING_JWK_SET": _JWT_DEV_JWK_SET,
    "JWT_SECRET_KEY": _JWT_DEV_SECRET,
    "JWT_ISSUER": _JWT_DEV_ISSUER,
    "JWT_AUDIENCE": _JWT_DEV_AUDIENCE,
    "JWT_ALGORITHM": "HS256",
    "JWT_ISSUERS": [{"ISSUER": _JWT_DEV_ISSUER, "AUDIENCE": _JWT_DEV_AUDIENCE, "SECRET_KEY": _JWT_DEV_SECRET}],
    "JWT_AUTH_COOKIE": None,
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    "JWT_DECODE_HANDLER": "edx_rest_framework_extensions.auth.jwt.decoder.jwt_decode_handler",
    "JWT_VERIFY_AUDIENCE": True,
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_SUPPORTED_VERSION": "1.2.0",
}
# Expected authentication failures are one log line each: an invalid or expired JWT is logged by
# edx-drf-extensions with a traceback, which devsite.log_filters.OneLine folds into the line
# (Django's own "Unauthorized: …" / "Forbidden: …" warnings are single lines already).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    **globals().get("LOGGING", {}),
}
LOGGING.setdefault("filters", {})["one_line"] = {"()": "devsite.log_filters.OneLine"}
LOGGING.setdefault("handlers", {})["one_line_console"] = {
    "class": "logging.StreamHandler",
    "filters": ["one_line"],
    "formatter": "one_line_console",
}
LOGGING.setdefault("formatters", {})["one_line_console"] = {"format": "%(levelname)s %(name)s: %(message)s"}
LOGGING.setdefault("loggers", {})["edx_rest_framework_extensions"] = {
    "handlers": ["one_line_console"],
    "level": "WARNING",
    "propagate": False,
}
# ---------------------------------------------------------------------------------------
# End of REST API section.
# ---------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------
# Events and pages (completion_aggregator.events, completion_aggregator.views): tracking
# events also go, one JSON object per line, to a file of this checkout you can watch while
# using the demo (``tail -f demo-events.log`` at the repository root, git-ignored;
# EVENTS_LOG_PATH moves it, an empty value turns it off), and the
# progress bar pages may be embedded from this site and from the origins in
# PROGRESS_BAR_FRAME_ANCESTORS (space-separated, e.g. "http://127.0.0.2:8001").
# ---------------------------------------------------------------------------------------
EVENTS_LOG_PATH = os.environ.get("EVENTS_LOG_PATH", str(BASE_DIR / "demo-events.log"))
if EVENTS_LOG_PATH:
    LOGGING.setdefault("handlers", {})["completion_aggregator_events"] = {
        "class": "logging.FileHandler",
        "filename": EVENTS_LOG_PATH,
        "formatter": "completion_aggregator_event_line",
        "delay": True,
    }
    LOGGING.setdefault("formatters", {})["completion_aggregator_event_line"] = {"format": "%(message)s"}
    LOGGING.setdefault("loggers", {})["completion_aggregator.events.log"] = {
        "handlers": ["completion_aggregator_events"],
        "level": "INFO",
        "propagate": False,
    }
    EVENT_TRACKING_BACKENDS = {  # noqa: F405
        **EVENT_TRACKING_BACKENDS,  # noqa: F405
        "jsonlines": {
            "ENGINE": "eventtracking.backends.logger.LoggerBackend",
            "OPTIONS": {"name": "completion_aggregator.events.log", "max_event_size": None},
        },
    }
COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = [
    "'self'",
    *os.environ.get("PROGRESS_BAR_FRAME_ANCESTORS", "").split(),
]
# With the ``xapi`` extra installed (requirements/xapi.txt) and COMPLETION_AGGREGATOR_XAPI=1,
# edx-event-routing-backends is an app here too, so that our xAPI transformers register (see
# completion_aggregator.xapi). Opt-in: its own migrations are not in sync with this project's
# DEFAULT_AUTO_FIELD, which ``makemigrations --check`` would report.
import importlib.util  # noqa: E402

if os.environ.get("COMPLETION_AGGREGATOR_XAPI") == "1" and importlib.util.find_spec("event_routing_backends"):
    INSTALLED_APPS += ["config_models", "event_routing_backends"]  # noqa: F405
    LMS_ROOT_URL = "http://127.0.0.1:8000"
# ---------------------------------------------------------------------------------------
# End of events and pages section.
# ---------------------------------------------------------------------------------------
