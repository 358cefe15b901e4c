"""Django's own request handler, with the reflex run inside the middleware chain.

The reflex's request goes through every middleware exactly like a page request
(sessions, auth, messages, locale, then each ``process_view`` for the page's view:
``LoginRequiredMiddleware``), then, in place of the view, the reflex runs; for a page
morph the view then runs too, with the same request. Session changes and messages
are saved by the middleware on the way out. Nothing is monkey-patched: the view finds
the reflex on ``request.sockpuppet_reflex`` through the context processor, and a
``TemplateResponse``'s context gets the reflex's attributes on top through Django's own
``process_template_response`` hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse

RUN_ATTRIBUTE = "_sockpuppet_run"
# Set once the view middleware ran, before the reflex: the page's render skips it then.
_VIEWS_CHECKED = "_sockpuppet_views_checked"


class ReflexHandler(BaseHandler):
    """A sync handler whose innermost step is ``request._sockpuppet_run()``.

    That callable runs the reflex and returns whether the page must be rendered. Any
    exception is kept on ``handler_error`` of the request instead of becoming a 500 page.
    """

    def __init__(self) -> None:
        super().__init__()
        self.load_middleware(is_async=False)
        # Runs last before a TemplateResponse renders, after the project's own
        # process_template_response methods.
        self._template_response_middleware.append(self.process_template_response)  # type: ignore[attr-defined]
        self._view_middleware = [_once(m) for m in self._view_middleware]  # type: ignore[has-type]

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        """Over a ``TemplateResponse`` (class-based views), the reflex's attributes win
        over the view's context, as django-sockpuppet merged them over
        ``get_context_data``: a view that sets ``count = 0`` shows the ``self.count`` its
        reflex set."""
        reflex = getattr(request, "sockpuppet_reflex", None)
        if reflex is not None and isinstance(response.context_data, dict):
            response.context_data = {**response.context_data, **reflex.get_context_data()}
        return response

    def _get_response(self, request: HttpRequest) -> Any:
        # With ATOMIC_REQUESTS the reflex runs in a transaction, as a view would: an
        # exception rolls back what it wrote. (The page's view then gets its own.)
        run = cast(Callable[[], bool], self.make_view_atomic(getattr(request, RUN_ATTRIBUTE)))
        try:
            try:
                refused = self._view_middleware_answer(request)
            except (Http404, PermissionDenied, BadRequest, SuspiciousOperation) as exc:
                return response_for_exception(request, exc)
            if refused is not None:
                return refused  # the reflex does not run (the runner says why)
            if not run():
                return HttpResponse(status=204)
            try:
                return super()._get_response(request)  # type: ignore[misc]
            except (Http404, PermissionDenied, BadRequest, SuspiciousOperation) as exc:
                # No page at the URL the client named, or not for this visitor (a 403 of
                # @permission_required): the answer Django gives a page request, logged as
                # Django logs it; the runner answers "HTTP 404" or "HTTP 403", a clear
                # error, not a failure of the server, and the session is saved.
                return response_for_exception(request, exc)
        except Exception as exc:  # the runner reports it; the middleware still completes
            request.sockpuppet_error = exc  # type: ignore[attr-defined]
            response = HttpResponse(status=500)  # as for a failed page: the session is not saved
            response._has_been_logged = True  # type: ignore[attr-defined] # the runner logs it
            return response

    def _view_middleware_answer(self, request: HttpRequest) -> Any:
        """Run the middleware's ``process_view`` for the page's view before the reflex, as
        a page request does before its view: ``LoginRequiredMiddleware`` turning an
        anonymous visitor away answers, and the reflex does not run. None: go on. (A URL
        with no page runs the reflex; the page's render then answers 404.)"""
        try:
            callback, args, kwargs = self.resolve_request(request)
        except Http404:
            return None
        try:
            for method in self._view_middleware:
                if response := method(request, callback, args, kwargs):
                    return response
            return None
        finally:
            setattr(request, _VIEWS_CHECKED, True)


def _once(method: Callable[..., Any]) -> Callable[..., Any]:
    """A ``process_view`` skipped for a request it already ran for (before the reflex)."""

    def process_view(request: HttpRequest, *args: Any) -> Any:
        if getattr(request, _VIEWS_CHECKED, False):
            return None
        return method(request, *args)

    return process_view
