"""Django's own request handler, with the reflex run inside the middleware chain.

The reflex's request goes through every middleware exactly like a page request
(sessions, auth, messages, locale), then, in place of the view, the reflex runs; for a
page morph the view then runs too, with the same request. Session changes and messages
are saved by the middleware on the way out. Nothing is monkey-patched: the view finds
the reflex on ``request.sockpuppet_reflex`` through the context processor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.handlers.base import BaseHandler
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound

RUN_ATTRIBUTE = "_sockpuppet_run"


class ReflexHandler(BaseHandler):
    """A sync handler whose innermost step is ``request._sockpuppet_run()``.

    That callable runs the reflex and returns whether the page must be rendered. Any
    exception is kept on ``handler_error`` of the request instead of becoming a 500 page.
    """

    def __init__(self) -> None:
        super().__init__()
        self.load_middleware(is_async=False)

    def _get_response(self, request: HttpRequest) -> Any:
        run: Callable[[], bool] = getattr(request, RUN_ATTRIBUTE)
        try:
            if not run():
                return HttpResponse(status=204)
            try:
                return super()._get_response(request)  # type: ignore[misc]
            except Http404:
                # No page at the URL the client named: the runner answers "HTTP 404", a
                # clear error, not a failure of the server.
                return HttpResponseNotFound()
        except Exception as exc:  # the runner reports it; the middleware still completes
            request.sockpuppet_error = exc  # type: ignore[attr-defined]
            response = HttpResponse(status=500)  # as for a failed page: the session is not saved
            response._has_been_logged = True  # type: ignore[attr-defined] # the runner logs it
            return response
