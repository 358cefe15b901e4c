"""The client's StimulusReflex parity features, in Chromium, against what docs/client.md
promises (issue 5).

The pages and reflexes live in ``tests/parity``. What the server received is read back
from the page: ``ParityEchoReflex#echo`` morphs ``#echo`` into JSON of its ``element``,
``params``, ``selectors``, ``reflex_id`` and arguments. The roots page renders a session
counter in three regions (``#root-a``, ``#root-b``, ``#root-c``), outside them, and an id
per render; the lifecycle page records every controller callback and ``sockpuppet:*``
event in ``window.__parityLog``.

Everything runs on the WebSocket; what depends on the transport (``stimulate``, refresh,
the lifecycle, tab isolation) runs on all three.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.support.browser import (
    EVENT_RECORDER,
    TIMEOUT_MS,
    PageProblems,
    events,
    wait_connected,
)
from tests.transports.conftest import Deployment

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
ECHO = "ParityEchoReflex#echo"

# Returns what the promise of `Sockpuppet.stimulate(target, element?, options?, ...args)`
# gave, and the echo as the page showed it at that moment.
STIMULATE = """async ([target, selector, options, args]) => {
  const element = selector ? document.querySelector(selector) : null
  document.getElementById("echo").textContent = ""
  const rest = element ? [element] : []
  if (options !== null) rest.push(options)
  rest.push(...args)
  try {
    const result = await Sockpuppet.stimulate(target, ...rest)
    const shown = document.getElementById("echo").textContent
    return {
      ok: true,
      id: result.id,
      outcome: result.outcome,
      event: result.event,
      target: result.target,
      sameElement: result.element === (element || document.body),
      echo: shown ? JSON.parse(shown) : null,
    }
  } catch (error) {
    return {
      ok: false,
      message: error.message,
      reflexId: error.reflexId,
      target: error.target,
      outcome: error.outcome,
      sameElement: error.element === (element || document.body),
      traceback: error.traceback || null,
    }
  }
}"""

MAIN_FORM = {
    "title": [""],
    "tag": ["a", "b"],
    "opt": ["x", "z"],
    "body": [""],
    "pick": ["1", "3"],
}
OTHER_FORM = {"other": ["o1", ""], "extra": ["e"]}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The test app (with tests/parity) under uvicorn, for the whole module."""
    deployment = Deployment(tmp_path_factory, "parity")
    yield deployment
    deployment.stop()


@pytest.fixture
def transport() -> str:
    """The transport of tests that do not run on each (those parametrise it)."""
    return "websocket"


def open_parity(page: Page, app: Deployment, name: str, transport: str, query: str = "") -> Page:
    page.goto(f"{app.url}/parity/{name}/?transport={transport}{query}")
    wait_connected(page, transport)
    return page


class Tab:
    """A page kept open for the whole module, in its own browser context."""

    def __init__(self, browser: Browser, app: Deployment, name: str, transport: str) -> None:
        self.transport = transport
        self.context = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(EVENT_RECORDER)
        self.page = self.context.new_page()
        self.problems = PageProblems()
        self.problems.watch(self.page)
        open_parity(self.page, app, name, transport)

    def close(self) -> None:
        self.problems.stop()
        self.context.close()


@pytest.fixture(scope="module")
def tabs(browser: Browser, app: Deployment) -> Iterator[Callable[[str, str], Tab]]:
    """Pages that only show what reflexes received, one per page name and transport,
    opened on first use: a fresh page per test would cost more than the tests."""
    opened: dict[tuple[str, str], Tab] = {}

    def get(name: str, transport: str) -> Tab:
        if (name, transport) not in opened:
            opened[name, transport] = Tab(browser, app, name, transport)
        return opened[name, transport]

    yield get
    for tab in opened.values():
        tab.close()


def reused(
    request: pytest.FixtureRequest, tab: Tab, reset: str
) -> Iterator[tuple[Page, PageProblems]]:
    """``tab``'s page, put back in its first state; any page error fails the test."""
    wait_connected(tab.page, tab.transport)
    tab.page.evaluate(reset)
    tab.problems.clear()
    yield tab.page, tab.problems
    errors, call = list(tab.problems.errors), getattr(request.node, "report_call", None)
    tab.problems.clear()
    allowed = request.node.get_closest_marker("allow_page_errors")
    if errors and not allowed and call is not None and call.passed:
        pytest.fail("page errors:\n  " + "\n  ".join(errors), pytrace=False)


@pytest.fixture
def echo_page(
    request: pytest.FixtureRequest, tabs: Callable[[str, str], Tab], transport: str
) -> Iterator[Page]:
    reset = "() => { Sockpuppet.debug = false; document.getElementById('echo').textContent = '' }"
    for page, _ in reused(request, tabs("stimulate", transport), reset):
        yield page


def stimulate(
    page: Page,
    target: str | None,
    selector: str | None = None,
    options: dict[str, Any] | None = None,
    *args: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(STIMULATE, [target, selector, options, list(args)])
    return result


def click_echo(page: Page, selector: str) -> dict[str, Any]:
    """Click a ``data-reflex`` element whose reflex is the echo; what the server received."""
    page.evaluate("() => { document.getElementById('echo').textContent = '' }")
    page.click(selector)
    page.wait_for_function("() => document.getElementById('echo').textContent !== ''")
    received: dict[str, Any] = json.loads(page.text_content("#echo") or "")
    return received


# --- 1. stimulate(target, element?, options?, ...args) ---------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_sends_element_and_args_and_resolves_once_applied(echo_page: Page) -> None:
    # A plain object without an option key is an argument, not options.
    result = stimulate(echo_page, ECHO, "#target-btn", None, 7, "seven", {"k": [1]})
    assert result["ok"], result
    assert result["outcome"] == result["event"] == "success"
    assert result["target"] == ECHO
    assert result["sameElement"]
    received = result["echo"]  # already in the page when the promise resolved
    assert received is not None, "the promise resolved before the answer was applied"
    assert received["args"] == [7, "seven", {"k": [1]}]
    assert received["reflex_id"] == result["id"]
    assert received["attrs"]["id"] == "target-btn"
    assert received["attrs"]["tag_name"] == "BUTTON"
    assert received["attrs"]["data-note"] == "n1"
    assert received["dataset"] == {"note": "n1"}
    assert received["selectors"] == []
    assert received["params"] == {}
    assert received["inner_html"] == received["text"] == ""


@pytest.mark.allow_page_errors  # a failed reflex is logged as a console error
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_promise_settles_per_outcome(echo_page: Page) -> None:
    outcomes = {
        target: stimulate(echo_page, target, "#target-btn")
        for target in [
            "ParityLifecycleReflex#skip_render",
            "ParityHaltReflex#hold_on",
            "ParityLifecycleReflex#deny_access",
            "ParityLifecycleReflex#break_down",
        ]
    }
    resolved = {t: (r["ok"], r["outcome"], r["target"]) for t, r in outcomes.items()}
    assert resolved == {
        "ParityLifecycleReflex#skip_render": (True, "nothing", "ParityLifecycleReflex#skip_render"),
        "ParityHaltReflex#hold_on": (True, "halted", "ParityHaltReflex#hold_on"),
        "ParityLifecycleReflex#deny_access": (
            True,
            "forbidden",
            "ParityLifecycleReflex#deny_access",
        ),
        "ParityLifecycleReflex#break_down": (False, "error", "ParityLifecycleReflex#break_down"),
    }
    assert all(result["sameElement"] for result in outcomes.values())
    rejected = outcomes["ParityLifecycleReflex#break_down"]
    assert rejected["message"] == ERROR_MESSAGE
    assert rejected["reflexId"]
    assert "RuntimeError: parity breakdown" in rejected["traceback"]  # tests run with DEBUG


@pytest.mark.allow_page_errors  # the failed reflex's console error is what it checks
def test_a_failed_reflex_shows_the_servers_traceback_in_the_console(echo_page: Page) -> None:
    """Regression (client audit): with DEBUG on, the traceback was only on the rejected
    promise's error, not in the console line a developer reads first."""
    lines: list[str] = []
    echo_page.on("console", lambda message: lines.append(message.text))
    assert not stimulate(echo_page, "ParityLifecycleReflex#break_down", "#target-btn")["ok"]
    [line] = [text for text in lines if "ParityLifecycleReflex#break_down error" in text]
    assert "Traceback" in line and "RuntimeError: parity breakdown" in line


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_attrs_replaces_the_attributes(echo_page: Page) -> None:
    attrs = {"id": "from-options", "data-kind": "fake"}
    result = stimulate(echo_page, ECHO, "#target-btn", {"attrs": attrs})
    assert result["ok"], result
    assert result["echo"]["attrs"] == attrs
    assert result["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_selectors(echo_page: Page) -> None:
    as_list = stimulate(echo_page, ECHO, "#target-btn", {"selectors": ["#root-x", "#root-y"]})
    as_text = stimulate(echo_page, ECHO, "#target-btn", {"selectors": "#root-x, #root-y"})
    assert as_list["echo"]["selectors"] == ["#root-x", "#root-y"]
    assert as_text["echo"]["selectors"] == ["#root-x", "#root-y"]
    assert as_list["echo"]["args"] == as_text["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_id(echo_page: Page) -> None:
    reflex_id = str(uuid.uuid4())
    result = stimulate(echo_page, ECHO, "#target-btn", {"id": reflex_id})
    assert result["id"] == reflex_id
    assert result["echo"]["reflex_id"] == reflex_id
    assert result["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_reflex_id(echo_page: Page) -> None:
    """StimulusReflex's name for ``id``."""
    reflex_id = str(uuid.uuid4())
    result = stimulate(echo_page, ECHO, "#target-btn", {"reflexId": reflex_id})
    assert result["ok"], result
    assert result["echo"]["args"] == []
    assert result["echo"]["reflex_id"] == result["id"] == reflex_id


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_resolve_late(echo_page: Page) -> None:
    """StimulusReflex's option: taken as an option, not as an argument; the promise
    resolves after the answer is applied, as it always does."""
    result = stimulate(echo_page, ECHO, "#target-btn", {"resolveLate": True})
    assert result["ok"], result
    assert result["echo"] is not None, "resolved before the morph was applied"
    assert result["echo"]["reflex_id"] == result["id"]
    assert result["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_serialize_form(echo_page: Page) -> None:
    default = stimulate(echo_page, ECHO, "#form-default")
    off = stimulate(echo_page, ECHO, "#form-default", {"serializeForm": False})
    # The option wins over the element's data-reflex-serialize-form="false".
    on = stimulate(echo_page, ECHO, "#form-no-serialize", {"serializeForm": True})
    assert default["echo"]["params"] == MAIN_FORM
    assert off["echo"]["params"] == {}
    assert on["echo"]["params"] == MAIN_FORM
    assert off["echo"]["args"] == on["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_options_form_selector_and_params(echo_page: Page) -> None:
    options = {"formSelector": "#other-form", "params": {"note": "p", "many": ["a", "b"]}}
    result = stimulate(echo_page, ECHO, "#target-btn", options)
    assert result["echo"]["params"] == {**OTHER_FORM, "note": ["p"], "many": ["a", "b"]}
    assert result["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_include_inner_html(echo_page: Page) -> None:
    result = stimulate(echo_page, ECHO, "#target-btn", {"includeInnerHTML": True})
    assert result["echo"]["inner_html"] == "target <b>bold</b>"
    assert result["echo"]["text"] == ""
    assert result["echo"]["args"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stimulate_option_include_text_content(echo_page: Page) -> None:
    result = stimulate(echo_page, ECHO, "#target-btn", {"includeTextContent": True})
    assert result["echo"]["text"] == "target bold"
    assert result["echo"]["inner_html"] == ""
    assert result["echo"]["args"] == []


def test_include_attributes_on_the_element(echo_page: Page) -> None:
    received = click_echo(echo_page, "#include-attrs")
    assert received["inner_html"] == "include <i>both</i>"
    assert received["text"] == "include both"


# --- 2. data-reflex-dataset -> self.element.dataset -------------------------------------------

OWN = {"reflex": "click->ParityEchoReflex#echo"}


def test_dataset_is_the_elements_own_by_default(echo_page: Page) -> None:
    received = click_echo(echo_page, "#ds-own")
    assert received["dataset"] == {**OWN, "level": "self", "post-id": "3"}


def test_dataset_combined_adds_every_ancestor_own_values_win(echo_page: Page) -> None:
    received = click_echo(echo_page, "#ds-combined")
    assert received["dataset"] == {
        **OWN,
        "reflex-dataset": "combined",
        "level": "self",
        "post-id": "3",
        "shared": "from-parent",
        "parent-only": "p",
        "grand-only": "g",
    }


def test_dataset_ancestors_nearer_wins(echo_page: Page) -> None:
    received = click_echo(echo_page, "#ds-ancestors")
    assert received["dataset"] == {
        **OWN,
        "reflex-dataset": "ancestors",
        "post-id": "3",
        "level": "parent",
        "shared": "from-parent",
        "parent-only": "p",
        "grand-only": "g",
    }


def test_dataset_selector_adds_its_matches_earlier_wins(echo_page: Page) -> None:
    received = click_echo(echo_page, "#ds-selector")
    assert received["dataset"] == {
        **OWN,
        "reflex-dataset": ".extra-data",
        "level": "self",
        "extra": "1",
        "more": "m",
    }


# --- 3. data-reflex-serialize-form, data-reflex-form-selector -> self.params -------------------


def test_enclosing_form_is_sent_with_blanks_and_repeated_keys(echo_page: Page) -> None:
    assert click_echo(echo_page, "#form-default")["params"] == MAIN_FORM


def test_serialize_form_false_sends_no_form(echo_page: Page) -> None:
    assert click_echo(echo_page, "#form-no-serialize")["params"] == {}


def test_form_selector_replaces_the_enclosing_form(echo_page: Page) -> None:
    assert click_echo(echo_page, "#form-other")["params"] == OTHER_FORM


def test_form_selector_outside_any_form(echo_page: Page) -> None:
    assert click_echo(echo_page, "#outside-other")["params"] == OTHER_FORM


def test_submit_reflex_sends_the_submitter_and_stays_on_the_page(echo_page: Page) -> None:
    url = echo_page.url
    assert click_echo(echo_page, "#submit-go")["params"] == {"q": [""], "action": ["go"]}
    assert echo_page.url == url


def test_click_reflex_on_a_submit_button_sends_it_and_stays_on_the_page(echo_page: Page) -> None:
    url = echo_page.url
    received = click_echo(echo_page, "#click-submit")
    assert received["params"] == {"q2": [""], "action": ["click"]}
    assert echo_page.url == url
    # A reflex after it still answers in this page: the form was not submitted.
    assert stimulate(echo_page, ECHO, "#target-btn")["ok"]


CANCELLABLE = ["#cancel-confirm", "#cancel-link", "#cancel-child", "#cancel-submit"]


def test_page_code_that_cancels_the_event_cancels_the_reflex(echo_page: Page) -> None:
    """Regression (client audit). Bug: the client heard every event before the page did
    (a capture listener on ``document``): a delete button's ``confirm()`` answered
    "Cancel" (``preventDefault`` and ``stopImmediatePropagation``) deleted anyway."""
    echo_page.evaluate(
        """() => {
          window.parityCancel = true
          window.parityStarted = 0
          document.addEventListener("sockpuppet:before", () => window.parityStarted++)
        }"""
    )
    url = echo_page.url
    for selector in CANCELLABLE:
        echo_page.click(selector)
    assert stimulate(echo_page, ECHO, "#target-btn")["ok"]  # answered after any sent before
    assert echo_page.evaluate("window.parityStarted") == 1  # the probe's own
    assert echo_page.url == url  # the link's and the form's defaults stayed prevented
    echo_page.evaluate("() => { window.parityCancel = false }")
    for selector in CANCELLABLE:  # the same elements start their reflexes when not stopped
        started = {"#cancel-child": "cancel-parent", "#cancel-submit": "cancel-form"}
        assert click_echo(echo_page, selector)["attrs"]["id"] == started.get(selector, selector[1:])
    assert echo_page.url == url


# --- 4. data-reflex-root -----------------------------------------------------------------------


@pytest.fixture
def roots_page(page: Page, app: Deployment, transport: str) -> Page:
    open_parity(page, app, "roots", transport)
    page.evaluate("() => { document.getElementById('scratch').textContent = 'dirty' }")
    return page


def counts(page: Page) -> dict[str, str]:
    return {
        name: (page.text_content(selector) or "").strip()
        for name, selector in {
            "a": "#root-a .n",
            "b": "#root-b .n",
            "c": "#root-c .n",
            "outside": "#outside",
            "scratch": "#scratch",
        }.items()
    }


def test_roots_from_an_ancestor_morph_only_those_roots(roots_page: Page) -> None:
    render_id = roots_page.text_content("#render-id")
    roots_page.click("#bump-inherited")
    expect(roots_page.locator("#root-a .n")).to_have_text("1")
    assert counts(roots_page) == {"a": "1", "b": "1", "c": "0", "outside": "0", "scratch": "dirty"}
    assert roots_page.text_content("#render-id") == render_id


def test_roots_on_the_element_morph_only_those_roots(roots_page: Page) -> None:
    roots_page.click("#bump-own")
    expect(roots_page.locator("#root-c .n")).to_have_text("1")
    assert counts(roots_page) == {"a": "0", "b": "1", "c": "1", "outside": "0", "scratch": "dirty"}


def test_stimulate_selectors_option_picks_the_roots(roots_page: Page) -> None:
    result = roots_page.evaluate(
        """() => Sockpuppet.stimulate("ParityPageReflex#bump",
             document.getElementById("bump-body"), {selectors: ["#root-a", "#root-c"]})
           .then((result) => result.outcome)"""
    )
    assert result == "success"
    assert counts(roots_page) == {"a": "1", "b": "0", "c": "1", "outside": "0", "scratch": "dirty"}


def test_without_roots_the_whole_body_is_morphed(roots_page: Page) -> None:
    roots_page.click("#bump-body")
    expect(roots_page.locator("#root-a .n")).to_have_text("1")
    assert counts(roots_page) == {"a": "1", "b": "1", "c": "1", "outside": "1", "scratch": "clean"}


# --- 5. refresh: data-reflex="click" with no target ---------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_refresh_without_target_renders_the_page_again(roots_page: Page) -> None:
    render_id = roots_page.text_content("#render-id")
    roots_page.click("#refresh")
    expect(roots_page.locator("#render-id")).not_to_have_text(render_id or "")
    assert counts(roots_page) == {"a": "0", "b": "0", "c": "0", "outside": "0", "scratch": "clean"}
    stages = [(e["type"], e["target"]) for e in events(roots_page) if e["reflexId"]]
    assert stages == [("before", None), ("success", None), ("after", None), ("finalize", None)]

    # Sockpuppet.stimulate(null) is the same refresh, from JavaScript.
    render_id = roots_page.text_content("#render-id")
    roots_page.evaluate("() => { document.getElementById('scratch').textContent = 'dirty' }")
    outcome = roots_page.evaluate(
        "() => Sockpuppet.stimulate(null).then((r) => [r.outcome, r.target])"
    )
    assert outcome == ["success", None]
    assert roots_page.text_content("#render-id") != render_id
    assert roots_page.text_content("#scratch") == "clean"


# --- 6. lifecycle: callbacks and events, per outcome --------------------------------------------

SEQUENCES = {
    "success": ["before", "success", "after", "finalize"],
    "nothing": ["before", "nothing", "success", "after", "finalize"],
    "error": ["before", "error", "after", "finalize"],
    "halted": ["before", "halted", "after", "finalize"],
    "forbidden": ["before", "forbidden", "after", "finalize"],
}
CALLBACKS = {
    "before": ("before{A}", "beforeReflex"),
    "success": ("{a}Success", "reflexSuccess"),
    "error": ("{a}Error", "reflexError"),
    "halted": ("{a}Halted", "reflexHalted"),
    "forbidden": ("{a}Forbidden", "reflexForbidden"),
    "after": ("after{A}", "afterReflex"),
    "finalize": ("finalize{A}", "finalizeReflex"),
}
# outcome: (button, target, the action in callback names)
OUTCOMES = {
    "success": ("save-item", "ParityLifecycleReflex#save_item", "SaveItem"),
    "nothing": ("skip-render", "ParityLifecycleReflex#skip_render", "SkipRender"),
    "error": ("break-down", "ParityLifecycleReflex#break_down", "BreakDown"),
    "halted": ("hold-on", "ParityHaltReflex#hold_on", "HoldOn"),
    "forbidden": ("deny-access", "ParityLifecycleReflex#deny_access", "DenyAccess"),
}
ERROR_MESSAGE = "ParityLifecycleReflex#break_down raised RuntimeError: parity breakdown"


def expected_log(outcome: str, action: str) -> list[str]:
    """Callbacks (per action, then generic) before the event, stage by stage (docs/client.md)."""
    lower = action[0].lower() + action[1:]
    names: list[str] = []
    for stage in SEQUENCES[outcome]:
        if stage in CALLBACKS:
            names += [f"callback:{n.format(A=action, a=lower)}" for n in CALLBACKS[stage]]
        names.append(f"event:{stage}")
    return names


LIFE_RESET = """() => {
  window.__parityLog.length = 0
  document.getElementById("life-out").textContent = "idle"
}"""


@pytest.fixture
def life(
    request: pytest.FixtureRequest, tabs: Callable[[str, str], Tab], transport: str
) -> Iterator[tuple[Page, PageProblems]]:
    tab = tabs("lifecycle", transport)
    tab.page.wait_for_function("() => document.body.dataset.lifeConnected === 'true'")
    yield from reused(request, tab, LIFE_RESET)


def lifecycle_log(page: Page, until: str = "event:finalize") -> list[dict[str, Any]]:
    page.wait_for_function(
        "(until) => window.__parityLog.some((e) => `${e.kind}:${e.name}` === until)", arg=until
    )
    log: list[dict[str, Any]] = page.evaluate("() => window.__parityLog")
    return log


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "outcome",
    [
        "success",
        "nothing",
        pytest.param("error", marks=pytest.mark.allow_page_errors),
        "halted",
        "forbidden",
    ],
)
def test_lifecycle_callbacks_then_events_in_order(
    life: tuple[Page, PageProblems], outcome: str
) -> None:
    life_page, problems = life
    button, target, action = OUTCOMES[outcome]
    life_page.click(f"#{button}")
    log = lifecycle_log(life_page)
    assert [f"{e['kind']}:{e['name']}" for e in log] == expected_log(outcome, action)

    reflex_ids = {e["reflexId"] for e in log}
    assert len(reflex_ids) == 1 and None not in reflex_ids
    assert {e["target"] for e in log} == {target}
    assert {e["element"] for e in log} == {button}
    assert {e["detailElement"] for e in log if e["kind"] == "event"} == {button}
    assert {e["controller"] for e in log if e["kind"] == "callback"} == {"parity-life"}
    failed_stages = {"error", "after", "finalize"} if outcome == "error" else set()
    for entry in log:
        stage = entry["name"] if entry["kind"] == "event" else None
        stage = stage or next(s for s, names in CALLBACKS.items() if _names(names, action, entry))
        if stage in failed_stages:
            assert entry["error"] == ERROR_MESSAGE, entry
        else:
            assert entry["error"] is None, entry
        # `before` comes before the answer; the others after its operations were applied.
        applied = "saved" if outcome == "success" and stage != "before" else "idle"
        assert entry["out"] == applied, entry
    if outcome == "error":
        # Logged as a console error, debugging or not.
        assert any(ERROR_MESSAGE in error for error in problems.errors), problems.errors


def _names(names: tuple[str, str], action: str, entry: dict[str, Any]) -> bool:
    lower = action[0].lower() + action[1:]
    return entry["name"] in {n.format(A=action, a=lower) for n in names}


def test_lifecycle_of_this_stimulate_then_its_promise(life: tuple[Page, PageProblems]) -> None:
    life_page, _ = life
    life_page.click("#via-controller")
    log = lifecycle_log(life_page, until="promise:success")
    names = [f"{e['kind']}:{e['name']}" for e in log]
    assert names == [*expected_log("success", "SaveItem"), "promise:success"]
    assert log[-1]["out"] == "saved"
    assert {e["reflexId"] for e in log} == {log[-1]["reflexId"]}
    assert {e["element"] for e in log if e["kind"] != "promise"} == {"via-controller"}


def test_lifecycle_of_a_registered_controller_of_another_base(
    life: tuple[Page, PageProblems],
) -> None:
    life_page, _ = life
    life_page.wait_for_function("() => document.body.dataset.plainConnected === 'true'")
    life_page.click("#plain-save")
    log = lifecycle_log(life_page)
    assert [f"{e['kind']}:{e['name']}" for e in log] == expected_log("success", "SaveItem")
    assert {e["controller"] for e in log if e["kind"] == "callback"} == {"parity-plain"}


# --- 7. tab isolation ---------------------------------------------------------------------------

WATCH_MUTATIONS = """() => {
  window.__mutations = 0
  new MutationObserver((records) => { window.__mutations += records.length })
    .observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true })
}"""
BARRIER = """() => Sockpuppet.stimulate("ParityEchoReflex#quiet").then((r) => r.outcome)"""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_tabs_morph_is_not_replayed_in_another_tab_of_the_session(
    page: Page, app: Deployment, transport: str, page_problems: PageProblems
) -> None:
    first = open_parity(page, app, "roots", transport)
    second = page.context.new_page()  # same context: same cookies, same Django session
    page_problems.watch(second)
    open_parity(second, app, "roots", transport)

    for actor, other, count in [(first, second, "1"), (second, first, "2")]:
        render_id = other.text_content("#render-id")
        other.evaluate(WATCH_MUTATIONS)
        actor.click("#bump-body")
        expect(actor.locator("#outside")).to_have_text(count)  # the session is shared
        # The other tab's own reflex, answered after the actor's: anything sent its way
        # for the actor's reflex would have arrived by then.
        assert other.evaluate(BARRIER) == "nothing"
        assert other.evaluate("() => window.__mutations") == 0
        assert other.text_content("#render-id") == render_id
        seen = {e["reflexId"] for e in events(other) if e["reflexId"]}
        assert not seen & {e["reflexId"] for e in events(actor) if e["reflexId"]}


# --- 8. debug ----------------------------------------------------------------------------------

DEBUG_LINE = r"^\[sockpuppet\] {target} {outcome} in \d+ ms\b"


def console_line(page: Page, target: str, outcome: str) -> Any:
    pattern = re.compile(DEBUG_LINE.format(target=re.escape(target), outcome=outcome))
    return page.expect_console_message(lambda message: bool(pattern.search(message.text)))


def test_debug_logs_each_reflex_and_its_timing(echo_page: Page) -> None:
    echo_page.evaluate("() => { Sockpuppet.debug = true }")
    with console_line(echo_page, ECHO, "success"):
        assert stimulate(echo_page, ECHO, "#target-btn")["ok"]
    with console_line(echo_page, ECHO, "success"):
        echo_page.click("#ds-own")
    with console_line(echo_page, "ParityEchoReflex#quiet", "nothing"):
        echo_page.evaluate(BARRIER)
    with console_line(echo_page, "(refresh)", "success"):
        echo_page.evaluate("() => Sockpuppet.stimulate(null)")


def test_debug_from_the_template_logs_from_the_start(
    page: Page, app: Deployment, transport: str
) -> None:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    open_parity(page, app, "stimulate", transport, "&debug=1")
    assert page.evaluate("() => Sockpuppet.debug") is True
    with console_line(page, ECHO, "success"):
        stimulate(page, ECHO, "#target-btn")
    assert any(re.search(r"connection \w+ -> open", text) for text in messages), messages


def test_without_debug_nothing_is_logged(echo_page: Page) -> None:
    messages: list[ConsoleMessage] = []

    def record(message: ConsoleMessage) -> None:
        messages.append(message)

    echo_page.on("console", record)
    try:
        assert stimulate(echo_page, ECHO, "#target-btn")["ok"]
        echo_page.evaluate(BARRIER)
        with echo_page.expect_console_message(lambda message: message.text == "parity barrier"):
            echo_page.evaluate("() => console.log('parity barrier')")
    finally:
        echo_page.remove_listener("console", record)
    assert [m.text for m in messages if "[sockpuppet]" in m.text] == []
