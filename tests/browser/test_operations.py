"""Every DOM operation of ``sockpuppet.Channel`` applied by Chromium, on every transport and
bus.

Each test stages some markup in the page (``#stage``), has the server broadcast
``Channel`` calls to the tab's session (``OperationsReflex#apply`` in
``tests/testapp/reflexes/operations.py``: reflex → ``Channel`` → bus → transport → client),
and waits for the visible effect: the DOM, an event, the console, the history, the location.

One server per bus and one page per transport and bus serve the whole module (a fresh
connection per test would cost more than the tests). Before each test the page's stage,
title, focus and URL are put back; the operations of one broadcast are applied together, so
once a test sees its effect nothing of it is still on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import TIMEOUT_MS, PageProblems, wait_connected
from tests.transports.conftest import Deployment

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
BUSES = ["memory", "redis"]

STIMULATE = """([target, args]) => Sockpuppet.stimulate(target, document.body, ...args)
    .then((result) => result.outcome, (error) => "error: " + error.message)"""

RESET = """(url) => {
  document.getElementById("stage").innerHTML = ""
  document.title = "Operations"
  if (document.activeElement) document.activeElement.blur()
  history.replaceState(null, "", url)
  Sockpuppet.debug = false
}"""


def call(name: str, *args: Any, **options: Any) -> list[Any]:
    """One ``Channel`` method call for the reflex to make: ``channel.<name>(*args, **options)``."""
    return [name, list(args), options]


class Tab:
    """A page of the operations stage connected over one transport."""

    def __init__(self, browser: Browser, base_url: str, transport: str) -> None:
        self.transport = transport
        self.stream = f"operations-{transport}"
        self.url = f"{base_url}/operations/?transport={transport}&stream={self.stream}"
        self.context = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.problems = PageProblems()
        self.problems.watch(self.page)
        self.page.goto(self.url)
        self.wait_connected()

    def wait_connected(self) -> None:
        wait_connected(self.page, self.transport)

    def reset(self) -> None:
        self.wait_connected()
        self.page.evaluate(RESET, self.url)
        self.problems.clear()

    def stage(self, html: str) -> None:
        self.page.evaluate("(html) => (document.getElementById('stage').innerHTML = html)", html)

    def apply(self, *calls: list[Any]) -> None:
        """Broadcast ``calls`` to this tab's session in one message; the reflex answers nothing."""
        assert self.stimulate("OperationsReflex#apply", list(calls)) == "nothing"

    def stimulate(self, target: str, *args: Any) -> str:
        """Run a reflex; its outcome, or ``"error: <message>"``."""
        return str(self.page.evaluate(STIMULATE, [target, list(args)]))

    def send(self, *calls: list[Any]) -> None:
        """Like ``apply``, without waiting for the answer (for operations that leave the page)."""
        self.page.evaluate(
            "(calls) => { Sockpuppet.stimulate('OperationsReflex#apply', document.body, calls)"
            ".catch(() => {}) }",
            list(calls),
        )

    def close(self) -> None:
        self.problems.stop()
        self.context.close()


@pytest.fixture(scope="module")
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Deployment]]:
    """One process of the test app per bus (``memory``, ``redis``), started on first use."""
    started: dict[str, Deployment] = {}

    def get(bus: str) -> Deployment:
        if bus not in started:
            env = {}
            if bus == "redis":
                env["SOCKPUPPET_BUS"] = request.getfixturevalue("redis_server").url
            started[bus] = Deployment(tmp_path_factory, f"operations-{bus}", **env)
        return started[bus]

    yield get
    for deployment in started.values():
        deployment.stop()


@pytest.fixture(scope="module")
def tabs(
    browser: Browser, apps: Callable[[str], Deployment]
) -> Iterator[Callable[[str, str], Tab]]:
    """The module's tab for a transport and a bus, opened on first use (so any test order
    works)."""
    opened: dict[tuple[str, str], Tab] = {}

    def get(transport: str, bus: str) -> Tab:
        if (transport, bus) not in opened:
            opened[transport, bus] = Tab(browser, apps(bus).url, transport)
        return opened[transport, bus]

    yield get
    for tab in opened.values():
        tab.close()


@pytest.fixture(params=BUSES)
def bus(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tab(tabs: Callable[[str, str], Tab], transport: str, bus: str) -> Iterator[Tab]:
    """The tab of this transport and bus, reset; the test fails on any page error it did not
    clear."""
    tab = tabs(transport, bus)
    tab.reset()
    yield tab
    assert not tab.problems.errors, "page errors:\n  " + "\n  ".join(tab.problems.errors)


# --- morph -----------------------------------------------------------------------------------


def test_morph_turns_the_element_into_the_html_keeping_unchanged_nodes(tab: Tab) -> None:
    page = tab.page
    tab.stage('<div id="card" class="old"><p id="kept">kept</p><p id="changed">old</p></div>')
    page.evaluate("document.getElementById('kept').mark = 'same node'")

    tab.apply(
        call(
            "morph",
            "#card",
            '<div id="card" class="new"><p id="kept">kept</p><p id="changed">new</p>'
            '<p id="added">added</p></div>',
        )
    )

    expect(page.locator("#changed")).to_have_text("new")
    expect(page.locator("#card")).to_have_class("new")
    expect(page.locator("#card > p")).to_have_text(["kept", "new", "added"])
    assert page.evaluate("document.getElementById('kept').mark") == "same node"


def test_morph_of_other_html_morphs_the_children(tab: Tab) -> None:
    page = tab.page
    tab.stage('<div id="card" class="old"><p>old</p></div><ul id="list"><li>old</li></ul>')

    tab.apply(
        call("morph", "#card", "<p>first</p><p>second</p>"),
        # children_only: the target is kept even when the html is an element matching it.
        call(
            "morph", "#list", '<ul id="list" class="ignored"><li>new</li></ul>', children_only=True
        ),
    )

    expect(page.locator("#list li")).to_have_text(["new"])
    expect(page.locator("#card > p")).to_have_text(["first", "second"])
    expect(page.locator("#card")).to_have_class("old")
    expect(page.locator("#list")).not_to_have_class("ignored")


def test_morph_leaves_permanent_elements_and_the_focused_field_alone(tab: Tab) -> None:
    page = tab.page
    tab.stage(
        '<div id="form"><input id="typing" value="old">'
        '<p id="widget" data-reflex-permanent>widget</p>'
        '<p id="custom" data-keep>custom</p><p id="status">old</p></div>'
    )
    page.locator("#typing").fill("typed by the user")
    html = (
        '<div id="form"><input id="typing" value="server" class="checked">'
        '<p id="widget" data-reflex-permanent>server</p>'
        '<p id="custom" data-keep>server</p><p id="status">{}</p></div>'
    )

    tab.apply(call("morph", "#form", html.format("new")))

    expect(page.locator("#status")).to_have_text("new")
    expect(page.locator("#widget")).to_have_text("widget")
    expect(page.locator("#custom")).to_have_text("server")  # not permanent by default
    typing = page.locator("#typing")
    expect(typing).to_have_value("typed by the user")
    expect(typing).to_be_focused()
    expect(typing).to_have_class("checked")  # it takes every other attribute

    tab.stage('<div id="form"><p id="custom" data-keep>custom</p><p id="status">old</p></div>')
    tab.apply(call("morph", "#form", html.format("newer"), permanent_attribute_name="data-keep"))

    expect(page.locator("#status")).to_have_text("newer")
    expect(page.locator("#custom")).to_have_text("custom")


def test_the_focused_field_keeps_what_was_typed_when_new_html_comes_above_it(tab: Tab) -> None:
    """morphdom moves a node whose earlier siblings change, and a moved node loses its
    focus before the morph reaches it: the field is still the user's, value and caret."""
    page = tab.page
    tab.stage('<div id="box"><form id="add"><input id="typing" value=""></form></div>')
    page.locator("#typing").fill("typed by the user")
    page.locator("#typing").evaluate("el => el.setSelectionRange(2, 5)")
    html = (
        '<div id="box"><p id="flash">Added.</p>'
        '<form id="add"><input id="typing" value="" class="after"></form></div>'
    )

    tab.apply(call("morph", "#box", html))

    expect(page.locator("#flash")).to_have_text("Added.")
    typing = page.locator("#typing")
    expect(typing).to_have_value("typed by the user")
    expect(typing).to_be_focused()
    expect(typing).to_have_class("after")
    assert typing.evaluate("el => [el.selectionStart, el.selectionEnd]") == [2, 5]

    tab.apply(call("morph", "#box", html.replace("Added.", "Added again.")))

    expect(page.locator("#flash")).to_have_text("Added again.")
    expect(typing).to_have_value("typed by the user")


def test_morph_to_unchanged_markup_still_puts_fields_back_to_the_server_s_values(
    tab: Tab,
) -> None:
    """The client skips subtrees whose markup did not change, but never form controls: what
    the user typed or ticked is not in the markup, and the server's render wins."""
    page = tab.page
    html = (
        '<div id="form"><p id="label">same</p><div><input id="name" value="server">'
        '<input id="agree" type="checkbox"><select id="size"><option>s</option>'
        "<option selected>m</option></select></div></div>"
    )
    tab.stage(html)
    page.locator("#name").fill("typed")
    page.locator("#agree").check()
    page.locator("#size").select_option("s")
    page.evaluate("document.activeElement.blur()")
    page.evaluate("document.getElementById('label').mark = 'same node'")

    tab.apply(call("morph", "#form", html))

    expect(page.locator("#name")).to_have_value("server")
    expect(page.locator("#agree")).not_to_be_checked()
    expect(page.locator("#size")).to_have_value("m")
    assert page.evaluate("document.getElementById('label').mark") == "same node"


# --- content ---------------------------------------------------------------------------------


def test_inner_html(tab: Tab) -> None:
    page = tab.page
    tab.stage('<div id="box" class="box"><i>old</i></div>')

    tab.apply(call("inner_html", "#box", "<b>bold</b> text"))

    expect(page.locator("#box")).to_have_text("bold text")
    expect(page.locator("#box > b")).to_have_text("bold")
    expect(page.locator("#box i")).to_have_count(0)
    expect(page.locator("#box")).to_have_class("box")


@pytest.mark.parametrize("name", ["outer_html", "replace"])
def test_outer_html_and_replace_swap_the_element(tab: Tab, name: str) -> None:
    page = tab.page
    tab.stage('<div id="box">old</div><p id="after">after</p>')

    tab.apply(call(name, "#box", '<section id="fresh">fresh <b>html</b></section>'))

    expect(page.locator("#stage > section#fresh")).to_have_text("fresh html")
    expect(page.locator("#box")).to_have_count(0)
    expect(page.locator("#stage > *")).to_have_text(["fresh html", "after"])


def test_text_content_sets_text_never_markup(tab: Tab) -> None:
    page = tab.page
    tab.stage('<div id="box"><i>old</i></div>')

    tab.apply(call("text_content", "#box", "<b>not bold</b> & plain"))

    expect(page.locator("#box")).to_have_text("<b>not bold</b> & plain")
    expect(page.locator("#box *")).to_have_count(0)


def test_insert_adjacent_html_at_each_position(tab: Tab) -> None:
    page = tab.page
    tab.stage('<ul id="list"><li>middle</li></ul>')

    tab.apply(
        call("insert_adjacent_html", "#list", "<p>before</p>", "beforebegin"),
        call("insert_adjacent_html", "#list", "<li>first</li>", "afterbegin"),
        call("insert_adjacent_html", "#list", "<li>last</li>", "beforeend"),
        call("insert_adjacent_html", "#list", "<li>by default</li>"),  # beforeend
        call("insert_adjacent_html", "#list", "<p>after</p>", "afterend"),
    )

    expect(page.locator("#list li")).to_have_text(["first", "middle", "last", "by default"])
    expect(page.locator("#stage > p")).to_have_text(["before", "after"])
    assert page.evaluate("[...document.getElementById('stage').children].map(e => e.tagName)") == [
        "P",
        "UL",
        "P",
    ]


def test_insert_adjacent_text_at_each_position_as_text(tab: Tab) -> None:
    page = tab.page
    tab.stage('<div id="wrap"><span id="box">box</span></div>')

    tab.apply(
        call("insert_adjacent_text", "#box", "<b>1</b>", "beforebegin"),
        call("insert_adjacent_text", "#box", "2", "afterbegin"),
        call("insert_adjacent_text", "#box", "3", "beforeend"),
        call("insert_adjacent_text", "#box", "4"),  # beforeend
        call("insert_adjacent_text", "#box", "5", "afterend"),
    )

    expect(page.locator("#wrap")).to_have_text("<b>1</b>2box345")
    expect(page.locator("#box")).to_have_text("2box34")
    expect(page.locator("#wrap b")).to_have_count(0)


def test_append_and_prepend(tab: Tab) -> None:
    page = tab.page
    tab.stage('<ul id="list"><li>middle</li></ul>')

    tab.apply(
        call("append", "#list", "<li>last</li>"),
        call("prepend", "#list", "<li>first</li>"),
        call("append", "#list", "<li><b>bold</b></li>"),
    )

    expect(page.locator("#list > li")).to_have_text(["first", "middle", "last", "bold"])
    expect(page.locator("#list b")).to_have_count(1)


def test_remove(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="gone">gone</p><p id="stays">stays</p>')

    tab.apply(call("remove", "#gone"))

    expect(page.locator("#gone")).to_have_count(0)
    expect(page.locator("#stage > p")).to_have_text(["stays"])


# --- attributes, classes, values -------------------------------------------------------------


def test_set_attribute_and_remove_attribute(tab: Tab) -> None:
    page = tab.page
    tab.stage('<button id="button" title="old" aria-busy="true">go</button>')

    tab.apply(
        call("set_attribute", "#button", "title", "new title"),
        call("set_attribute", "#button", "disabled"),  # the value defaults to ""
        call("remove_attribute", "#button", "aria-busy"),
    )

    button = page.locator("#button")
    expect(button).to_have_attribute("title", "new title")
    expect(button).to_have_attribute("disabled", "")
    expect(button).to_be_disabled()
    assert button.get_attribute("aria-busy") is None

    tab.apply(call("remove_attribute", "#button", "disabled"))

    expect(button).to_be_enabled()
    expect(button).to_have_attribute("title", "new title")


def test_add_css_class_and_remove_css_class(tab: Tab) -> None:
    page = tab.page
    tab.stage('<div id="box" class="keep drop-a drop-b drop-c">box</div>')

    tab.apply(
        call("add_css_class", "#box", "one"),
        call("add_css_class", "#box", ["two", "three"]),
        call("add_css_class", "#box", "four five"),
        call("remove_css_class", "#box", "drop-a"),
        call("remove_css_class", "#box", ["drop-b", "drop-c"]),
    )

    expect(page.locator("#box")).to_have_class("keep one two three four five")

    tab.apply(call("remove_css_class", "#box", "one three"))

    expect(page.locator("#box")).to_have_class("keep two four five")


def test_set_value(tab: Tab) -> None:
    page = tab.page
    tab.stage(
        '<input id="field" value="initial"><textarea id="notes">old</textarea>'
        '<select id="choice"><option value="a">A</option><option value="b">B</option></select>'
    )

    tab.apply(
        call("set_value", "#field", "new value"),
        call("set_value", "#notes", "new notes"),
        call("set_value", "#choice", "b"),
    )

    expect(page.locator("#field")).to_have_value("new value")
    expect(page.locator("#notes")).to_have_value("new notes")
    expect(page.locator("#choice")).to_have_value("b")
    # The live value, not the attribute.
    assert page.locator("#field").get_attribute("value") == "initial"


def test_set_property(tab: Tab) -> None:
    page = tab.page
    tab.stage('<input id="check" type="checkbox"><p id="box">box</p>')

    tab.apply(
        call("set_property", "#check", "checked", True),
        call("set_property", "#box", "tabIndex", 3),
        call("set_property", "#box", "custom", {"any": ["json"]}),
    )

    expect(page.locator("#check")).to_be_checked()
    assert page.locator("#check").get_attribute("checked") is None  # a property, not markup
    expect(page.locator("#box")).to_have_attribute("tabindex", "3")
    assert page.evaluate("document.getElementById('box').custom") == {"any": ["json"]}


def test_set_dataset_property(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box" data-old="old">box</p>')

    tab.apply(
        call("set_dataset_property", "#box", "post-id", "42"),
        call("set_dataset_property", "#box", "userName", "ada"),
        call("set_dataset_property", "#box", "old", "new"),
    )

    box = page.locator("#box")
    expect(box).to_have_attribute("data-post-id", "42")
    expect(box).to_have_attribute("data-user-name", "ada")
    expect(box).to_have_attribute("data-old", "new")


def test_set_style(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box" style="color: blue">box</p>')

    tab.apply(
        call("set_style", "#box", "background-color", "rgb(255, 0, 0)"),
        call("set_style", "#box", "fontWeight", "700"),
        call("set_style", "#box", "--accent", "teal"),
    )

    box = page.locator("#box")
    expect(box).to_have_css("background-color", "rgb(255, 0, 0)")
    expect(box).to_have_css("font-weight", "700")
    expect(box).to_have_css("color", "rgb(0, 0, 255)")
    style = "getComputedStyle(document.getElementById('box')).getPropertyValue('--accent')"
    assert page.evaluate(style).strip() == "teal"


def test_set_focus(tab: Tab) -> None:
    page = tab.page
    tab.stage('<input id="first"><input id="second"><p id="box">box</p>')
    page.locator("#first").focus()

    tab.apply(call("set_focus", "#second"), call("text_content", "#box", "done"))

    expect(page.locator("#box")).to_have_text("done")
    # Focus does not go back to the element that had it before the operations.
    expect(page.locator("#second")).to_be_focused()


# --- page, events, console, history, location ------------------------------------------------


def test_set_title(tab: Tab) -> None:
    tab.apply(call("set_title", "A new <title> & more"))

    expect(tab.page).to_have_title("A new <title> & more")


def test_dispatch_event_on_an_element_bubbles_and_on_document_without_a_selector(
    tab: Tab,
) -> None:
    page = tab.page
    tab.stage('<div id="outer"><p id="box">box</p></div>')
    page.evaluate(
        """() => {
          window.dispatched = []
          const record = (where) => (event) => window.dispatched.push({
            where, type: event.type, detail: event.detail, bubbles: event.bubbles,
            target: event.target.id || event.target.nodeName,
          })
          document.getElementById("outer").addEventListener("ops:on-box", record("outer"))
          document.addEventListener("ops:on-document", record("document"), { once: true })
        }"""
    )

    tab.apply(
        call("dispatch_event", "ops:on-box", detail={"n": 1, "list": [1, 2]}, selector="#box"),
        call("dispatch_event", "ops:on-document"),
    )

    page.wait_for_function("() => window.dispatched.length === 2")
    assert page.evaluate("window.dispatched") == [
        {
            "where": "outer",
            "type": "ops:on-box",
            "detail": {"n": 1, "list": [1, 2]},
            "bubbles": True,
            "target": "box",
        },
        {
            "where": "document",
            "type": "ops:on-document",
            "detail": {},
            "bubbles": True,
            "target": "#document",
        },
    ]


@pytest.mark.parametrize(
    ("level", "console_type"),
    [("log", "log"), ("info", "info"), ("warn", "warning"), ("debug", "debug"), ("nope", "log")],
)
def test_console_log_at_each_level(tab: Tab, level: str, console_type: str) -> None:
    message = f"ops: a message at {level}"
    with tab.page.expect_console_message(lambda m: m.text == message) as logged:
        tab.apply(call("console_log", message, level=level))

    assert logged.value.type == console_type


def test_console_log_at_error_level(tab: Tab) -> None:
    with tab.page.expect_console_message(lambda m: m.text == "ops: an error") as logged:
        tab.apply(call("console_log", "ops: an error", level="error"))

    assert logged.value.type == "error"
    assert tab.problems.errors == ["console.error: ops: an error"]
    tab.problems.clear()


def test_push_state_adds_a_history_entry_and_replace_state_does_not(tab: Tab) -> None:
    page = tab.page
    length = page.evaluate("history.length")

    tab.apply(call("push_state", "/operations/pushed/?step=1", state={"step": 1}))

    page.wait_for_function("() => location.pathname === '/operations/pushed/'")
    assert page.evaluate("[location.search, history.state, history.length]") == [
        "?step=1",
        {"step": 1},
        length + 1,
    ]

    tab.apply(call("replace_state", "/operations/replaced/", state={"step": 2}))

    page.wait_for_function("() => location.pathname === '/operations/replaced/'")
    assert page.evaluate("[history.state, history.length]") == [{"step": 2}, length + 1]
    # No navigation: the page and its connection stay.
    assert page.evaluate("Sockpuppet.connected") is True
    page.go_back()
    page.wait_for_function("() => location.pathname === '/operations/'")


def test_redirect_to_navigates(tab: Tab) -> None:
    page = tab.page
    url = tab.url + "&arrived=1"
    page.evaluate("window.before = true")

    with page.expect_navigation(url=url):
        tab.send(call("redirect_to", url))

    assert page.evaluate("window.before") is None
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
    tab.wait_connected()


def test_reload_reloads_the_page(tab: Tab) -> None:
    page = tab.page
    page.evaluate("window.before = true")

    with page.expect_navigation(url=tab.url):
        tab.send(call("reload"))

    assert page.evaluate("window.before") is None
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "reload"
    tab.wait_connected()


# --- options and failures --------------------------------------------------------------------


def test_select_all_applies_to_every_match_else_the_first(tab: Tab) -> None:
    page = tab.page
    tab.stage(
        '<p class="item">one</p><p class="item">two</p><p class="item">three</p>'
        '<i class="gone">a</i><i class="gone">b</i>'
    )

    tab.apply(
        call("add_css_class", ".item", "first-only"),
        call("text_content", ".item", "all", select_all=True),
        call("set_attribute", ".item", "data-hit", "yes", select_all=True),
        call("remove", ".gone", select_all=True),
    )

    items = page.locator(".item")
    expect(items).to_have_text(["all", "all", "all"])
    expect(page.locator(".gone")).to_have_count(0)
    expect(page.locator(".item[data-hit=yes]")).to_have_count(3)
    expect(page.locator(".first-only")).to_have_count(1)
    expect(items.first).to_have_class("item first-only")


def test_operations_of_one_broadcast_apply_in_order(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box">old</p>')

    tab.apply(
        call("inner_html", "#box", "<i>a</i>"),
        call("append", "#box", "<i>b</i>"),
        call("text_content", "#box i", "A"),
        call("prepend", "#box", "<i>0</i>"),
        call("add_css_class", "#box", "x"),
        call("remove_css_class", "#box", "x"),
        call("add_css_class", "#box", "done"),
    )

    expect(page.locator("#box")).to_have_class("done")
    expect(page.locator("#box i")).to_have_text(["0", "A", "b"])


def test_add_queues_any_operation_by_name(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box">old</p>')

    tab.apply(
        call("add", "text_content", "#box", "by name"),
        call("add", "set_attribute", "#box", "title", "also"),
        call("add", "add_css_class", "#box", "x", select_all=True),
    )

    expect(page.locator("#box")).to_have_text("by name")
    expect(page.locator("#box")).to_have_attribute("title", "also")
    expect(page.locator("#box")).to_have_class("x")


def test_a_selector_matching_nothing_is_reported_and_the_rest_still_applies(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box">old</p>')
    page.evaluate("Sockpuppet.debug = true")  # docs/client.md: reported when debugging

    with page.expect_console_message(lambda m: "nothing on this page matches" in m.text) as logged:
        tab.apply(call("text_content", "#nowhere", "lost"), call("text_content", "#box", "after"))

    expect(page.locator("#box")).to_have_text("after")
    assert (logged.value.type, logged.value.text) == (
        "warning",
        '[sockpuppet] text_content: nothing on this page matches "#nowhere"',
    )
    expect(page.locator("#nowhere")).to_have_count(0)


def test_an_invalid_selector_is_reported_and_the_rest_still_applies(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box">old</p>')

    with page.expect_console_message(lambda m: m.type == "error") as logged:
        tab.apply(call("inner_html", "p[", "lost"), call("text_content", "#box", "after"))

    expect(page.locator("#box")).to_have_text("after")
    assert "operation inner_html on p[ failed" in logged.value.text
    assert len(tab.problems.errors) == 1
    tab.problems.clear()


def test_an_unknown_operation_fails_the_reflex_and_broadcasts_nothing(tab: Tab) -> None:
    page = tab.page
    tab.stage('<p id="box">old</p>')

    outcome = tab.stimulate(
        "OperationsReflex#apply",
        [call("text_content", "#box", "lost"), call("add", "no_such_operation", "#box")],
    )

    assert outcome.startswith("error: ")
    assert "no_such_operation" in outcome, outcome
    # Nothing of the failed channel went out: the next broadcast is the first to land.
    tab.apply(call("add_css_class", "#box", "next"))
    expect(page.locator("#box")).to_have_class("next")
    expect(page.locator("#box")).to_have_text("old")
    tab.problems.clear()  # the client logs failed reflexes as console errors


def test_a_named_stream_gets_operations_broadcast_from_async_code(tab: Tab) -> None:
    page = tab.page
    tab.stage('<ul id="list"></ul>')

    outcome = tab.stimulate(
        "OperationsReflex#apply_async",
        tab.stream,
        [call("append", "#list", "<li>async</li>"), call("set_title", "from a named stream")],
    )

    assert outcome == "nothing"
    expect(page.locator("#list li")).to_have_text(["async"])
    expect(page).to_have_title("from a named stream")
