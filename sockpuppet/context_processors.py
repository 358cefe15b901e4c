"""Template context for the page re-render of a reflex."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def reflex(request: HttpRequest) -> dict[str, Any]:
    """The running reflex's public attributes, plus ``sockpuppet_reflex`` (the reflex) and
    ``stimulus_reflex`` (True during a reflex, django-sockpuppet's name).

    Outside a reflex it adds ``sockpuppet_reflex = None`` and ``stimulus_reflex = False``.
    Variables a function view passes to ``render`` take precedence, as with every context
    processor; over a ``TemplateResponse`` (class-based views) the reflex's attributes win
    (``sockpuppet.handler``).
    """
    current = getattr(request, "sockpuppet_reflex", None)
    if current is None:
        return {"sockpuppet_reflex": None, "stimulus_reflex": False}
    return {**current.get_context_data(), "sockpuppet_reflex": current, "stimulus_reflex": True}
