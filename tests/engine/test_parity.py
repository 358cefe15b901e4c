"""Issue 5, items 3-5: server parity, the predecessors' bugs, developer tools.

Each test here covers what tests/engine/test_reflexes.py, test_registry.py, test_checks.py
and test_scaffold.py left open, or left passing when the feature is taken away (the table
in the commit message says which). The pages are this module's own URLconf, so the test
app's URLs can change without touching these tests.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.shortcuts import render
from django.test import override_settings
from django.urls import path

from sockpuppet import registry, runner
from sockpuppet.bus import create_bus
from sockpuppet.connection import Connection
from sockpuppet.dispatcher import Dispatcher
from sockpuppet.testing import ReflexClient

ROOT = Path(__file__).resolve().parents[2]
PAGE = "/parity-engine/"


def page(request):
    context = {"count": request.session.get("parity_count", 0)}
    return render(request, "testapp/parity_engine_page.html", context)


def broken_page(request):
    if getattr(request, "sockpuppet_reflex", None) is not None:
        raise RuntimeError("the view broke")
    return page(request)


urlpatterns = [path("parity-engine/", page), path("parity-engine/broken/", broken_page)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def tab():
    return ReflexClient()


@pytest.fixture
def sent(monkeypatch):
    """The ids of the reflexes ``ReflexClient`` sends, in order."""
    ids = []
    run = runner.run

    def spy(connection, message):
        ids.append(message["id"])
        return run(connection, message)

    monkeypatch.setattr(runner, "run", spy)
    return ids


# --- 3. Server parity -------------------------------------------------------------------


def test_wrong_arguments_get_a_clear_message_without_debug_and_nothing_runs(tab, settings, sent):
    settings.DEBUG = False
    result = tab.reflex("EngineParityReflex#count", url=PAGE, args=[1, 2])
    assert result.type == "error" and result.message["reflexId"] == sent[-1]
    assert result.error.startswith("EngineParityReflex.count cannot take 2 argument(s)")
    assert tab.reflex(None, url=PAGE, selectors=["#count"]).html("#count") == "0"


@pytest.mark.parametrize(
    "name",
    [
        "EngineParityBaseReflex",
        "EngineParityReflex",
        "EngineParityMiddleReflex",
        "EngineParityDeepReflex",
    ],
)
def test_an_action_of_a_shared_base_runs_on_each_reflex_below_it(tab, name):
    result = tab.reflex(f"{name}#whoami", url=PAGE)
    assert result.operations == [{"op": "morph", "selector": "#who", "html": f"<b>{name}</b>"}]


def test_a_message_from_a_reflex_that_renders_nothing_shows_on_the_next_render_once(tab):
    assert tab.reflex("EngineParityReflex#flash_quietly", url=PAGE).type == "nothing"
    assert "<li>saved quietly</li>" in tab.reflex(None, url=PAGE).html()
    assert '<ul id="messages"></ul>' in tab.reflex(None, url=PAGE).html()


def test_a_message_then_a_redirect_shows_on_the_page_the_browser_goes_to(tab):
    result = tab.reflex("EngineParityReflex#flash_and_leave", url=PAGE)
    assert result.operations == [{"op": "redirect_to", "selector": None, "url": PAGE}]
    assert "<li>saved and left</li>" in tab.client.get(PAGE).content.decode()


def test_an_async_hook_runs_and_can_halt(tab):
    assert tab.reflex("EngineParityAsyncHooksReflex#go", url=PAGE).type == "halted"


# --- 4. The predecessors' bugs ----------------------------------------------------------


def test_methods_are_never_template_context(tab):
    """Regression: django-sockpuppet put the reflex's methods in the template context;
    a template naming one called it. Only the attributes the reflex set are context."""
    html = tab.reflex("EngineParityReflex#annotate", url=PAGE).html()
    assert '<p id="note">annotated</p>' in html
    assert '<p id="method">no-leak</p>' in html


def test_a_reflex_run_again_sends_its_operations_once(tab):
    """Regression: operations collected in a shared mutable default piled up across
    reflexes, so each answer repeated the operations of the ones before."""
    first = tab.reflex("EngineParityReflex#two_morphs", url=PAGE)
    second = tab.reflex("EngineParityReflex#two_morphs", url=PAGE)
    other = ReflexClient().reflex("EngineParityReflex#whoami", url=PAGE)
    assert (
        first.operations
        == second.operations
        == [
            {"op": "morph", "selector": "#one", "html": "<i>1</i>"},
            {"op": "morph", "selector": "#two", "html": "<i>2</i>"},
        ]
    )
    assert other.operations == [
        {"op": "morph", "selector": "#who", "html": "<b>EngineParityReflex</b>"}
    ]


@pytest.mark.parametrize(
    ("target", "args", "complaint"),
    [
        ("EngineParityNope#go", [], "No reflex class named 'EngineParityNope'"),
        ("EngineParityReflex#_private", [], "not a public method"),
        ("EngineParityReflex#morph", [], "no reflex action 'morph'"),
        ("EngineParityReflex", [], "must look like 'ClassName#method'"),
        ("EngineParityReflex#count", [1], "cannot take 1 argument"),
    ],
)
def test_a_refused_target_answers_its_reflex_by_id(tab, sent, target, args, complaint):
    """Regression: an unknown reflex class was answered with no reflex id (or not at
    all), so the browser's promise for it never settled."""
    result = tab.reflex(target, url=PAGE, args=args)
    assert result.type == "error" and complaint in result.error
    assert result.message["reflexId"] == sent[-1]


@pytest.mark.parametrize(
    ("target", "dataset", "url", "complaint"),
    [
        ("EngineParityReflex#explode", {}, PAGE, "the action broke"),
        ("EngineParityReflex#async_explode", {}, PAGE, "the async action broke"),
        ("EngineParityHooksReflex#go", {"fail": "before"}, PAGE, "before_reflex broke"),
        ("EngineParityHooksReflex#go", {"fail": "after"}, PAGE, "after_reflex broke"),
        ("EngineParityReflex#annotate", {}, f"{PAGE}broken/", "the view broke"),
    ],
)
def test_no_error_is_swallowed(tab, settings, caplog, sent, target, dataset, url, complaint):
    """Regression: exceptions in a reflex, its hooks or its page render vanished: no
    answer the client could show, no log record. Each is answered and logged, once."""
    settings.DEBUG = True
    with caplog.at_level(logging.ERROR, logger="sockpuppet"):
        result = tab.reflex(target, url=url, dataset=dataset)
    assert result.type == "error" and result.message["reflexId"] == sent[-1]
    assert complaint in result.error and complaint in result.message["traceback"]
    [record] = [r for r in caplog.records if r.name == "sockpuppet"]
    assert record.exc_info is not None and str(record.exc_info[1]) == complaint


# --- 5. Developer tools -----------------------------------------------------------------


def test_sockpuppet_ships_a_pytest_fixture_that_gives_a_reflex_client(request):
    """Whatever its name, a fixture of a sockpuppet module registered with pytest (by an
    entry point or ``pytest_plugins``) gives a working ``ReflexClient``."""
    plugins = [
        plugin
        for plugin in request.config.pluginmanager.get_plugins()
        if getattr(plugin, "__name__", "").partition(".")[0] == "sockpuppet"
    ]
    assert plugins, "no sockpuppet module is registered as a pytest plugin"
    clients = []
    for name in {name for plugin in plugins for name in vars(plugin)}:
        try:
            clients.append(request.getfixturevalue(name))
        except pytest.FixtureLookupError:
            continue
    [client] = [c for c in clients if isinstance(c, ReflexClient)]
    assert client.reflex("EngineParityReflex#annotate", url=PAGE).morph == "page"


@pytest.fixture
def scaffold_app(tmp_path, monkeypatch):
    """An empty app the scaffold writes into, with a URLconf serving its view at ``/``."""
    package = tmp_path / "engineparityscratch"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "urls.py").write_text(
        "from django.urls import path\n\n"
        "from engineparityscratch.views import engine_scaffold\n\n"
        'urlpatterns = [path("", engine_scaffold)]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = registry.registry()
    yield package
    for name in [m for m in sys.modules if m.partition(".")[0] == "engineparityscratch"]:
        del sys.modules[name]
    registry._registry = saved
    registry._signature.cache_clear()  # it holds the scaffolded reflex's methods
    gc.collect()


def test_a_scaffolded_reflex_view_and_template_work_together(scaffold_app, settings):
    apps = [*settings.INSTALLED_APPS, "engineparityscratch"]
    with override_settings(INSTALLED_APPS=apps, ROOT_URLCONF="engineparityscratch.urls"):
        call_command(
            "sockpuppet_reflex", "engineparityscratch", "EngineScaffold", stdout=io.StringIO()
        )
        registry.discover()
        tab = ReflexClient()
        first = tab.reflex("EngineScaffoldReflex#increment", url="/", selectors=["#count"])
        second = tab.reflex(
            "EngineScaffoldReflex#increment", url="/", args=[2], selectors=["#count"]
        )
    assert (first.html("#count"), second.html("#count")) == ("1", "3")
    assert not (scaffold_app / "static").exists()  # a controller only with --javascript


def test_two_reflexes_with_one_name_stop_the_project_at_startup(tmp_path):
    app = tmp_path / "engineparitydup"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "reflexes.py").write_text(
        "from sockpuppet import Reflex\n\n\nclass CounterReflex(Reflex):\n    def go(self):\n        pass\n"
    )
    (tmp_path / "engineparitydup_settings.py").write_text(
        'from tests.settings import *  # noqa: F403\n\nINSTALLED_APPS = [*INSTALLED_APPS, "engineparitydup"]  # noqa: F405\n'
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "engineparitydup_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    assert "Two reflexes are named CounterReflex" in done.stderr
    assert "engineparitydup.reflexes.CounterReflex" in done.stderr


def _reflex(target):
    return {
        "type": "reflex",
        "id": uuid.uuid4().hex,
        "target": target,
        "args": [],
        "url": f"http://testserver{PAGE}",
        "attrs": {},
        "dataset": {},
        "selectors": [],
        "formData": "",
        "params": {},
        "permanentAttributeName": "data-reflex-permanent",
    }


@pytest.mark.django_db(transaction=True)
async def test_each_reflex_is_logged_with_target_duration_morph_and_transport(caplog):
    bus = create_bus("memory")
    connection = Connection(
        id=uuid.uuid4().hex, transport="sse", headers=[(b"host", b"testserver")]
    )
    targets = [
        "EngineParityReflex#annotate",
        "EngineParityReflex#two_morphs",
        "EngineParityNope#go",
    ]
    with caplog.at_level(logging.DEBUG, logger="sockpuppet"):
        await Dispatcher(connection, bus).run(json.dumps([_reflex(t) for t in targets]))
    await bus.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "sockpuppet"]
    for target, kind in zip(targets, ["page", "selector", "error"], strict=True):
        [line] = [line for line in lines if line.startswith(f"reflex {target} -> ")]
        assert kind in line and " sse" in line, line
        assert re.search(r"\b\d+(\.\d+)? ?ms\b", line), line


@pytest.mark.django_db(transaction=True)
async def test_a_reflex_sent_again_runs_once_and_the_log_says_why(caplog):
    bus = create_bus("memory")
    connection = Connection(
        id=uuid.uuid4().hex, transport="sse", headers=[(b"host", b"testserver")]
    )
    reflex = _reflex("EngineParityReflex#annotate")
    with caplog.at_level(logging.DEBUG, logger="sockpuppet"):
        for _ in range(2):  # as a client sends it again after a lost connection
            await Dispatcher(connection, bus).run(json.dumps([reflex]))
    await bus.close()
    lines = [r.getMessage() for r in caplog.records]
    [_ran_once] = [
        line for line in lines if line.startswith("reflex EngineParityReflex#annotate -> ")
    ]
    [again] = [line for line in lines if "sent again" in line]
    assert again.startswith(f"reflex EngineParityReflex#annotate {reflex['id']} sent again")


@pytest.mark.django_db(transaction=True)
async def test_a_reflex_id_is_remembered_as_long_as_answers_are(settings):
    """Long enough for every retry (the client's last is a minute after the first send),
    and not longer: one claim per reflex run, so Redis holds rate x HISTORY_TTL of them."""
    settings.SOCKPUPPET = {"HISTORY_TTL": 120}
    bus = create_bus("memory")
    connection = Connection(
        id=uuid.uuid4().hex, transport="sse", headers=[(b"host", b"testserver")]
    )
    before = time.monotonic()
    await Dispatcher(connection, bus).run(json.dumps([_reflex("EngineParityReflex#annotate")]))
    await bus.close()
    [expires] = bus._claims.values()
    assert 119 < expires - before < 121
