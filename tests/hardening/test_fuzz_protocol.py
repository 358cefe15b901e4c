"""Fuzzing the parser of client messages (``sockpuppet.protocol``), in-process.

Whatever text or bytes arrive, ``decode`` and ``parse`` return typed messages or raise
``ProtocolError`` with a short message that can be sent back; nothing else escapes. What
the parser lets through, the runner answers without a server failure.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sockpuppet import protocol, runner
from sockpuppet.connection import Connection
from sockpuppet.protocol import MAX_POSITION, ProtocolError, decode, parse, parse_cursor
from tests.hardening.strategies import (
    FUZZ,
    TARGETS,
    batches,
    frames,
    json_values,
    messages,
    surrogates,
    texts,
)

LIMITS = st.sampled_from([64, 1000, 1_048_576])
STRING_FIELDS = ("url", "formData", "permanentAttributeName")
ANSWERS = {"operations", "nothing", "halted", "forbidden", "error"}


def wire_size(frame: str | bytes) -> int:
    return len(frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass"))


def assert_sendable(value: Any) -> None:
    """What reaches a client must encode as UTF-8 JSON (no lone surrogates)."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def assert_clear(error: ProtocolError) -> None:
    text = str(error)
    assert text and len(text) <= 300, text
    assert_sendable(text)


def assert_typed(message: Any, *, decoded: bool = True) -> None:
    assert isinstance(message, dict) and message["type"] in protocol.CLIENT_TYPES
    if decoded:  # decode refuses lone surrogates; parse takes what decode let through
        assert_sendable(message)
    kind = message["type"]
    if kind == "ping":
        assert isinstance(message["id"], str) and len(message["id"]) <= 100
    elif kind in ("subscribe", "unsubscribe"):
        assert isinstance(message["stream"], str)
    elif kind == "ack":
        assert_cursor(message["since"])
    else:
        assert isinstance(message["id"], str) and 0 < len(message["id"]) <= 100
        assert message["target"] is None or isinstance(message["target"], str)
        assert all(isinstance(message[name], list) for name in ("args", "selectors"))
        assert all(isinstance(message[name], dict) for name in ("attrs", "dataset", "params"))
        assert all(isinstance(message[name], str) for name in STRING_FIELDS)
        assert all(isinstance(s, str) for s in message["selectors"])


def assert_cursor(cursor: Any) -> None:
    assert isinstance(cursor, dict)
    for stream, position in cursor.items():
        assert isinstance(stream, str) and type(position) is int
        assert 0 <= position <= MAX_POSITION


@FUZZ
@given(frames, LIMITS)
@example("[" * 100_000, 1_048_576)
@example('{"type":"ping","id":"' + "x" * 2_000_000 + '"}', 1_048_576)
@example(b'{"type":"ping","id":"\xed\xa0\x80"}', 1000)
def test_decode_answers_typed_messages_or_a_protocol_error(frame, limit):
    try:
        decoded = decode(frame, limit)
    except ProtocolError as exc:
        assert_clear(exc)
        return
    assert wire_size(frame) <= limit
    for message in decoded:
        assert_typed(message)


@FUZZ
@given(messages | batches | json_values)
def test_parse_answers_a_typed_message_or_a_protocol_error(value):
    try:
        message = parse(value)
    except ProtocolError as exc:
        assert_clear(exc)
        return
    assert_typed(message, decoded=False)


@FUZZ
@given(json_values | texts | st.dictionaries(texts, json_values).map(json.dumps))
@example('{"c.x": 18446744073709551616}')
def test_cursors_are_stream_positions_or_a_protocol_error(value):
    try:
        cursor = parse_cursor(value)
    except ProtocolError as exc:
        assert_clear(exc)
        return
    assert_cursor(cursor)


@FUZZ
@given(texts, surrogates, texts, st.booleans())
def test_lone_surrogate_escapes_are_refused(before, surrogate, after, as_bytes):
    """Regression. Bug: a ping with the id ``"\\ud800"`` (valid JSON: an escape of a lone
    surrogate) was echoed in its pong, which cannot be encoded as UTF-8. Over WebSocket
    the sender task died and the connection went silently deaf; every later long-poll of
    the connection answered 500, since the pong stayed in history. Cause: ``json.loads``
    accepts lone surrogate escapes. Fix: the parser refuses them."""
    frame = json.dumps({"type": "ping", "id": "x", "pad": [before, {after: surrogate}]})
    with pytest.raises(ProtocolError, match="surrogate"):
        decode(frame.encode() if as_bytes else frame, 10_000)


_wide = st.characters(min_codepoint=0x80, exclude_categories=["Cs"])


@FUZZ
@given(st.text(_wide, min_size=500, max_size=900), st.text(st.characters(max_codepoint=0x7F)))
def test_the_size_limit_counts_utf8_bytes_not_characters(wide, narrow):
    """Regression. Bug: a WebSocket text frame of 600,000 "é" (1.2 MB) passed the 1 MiB
    limit and was echoed. Cause: the limit compared the frame's length in characters.
    Fix: it compares its length in UTF-8 bytes."""
    frame = json.dumps({"type": "ping", "id": "x", "pad": wide}, ensure_ascii=False)
    assert len(frame) <= 1000 < len(frame.encode())
    with pytest.raises(ProtocolError, match="too large"):
        decode(frame, 1000)
    fits = json.dumps({"type": "ping", "id": "x", "pad": narrow[:900]})
    assert decode(fits, 1000)[0]["type"] == "ping"


def test_a_cursor_position_past_what_a_client_can_hold_is_refused():
    """Regression. Bug: ``since={"c.…": 18446744073709551616}`` made the Redis bus's
    ``XRANGE`` fail (stream ids are 64-bit) and the endpoint answered 500 (the WebSocket
    handshake, 500 too). Fix: positions are integers from 0 to 2^53 - 1, the largest a
    JavaScript client can hold."""
    assert parse_cursor({"c.x": MAX_POSITION}) == {"c.x": MAX_POSITION}
    with pytest.raises(ProtocolError, match="positions"):
        parse_cursor({"c.x": MAX_POSITION + 1})


# What the parser lets through reaches the runner: it answers, never fails on the server.
_reflexes = st.fixed_dictionaries(
    {
        "type": st.just("reflex"),
        "id": st.uuids().map(str),
        "target": st.sampled_from(TARGETS),
    },
    optional={
        "args": st.lists(json_values, max_size=2),
        "url": st.sampled_from(["/", "/class/", "/nowhere/", "http://[", "/?%ff", "//"]) | texts,
        "attrs": st.dictionaries(texts, json_values, max_size=3),
        "dataset": st.dictionaries(texts, json_values, max_size=3),
        "selectors": st.lists(
            st.sampled_from(["body", "#count", "#nowhere", "p <", "::", "a " * 3000]) | texts,
            max_size=3,
        ),
        "formData": st.sampled_from(["a=1&a=2&b=", "%ff=%fe", "=&&=="]) | texts,
        "params": st.dictionaries(texts, json_values, max_size=3),
        "permanentAttributeName": texts,
        "innerHTML": texts,
        "textContent": texts,
    },
)


@pytest.mark.django_db
@FUZZ
@given(_reflexes)
def test_the_runner_answers_whatever_the_parser_lets_through(caplog, message):
    caplog.clear()
    try:
        [parsed] = decode(json.dumps(message), 1_048_576)
    except ProtocolError:
        return
    connection = Connection(
        id=uuid.uuid4().hex, transport="test", headers=[(b"host", b"testserver")]
    )
    with caplog.at_level(logging.ERROR, logger="sockpuppet"):
        answer = runner.run(connection, parsed)
    assert answer["type"] in ANSWERS and answer["reflexId"] == message["id"]
    assert_sendable(answer)
    failures = [r.getMessage() for r in caplog.records if r.name == "sockpuppet"]
    assert not failures, f"bad input logged as a server failure: {failures} -> {answer}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"url": "http://testserver/nowhere/"}, "answered with HTTP 404"),
        ({"url": "page"}, "answered with HTTP 404"),
        ({"selectors": ["ns|p"]}, "The morph root 'ns|p' is not supported"),
        ({"selectors": ["html|body"]}, "is not supported"),
        ({"selectors": ["#a,,"]}, "Invalid CSS selector '#a,,'"),
    ],
)
def test_a_page_or_morph_root_that_does_not_exist_is_a_clear_error(caplog, fields, complaint):
    """Regression. Bug: a reflex naming a page URL that resolves to nothing, or a morph
    root lxml cannot evaluate (``ns|p``: valid CSS, unknown namespace), was logged as a
    failure of the server (``Reflex failed``, with a traceback) and answered "failed on the
    server". Cause: ``Resolver404`` and ``XPathEvalError`` escaped as unexpected exceptions.
    Fix: the handler answers 404 for a page that is not there, and fragments turns every
    selector error into ``FragmentError``."""
    message = parse({"type": "reflex", "id": "r", "target": None, "url": "/", **fields})
    connection = Connection(id="c", transport="test", headers=[(b"host", b"testserver")])
    with caplog.at_level(logging.ERROR, logger="sockpuppet"):
        answer = runner.run(connection, message)
    assert answer["type"] == "error" and complaint in answer["message"]
    assert not [r for r in caplog.records if r.name == "sockpuppet"]


@pytest.mark.django_db
def test_a_reflex_without_a_target_refreshes_the_page():
    """Regression. Bug: ``{"type": "reflex", "id": …}`` without ``target`` (which
    docs/protocol.md says means "refresh the page") failed with ``KeyError: 'target'`` in
    the runner. Cause: the parser filled in every optional field but that one. Fix: it
    fills ``target`` with None."""
    [message] = decode('{"type": "reflex", "id": "r", "url": "/"}', 1000)
    connection = Connection(id="c", transport="test", headers=[(b"host", b"testserver")])
    answer = runner.run(connection, message)
    assert (answer["type"], answer["morph"]) == ("operations", "page")


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        ({"type": "ping", "id": "x" * 101}, "at most 100 characters"),
        ({"type": "reflex", "id": "x" * 101, "url": "/"}, "at most 100 characters"),
        ({"type": "reflex", "id": "r", "target": "A#" + "b" * 199}, "'target' must be"),
        ({"type": "reflex", "id": "r", "selectors": ["p" * 1001]}, "at most 1000 characters"),
        ({"type": "reflex", "id": "r", "url": "http://["}, "'url' must be the page's URL"),
        ({"type": "x" * 1_000_000}, "Unknown message type 'xxxxxxxx"),
    ],
)
def test_what_the_server_echoes_keeps_or_caches_of_a_message_is_bounded(message, complaint):
    """A pong echoes its ping's id and is kept in history; answers carry the reflex id;
    errors quote the target or type; compiled selectors are cached: none of them may be
    as large as a client likes."""
    with pytest.raises(ProtocolError, match=re.escape(complaint)) as refused:
        parse(message)
    assert len(str(refused.value)) <= 300
