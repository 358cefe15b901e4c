"""Click through the demo in Chromium, as a newcomer would, over a real uvicorn.

Each test runs once per transport, on a server that allows only that one. Each test gets its
own browser context, so its own Django session: counts start at zero, the todo list is empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PageProblems, events, wait_connected, wait_for_events
from tests.support.server import DemoServer

pytestmark = pytest.mark.browser

Open = Callable[[str], Page]


TRANSPORTS = ["websocket", "sse", "longpoll"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_page(server_factory: Callable[..., DemoServer], page: Page, transport: str) -> Open:
    """Serve the demo with only ``transport`` enabled; open a path once the client proved it."""
    server = server_factory(transports=transport)

    def open_(path: str) -> Page:
        page.goto(server.url + path)
        wait_connected(page, transport)
        # A full reload would drop this; morphs keep it.
        page.evaluate("() => { window.__sameDocument = true }")
        return page

    return open_


def same_document(page: Page) -> bool:
    return bool(page.evaluate("() => window.__sameDocument === true"))


def mark(page: Page, selector: str) -> None:
    """Put an attribute the server never renders on ``selector``: a morph of it removes it."""
    page.eval_on_selector(selector, "el => el.setAttribute('data-test-mark', '1')")


def has_mark(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "el => el.hasAttribute('data-test-mark')"))


# --- transport badge -------------------------------------------------------------------------


def test_badge_shows_websocket_when_every_transport_is_allowed(
    server: DemoServer, page: Page
) -> None:
    page.goto(server.url + "/")
    assert wait_connected(page) == "websocket"
    badge = page.locator("#transport-badge")
    expect(badge).to_have_text("websocket")
    expect(badge).to_have_attribute("data-state", "connected")
    assert [e["transport"] for e in events(page, "connected")] == ["websocket"]

    page.get_by_role("link", name="Todos").click()
    expect(page).to_have_url(re.compile(r"/todos/$"))
    assert wait_connected(page) == "websocket"
    expect(page.locator("#transport-badge")).to_have_text("websocket")


def test_badge_shows_the_transport_in_use(open_page: Open, transport: str) -> None:
    page = open_page("/")
    expect(page.locator("#transport-badge")).to_have_text(transport)
    assert [e["transport"] for e in events(page, "connected")] == [transport]


# --- counter ---------------------------------------------------------------------------------


def test_counter_click_updates_the_count_by_page_morph(open_page: Open) -> None:
    page = open_page("/")
    count = page.locator("#count")
    expect(count).to_have_text("0")

    page.locator("#increment").click()
    expect(count).to_have_text("1")
    page.get_by_role("button", name="+10").click()
    expect(count).to_have_text("11")
    page.locator("#decrement").click()
    expect(count).to_have_text("10")

    assert same_document(page), "the page was reloaded instead of morphed"
    successes = wait_for_events(page, "success", target="CounterReflex#increment", count=3)
    assert len(successes) == 3
    # The badge is data-reflex-permanent: page morphs leave what the client wrote in it.
    expect(page.locator("#transport-badge")).to_have_text(page.evaluate("Sockpuppet.transport"))

    page.reload()
    expect(page.locator("#count")).to_have_text("10")


def test_rapid_clicks_are_all_counted(open_page: Open) -> None:
    page = open_page("/")
    button = page.locator("#increment")
    for _ in range(20):
        button.click()
    # Back to back within one task: no morph can land between these.
    page.eval_on_selector("#increment", "b => { for (let i = 0; i < 10; i++) b.click() }")
    expect(page.locator("#count")).to_have_text("30")
    wait_for_events(page, "success", target="CounterReflex#increment", count=30)
    assert len(events(page, "success")) == 30
    assert not events(page, "error")

    page.reload()
    expect(page.locator("#count")).to_have_text("30")


# --- todos -----------------------------------------------------------------------------------


def test_todos_add_toggle_and_delete(open_page: Open) -> None:
    page = open_page("/todos/")
    title = page.locator("#todo-title")
    items = page.locator("li.todo")
    expect(page.locator(".todo-empty")).to_be_visible()

    title.fill("Buy milk")
    title.press("Enter")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Buy milk")
    expect(page.locator("#flash")).to_contain_text("Added “Buy milk”.")
    expect(title).to_have_value("")

    title.fill("Walk the dog")
    page.get_by_role("button", name="Add").click()
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("Walk the dog")
    expect(page.locator("#todo-remaining")).to_have_text("2 of 2 left")
    assert same_document(page), "the form was submitted instead of sent as a reflex"

    milk = items.filter(has_text="Buy milk")
    milk.locator("input[type=checkbox]").check()
    expect(milk).to_have_class("todo done")
    expect(page.locator("#todo-remaining")).to_have_text("1 of 2 left")

    page.get_by_role("button", name="Delete Walk the dog").click()
    expect(items).to_have_count(1)
    expect(page.locator("#todo-remaining")).to_have_text("0 of 1 left")

    page.reload()
    expect(page.locator("li.todo")).to_have_count(1)
    expect(page.locator("li.todo input[type=checkbox]")).to_be_checked()


def test_a_double_click_on_delete_deletes_once_without_an_error(open_page: Open) -> None:
    """Regression (client audit): the second click's reflex found the todo gone and
    showed a ``DoesNotExist`` error."""
    page = open_page("/todos/")
    title = page.locator("#todo-title")
    title.fill("Twice")
    title.press("Enter")
    expect(page.locator("li.todo")).to_have_count(1)
    page.get_by_role("button", name="Delete Twice").dblclick()
    wait_for_events(page, "success", target="TodoReflex#delete", count=2)
    expect(page.locator("li.todo")).to_have_count(0)
    assert not events(page, "error")


def test_blank_title_shows_the_validation_error(open_page: Open) -> None:
    page = open_page("/todos/")
    title = page.locator("#todo-title")
    mark(page, "#todo-list")

    title.fill("   ")
    title.press("Enter")
    error = page.locator("#todo-error")
    expect(error).to_have_text("Give your todo a title.")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(page.locator("li.todo")).to_have_count(0)
    # Only the form was morphed (a selector morph): the rest of the page kept the mark.
    assert has_mark(page, "#todo-list")

    title.fill("Write the docs")
    title.press("Enter")
    expect(page.locator("li.todo")).to_have_count(1)
    expect(error).to_have_count(0)
    assert not has_mark(page, "#todo-list"), "a valid add re-renders the page"


# --- playground ------------------------------------------------------------------------------


def renders(page: Page) -> int:
    return int(page.locator("#renders").inner_text())


def test_nothing_morph_changes_state_but_not_the_page(open_page: Open) -> None:
    page = open_page("/playground/")
    before = renders(page)
    mark(page, "#nothing")

    page.locator("#tally-quietly").click()
    wait_for_events(page, "success", target="PlaygroundReflex#tally_quietly")
    expect(page.locator("#quiet-count")).to_have_text("0")
    assert renders(page) == before
    assert has_mark(page, "#nothing")

    page.locator("#refresh").click()
    expect(page.locator("#quiet-count")).to_have_text("1")
    assert renders(page) == before + 1


def test_ping_shows_the_round_trip_and_changes_nothing(open_page: Open) -> None:
    page = open_page("/playground/")
    before = renders(page)
    mark(page, "#ping")

    page.locator("#ping-server").click()

    expect(page.locator("#round-trip")).to_have_text(re.compile(r"^\d+\.\d ms$"))
    assert has_mark(page, "#ping"), "a ping morphs nothing"
    page.locator("#refresh").click()
    expect(page.locator("#renders")).to_have_text(str(before + 1))
    expect(page.locator("#quiet-count")).to_have_text("0")


@pytest.mark.allow_page_errors
def test_an_exception_in_a_reflex_is_shown(open_page: Open, page_problems: PageProblems) -> None:
    page = open_page("/playground/")
    before = renders(page)

    page.locator("#explode").click()
    [error] = wait_for_events(page, "error", target="PlaygroundReflex#explode")
    assert "Kaboom! This reflex failed on purpose." in (error["message"] or "")
    toast = page.locator("#toasts .toast-error")
    expect(toast).to_contain_text("Kaboom! This reflex failed on purpose.")
    assert renders(page) == before

    # The connection carries on.
    page.locator("#refresh").click()
    expect(page.locator("#renders")).to_have_text(str(before + 1))
    assert not [e for e in page_problems.errors if e.startswith("uncaught")]


def test_halt_and_forbid_stop_the_reflex(open_page: Open) -> None:
    page = open_page("/playground/")
    runs = page.locator("#guarded-count")

    page.locator("#guard-halt").click()
    wait_for_events(page, "halted", target="GuardedReflex#attempt")
    page.locator("#guard-forbid").click()
    wait_for_events(page, "forbidden", target="GuardedReflex#attempt")
    expect(page.locator("#toasts .toast-warning")).to_contain_text("forbidden")
    expect(runs).to_have_text("0")

    page.locator("#guard-allow").click()
    expect(runs).to_have_text("1")
    assert len(events(page, "halted")) == 1
    assert len(events(page, "forbidden")) == 1
    assert not events(page, "error")


def test_permanent_element_survives_page_morphs(open_page: Open) -> None:
    page = open_page("/playground/")
    before = renders(page)
    page.locator("#permanent-input").fill("kept by the browser")
    page.locator("h1").click()  # move focus away: only permanence can keep the value now

    page.locator("#permanent-refresh").click()
    expect(page.locator("#renders")).to_have_text(str(before + 1))
    expect(page.locator("#permanent-input")).to_have_value("kept by the browser")
    # Server-rendered content inside the permanent box is not updated either.
    expect(page.locator("#permanent-renders")).to_have_text(str(before))


def test_typing_while_morphs_land_keeps_value_and_caret(open_page: Open) -> None:
    page = open_page("/playground/")
    field = page.locator("#mirror-input")
    output = page.locator("#mirror-output")
    before = renders(page)
    field.click()

    page.keyboard.type("hello", delay=30)
    expect(output).to_have_text("hello")
    # No pause between keys: morphs rendered from older values land while typing goes on.
    page.keyboard.type(" sockpuppet")
    expect(output).to_have_text("hello sockpuppet")
    expect(field).to_have_value("hello sockpuppet")
    assert caret(page) == len("hello sockpuppet")
    assert renders(page) > before + 1, "the page was not re-rendered while typing"

    # Caret in the middle: a morph must not move it to the end.
    page.keyboard.press("Home")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.type(",")
    expect(output).to_have_text("hello, sockpuppet")
    expect(field).to_have_value("hello, sockpuppet")
    assert caret(page) == len("hello,")
    page.keyboard.type(" dear")
    expect(output).to_have_text("hello, dear sockpuppet")
    assert caret(page) == len("hello, dear")
    assert page.evaluate("() => document.activeElement.id") == "mirror-input"


def caret(page: Page) -> int:
    return int(page.eval_on_selector("#mirror-input", "el => el.selectionStart"))


def test_reflex_root_morphs_only_the_root(open_page: Open) -> None:
    page = open_page("/playground/")
    page.locator("#bump-both").click()
    expect(page.locator("#root-a strong")).to_have_text("1")
    wait_for_events(page, "success", target="PlaygroundReflex#bump_both")
    expect(page.locator("#root-b strong")).to_have_text("0")

    page.locator("#refresh").click()
    expect(page.locator("#root-b strong")).to_have_text("1")
    expect(page.locator("#root-a strong")).to_have_text("1")


def test_a_broadcast_reaches_every_page_following_the_stream(
    open_page: Open, new_page: Callable[[], Page], transport: str
) -> None:
    sender = open_page("/playground/")
    other = new_page()  # another browser context: another session
    other.goto(sender.url)
    wait_connected(other, transport)

    sender.locator("#wall-note").fill("Hello, <everyone>!")
    sender.locator("#wall-note").press("Enter")
    for page in (sender, other):
        expect(page.locator("#wall .note")).to_have_text(["Hello, <everyone>!"])
    expect(sender.locator("#wall-note")).to_have_value("")

    other.locator("#wall-note").fill("Hi back")
    other.get_by_role("button", name="Broadcast").click()
    for page in (sender, other):
        expect(page.locator("#wall .note")).to_have_text(["Hi back", "Hello, <everyone>!"])


@pytest.mark.allow_page_errors
def test_a_morph_with_no_place_in_the_page_fails_its_reflex_by_name(open_page: Open) -> None:
    """The server renders ``#count``, but this page has lost it: the reflex's promise
    settles, with an error naming the selector (issue 5: never pending, never silent)."""
    page = open_page("/")
    outcome = page.evaluate(
        """async () => {
          document.querySelector("#count").remove()
          try {
            await Sockpuppet.stimulate("CounterReflex#increment", {selectors: ["#count"]})
            return "resolved"
          } catch (error) {
            return error.message
          }
        }"""
    )
    assert outcome == 'morph: nothing on this page matches "#count"'


def wall_pages(open_page: Open, new_page: Callable[[], Page], transport: str) -> tuple[Page, Page]:
    """The playground (which follows the wall's stream) twice, in two sessions."""
    follower = open_page("/playground/")
    sender = new_page()
    sender.goto(follower.url)
    wait_connected(sender, transport)
    return follower, sender


def post_note(page: Page, note: str) -> None:
    page.locator("#wall-note").fill(note)
    page.locator("#wall-note").press("Enter")


def test_a_page_that_drops_its_stream_element_stops_following_the_stream(
    open_page: Open, new_page: Callable[[], Page], transport: str
) -> None:
    follower, sender = wall_pages(open_page, new_page, transport)
    ping = '() => Sockpuppet.stimulate("PlaygroundReflex#ping")'
    # The client sends `unsubscribe` as the element leaves; a reflex sent after it is
    # answered after the server stopped delivering the stream to this page.
    follower.evaluate("() => document.querySelector('[data-sockpuppet-stream]').remove()")
    follower.evaluate(ping)
    post_note(sender, "Only for followers")
    expect(sender.locator("#wall .note")).to_have_text(["Only for followers"])
    follower.evaluate(ping)  # the broadcast went before this answer, on a followed stream
    expect(follower.locator("#wall .note")).to_have_count(0)


def test_page_morphs_keep_the_pages_streams_followed(
    open_page: Open, new_page: Callable[[], Page], transport: str
) -> None:
    follower, sender = wall_pages(open_page, new_page, transport)
    for n in range(1, 4):  # page morphs, each rendering the stream's element again
        follower.locator("#record").click()
        expect(follower.locator("#sequence-count")).to_have_text(str(n))
    post_note(sender, "Still here")
    expect(follower.locator("#wall .note")).to_have_text(["Still here"])
