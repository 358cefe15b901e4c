"""Parsing untrusted client messages: each bad input gets a clear error."""

import json

import pytest

from sockpuppet import protocol
from sockpuppet.protocol import ProtocolError, decode, parse_cursor


def reflex(**fields):
    return {
        "type": "reflex",
        "id": "r1",
        "target": "CounterReflex#increment",
        "url": "http://x/",
        **fields,
    }


def test_a_reflex_gets_defaults_for_optional_fields():
    [message] = decode(json.dumps(reflex()), 1000)
    assert message["args"] == [] and message["attrs"] == {} and message["formData"] == ""
    assert message["selectors"] == [] and message["params"] == {}


def test_a_batch_is_a_json_array():
    assert [
        m["type"] for m in decode(json.dumps([{"type": "ping", "id": "1"}, reflex()]), 1000)
    ] == ["ping", "reflex"]


def test_a_refused_batch_names_the_reflexes_it_held():
    good, bad = reflex(), {**reflex(), "id": "r2", "args": "not a list"}
    for batch, ids in [
        ([good, bad, {"type": "ping", "id": "p"}], (good["id"], bad["id"])),
        ([bad, bad], (bad["id"],)),
        ([{"type": "ping"}, {"type": "reflex", "id": 7}], ()),
    ]:
        with pytest.raises(ProtocolError) as refused:
            decode(json.dumps(batch), 10_000)
        assert refused.value.reflex_ids == ids
    with pytest.raises(ProtocolError) as malformed:
        decode("[" + json.dumps(good), 10_000)
    assert malformed.value.reflex_ids == ()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("{", "Malformed JSON"),
        ("[1]", "must be a JSON object"),
        ('"x"', "must be a JSON object"),
        ('{"type": "launch"}', "Unknown message type 'launch'"),
        ("{}", "Unknown message type None"),
        ('{"type": "ping"}', "needs a string 'id'"),
        (json.dumps(reflex(id=5)), "needs a string 'id'"),
        (json.dumps(reflex(target=["a"])), "'target' must be a string"),
        (json.dumps(reflex(args={})), "'args' must be a JSON array"),
        (json.dumps(reflex(attrs=[])), "'attrs' must be a JSON object"),
        (json.dumps(reflex(url=3)), "'url' must be a string"),
        (json.dumps(reflex(selectors=[1])), "'selectors' must be strings"),
        ('{"type": "subscribe"}', "needs a string 'stream'"),
        ("[" * 100_000, "Malformed JSON"),
    ],
)
def test_bad_messages_get_clear_errors(text, complaint):
    with pytest.raises(ProtocolError, match=complaint):
        decode(text, 1_000_000)


def test_size_limit():
    with pytest.raises(ProtocolError, match="too large"):
        decode(json.dumps(reflex(formData="x" * 200)), 100)


def test_cursor():
    assert parse_cursor(None) == {} and parse_cursor("") == {}
    assert parse_cursor('{"c.a": 3}') == {"c.a": 3}
    for bad in ("[1]", '{"a": -1}', '{"a": "1"}', '{"a": true}', "nope"):
        with pytest.raises(ProtocolError):
            parse_cursor(bad)


def test_a_message_sent_to_many_followers_is_encoded_once(monkeypatch):
    dumps = []
    real = protocol.json.dumps
    monkeypatch.setattr(protocol.json, "dumps", lambda *a, **k: dumps.append(1) or real(*a, **k))
    broadcast = {"type": "operations", "stream": "n.room", "position": 7, "operations": []}
    texts = {protocol.encode(broadcast) for _ in range(1000)}
    assert texts == {'{"type":"operations","stream":"n.room","position":7,"operations":[]}'}
    assert len(dumps) == 1
    equal_but_new = dict(broadcast, position=8)
    assert '"position":8' in protocol.encode(equal_but_new) and len(dumps) == 2
