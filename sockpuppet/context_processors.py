"""Template context for the page re-render of a reflex."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def reflex(request: HttpRequest) -> dict[str, Any]:
    """The running reflex's public attributes, plus ``sockpuppet_reflex`` (the reflex).

    Outside a reflex it adds ``sockpuppet_reflex = None`` and nothing else. Variables the
    view puts in its own context take precedence, as with every context processor.
    """
    current = getattr(request, "sockpuppet_reflex", None)
    if current is None:
        return {"sockpuppet_reflex": None}
    return {**current.get_context_data(), "sockpuppet_reflex": current}
