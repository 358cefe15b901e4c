"""The ASGI application: Django for pages, plus every enabled transport's endpoints.

This is the composition root, the one module that knows both ``sockpuppet`` and
``transports``. Use it in your project's ``asgi.py``::

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from sockpuppet.asgi import get_asgi_application
    application = get_asgi_application()

With ``DEBUG`` on and ``django.contrib.staticfiles`` installed, static files (the client
bundle included) are served as ``runserver`` serves them.
"""

from __future__ import annotations

import logging
from typing import Any

import django
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest
from django.urls import ResolverMatch
from django.utils.module_loading import import_string

import transports
from sockpuppet.bus import reset_bus
from sockpuppet.conf import settings

Scope = dict[str, Any]

logger = logging.getLogger("sockpuppet")


class ViewHandler(ASGIHandler):
    """Django's ASGI handler, full middleware included, always routing to one view."""

    def __init__(self, view: str) -> None:
        super().__init__()
        self.view = view

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        view = import_string(self.view)
        request.resolver_match = ResolverMatch(view, (), {}, url_name=f"sockpuppet-{view.__name__}")
        return request.resolver_match


class BareViewHandler(ViewHandler):
    """A ``ViewHandler`` without the project's middleware: for ``POST cookies``, whose
    answer must carry exactly the cookies of its token. Through the middleware, the
    browser's old session cookie (of a session a login just replaced) loads an empty
    session, and a middleware that reads it made ``SessionMiddleware`` delete the new
    session cookie from the same answer."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        get_response = self._get_response_async if is_async else self._get_response  # type: ignore[attr-defined]
        self._middleware_chain = convert_exception_to_response(get_response)


class SockpuppetApplication:
    """Routes ``URL_PREFIX``'s paths to Sockpuppet's endpoints and the rest to Django."""

    def __init__(self, django_app: Any) -> None:
        self.django_app = django_app
        self.prefix = settings.URL_PREFIX
        self.endpoints = {
            ("http", "negotiate"): ViewHandler("sockpuppet.views.negotiate"),
            ("http", "cookies"): BareViewHandler("sockpuppet.cookies.set_cookies"),
            **transports_package().endpoints(list(settings.TRANSPORTS)),
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = _under_script_prefix(scope)
        if not path.startswith(self.prefix):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
                return
            await self.django_app(scope, receive, send)
            return
        endpoint = self.endpoints.get((scope["type"], path[len(self.prefix) :]))
        if endpoint is None:
            await _not_found(scope, send)
            return
        await endpoint(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await reset_bus()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _under_script_prefix(scope: Scope) -> str:
    """The scope's path without the prefix a site served under a sub-path has
    (``FORCE_SCRIPT_NAME``, else the server's ``root_path``), as Django reads it."""
    path = str(scope["path"])
    script = get_script_prefix(scope).rstrip("/")
    if script and (path == script or path.startswith(script + "/")):
        return path[len(script) :] or "/"
    return path


async def _not_found(scope: Scope, send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1000})
        return
    body = (
        b"Not a Sockpuppet endpoint (or its transport is not enabled in SOCKPUPPET['TRANSPORTS'])."
    )
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def transports_package() -> Any:
    """Sockpuppet's top-level ``transports`` package, or a clear error when a module of
    the project by that name comes first on ``sys.path`` and hides it."""
    if callable(getattr(transports, "endpoints", None)) and hasattr(transports, "TRANSPORTS"):
        return transports
    where = getattr(transports, "__file__", None) or list(getattr(transports, "__path__", []))
    raise ImproperlyConfigured(
        f"The module 'transports' imported from {where} is not Sockpuppet's: a module or app "
        "of your project named 'transports' hides Sockpuppet's top-level package of that "
        "name. Rename yours."
    )


def get_asgi_application(*, serve_static: bool | None = None) -> SockpuppetApplication:
    """The project's ASGI app: Django plus Sockpuppet's endpoints.

    ``serve_static`` (default: ``DEBUG``) serves ``STATIC_URL`` from the static files
    finders, as ``runserver`` does; in production let the web server or WhiteNoise do it.
    """
    django.setup(set_prefix=False)
    from sockpuppet.checks import check_bus

    # No system checks run in a server's workers: a memory bus in several of them, or a
    # Redis that does not answer, is told in the log as each one starts.
    for warning in check_bus():
        logger.warning("%s (%s) %s", warning.msg, warning.id, warning.hint)
    django_app: Any = ASGIHandler()
    if serve_static is None:
        serve_static = django_settings.DEBUG
    if serve_static and apps.is_installed("django.contrib.staticfiles"):
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        django_app = ASGIStaticFilesHandler(django_app)
    return SockpuppetApplication(django_app)
