"""Hypothesis strategies for hostile client input, shared by the fuzzers.

Frames and bodies of every shape a browser (or anyone with a socket) can send: JSON of any
type, messages with wrong types and missing fields, huge strings and arrays, deep
nesting, lone surrogate escapes, truncated and mutated text, invalid UTF-8 bytes.

``FUZZ`` keeps CI runs brief; ``FUZZ_EXAMPLES=2000 pytest tests/hardening -k fuzz`` runs
them longer (docs/security.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
# No example database: nothing is written into the repository; each run explores anew.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

TYPES = ("reflex", "ping", "subscribe", "unsubscribe", "ack")
# Targets the fuzzers may hit on a real server: none of them raises, hangs or floods.
TARGETS = (
    None,
    "CounterReflex#nothing",
    "CounterReflex#annotate",
    "CounterReflex#_private",
    "CounterReflex#__init__",
    "CounterReflex#prop",
    "CounterReflex#morph",
    "CounterReflex",
    "Reflex#morph",
    "os#system",
    "Nope#go",
    "#",
)

# Any code point, lone surrogates included (JSON can carry them as \ud800 escapes).
anything = st.characters(exclude_categories=())
surrogates = st.characters(categories=["Cs"])
# One text in ten holds a lone surrogate for sure; the others, any code point.
texts = st.integers(0, 9).flatmap(
    lambda n: (
        st.text(anything, max_size=30)
        if n
        else st.builds("".join, st.tuples(st.text(anything, max_size=10), surrogates))
    )
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53 - 2, max_value=2**70)
    | st.integers(max_value=-1)
    | st.floats()
    | texts
)
json_values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)

# Each field: a value of the right type, or anything at all.
_fields: dict[str, st.SearchStrategy[Any]] = {
    "id": texts | st.uuids().map(str),
    "target": st.sampled_from(TARGETS) | texts,
    "args": st.lists(json_values, max_size=3),
    "url": st.sampled_from(["/", "http://127.0.0.1/", "/?a=1", "http://[", "//x", ""]) | texts,
    "attrs": st.dictionaries(texts, json_values, max_size=3),
    "dataset": st.dictionaries(texts, json_values, max_size=3),
    "selectors": st.lists(st.sampled_from(["body", "#count", "#nowhere", "p <", "::"]) | texts),
    "formData": st.sampled_from(["a=1&a=2&b=", "%ff=%fe", "=&&=="]) | texts,
    "params": st.dictionaries(texts, json_values, max_size=3),
    "permanentAttributeName": texts,
    "innerHTML": texts,
    "textContent": texts,
    "tabId": texts,
    "stream": texts,
    "since": st.dictionaries(texts, st.integers(), max_size=3) | texts,
}
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | json_values},
    optional={name: value | json_values for name, value in _fields.items()},
)
batches = st.lists(messages | json_values, max_size=5)


def _dumps(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` cut short, or with a stretch replaced by random characters."""
    if not text:
        return text
    start = draw(st.integers(0, len(text) - 1))
    if draw(st.booleans()):
        return text[:start]
    end = draw(st.integers(start, min(len(text), start + 8)))
    return text[:start] + draw(st.text(anything, max_size=8)) + text[end:]


def _nested(depth: int, kind: str) -> str:
    opening, closing = {"list": ("[", "]"), "dict": ('{"a":', "}")}[kind]
    return '{"type":"reflex","id":"deep","args":' + opening * depth + "1" + closing * depth + "}"


# JSON text as a client would send it: valid, mutated, deeply nested, or not JSON at all.
json_texts = st.one_of(
    st.builds(_dumps, messages | batches | json_values, st.booleans()),
    st.builds(_dumps, messages | batches, st.booleans()).flatmap(mutated),
    st.builds(_nested, st.integers(1, 3000), st.sampled_from(["list", "dict"])),
    st.integers(1, 3000).map(lambda n: "[" * n),
    st.text(anything, max_size=40),
)
INVALID_UTF8 = (b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xfe\xff")


@st.composite
def broken_utf8(draw: st.DrawFn) -> bytes:
    """Valid JSON bytes with an invalid UTF-8 sequence inserted somewhere."""
    raw = _dumps(draw(messages), False).encode("utf-8", "surrogatepass")
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + draw(st.sampled_from(INVALID_UTF8)) + raw[at:]


# One frame or request body: text or bytes.
frames: st.SearchStrategy[str | bytes] = st.one_of(
    json_texts,
    json_texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    broken_utf8(),
    st.binary(max_size=64),
)
