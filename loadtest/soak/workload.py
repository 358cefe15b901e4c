"""What the clients do: the transports they use, the reflexes they fire, the stream they
follow. The checks judge each answer by this same table, against the kind that was fired."""

from __future__ import annotations

from typing import Any

STREAM = "soak"
TRANSPORTS = ("websocket", "sse", "longpoll")
MAX_IN_FLIGHT = 3  # unanswered reflexes a client lets wait before it stops clicking
Message = dict[str, Any]

# kind -> (page, target, extra reflex fields, expected answer: type, morph)
KINDS: dict[str, tuple[str, str, Message, tuple[str, str | None]]] = {
    "page": (
        "/",
        "CounterReflex#increment",
        {"dataset": {"step": "1"}, "attrs": {"id": "increment", "data-step": "1"}},
        ("operations", "page"),
    ),
    "selector": ("/todos/", "TodoReflex#add", {"formData": "title="}, ("operations", "selector")),
    "nothing": ("/playground/", "PlaygroundReflex#tally_quietly", {}, ("nothing", None)),
}
