"""The wire protocol: one TypedDict per message, and the parser for client messages.

``docs/protocol.md`` is the prose version of this module. The parser turns untrusted
text into a typed message or raises ``ProtocolError`` with a message fit for the client.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

PROTOCOL_VERSION = 1


class ProtocolError(Exception):
    """A client message that cannot be understood; the text is sent back to the client."""


# Client -> server


class ReflexMessage(TypedDict):
    type: Literal["reflex"]
    id: str
    target: str | None
    args: list[Any]
    url: str
    attrs: dict[str, Any]
    dataset: dict[str, Any]
    selectors: list[str]
    formData: str
    params: dict[str, Any]
    permanentAttributeName: str
    innerHTML: NotRequired[str]
    textContent: NotRequired[str]
    tabId: NotRequired[str]


class PingMessage(TypedDict):
    type: Literal["ping"]
    id: str


class SubscribeMessage(TypedDict):
    type: Literal["subscribe", "unsubscribe"]
    stream: str


class AckMessage(TypedDict):
    type: Literal["ack"]
    since: dict[str, int]


ClientMessage = ReflexMessage | PingMessage | SubscribeMessage | AckMessage

# Server -> client. Messages that carry data also get ``stream`` and ``position``
# when they are published on a stream.


class Operation(TypedDict, total=False):
    op: str
    selector: str | None


class OperationsMessage(TypedDict):
    type: Literal["operations"]
    operations: list[dict[str, Any]]
    reflexId: NotRequired[str]
    morph: NotRequired[Literal["page", "selector"]]


class OutcomeMessage(TypedDict):
    type: Literal["nothing", "halted", "forbidden"]
    reflexId: str


class ErrorMessage(TypedDict):
    type: Literal["error"]
    message: str
    reflexId: NotRequired[str]
    traceback: NotRequired[str]


class PongMessage(TypedDict):
    type: Literal["pong"]
    id: str


class ResyncMessage(TypedDict):
    type: Literal["resync"]
    reason: str


ServerMessage = OperationsMessage | OutcomeMessage | ErrorMessage | PongMessage | ResyncMessage

_STRING_FIELDS = ("url", "formData", "permanentAttributeName", "innerHTML", "textContent")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError(message)


def decode(text: str | bytes, max_bytes: int) -> list[ClientMessage]:
    """Parse one frame or request body: a message object or a JSON array of them."""
    _require(len(text) <= max_bytes, f"Message too large: the limit is {max_bytes} bytes.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"Malformed JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    return [parse(item) for item in items]


def parse(data: Any) -> ClientMessage:
    """Check one decoded client message and fill in optional fields."""
    _require(isinstance(data, dict), "A message must be a JSON object.")
    kind = data.get("type")
    if kind == "reflex":
        return _parse_reflex(data)
    if kind == "ping":
        _require(isinstance(data.get("id"), str), "A ping needs a string 'id'.")
        return PingMessage(type="ping", id=data["id"])
    if kind in ("subscribe", "unsubscribe"):
        _require(isinstance(data.get("stream"), str), f"A {kind} needs a string 'stream'.")
        return SubscribeMessage(type=kind, stream=data["stream"])
    if kind == "ack":
        return AckMessage(type="ack", since=parse_cursor(data.get("since")))
    raise ProtocolError(
        f"Unknown message type {kind!r}; expected reflex, ping, subscribe, unsubscribe or ack."
    )


def _parse_reflex(data: dict[str, Any]) -> ReflexMessage:
    _require(
        isinstance(data.get("id"), str) and 0 < len(data["id"]) <= 100,
        "A reflex needs a string 'id'.",
    )
    target = data.get("target")
    _require(
        target is None or isinstance(target, str),
        "'target' must be a string like 'CounterReflex#increment'.",
    )
    for name, kind in (
        ("args", list),
        ("attrs", dict),
        ("dataset", dict),
        ("params", dict),
        ("selectors", list),
    ):
        value = data.setdefault(name, kind())
        _require(
            isinstance(value, kind),
            f"'{name}' must be a JSON {'array' if kind is list else 'object'}.",
        )
    for name in _STRING_FIELDS:
        value = (
            data.setdefault(name, "")
            if name not in ("innerHTML", "textContent")
            else data.get(name, "")
        )
        _require(isinstance(value, str), f"'{name}' must be a string.")
    _require(all(isinstance(s, str) for s in data["selectors"]), "'selectors' must be strings.")
    return data  # type: ignore[return-value]


def parse_cursor(value: Any) -> dict[str, int]:
    """Parse a client's cursor: a JSON object (or its text) of stream -> position."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ProtocolError("'since' must be a JSON object of stream positions.") from None
    _require(isinstance(value, dict), "'since' must be a JSON object of stream positions.")
    _require(
        all(isinstance(k, str) and type(v) is int and v >= 0 for k, v in value.items()),
        "'since' maps stream names to positions (integers >= 0).",
    )
    return dict(value)


def welcome(origin: dict[str, int]) -> dict[str, Any]:
    """The first message on a connection (and of every long-poll answer): a heartbeat
    carrying the positions following began at, so the client's cursor covers every
    stream it follows, also those that have sent it nothing yet."""
    return {"type": "heartbeat", "since": dict(origin)}


def encode(message: dict[str, Any]) -> str:
    """Serialize one server message compactly."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
