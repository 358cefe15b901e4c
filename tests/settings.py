"""Settings for the in-process tests (engine, protocol, WebSocket integration)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = os.environ.get("TESTS_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sockpuppet",
    "tests.testapp",
    "tests.parity",
    "tests.ported",
]
INSTALLED_APPS.append("tests.docsamples")
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
if os.environ.get("TESTS_CSP") == "1":
    MIDDLEWARE.append("tests.testapp.middleware.StrictContentSecurityPolicy")
if os.environ.get("TESTS_BEHIND_TLS") == "1":  # behind a proxy that terminates HTTPS
    MIDDLEWARE.insert(0, "django.middleware.security.SecurityMiddleware")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# A project's own CSRF header (the client must send the token in it).
CSRF_HEADER_NAME = os.environ.get("TESTS_CSRF_HEADER_NAME", "HTTP_X_CSRFTOKEN")
ROOT_URLCONF = "tests.testapp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sockpuppet.context_processors.reflex",
            ]
        },
    },
    {  # the pages of tests/testapp/jinja2/, rendered with using="jinja2"
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "tests.testapp.jinja2_environment.environment",
            "context_processors": ["sockpuppet.context_processors.reflex"],
        },
    },
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TESTS_DB", str(BASE_DIR / "tests.sqlite3")),
    }
}
SESSION_ENGINE = os.environ.get("TESTS_SESSION_ENGINE", "django.contrib.sessions.backends.db")
# Where the CSRF secret lives: "cookie" (Django's default), "httponly" (a cookie the page
# cannot read) or "session" (CSRF_USE_SESSIONS).
CSRF_COOKIE_HTTPONLY = os.environ.get("TESTS_CSRF", "cookie") == "httponly"
CSRF_USE_SESSIONS = os.environ.get("TESTS_CSRF", "cookie") == "session"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
STATIC_URL = "static/"  # relative: under the script prefix of a site under a sub-path
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SOCKPUPPET = {
    "TRANSPORTS": os.environ.get("SOCKPUPPET_TRANSPORTS", "websocket,sse,longpoll").split(","),
    "BUS": os.environ.get("SOCKPUPPET_BUS", "memory"),
}
# Limits and timings a test server tightens through its environment (tests/hardening).
for _key in (
    "HEARTBEAT",
    "LONGPOLL_TIMEOUT",
    "REFLEX_TIMEOUT",
    "MAX_MESSAGE_BYTES",
    "MAX_QUEUE",
    "MAX_PENDING_REFLEXES",
    "MAX_CONNECTIONS_PER_SESSION",
    "MAX_REFLEXES_PER_SECOND",
    "REFLEX_THREADS",
):
    if f"SOCKPUPPET_{_key}" in os.environ:
        _value = os.environ[f"SOCKPUPPET_{_key}"]
        SOCKPUPPET[_key] = int(_value) if _value.isdigit() else float(_value)
