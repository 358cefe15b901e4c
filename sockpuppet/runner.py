"""Runs one reflex, synchronously (in a worker thread), and returns its answer.

The answer is a server message (``docs/protocol.md``): ``operations``, ``nothing``,
``halted``, ``forbidden`` or ``error``. Every failure becomes an ``error`` answer and a
log record on the ``sockpuppet`` logger; nothing escapes.
"""

from __future__ import annotations

import inspect
import logging
import os
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings as django_settings
from django.core.exceptions import TooManyFieldsSent
from django.core.handlers.asgi import get_script_prefix
from django.core.signals import setting_changed
from django.db import close_old_connections
from django.dispatch import receiver
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix

from sockpuppet import csrf, fragments, registry, sessions
from sockpuppet.conf import settings
from sockpuppet.connection import Connection
from sockpuppet.element import Element
from sockpuppet.handler import RUN_ATTRIBUTE, ReflexHandler
from sockpuppet.protocol import ReflexMessage
from sockpuppet.reflex import Forbid, Halt, Reflex
from sockpuppet.requests import build_request

logger = logging.getLogger("sockpuppet")
security_logger = logging.getLogger("django.security.TooManyFieldsSent")  # as Django logs it

_handler: ReflexHandler | None = None
_executor: ThreadPoolExecutor | None = None
_in_thread: Callable[[Connection, ReflexMessage], Awaitable[dict[str, Any]]] | None = None


def executor() -> ThreadPoolExecutor:
    """The threads reflexes run on, apart from the loop's default executor: a reflex that
    hangs holds one of these, never a thread a handshake needs. A fixed pool, so database
    connections kept by ``CONN_MAX_AGE`` are reused, one per thread."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.REFLEX_THREADS or min(32, (os.cpu_count() or 1) + 4),
            thread_name_prefix="sockpuppet-reflex",
        )
    return _executor


def in_thread() -> Callable[[Connection, ReflexMessage], Awaitable[dict[str, Any]]]:
    """``run`` as a coroutine function on the reflex threads; made once (asgiref's wrapper
    costs more to build than to call)."""
    global _in_thread
    if _in_thread is None:
        _in_thread = sync_to_async(run, thread_sensitive=False, executor=executor())
    return _in_thread


@receiver(setting_changed)
def _middleware_changed(*, setting: str, **kwargs: Any) -> None:
    """``override_settings(MIDDLEWARE=…)`` reaches the reflexes a test runs."""
    global _handler
    if setting == "MIDDLEWARE":
        _handler = None


def get_handler() -> ReflexHandler:
    global _handler
    if _handler is None:
        _handler = ReflexHandler()
    return _handler


class SessionChanged(Exception):
    """The session cookie a WebSocket connection opened with names a session that is gone:
    another tab logged in or out (``cycle_key``, ``flush``), or it expired. The browser's
    cookie is newer than the connection's: the reflex does not run; the transport makes
    the client reconnect (with the browser's cookies) and send it again."""


def run(connection: Connection, message: ReflexMessage) -> dict[str, Any]:
    """Run ``message`` for ``connection`` and return the answer (without stream/position)."""
    reflex_id = message["id"]
    close_old_connections()
    try:
        with sessions.notices_after_answer() as notices:
            try:
                return _run(connection, message)
            finally:
                connection.after_answer.extend(notices)
    except (registry.TargetError, fragments.FragmentError) as exc:
        # As Django logs a 404: a typo in a template's data-reflex shows in the server log.
        logger.warning("Reflex %s refused: %s", message.get("target"), exc)
        return _error(reflex_id, str(exc))
    except SessionChanged:
        raise
    except TooManyFieldsSent as exc:  # the browser's form, not the server, is at fault
        security_logger.warning("Reflex %s refused: %s", message.get("target"), exc)
        return _error(reflex_id, f"The reflex's form has too many fields: {exc}")
    except Exception as exc:
        logger.exception("Reflex %s failed", message.get("target"))
        return _error(reflex_id, _describe(message.get("target"), exc), exc)
    finally:
        close_old_connections()


def _run(connection: Connection, message: ReflexMessage) -> dict[str, Any]:
    reflex_id = message["id"]
    target = message["target"]
    cls, method_name = registry.resolve(target) if target else (Reflex, None)
    fragments.check_roots(message["selectors"])  # before the reflex changes anything
    request = build_request(connection, message["url"])
    # As Django's handler does for each request: reverse() and {% url %} in this thread
    # then include the prefix a site served under a sub-path has (FORCE_SCRIPT_NAME or
    # the server's root_path), as on the page.
    set_script_prefix(get_script_prefix(request.scope))
    request.sockpuppet_stream = connection.stream  # type: ignore[attr-defined] # sessions
    params = _params(message)
    outcome: dict[str, Any] = {}

    def run_inside_middleware() -> bool:
        if connection.transport == "websocket" and _session_gone(request):
            raise SessionChanged(connection.id)
        outcome["csrf"] = csrf.secret(request)
        reflex = cls(
            request=request,
            element=Element(
                message["attrs"],
                message["dataset"],
                message.get("innerHTML", ""),
                message.get("textContent", ""),
            ),
            params=params,
            url=message["url"],
            reflex_id=reflex_id,
            selectors=message["selectors"],
        )
        request.sockpuppet_reflex = reflex  # type: ignore[attr-defined]
        outcome["reflex"] = reflex
        method = getattr(reflex, method_name) if method_name else None
        if method is not None:
            registry.check_arguments(method, message["args"])
        try:
            _call(reflex.before_reflex)
            if method is not None:
                _call(method, *message["args"])
            _call(reflex.after_reflex)
        except Halt:
            outcome["type"] = "halted"
            return False
        except Forbid:
            outcome["type"] = "forbidden"
            return False
        finally:
            csrf.keep_in_session(request)
        return reflex.morph_kind == "page"

    setattr(request, RUN_ATTRIBUTE, run_inside_middleware)
    response = get_handler().get_response(request)
    error = getattr(request, "sockpuppet_error", None)
    if isinstance(error, SessionChanged):
        raise error  # before its cookies are kept: the empty session's deletion of the cookie
    _keep_cookies(connection, response)
    if isinstance(error, registry.TargetError):
        raise error
    answer = _answer(reflex_id, message, outcome, response, error)
    if "csrf" in outcome and (token := csrf.new_token(request, response, outcome["csrf"])):
        answer["csrfToken"] = token  # a login rotated it: the page connects again with it
    return answer


def _answer(
    reflex_id: str,
    message: ReflexMessage,
    outcome: dict[str, Any],
    response: HttpResponseBase,
    error: BaseException | None,
) -> dict[str, Any]:
    target = message["target"]
    if error is not None:
        logger.error("Reflex %s failed", target, exc_info=error)
        return _error(reflex_id, _describe(target, error), error)
    if "type" in outcome:
        return {"type": outcome["type"], "reflexId": reflex_id}
    if "reflex" not in outcome:  # a middleware answered the request before the reflex ran
        if _redirects(response):
            # The reflex did not run; the browser goes where a load of the page would have
            # gone (LoginRequiredMiddleware: to log in, then back).
            logger.info("Reflex %s not run: the page's request redirects", target)
            return _page(reflex_id, message, response)
        status = response.status_code
        hint = _MIDDLEWARE_HINTS.get(status, _MIDDLEWARE_HINTS.get(status // 100, ""))
        return _error(
            reflex_id,
            f"{target} did not run: a middleware answered the page's request with HTTP "
            f"{status} before it{hint}.",
        )
    reflex: Reflex = outcome["reflex"]
    if reflex.morph_kind == "nothing":
        return {"type": "nothing", "reflexId": reflex_id}
    if reflex.morph_kind == "selector":
        return _operations(reflex_id, "selector", reflex.selector_operations)
    return _page(reflex_id, message, response)


# Why a middleware may answer a reflex's request itself: by status, else by its class (2xx…).
_MIDDLEWARE_HINTS = {
    2: " (Django's cache middleware, from its cache?)",
    400: " (a Host not in ALLOWED_HOSTS? The server's log says why)",
}


def _call(function: Any, *args: Any) -> Any:
    """Call an action or hook, awaiting it if it is ``async def`` (each runs to its end
    here, in the reflex's thread, so ``halt()`` and exceptions behave alike)."""
    result = function(*args)
    if inspect.isawaitable(result):
        return async_to_sync(_awaited)(result)
    return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _redirects(response: HttpResponseBase) -> bool:
    return response.status_code in (301, 302, 303, 307, 308) and response.has_header("Location")


def _page(reflex_id: str, message: ReflexMessage, response: HttpResponseBase) -> dict[str, Any]:
    if _redirects(response):
        return _operations(
            reflex_id,
            "page",
            [{"op": "redirect_to", "selector": None, "url": response["Location"]}],
        )
    if response.status_code != 200 or not isinstance(response, HttpResponse):
        return _error(
            reflex_id,
            f"Re-rendering {message['url']} answered with HTTP {response.status_code}, not a page.",
        )
    page = response.content.decode(response.charset)
    try:
        roots = fragments.inner_html(page, message["selectors"] or ["body"])
    except fragments.FragmentError as exc:
        return _error(reflex_id, str(exc))
    permanent = message["permanentAttributeName"] or "data-reflex-permanent"
    operations = [
        {
            "op": "morph",
            "selector": selector,
            "html": html,
            "childrenOnly": True,
            "permanentAttributeName": permanent,
        }
        for selector, html in roots
    ]
    return _operations(reflex_id, "page", operations)


def _operations(reflex_id: str, morph: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "operations", "reflexId": reflex_id, "morph": morph, "operations": operations}


def _params(message: ReflexMessage) -> QueryDict:
    params = QueryDict(message["formData"], mutable=True)
    for key, value in message["params"].items():
        params.setlist(
            str(key), [str(v) for v in value] if isinstance(value, list) else [str(value)]
        )
    params._mutable = False
    return params


def _session_gone(request: Any) -> bool:
    """True when the request's session cookie names a session that no longer loads."""
    session = getattr(request, "session", None)
    if session is None or not request.COOKIES.get(django_settings.SESSION_COOKIE_NAME):
        return False
    session.keys()  # loads it; the key of one that is gone becomes None
    return session.session_key is None


def _keep_cookies(connection: Connection, response: HttpResponseBase) -> None:
    """Carry cookies the reflex changed (a login's new session) into later reflexes, and
    note them for the browser (``sockpuppet.cookies``)."""
    for name, morsel in response.cookies.items():
        gone = morsel["max-age"] == 0 or morsel.value == ""
        if connection.cookies.get(name) != (None if gone else morsel.value):
            connection.set_cookies[name] = morsel
        if gone:
            connection.cookies.pop(name, None)
        else:
            connection.cookies[name] = morsel.value


def _describe(target: str | None, exc: BaseException) -> str:
    if django_settings.DEBUG:
        return f"{target} raised {type(exc).__name__}: {exc}"
    return f"{target} failed on the server; the details are in the server log."


def _error(reflex_id: str, message: str, exc: BaseException | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"type": "error", "reflexId": reflex_id, "message": message}
    if exc is not None and django_settings.DEBUG:
        answer["traceback"] = "".join(traceback.format_exception(exc))
    return answer
