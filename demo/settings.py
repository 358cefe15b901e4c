"""Settings of the demo project: embedded defaults (SQLite, in-memory bus), no services needed.

The tests start this same project under uvicorn and steer it with environment variables:
``SOCKPUPPET_TRANSPORTS`` (comma list), ``SOCKPUPPET_BUS`` (``memory`` or a Redis URL),
``DEMO_DATABASE`` (path of the SQLite file), ``DEMO_DEBUG`` (``0`` turns DEBUG off),
``DEMO_SESSION_ENGINE`` (a Django session backend; by default ``cached_db`` on the memory
bus, one process, and ``db`` on a Redis bus),
``SOCKPUPPET_MAX_REFLEXES_PER_SECOND`` (the benchmarks raise it).

``DEMO_CELERY_BROKER`` (e.g. ``redis://127.0.0.1:6379/1``) runs the background jobs of
``demo/jobs`` on Celery workers (``celery -A demo worker``) instead of in a thread of the
web process; it needs ``SOCKPUPPET_BUS`` set to a Redis URL, in the web processes and the
workers alike. ``DEMO_JOB_STEPS`` and ``DEMO_JOB_STEP_SECONDS`` size the pretend job.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-insecure-key-do-not-use-in-production")
DEBUG = os.environ.get("DEMO_DEBUG", "1") != "0"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sockpuppet",
    "demo.counter",
    "demo.todos",
    "demo.playground",
    "demo.chat",
    "demo.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "demo" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sockpuppet.context_processors.reflex",
            ],
        },
    },
]

ASGI_APPLICATION = "demo.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", str(BASE_DIR / "db.sqlite3")),
        # Sessions are written on every reflex, by several threads and processes. WAL lets
        # readers go on while one writes and, with synchronous=NORMAL, commits without an
        # fsync each; IMMEDIATE takes the write lock up front (no deadlock to retry).
        # Reflexes run on a fixed pool of threads, so their connections are kept and reused;
        # a page request's thread is its own, and its connection (a SQLite file handle) is
        # closed as it ends (demo/asgi.py).
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "demo" / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

SOCKPUPPET = {
    "TRANSPORTS": [
        name.strip()
        for name in os.environ.get("SOCKPUPPET_TRANSPORTS", "websocket,sse,longpoll").split(",")
        if name.strip()
    ],
    "BUS": os.environ.get("SOCKPUPPET_BUS", "memory"),
    # Benchmarks click faster than any person: they raise the per-connection limit.
    "MAX_REFLEXES_PER_SECOND": int(os.environ.get("SOCKPUPPET_MAX_REFLEXES_PER_SECOND", "50")),
}

# Sessions live in the database. On the memory bus the demo is one process, so they are
# read from this process's memory and written through to the database (``cached_db``):
# a reflex that changes the session costs one query instead of two. Several processes
# (a Redis bus) must not each keep a copy that another one changes: they read the database.
one_process = SOCKPUPPET["BUS"] == "memory"  # lower case: not a setting
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},  # a session each; the oldest go first
    }
}
SESSION_ENGINE = os.environ.get(
    "DEMO_SESSION_ENGINE",
    "django.contrib.sessions.backends.cached_db"
    if one_process
    else "django.contrib.sessions.backends.db",
)
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Background jobs (demo/jobs): a Celery broker when one is given, else a thread of this process.
DEMO_JOB_STEPS = int(os.environ.get("DEMO_JOB_STEPS", "10"))
DEMO_JOB_STEP_SECONDS = float(os.environ.get("DEMO_JOB_STEP_SECONDS", "0.4"))

if os.environ.get("DEMO_CELERY_BROKER"):
    CELERY_BROKER_URL = os.environ["DEMO_CELERY_BROKER"]
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_TASK_IGNORE_RESULT = True
    if SOCKPUPPET["BUS"] == "memory":
        # A worker is another process: what it broadcasts on its own memory bus reaches no
        # browser (and warns there). Refuse to start half-working instead.
        raise ImproperlyConfigured(
            "DEMO_CELERY_BROKER is set, so jobs run on Celery workers, but SOCKPUPPET_BUS is "
            "'memory': a worker's broadcasts would never reach the web process. Set "
            "SOCKPUPPET_BUS to a Redis URL (e.g. redis://127.0.0.1:6379/0) for the web "
            "processes and the workers alike."
        )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "sockpuppet": {"handlers": ["console"], "level": os.environ.get("DEMO_LOG_LEVEL", "INFO")},
    },
}
