"""``Channel``: chainable operations, broadcast to a stream's followers."""

import asyncio
import os
import subprocess
import sys
import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedRedirect

from sockpuppet import streams
from sockpuppet.bus.memory import MemoryBus
from sockpuppet.channel import Channel


def test_operations_chain_with_the_selector_first():
    channel = (
        Channel("room:42")
        .inner_html("#messages", "<p>hi</p>")
        .insert_adjacent_html("#list", "<li>x</li>", "afterbegin")
        .set_attribute("#x", "title", "hi")
        .add_css_class("#x", ["a", "b"])
        .dispatch_event("chat:new", detail={"id": 1}, selector="#messages")
        .console_log("done", level="info")
        .text_content("#count", "3")
        .remove("#gone")
    )
    assert channel.stream == "n.room:42"
    assert channel.operations == [
        {"op": "inner_html", "selector": "#messages", "html": "<p>hi</p>"},
        {
            "op": "insert_adjacent_html",
            "selector": "#list",
            "html": "<li>x</li>",
            "position": "afterbegin",
        },
        {"op": "set_attribute", "selector": "#x", "name": "title", "value": "hi"},
        {"op": "add_css_class", "selector": "#x", "name": ["a", "b"]},
        {"op": "dispatch_event", "selector": "#messages", "name": "chat:new", "detail": {"id": 1}},
        {"op": "console_log", "selector": None, "message": "done", "level": "info"},
        {"op": "text_content", "selector": "#count", "text": "3"},
        {"op": "remove", "selector": "#gone"},
    ]


def test_operations_do_not_share_state():
    """Regression: django-sockpuppet's Channel shared one default options dict, so two
    calls queued the same dict twice and both ended up with the second selector."""
    channel = Channel("a").morph("#a", "1").morph("#b", "2")
    assert [o["selector"] for o in channel.operations] == ["#a", "#b"]
    assert channel.operations[0] is not channel.operations[1]
    assert Channel("b").operations == []


def test_user_and_session_streams():
    class User:
        pk = 7

    assert Channel.for_user(User()).stream == "u.7"
    with pytest.raises(ValueError, match="an anonymous visitor has no user stream"):
        Channel.for_user(AnonymousUser())  # its stream would reach nobody, silently


def test_stream_tokens_are_signed():
    token = streams.sign("room:42")
    assert streams.verify(token) == "n.room:42"
    with pytest.raises(streams.StreamError):
        streams.verify(token[:-3] + "xyz")
    with pytest.raises(streams.StreamError):
        streams.verify("n.room:42")


async def test_broadcast_from_another_thread_reaches_followers(monkeypatch):
    bus = MemoryBus()
    monkeypatch.setattr("sockpuppet.channel.get_bus", lambda: bus)
    subscription = await bus.subscribe(["n.room"])
    thread = threading.Thread(target=lambda: Channel("room").text_content("#x", "hi").broadcast())
    thread.start()
    message = await asyncio.wait_for(subscription.get(), 5)
    await asyncio.to_thread(thread.join)
    assert message["operations"] == [{"op": "text_content", "selector": "#x", "text": "hi"}]
    assert message["stream"] == "n.room" and message["position"] == 1


def test_broadcast_on_a_memory_bus_without_connections_warns_once(monkeypatch, caplog, recwarn):
    """In the log, where a Celery worker's or a command's output goes. Regression
    (newcomer audit): it was also a RuntimeWarning, which Django logs too (twice shown)."""
    bus = MemoryBus()
    monkeypatch.setattr("sockpuppet.channel.get_bus", lambda: bus)
    assert Channel("room").text_content("#x", "lost").broadcast() == 1
    assert Channel("room").text_content("#x", "lost again").broadcast() == 2
    [record] = [r for r in caplog.records if "no browser can receive it" in r.getMessage()]
    assert (record.name, record.levelname) == ("sockpuppet.bus", "WARNING")
    assert "Set SOCKPUPPET['BUS'] to a Redis URL" in record.getMessage()  # it names the fix
    assert not recwarn.list


def test_for_session_loads_the_session_in_a_fresh_process():
    """Regression: ``Channel.for_session(key)`` resolved ``SESSION_ENGINE`` with
    ``import_string``, which finds ``django.contrib.sessions.backends.db`` only once
    something else imported that module. In a fresh Celery worker nothing had: the task's
    first broadcast raised ``ImportError``. Fix: import the engine as a module, as Django's
    ``SessionMiddleware`` does."""
    script = (
        "import django; django.setup()\n"
        "from sockpuppet import Channel\n"
        "print(Channel.for_session('no-such-session').stream)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TESTS_SESSION_ENGINE": "django.contrib.sessions.backends.cache",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "s.none"  # an unknown session follows no stream


def test_an_unknown_operation_is_refused_with_the_list_of_operations():
    with pytest.raises(
        ValueError, match=r"Unknown operation 'inner_htm': the operations are .*inner_html"
    ):
        Channel("room").add("inner_htm", "#a", "<b>")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.inner_html({"selector": "#a", "html": "<b>"}),
        lambda c: c.remove({"selector": "#a"}),
        lambda c: c.dispatch_event({"name": "ping"}),
        lambda c: c.set_focus({"selector": "#a"}),
    ],
)
def test_django_sockpuppets_options_dicts_are_refused_with_the_new_call(call):
    """Regression. Bug: migrated ``Channel`` calls failed with a bare missing-argument
    TypeError, or (``remove``, ``dispatch_event``) passed and broke in the browser."""
    channel = Channel("room")
    with pytest.raises(TypeError, match=r"not an options dict .*docs/migrating\.md"):
        call(channel)
    assert channel.operations == []


def test_a_selector_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError, match=r"morph\(\) takes a CSS selector string first, not 3"):
        Channel("room").add("morph", 3, "<b>")


def test_console_log_logs_a_dict_as_it_is():
    [operation] = Channel("room").console_log({"n": 1}).operations
    assert operation["message"] == {"n": 1}


def test_an_event_can_go_to_every_element_a_selector_matches():
    [operation] = (
        Channel("room").dispatch_event("ping", {"n": 1}, ".item", select_all=True).operations
    )
    assert operation == {
        "op": "dispatch_event",
        "selector": ".item",
        "name": "ping",
        "detail": {"n": 1},
        "selectAll": True,
    }


def test_redirect_to_takes_only_what_django_s_redirect_would():
    assert Channel("room").redirect_to("/next/").operations[-1]["url"] == "/next/"
    with pytest.raises(DisallowedRedirect, match="protocol 'javascript'"):
        Channel("room").redirect_to("javascript:alert(1)")
