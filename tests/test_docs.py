"""The docs' Python samples: every block compiles, and each runs and does what its text says.

Samples are taken from ``docs/*.md`` by position, so a doc change is what gets tested. A
sample that defines a reflex class is registered for the test in place of the test app's
class of that name, and is gone (garbage collected) afterwards: discovery registers every
``Reflex`` subclass alive, and two of one name are a startup error. The HTML and JavaScript
samples run in Chromium: tests/browser/test_docs_samples.py.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import logging.config
import os
import re
import time
import unittest
import weakref
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from celery import Celery, Task, shared_task
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings

from sockpuppet import Channel, Reflex, registry
from sockpuppet.bus.memory import MemoryBus
from sockpuppet.channel import Broadcast
from sockpuppet.checks import check_bus, check_project, check_settings
from sockpuppet.conf import DEFAULTS
from sockpuppet.conf import settings as sockpuppet_settings
from sockpuppet.testing import ReflexClient
from tests.docsamples.samples import DOCS, blocks

ROOT = DOCS.parent
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_blocks() -> list[tuple[str, str]]:
    return [
        (f"{path.name}#{n}", block)
        for path in sorted(DOCS.glob("*.md"))
        for n, block in enumerate(BLOCK.findall(path.read_text()))
    ]


@pytest.mark.parametrize(("where", "source"), python_blocks(), ids=[w for w, _ in python_blocks()])
def test_every_python_sample_compiles(where, source):
    compile(source, where, "exec")


def sample(name: str, index: int = 0) -> str:
    return blocks(name, "python")[index]


def run(name: str, index: int = 0, **names: Any) -> dict[str, Any]:
    """Execute a sample with ``names`` it uses but does not define; return its namespace."""
    namespace: dict[str, Any] = {"__name__": f"docs_{name[:-3]}_{index}", **names}
    exec(compile(sample(name, index), f"docs/{name}#{index}", "exec"), namespace)
    return namespace


def upper(namespace: dict[str, Any]) -> dict[str, Any]:
    """The settings a settings sample defines."""
    return {key: value for key, value in namespace.items() if key.isupper()}


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> MemoryBus:
    """A fresh memory bus for ``Channel``'s broadcasts."""
    memory = MemoryBus()
    monkeypatch.setattr("sockpuppet.channel.get_bus", lambda: memory)
    return memory


@pytest.fixture
def sample_reflex() -> Iterator[Callable[..., type[Reflex]]]:
    """Define a reflex from a sample and register it under its name for this test only."""
    saved = registry.registry()
    defined: list[weakref.ref[type[Reflex]]] = []

    def define(name: str, index: int, class_name: str, **names: Any) -> type[Reflex]:
        cls = run(name, index, **names)[class_name]
        registry._registry = {**registry.registry(), class_name: cls}
        defined.append(weakref.ref(cls))
        return cls

    yield define
    registry._registry = saved
    registry._signature.cache_clear()  # it holds the sample's methods
    gc.collect()
    alive = [ref() for ref in defined if ref() is not None]
    assert not alive, f"sample reflexes still alive after the test: {alive}"


def count_in(html: str) -> str:
    return re.search(r'<p id="count">(.*?)</p>', html).group(1)  # type: ignore[union-attr]


# --- testing.md ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_testing_sample_runs_against_the_test_app():
    run("testing.md")["test_increment"]()


def test_the_fixture_sample_runs_with_the_plugin_fixture(reflex_client):
    run("testing.md", 1)["test_increment_twice"](reflex_client)


def test_the_broadcast_sample_passes_as_written(reflex_client, caplog):
    """Its reflex is defined beside its test, after discovery, and registered by nobody."""
    namespace = run("testing.md", 2)
    try:
        namespace["test_a_shout_goes_to_the_lobby"](reflex_client)
    finally:
        namespace.clear()
        gc.collect()  # the class leaves Reflex's subclasses
    assert not [r for r in caplog.records if "memory bus" in r.getMessage()]


@pytest.mark.django_db
def test_the_django_test_case_sample_passes_against_the_reflex_sample(sample_reflex):
    sample_reflex("reflexes.md", 0, "CounterReflex")
    case = run("testing.md", 3)["CounterTests"]
    outcome = unittest.TestResult()
    unittest.TestSuite([case("test_increment")]).run(outcome)
    assert (outcome.testsRun, outcome.errors, outcome.failures) == (1, [], [])


# --- reflexes.md -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reflex_sample_counts_in_the_session(sample_reflex):
    cls = sample_reflex("reflexes.md", 0, "CounterReflex")
    assert registry.resolve("CounterReflex#increment") == (cls, "increment")
    tab = ReflexClient()
    assert count_in(tab.reflex("CounterReflex#increment", url="/", args=[2]).html("body")) == "2"
    assert count_in(tab.reflex("CounterReflex#increment", url="/").html("body")) == "3"


@pytest.mark.django_db
def test_the_reflexes_testing_sample_passes_against_the_reflex_sample(sample_reflex):
    sample_reflex("reflexes.md", 0, "CounterReflex")
    run("reflexes.md", 2)["test_increment"](None)


@pytest.mark.django_db
def test_the_templates_sample_passes_the_checks_and_shows_reflex_attributes():
    with override_settings(**upper(run("reflexes.md", 1))):
        assert check_project() == []
        page = ReflexClient().reflex("CounterReflex#annotate", url="/").html("body")
    assert '<p id="note">annotated</p>' in page


# --- settings.md, transports.md --------------------------------------------------------------


def test_the_settings_sample_is_valid_and_read_lazily():
    with override_settings(**upper(run("settings.md"))):
        assert check_settings() == [] and check_bus() == []
        assert sockpuppet_settings.TRANSPORTS == ["websocket", "sse", "longpoll"]
        assert sockpuppet_settings.BUS == "memory"


@pytest.mark.django_db
def test_the_logging_sample_shows_sockpuppets_logs(capsys):
    """At DEBUG on the console: a failing reflex with its traceback (the DEBUG line of each
    reflex is the dispatcher's, which ReflexClient skips; the level is checked instead)."""
    loggers = logging.root.manager.loggerDict.values()
    saved = {
        log: {**vars(log), "handlers": list(log.handlers)}
        for log in [logging.root, *loggers]
        if isinstance(log, logging.Logger)
    }
    try:
        logging.config.dictConfig(upper(run("settings.md", 1))["LOGGING"])
        assert logging.getLogger("sockpuppet.bus").isEnabledFor(logging.DEBUG)
        ReflexClient().reflex("CounterReflex#explode", url="/")
    finally:
        for log, state in saved.items():
            log.__dict__.update(state)
    err = capsys.readouterr().err
    assert "Reflex CounterReflex#explode failed" in err and "ValueError: boom" in err


def test_the_transports_sample_is_valid_and_the_default():
    namespace = upper(run("transports.md"))
    with override_settings(**namespace):
        assert check_settings() == []
    assert namespace["SOCKPUPPET"]["TRANSPORTS"] == DEFAULTS["TRANSPORTS"]


# --- deployment.md ---------------------------------------------------------------------------


def test_the_asgi_sample_serves_the_site_and_sockpuppet():
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "tests.settings"  # setdefault keeps it
    application = run("deployment.md")["application"]

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path)

    page = asyncio.run(get("/docsamples/cart/"))
    assert page.status_code == 200 and "sockpuppet.js" in page.text
    assert asyncio.run(get(f"{sockpuppet_settings.URL_PREFIX}negotiate")).status_code == 405


def test_the_gc_sample_is_what_the_demo_does():
    """The thresholds the fan-out record measured are the demo's own."""
    code = sample("deployment.md", 1)
    demo = (ROOT / "demo" / "asgi.py").read_text()
    for line in filter(None, code.splitlines()):
        assert line in demo.splitlines()


def test_the_compression_switch_is_uvicorn_s():
    """The flag the page tells to pass is one uvicorn's command line takes, turning off
    the option the memory record measured."""
    from uvicorn.main import main as uvicorn_command

    (line,) = [b for b in blocks("deployment.md", "sh") if "deflate" in b]
    flag = line.split()[line.split().index("false") - 1]
    (option,) = [p for p in uvicorn_command.params if flag in p.opts]
    assert option.name == "ws_per_message_deflate" and option.default is True


# --- broadcasting.md -------------------------------------------------------------------------


def test_the_broadcasting_sample_runs(bus, caplog):
    run("broadcasting.md")
    assert "no browser can receive it" in caplog.text
    assert bus._streams["n.chat:lobby"].position == 1


def test_the_celery_settings_sample_is_valid():
    namespace = upper(run("broadcasting.md", 1))
    with override_settings(**namespace):
        assert check_settings() == []
        assert namespace["SOCKPUPPET"]["BUS"].startswith("redis://")


def test_the_celery_app_sample_reads_django_settings():
    with override_settings(CELERY_BROKER_URL="memory://docs"):
        app = run("broadcasting.md", 2)["app"]
        assert isinstance(app, Celery) and app.main == "demo"
        assert app.conf.broker_url == "memory://docs"


def test_the_celery_package_sample_exports_the_app():
    import demo.celery

    namespace = run("broadcasting.md", 3)
    assert namespace["celery_app"] is demo.celery.app
    assert namespace["__all__"] == ("celery_app",)


@pytest.mark.parametrize(
    ("index", "path"),
    [
        (2, "demo/celery.py"),
        (3, "demo/__init__.py"),
        (4, "demo/jobs/tasks.py"),
        (5, "demo/jobs/reflexes.py"),
    ],
)
def test_the_recipe_is_the_demos_working_code(index, path):
    """The text says the recipe is the demo's code: each sample (after its path) is in it."""
    first, _, code = sample("broadcasting.md", index).partition("\n")
    assert first == f"# {path}"
    assert code.strip() in (ROOT / path).read_text()


@pytest.mark.django_db
def test_the_task_sample_moves_the_progress_bar_of_the_session(bus, caplog):
    session = SessionStore()
    session.create()
    names = {"shared_task": shared_task, "Task": Task, "settings": settings, "time": time}
    crunch = run("broadcasting.md", 4, Channel=Channel, **names)["crunch"]
    quick = override_settings(DEMO_JOB_STEPS=2, DEMO_JOB_STEP_SECONDS=0)
    with quick:
        crunch(session.session_key)
    assert "no browser can receive it" in caplog.text
    sent = [m["operations"] for m in bus._streams[Channel.for_session(session).stream].entries]
    assert len(sent) == 3  # two steps, then done
    assert {"op": "text_content", "selector": "#job-label", "text": "Step 1 of 2: 50%"} in sent[0]
    assert {
        "op": "text_content",
        "selector": "#job-label",
        "text": "Done: 2 steps in a thread of the web process.",
    } in sent[2]


@pytest.mark.django_db
def test_the_job_reflex_sample_shows_the_job_queued_and_starts_it(bus, sample_reflex):
    started: list[str] = []
    runner = SimpleNamespace(uses_celery=lambda: True, start=started.append)
    sample_reflex("broadcasting.md", 5, "JobReflex", Reflex=Reflex, Channel=Channel, runner=runner)
    tab = ReflexClient()
    tab.reflex("CounterReflex#increment", url="/")  # the visitor has a session
    started_job = tab.reflex("JobReflex#start", url="/")
    assert started_job.type == "nothing"
    session = SessionStore(session_key=tab.client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert started == [session.session_key]
    (queued,) = bus._streams[Channel.for_session(session).stream].entries
    assert started_job.broadcasts == [
        Broadcast(Channel.for_session(session).stream, queued["operations"])
    ]
    assert queued["operations"] == [
        {"op": "set_attribute", "selector": "#job", "name": "data-state", "value": "running"},
        {"op": "set_attribute", "selector": "#job-start", "name": "disabled", "value": ""},
        {"op": "set_attribute", "selector": "#job-progress", "name": "value", "value": "0"},
        {"op": "text_content", "selector": "#job-label", "text": "Queued\u2026"},
    ]
