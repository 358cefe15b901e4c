"""The wire protocol: one TypedDict per message, and the parser for client messages.

``docs/protocol.md`` is the prose version of this module. The parser turns untrusted
text into a typed message or raises ``ProtocolError`` with a message fit for the client.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections import deque
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import urlsplit

PROTOCOL_VERSION = 1
CLIENT_TYPES = ("reflex", "ping", "subscribe", "unsubscribe", "ack")
# The largest stream position a client may name: the largest integer a JavaScript client
# holds exactly (and far inside the 64-bit ids of Redis Streams).
MAX_POSITION = 2**53 - 1
# Longest ids (reflex, ping), targets and morph root selectors: what the server echoes or
# caches stays small, whatever a client sends.
MAX_ID = 100
MAX_TARGET = 200
MAX_SELECTOR = 1000


class ProtocolError(Exception):
    """A client message that cannot be understood; the text is sent back to the client.

    ``reflex_ids``: the ids of the reflexes in a refused frame or body, where they could be
    read: each is answered with the error, so the client fails them at once instead of
    waiting for answers that cannot come."""

    def __init__(self, message: str, reflex_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reflex_ids = reflex_ids


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
# JSON can carry lone surrogates (\\ud800 escapes); a string holding one cannot be encoded
# as UTF-8, so no answer echoing it could ever be sent (nor a page rendering it).
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError(message)


def decode(text: str | bytes, max_bytes: int) -> list[ClientMessage]:
    """Parse one frame or request body: a message object or a JSON array of them."""
    _require(_size(text) <= max_bytes, f"Message too large: the limit is {max_bytes} bytes.")
    try:
        string = text.decode("utf-8") if isinstance(text, bytes) else text
        data = json.loads(string)
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"Messages must be UTF-8 text: {exc.reason} at byte {exc.start}."
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"Malformed JSON: {exc}") from None
    _require(
        not (_MAYBE_SURROGATE.search(string) and _has_lone_surrogate(data)),
        "Strings must be valid Unicode: lone surrogates (\\ud800-\\udfff) are not allowed.",
    )
    items = data if isinstance(data, list) else [data]
    try:
        return [parse(item) for item in items]
    except ProtocolError as exc:  # one bad message refuses its whole frame, in order
        raise ProtocolError(str(exc), _reflex_ids(items)) from None


def _reflex_ids(items: list[Any]) -> tuple[str, ...]:
    """The readable ids of the reflexes among a refused frame's items, once each."""
    ids = (
        item["id"]
        for item in items
        if isinstance(item, dict) and item.get("type") == "reflex"
        if isinstance(item.get("id"), str) and 0 < len(item["id"]) <= MAX_ID
    )
    return tuple(dict.fromkeys(ids))


def parse(data: Any) -> ClientMessage:
    """Check one decoded client message and fill in optional fields."""
    _require(isinstance(data, dict), "A message must be a JSON object.")
    kind = data.get("type")
    if kind == "reflex":
        return _parse_reflex(data)
    if kind == "ping":
        _require(
            isinstance(data.get("id"), str) and len(data["id"]) <= MAX_ID,
            f"A ping needs a string 'id' (at most {MAX_ID} characters).",
        )
        return PingMessage(type="ping", id=data["id"])
    if kind in ("subscribe", "unsubscribe"):
        _require(isinstance(data.get("stream"), str), f"A {kind} needs a string 'stream'.")
        return SubscribeMessage(type=kind, stream=data["stream"])
    if kind == "ack":
        return AckMessage(type="ack", since=parse_cursor(data.get("since")))
    raise ProtocolError(
        f"Unknown message type {_shown(kind)}; expected reflex, ping, subscribe, "
        "unsubscribe or ack."
    )


def _parse_reflex(data: dict[str, Any]) -> ReflexMessage:
    _require(
        isinstance(data.get("id"), str) and 0 < len(data["id"]) <= MAX_ID,
        f"A reflex needs a string 'id' (at most {MAX_ID} characters).",
    )
    target = data.setdefault("target", None)  # missing: refresh the page
    _require(
        target is None or (isinstance(target, str) and len(target) <= MAX_TARGET),
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
    _require(
        all(isinstance(s, str) and len(s) <= MAX_SELECTOR for s in data["selectors"]),
        f"'selectors' must be strings (CSS selectors of at most {MAX_SELECTOR} characters).",
    )
    _require(_is_url(data["url"]), "'url' must be the page's URL.")
    return data  # type: ignore[return-value]


def parse_cursor(value: Any) -> dict[str, int]:
    """Parse a client's cursor: a JSON object (or its text) of stream -> position."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # nested too deep for the parser, too
            raise ProtocolError("'since' must be a JSON object of stream positions.") from None
    _require(isinstance(value, dict), "'since' must be a JSON object of stream positions.")
    _require(
        all(
            isinstance(k, str) and type(v) is int and 0 <= v <= MAX_POSITION
            for k, v in value.items()
        ),
        f"'since' maps stream names to positions (integers from 0 to {MAX_POSITION}).",
    )
    return dict(value)


def _shown(value: Any) -> str:
    """A short repr of a client's value, for an error message."""
    text = reprlib.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _size(text: str | bytes) -> int:
    """The size in bytes of a frame or body as it travelled (UTF-8)."""
    if isinstance(text, bytes) or text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _has_lone_surrogate(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _is_url(text: str) -> bool:
    try:
        urlsplit(text)
    except ValueError:
        return False
    return True


def welcome(origin: dict[str, int]) -> dict[str, Any]:
    """The first message on a connection (and of every long-poll answer): a heartbeat
    carrying the positions following began at, so the client's cursor covers every
    stream it follows, also those that have sent it nothing yet."""
    return {"type": "heartbeat", "since": dict(origin)}


def encode(message: dict[str, Any]) -> str:
    """Serialize one server message compactly.

    A broadcast reaches every follower in this process as the same dict, one after the
    other: the last few messages encoded are remembered by identity (holding them keeps
    their ids unique), so a fan-out to thousands encodes once. Messages are not changed
    once published."""
    for cached, text in tuple(_encoded):
        if cached is message:
            return text
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    _encoded.appendleft((message, text))
    return text


_encoded: deque[tuple[dict[str, Any], str]] = deque(maxlen=4)
