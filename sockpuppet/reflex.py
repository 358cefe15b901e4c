"""``Reflex``: the base class of the server side of every reflex.

A reflex instance lives for one reflex: the dispatcher builds it with the request
reconstructed for the page, calls ``before_reflex``, the action and ``after_reflex``,
then reads what it asked for (page, selector or nothing morph).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.shortcuts import resolve_url
from django.template.loader import render_to_string

from sockpuppet import operations
from sockpuppet.element import Element

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest, QueryDict


class Halt(Exception):
    """Raised by ``Reflex.halt()``: stop the reflex; the client sees ``halted``."""


class Forbid(Exception):
    """Raised by ``Reflex.forbid()``: stop the reflex; the client sees ``forbidden``."""


class Reflex:
    """Subclass it in an app's ``reflexes.py``; its public methods become reflex actions."""

    # Names set by the framework; everything else public a reflex sets is template context.
    base_attributes = frozenset(
        {"element", "params", "request", "session", "user", "url", "reflex_id", "selectors"}
    )

    def __init__(
        self,
        *,
        request: HttpRequest,
        element: Element,
        params: QueryDict,
        url: str,
        reflex_id: str,
        selectors: list[str],
    ) -> None:
        self.request = request
        self.element = element
        self.params = params
        self.url = url
        self.reflex_id = reflex_id
        self.selectors = selectors
        # SessionMiddleware is required (check sockpuppet.E007); AuthenticationMiddleware
        # gives ``user`` (None without it).
        self.session: SessionBase = cast("SessionBase", getattr(request, "session", None))
        self.user: AbstractBaseUser | AnonymousUser | None = getattr(request, "user", None)
        self._operations: list[dict[str, Any]] | None = None

    def reload(self) -> None:
        """A built-in action: changes nothing, so the page re-renders
        (``data-reflex="click->PostReflex#reload"``, as in django-sockpuppet)."""

    def before_reflex(self) -> None:
        """Called before the action; call ``self.halt()`` here to stop the reflex."""

    def after_reflex(self) -> None:
        """Called after the action, before the page or selector is rendered."""

    def halt(self) -> None:
        """Stop the reflex now; the client gets ``halted`` and nothing is rendered."""
        raise Halt

    def forbid(self) -> None:
        """Stop the reflex now; the client gets ``forbidden`` and nothing is rendered."""
        raise Forbid

    def morph(
        self,
        selector: str,
        html: str | None = None,
        *,
        template: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        """Morph ``selector`` into ``html`` (or ``template`` rendered with ``context``).

        Call it several times to morph several selectors; the page is then not re-rendered.
        """
        if (html is None) == (template is None):
            raise TypeError("morph() takes either html or template=, not both or neither")
        if template is not None:
            html = render_to_string(template, context, request=self.request)
        self._add(operations.build("morph", selector, html))

    def redirect(self, to: Any, *args: Any, **kwargs: Any) -> None:
        """Send the browser to ``to`` (a URL, a view name with its arguments, or a model
        with ``get_absolute_url``) once the reflex ends, as ``django.shortcuts.redirect``."""
        self._add(operations.build("redirect_to", None, resolve_url(to, *args, **kwargs)))

    def morph_nothing(self) -> None:
        """Answer the client without re-rendering anything."""
        if self._operations is None:
            self._operations = []

    @property
    def morph_kind(self) -> str:
        """ "page", "selector" or "nothing": what the reflex asked for so far."""
        if self._operations is None:
            return "page"
        return "selector" if self._operations else "nothing"

    @property
    def selector_operations(self) -> list[dict[str, Any]]:
        return list(self._operations or [])

    def get_context_data(self) -> dict[str, Any]:
        """The public attributes this reflex set, for the page re-render's templates."""
        return {
            name: value
            for name, value in vars(self).items()
            if not name.startswith("_") and name not in self.base_attributes
        }

    def _add(self, operation: dict[str, Any]) -> None:
        if self._operations is None:
            self._operations = []
        self._operations.append(operation)
