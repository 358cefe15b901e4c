"""System checks: misconfiguration is reported at startup, naming the offending key."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Warning, register

from sockpuppet.conf import DEFAULTS, TRANSPORT_NAMES, settings

CONTEXT_PROCESSOR = "sockpuppet.context_processors.reflex"


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """SOCKPUPPET's keys and values."""
    errors: list[CheckMessage] = []
    user = getattr(django_settings, "SOCKPUPPET", {}) or {}
    if not isinstance(user, dict):
        return [Error("SOCKPUPPET must be a dict.", id="sockpuppet.E001")]
    for key in user:
        if key not in DEFAULTS:
            errors.append(
                Error(
                    f'SOCKPUPPET["{key}"] is not a Sockpuppet setting.',
                    hint=f"Known: {', '.join(DEFAULTS)}.",
                    id="sockpuppet.E002",
                )
            )
    transports = settings.TRANSPORTS
    if (
        not transports
        or not isinstance(transports, list | tuple)
        or any(t not in TRANSPORT_NAMES for t in transports)
    ):
        errors.append(
            Error(
                f'SOCKPUPPET["TRANSPORTS"] = {transports!r} is invalid.',
                hint=f"A non-empty list of {', '.join(TRANSPORT_NAMES)}, in fallback order.",
                id="sockpuppet.E003",
            )
        )
    bus = settings.BUS
    if not isinstance(bus, str) or not (
        bus == "memory" or bus.startswith(("redis://", "rediss://", "unix://"))
    ):
        errors.append(
            Error(
                f'SOCKPUPPET["BUS"] = {bus!r} is invalid.',
                hint='"memory" or a Redis URL: "redis://host:6379/0", "rediss://…" (TLS) or '
                '"unix:///path/to/redis.sock?db=0".',
                id="sockpuppet.E004",
            )
        )
    errors.extend(_check_origins(settings.ALLOWED_ORIGINS))
    prefix = settings.URL_PREFIX
    if not isinstance(prefix, str) or not prefix.startswith("/") or not prefix.endswith("/"):
        errors.append(
            Error(
                f'SOCKPUPPET["URL_PREFIX"] = {prefix!r} must start and end with "/".',
                id="sockpuppet.E005",
            )
        )
    for key in (
        "HEARTBEAT",
        "LONGPOLL_TIMEOUT",
        "HISTORY_LENGTH",
        "HISTORY_TTL",
        "HISTORY_MAX_BYTES",
        "MAX_MESSAGE_BYTES",
        "MAX_QUEUE",
        "MAX_PENDING_REFLEXES",
        "MAX_REFLEXES_PER_SECOND",
        "MAX_CONNECTIONS_PER_SESSION",
        "REFLEX_TIMEOUT",
        "TOKEN_MAX_AGE",
        "REFLEX_THREADS",
    ):
        value = getattr(settings, key)
        if key == "REFLEX_THREADS" and value is None:
            continue
        kinds = int if key == "REFLEX_THREADS" else int | float
        if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
            what = "whole number" if key == "REFLEX_THREADS" else "number"
            errors.append(
                Error(
                    f'SOCKPUPPET["{key}"] = {value!r} must be a positive {what}.',
                    id="sockpuppet.E006",
                )
            )
    return errors


def _check_origins(origins: Any) -> list[CheckMessage]:
    """A list of origins as browsers send them: ``https://host[:port]``, or
    ``https://*.example.com`` for its subdomains. A string would be read letter by letter."""
    if isinstance(origins, list | tuple):
        bad = [o for o in origins if not isinstance(o, str) or not _is_origin(o)]
        if not bad:
            return []
        what = f"has entries that are not origins: {', '.join(map(repr, bad))}."
    else:
        what = f"= {origins!r} is not a list."
    return [
        Error(
            f'SOCKPUPPET["ALLOWED_ORIGINS"] {what}',
            hint='A list of origins, e.g. ["https://app.example.com", "https://*.example.com"]: '
            "a scheme and a host (and port), no path.",
            id="sockpuppet.E008",
        )
    ]


def _is_origin(value: str) -> bool:
    parts = urlsplit(value.rstrip("/"))
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not (parts.path or parts.query or parts.fragment)
    )


@register()
def check_project(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The context processor and session middleware a reflex needs."""
    messages: list[CheckMessage] = []
    templates: list[dict[str, Any]] = list(django_settings.TEMPLATES)
    django_templates = [t for t in templates if t.get("BACKEND", "").endswith("DjangoTemplates")]
    if django_templates and not any(
        CONTEXT_PROCESSOR in t.get("OPTIONS", {}).get("context_processors", [])
        for t in django_templates
    ):
        messages.append(
            Warning(
                f"{CONTEXT_PROCESSOR} is not in TEMPLATES' context_processors.",
                hint="Add it, or the attributes a reflex sets are not visible to templates on a page morph.",
                id="sockpuppet.W001",
            )
        )
    if "django.contrib.sessions.middleware.SessionMiddleware" not in django_settings.MIDDLEWARE:
        messages.append(
            Error(
                "Sockpuppet needs django.contrib.sessions.middleware.SessionMiddleware in MIDDLEWARE.",
                hint="Connection tokens are bound to the visitor's session.",
                id="sockpuppet.E007",
            )
        )
    return messages


@register()
def check_reflex_modules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """An app's ``reflexes.py`` beside a ``reflexes/`` package is never imported."""
    from django.apps import apps

    messages: list[CheckMessage] = []
    for config in app_configs or apps.get_app_configs():
        root = Path(config.path)
        if (root / "reflexes.py").is_file() and (root / "reflexes" / "__init__.py").is_file():
            messages.append(
                Warning(
                    f"{root / 'reflexes.py'} is never imported: Python imports the "
                    f"reflexes/ package beside it, so its reflexes are not found.",
                    hint="Move its classes into a module of the reflexes/ package and delete it.",
                    obj=config.label,
                    id="sockpuppet.W006",
                )
            )
    return messages


def check_memory_bus() -> list[CheckMessage]:
    """The memory bus serves one process only."""
    workers = _declared_workers()
    if settings.BUS != "memory" or workers <= 1:
        return []
    return [
        Warning(
            f'SOCKPUPPET["BUS"] is "memory" but {workers} worker processes are configured.',
            hint="Each process would hold its own bus: answers and broadcasts would not reach "
            "connections held by the others. Use the Redis bus (a redis:// URL).",
            id="sockpuppet.W002",
        )
    ]


@register()
def check_bus(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The memory bus serves one process only; a Redis bus must answer. Also run as the
    ASGI app starts (a server's processes run no system checks), so that ``uvicorn
    --workers 4`` on the memory bus, or a Redis down, is told in the server's log."""
    bus = settings.BUS
    if bus == "memory":
        return check_memory_bus()
    if isinstance(bus, str) and bus.startswith(("redis://", "rediss://", "unix://")):
        import redis

        try:
            with redis.Redis.from_url(bus, socket_connect_timeout=1, socket_timeout=1) as client:
                client.ping()
                return _check_eviction(client, bus)
        except redis.RedisError as exc:
            return [
                Warning(
                    f'SOCKPUPPET["BUS"]: Redis at {_masked(bus)} does not answer ({exc}).',
                    hint="Connections will be refused (WebSocket close 1013, HTTP 503) until it does.",
                    id="sockpuppet.W003",
                )
            ]
    return []


def _check_eviction(client: Any, bus: str) -> list[CheckMessage]:
    """Under a ``maxmemory``, a policy other than ``noeviction`` drops streams' keys."""
    import redis

    try:
        config = client.config_get("maxmemory*")
    except redis.ResponseError:  # CONFIG disabled (a managed Redis): nothing to tell
        return []
    policy = config.get("maxmemory-policy", "noeviction")
    if str(config.get("maxmemory", "0")) == "0" or policy == "noeviction":
        return []
    return [
        Warning(
            f'SOCKPUPPET["BUS"]: Redis at {_masked(bus)} evicts keys when full '
            f"(maxmemory-policy {policy}).",
            hint="An evicted stream restarts its positions and open pages drop its messages "
            "unseen. Give Sockpuppet a Redis of its own or set maxmemory-policy noeviction "
            "(a full Redis then refuses writes with a clear error).",
            id="sockpuppet.W007",
        )
    ]


# Session engines that read a session from a cache, and cache backends private to a process.
_CACHED_SESSIONS = (
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
)
_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register()
def check_sessions(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """On the Redis bus any process may run a visitor's next reflex: a session cached in
    one process's memory is stale there once another process changed it."""
    bus = settings.BUS
    if not isinstance(bus, str) or not bus.startswith(("redis://", "rediss://", "unix://")):
        return []
    engine = django_settings.SESSION_ENGINE
    if engine not in _CACHED_SESSIONS:
        return []
    alias = django_settings.SESSION_CACHE_ALIAS
    backend = django_settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend not in _PROCESS_CACHES:
        return []
    return [
        Warning(
            f'SESSION_ENGINE = "{engine}" reads sessions from the "{alias}" cache, a '
            f'{backend.rsplit(".", 1)[-1]} of each process, but SOCKPUPPET["BUS"] is Redis, '
            "for several processes.",
            hint="A reflex, a POST send or a poll may reach any of them: one that cached a "
            "visitor's session reads its stale copy once another changed it (a count lost, a "
            "login not seen). Give sessions a cache the processes share (RedisCache, "
            "Memcached) or the db engine; with one process only, silence sockpuppet.W005.",
            id="sockpuppet.W005",
        )
    ]


def _declared_workers() -> int:
    """Worker processes asked for on the server's command line (``--workers 4``, gunicorn's
    ``-w 4``, also in ``GUNICORN_CMD_ARGS``), in gunicorn's configuration file, or through
    the environment (gunicorn, uvicorn). A server's worker processes inherit its command
    line."""
    import os
    import shlex
    import sys

    arguments = [*sys.argv[1:], *shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))]
    value = _option(arguments, "--workers", "-w")
    if value is not None and value.isdigit():
        return int(value)
    if any(part.startswith("gunicorn") for part in Path(sys.argv[0]).parts[-2:]):
        configured = _configured_workers(_option(arguments, "--config", "-c"))
        if configured is not None:
            return configured
    for name in ("WEB_CONCURRENCY", "UVICORN_WORKERS"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def _option(arguments: list[str], long: str, short: str) -> str | None:
    """The value of a command-line option (``--name V``, ``--name=V``, ``-n V``, ``-nV``)."""
    for index, argument in enumerate(arguments):
        name, equals, value = argument.partition("=")
        if name in (long, short):
            if not equals and index + 1 < len(arguments):
                value = arguments[index + 1]
        elif name.startswith(short) and not equals:
            value = name[len(short) :]
        else:
            continue
        return value
    return None


def _configured_workers(config: str | None) -> int | None:
    """``workers = N`` in gunicorn's configuration file (``-c``; ``./gunicorn.conf.py`` by
    default), read without running it; None when it sets no literal number."""
    import ast

    path = Path(config or "gunicorn.conf.py")
    if (config or "").startswith("python:") or not path.is_file():
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    found = None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "workers" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and type(node.value.value) is int
        ):
            found = node.value.value
    return found


def _masked(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


@register()
def check_transports_package(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A module of the project named ``transports`` hides Sockpuppet's top-level package
    (uvicorn would refuse to load the application)."""
    from django.core.exceptions import ImproperlyConfigured

    from sockpuppet.asgi import transports_package

    try:
        transports_package()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="sockpuppet.E009")]
    return []


@register()
def check_asgi(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The project's ASGI module should serve Sockpuppet's endpoints."""
    import importlib.util

    target = getattr(django_settings, "ASGI_APPLICATION", None)
    if target:
        module = target.rsplit(".", 1)[0]
    elif django_settings.SETTINGS_MODULE:
        module = django_settings.SETTINGS_MODULE.rsplit(".", 1)[0] + ".asgi"
    else:  # settings.configure(), or inside override_settings: no module to look beside
        return []
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if target and spec is None:
        return [
            Warning(
                f"ASGI_APPLICATION names {target}, whose module {module} does not exist.",
                hint="django-sockpuppet's 'sockpuppet.routing.application' is gone: point "
                "ASGI_APPLICATION at your project's asgi.py application, which uses "
                "sockpuppet.asgi.get_asgi_application() (docs/migrating.md).",
                id="sockpuppet.W004",
            )
        ]
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return []  # no ASGI module to look at (WSGI-only tooling, tests)
    with open(spec.origin, encoding="utf-8") as source:
        if "sockpuppet" in source.read():
            return []
    return [
        Warning(
            f"{module} does not use sockpuppet.asgi.get_asgi_application().",
            hint="Without it nothing serves /sockpuppet/ (negotiate, ws, sse, poll, send) and "
            "every page's client fails to connect. See docs/deployment.md.",
            id="sockpuppet.W004",
        )
    ]
